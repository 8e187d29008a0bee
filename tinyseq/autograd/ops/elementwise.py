"""Elementwise arithmetic: ``+ - * / **`` and negation (``add``, ``sub``, ``mul``,
``true_divide``, ``pow``, ``neg``). Binary ops broadcast as numpy does and sum their gradients back
to each input's shape (``unbroadcast``); ``binary`` applies one, naming it and both shapes if they
do not broadcast. Forwards and backwards run with numpy's floating-point warnings off
(``Function.apply`` and the backward walk see to it): Inf and NaN are values, as in torch.
Each op's gradient is also written in Tensor ops (``graph_backward``: where ``backward`` has
numpy selects, the masks are constants and the values Tensors) and has its tangent rule (``jvp``,
or ``linear``), so every order and forward mode go through these ops.

The functions of one input (``exp``, ``log``, ``tanh``, ...) are ``activations.py``; ``clamp``,
``where``, ``masked_fill``, the comparisons, ``to`` and ``clone`` are ``selection.py``.

Each Function is followed by the function users call (``mul(input, other)``: ``ts.mul``,
``t.mul()`` and ``a * b``), which types the arguments as PyTorch does (``dtypes``) and names the
op and the shapes in its errors.
"""
import numpy as np

from ..dtypes import data_of, operands
from ..function import Function
from ._util import broadcast_error, unbroadcast
from .activations import log
from .selection import to, where


def binary(op, a, b):
    """Apply the binary elementwise ``op``, naming it and both shapes if they do not broadcast."""
    a, b = operands(a, b)
    try:
        return op.apply(a, b)
    except ValueError:
        sa, sb = np.shape(data_of(a)), np.shape(data_of(b))
        try:
            np.broadcast_shapes(sa, sb)
        except ValueError:
            raise broadcast_error(op.name, sa, sb) from None
        raise


def tangent_times(tangent, derivative):
    """``tangent * derivative`` (forward mode's product), exactly 0 where the tangent is all
    zeros, as torch's zero tangents are: the argument carries none, so an inf or NaN in the
    derivative (``log a`` at a < 0 in ``a ** b``) does not leak into the result's tangent."""
    if np.any(tangent):
        return tangent * derivative
    shape = np.broadcast_shapes(np.shape(tangent), np.shape(derivative))
    return np.zeros(shape, np.result_type(tangent, derivative))


class Add(Function):
    linear = True  # (forward mode: the op of the tangents is their tangent)
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a + b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return unbroadcast(g, sa), unbroadcast(g, sb)

    graph_backward = backward  # (the same on Tensors: a gradient that is a graph)


def add(input, other, alpha=1):
    """``input + alpha * other``, as ``torch.add``."""
    return binary(Add, input, other if alpha == 1 else _scaled("add", input, other, alpha))


class Sub(Function):
    linear = True  # (forward mode: the op of the tangents is their tangent)
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a - b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return unbroadcast(g, sa), (unbroadcast(-g, sb) if ctx.needs_input_grad[1] else None)

    graph_backward = backward


def sub(input, other, alpha=1):
    """``input - alpha * other``, as ``torch.sub``."""
    return binary(Sub, input, other if alpha == 1 else _scaled("sub", input, other, alpha))


