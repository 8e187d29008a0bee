"""Forward-mode autodiff, as ``torch.autograd.forward_ad``: a Jacobian-vector product computed
alongside the forward pass, with no graph and no backward walk.

    >>> import tinyseq as ts
    >>> import tinyseq.autograd.forward_ad as fwAD
    >>> x = ts.tensor([1.0, 2.0])
    >>> with fwAD.dual_level():
    ...     dual = fwAD.make_dual(x, ts.tensor([1.0, 0.0]))  # the direction v
    ...     y = dual * dual * 3
    ...     fwAD.unpack_dual(y).tangent                       # J v = 6 x * v
    tensor([6., 0.])

Inside a ``dual_level``, a tensor made by ``make_dual`` carries a tangent ``v`` beside its value.
Every op that gets a tangent on any argument computes its result's tangent by its tangent rule
(``Function.jvp``, next to its forward and backward; an op marked ``linear``, a sum or a reshape,
applies itself to the tangents), so the tangent travels forward with the values: one pass gives
``J v``. Reverse mode gives ``vᵀ J`` for one output in one walk; forward mode ``J v`` for one
input direction in one pass: cheap for few inputs and many outputs.

Tangents are kept by the level, not by the tensors: leaving ``dual_level`` drops them all. An
in-place op (``ops/inplace.py``) carries its result's tangent into the tensor it wrote
(``carry_tangent``), as torch does.
"""
import collections
import threading
import weakref

import numpy as np

from .errors import ShapeError
from .mode import state
from .ops._util import quiet_call
from .tensor import Tensor
from .views import positions

__all__ = [
    "UnpackedDualTensor",
    "dual_level",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
]

# Why a tangent has no gradient in tinyseq (``dual_tangent.py``)
MESSAGE = ("the tangent from forward_ad.unpack_dual cannot be differentiated in reverse mode "
           "(reverse over forward mode: tangent rules in tinyseq compute values, not graphs); "
           "differentiate the other way round, forward over reverse: a gradient made with "
           "create_graph=True inside the dual level carries H v, or use "
           "ts.autograd.functional.hvp / jvp")

UnpackedDualTensor = collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])


class _Level:
    """The tangents of one dual level, by tensor (``id -> (weak reference, tangent)``) and by the
    tensor's array: a gradient built with ``create_graph=True`` inside the level gives the saved
    arrays back as new tensors (``higher.py``), which find their tangent by array
    (forward-over-reverse: a Hessian's columns)."""

    def __init__(self):
        self.tangents, self.by_array = {}, {}

    def tangent(self, t):
        return self._get(self.tangents, t)

    def tangent_of_array(self, a):
        return self._get(self.by_array, a)

    def set(self, t, tangent):
        self._put(self.tangents, t, tangent)
        self._put(self.by_array, t._data, tangent)

    @staticmethod
    def _get(table, key):
        entry = table.get(id(key))
        return entry[1] if entry is not None and entry[0]() is key else None

    @staticmethod
    def _put(table, key, tangent):
        k = id(key)
        table[k] = (weakref.ref(key, lambda _, k=k: table.pop(k, None)), tangent)


# How many dual levels are open, in all threads. While none is, ``Function.apply`` does not look
# for its own thread's level: reading the thread-local state costs every op about 0.2 us (a chain
# of 100 small ops: 672 -> 618 us forward without that read).
OPEN = [0]
_opening = threading.Lock()


def enter_dual_level():
    """Start a dual level (``dual_level()`` is the context manager); one at a time, as in torch."""
    if state.dual is not None:
        raise RuntimeError("forward_ad: a dual level is already open; nested forward-mode levels "
                           "are not supported (as in torch): leave the first one first")
    state.dual = _Level()
    with _opening:
        OPEN[0] += 1
    return 0


def exit_dual_level(*, level=None):
    """End the dual level: every tangent it held is dropped."""
    if state.dual is None:
        raise RuntimeError("forward_ad: no dual level is open to exit")
    state.dual = None
    with _opening:
        OPEN[0] -= 1


