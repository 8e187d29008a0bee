"""In-place ops (``t.add_(x)``, ``t += x``, ``t.relu_()``, ``t[i] = v``, ...), recorded in the graph
as in PyTorch.

``t.op_(*args)`` computes ``op(t, *args)`` with the out-of-place op and writes the result into
``t``'s array (the same memory: views of ``t`` see the change), then bumps ``t``'s version
counter. Under grad mode, when ``t`` or an argument requires grad, the op is recorded and ``t``
is *rebased*: its ``grad_fn`` becomes the op's node, whose input edge is ``t``'s old place in the
graph, so ``outputs[t] = out`` and ``loss += step_loss`` keep their gradients. Then:

- a leaf that requires grad refuses (under ``no_grad`` it is written, unrecorded: optimisers);
- what the node saved of ``t`` counts as ``t``'s new version, so a later in-place change of ``t``
  is caught at backward (``y.sigmoid_(); y.mul_(2)``), as in torch; an op whose gradient needs
  ``t``'s old values (``mul_``, ``clamp_``, ...) works on a copy of them, as torch's does;
- writing through a view (``t[0].add_(1)``) rebases the view's root onto a ``CopySlices`` node
  (the old root with the region replaced), and other views of the root, now stale, read their
  gradient out of that node when they are next used (``refresh``): ``view_writes.py``;
- inside a dual level the tensor written takes the result's tangent (``forward_ad.carry_tangent``).
"""
import warnings

import numpy as np

from ..dtypes import data_of
from ..errors import DTypeError, ShapeError
from ..forward_ad import carry_tangent, has_tangent
from ..function import Function
from ..mode import no_grad, state
from ..tensor import Tensor
from ..views import is_stale
from . import activations, rounding, selection, unary
from . import elementwise as ew
from .sample import draw_bernoulli
from .view_writes import refresh, write_through
from ._util import broadcasts_to, quiet, unbroadcast


def apply_(op, fn, self, *args, old_values=False):
    """``self = fn(self, *args)`` in place, recorded when ``recording`` says so; ``old_values``:
    ``fn``'s gradient needs ``self``'s values from before."""
    if recording(op, self, args):
        return _record(op, fn, self, args, old_values)
    with no_grad():
        out = fn(self, *args)
    _store(op, self, out._data)
    if state.dual is not None:
        carry_tangent(self, out)
    return self


def recording(op, self, args):
    """Whether an in-place ``op`` on ``self`` with ``args`` is recorded: under grad mode, when
    ``self`` (a float tensor) or an argument requires grad. Refuses what torch refuses."""
    if not state.grad_enabled:
        return False
    _check_writable(op, self)
    if self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args):
        return self._data.dtype.kind == "f"  # (an integer tensor never carries a gradient)
    return False


@quiet
def _update(op, ufunc, fn, self, other, old_values=False):
    """``self = fn(self, other)`` in place; unrecorded, as the ufunc writing into ``self``'s array
    (the cheap path that ``no_grad`` code takes)."""
    if recording(op, self, (other,)):
        _fits(op, self, other)
        return _record(op, fn, self, (other,), old_values)
    if state.dual is not None and has_tangent(self, other):  # forward mode: through the op
        _fits(op, self, other)
        return apply_(op, fn, self, other)
    try:
        ufunc(self._data, data_of(other), out=self._data)
    except TypeError:  # numpy's casting error: a float result for an int tensor
        with no_grad():
            _check_dtype(op, fn(self, other)._data.dtype, self)
        raise
    except ValueError:
        _fits(op, self, other)
        writable(op, self)
        raise
    self._version.value += 1
    return self


def _copy(a, src, out):
    """``copy_`` as a ufunc-like call for ``_update``: ``src`` into ``out``, cast as torch does."""
    np.copyto(out, src, casting="unsafe")