def _scaled(op, input, other, alpha):
    """``alpha * other``; a float ``alpha`` is refused for integer operands, as torch does."""
    kinds = {np.asarray(data_of(x)).dtype.kind for x in operands(input, other)}
    if not kinds & {"f"} and isinstance(alpha, (float, np.floating)):
        raise RuntimeError(f"{op}: alpha={alpha!r} is a float but the operands are integers; "
                           "give an int alpha or make the tensors float")
    return mul(other, alpha)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = unbroadcast(g * b, a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(g * a, b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb

    graph_backward = backward

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return tangent_times(ta, b) + tangent_times(tb, a)


def mul(input, other):
    return binary(Mul, input, other)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        out = a / b
        return out if a.dtype.kind == "f" or b.dtype.kind == "f" else out.astype(np.float32)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = unbroadcast(g / b, a.shape) if ctx.needs_input_grad[0] else None
        # (in torch's order: a / b / b is 0, not NaN, where b * b underflows to 0)
        gb = unbroadcast(-g * (a / b / b), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb

    graph_backward = backward

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return (ta - tangent_times(tb, a / b)) / b  # (torch's rule: (ȧ - ḃ out) / b)


def true_divide(input, other):
    """``input / other``, always a float (``ts.div`` also rounds: ops/rounding.py)."""
    return binary(Div, input, other)


class Pow(Function):
    """``a ** b`` with a Tensor exponent (or base): C's ``pow`` elementwise, as in torch."""

    @staticmethod
    def forward(ctx, a, b):
        _refuse_negative_int_powers(a, b)
        out = _pow(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        a, b = a.astype(out.dtype, copy=False), b.astype(out.dtype, copy=False)  # full precision
        ga = gb = None
        if ctx.needs_input_grad[0]:  # d(a^b)/da = b a^(b-1), exactly 0 where b = 0 (a select)
            ga = unbroadcast(np.where(b == 0, np.zeros((), g.dtype), g * (b * _pow(a, b - 1))),
                             a.shape)
        if ctx.needs_input_grad[1]:  # d(a^b)/db = a^b log a, taken as 0 where a = 0 and b >= 0
            dlog = np.where((a == 0) & (b >= 0), 0, out * np.log(a))
            gb = unbroadcast(g * dlog, b.shape)
        return ga, gb

    @staticmethod
    def graph_backward(ctx, g):
        """``backward``'s two selects in Tensor ops: ``b a^(b-1)`` and ``a^b log a`` depend on
        ``a``, ``b`` and the output, so the gradient is differentiable in all three."""
        a, b, out = ctx.saved_tensors
        a, b = to(a, out._data.dtype), to(b, out._data.dtype)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = where(b._data == 0, 0.0, g * (b * pow(a, b - 1)))
        if ctx.needs_input_grad[1]:
            gb = g * where((a._data == 0) & (b._data >= 0), 0.0, out * log(a))
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b, out = ctx.saved_tensors
        a, b = a.astype(out.dtype, copy=False), b.astype(out.dtype, copy=False)
        da = np.where(b == 0, 0, b * _pow(a, b - 1))
        db = np.where((a == 0) & (b >= 0), 0, out * np.log(a))
        return tangent_times(ta, da) + tangent_times(tb, db)


class PowScalar(Function):
    """``a ** b`` with a number ``b`` (a 0-d array here), with torch's kernels for the exponents
    it computes otherwise than ``pow`` (``_power``); the gradient is exactly 0 for ``b = 0``."""

    name = "pow"

    @staticmethod
    def forward(ctx, a, b):
        _refuse_negative_int_powers(a, b)
        ctx.save_for_backward(a, b)
        return _power(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if b == 0:
            return np.zeros(a.shape, dtype=g.dtype), None
        return g * (b * _power(a.astype(g.dtype, copy=False), b - 1)), None

    @staticmethod
    def graph_backward(ctx, g):
        a, b = ctx.saved_tensors  # (b: the exponent, a constant 0-d tensor)
        e = b.item()
        if e == 0:
            return np.zeros(a.shape, dtype=g._data.dtype), None
        return g * (e * pow(a, e - 1)), None

    @staticmethod
    def jvp(ctx, ta, tb):
        return PowScalar.backward(ctx, ta)[0]  # (the exponent is a number: no tangent)


def pow(input, exponent):
    """``input ** exponent``; a number exponent takes torch's kernels for it (``PowScalar``)."""
    scalar = isinstance(exponent, (int, float, np.number))
    return binary(PowScalar if scalar else Pow, input, exponent)


def _refuse_negative_int_powers(a, e):
    """Integers to a negative integer power are not integers: refused (torch refuses a number
    exponent; it makes 0 of all but 1 and -1 for a tensor one, which tinyseq does not copy)."""
    if a.dtype.kind in "iub" and e.dtype.kind in "iu" and e.size and e.min() < 0:
        raise RuntimeError(f"pow: integers to negative integer powers are not allowed (exponent "
                           f"{e.min()}); make the base float, e.g. x.to(ts.float32) ** e")


def _pow(a, e):
    """``np.power(a, e)``, but ``pow`` also where numpy takes ``sqrt`` for an exponent 0.5 that
    broadcasts (it gives -0.0 and NaN at -0.0 and -inf, ``pow`` and torch 0.0 and inf)."""
    out = np.power(a, e)
    if e.size == 1 and e.dtype.kind == "f" and e.flat[0] == 0.5:
        out = np.where(np.isneginf(a), np.inf, out) + 0.0
    return out


def _power(a, e):
    """``a ** e`` for a number ``e`` as torch's CPU kernel computes it: ``sqrt``, ``1 / sqrt``,
    ``1 / a``, ``a * a``, ``a * a * a`` and ``1 / (a * a)`` for the exponents 0.5, -0.5, -1, 2, 3,
    -2, else ``pow``. They differ from ``pow`` at -0.0 and -inf (-0.5: -inf and NaN, not inf and
    0; 0.5: -0.0 and NaN, not 0.0 and inf) or in the last bit (3, -2). Integers: ``pow``."""
    if a.dtype.kind != "f":
        return a ** e
    if e == -0.5:
        return 1 / np.sqrt(a)
    if e == 3:
        return a * a * a
    if e == -2:
        return 1 / (a * a)
    return a ** e  # numpy's own kernels for 0.5, -1 and 2 are torch's


class Neg(Function):
    linear = True  # (forward mode: the op of the tangents is their tangent)
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g

    graph_backward = backward


def neg(input):
    return Neg.apply(input)


# The functions above that are also Tensor methods (tensor.py attaches them): ``a + b`` is
# ``add(a, b)``, ``t.mul(x)`` is ``mul(t, x)``.
TENSOR_METHODS = {
    "__add__": add, "__sub__": sub, "__mul__": mul, "__truediv__": true_divide, "__pow__": pow,
    "__neg__": neg, "pow": pow, "add": add, "sub": sub, "mul": mul, "true_divide": true_divide,
    "neg": neg,
}
