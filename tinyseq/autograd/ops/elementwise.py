"""Elementwise ops. Binary ops broadcast as numpy does and sum their gradients back to each input's
shape (``unbroadcast``). Forwards and backwards run with numpy's floating-point warnings off
(``Function.apply`` and the backward walk see to it): Inf and NaN are values, as in torch.
Each op's gradient is also written in Tensor ops (``graph_backward``: where ``backward`` has
numpy selects, the masks are constants and the values Tensors) and has its tangent rule (``jvp``,
or ``linear``), so every order and forward mode go through these ops.

Each Function is followed by the function users call (``exp(input)``: ``ts.exp`` and
``t.exp()``), which types the arguments as PyTorch does (``dtypes``) and names the op and the
shapes in its errors.
"""
import math

import numpy as np

from ..device import to_args
from ..dtypes import (DEFAULT_FLOAT, data_of, dtype_arg, floating, joined_dtype, operands,
                      tensor_of)
from ..function import Function
from ..tensor import Tensor
from ._util import broadcast_error, pass_where, unbroadcast
from .unary import sign


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
        return where(~(a._data <= 0), g, 0.0)  # (a select, as backward's: inf stays out)


def relu(input):
    return Relu.apply(tensor_of(input))


class Clamp(Function):
    """``clamp(min, max)``; each bound is None, a number or an array. As in PyTorch, the gradient
    goes to ``x`` where ``min <= x <= max``, to ``min`` where ``x < min < max``, to ``max`` where
    ``x > max`` or ``max < min`` (so none goes anywhere from a NaN ``x``)."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.save_for_backward(a, lo, hi)
        return clamp_values(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.saved_tensors
        keep = np.ones(g.shape, dtype=bool)
        if lo is not None:
            keep &= a >= lo
        if hi is not None:
            keep &= a <= hi
        needs = ctx.needs_input_grad
        glo = ghi = None
        if needs[1]:
            low = (a < lo) if hi is None else (a < lo) & (lo < hi)
            glo = unbroadcast(pass_where(low, g), np.shape(lo))
        if needs[2]:
            high = (a > hi) if lo is None else (a > hi) | (hi < lo)
            ghi = unbroadcast(pass_where(high, g), np.shape(hi))
        return unbroadcast(pass_where(keep, g), a.shape), glo, ghi

    @staticmethod
    def graph_backward(ctx, g):
        """``backward``'s selects in Tensor ops (the masks are constants)."""
        a, lo, hi = (data_of(x) for x in ctx.saved_tensors)
        keep, low, high = _clamp_masks(a, lo, hi)
        needs = ctx.needs_input_grad
        glo = unbroadcast(where(low, g, 0.0), np.shape(lo)) if needs[1] else None
        ghi = unbroadcast(where(high, g, 0.0), np.shape(hi)) if needs[2] else None
        return unbroadcast(where(keep, g, 0.0), a.shape), glo, ghi

    @staticmethod
    def jvp(ctx, ta, tlo, thi):
        """torch's two rules: with number bounds the tangent passes where the gradient does;
        with Tensor bounds each element takes the tangent of what it equals (``clamp_jvp``)."""
        a, lo, hi = ctx.saved_tensors
        if not isinstance(lo, np.ndarray) and not isinstance(hi, np.ndarray):
            return np.where(_clamp_masks(a, lo, hi)[0], ta, 0)
        tlo = tlo if isinstance(lo, np.ndarray) else 0  # (a number bound: no tangent)
        thi = thi if isinstance(hi, np.ndarray) else 0
        if lo is None:
            return np.where(a < hi, ta, thi)
        if hi is None:
            return np.where(a > lo, ta, tlo)
        return np.where(lo > hi, thi, np.where(a < lo, tlo, np.where(a > hi, thi, ta)))


def _clamp_masks(a, lo, hi):
    """Where clamp's gradient goes, as ``Clamp.backward`` sends it: ``(keep, low, high)``
    masks of the elements whose value is ``a``'s, ``lo``'s, ``hi``'s (None for no bound)."""
    keep = np.ones(np.broadcast_shapes(*(np.shape(x) for x in (a, lo, hi) if x is not None)),
                   dtype=bool)
    if lo is not None:
        keep &= a >= lo
    if hi is not None:
        keep &= a <= hi
    low = None if lo is None else (a < lo) if hi is None else (a < lo) & (lo < hi)
    high = None if hi is None else (a > hi) if lo is None else (a > hi) | (hi < lo)
    return keep, low, high


