"""Norms: ``ts.linalg.vector_norm``, ``ts.linalg.matrix_norm`` (``'fro'``, 1, -1, inf, -inf),
``ts.linalg.norm`` and ``ts.norm`` / ``t.norm(p='fro', dim=None, keepdim=False)``.

A vector norm is one op (``VectorNorm``) whose gradient is torch's: 0 where the norm is 0 (not
NaN), and for ``ord=±inf`` shared equally among the elements that reach it. A matrix norm is
composed of ``abs``, ``sum`` and ``amax``/``amin``, as torch composes it. The spectral and
nuclear norms (``2``, ``-2``, ``'nuc'``) need an SVD and are refused.
"""
import math

import numpy as np

from ..dtypes import dtype_arg, tensor_of
from ..function import Function
from . import activations, reduce
from ._util import norm_dim
from .extrema import amax, amin
from .selection import to, where


class VectorNorm(Function):
    """``(Σ |x|^p)^(1/p)`` over ``axes``; ``p`` = inf/-inf: max/min of ``|x|``, 0: the count of
    nonzeros."""

    @staticmethod
    def forward(ctx, a, p, axes, keepdim):
        m = np.abs(a)
        if p == math.inf or p == -math.inf:
            out = (m.max if p > 0 else m.min)(axis=axes, keepdims=True)
        elif p == 0:
            out = (m != 0).sum(axis=axes, keepdims=True).astype(a.dtype)
        elif p == 1:
            out = m.sum(axis=axes, keepdims=True)
        elif p == 2:
            out = np.sqrt((m * m).sum(axis=axes, keepdims=True))
        else:
            out = (m ** p).sum(axis=axes, keepdims=True) ** (1 / p)
        ctx.save_for_backward(a, out)
        ctx.p, ctx.axes = p, axes
        return out if keepdim else out.squeeze(axes)

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        p, g = ctx.p, g.reshape(out.shape)
        sign = np.sign(a)
        if p == 0:
            return np.zeros_like(a), None, None, None
        if p == 1:
            return g * sign, None, None, None
        if math.isinf(p):
            hit = np.abs(a) == out
            share = hit / hit.sum(axis=ctx.axes, keepdims=True)
            return g * sign * share, None, None, None
        if p == 2:
            scale = np.true_divide(g, out)
            return np.where(out == 0, 0, scale) * a, None, None, None
        scale = np.where(out == 0, 0, np.true_divide(g, out ** (p - 1)))
        local = np.where(a == 0, 0, sign * np.abs(a) ** (p - 1))  # (0 at 0 for p < 1, as torch)
        return scale * local, None, None, None

    @staticmethod
    def graph_backward(ctx, g):
        """``backward`` as a graph, the norm recomputed from ``a`` (the one forward saved is the
        output itself only with ``keepdim``). Masks and signs are constants (their derivative is
        0); a zero norm or element is replaced by 1 before it divides or is raised to a negative
        power, so that the unused branch is finite and its gradient 0, not NaN."""
        a, p = ctx.saved_tensors[0], ctx.p
        if p == 0:
            return np.zeros(a.shape, a.dtype), None, None, None
        out = VectorNorm.apply(a, p, ctx.axes, True)
        g, sign = g.reshape(out.shape), np.sign(a._data)
        if p == 1:
            return g * sign, None, None, None
        if math.isinf(p):
            hit = np.abs(a._data) == out._data
            return g * (sign * hit / hit.sum(axis=ctx.axes, keepdims=True)), None, None, None
        zero = out._data == 0
        scale = where(zero, 0.0, g / where(zero, 1.0, out) ** (p - 1))
        if p == 2:
            return scale * a, None, None, None
        flat = a._data == 0
        local = where(flat, 0.0, sign * where(flat, 1.0, activations.abs(a)) ** (p - 1))
        return scale * local, None, None, None

    @staticmethod
    def jvp(ctx, ta, p, axes, keepdim):
        return reduce.reduction_jvp(VectorNorm.backward, ctx, ta, axes, keepdim)