def _check_writable(op, self):
    """Under grad mode: refuse a leaf that requires grad, or a view of one, as torch does."""
    base = self._base
    if base is not None:
        root = base[0]
        if root._requires_grad and root.grad_fn is None:
            raise RuntimeError(f"{op}: a view of a leaf tensor that requires grad is being used in "
                               "an in-place operation; do it under `with ts.no_grad():`, or on a "
                               ".clone()")
        if root._requires_grad and not self._requires_grad and base[1] is root.grad_fn:
            raise RuntimeError(f"{op}: this view was made under no_grad and is changed in place "
                               "with grad mode on; make the view and change it both inside or "
                               "both outside the no_grad block")
    elif self._requires_grad and self.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf tensor that requires grad is being used in an in-place "
                           "operation; do it under `with ts.no_grad():` (as optimisers do), or "
                           "on a .clone()")


def _record(op, fn, self, args, old_values):
    """Run ``fn`` on a stand-in for ``self`` (its place in the graph, and its array or a copy of
    it), write the result into ``self`` and rebase ``self`` onto the result's node."""
    base = self._base
    if is_stale(self):
        refresh(self)
    if base is not None and self.grad_fn is not None and len(self.grad_fn.out_meta) > 1:
        raise RuntimeError(f"{op}: this view is one of several that one op ('{self.grad_fn.name}')"
                           " returned, and such views cannot be changed in place (as in torch); "
                           "use the out-of-place op")
    src = Tensor._wrap(self._data.copy() if old_values else self._data,
                       None if old_values else self._version)
    src.grad_fn, src._output_nr, src._requires_grad = self.grad_fn, self._output_nr, \
        self._requires_grad
    src._name = self._name
    if state.dual is not None and state.dual.tangent(self) is not None:
        state.dual.set(src, state.dual.tangent(self))  # (forward mode: ``src`` is ``self``)
    out = fn(src, *args)
    _check_dtype(op, out._data.dtype, self)
    if out._data.dtype != self._data.dtype:
        out = selection.to(out, self._data.dtype)
    written = out._version
    _store(op, self, out._data)
    node, old, old_nr = out.grad_fn, self.grad_fn, self._output_nr
    # What the node saved of ``self`` is ``self`` at this version. Not so with ``old_values``:
    # ``src`` is then a copy, and a saved array in ``self``'s memory is an argument that is
    # ``self`` too (``y.mul_(y)``), now overwritten: it stays stale, and backward refuses, as torch.
    now, fresh = self._version.value, (written,) if old_values else (self._version, written)
    node.saved_versions = tuple([(self._version, now) if c in fresh else (c, v)
                                 for c, v in node.saved_versions])
    self.grad_fn, self._output_nr, self._requires_grad = node, out._output_nr, True
    if old is not None and old.retained and old_nr in old.retained:  # .grad: the new value's
        node.retained = node.retained or {}
        node.retained[self._output_nr] = old.retained.pop(old_nr)
    if base is not None:
        write_through(self, op)
    if state.dual is not None:
        carry_tangent(self, out)
    return self


def _check_dtype(op, kind, self):
    if not np.can_cast(kind, self._data.dtype, "same_kind"):
        raise DTypeError(f"{op}: the result is {kind}, which cannot be written into this "
                        f"{self._data.dtype} tensor; use the out-of-place op")


def _store(op, self, out):
    """Write the array ``out`` (of ``self``'s shape, castable to its dtype) into ``self``."""
    if out.shape != self.shape:
        raise ShapeError(f"{op}: the result has shape {out.shape}, which is not this tensor's "
                         f"shape {self.shape}; use the out-of-place op")
    if out is not self._data:
        _check_dtype(op, out.dtype, self)
        writable(op, self)
        np.copyto(self._data, out, casting="unsafe")
    self._version.value += 1


def writable(op, self):
    """Refuse to write into a read-only array (what ``expand`` makes), as torch refuses."""
    if not self._data.flags.writeable:
        raise RuntimeError(f"{op}: more than one element of this tensor refers to the same memory "
                           "(an expand?), so it cannot be written in place; .clone() it first")


# ---- the in-place ops -------------------------------------------------------------------------
class Copy(Function):
    """``a.copy_(src)``: ``src`` broadcast to ``a``'s shape and cast to its dtype."""

    name = "copy"

    @staticmethod
    def forward(ctx, a, src):
        ctx.shape = np.shape(src)
        return np.broadcast_to(src, a.shape).astype(a.dtype)

    @staticmethod
    def backward(ctx, g):
        return None, unbroadcast(g, ctx.shape)

    graph_backward = backward  # (unbroadcast sums a Tensor with Tensor ops)

    @staticmethod
    def jvp(ctx, ta, tsrc):
        """``src``'s tangent in ``a``'s place; a number or an int ``src`` is a constant."""
        tsrc = np.asarray(tsrc)
        return np.broadcast_to(tsrc if tsrc.dtype.kind == "f" else 0, ta.shape).astype(ta.dtype)


