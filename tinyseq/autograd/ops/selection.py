"""Ops that choose, bound, compare or convert values, with no arithmetic on them: ``clamp``,
``where``, ``masked_fill`` (``where`` by another name), the comparisons ``lt le gt ge eq ne``
(bool tensors outside the graph: the masks the others take), the cast ``to`` and ``clone``.

The gradients of ``clamp``, ``where`` and ``masked_fill`` are selects (``pass_where``,
``np.where``): the gradient goes to the elements each value came from, and an Inf or NaN from
above stays out of the others. ``graph_backward`` writes the same selects in Tensor ops (the masks
are constants); ``jvp``, or ``linear``, is the tangent rule.

Each Function is followed by the function users call (``clamp(input, min, max)``: ``ts.clamp``
and ``t.clamp()``), which types the arguments as PyTorch does (``dtypes``) and names the op and
the shapes in its errors.
"""
import math

import numpy as np

from ..device import to_args
from ..dtypes import DEFAULT_FLOAT, data_of, dtype_arg, joined_dtype, operands, tensor_of
from ..function import Function
from ..tensor import Tensor
from ._util import broadcast_error, pass_where, unbroadcast


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
    check_bounds("clamp", min, max)
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


def check_bounds(op, lo, hi):
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


# The functions above as Tensor methods (tensor.py attaches them): ``t.clamp(0)`` is
# ``clamp(t, 0)``, ``a < b`` is ``lt(a, b)``.
TENSOR_METHODS = {
    "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge, "__eq__": equals_operator,
    "__ne__": differs_operator, "clamp": clamp, "masked_fill": masked_fill, "to": to,
    "clone": clone, "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge,
}
