"""The largest and smallest values: ``max`` and ``min`` (of all elements, along a dim with their
indices, or elementwise with another tensor), ``amax``, ``amin``, ``maximum``, ``minimum``,
``argmax``, ``argmin``.

``max(x, dim)`` and ``min(x, dim)`` are picking ops (``order.py``): the named tuple ``(values,
indices)``, the gradient scattered back to the picked elements. ``max(x)`` and ``amax`` share the
gradient between tied elements, ``maximum`` halves it on a tie, as torch does.

Each Function is followed by the function users call (``max(input, dim=None, ...)``: ``ts.max``
and ``t.max()``), which tells torch's forms apart and checks ``dim``.
"""
import numpy as np

from ..dtypes import data_of, tensor_of
from ..function import Function
from ..tensor import Tensor
from ._util import norm_dim, pass_where, unbroadcast
from .elementwise import binary
from .order import along, not_empty, picked, picked_tangent, return_types, scatter, scatter_graph
from .reduce import reduce_axes
from .selection import where


class MaxAlong(Function):
    """``max(x, dim)``: the largest value along ``axis`` (the first, or the first NaN), with its
    index; all of the gradient goes to that element, as in torch."""

    name = "max"
    materialize_grads = False  # (the indices get no gradient)

    @staticmethod
    def forward(ctx, a, axis, keepdim):
        return picked(ctx, a, np.atleast_1d(a).argmax(axis=axis, keepdims=True), axis, keepdim)

    @staticmethod
    def backward(ctx, g, _):
        return scatter(ctx, g), None, None

    graph_backward, jvp = staticmethod(scatter_graph), staticmethod(picked_tangent)


class MinAlong(MaxAlong):
    """``min(x, dim)``: ``MaxAlong`` with the smallest value."""

    name = "min"

    @staticmethod
    def forward(ctx, a, axis, keepdim):
        return picked(ctx, a, np.atleast_1d(a).argmin(axis=axis, keepdims=True), axis, keepdim)


class Max(Function):
    """``max(x)`` (``how`` "all") and ``amax(x, dims)`` (``how`` "dims"); ``sign`` -1 for the
    minimum. torch's gradients: ``max(x)`` shares it evenly between the tied elements (the NaNs if
    the result is NaN), 0 elsewhere; ``amax`` gives ``g / count * mask`` (so an Inf from above
    gives NaN off the maximum, as in torch)."""

    torch_name = "MaxBackward1"  # (torch's ``max(x)``; ``max(x, dim)`` is MaxBackward0)

    @staticmethod
    def forward(ctx, a, axes, keepdim, how, sign):
        out = a.max(axis=axes, keepdims=True) if sign > 0 else a.min(axis=axes, keepdims=True)
        ctx.shape, ctx.how, ctx.keep_shape = a.shape, how, out.shape
        mask = np.isnan(a) if how == "all" and np.isnan(out).all() else a == out
        ctx.mask, ctx.count = mask, mask.sum(axis=axes, keepdims=True, dtype=a.dtype)
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape) if i not in axes])

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(ctx.keep_shape)
        if ctx.how == "all":
            return pass_where(ctx.mask, g / ctx.count), None, None, None, None
        return g / ctx.count * ctx.mask, None, None, None, None

    @staticmethod
    def graph_backward(ctx, g):
        """``backward`` on a Tensor ``g``; the mask and the count are constants."""
        g = g.reshape(ctx.keep_shape)
        if ctx.how == "all":
            return where(ctx.mask, g / ctx.count, 0.0), None, None, None, None
        return g / ctx.count * ctx.mask, None, None, None, None

    @staticmethod
    def jvp(ctx, ta, axes, keepdim, how, sign):
        """The tangents of the tied elements, averaged (torch's rule for both forms)."""
        t = (ta * ctx.mask).sum(axis=axes, keepdims=True) / ctx.count
        return t if keepdim else t.reshape([n for i, n in enumerate(ctx.shape) if i not in axes])


Min = Max.alias("min", "MinBackward1")  # ``Max`` with ``sign`` -1
Amax, Amin = Max.variant("AmaxBackward0"), Min.variant("AminBackward0")  # as torch names them


class Maximum(Function):
    """The larger of ``a`` and ``b`` elementwise (NaN if either is NaN). On a tie each gets half
    the gradient, as in torch; a NaN passes the gradient to both."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.loses = np.less
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        half, zero = np.where(a == b, g / 2, g), np.zeros((), g.dtype)
        ga = unbroadcast(np.where(ctx.loses(a, b), zero, half), a.shape)
        gb = unbroadcast(np.where(ctx.loses(b, a), zero, half), b.shape)
        return ga, gb

    @staticmethod
    def graph_backward(ctx, g):
        """``backward`` on a Tensor ``g``; which operand won is a constant."""
        a, b = (data_of(t) for t in ctx.saved_tensors)
        half = g * np.where(a == b, 0.5, 1.0).astype(g.dtype)
        ga = unbroadcast(where(ctx.loses(a, b), 0.0, half), np.shape(a))
        gb = unbroadcast(where(ctx.loses(b, a), 0.0, half), np.shape(b))
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        """torch's rule: the winner's tangent, the mean of both on a tie, ``b``'s if one is NaN."""
        a, b = ctx.saved_tensors
        wins = np.where(a == b, 0.5, ctx.loses(b, a))
        return tb + wins * (ta - tb)


