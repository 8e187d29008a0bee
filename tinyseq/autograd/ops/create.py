"""Tensors made from a tensor: ``t.new_zeros(2, 3)``, ``t.new_full``, ``t.new_tensor`` (its dtype,
outside any graph) and ``t.multinomial(n)`` (indices drawn from ``ts.manual_seed``'s generator)."""
import numpy as np

from .. import rng
from ..dtypes import as_array, data_of, dtype_arg
from ..device import device_arg
from ..memory import check_affordable
from ..tensor import Tensor
from .shape import check_shape, shape_arg


def _new(op, self, make, size, dtype, device, requires_grad):
    """``make(shape, dtype)``, a size past this machine's memory refused in one line."""
    device_arg(op, device)
    dtype = self._data.dtype if dtype is None else dtype_arg(op, dtype)
    shape = check_shape(op, shape_arg(size))
    check_affordable(op, shape, dtype)
    return Tensor(make(shape, dtype), requires_grad=requires_grad)


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
    return Tensor(as_array(data, target), requires_grad=requires_grad)  # (a copy, as torch)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """``num_samples`` indices drawn with the weights ``input`` (``(n,)`` or ``(rows, n)``) gives:
    ``(num_samples,)`` or ``(rows, num_samples)`` int64; each index at most once unless
    ``replacement``; from ``generator`` (a ``ts.Generator``), else the default stream."""
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
    if not replacement and num_samples > p.shape[-1]:
        raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without replacement "
                           f"from {p.shape[-1]} categories; draw fewer or pass replacement=True")
    draw, g = (_with_replacement if replacement else _without_replacement,
               rng.numpy_generator("multinomial", generator))
    out = np.stack([draw(g, r / s, num_samples) for r, s in zip(rows, sums)])
    return Tensor(out.astype(np.int64).reshape(p.shape[:-1] + (num_samples,)))


def _with_replacement(g, p, k):
    return g.choice(len(p), k, p=p)


def _without_replacement(g, p, k):
    """The categories of nonzero weight first, then (as torch) those of zero weight, in a
    random order, once the others are all drawn."""
    live, dead = np.flatnonzero(p), np.flatnonzero(p == 0)
    first = g.choice(live, min(k, len(live)), replace=False, p=p[live])
    return np.concatenate([first, g.permutation(dead)[:k - len(first)]])


TENSOR_METHODS = {"new_zeros": new_zeros, "new_ones": new_ones, "new_empty": new_empty,
                  "new_full": new_full, "new_tensor": new_tensor, "multinomial": multinomial}
