"""Devices on a CPU-only library: ``ts.device``, ``ts.cuda``, ``ts.backends``, and what
``t.to(...)`` and ``model.to(...)`` are given.

tinyseq runs on the CPU, so ``ts.device("cpu")`` is the one device a tensor has; the code a PyTorch
program writes about devices (``device = torch.device("cuda" if torch.cuda.is_available() else
"cpu")``, ``t.to(device)``, ``torch.backends.cudnn.deterministic = True``) runs as on a machine
without a GPU. Asking for a GPU (``"cuda"``, ``"mps"``, ...) is refused in one line that says how
to run the program on PyTorch instead.
"""
import builtins
import types

import numpy as np

# the device types PyTorch knows: all but the CPU are accelerators that tinyseq does not have
_ACCELERATORS = ("cuda", "mps", "xpu", "hip", "xla", "ipu", "hpu", "mtia", "meta", "vulkan",
                 "opengl", "opencl", "ideep", "mkldnn", "ve", "fpga", "maia", "lazy",
                 "privateuseone")
_TO_PYTORCH = ("tinyseq runs on the CPU only: use 'cpu', or run this program on PyTorch by "
               "switching `import tinyseq as torch` back to `import torch`")


class device:
    """Where a tensor lives: ``ts.device("cpu")`` (or ``"cpu:0"``, ``("cpu", 0)``), as
    ``torch.device``; ``str(d)`` is ``"cpu"``, ``d.type`` ``"cpu"``, ``d.index`` None or 0.

    >>> import tinyseq as ts
    >>> ts.device("cpu"), str(ts.device("cpu", 0)), ts.ones(2).device == ts.device("cpu")
    (device(type='cpu'), 'cpu:0', True)
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):  # an int is an accelerator's index, as in torch
            if isinstance(type, (int, np.integer)) and not isinstance(type, bool):
                raise RuntimeError(f"ts.device: device {type} is a GPU's index; {_TO_PYTORCH}")
            raise TypeError(f"ts.device: expected a device name such as 'cpu', got "
                            f"{type!r} ({builtins.type(type).__name__})")
        name, _, number = type.partition(":")
        if name in _ACCELERATORS:
            raise RuntimeError(f"ts.device: {type!r} is a GPU (an accelerator); "
                               f"{_TO_PYTORCH}")
        if name != "cpu":
            raise RuntimeError(f"ts.device: unknown device {type!r}; tinyseq's one device is "
                               "'cpu'")
        if number:
            if index is not None or not number.isdigit():
                raise RuntimeError(f"ts.device: invalid device string {type!r}; use 'cpu' or "
                                   "'cpu:0'")
            index = int(number)
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise TypeError(f"ts.device: the index must be an int, got {index!r}")
            if index < 0:
                raise RuntimeError(f"ts.device: the index must not be negative, got {index}")
            index = int(index)
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError(f"ts.device is immutable: cannot set {name!r}")

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __reduce__(self):
        return device, (self.type, self.index)


CPU = device("cpu")


def device_arg(op, value):
    """``value`` (a ``ts.device``, a name such as ``"cpu"``, or None) checked: the CPU, or None.
    A GPU is refused in one line naming ``op``."""
    if value is None or value is CPU:
        return value
    try:
        return device(value)
    except (RuntimeError, TypeError) as error:
        raise type(error)(str(error).replace("ts.device:", f"{op}:", 1)) from None


def is_dtype(value):
    """True for what names a dtype in ``t.to(...)``: a ``ts`` dtype (``ts.float32``), a numpy dtype
    or scalar type, or Python's ``float``, ``int`` and ``bool``."""
    from .dtypes import DType  # (device.py imports nothing of the engine when it loads)

    return isinstance(value, (DType, np.dtype)) or (isinstance(value, type) and (
        issubclass(value, np.generic) or value in (float, int, bool)))


def to_args(op, args, kwargs, copy=True):
    """``t.to(...)``'s arguments, in any of PyTorch's forms — ``to(device=None, dtype=None,
    non_blocking=False, copy=False)``, ``to(dtype, non_blocking=False, copy=False)``,
    ``to(tensor, non_blocking=False, copy=False)`` — as ``(dtype or None, copy)``; the device is
    checked (the CPU). ``copy=False``: ``copy`` is not an argument (``Module.to``)."""
    from .tensor import Tensor  # (device.py imports nothing of the engine when it loads)

    known = {"device", "dtype", "non_blocking", "memory_format"} | ({"copy"} if copy else set())
    unknown = sorted(kwargs.keys() - known)
    if unknown:
        raise TypeError(f"{op}: unexpected keyword argument {unknown[0]!r}")
    given = dict(kwargs)
    rest = list(args)
    if rest and isinstance(rest[0], Tensor):  # to(other): other's dtype
        given["dtype"] = rest.pop(0).dtype
    elif rest and is_dtype(rest[0]):
        given["dtype"] = rest.pop(0)
    elif rest:
        given["device"] = rest.pop(0)
        if rest and (rest[0] is None or is_dtype(rest[0])):
            given["dtype"] = rest.pop(0)
    for name, value in zip(("non_blocking", "copy")[: 1 + copy], rest):
        given[name] = value
    if len(rest) > 1 + copy or not all(isinstance(a, bool) for a in rest):
        raise TypeError(f"{op}: expected (device=None, dtype=None, non_blocking=False"
                        f"{', copy=False' if copy else ''}), (dtype, ...) or (tensor, ...), got "
                        f"{', '.join(map(repr, args))}")
    device_arg(op, given.get("device"))
    return given.get("dtype"), bool(given.get("copy", False))


# ---- what a PyTorch program asks of CUDA and its backends on a machine without a GPU ------------
def _no_seed(seed):
    """Accepted and ignored, as by PyTorch without CUDA (``ts.manual_seed`` seeds tinyseq)."""
    int(seed)


cuda = types.ModuleType("tinyseq.cuda", "What a program asks of CUDA: there is none "
                        "(``ts.cuda.is_available()`` is False).")
cuda.is_available = lambda: False
cuda.device_count = lambda: 0
cuda.manual_seed = cuda.manual_seed_all = _no_seed

backends = types.ModuleType("tinyseq.backends", "PyTorch's backend switches: accepted, no effect.")
backends.cudnn = types.ModuleType("tinyseq.backends.cudnn", "cuDNN's flags (settable, no effect).")
backends.cudnn.enabled, backends.cudnn.benchmark, backends.cudnn.deterministic = True, False, False
backends.cudnn.is_available = lambda: False
backends.mps = types.ModuleType("tinyseq.backends.mps", "Apple's GPU: not available.")
backends.mps.is_available = backends.mps.is_built = lambda: False


def set_default_device(value):
    """``ts.set_default_device("cpu")`` (or None): accepted, the CPU being tinyseq's one device."""
    device_arg("set_default_device", value)


def get_default_device():
    return CPU
