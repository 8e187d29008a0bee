"""Ops that pick values along one dim and say where they were: ``sort``, ``argsort``, ``topk``,
``kthvalue``, ``median``, ``mode``, and the helpers every picking op shares (``max(x, dim)`` and
``min(x, dim)`` pick too: they are in ``extrema.py``, with the other largest and smallest values).

The picking ops return torch's named tuple ``(values, indices)`` (``return_types``): ``values``
carries the gradient, which goes back to the picked positions (``scatter``); ``indices`` is int64,
outside the graph. They order with numpy's stable sort: equal values keep their order and NaN
counts as larger than any number, as in torch.

Each Function is followed by the function users call (``sort(input, dim=-1, ...)``: ``ts.sort``
and ``t.sort()``), which turns ``dim`` into a non-negative axis and checks the sizes (``along``).
"""
import collections

import numpy as np

from ..dtypes import tensor_of
from ..function import Function
from ..tensor import Tensor
from ._util import norm_dim, pass_where
from .selection import where


def _named(name):
    """The ``(values, indices)`` named tuple that ``name`` returns, printed as torch prints its
    ``torch.return_types.max(values=..., indices=...)``."""
    cls = collections.namedtuple(name, ("values", "indices"), module=__name__)
    cls.__qualname__ = f"return_types.{name}"  # (pickle finds it there)
    cls.__repr__ = lambda self: (f"tinyseq.return_types.{name}(\nvalues={self.values!r},\n"
                                 f"indices={self.indices!r})")
    return cls


class return_types:  # noqa: N801  (torch's name)
    """The named tuples of ``max(dim)``, ``sort``, ... (``torch.return_types``)."""
    max, min, sort, topk, kthvalue, median, mode = map(
        _named, ("max", "min", "sort", "topk", "kthvalue", "median", "mode"))


# ---- picking values along an axis: forward takes, backward scatters --------------------------------
def picked(ctx, a, picks, axis, keepdim):
    """``(values, indices)`` of ``a`` at ``picks`` (int positions along ``axis``, in keepdim form,
    of ``np.atleast_1d(a)``), for the backward (``scatter``) to put the gradient back."""
    ctx.shape, ctx.picks, ctx.axis = a.shape, picks, axis
    values = np.take_along_axis(np.atleast_1d(a), picks, axis)
    if a.ndim == 0:
        return values.reshape(()), picks.reshape(())
    if not keepdim:
        return values.squeeze(axis), picks.squeeze(axis)
    return values, picks


def scatter(ctx, g):
    """The gradient of picked values: ``g`` at the picked positions, 0 elsewhere."""
    full = np.zeros(ctx.shape or (1,), dtype=g.dtype)
    np.put_along_axis(full, ctx.picks, g.reshape(ctx.picks.shape), ctx.axis)
    return full.reshape(ctx.shape)


# The picking ops' higher-order rules, shared (each op's arguments end with ``keepdim``, or
# keep their dims): the graph of a scatter is a scatter, whose gradient picks back at the same
# positions; the tangent of picked values is the tangent picked at the same positions.
def scatter_graph(ctx, g, _):
    """``graph_backward`` of a picking op: ``g`` written at the picked positions of zeros."""
    zeros = Tensor._wrap(np.zeros(ctx.shape or (1,), g._data.dtype))
    full = zeros.scatter(ctx.axis, Tensor._wrap(ctx.picks), g.reshape(ctx.picks.shape))
    return (full.reshape(ctx.shape),) + (None,) * (len(ctx.needs_input_grad) - 1)


def tangent_at_picks(ctx, t, keepdim):
    """``(values' tangent, None)``: ``t`` picked where the values were, shaped as ``picked``
    shapes the values."""
    values = np.take_along_axis(np.atleast_1d(t), ctx.picks, ctx.axis)
    if not ctx.shape:
        return values.reshape(()), None
    return (values if keepdim else values.squeeze(ctx.axis)), None


def picked_tangent(ctx, t, *args):
    """``jvp`` of a picking op whose last argument is ``keepdim``."""
    return tangent_at_picks(ctx, t, args[-1])


def kept_tangent(ctx, t, *args):
    """``jvp`` of a picking op that keeps its dims (``sort``, ``topk``)."""
    return tangent_at_picks(ctx, t, True)


def order(a, axis, descending):
    """int64 positions that sort ``a`` along ``axis``, stably; descending keeps equal values in
    their order too (sorting the flipped array), and puts NaN first."""
    a = np.atleast_1d(a)
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    flipped = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return a.shape[axis] - 1 - np.flip(flipped, axis)


