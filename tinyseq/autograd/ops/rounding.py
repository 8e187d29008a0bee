"""Integer and rounding division: ``a // b`` (``floor_divide``), ``a % b`` (``remainder``, the
sign of ``b``, as Python), ``fmod`` (the sign of ``a``, as C) and ``divide(a, b,
rounding_mode=None | "trunc" | "floor")``.

Operands broadcast and are typed as by ``+`` (integers stay integers; a float operand makes the
result float). Integer division by zero is refused, as torch refuses it. Gradients are torch's:
``remainder`` and ``fmod`` pass ``g`` to ``a`` and ``-g * quotient`` to ``b``; a rounded ``divide``
sends back zeros; ``floor_divide`` has no derivative in torch, and its backward says so.
The quotients in the gradients are piecewise constant, so they are constants in a gradient's graph
(``graph_backward``); forward mode's tangents follow torch's rules (``jvp``).
"""
import numpy as np

from ..dtypes import data_of, operands
from ..function import Function
from ..tensor import Tensor
from ._util import broadcast_error, unbroadcast
from .elementwise import binary, tangent_times, true_divide


def _check_integer_zero(op, a, b):
    """Refuse an integer division by zero (numpy would give 0 and a warning)."""
    if a.dtype.kind in "iub" and b.dtype.kind in "iub" and (b == 0).any():
        raise RuntimeError(f"{op}: integer division by zero (ZeroDivisionError in torch); make "
                           "the operands float to get inf/nan, or mask the zeros")


def _trunc_divide(a, b):
    """``a / b`` rounded toward zero: floats as ``trunc(a / b)`` (torch's kernel), integers
    exactly (no round trip through floats)."""
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return np.trunc(a / b)
    q = np.floor_divide(a, b)
    return q + ((q < 0) & (q * b != a))  # floor is one below trunc there


class FloorDivide(Function):
    """``a // b``: the quotient rounded down (Python's and torch's rule)."""

    @staticmethod
    def forward(ctx, a, b):
        _check_integer_zero("floor_divide", a, b)
        return np.floor_divide(a, b)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("floor_divide: the derivative for floor_divide is not implemented "
                           "(as in torch); use div(a, b, rounding_mode='floor'), whose gradient "
                           "is 0")

    graph_backward = backward  # (the same refusal)

    @staticmethod
    def jvp(ctx, ta, tb):
        raise RuntimeError("floor_divide: forward-mode AD is not supported for floor_divide (as "
                           "in torch); use div(a, b, rounding_mode='floor'), whose tangent is 0")


def floor_divide(input, other):
    return binary(FloorDivide, input, other)


class Remainder(Function):
    """``a - floor(a / b) * b``: the sign of ``b``, as Python's ``%``."""

    @staticmethod
    def forward(ctx, a, b):
        _check_integer_zero("remainder", a, b)
        ctx.save_for_backward(a, b)
        return np.remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gb = None
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(-g * np.floor_divide(a, b), b.shape)
        return unbroadcast(g, a.shape), gb

    @staticmethod
    def graph_backward(ctx, g):
        a, b = ctx.saved_tensors  # (the quotient is piecewise constant: a constant here)
        gb = None
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(-g * np.floor_divide(a._data, b._data), b.shape)
        return unbroadcast(g, a.shape), gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return ta - tangent_times(tb, np.floor_divide(a, b))


class NumberRemainder(Remainder):
    """``number % tensor``: torch has no derivative for it, and its backward says so."""

    name = "remainder"

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("remainder: the derivative of a number % a tensor is not implemented "
                           "(as in torch); make the number a tensor: ts.tensor(x) % t")

    graph_backward = backward  # (the same refusal)

    @staticmethod
    def jvp(ctx, ta, tb):
        raise RuntimeError("remainder: forward-mode AD of a number % a tensor is not supported "
                           "(as in torch); make the number a tensor: ts.tensor(x) % t")


def remainder(input, other):
    """``input % other``, the sign of ``other`` (Python's ``%``)."""
    number = not isinstance(input, Tensor) and np.ndim(input) == 0
    return binary(NumberRemainder if number else Remainder, input, other)


class Fmod(Function):
    """``a - trunc(a / b) * b``: the sign of ``a``, as C's ``fmod``."""

    @staticmethod
    def forward(ctx, a, b):
        _check_integer_zero("fmod", a, b)
        ctx.save_for_backward(a, b)
        return np.fmod(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gb = unbroadcast(-g * _trunc_divide(a, b), b.shape) if ctx.needs_input_grad[1] else None
        return unbroadcast(g, a.shape), gb

    @staticmethod
    def graph_backward(ctx, g):
        a, b = ctx.saved_tensors  # (the quotient is piecewise constant: a constant here)
        gb = None
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(-g * _trunc_divide(a._data, b._data), b.shape)
        return unbroadcast(g, a.shape), gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return ta - tangent_times(tb, _trunc_divide(a, b))


def fmod(input, other):
    return binary(Fmod, input, other)


class RoundedDivide(Function):
    """``a / b`` rounded toward zero (``mode`` "trunc") or down ("floor"); gradient 0, as torch."""

    name = "div"

    @staticmethod
    def forward(ctx, a, b, mode):
        _check_integer_zero("div", a, b)
        ctx.shapes = a.shape, b.shape
        return np.floor_divide(a, b) if mode == "floor" else _trunc_divide(a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return np.zeros(sa, g.dtype), np.zeros(sb, g.dtype), None

    @staticmethod
    def graph_backward(ctx, g):
        sa, sb = ctx.shapes  # (constants, as torch's zeros)
        return np.zeros(sa, g._data.dtype), np.zeros(sb, g._data.dtype), None

    @staticmethod
    def jvp(ctx, ta, tb, mode):
        return np.zeros(np.broadcast_shapes(ctx.shapes[0], ctx.shapes[1]), ta.dtype)


def div(input, other, *, rounding_mode=None):
    """``input / other`` (float, as ``/``), or rounded: ``rounding_mode="trunc"`` toward zero,
    ``"floor"`` down; the rounded modes keep integers integers, as torch."""
    if rounding_mode is None:
        return true_divide(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                           f"{rounding_mode!r}")
    a, b = operands(input, other)
    try:
        return RoundedDivide.apply(a, b, rounding_mode)
    except ValueError:
        raise broadcast_error("div", np.shape(data_of(a)), np.shape(data_of(b))) from None


def divide(input, other, *, rounding_mode=None):
    """``torch.divide``: ``div`` under its other name."""
    return div(input, other, rounding_mode=rounding_mode)


def rounded_divide(input, other, rounding_mode):
    """``div`` with ``rounding_mode`` positional, for ``div_``."""
    return div(input, other, rounding_mode=rounding_mode)


def floor_divide_reflected(self, other):
    """``other // self`` for a number ``other`` (Python's ``__rfloordiv__``)."""
    return floor_divide(other, self)


def remainder_reflected(self, other):
    """``other % self`` for a number ``other`` (Python's ``__rmod__``)."""
    return remainder(other, self)


# The functions above as Tensor methods (tensor.py attaches them): ``a // b``, ``a % b``.
TENSOR_METHODS = {
    "floor_divide": floor_divide, "remainder": remainder, "fmod": fmod, "div": div, "divide": divide,
    "__floordiv__": floor_divide, "__rfloordiv__": floor_divide_reflected,
    "__mod__": remainder, "__rmod__": remainder_reflected,
}