def clamp(input, min=None, max=None):
    """Values below ``min`` become ``min``, above ``max`` become ``max`` (numbers, or Tensors
    that broadcast with ``input`` and get their gradient where they win, as in torch)."""
    x = tensor_of(input)
    _check_bounds("clamp", min, max)
    if x._data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        x = to(x, DEFAULT_FLOAT)  # integers and a float bound: float32, as in torch
    bounds = [b for b in (min, max) if isinstance(b, Tensor)]
    if bounds:  # Tensor bounds join x's dtype as PyTorch joins them (int64 and float32: float32)
        dtype = joined_dtype(x._data.dtype, *(b._data.dtype for b in bounds))
        x, min, max = (b if not isinstance(b, Tensor) or b._data.dtype == dtype else to(b, dtype)
                       for b in (x, min, max))
    try:
        return Clamp.apply(x, min, max)
    except ValueError:
        raise broadcast_error("clamp", x._data.shape, *_bound_shapes(min, max)) from None


def _check_bounds(op, lo, hi):
    """``clamp``'s bounds: at least one, each None, a number or a Tensor."""
    if lo is None and hi is None:
        raise ValueError(f"{op}: give at least one of min and max")
    for name, bound in (("min", lo), ("max", hi)):
        if not isinstance(bound, (type(None), int, float, np.number, Tensor)):
            raise TypeError(f"{op}: {name} must be a number or a Tensor, got "
                            f"{type(bound).__name__}")


def _bound_shapes(lo, hi):
    return [np.shape(data_of(b)) for b in (lo, hi) if b is not None]


def clamp_values(a, lo, hi):
    """``a`` clamped to ``[lo, hi]`` as torch does it with number bounds: ``max`` with ``lo``,
    then ``min`` with ``hi``, each keeping its input unless it is strictly beyond the bound, NaN
    where a bound is NaN. Only the sign of a zero tells that from ``np.clip``, which gives the
    bound: at a zero bound (or a Tensor one), numpy's ``maximum`` and ``minimum`` run with the
    bound first, as they return their second operand when both are equal (as relu's 0). (With
    Tensor bounds torch's own vector and scalar loops differ on such ties.)"""
    if not (_maybe_zero(lo) or _maybe_zero(hi)):
        return np.clip(a, lo, hi)  # one pass
    out = a if lo is None else np.maximum(lo, a)
    return out if hi is None else np.minimum(hi, out)


def _maybe_zero(bound):
    return bound == 0 if isinstance(bound, (int, float)) else bound is not None


class Where(Function):
    """``where(cond, a, b)``: ``a`` where ``cond`` holds, else ``b``; ``cond`` gets no gradient."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        ctx.shapes = a.shape, b.shape
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        zero = np.zeros((), dtype=g.dtype)
        ga = unbroadcast(np.where(cond, g, zero), sa) if ctx.needs_input_grad[1] else None
        gb = unbroadcast(np.where(cond, zero, g), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb

    linear = True  # in ``a`` and ``b`` (forward mode: ``cond``, bools, arrives as it is)

    @staticmethod
    def graph_backward(ctx, g):
        (cond,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        ga = unbroadcast(where(cond, g, 0.0), sa) if ctx.needs_input_grad[1] else None
        gb = unbroadcast(where(cond, 0.0, g), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb


def where(condition, input, other):
    """``input`` where ``condition`` (bool) holds, else ``other``; all three broadcast."""
    cond = bool_tensor(condition, "where")
    a, b = operands(input, other)
    try:
        return Where.apply(cond, a, b)
    except ValueError:
        raise broadcast_error("where", cond.shape, np.shape(data_of(a)),
                              np.shape(data_of(b))) from None


MaskedFill = Where.alias("masked_fill")  # ``masked_fill(mask, value)`` is ``where(mask, value, x)``


def masked_fill(input, mask, value):
    """``value`` (a number, or a 0-d tensor, which gets its gradient) where ``mask`` (bool,
    broadcastable with ``input``) is True, else ``input``; the result keeps ``input``'s dtype."""
    input = tensor_of(input)
    mask = bool_tensor(mask, "masked_fill")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill: value must be a number or a 0-d tensor, got a "
                               f"tensor of shape {value.shape}; use ts.where(mask, value, x)")
        value = to(value, input._data.dtype)
    elif not isinstance(value, (int, float, np.number)):
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got "
                        f"{type(value).__name__}")
    elif input._data.dtype.kind != "f" and not math.isfinite(value):
        raise ValueError(f"masked_fill: {value} cannot be put in a {input._data.dtype} tensor")
    else:
        value = np.asarray(value, dtype=input._data.dtype)
    try:
        return MaskedFill.apply(mask, value, input)
    except ValueError:
        raise broadcast_error("masked_fill", mask.shape, input._data.shape) from None


