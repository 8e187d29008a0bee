"""Products and running totals: ``prod``, ``cumsum``, ``cumprod``.

The gradients of the products never divide by the input, so zeros are handled exactly as in
torch: the derivative of a product by one factor is the product of the others, built from
running products from the left and from the right. Integers and bools become int64, as torch's
(``dtype=`` casts the input first). Each Function is followed by the function users call.
"""
import numpy as np

from ..dtypes import dtype_arg, tensor_of
from ..function import Function
from ..tensor import Tensor
from ._util import norm_dim
from .joins import cat
from .selection import to, where


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

    @staticmethod
    def graph_backward(ctx, g):
        """``backward`` as a graph: the running products from the left and from the right."""
        (a,) = ctx.saved_tensors
        if a.numel() == 0:
            return np.zeros(a.shape, a.dtype), None, None
        axis = ctx.axis
        flat, ax = (a.reshape(-1), 0) if axis is None else (a, axis)
        others = exclusive_cumprod(flat, ax) * exclusive_cumprod(flat.flip(ax), ax).flip(ax)
        if axis is not None and not ctx.keepdim:
            g = g.unsqueeze(axis)
        return (g * others).reshape(a.shape), None, None

    @staticmethod
    def jvp(ctx, ta, axis, keepdim):
        """``Σ (product of the others) · t``: the slopes are backward's of ones."""
        ones = np.ones(() if axis is None else ta.shape[:axis] + (1,) + ta.shape[axis + 1:],
                       ta.dtype)
        if axis is not None and not keepdim:
            ones = ones.squeeze(axis)
        return (Prod.backward(ctx, ones)[0] * ta).sum(axis=axis, keepdims=keepdim)


def exclusive_cumprod(x, axis):
    """``_exclusive_cumprod`` of a Tensor, as a graph: a 1 before each slice, the last dropped."""
    first = Tensor._wrap(np.ones(x.shape[:axis] + (1,) + x.shape[axis + 1:], x.dtype))
    return cat([first, x.narrow(axis, 0, x.shape[axis] - 1)], axis).cumprod(axis)


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

    linear = True

    @staticmethod
    def backward(ctx, g):
        return np.flip(np.cumsum(np.flip(g, ctx.axis), axis=ctx.axis), ctx.axis), None

    @staticmethod
    def graph_backward(ctx, g):
        return g.flip(ctx.axis).cumsum(ctx.axis).flip(ctx.axis), None


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

    @staticmethod
    def graph_backward(ctx, g):
        """``backward`` as a graph, without its loop: ``S_i = Σ_{j ≥ i} g_j R_ij`` with
        ``R_ij = x_{i+1} ... x_j``, the running products of ``n`` rows (row ``i`` of ``x`` with
        its first ``i + 1`` entries set to 1): ``n²`` elements a slice, in a few ops."""
        (a,) = ctx.saved_tensors
        x, gm = a.movedim(ctx.axis, -1), g.movedim(ctx.axis, -1)
        n = x.shape[-1]
        after = np.triu(np.ones((n, n), bool), 1)  # [i, k]: k after i
        runs = where(after, x.unsqueeze(-2), 1.0).cumprod(-1)  # [i, j]: x_{i+1} ... x_j
        s = (runs * gm.unsqueeze(-2) * np.triu(np.ones((n, n), x.dtype))).sum(-1)  # (j ≥ i)
        return (exclusive_cumprod(x, x.ndim - 1) * s).movedim(-1, ctx.axis), None

    @staticmethod
    def jvp(ctx, ta, axis):
        """The product rule along the running product: ``ṫ_j = ṫ_{j-1} x_j + out_{j-1} t_j``."""
        (a,) = ctx.saved_tensors
        x, t = np.moveaxis(a, axis, -1), np.moveaxis(ta, axis, -1)
        out, res = np.cumprod(x, axis=-1), t.copy()
        for j in range(1, x.shape[-1]):
            res[..., j] = res[..., j - 1] * x[..., j] + out[..., j - 1] * t[..., j]
        return np.moveaxis(res, -1, axis)


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
