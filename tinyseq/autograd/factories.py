"""Making tensors: ``ts.tensor``, ``ts.zeros``, ``ts.randn``, ... and the dtype names.

Floating tensors are float32 unless ``dtype`` says otherwise (``ts.float64`` for gradcheck).
"""
import numpy as np

from . import rng
from .tensor import DEFAULT_FLOAT, Tensor, _shape_arg, as_array

float32, float64, int64, bool_ = np.float32, np.float64, np.int64, np.bool_


def _make(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (numbers, nested lists, an array or a Tensor).

    >>> import tinyseq as ts
    >>> ts.tensor([[1, 2], [3, 4.5]])
    tensor([[1. , 2. ],
            [3. , 4.5]])
    >>> ts.tensor([1, 2]).dtype
    <class 'numpy.int64'>
    """
    return _make(as_array(data, dtype), requires_grad)


def from_numpy(array):
    """A tensor sharing ``array``'s memory and keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size, dtype=None, requires_grad=False):
    return _make(np.zeros(_shape_arg(size), dtype or DEFAULT_FLOAT), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _make(np.ones(_shape_arg(size), dtype or DEFAULT_FLOAT), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value if not given."""
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _make(np.full(_shape_arg((size,)), fill_value, dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return _make(np.zeros(t.shape, dtype or t.dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return _make(np.ones(t.shape, dtype or t.dtype), requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    """Standard normal samples from the generator that ``ts.manual_seed`` seeds."""
    return _make(rng.generator().standard_normal(_shape_arg(size), dtype=dtype or DEFAULT_FLOAT),
                 requires_grad)


def rand(*size, dtype=None, requires_grad=False):
    """Uniform samples in [0, 1) from the generator that ``ts.manual_seed`` seeds."""
    return _make(rng.generator().random(_shape_arg(size), dtype=dtype or DEFAULT_FLOAT),
                 requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """``start, start + step, ...`` below ``end``; int64 for integer arguments, else float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else DEFAULT_FLOAT
    return _make(np.arange(start, end, step, dtype=dtype), requires_grad)
