"""Reductions and the softmax family. ``axes`` is always a tuple of non-negative axes; without
``keepdim`` the backward puts the reduced axes back (``reduced_shape``) before broadcasting."""
import math

import numpy as np

from ..function import Function
from ._util import pass_where, reduced_shape


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes = a.shape, axes
        return a.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(reduced_shape(ctx.shape, ctx.axes))
        return np.broadcast_to(g, ctx.shape), None, None


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


class Min(Max):
    """``min``: ``Max`` with ``sign`` -1, under its own name."""


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
