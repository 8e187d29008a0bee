"""``load_state_dict``'s work: every key, shape and dtype checked before the first copy, then
the values copied in place, as PyTorch's ``copy_`` casts them; and what it returns."""
from collections import namedtuple
from collections.abc import Mapping

import numpy as np

from ..autograd.errors import ShapeError
from ..autograd.mode import no_grad
from ..autograd.tensor import Tensor
from ._checks import DTypeError


def load_into(module, state_dict, strict):
    """``module.load_state_dict(state_dict, strict)`` (see there)."""
    name = type(module).__name__
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"load_state_dict for {name}: expected a dict-like state_dict "
                        f"(name -> array), got {type(state_dict).__name__}")
    own = module.state_dict(keep_vars=True)
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    values = {k: _loadable(state_dict[k]) for k in own if k in state_dict}
    problems = [p for p in (_mismatch(k, v, own[k]) for k, v in values.items()) if p]
    if strict:
        problems += [(ShapeError, f"missing keys: {', '.join(missing)}")] * bool(missing)
        extra = ", ".join(map(str, unexpected))
        problems += [(ShapeError, f"unexpected keys: {extra}")] * bool(unexpected)
    if problems:  # a ShapeError if any key or shape is wrong, else a DTypeError
        error = ShapeError if any(e is ShapeError for e, _ in problems) else DTypeError
        raise error(f"load_state_dict for {name}: nothing was loaded: "
                    + "; ".join(message for _, message in problems))
    with no_grad():
        for k, v in values.items():
            own[k].copy_(v)
    return _IncompatibleKeys(missing, unexpected)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns, printed as PyTorch prints it."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _loadable(value):
    """``value`` as a numpy array, or a sentence saying why it cannot be one."""
    if not isinstance(value, Tensor) and hasattr(value, "detach"):  # a torch tensor with grad
        value = value.detach()
    try:
        return np.asarray(value.numpy() if isinstance(value, Tensor) else value)
    except (TypeError, ValueError, RuntimeError) as error:  # ragged lists, torch tensors with grad
        return f"cannot be read as an array ({str(error).splitlines()[0]})"


def _mismatch(key, value, param):
    """``(error class, why)`` ``value`` (an array, or a sentence from ``_loadable``) cannot be
    copied into ``param``, or None."""
    if isinstance(value, str):
        return DTypeError, f"{key}: {value}"
    if value.dtype.kind not in "biuf" or param.numpy().dtype.kind not in "biuf":  # (as copy_)
        return DTypeError, (f"{key}: a {value.dtype} value cannot be copied into a "
                            f"{param.numpy().dtype} parameter")
    if value.shape != param.shape:
        return ShapeError, (f"shape mismatch for {key}: the checkpoint has {value.shape}, the "
                            f"model has {param.shape}")
    return None
