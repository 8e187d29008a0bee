"""Helpers shared by the ops: shape errors, reducing a broadcast gradient, normalising ``dim``,
running numpy quietly."""
import functools

import numpy as np

from ..errors import ShapeError

def _quiet_by_errstate(fn):
    """``fn`` run under ``np.errstate(all="ignore")``, a fresh one each call (numpy 1's errstate
    restores the wrong state when one instance is entered twice, as a reentrant decorator would)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return run


def _error_state():
    """``(variable, quiet state)``: numpy 2's error-state context variable and the value that
    turns every floating-point warning off, built once; ``None`` where numpy has no such variable.

    ``np.errstate(all="ignore")`` costs about 0.45 us a call, mostly in building the error state
    anew each time: a tenth of a small op's time, and the backward walk and every forward pay it.
    Setting the one variable around a call costs about 0.15 us; the caller's own state is put back
    after, as errstate does."""
    try:
        from numpy._core._ufunc_config import _extobj_contextvar as errors
    except ImportError:
        return None
    with np.errstate(all="ignore"):
        ignore_all = errors.get()
    if errors.get() is ignore_all:  # (not numpy 2's mechanism after all)
        return None
    return errors, ignore_all


def _quiet_decorator():
    """``quiet``: a function run with numpy's floating-point warnings off, the fastest way this
    numpy allows (``_error_state``); elsewhere (numpy 1, or a numpy that moved the variable)
    errstate."""
    state = _error_state()
    if state is None:
        return _quiet_by_errstate
    errors, ignore_all = state

    def quiet(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            token = errors.set(ignore_all)
            try:
                return fn(*args, **kwargs)
            finally:
                errors.reset(token)
        return run
    return quiet


def _quiet_caller():
    """``quiet_call(forward, ctx, arrays)``: ``forward(ctx, *arrays)`` with the warnings off, as
    ``quiet`` does, but without a wrapper per function (``Function.apply`` runs a different forward
    each time: one layer of call less, about 0.1 us)."""
    state = _error_state()
    if state is None:
        return _quiet_by_errstate(lambda forward, ctx, arrays: forward(ctx, *arrays))
    errors, ignore_all = state

    def quiet_call(forward, ctx, arrays):
        token = errors.set(ignore_all)
        try:
            return forward(ctx, *arrays)
        finally:
            errors.reset(token)
    return quiet_call


# ``@quiet`` runs a function with numpy's floating-point warnings (and errors, under a user's
# ``np.seterr``) off: Inf and NaN are values, as in torch. The user's own settings are kept.
quiet = _quiet_decorator()
quiet_call = _quiet_caller()


def unbroadcast(grad, shape):
    """Sum ``grad`` (an array, or a Tensor) over the axes that broadcasting added or stretched,
    giving it ``shape``."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    if not axes:
        return grad.reshape(shape)
    if not isinstance(grad, np.ndarray):  # a Tensor: a gradient that is a graph (``higher.py``)
        return grad.sum(axes, keepdim=True).reshape(shape)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


def broadcasts_to(shape, target):
    """Whether an array of ``shape`` broadcasts to ``target`` without changing ``target``."""
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def pass_where(mask, g):
    """``g`` where ``mask`` holds, else 0 (``mask`` broadcasts to ``g``): the gradient of an op that
    lets some elements through. A select, as in PyTorch, so that an Inf or NaN arriving from above
    stays out of the elements the op did not pass (``0 * inf`` would be NaN there). Multiplying by
    the mask is about 10x faster than ``np.where`` on a random mask, so the select runs only when
    ``g`` holds a non-finite value."""
    if np.isfinite(g).all():
        return g * mask
    return np.where(mask, g, np.zeros((), g.dtype))


def norm_dim(dim, ndim, op):
    """``dim`` (an int, or a tuple of ints) as non-negative axes; raises ``IndexError`` if out of range."""
    if isinstance(dim, (tuple, list)):
        return tuple(norm_dim(d, ndim, op) for d in dim)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}")
    span = max(ndim, 1)
    if not -span <= dim < span:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions "
                         f"(expected a dim in [{-span}, {span - 1}])")
    return dim % span


def reduced_shape(shape, axes):
    """``shape`` with ``axes`` kept as 1, as a keepdim reduction leaves it."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def broadcast_error(op, *shapes):
    return ShapeError(
        f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} cannot be broadcast together "
        "(numpy rules: aligned from the right, each pair of dimensions equal or one of them 1)")
