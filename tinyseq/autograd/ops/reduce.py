"""Reductions and the softmax family. ``axes`` is always a tuple of non-negative axes; without
``keepdim`` the backward puts the reduced axes back (``reduced_shape``) before broadcasting."""
import numpy as np

from ..function import Function
from ._util import reduced_shape


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
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes = a.shape, axes
        return a.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        count = np.prod([ctx.shape[i] for i in ctx.axes], dtype=np.int64)
        g = g.reshape(reduced_shape(ctx.shape, ctx.axes)) / np.asarray(count, dtype=g.dtype)
        return np.broadcast_to(g, ctx.shape), None, None


class Max(Function):
    """``max``/``min`` (``sign`` -1 for min) over ``axes``.

    Over a single ``dim`` the gradient goes to the one element ``argmax`` picks (``torch.max(x, dim)``);
    over all dims or a tuple it is shared evenly between tied elements (``torch.amax``).
    """

    @staticmethod
    def forward(ctx, a, axes, keepdim, single, sign):
        out = a.max(axis=axes, keepdims=True) if sign > 0 else a.min(axis=axes, keepdims=True)
        if single:  # one-hot at the picked index
            ax = axes[0]
            pick = a.argmax(axis=ax) if sign > 0 else a.argmin(axis=ax)
            ctx.mask = np.zeros(a.shape, dtype=a.dtype)
            np.put_along_axis(ctx.mask, np.expand_dims(pick, ax), 1, axis=ax)
        else:
            mask = a == out
            ctx.mask = mask / mask.sum(axis=axes, keepdims=True, dtype=a.dtype)
        ctx.keep_shape = out.shape
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape) if i not in axes])

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.keep_shape) * ctx.mask, None, None, None, None


class Min(Max):
    """``min``: ``Max`` with ``sign`` -1, under its own name."""


class LogSumExp(Function):
    """``log Σ exp(x)`` computed as ``m + log Σ exp(x - m)``, finite for logits of ±1000."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        m = a.max(axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # a slice of all -inf gives -inf, not nan
        with np.errstate(divide="ignore"):
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
        e = np.exp(a - a.max(axis=axis, keepdims=True))
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
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - np.exp(out) * g.sum(axis=ctx.axis, keepdims=True), None