def _float_input(op, input, dtype):
    x = tensor_of(input)
    if dtype is not None:
        x = to(x, dtype_arg(op, dtype))
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point tensor, got {x._data.dtype}; "
                           "convert with .float() or pass dtype=ts.float32")
    return x


def _order(op, ord):
    if isinstance(ord, bool) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"{op}: ord must be a number (or inf), got {ord!r}")
    return float(ord)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ``ord``-norm of ``x`` over ``dim`` (an int, a tuple, or None: all elements)."""
    x = _float_input("linalg.vector_norm", x, dtype)
    axes = reduce.reduce_axes(dim, x.ndim, "linalg.vector_norm")
    p = _order("linalg.vector_norm", ord)
    if (p < 0 or math.isinf(p)) and any(x.shape[i] == 0 for i in axes):
        raise RuntimeError(f"linalg.vector_norm: the norm of order {ord} of an empty slice is "
                           f"undefined (shape {x.shape}, dim {dim}); use a finite positive order")
    return VectorNorm.apply(x, p, axes, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The ``ord``-norm (``'fro'``, 1, -1, inf, -inf) of the matrices over the two dims ``dim``:
    1 is the largest column sum of ``|A|``, inf the largest row sum; -1 and -inf the smallest."""
    op = "linalg.matrix_norm"
    A = _float_input(op, A, dtype)
    if not (isinstance(dim, (tuple, list)) and len(dim) == 2):
        raise RuntimeError(f"{op}: dim must be a 2-tuple of dims, got {dim!r}")
    if A.ndim < 2:
        raise RuntimeError(f"{op}: the input must have at least 2 dims (matrices), got shape "
                           f"{A.shape}; use linalg.vector_norm for vectors")
    rows, cols = (norm_dim(d, A.ndim, op) for d in dim)
    if rows == cols:
        raise RuntimeError(f"{op}: dim must name two different dims, got dim={dim} for shape "
                           f"{A.shape}")
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"{op}: ord={ord!r} needs singular values, which tinyseq does "
                                  "not compute; use 'fro', 1, -1, inf or -inf")
    p = _order(op, ord)
    if math.fabs(p) not in (1, math.inf):
        raise RuntimeError(f"{op}: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got "
                           f"{ord!r}")
    summed, over = (rows, cols) if math.fabs(p) == 1 else (cols, rows)
    sums = reduce.sum(activations.abs(A), summed, keepdim=True)
    out = (amax if p > 0 else amin)(sums, over, keepdim=True)
    return out if keepdim else out.squeeze((rows, cols))


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``ts.linalg.norm``: a vector norm when ``dim`` is an int (or ``A`` is 1-D), a matrix norm
    when ``dim`` is a pair (or ``A`` is 2-D); with neither ``ord`` nor ``dim``, the 2-norm of
    all the elements."""
    op = "linalg.norm"
    ndim = tensor_of(A).ndim
    if dim is None and ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if dim is None:
        if ndim not in (1, 2):
            raise RuntimeError(f"{op}: with ord and no dim the input must be 1-D or 2-D, got "
                               f"{ndim}-D; give dim")
        dim = 0 if ndim == 1 else (0, 1)
    if isinstance(dim, (tuple, list)) and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if isinstance(dim, (tuple, list)) and len(dim) != 1:
        raise RuntimeError(f"{op}: dim must be an int or a tuple of 1 or 2 ints, got {dim!r}")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """``ts.norm`` (``t.norm()``): ``p`` a number (a vector norm over ``dim``) or ``'fro'`` (the
    2-norm over ``dim``, all elements when None)."""
    if p == "fro":
        p = 2
    elif p == "nuc":
        raise NotImplementedError("norm: p='nuc' needs singular values, which tinyseq does not "
                                  "compute; use p='fro' or a number")
    elif isinstance(p, str):
        raise RuntimeError(f"norm: p must be a number, 'fro' or 'nuc', got {p!r}")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


# The functions above as Tensor methods (tensor.py attaches them).
TENSOR_METHODS = {"norm": norm}
