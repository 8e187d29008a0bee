"""Products and running totals: ``prod``, ``cumsum``, ``cumprod``.

The gradients of the products never divide by the input, so zeros are handled exactly as in
torch: the derivative of a product by one factor is the product of the others, built from
running products from the left and from the right. Integers and bools become int64, as torch's
(``dtype=`` casts the input first). Each Function is followed by the function users call.
"""
import numpy as np

from ..dtypes import dtype_arg, tensor_of
from ..function import Function
from ._util import norm_dim
from .elementwise import to


def _accumulating(op, input, dtype):
    """The input of ``prod``/``cumsum``/``cumprod``: cast to ``dtype``, else integers and bools
    to int64 (so sums do not wrap round in a narrow dtype)."""
    x = tensor_of(input)
    if dtype is not None:
        return to(x, dtype_arg(op, dtype))
    return to(x, np.int64) if x._data.dtype.kind in "iub" else x


def _exclusive_cumprod(a, axis, reverse=False):
    """The product of the elements before each one along ``axis`` (after it, with ``reverse``);
    1 for the first."""
    a = np.flip(a, axis) if reverse else a
    ones = np.ones_like(np.take(a, [0], axis=axis))
    shifted = np.concatenate([ones, np.take(a, np.arange(a.shape[axis] - 1), axis=axis)], axis)
    out = np.cumprod(shifted, axis=axis)
    return np.flip(out, axis) if reverse else out


class Prod(Function):
    """The product over ``axis`` (None: all). d/dx_i = the product of the others, zeros and all."""

    @staticmethod
    def forward(ctx, a, axis, keepdim):
        ctx.save_for_backward(a)
        ctx.axis, ctx.keepdim = axis, keepdim
        return np.asarray(np.prod(a, axis=axis, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        axis = ctx.axis
        if a.size == 0:
            return np.zeros(a.shape, g.dtype), None, None
        flat = a.reshape(-1) if axis is None else a
        ax = 0 if axis is None else axis
        others = _exclusive_cumprod(flat, ax) * _exclusive_cumprod(flat, ax, reverse=True)
        if axis is not None and not ctx.keepdim:
            g = np.expand_dims(g, axis)
        return (g * others).reshape(a.shape), None, None


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """The product of all elements, or over the one dim ``dim`` (an int, as in torch)."""
    x = _accumulating("prod", input, dtype)
    if dim is None:
        return Prod.apply(x, None, False)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"prod: dim must be one int, got {dim!r}; reduce one dim at a time")
    axis = norm_dim(dim, x.ndim, "prod")
    return Prod.apply(x, axis if x.ndim else None, keepdim)


class Cumsum(Function):
    """Running sums along ``axis``; the gradient is the running sum of ``g`` from the end."""

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        return np.cumsum(a, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return np.flip(np.cumsum(np.flip(g, ctx.axis), axis=ctx.axis), ctx.axis), None


class Cumprod(Function):
    """Running products along ``axis``. With ``L_i`` the product before ``i``, the gradient is
    ``L_i * S_i`` where ``S_i = g_i + x_{i+1} S_{i+1}`` (a sum from the end that never divides,
    so zeros are exact)."""

    @staticmethod
    def forward(ctx, a, axis):
        ctx.save_for_backward(a)
        ctx.axis = axis
        return np.cumprod(a, axis=axis)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        x, gm = np.moveaxis(a, ctx.axis, -1), np.moveaxis(g, ctx.axis, -1)
        s = np.empty_like(gm)
        n = x.shape[-1]
        if n:
            s[..., n - 1] = gm[..., n - 1]
        for i in range(n - 2, -1, -1):
            s[..., i] = gm[..., i] + x[..., i + 1] * s[..., i + 1]
        grad = _exclusive_cumprod(x, -1) * s
        return np.moveaxis(grad, -1, ctx.axis), None


def _scan(op, cls, input, dim, dtype):
    x = _accumulating(op, input, dtype)
    if x.ndim == 0:
        norm_dim(dim, 0, op)
        return cls.apply(x.reshape(1), 0).reshape(())
    return cls.apply(x, norm_dim(dim, x.ndim, op))


def cumsum(input, dim, *, dtype=None):
    """Running sums along ``dim``: ``out[i] = input[0] + ... + input[i]``."""
    return _scan("cumsum", Cumsum, input, dim, dtype)


def cumprod(input, dim, *, dtype=None):
    """Running products along ``dim``: ``out[i] = input[0] * ... * input[i]``."""
    return _scan("cumprod", Cumprod, input, dim, dtype)


# The functions above as Tensor methods (tensor.py attaches them).
TENSOR_METHODS = {"prod": prod, "cumsum": cumsum, "cumprod": cumprod}
