"""More elementwise math, one input each: ``sin``, ``cos``, ``rsqrt``, ``reciprocal``, ``square``,
``log1p``, ``expm1``, ``log2``, ``log10``, and the step functions ``floor``, ``ceil``, ``round``,
``trunc``, ``sign`` (their gradient is 0 everywhere, as in torch: a node that sends back zeros).

As in torch, the smooth ones make integers float32 (``floating``); ``square`` keeps integers
(bools become int64); the step functions return a copy of an integer tensor and refuse bools.
Each Function is followed by the function users call (``ts.sin`` and ``t.sin()``).
"""
import math

import numpy as np

from ..dtypes import floating, tensor_of
from ..function import Function
from ..tensor import Tensor


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * np.cos(a)

    jvp = backward  # (the tangent is scaled by the same derivative)

    @staticmethod
    def graph_backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * cos(a)


def sin(input):
    return Sin.apply(floating(input))


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return -g * np.sin(a)

    jvp = backward  # (the tangent is scaled by the same derivative)

    @staticmethod
    def graph_backward(ctx, g):
        (a,) = ctx.saved_tensors
        return -g * sin(a)


def cos(input):
    return Cos.apply(floating(input))


class Rsqrt(Function):
    """``1 / sqrt(a)``; its derivative is ``-out³ / 2``."""

    @staticmethod
    def forward(ctx, a):
        out = 1 / np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (-0.5 * out * out * out)

    graph_backward = backward  # (Tensor arithmetic as written: a gradient that is a graph)
    jvp = backward  # (the tangent is scaled by the same derivative)


def rsqrt(input):
    return Rsqrt.apply(floating(input))


class Reciprocal(Function):
    """``1 / a``; its derivative is ``-out²``."""

    @staticmethod
    def forward(ctx, a):
        out = 1 / a
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return -g * (out * out)

    graph_backward = backward  # (Tensor arithmetic as written: a gradient that is a graph)
    jvp = backward  # (the tangent is scaled by the same derivative)


def reciprocal(input):
    return Reciprocal.apply(floating(input))


class Square(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (2 * a)

    graph_backward = backward  # (Tensor arithmetic as written: a gradient that is a graph)
    jvp = backward  # (the tangent is scaled by the same derivative)


def square(input):
    """``input * input``; integers stay integers (bools become int64), as in torch."""
    x = tensor_of(input)
    if x._data.dtype == np.bool_:
        x = Tensor._wrap(x._data.astype(np.int64))
    return Square.apply(x)


class Log1p(Function):
    """``log(1 + a)``, accurate for small ``a``."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log1p(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (1 + a)

    graph_backward = backward  # (Tensor arithmetic as written: a gradient that is a graph)
    jvp = backward  # (the tangent is scaled by the same derivative)


def log1p(input):
    return Log1p.apply(floating(input))


class Expm1(Function):
    """``exp(a) - 1``, accurate for small ``a``; its derivative is ``out + 1``."""

    @staticmethod
    def forward(ctx, a):
        out = np.expm1(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (out + 1)

    graph_backward = backward  # (Tensor arithmetic as written: a gradient that is a graph)
    jvp = backward  # (the tangent is scaled by the same derivative)


def expm1(input):
    return Expm1.apply(floating(input))


class Log2(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log2(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (a * math.log(2))

    graph_backward = backward  # (Tensor arithmetic as written: a gradient that is a graph)
    jvp = backward  # (the tangent is scaled by the same derivative)


def log2(input):
    return Log2.apply(floating(input))


class Log10(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log10(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (a * math.log(10))

    graph_backward = backward  # (Tensor arithmetic as written: a gradient that is a graph)
    jvp = backward  # (the tangent is scaled by the same derivative)


def log10(input):
    return Log10.apply(floating(input))


# ---- step functions: piecewise constant, so a gradient of 0 (torch records them all the same) --
class Step(Function):
    """The shared backward of the step functions: zeros of the gradient's shape (a constant in
    a gradient's graph too, as torch's ``zeros_like(grad)``), and zeros for a tangent."""

    @staticmethod
    def backward(ctx, g):
        return np.zeros_like(g)

    @staticmethod
    def graph_backward(ctx, g):
        return np.zeros_like(g._data)

    jvp = backward


class Floor(Step):
    @staticmethod
    def forward(ctx, a):
        return np.floor(a) if a.dtype.kind == "f" else a.copy()


class Ceil(Step):
    @staticmethod
    def forward(ctx, a):
        return np.ceil(a) if a.dtype.kind == "f" else a.copy()


class Trunc(Step):
    @staticmethod
    def forward(ctx, a):
        return np.trunc(a) if a.dtype.kind == "f" else a.copy()


class Round(Step):
    """To the nearest integer, ties to even (``decimals``: of ``10 ** -decimals``)."""

    @staticmethod
    def forward(ctx, a, decimals):
        return np.round(a, decimals) if a.dtype.kind == "f" else a.copy()

    @staticmethod
    def backward(ctx, g):
        return np.zeros_like(g), None

    @staticmethod
    def graph_backward(ctx, g):
        return np.zeros_like(g._data), None

    @staticmethod
    def jvp(ctx, ta, decimals):
        return np.zeros_like(ta)


class Sign(Step):
    """-1, 0 or 1 (0 at NaN and at -0.0, as torch's ``(0 < a) - (a < 0)``); bools stay bools."""

    @staticmethod
    def forward(ctx, a):
        if a.dtype == np.bool_:
            return a.copy()
        return np.subtract(a > 0, a < 0, dtype=a.dtype)


def _step_input(op, input):
    """A step function's input: any tensor but a bool one (torch has no kernel for it)."""
    x = tensor_of(input)
    if x._data.dtype == np.bool_:
        raise NotImplementedError(f"{op}: not implemented for bool tensors (as in torch); "
                                  "convert first, e.g. x.to(ts.int64)")
    return x


def floor(input):
    return Floor.apply(_step_input("floor", input))


def ceil(input):
    return Ceil.apply(_step_input("ceil", input))


def trunc(input):
    return Trunc.apply(_step_input("trunc", input))


def round(input, *, decimals=0):
    """To the nearest integer, halves to even; ``decimals=d`` rounds to a multiple of
    ``10 ** -d`` (d may be negative), floats only, as in torch."""
    return round_to(input, decimals)


def round_to(input, decimals):
    """``round`` with ``decimals`` positional, for ``round_``."""
    x = _step_input("round", input)
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__} "
                        f"{decimals!r}")
    if decimals and x._data.dtype.kind != "f":
        raise NotImplementedError(f"round: decimals={decimals} needs a float tensor, got "
                                  f"{x._data.dtype} (as in torch); convert first with .float()")
    return Round.apply(x, int(decimals))


def sign(input):
    return Sign.apply(tensor_of(input))


# The functions above as Tensor methods (tensor.py attaches them).
TENSOR_METHODS = {
    "sin": sin, "cos": cos, "rsqrt": rsqrt, "reciprocal": reciprocal, "square": square,
    "log1p": log1p, "expm1": expm1, "log2": log2, "log10": log10, "floor": floor, "ceil": ceil,
    "trunc": trunc, "round": round, "sign": sign,
}
