"""Tensors made from a tensor: ``t.new_zeros(2, 3)``, ``t.new_full``, ``t.new_tensor`` (its dtype,
outside any graph) and ``t.multinomial(n)`` (indices drawn from ``ts.manual_seed``'s generator)."""
import numpy as np

from .. import rng
from ..dtypes import as_array, data_of, dtype_arg
from ..device import device_arg
from ..tensor import Tensor
from .shape import check_shape, shape_arg


def _new(op, self, make, size, dtype, device, requires_grad):
    device_arg(op, device)
    dtype = self._data.dtype if dtype is None else dtype_arg(op, dtype)
    return Tensor(make(check_shape(op, shape_arg(size)), dtype), requires_grad=requires_grad)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    """Zeros of ``size``, of this tensor's dtype unless ``dtype`` says otherwise."""
    return _new("new_zeros", self, np.zeros, size, dtype, device, requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    return _new("new_ones", self, np.ones, size, dtype, device, requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    return _new("new_empty", self, np.zeros, size, dtype, device, requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    """``fill_value`` in ``size``, cast to this tensor's dtype (or ``dtype``)."""
    fill = np.asarray(data_of(fill_value))
    return _new("new_full", self, lambda s, d: np.full(s, fill, d), (size,), dtype, device,
                requires_grad)


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A copy of ``data`` as a tensor of this tensor's dtype (or ``dtype``), as torch does."""
    device_arg("new_tensor", device)
    target = self._data.dtype if dtype is None else dtype_arg("new_tensor", dtype)
    return Tensor(np.array(as_array(data), dtype=target), requires_grad=requires_grad)


def multinomial(input, num_samples, replacement=False):
    """``num_samples`` indices drawn with the weights ``input`` (``(n,)`` or ``(rows, n)``) gives:
    ``(num_samples,)`` or ``(rows, num_samples)`` int64; each index at most once unless
    ``replacement``."""
    p = np.asarray(data_of(input), dtype=np.float64)
    if p.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: the weights must have 1 or 2 dims, got shape {p.shape}")
    if not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
        raise RuntimeError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise RuntimeError("multinomial: the weights contain inf, nan or a value < 0")
    rows = p.reshape(-1, p.shape[-1])
    sums = rows.sum(axis=1)
    if (sums <= 0).any():
        raise RuntimeError("multinomial: invalid distribution, the weights of a row sum to 0")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without replacement "
                           f"from {(rows > 0).sum(axis=1).min()} categories of nonzero weight; "
                           "draw fewer or pass replacement=True")
    g = rng.generator()
    out = np.stack([g.choice(len(r), num_samples, replace=replacement, p=r / s)
                    for r, s in zip(rows, sums)]).astype(np.int64)
    return Tensor(out.reshape(p.shape[:-1] + (num_samples,)))


TENSOR_METHODS = {"new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty,
                  "new_full": new_full, "new_tensor": new_tensor, "multinomial": multinomial}