# ---- sort and the order statistics ---------------------------------------------------------------
class Sort(Function):
    """``sort`` along ``axis``, ascending or descending; ties keep their order."""

    materialize_grads = False

    @staticmethod
    def forward(ctx, a, axis, descending):
        return picked(ctx, a, order(a, axis, descending), axis, True)

    @staticmethod
    def backward(ctx, g, _):
        return scatter(ctx, g), None, None

    graph_backward, jvp = staticmethod(scatter_graph), staticmethod(kept_tangent)


def sort(input, dim=-1, descending=False, *, stable=False):
    """``(values, indices)``: ``input`` sorted along ``dim``. Always stable (equal values keep their
    order; ``stable=True`` is what torch promises then); NaN last (first when descending)."""
    t = tensor_of(input)
    values, indices = Sort.apply(t, along(t, dim, "sort"), descending)
    return return_types.sort(values, indices)


def argsort(input, dim=-1, descending=False, *, stable=False):
    """The int64 indices that sort ``input`` along ``dim`` (``sort(...).indices``)."""
    t = tensor_of(input)
    return Tensor._wrap(order(t._data, along(t, dim, "argsort"), descending).reshape(t.shape))


class TopK(Function):
    """``topk``: the ``k`` largest (or smallest) along ``axis``, in order."""

    materialize_grads = False

    @staticmethod
    def forward(ctx, a, k, axis, largest):
        picks = np.take(order(a, axis, largest), np.arange(k), axis=axis)
        return picked(ctx, a, picks, axis, True)

    @staticmethod
    def backward(ctx, g, _):
        return scatter(ctx, g), None, None, None

    graph_backward, jvp = staticmethod(scatter_graph), staticmethod(kept_tangent)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """``(values, indices)`` of the ``k`` largest values along ``dim`` (the smallest if not
    ``largest``), largest first. Always sorted (``sorted=False`` lets torch return any order)."""
    t = tensor_of(input)
    axis = along(t, dim, "topk")
    _check_k("topk", k, 0 if t.ndim else 1, t._data.shape[axis] if t.ndim else 1, t, dim)
    values, indices = TopK.apply(t, k, axis, largest)
    return return_types.topk(values, indices)


class KthValue(Function):
    """``kthvalue``: the ``k``-th smallest value along ``axis`` (``k`` from 1)."""

    materialize_grads = False

    @staticmethod
    def forward(ctx, a, k, axis, keepdim):
        picks = np.take(order(a, axis, False), [k - 1], axis=axis)
        return picked(ctx, a, picks, axis, keepdim)

    @staticmethod
    def backward(ctx, g, _):
        return scatter(ctx, g), None, None, None

    graph_backward, jvp = staticmethod(scatter_graph), staticmethod(picked_tangent)


def kthvalue(input, k, dim=-1, keepdim=False):
    """``(values, indices)`` of the ``k``-th smallest values along ``dim`` (``k=1``: the smallest)."""
    t = tensor_of(input)
    axis = along(t, dim, "kthvalue", "k-th value")
    _check_k("kthvalue", k, 1, t._data.shape[axis] if t.ndim else 1, t, dim)
    values, indices = KthValue.apply(t, k, axis, keepdim)
    return return_types.kthvalue(values, indices)