def _fits(op, self, value):
    """Refuse a value that does not broadcast to ``self``'s shape, naming both shapes."""
    shape = np.shape(data_of(value))
    if not broadcasts_to(shape, self.shape):
        raise ShapeError(f"{op}: a value of shape {shape} cannot be broadcast to this tensor's "
                         f"shape {self.shape}")


def _binary(op, fn, old_values=False):
    def method(self, other):
        _fits(op, self, other)
        return apply_(op, fn, self, other, old_values=old_values)
    method.__name__ = op
    method.__doc__ = f"``{fn.__name__}`` in place: the result is written into this tensor."
    return method


def _unary(op, fn, old_values=False):
    def method(self):
        return apply_(op, fn, self, old_values=old_values)
    method.__name__ = op
    method.__doc__ = f"``{fn.__name__}`` in place: the result is written into this tensor."
    return method


def _alpha(op, alpha):
    """``alpha`` checked to be a number, as torch requires."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.number)):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__} {alpha!r}")
    return alpha


def _old_order(op, other, alpha):
    """``(other, alpha)``, swapped back from torch's deprecated ``add_(alpha, other)`` (old
    tutorials' ``p.data.add_(-lr, p.grad.data)``), which torch still takes with this warning."""
    if isinstance(alpha, Tensor) and isinstance(other, (int, float, np.number)):
        warnings.warn(f"This overload of {op} is deprecated: {op}(Number alpha, Tensor other); use "
                      f"{op}(Tensor other, *, Number alpha=1) instead", UserWarning, stacklevel=3)
        return alpha, other
    return other, alpha


def add_(self, other, alpha=1):
    """``self += alpha * other``, in place."""
    other, alpha = _old_order("add_", other, alpha)
    if _alpha("add_", alpha) != 1:
        other = other * alpha if isinstance(other, Tensor) else data_of(other) * alpha
    return _update("add_", np.add, ew.add, self, other)


def sub_(self, other, alpha=1):
    """``self -= alpha * other``, in place."""
    other, alpha = _old_order("sub_", other, alpha)
    if _alpha("sub_", alpha) != 1:
        other = other * alpha if isinstance(other, Tensor) else data_of(other) * alpha
    return _update("sub_", np.subtract, ew.sub, self, other)


def mul_(self, other):
    return _update("mul_", np.multiply, ew.mul, self, other, old_values=True)


def div_(self, other, *, rounding_mode=None):
    """``self /= other``, in place; rounded toward zero or down with ``rounding_mode``."""
    if rounding_mode is not None:
        _fits("div_", self, other)
        return apply_("div_", rounding.rounded_divide, self, other, rounding_mode)
    return _update("div_", np.divide, ew.true_divide, self, other, old_values=True)


def copy_(self, src):
    """``src`` (broadcast to this tensor's shape, cast to its dtype) written into this tensor;
    ``src`` gets the gradient."""
    if not isinstance(src, Tensor):
        src = np.asarray(src)
        if src.dtype.kind not in "fiub":
            raise TypeError(f"copy_: cannot write {src.dtype} values into a tensor")
    return _update("copy_", _copy, Copy.apply, self, src)


def fill_(self, value):
    """Every element set to ``value`` (a number, or a 0-d tensor, which gets the gradient)."""
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"fill_: value must be a number or a 0-d tensor, got a tensor of shape "
                           f"{value.shape}; use copy_ to write a tensor")
    if not isinstance(value, (int, float, np.number, Tensor)):
        raise TypeError(f"fill_: value must be a number or a 0-d tensor, got "
                        f"{type(value).__name__}")
    return _update("fill_", _copy, Copy.apply, self, value)


def zero_(self):
    return fill_(self, 0)


