"""Reductions and the softmax family. ``axes`` is always a tuple of non-negative axes; without
``keepdim`` the backward puts the reduced axes back (``reduced_shape``) before broadcasting.

Each Function is followed by the function users call (``sum(input, dim=None, keepdim=False)``:
``ts.sum`` and ``t.sum()``), which turns ``dim`` into ``axes`` (``reduce_axes``).
"""
import math

import numpy as np

from ..dtypes import floating, tensor_of
from ..function import Function
from ..tensor import Tensor
from ._util import norm_dim, pass_where, reduced_shape


def reduce_axes(dim, ndim, op):
    """The axes a reduction over ``dim`` covers; ``None`` or ``()`` mean all of them."""
    if dim is None or (isinstance(dim, tuple) and not dim):
        return tuple(range(ndim))
    axes = tuple(norm_dim(d, ndim, op) for d in dim) if isinstance(dim, (tuple, list)) else (
        norm_dim(dim, ndim, op),)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {dim} names a dim more than once")
    return axes if ndim else ()  # dim 0 or -1 of a 0-d tensor is the tensor itself


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes = a.shape, axes
        return a.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(reduced_shape(ctx.shape, ctx.axes))
        return np.broadcast_to(g, ctx.shape), None, None


def sum(input, dim=None, keepdim=False):
    input = tensor_of(input)
    return Sum.apply(input, reduce_axes(dim, input.ndim, "sum"), keepdim)


class Mean(Function):
    """The sum over ``axes`` divided by the count (NaN over nothing, as torch, without numpy's
    "Mean of empty slice" warning)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes = a.shape, axes
        ctx.count = count = math.prod([a.shape[i] for i in axes])
        return np.true_divide(a.sum(axis=axes, keepdims=keepdim), count)

    @staticmethod
    def backward(ctx, g):
        g = np.true_divide(g.reshape(reduced_shape(ctx.shape, ctx.axes)), ctx.count)
        return np.broadcast_to(g, ctx.shape), None, None


def mean(input, dim=None, keepdim=False):
    input = floating(input)
    return Mean.apply(input, reduce_axes(dim, input.ndim, "mean"), keepdim)


class Max(Function):
    """``max``/``min`` (``sign`` -1 for min) over ``axes``; ``how`` says which of PyTorch's
    gradients to give:

    - ``"dim"`` (one int dim, ``torch.max(x, dim)``): all of it to the element ``argmax`` picks;
    - ``"all"`` (no dim, ``torch.max(x)``): shared evenly between the tied elements (the NaNs, if
      the result is NaN), 0 elsewhere;
    - ``"dims"`` (a tuple of dims, ``torch.amax``): ``g / count * mask``, as torch computes it
      (so an Inf from above gives NaN off the maximum, as in torch).
    """

    @staticmethod
    def forward(ctx, a, axes, keepdim, how, sign):
        out = a.max(axis=axes, keepdims=True) if sign > 0 else a.min(axis=axes, keepdims=True)
        ctx.shape, ctx.how, ctx.keep_shape = a.shape, how, out.shape
        if how == "dim":
            ax = axes[0]
            pick = a.argmax(axis=ax) if sign > 0 else a.argmin(axis=ax)
            ctx.pick, ctx.axis = np.expand_dims(pick, ax), ax
        else:
            mask = np.isnan(a) if how == "all" and np.isnan(out).all() else a == out
            ctx.mask, ctx.count = mask, mask.sum(axis=axes, keepdims=True, dtype=a.dtype)
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape) if i not in axes])

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(ctx.keep_shape)
        if ctx.how == "dim":
            full = np.zeros(ctx.shape, dtype=g.dtype)
            np.put_along_axis(full, ctx.pick, g, axis=ctx.axis)
        elif ctx.how == "all":
            full = pass_where(ctx.mask, g / ctx.count)
        else:
            full = g / ctx.count * ctx.mask
        return full, None, None, None, None


Min = Max.alias("min")  # ``Max`` with ``sign`` -1


def max(input, dim=None, keepdim=False):
    """The largest value (over ``dim``); with an int ``dim``, the values only (see argmax)."""
    return _extreme(Max, tensor_of(input), dim, keepdim, 1)


def min(input, dim=None, keepdim=False):
    return _extreme(Min, tensor_of(input), dim, keepdim, -1)


def _extreme(op, t, dim, keepdim, sign):
    """``max``/``min`` over ``dim``, refusing to reduce nothing (there is no largest of nothing).

    The gradient follows PyTorch's for the form called (see ``Max``): one int dim, no dim, a tuple.
    """
    axes = reduce_axes(dim, t.ndim, op.name)
    empty = [ax for ax in axes if t.shape[ax] == 0]
    if dim is None and t.data.size == 0:
        raise RuntimeError(f"{op.name}: a tensor of shape {t.shape} has no elements, so it has no "
                           f"{op.name}imum; give dim= to reduce a dim that is not empty")
    if empty:
        raise IndexError(f"{op.name}: dim {empty[0]} of a tensor of shape {t.shape} has size 0, so "
                         f"it has no {op.name}imum; reduce a dim that is not empty")
    how = ("all" if dim is None or t.ndim == 0
           else "dim" if isinstance(dim, (int, np.integer)) else "dims")
    return op.apply(t, axes, keepdim, how, sign)


def argmax(input, dim=None, keepdim=False):
    """int64 indices of the largest values along ``dim`` (of the flattened tensor if None)."""
    return _arg(np.argmax, tensor_of(input), dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _arg(np.argmin, tensor_of(input), dim, keepdim)


def _arg(fn, t, dim, keepdim):
    """``argmax``/``argmin`` as int64 indices, outside the graph."""
    if dim is None:
        return Tensor._wrap(np.asarray(fn(t.data), dtype=np.int64))
    ax = norm_dim(dim, t.ndim, fn.__name__)
    return Tensor._wrap(fn(t.data, axis=ax, keepdims=keepdim).astype(np.int64, copy=False))


class LogSumExp(Function):
    """``log Σ exp(x)`` computed as ``m + log Σ exp(x - m)``, finite for logits of ±1000."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        m = a.max(axis=axes, keepdims=True, initial=-np.inf)  # (initial: a size-0 dim is fine)
        m = np.where(np.isfinite(m), m, 0)  # a slice of all -inf gives -inf, not nan
        out = m + np.log(np.exp(a - m).sum(axis=axes, keepdims=True))
        ctx.save_for_backward(a, out)
        ctx.axes = axes
        return out if keepdim else out.squeeze(axes)

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        return g.reshape(out.shape) * np.exp(a - out), None, None


