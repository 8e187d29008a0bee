"""Argument checks shared by the layers, losses and optimisers: each refuses a bad value in one
line that names the function, the argument, the value and what is allowed."""
import math
import numbers

import numpy as np

from ..autograd.device import device_arg
from ..autograd.dtypes import dtype_arg
from ..autograd.errors import DTypeError, OutOfRangeError, ShapeError  # noqa: F401  (raised here)
from ..autograd.errors import flag  # noqa: F401  (nn's modules check their flags as _checks.flag)
from ..autograd.memory import gib, physical_memory
from ..autograd.tensor import Tensor


def tensor(owner, name, value):
    """Refuse anything but a Tensor (a numpy array too: convert it with ``ts.tensor``)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{owner}: {name} must be a Tensor, got {type(value).__name__}; "
                        "convert it with ts.tensor(...)")
    return value


def size(owner, name, value, minimum=0):
    """``value`` as an int ``>= minimum``; a float, a bool or a string is refused (TypeError)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r} "
                        f"({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{owner}: {name} must be an int >= {minimum}, got {value}")
    return int(value)


def affordable(owner, count, what="parameters"):
    """Refuse, before allocating, ``count`` values (drawn in float64: 8 bytes each) that cannot
    fit in this machine's memory, instead of a MemoryError (or an endless loop of layers)."""
    memory = physical_memory()
    if count * 8 > memory:
        raise MemoryError(f"{owner}: {count:,} {what} need {gib(count * 8, 0)}, more than this "
                          f"machine's {gib(memory, 0)}; choose smaller sizes")


def factory_dtype(owner, device=None, dtype=None):
    """The numpy dtype a layer makes its parameters (and floating buffers) in, from PyTorch's
    factory arguments ``device=None, dtype=None``: ``dtype`` if given (a floating dtype), else
    float32; ``device`` must be the CPU (a GPU is refused in one line, as everywhere)."""
    device_arg(owner, device)
    if dtype is None:
        return np.dtype(np.float32)
    dtype = dtype_arg(owner, dtype)
    if dtype.kind != "f":  # (PyTorch's error: its parameters require gradients)
        raise RuntimeError(f"{owner}: dtype={dtype} cannot hold parameters (only floating-point "
                           "tensors can require gradients); use ts.float32 or ts.float64")
    return dtype


def number(owner, name, value, low=-math.inf, high=math.inf, high_open=False):
    """``value`` as a float in ``[low, high]`` (``[low, high)`` with ``high_open``); NaN, a bool
    and a non-number are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r} "
                        f"({type(value).__name__})")
    ok = low <= value < high if high_open else low <= value <= high
    if not ok:  # NaN fails every comparison
        close = ")" if high_open else "]"
        rule = "a number" if (low, high) == (-math.inf, math.inf) else f"in [{low}, {high}{close}"
        raise ValueError(f"{owner}: {name} must be {rule}, got {value}")
    return float(value)


def padding_index(owner, padding_idx, n):
    """``padding_idx`` (None, or an int from -n to n - 1) as a row of the n embeddings, or None."""
    if padding_idx is None:
        return None
    padding_idx = size(owner, "padding_idx", padding_idx, -n)
    if padding_idx >= n:
        raise ValueError(f"{owner}: padding_idx {padding_idx} is outside the {n} embeddings "
                         f"(allowed: {-n} to {n - 1})")
    return padding_idx % n


def floating(op, input, name="input"):
    """Refuse an input that is not a floating-point Tensor."""
    tensor(op, name, input)
    if input.numpy().dtype.kind != "f":
        raise DTypeError(f"{op}: {name} must be floating-point, got dtype {input.numpy().dtype}; "
                         "convert it with .float()")


def float_like(op, input, weight):
    """Refuse an int or bool input to floating-point weights (PyTorch: "mat1 and mat2 must have
    the same dtype"); float64 into float32 weights computes in float64, as numpy does."""
    if input.numpy().dtype.kind != "f" and weight.numpy().dtype.kind == "f":
        raise DTypeError(f"{op}: input of dtype {input.numpy().dtype} cannot be multiplied by "
                         f"{weight.numpy().dtype} weights (they must have the same dtype); convert "
                         f"the input with .to(ts.{weight.numpy().dtype})")


def state(owner, what, h, expected, layout="(batch, hidden_size)"):
    """A state Tensor of shape ``expected`` (``layout`` in words) and a floating-point dtype."""
    if not isinstance(h, Tensor):
        raise TypeError(f"{owner}: {what} must be a Tensor of shape {expected}, got "
                        f"{type(h).__name__}")
    if h.shape != expected:
        raise ShapeError(f"{owner}: {what} must have shape {expected} {layout}, got {h.shape}")
    floating(owner, h, what)