def clamp_(self, min=None, max=None):
    """``clamp`` in place; Tensor bounds must broadcast to this tensor's shape."""
    selection.check_bounds("clamp_", min, max)
    for bound in (min, max):
        if isinstance(bound, Tensor):
            _fits("clamp_", self, bound)
    return apply_("clamp_", selection.clamp, self, min, max, old_values=True)


def masked_fill_(self, mask, value):
    """``masked_fill`` in place; ``mask`` must broadcast to this tensor's shape."""
    _fits("masked_fill_", self, mask)
    return apply_("masked_fill_", selection.masked_fill, self, mask, value)


def normal_(self, mean=0.0, std=1.0):
    """Values drawn from N(mean, std²) (no gradient goes back through them)."""
    from .. import rng
    if not std >= 0:  # (NaN too)
        raise RuntimeError(f"normal_: std must be >= 0, got {std}")
    return copy_(self, rng.generator().normal(mean, std, self.shape))


def uniform_(self, a=0.0, b=1.0):
    """Values drawn from U(a, b) (no gradient goes back through them)."""
    from .. import rng
    if not a <= b:
        raise RuntimeError(f"uniform_: the range [a, b) must have a <= b, got a={a} > b={b}")
    return copy_(self, rng.generator().uniform(a, b, self.shape))


def round_(self, *, decimals=0):
    """``round`` in place (to ``decimals`` places)."""
    return apply_("round_", unary.round_to, self, decimals)


def bernoulli_(self, p=0.5, *, generator=None):
    """Each element set to 1 with probability ``p`` (a number or a tensor broadcasting to this
    one's shape), else 0; no gradient goes back through the draw."""
    if generator is not None:
        raise NotImplementedError("bernoulli_: generator= is not supported; seed the one "
                                  "generator with ts.manual_seed")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.number, Tensor)):
        raise TypeError(f"bernoulli_: p must be a number or a tensor, got {type(p).__name__}")
    _fits("bernoulli_", self, p)
    probs = np.broadcast_to(np.asarray(data_of(p), dtype=np.float64), self.shape)
    return copy_(self, draw_bernoulli(probs, self._data.dtype))


# The in-place methods (tensor.py attaches them); ``t += x`` is ``t.add_(x)``.
TENSOR_METHODS = {
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "copy_": copy_, "fill_": fill_,
    "zero_": zero_, "pow_": _binary("pow_", ew.pow, old_values=True),
    "clamp_": clamp_, "masked_fill_": masked_fill_, "normal_": normal_, "uniform_": uniform_,
    "relu_": _unary("relu_", activations.relu),
    "sigmoid_": _unary("sigmoid_", activations.sigmoid),
    "tanh_": _unary("tanh_", activations.tanh), "exp_": _unary("exp_", activations.exp),
    "sqrt_": _unary("sqrt_", activations.sqrt), "neg_": _unary("neg_", ew.neg),
    "log_": _unary("log_", activations.log, old_values=True),
    "abs_": _unary("abs_", activations.abs, old_values=True),
    "sin_": _unary("sin_", unary.sin, old_values=True),
    "cos_": _unary("cos_", unary.cos, old_values=True),
    "rsqrt_": _unary("rsqrt_", unary.rsqrt), "reciprocal_": _unary("reciprocal_", unary.reciprocal),
    "square_": _unary("square_", unary.square, old_values=True),
    "log1p_": _unary("log1p_", unary.log1p, old_values=True),
    "expm1_": _unary("expm1_", unary.expm1), "floor_": _unary("floor_", unary.floor),
    "ceil_": _unary("ceil_", unary.ceil), "trunc_": _unary("trunc_", unary.trunc),
    "sign_": _unary("sign_", unary.sign), "round_": round_,
    "floor_divide_": _binary("floor_divide_", rounding.floor_divide),
    "remainder_": _binary("remainder_", rounding.remainder, old_values=True),
    "fmod_": _binary("fmod_", rounding.fmod, old_values=True),
    "bernoulli_": bernoulli_,
}
TENSOR_METHODS.update({"__iadd__": add_, "__isub__": sub_, "__imul__": mul_, "__itruediv__": div_,
                       "__ifloordiv__": TENSOR_METHODS["floor_divide_"],
                       "__imod__": TENSOR_METHODS["remainder_"]})
