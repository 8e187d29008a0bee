"""Sums and the softmax family (``max`` and ``min`` are in ``extrema.py``, the picking ops in
``order.py``). ``axes`` is always a tuple of non-negative axes; without ``keepdim`` the backward
puts the reduced axes back (``reduced_shape``) before broadcasting.

Each Function is followed by the function users call (``sum(input, dim=None, keepdim=False)``:
``ts.sum`` and ``t.sum()``), which turns ``dim`` into ``axes`` (``reduce_axes``).
"""
import math

import numpy as np

from ..dtypes import dtype_arg, floating, tensor_of
from ..function import Function
from ..tensor import Tensor
from ._util import norm_dim, reduced_shape


def reduce_axes(dim, ndim, op):
    """The axes a reduction over ``dim`` covers; ``None`` or ``()`` mean all of them."""
    if dim is None or (isinstance(dim, tuple) and not dim):
        return tuple(range(ndim))
    axes = tuple(norm_dim(d, ndim, op) for d in dim) if isinstance(dim, (tuple, list)) else (
        norm_dim(dim, ndim, op),)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {dim} names a dim more than once")
    return axes if ndim else ()  # dim 0 or -1 of a 0-d tensor is the tensor itself


def _tensor(saved):
    """A saved output as a Tensor. Of a 0-d input numpy computes a scalar, not the output's
    array, so the graph gives it back as it is (a constant, rightly: the softmaxes of one
    element do not depend on it)."""
    return saved if isinstance(saved, Tensor) else Tensor._wrap(np.asarray(saved))


def reduction_jvp(backward, ctx, ta, axes, keepdim):
    """The tangent of a reduction over ``axes`` in which each element of ``a`` feeds one result:
    ``Σ ∂out/∂a · t``, the slopes ``∂out/∂a`` being the op's ``backward`` of ones."""
    slope = backward(ctx, np.ones(reduced_shape(ta.shape, axes), ta.dtype))[0]
    return (slope * ta).sum(axis=axes, keepdims=keepdim)


class Sum(Function):
    linear = True
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes = a.shape, axes
        return a.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        g = g.reshape(reduced_shape(ctx.shape, ctx.axes))
        return np.broadcast_to(g, ctx.shape), None, None

    @staticmethod
    def graph_backward(ctx, g):
        return g.reshape(reduced_shape(ctx.shape, ctx.axes)).expand(ctx.shape), None, None


def sum(input, dim=None, keepdim=False):
    input = tensor_of(input)
    return Sum.apply(input, reduce_axes(dim, input.ndim, "sum"), keepdim)


class Mean(Function):
    """The sum over ``axes`` divided by the count (NaN over nothing, as torch, without numpy's
    "Mean of empty slice" warning)."""

    linear = True

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes = a.shape, axes
        ctx.count = count = math.prod([a.shape[i] for i in axes])
        return np.true_divide(a.sum(axis=axes, keepdims=keepdim), count)

    @staticmethod
    def backward(ctx, g):
        g = np.true_divide(g.reshape(reduced_shape(ctx.shape, ctx.axes)), ctx.count)
        return np.broadcast_to(g, ctx.shape), None, None

    @staticmethod
    def graph_backward(ctx, g):
        g = g.reshape(reduced_shape(ctx.shape, ctx.axes)) / ctx.count
        return g.expand(ctx.shape), None, None


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean over ``dim`` (all dims if None) of a floating tensor; an integer one is refused
    as in torch unless ``dtype`` says what to compute it in."""
    input = tensor_of(input)
    if dtype is not None:
        input = input.to(dtype_arg("mean", dtype))
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"mean: the input is {input.dtype} and mean needs a floating tensor "
                           "(as in torch); call .float() first, or give dtype=ts.float32")
    return Mean.apply(input, reduce_axes(dim, input.ndim, "mean"), keepdim)


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

    @staticmethod
    def graph_backward(ctx, g):
        """``g · softmax(a)``, the logsumexp recomputed from ``a`` as a graph (the one forward
        saved is the output itself only with ``keepdim``)."""
        a = ctx.saved_tensors[0]
        out = LogSumExp.apply(a, ctx.axes, True)
        return g.reshape(out.shape) * (a - out).exp(), None, None

    @staticmethod
    def jvp(ctx, ta, axes, keepdim):
        a, out = ctx.saved_tensors
        return (ta * np.exp(a - out)).sum(axis=axes, keepdims=keepdim)


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

    @staticmethod
    def graph_backward(ctx, g):
        s = _tensor(ctx.saved_tensors[0])  # (the output: its own graph)
        return s * (g - (g * s).sum(ctx.axis, keepdim=True)), None

    @staticmethod
    def jvp(ctx, ta, axis):
        return Softmax.backward(ctx, ta)[0]  # (the Jacobian diag(s) - s sᵀ is symmetric)


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

    @staticmethod
    def graph_backward(ctx, g):
        out = _tensor(ctx.saved_tensors[0])  # (the output: its own graph)
        return g - out.exp() * g.sum(ctx.axis, keepdim=True), None

    @staticmethod
    def jvp(ctx, ta, axis):
        """``t - Σ softmax · t``: the Jacobian ``I - 1 sᵀ`` applied to the tangent."""
        (out,) = ctx.saved_tensors
        return ta - (np.exp(out) * ta).sum(axis=axis, keepdims=True)


def log_softmax(input, dim):
    input = floating(input)
    return LogSoftmax.apply(input, norm_dim(dim, input.ndim, "log_softmax"))


# The functions above as Tensor methods (tensor.py attaches them): ``t.sum()`` is ``sum(t)``.
TENSOR_METHODS = {
    "sum": sum, "mean": mean, "logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax,
}
