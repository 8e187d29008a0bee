"""Module-level forms of the ops: ``ts.cat``, ``ts.stack``, ``ts.where``, ``ts.matmul`` and
``ts.NAME(t, ...)`` for each Tensor method NAME (``ts.exp(t)`` is ``t.exp()``)."""
import numpy as np

from .ops import elementwise as E, shape as S
from .errors import ShapeError
from .ops._util import broadcast_error, norm_dim
from .tensor import Tensor, _data, _operands, as_array, bool_tensor, matmul  # noqa: F401  (matmul re-exported)


def _tensors(seq, op):
    ts_ = [t if isinstance(t, Tensor) else Tensor(as_array(t)) for t in seq]
    if not ts_:
        raise ValueError(f"{op}: expects a non-empty sequence of tensors")
    return ts_


def cat(tensors, dim=0):
    """Join tensors along the existing dim ``dim``; all other dims must match."""
    tensors = _tensors(tensors, "cat")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise ShapeError(f"cat: tensor {i} is 0-d and has no dim to join along; use stack")
    ax = norm_dim(dim, first.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or any(a != b for k, (a, b) in enumerate(zip(t.shape, first.shape))
                                       if k != ax):
            raise ShapeError(f"cat: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{first.shape}; all dims except dim={dim} must match")
    return S.Cat.apply(ax, *tensors)


def stack(tensors, dim=0):
    """Join tensors of one shape along a new dim ``dim``."""
    tensors = _tensors(tensors, "stack")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.shape != first.shape:
            raise ShapeError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{first.shape}; stack needs tensors of one shape")
    return S.Stack.apply(norm_dim(dim, first.ndim + 1, "stack"), *tensors)


def where(condition, input, other):
    """``input`` where ``condition`` (bool) holds, else ``other``; all three broadcast."""
    cond = bool_tensor(condition, "where")
    a, b = _operands(input, other)
    try:
        return E.Where.apply(cond, a, b)
    except ValueError:
        raise broadcast_error("where", cond.shape, np.shape(_data(a)), np.shape(_data(b))) from None


def _method(name):
    def fn(input, *args, **kwargs):
        t = input if isinstance(input, Tensor) else Tensor(as_array(input))
        return getattr(t, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``ts.{name}(t, ...)`` is ``t.{name}(...)``."
    return fn


METHODS = ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sum", "mean", "max", "min",
           "argmax", "argmin", "logsumexp", "softmax", "log_softmax", "clamp", "reshape",
           "transpose", "permute", "unsqueeze", "squeeze", "expand", "flatten", "split", "chunk",
           "unbind", "masked_fill", "clone", "detach")
globals().update({name: _method(name) for name in METHODS})
__all__ = ["cat", "stack", "where", "matmul", *METHODS]