class dual_level:
    """``with fwAD.dual_level():`` the block in which tensors may carry tangents."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()


def make_dual(tensor, tangent, *, level=None):
    """A tensor with ``tensor``'s values (a view of it) carrying ``tangent`` (same shape, floating
    point) inside the current dual level."""
    if state.dual is None:
        raise RuntimeError("make_dual: no dual level is open; use it inside "
                           "'with forward_ad.dual_level():'")
    if level not in (None, 0):  # (one level at a time, as in torch: it is level 0)
        raise RuntimeError(f"make_dual: level {level!r} is not open; the open level is 0 (leave "
                           "level out)")
    for name, t in (("tensor", tensor), ("tangent", tangent)):
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dual: {name} must be a Tensor, got {type(t).__name__}")
    for name, t in (("primal", tensor), ("tangent", tangent)):
        if t._data.dtype.kind != "f":
            raise ValueError(f"make_dual: only floating-point tensors carry tangents, and the "
                             f"{name} has dtype {t.dtype}")
    if tangent.shape != tensor.shape:
        raise ShapeError(f"make_dual: the tangent has shape {tangent.shape} but the tensor has "
                         f"shape {tensor.shape}; give a tangent of the tensor's shape")
    if state.dual.tangent(tensor) is not None:
        raise RuntimeError("make_dual: this tensor already carries a tangent at this level; make "
                           "the dual of its primal (forward_ad.unpack_dual(t).primal)")
    if tangent.requires_grad and state.grad_enabled:
        raise RuntimeError(f"make_dual: the tangent requires grad, and {MESSAGE}; pass "
                           "tangent.detach()")
    dual = tensor.view_as(tensor)
    state.dual.set(dual, np.asarray(tangent._data, dtype=tensor._data.dtype))
    return dual


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)``: the tensor's values (a view of it, without the tangent) and its
    tangent as a Tensor, or ``None`` if it carries none. A tangent cannot be differentiated in
    reverse mode: from a primal in a graph, it comes out of a node that refuses
    (``dual_tangent.py``)."""
    level = state.dual
    tangent = None if level is None else level.tangent(tensor)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    state.dual = None  # (neither the view of the primal nor the tangent carries a tangent)
    try:
        primal = tensor.view_as(tensor)
        if tensor.requires_grad and state.grad_enabled:  # a backward walk may reach the tangent
            from .dual_tangent import TangentOf  # (it is a Function: function.py imports us)
            tangent = TangentOf.apply(tensor, tangent)
        else:
            tangent = Tensor._wrap(tangent)
    finally:
        state.dual = level
    return UnpackedDualTensor(primal, tangent)


def _tangent_of_constant(a):
    """The tangent of an argument that carries none: zeros for a floating-point value (a tensor,
    or a number the op took as an array); anything else as it is (an index, a shape, a dim)."""
    data = a._data if isinstance(a, Tensor) else a
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind == "f":
        return np.zeros_like(data)
    if type(data) is float:
        return 0.0
    return data


def propagate(cls, ctx, args, outputs):
    """After op ``cls`` ran on ``args`` (its forward's ``ctx`` at hand) and made ``outputs``:
    if an argument carries a tangent, give each floating-point output its tangent, by the op's
    rule (``_tangent_of_constant`` stands in for an argument without one)."""
    level = state.dual
    tangents = [level.tangent(a) if isinstance(a, Tensor) else None for a in args]
    if all(t is None for t in tangents):
        return
    given = [t if t is not None else _tangent_of_constant(a) for a, t in zip(args, tangents)]
    if cls.linear or cls.moves_data_only:  # the op applied to the tangents is their tangent
        out = quiet_call(cls.forward, type(ctx)((False,) * len(args)), given)  # (a fresh Context)
    elif cls.jvp is not None:
        out = quiet_call(cls.jvp, ctx, given)
    else:
        raise RuntimeError(f"forward-mode AD: '{cls.name}' ({cls.__name__}) has no tangent rule "
                           "yet (Function.jvp), so its result's tangent cannot be computed")
    out = out if type(out) is tuple else (out,)
    for t, tangent in zip(outputs, out):
        if tangent is not None and t._data.dtype.kind == "f":
            level.set(t, np.asarray(tangent, dtype=t._data.dtype))


# ---- in-place ops: the tangent changes with the values -----------------------------------------
def has_tangent(*tensors):
    """Whether a dual level is open and one of ``tensors`` carries a tangent in it."""
    level = state.dual
    return level is not None and any(isinstance(t, Tensor) and level.tangent(t) is not None
                                     for t in tensors)


def carry_tangent(tensor, out):
    """After ``tensor`` took ``out``'s values in place (``ops/inplace.py``): ``tensor`` takes
    ``out``'s tangent, and so does a view's root at the view's elements. The tangents are written
    into the arrays they had, where those can be written, so that views sharing them see the
    change (as in torch); a view of a tensor written in place after the view was made may still
    hold the tangent it had (torch's views follow)."""
    tangent = state.dual.tangent(out)
    if tangent is None:
        return
    _write_tangent(tensor, tangent)
    if tensor._base is not None:
        root = tensor._base[0]
        _write_tangent(root, tangent, positions(tensor._data, root._data))


def _write_tangent(t, values, pos=None):
    """``t``'s tangent becomes ``values`` (only at the flat positions ``pos``, if given)."""
    level = state.dual
    tangent = level.tangent(t)
    if tangent is None or not tangent.flags.writeable:
        tangent = np.zeros(t.shape, t._data.dtype) if tangent is None else np.array(tangent)
        level.set(t, tangent)
    if pos is None:
        np.copyto(tangent, values)
    else:
        tangent.flat[pos.ravel()] = np.broadcast_to(values, pos.shape).ravel()
