"""Making tensors: ``ts.tensor``, ``ts.zeros``, ``ts.randn``, ... and the dtype names.

Floating tensors are float32 unless ``dtype`` says otherwise (``ts.float64`` for gradcheck). Each
takes PyTorch's ``device=``: the CPU (``"cpu"``), tinyseq's one device.
"""
import math

import numpy as np

from . import rng
from .memory import check_affordable, gib
from .device import device_arg
from .dtypes import DTYPES, DEFAULT_FLOAT, as_array, dtype_arg
from .ops.create import multinomial  # noqa: F401  (ts.multinomial)
from .ops.shape import check_shape, shape_arg
from .tensor import Tensor

# The dtypes by their names (``ts.float32``; ``ts.float``, ``ts.long``, ... are in ``__init__``)
float32, float64, float16, int64, int32, int16, int8, uint8, bool_ = (
    DTYPES[t] for t in (np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8,
                         np.uint8, np.bool_))


def _make(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)



def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of ``data`` (numbers, nested lists, an array or a Tensor).

    >>> import tinyseq as ts
    >>> ts.tensor([[1, 2], [3, 4.5]])
    tensor([[1.0000, 2.0000],
            [3.0000, 4.5000]])
    >>> ts.tensor([1, 2]).dtype
    tinyseq.int64
    """
    device_arg("tensor", device)
    return _make(as_array(data, dtype), requires_grad)


def from_numpy(array):
    """A tensor sharing ``array``'s memory and keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _allocate(op, make, shape, dtype):
    """``make(shape, dtype)`` after checking ``shape``; a size this machine cannot hold is refused
    in one line before numpy tries (and may succeed lazily, to fail when the memory is touched)."""
    shape, dtype = check_shape(op, shape), dtype_arg(op, dtype)
    need = check_affordable(op, shape, dtype)
    try:
        return make(shape, dtype)
    except MemoryError:
        raise MemoryError(f"{op}: could not allocate {gib(need)} for a tensor of shape {shape} "
                          f"and dtype {dtype}; use a smaller size or free memory") from None


