"""The everyday functions of one input: ``exp``, ``log``, ``sqrt``, ``abs`` and the activations
``tanh``, ``sigmoid``, ``relu`` (more math of one input is ``unary.py``). As in torch, the smooth
ones make integers float32 (``floating``); ``abs`` and ``relu`` keep the input's dtype.

Each op's ``backward`` stands next to its ``graph_backward`` (the same gradient in Tensor ops, for
``create_graph=True``) and its ``jvp`` (forward mode: the tangent scaled by the same derivative).
Each Function is followed by the function users call (``exp(input)``: ``ts.exp`` and
``t.exp()``).
"""
import numpy as np

from ..dtypes import floating, tensor_of
from ..function import Function
from ._util import pass_where
from .unary import sign


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out

    graph_backward = backward
    jvp = backward  # (the tangent is scaled by the same derivative)


def exp(input):
    return Exp.apply(floating(input))


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)  # log 0 = -inf, log(-1) = nan, as torch

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a

    graph_backward = backward
    jvp = backward  # (the tangent is scaled by the same derivative)


def log(input):
    return Log.apply(floating(input))


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)  # inf at 0, as torch

    graph_backward = backward
    jvp = backward  # (the tangent is scaled by the same derivative)


def sqrt(input):
    return Sqrt.apply(floating(input))


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * np.subtract(a > 0, a < 0, dtype=g.dtype)  # sign, 0 at NaN as torch's sgn

    jvp = backward  # (the tangent is scaled by the same derivative)

    @staticmethod
    def graph_backward(ctx, g):
        (a,) = ctx.saved_tensors  # (``sign`` is an op of derivative 0: the gradient stays
        return g * sign(a)       # connected to ``a``, as torch's, and differentiates to 0)


def abs(input):
    return Abs.apply(tensor_of(input))


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)  # tanh' = 1 - tanh²

    graph_backward = backward
    jvp = backward  # (the tangent is scaled by the same derivative)


def tanh(input):
    return Tanh.apply(floating(input))


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        # 1 / (1 + exp(-a)) (exp(1000) = inf gives exactly 0: right), each step written into one
        # new array: the same bits as four passes with three temporaries, 3-8% faster from
        # (1, 64) to (64, 512) float32
        out = np.negative(a)
        if not a.ndim:  # (minus a 0-d array is a numpy scalar, which cannot be written into)
            out = np.asarray(out)
        np.exp(out, out)  # (``out`` given by position: numpy parses it faster than out=)
        np.add(out, 1, out)
        np.divide(1, out, out)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # σ' = σ(1 - σ), in torch's order g (1 - σ) σ, in one new array rewritten in place (not
        # three temporaries): in a W4 step (GRU) 0.93 -> 0.73 ms of CPU for its 64. (The
        # same rewrite of tanh's backward measured no faster in a training step: not done.)
        d = np.subtract(1, out, out=np.empty_like(out))
        np.multiply(d, g, out=d)
        return np.multiply(d, out, out=d)

    jvp = backward  # (the tangent is scaled by the same derivative)

    @staticmethod
    def graph_backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1 - out) * out


def sigmoid(input):
    return Sigmoid.apply(floating(input))


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.maximum(0, a)  # in this order numpy keeps -0.0 and NaN, as torch does

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return pass_where(~(a <= 0), g)  # NaN passes its gradient, as in torch

    jvp = backward  # (the tangent passes where the gradient does)

    @staticmethod
    def graph_backward(ctx, g):
        (a,) = ctx.saved_tensors
        return ReluBackward.apply(g, a)


class ReluBackward(Function):
    """Relu's gradient as an op of the gradient ``g`` and the input ``a`` (torch's
    ``threshold_backward``): ``g`` where ``a > 0`` (and where ``a`` is NaN), else 0. Its
    derivative with respect to ``a`` is zero, but it depends on ``a``: a second derivative through
    a relu alone is zeros, not "does not require grad", as in torch."""

    name = "threshold_backward"

    @staticmethod
    def forward(ctx, g, a):
        ctx.save_for_backward(a)
        return pass_where(~(a <= 0), g)

    @staticmethod
    def backward(ctx, gg):
        (a,) = ctx.saved_tensors
        return pass_where(~(a <= 0), gg), np.zeros_like(a)

    @staticmethod
    def graph_backward(ctx, gg):
        (a,) = ctx.saved_tensors
        return ReluBackward.apply(gg, a), a * 0

    @staticmethod
    def jvp(ctx, tg, ta):
        (a,) = ctx.saved_tensors
        return pass_where(~(a <= 0), tg)


def relu(input):
    return Relu.apply(tensor_of(input))


# The functions above as Tensor methods (tensor.py attaches them): ``t.exp()`` is ``exp(t)``.
TENSOR_METHODS = {
    "__abs__": abs, "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "tanh": tanh,
    "sigmoid": sigmoid, "relu": relu,
}
