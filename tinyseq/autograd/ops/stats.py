"""Spread: ``var``, ``std``, ``var_mean``, ``std_mean``, with torch 2.13's arguments:
``var(input, dim=None, *, correction=1, keepdim=False)`` and the older ``unbiased`` flag
(``x.var(0, False)``, ``x.var(False)``).

The divisor is ``max(0, N - correction)``, N the number of elements reduced: NaN or inf when it
is 0, as in torch. The gradient of ``std`` is 0 where ``std`` is 0 (torch's choice), not NaN.
"""
import math
import warnings

import numpy as np

from ..dtypes import tensor_of
from ..function import Function
from ._util import reduced_shape
from .reduce import mean, reduce_axes, reduction_jvp
from .selection import where


def _centred(a, axes):
    """``a - mean`` over ``axes``, and the divisor's N."""
    n = math.prod([a.shape[i] for i in axes])
    if n == 0:  # (NaN, without numpy's "Mean of empty slice": torch's own warning is var's)
        return np.full_like(a, np.nan), n
    return a - a.mean(axis=axes, keepdims=True), n


class Var(Function):
    """``Σ (x - mean)² / max(0, N - correction)``; d/dx = ``2 (x - mean) / divisor``."""

    @staticmethod
    def forward(ctx, a, axes, correction, keepdim):
        d, n = _centred(a, axes)
        ctx.divisor = max(0, n - correction)
        ctx.save_for_backward(d, a)  # (a: for graph_backward, which recomputes d from it)
        ctx.axes = axes
        return np.true_divide((d * d).sum(axis=axes, keepdims=keepdim), ctx.divisor)

    @staticmethod
    def backward(ctx, g):
        d = ctx.saved_tensors[0]
        g = g.reshape(reduced_shape(d.shape, ctx.axes))
        return g * (2 * d / ctx.divisor), None, None, None

    @staticmethod
    def graph_backward(ctx, g):
        """``backward`` as a graph: ``d`` recomputed from ``a`` (the saved one is a constant)."""
        a = ctx.saved_tensors[1]
        d = a - a.mean(ctx.axes, keepdim=True)
        return g.reshape(reduced_shape(a.shape, ctx.axes)) * (2 * d / ctx.divisor), None, None, None

    @staticmethod
    def jvp(ctx, ta, axes, correction, keepdim):
        return reduction_jvp(Var.backward, ctx, ta, axes, keepdim)


class Std(Function):
    """``sqrt(var)``; d/dx = ``(x - mean) / (divisor * std)``, 0 where ``std`` is 0."""

    @staticmethod
    def forward(ctx, a, axes, correction, keepdim):
        d, n = _centred(a, axes)
        ctx.divisor = max(0, n - correction)
        out = np.sqrt(np.true_divide((d * d).sum(axis=axes, keepdims=True), ctx.divisor))
        ctx.save_for_backward(d, out, a)  # (a: for graph_backward, which recomputes d, out)
        return out if keepdim else out.squeeze(axes)

    @staticmethod
    def backward(ctx, g):
        d, out = ctx.saved_tensors[:2]
        scale = np.where(out == 0, 0, np.true_divide(g.reshape(out.shape), out * ctx.divisor))
        return scale * d, None, None, None

    @staticmethod
    def graph_backward(ctx, g):
        """``backward`` as a graph: ``d`` and ``std`` recomputed from ``a`` (the saved ones are
        constants). The axes are those ``out`` (kept dims) has of size 1: reducing a dim of size
        1 too changes nothing. A zero ``std`` is replaced by 1 before it divides, so that the
        unused branch is finite and its gradient 0."""
        _, kept, a = ctx.saved_tensors
        axes = tuple(i for i, n in enumerate(kept.shape) if n == 1)
        count = math.prod([a.shape[i] for i in axes])
        out = Std.apply(a, axes, count - ctx.divisor, True)  # (count - divisor: the correction)
        d, zero = a - a.mean(axes, keepdim=True), out._data == 0
        scale = where(zero, 0.0, g.reshape(out.shape) / (where(zero, 1.0, out) * ctx.divisor))
        return scale * d, None, None, None

    @staticmethod
    def jvp(ctx, ta, axes, correction, keepdim):
        return reduction_jvp(Std.backward, ctx, ta, axes, keepdim)


def _correction(op, unbiased, correction):
    """The divisor's correction from ``unbiased`` (True: 1, False: 0) or ``correction``."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: give unbiased or correction, not both (unbiased=True is "
                        "correction=1)")
    if unbiased is not None:
        if not isinstance(unbiased, (bool, np.bool_)):
            raise TypeError(f"{op}: unbiased must be a bool, got {unbiased!r}")
        return int(unbiased)
    if correction is None:
        return 1
    if isinstance(correction, bool) or not isinstance(correction, (int, float, np.number)):
        raise TypeError(f"{op}: correction must be a number, got {correction!r}")
    return correction


def _spread(op, cls, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, (bool, np.bool_)):  # ``x.var(False)``: the old (input, unbiased) form
        dim, unbiased = None, dim
    x = tensor_of(input)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: std and var only support floating-point tensors, got "
                           f"{x._data.dtype}; convert with .float()")
    axes = reduce_axes(dim, x.ndim, op)
    correction = _correction(op, unbiased, correction)
    if math.prod([x.shape[i] for i in axes]) - correction <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0 (correction {correction} for "
                      f"{math.prod([x.shape[i] for i in axes])} elements): the result is NaN or "
                      "inf, as in torch", UserWarning, stacklevel=3)
    return cls.apply(x, axes, correction, keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The variance over ``dim`` (an int, a tuple, or None for all), divided by
    ``N - correction`` (1 unless ``correction=`` or ``unbiased=False`` says otherwise)."""
    return _spread("var", Var, input, dim, unbiased, keepdim, correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The standard deviation: ``sqrt(var(...))`` with the same arguments."""
    return _spread("std", Std, input, dim, unbiased, keepdim, correction)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``, as torch.var_mean."""
    if isinstance(dim, (bool, np.bool_)):
        dim, unbiased = None, dim
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``, as torch.std_mean."""
    if isinstance(dim, (bool, np.bool_)):
        dim, unbiased = None, dim
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


# The functions above as Tensor methods (tensor.py attaches them).
TENSOR_METHODS = {"var": var, "std": std}