def zeros(*size, dtype=None, requires_grad=False, device=None):
    device_arg("zeros", device)
    return _make(_allocate("zeros", np.zeros, shape_arg(size), dtype or DEFAULT_FLOAT),
                 requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None):
    device_arg("ones", device)
    return _make(_allocate("ones", np.ones, shape_arg(size), dtype or DEFAULT_FLOAT),
                 requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value if not given."""
    device_arg("full", device)
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _make(_allocate("full", lambda s, d: np.full(s, fill_value, d), shape_arg((size,)),
                           dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False, device=None):
    device_arg("zeros_like", device)
    return _make(np.zeros(t._data.shape, dtype or t.dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad=False, device=None):
    device_arg("ones_like", device)
    return _make(np.ones(t._data.shape, dtype or t.dtype), requires_grad)


def _random(op, draw, size, dtype, generator):
    dtype = dtype_arg(op, dtype or DEFAULT_FLOAT)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: dtype must be float32 or float64, got {dtype}")
    g = rng.numpy_generator(op, generator)
    return _allocate(op, lambda s, d: draw(g, s, d), shape_arg(size), dtype)


def randn(*size, generator=None, dtype=None, requires_grad=False, device=None):
    """Standard normal samples from ``generator`` (a ``ts.Generator``), else from the default
    stream that ``ts.manual_seed`` seeds."""
    device_arg("randn", device)
    return _make(_random("randn", lambda g, s, d: g.standard_normal(s, dtype=d), size, dtype,
                         generator), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad=False, device=None):
    """Uniform samples in [0, 1) from ``generator``, else from the default stream."""
    device_arg("rand", device)
    return _make(_random("rand", lambda g, s, d: g.random(s, dtype=d), size, dtype, generator),
                 requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """``start, start + step, ...`` below ``end``; int64 for integer arguments, else float32."""
    device_arg("arange", device)
    if end is None:
        start, end = 0, start
    for name, v in (("start", start), ("end", end), ("step", step)):
        if not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise ValueError(f"arange: {name} must be a finite number, got {v!r}")
    if step == 0:
        raise ValueError("arange: step must not be 0")
    if (end - start) * step < 0:
        raise ValueError(f"arange: from {start} to {end} by steps of {step} never gets there; "
                         "give a step of the other sign")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else DEFAULT_FLOAT
    n = math.ceil((end - start) / step)
    return _make(_allocate("arange", lambda s, d: np.arange(start, end, step, dtype=d), (n,),
                           dtype), requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of ``size`` (tinyseq's are zeros: numpy's uninitialised memory is not faster here)."""
    device_arg("empty", device)
    return _make(_allocate("empty", np.zeros, shape_arg(size), dtype or DEFAULT_FLOAT),
                 requires_grad)


def randint(*args, size=None, generator=None, dtype=None, requires_grad=False, device=None):
    """Integers drawn uniformly from ``[low, high)``: ``randint(high, size)`` or
    ``randint(low, high, size)``, int64 unless ``dtype`` says otherwise (from ``generator``, else
    the default stream)."""
    device_arg("randint", device)
    if size is None and args:
        *args, size = args
    if len(args) not in (1, 2) or not isinstance(size, (tuple, list)):
        raise TypeError("randint: give (high, size) or (low, high, size), e.g. "
                        "ts.randint(0, 10, (3,))")
    low, high = (0, *args) if len(args) == 1 else args
    if low >= high:
        raise RuntimeError(f"randint: low ({low}) must be less than high ({high})")
    g = rng.numpy_generator("randint", generator)
    draw = lambda s, d: g.integers(low, high, s).astype(d)  # noqa: E731
    return _make(_allocate("randint", draw, shape_arg((size,)), dtype or np.int64), requires_grad)


def randperm(n, *, generator=None, dtype=None, requires_grad=False, device=None):
    """The integers ``0 .. n - 1`` in a random order (int64 unless ``dtype`` says otherwise), from
    ``generator``, else the default stream."""
    device_arg("randperm", device)
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise RuntimeError(f"randperm: n must be a non-negative int, got {n!r}")
    g = rng.numpy_generator("randperm", generator)
    draw = lambda s, d: g.permutation(n).astype(d)  # noqa: E731
    return _make(_allocate("randperm", draw, (n,), dtype or np.int64), requires_grad)


def _typed_tensor(name, dtype):
    """``ts.LongTensor`` and the like, as torch's legacy constructors: ``LongTensor([1, 2])``
    holds the data, ``LongTensor(2, 3)`` is a tensor of that shape (zeros here), ``LongTensor()`` an empty one."""
    def make(*args):
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
            return zeros(*(args or (0,)), dtype=dtype)
        if len(args) != 1:
            raise TypeError(f"{name}: give one sequence of data or the sizes as ints, got {args!r}")
        return tensor(args[0], dtype=dtype)
    make.__name__ = make.__qualname__ = name
    return make


FloatTensor = _typed_tensor("FloatTensor", float32)
DoubleTensor = _typed_tensor("DoubleTensor", float64)
LongTensor = _typed_tensor("LongTensor", int64)
IntTensor = _typed_tensor("IntTensor", int32)
BoolTensor = _typed_tensor("BoolTensor", bool_)


# ---- made like another tensor, ranges, and questions about tensors ----------------------------
def _like(op, t, dtype):
    """``t`` as a Tensor, and the dtype of a tensor made like it (``dtype``, else ``t``'s)."""
    t = t if isinstance(t, Tensor) else Tensor(as_array(t))
    return t, (t._data.dtype if dtype is None else dtype_arg(op, dtype))


def randn_like(input, *, generator=None, dtype=None, requires_grad=False, device=None):
    """Standard normal samples in ``input``'s shape (and dtype, a float one)."""
    device_arg("randn_like", device)
    t, dtype = _like("randn_like", input, dtype)
    return _make(_random("randn_like", lambda g, s, d: g.standard_normal(s, dtype=d),
                         (t.shape,), dtype, generator), requires_grad)


def rand_like(input, *, generator=None, dtype=None, requires_grad=False, device=None):
    """Uniform samples in [0, 1) in ``input``'s shape (and dtype, a float one)."""
    device_arg("rand_like", device)
    t, dtype = _like("rand_like", input, dtype)
    return _make(_random("rand_like", lambda g, s, d: g.random(s, dtype=d), (t.shape,), dtype,
                         generator), requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, requires_grad=False, device=None):
    """Integers from ``[low, high)`` (``randint_like(t, high)`` or ``(t, low, high)``) in
    ``input``'s shape and dtype."""
    device_arg("randint_like", device)
    t, dtype = _like("randint_like", input, dtype)
    low, high = (0, low) if high is None else (low, high)
    return randint(low, high, t.shape, dtype=dtype, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, requires_grad=False, device=None):
    """``fill_value`` (cast to the dtype) in ``input``'s shape and dtype."""
    device_arg("full_like", device)
    t, dtype = _like("full_like", input, dtype)
    return full(t.shape, fill_value, dtype=dtype, requires_grad=requires_grad)


def _steps(op, start, end, steps):
    for name, v in (("start", start), ("end", end)):
        if isinstance(v, Tensor):
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)):
            raise TypeError(f"{op}: {name} must be a number, got {v!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise RuntimeError(f"{op}: steps must be a non-negative int, got {steps!r}")
    return float(start), float(end)


def linspace(start, end, steps, *, dtype=None, requires_grad=False, device=None):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (float32)."""
    device_arg("linspace", device)
    start, end = _steps("linspace", start, end, steps)
    dtype = dtype_arg("linspace", dtype or DEFAULT_FLOAT)
    values = np.linspace(start, end, steps)
    return _make(np.trunc(values).astype(dtype) if dtype.kind != "f" else values.astype(dtype),
                 requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, requires_grad=False, device=None):
    """``base ** linspace(start, end, steps)`` (float32)."""
    device_arg("logspace", device)
    start, end = _steps("logspace", start, end, steps)
    dtype = dtype_arg("logspace", dtype or DEFAULT_FLOAT)
    return _make((base ** np.linspace(start, end, steps)).astype(dtype), requires_grad)


def eye(n, m=None, *, dtype=None, requires_grad=False, device=None):
    """The ``(n, m)`` identity matrix (``m = n`` unless given), float32 unless ``dtype``."""
    device_arg("eye", device)
    for name, v in (("n", n), ("m", n if m is None else m)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise RuntimeError(f"eye: {name} must be a non-negative int, got {v!r}")
    shape = (n, n if m is None else m)
    return _make(_allocate("eye", lambda s, d: np.eye(*s, dtype=d), shape,
                           dtype or DEFAULT_FLOAT), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor without a copy where possible: a Tensor of that dtype is returned
    itself, a numpy array of that dtype is shared (as ``from_numpy``), anything else is copied
    by ``ts.tensor``'s rules."""
    device_arg("as_tensor", device)
    target = None if dtype is None else dtype_arg("as_tensor", dtype)
    if isinstance(data, Tensor):
        return data if target is None or target == data._data.dtype else data.to(target)
    if isinstance(data, np.ndarray) and data.dtype.kind in "fiub" and (target is None
                                                                       or target == data.dtype):
        return Tensor(data)
    return _make(as_array(data, target), False)


def is_tensor(obj):
    """Whether ``obj`` is a tinyseq Tensor."""
    return isinstance(obj, Tensor)


def numel(input):
    """The number of elements of ``input``."""
    return input.numel() if isinstance(input, Tensor) else Tensor(as_array(input)).numel()