def bool_tensor(x, op):
    """``x`` as a bool Tensor, the same object when it is one (so its version counter is kept).
    A mask of another dtype is refused, as torch does: 1.0 or 2 is not obviously True."""
    if isinstance(x, Tensor) and x._data.dtype == np.bool_:
        return x
    a = np.asarray(data_of(x))
    if a.dtype != np.bool_:
        raise RuntimeError(f"{op}: the mask must be bool, got dtype {a.dtype}; compare to make "
                           "one (e.g. x > 0) or convert with .to(ts.bool_)")
    return Tensor._wrap(a)


class Cast(Function):
    """``t.to(dtype)``: the gradient is cast back to the input's dtype by the engine."""

    linear = True  # (forward mode: the tangent is cast too)

    @staticmethod
    def forward(ctx, a, dtype):
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g, None

    graph_backward = backward  # (``higher.py`` casts it back to the input's dtype)


def to(input, *args, **kwargs):
    """``input`` as a dtype: ``t.to(dtype)``, ``t.to(device)``, ``t.to(device, dtype)``,
    ``t.to(other)`` (other's dtype), keywords ``device=``, ``dtype=``, ``copy=``, as in PyTorch;
    itself if nothing changes (the device is always the CPU)."""
    dtype, copy = to_args("to", args, kwargs)
    dtype = input._data.dtype if dtype is None else dtype_arg("to", dtype)
    if dtype != input._data.dtype:
        return Cast.apply(input, dtype)
    return clone(input) if copy else input


class Clone(Function):
    moves_data_only = True

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g

    graph_backward = backward


def clone(input):
    return Clone.apply(tensor_of(input))


def compare(op, ufunc, a, b):
    """A comparison (named ``op`` in errors: ``lt``): a bool tensor, outside the graph."""
    a, b = operands(a, b)
    try:
        return Tensor._wrap(ufunc(data_of(a), data_of(b)))
    except ValueError:
        raise broadcast_error(op, np.shape(data_of(a)), np.shape(data_of(b))) from None


def lt(input, other):
    return compare("lt", np.less, input, other)


def le(input, other):
    return compare("le", np.less_equal, input, other)


def gt(input, other):
    return compare("gt", np.greater, input, other)


def ge(input, other):
    return compare("ge", np.greater_equal, input, other)


def eq(input, other):
    return compare("eq", np.equal, input, other)


def ne(input, other):
    return compare("ne", np.not_equal, input, other)


def equals_operator(self, other):
    """``t == other``: ``eq``, but a tensor is never equal to ``None`` (False, as in torch)."""
    return False if other is None else eq(self, other)


def differs_operator(self, other):
    """``t != other``: ``ne``, and True for ``None``."""
    return True if other is None else ne(self, other)


# The functions above that are also Tensor methods (tensor.py attaches them): ``t.exp()`` is
# ``exp(t)``, ``a + b`` is ``add(a, b)``.
TENSOR_METHODS = {
    "__add__": add, "__sub__": sub, "__mul__": mul, "__truediv__": true_divide, "__pow__": pow,
    "__neg__": neg, "__abs__": abs, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "__eq__": equals_operator, "__ne__": differs_operator, "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "tanh": tanh,
    "sigmoid": sigmoid, "relu": relu, "pow": pow, "clamp": clamp,
    "masked_fill": masked_fill, "to": to, "clone": clone, "add": add, "sub": sub, "mul": mul,
    "true_divide": true_divide, "neg": neg, "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge,
}