class MedianAlong(Function):
    """``median(x, dim)``: the lower of the two middle values along ``axis`` (the first NaN if
    there is one, as in torch)."""

    name = "median"
    torch_name = "MedianBackward1"  # (torch's ``median(x)`` is MedianBackward0)
    materialize_grads = False

    @staticmethod
    def forward(ctx, a, axis, keepdim):
        a1 = np.atleast_1d(a)
        picks = np.take(order(a1, axis, False), [(a1.shape[axis] - 1) // 2], axis=axis)
        if a.dtype.kind == "f":
            nan = np.isnan(a1)
            picks = np.where(nan.any(axis, keepdims=True), nan.argmax(axis, keepdims=True), picks)
        return picked(ctx, a, picks, axis, keepdim)

    @staticmethod
    def backward(ctx, g, _):
        return scatter(ctx, g), None, None

    graph_backward, jvp = staticmethod(scatter_graph), staticmethod(picked_tangent)


class Median(Function):
    """``median(x)``: the lower middle value of all elements (NaN if there is one); the gradient
    is shared evenly between the elements equal to it (the NaNs), as torch does."""

    @staticmethod
    def forward(ctx, a):
        flat = np.sort(a, axis=None)  # NaN last
        out = flat[-1] if np.isnan(flat[-1]) else flat[(flat.size - 1) // 2]
        ctx.mask = np.isnan(a) if np.isnan(out) else a == out
        ctx.count = ctx.mask.sum(dtype=a.dtype)
        return np.asarray(out)

    @staticmethod
    def backward(ctx, g):
        return pass_where(ctx.mask, g / ctx.count)

    @staticmethod
    def graph_backward(ctx, g):
        return where(ctx.mask, g / ctx.count, 0.0)

    @staticmethod
    def jvp(ctx, ta):
        return (ta * ctx.mask).sum() / ctx.count  # (the tied elements' tangents, averaged)


def median(input, dim=None, keepdim=False):
    """``median(x)``: the lower median of all elements, one tensor; ``median(x, dim)``: the named
    tuple ``(values, indices)`` of the lower medians along ``dim``. NaN if there is one."""
    t = tensor_of(input)
    if dim is None:
        if t._data.size == 0:
            return Tensor._wrap(np.full((), np.nan, t._data.dtype))  # as torch
        return Median.apply(t)
    values, indices = MedianAlong.apply(t, along(t, dim, "median", "median"), keepdim)
    return return_types.median(values, indices)


class Mode(Function):
    """``mode``: the most frequent value along ``axis`` (the smallest of equally frequent ones,
    NaNs counting as equal) and the index of its last occurrence, as torch on the CPU."""

    materialize_grads = False

    @staticmethod
    def forward(ctx, a, axis, keepdim):
        a1 = np.moveaxis(np.atleast_1d(a), axis, -1)
        rows = a1.reshape(-1, a1.shape[-1])  # one row per slice along axis
        where = np.argsort(rows, axis=1, kind="stable")
        s = np.take_along_axis(rows, where, 1)
        same = (s[:, 1:] == s[:, :-1]) | (np.isnan(s[:, 1:]) & np.isnan(s[:, :-1]) if
                                          s.dtype.kind == "f" else False)
        ends = np.append(~same, np.ones((len(rows), 1), bool), axis=1)  # a run of equals ends
        at = np.arange(rows.shape[1])
        end = np.minimum.accumulate(np.where(ends, at, at[-1])[:, ::-1], axis=1)[:, ::-1]
        start = np.maximum.accumulate(np.where(np.roll(ends, 1, axis=1), at, 0), axis=1)
        longest = (end - start).argmax(axis=1)  # the first longest run: the smallest value
        r = np.arange(len(rows))
        picks = where[r, end[r, longest]].reshape(a1.shape[:-1] + (1,))  # its last occurrence
        return picked(ctx, a, np.moveaxis(picks, -1, axis), axis, keepdim)

    @staticmethod
    def backward(ctx, g, _):
        return scatter(ctx, g), None, None

    graph_backward, jvp = staticmethod(scatter_graph), staticmethod(picked_tangent)


def mode(input, dim=-1, keepdim=False):
    """``(values, indices)``: the most frequent value along ``dim`` and where it last occurs."""
    t = tensor_of(input)
    values, indices = Mode.apply(t, along(t, dim, "mode", "mode"), keepdim)
    return return_types.mode(values, indices)


def along(t, dim, op, what=None):
    """``dim`` as a non-negative axis (0 for a 0-d tensor); with ``what`` (a reduction), it must
    not be empty."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}")
    axis = norm_dim(dim, t.ndim, op)
    if what is not None and t.ndim:
        not_empty(t, axis, op, what)
    return axis


def not_empty(t, axis, op, what):
    if t._data.shape[axis] == 0:
        raise IndexError(f"{op}: dim {axis} of a tensor of shape {t.shape} has size 0, so it has no "
                         f"{what}; reduce a dim that is not empty")


def _check_k(op, k, low, size, t, dim):
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"{op}: k must be an int, got {type(k).__name__} {k!r}")
    if not low <= k <= size:
        raise RuntimeError(f"{op}: k={k} is out of range for dim {dim} of a tensor of shape "
                           f"{t.shape} (expected {low} <= k <= {size})")


# The functions above as Tensor methods (tensor.py attaches them): ``t.sort()`` is ``sort(t)``.
TENSOR_METHODS = {
    "sort": sort, "argsort": argsort, "topk": topk, "kthvalue": kthvalue, "median": median,
    "mode": mode,
}