class Minimum(Maximum):
    """The smaller of ``a`` and ``b``: ``Maximum`` the other way round."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.loses = np.greater
        return np.minimum(a, b)


def max(input, dim=None, keepdim=False, *, other=None):
    """torch's three ``max``: ``max(x)`` the largest value; ``max(x, dim, keepdim=False)`` the named
    tuple ``(values, indices)`` along ``dim``; ``max(x, other)`` the elementwise ``maximum``. (A
    tuple of dims is ``amax``: the values only.)

    >>> import tinyseq as ts
    >>> values, indices = ts.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1)
    >>> indices
    tensor([1, 0])
    """
    return _extreme(input, dim, keepdim, other, 1)


def min(input, dim=None, keepdim=False, *, other=None):
    """``max`` for the smallest values: ``min(x)``, ``min(x, dim)``, ``min(x, other)``."""
    return _extreme(input, dim, keepdim, other, -1)


def _extreme(input, dim, keepdim, other, sign):
    """``max``/``min`` in the form the arguments say (see ``max``)."""
    name = "max" if sign > 0 else "min"
    if isinstance(dim, Tensor) or other is not None:
        if keepdim is not False or (other is not None and dim is not None):
            raise TypeError(f"{name}: {name}(input, other) is the elementwise "
                            f"{name}imum and takes no dim or keepdim; give either other or dim")
        return _elementwise(Maximum if sign > 0 else Minimum, input, dim if other is None else other)
    t = tensor_of(input)
    if dim is None and keepdim is not False:
        raise TypeError(f"{name}: keepdim needs a dim ({name}(dim, keepdim=True)); without one, "
                        f"{name}() gives the one {name}imum value (as in torch)")
    if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool):
        axis = along(t, dim, name, f"{name}imum")
        values, indices = (MaxAlong if sign > 0 else MinAlong).apply(t, axis, keepdim)
        return getattr(return_types, name)(values, indices)
    return _reduce(Max if sign > 0 else Min, t, dim, keepdim, sign, "all" if dim is None else "dims")


def amax(input, dim=(), keepdim=False):
    """The largest values over the dims ``dim`` (all of them if ``()``); the gradient is shared
    between the ties."""
    return _reduce(Amax, tensor_of(input), dim, keepdim, 1, "dims")


def amin(input, dim=(), keepdim=False):
    return _reduce(Amin, tensor_of(input), dim, keepdim, -1, "dims")


def _reduce(op, t, dim, keepdim, sign, how):
    """``Max``/``Min`` over ``dim``, refusing to reduce nothing (there is no largest of nothing)."""
    axes = reduce_axes(dim, t.ndim, op.name)
    if dim is None and t._data.size == 0:
        raise RuntimeError(f"{op.name}: a tensor of shape {t.shape} has no elements, so it has no "
                           f"{op.name}imum; give dim= to reduce a dim that is not empty")
    for ax in axes:
        not_empty(t, ax, op.name, f"{op.name}imum")
    return op.apply(t, axes, keepdim, "all" if t.ndim == 0 else how, sign)


def maximum(input, other):
    """The larger of ``input`` and ``other`` elementwise (broadcasting); NaN if either is NaN."""
    return _elementwise(Maximum, input, other)


def minimum(input, other):
    return _elementwise(Minimum, input, other)


def _elementwise(op, input, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"{op.name}: other must be a Tensor, got {type(other).__name__} "
                        f"{other!r}; for a number, use input.clamp(min=...) or clamp(max=...)")
    return binary(op, tensor_of(input), other)


def argmax(input, dim=None, keepdim=False):
    """int64 indices of the largest values along ``dim`` (of the flattened tensor if None); the
    first one of tied values (the first NaN), as in torch."""
    return _arg(np.argmax, tensor_of(input), dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _arg(np.argmin, tensor_of(input), dim, keepdim)


def _arg(fn, t, dim, keepdim):
    """``argmax``/``argmin`` as int64 indices, outside the graph."""
    if dim is None:
        return Tensor._wrap(np.asarray(fn(t._data), dtype=np.int64))
    ax = norm_dim(dim, t.ndim, fn.__name__)
    return Tensor._wrap(fn(t._data, axis=ax, keepdims=keepdim).astype(np.int64, copy=False))


# The functions above as Tensor methods (tensor.py attaches them): ``t.max()`` is ``max(t)``.
TENSOR_METHODS = {
    "max": max, "min": min, "amax": amax, "amin": amin, "maximum": maximum, "minimum": minimum,
    "argmax": argmax, "argmin": argmin,
}
