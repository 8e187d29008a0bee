"""Triangles and diagonals of matrices: ``tril``/``triu`` (a causal mask is ``ts.tril(ones)``),
``diagonal`` (a view) and ``diag`` (a vector's matrix, or a matrix's diagonal).

``diagonal``'s view is numpy's strided trick written out (``np.diagonal`` gives a read-only one):
stepping one row and one column at once is a stride of ``row stride + column stride``.
"""
import numpy as np

from ..dtypes import tensor_of
from ..function import Function
from ._util import norm_dim
from .index import Transposed
from .inplace import apply_


class Tril(Function):
    """The lower triangle of the last two dims: elements on or below diagonal ``k`` (0 the main
    one, >0 above it, <0 below), the others zero; the gradient passes through the same ones."""
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, k):
        ctx.k = k
        return np.tril(a, k)

    @staticmethod
    def backward(ctx, g):
        return np.tril(g, ctx.k), None

    @staticmethod
    def graph_backward(ctx, g):
        return Tril.apply(g, ctx.k), None


class Triu(Function):
    """The upper triangle of the last two dims: elements on or above diagonal ``k``."""
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, k):
        ctx.k = k
        return np.triu(a, k)

    @staticmethod
    def backward(ctx, g):
        return np.triu(g, ctx.k), None

    @staticmethod
    def graph_backward(ctx, g):
        return Triu.apply(g, ctx.k), None


def tril(input, diagonal=0):
    """``input`` ``(*, n, m)`` with the elements above diagonal ``diagonal`` zeroed."""
    return Tril.apply(_matrices("tril", input), _offset("tril", diagonal))


def triu(input, diagonal=0):
    """``input`` ``(*, n, m)`` with the elements below diagonal ``diagonal`` zeroed."""
    return Triu.apply(_matrices("triu", input), _offset("triu", diagonal))


def tril_(input, diagonal=0):
    """``tril`` in place."""
    return apply_("tril_", tril, input, diagonal)


def triu_(input, diagonal=0):
    """``triu`` in place."""
    return apply_("triu_", triu, input, diagonal)


def _matrices(op, input):
    input = tensor_of(input)
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape "
                           f"{input.shape}")
    return input


def _offset(op, k):
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"{op}: diagonal must be an int, got {type(k).__name__} {k!r}")
    return int(k)


def diagonal_view(a, offset, dim1, dim2):
    """The elements ``a[..., i, i + offset]`` of dims ``dim1``, ``dim2`` as a writable view whose
    last dim runs along the diagonal (the other dims keep their order)."""
    moved = np.moveaxis(a, (dim1, dim2), (-2, -1))
    corner = moved[..., max(-offset, 0):, max(offset, 0):]
    n = min(corner.shape[-2:])
    return np.lib.stride_tricks.as_strided(
        corner, shape=corner.shape[:-2] + (n,),
        strides=corner.strides[:-2] + (corner.strides[-2] + corner.strides[-1],))


class Diagonal(Function):
    """A diagonal of two dims, as a view; backward writes the gradient on the same diagonal of
    zeros."""
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, offset, dim1, dim2):
        ctx.shape, ctx.dims = a.shape, (offset, dim1, dim2)
        return diagonal_view(a, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, g):
        full = np.zeros(ctx.shape, g.dtype)
        diagonal_view(full, *ctx.dims)[...] = g
        return full, None, None, None

    @staticmethod
    def graph_backward(ctx, g):
        return DiagonalBackward.apply(g, Diagonal, ctx, ctx.dims), None, None, None


# The gradient of ``diagonal`` (``g`` on a diagonal of zeros) as an op, for gradients of any order
DiagonalBackward = Transposed.alias("diagonal_backward")


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of dims ``dim1`` and ``dim2`` (a view): those dims are removed and
    the diagonal becomes the last dim."""
    input = tensor_of(input)
    d1, d2 = norm_dim(dim1, input.ndim, "diagonal"), norm_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be the same dim, got {dim1} and "
                           f"{dim2}")
    return Diagonal.apply(input, _offset("diagonal", offset), d1, d2)


class DiagEmbed(Function):
    """A vector ``(n,)`` on diagonal ``k`` of a square matrix of zeros ``(n + |k|, n + |k|)``."""
    moves_data_only = True

    @staticmethod
    def forward(ctx, v, k):
        ctx.k = k
        return np.diag(v, k)

    @staticmethod
    def backward(ctx, g):
        return np.diagonal(g, ctx.k).copy(), None

    @staticmethod
    def graph_backward(ctx, g):
        return Diag.apply(g, ctx.k), None  # (Diag's forward is this backward)


class Diag(Function):
    """Diagonal ``k`` of a matrix, as a new vector (``diag`` copies, ``diagonal`` views)."""
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, k):
        ctx.shape, ctx.k = a.shape, k
        return np.diagonal(a, k).copy()

    @staticmethod
    def backward(ctx, g):
        full = np.zeros(ctx.shape, g.dtype)
        diagonal_view(full, ctx.k, 0, 1)[...] = g
        return full, None

    @staticmethod
    def graph_backward(ctx, g):
        return DiagonalBackward.apply(g, Diag, ctx, (ctx.k,)), None


def diag(input, diagonal=0):
    """A vector ``(n,)``: the square matrix with it on diagonal ``diagonal``; a matrix: that
    diagonal of it, as a vector."""
    input = tensor_of(input)
    k = _offset("diag", diagonal)
    if input.ndim == 1:
        return DiagEmbed.apply(input, k)
    if input.ndim == 2:
        return Diag.apply(input, k)
    raise RuntimeError(f"diag: supports 1-d or 2-d tensors, got shape {input.shape}; use "
                       "ts.diagonal(t, offset, dim1, dim2) for more dims")


# The functions above as Tensor methods (tensor.py attaches them).
TENSOR_METHODS = {"tril": tril, "triu": triu, "tril_": tril_, "triu_": triu_,
                  "diagonal": diagonal, "diag": diag}