def logsumexp(input, dim, keepdim=False):
    input = floating(input)
    return LogSumExp.apply(input, reduce_axes(dim, input.ndim, "logsumexp"), keepdim)


class Softmax(Function):
    """``softmax(x)_i = exp(x_i - m) / Σ_j exp(x_j - m)`` along ``axis`` (m the max: no overflow)."""

    @staticmethod
    def forward(ctx, a, axis):
        e = np.exp(a - a.max(axis=axis, keepdims=True, initial=-np.inf))
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return s * (g - (g * s).sum(axis=ctx.axis, keepdims=True)), None


def softmax(input, dim):
    input = floating(input)
    return Softmax.apply(input, norm_dim(dim, input.ndim, "softmax"))


class LogSoftmax(Function):
    """``log_softmax(x) = x - logsumexp(x)`` along ``axis``."""

    name = "log_softmax"

    @staticmethod
    def forward(ctx, a, axis):
        shifted = a - a.max(axis=axis, keepdims=True, initial=-np.inf)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - np.exp(out) * g.sum(axis=ctx.axis, keepdims=True), None


def log_softmax(input, dim):
    input = floating(input)
    return LogSoftmax.apply(input, norm_dim(dim, input.ndim, "log_softmax"))


# The functions above as Tensor methods (tensor.py attaches them): ``t.sum()`` is ``sum(t)``.
TENSOR_METHODS = {
    "sum": sum, "mean": mean, "max": max, "min": min, "argmax": argmax, "argmin": argmin,
    "logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax,
}
