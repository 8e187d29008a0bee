"""tinyseq: sequence models on a small, readable reverse-mode autodiff engine over numpy.

``import tinyseq as ts``; the names here follow PyTorch's (``ts.tensor``, ``ts.no_grad``, ...).
Importing tinyseq loads the engine (``ts.autograd``) and changes nothing in your process; the
other subpackages (``ts.nn``, ``ts.optim``, ``ts.viz``, ...) load when first used.
"""
import importlib as _importlib
import os as _os
import sys as _sys


def _running_the_command():
    """True when this import is the ``tinyseq`` command or an example starting (the console
    script, ``python -m tinyseq``, ``python -m tinyseq.app...``), not a program or a session
    importing tinyseq. Never raises: an embedded interpreter may have no (or an empty) argv."""
    argv = getattr(_sys, "argv", None) or [""]
    if _os.path.basename(argv[0]) == "tinyseq":
        return True
    if argv[0] != "-m":  # (while ``-m`` looks for its module, argv[0] is "-m")
        return False
    given = getattr(_sys, "orig_argv", [])
    module = given[-len(argv)] if len(given) >= len(argv) else ""  # "tinyseq", or "-mtinyseq"
    module = module.removeprefix("-m")
    return module == "tinyseq" or module.startswith("tinyseq.app.")


def _interrupted_while_starting(signum, frame):
    """Ctrl-C before the command's own handling is in place (``cli.main`` replaces this): the
    same one line as later, exit status 130, no traceback from the half-done imports."""
    _os.write(2, b"tinyseq: interrupted\n")
    _os._exit(130)


if _running_the_command():  # the command's own process: tuned for speed (tinyseq/app/tuning.py)
    import signal as _signal

    _signal.signal(_signal.SIGINT, _interrupted_while_starting)
    from .app import tuning

    tuning.single_threaded_blas()  # (before numpy loads its BLAS, below)
    tuning.keep_freed_memory()

import numpy as _np  # noqa: E402  (after the command's BLAS setting, above)

from . import autograd  # noqa: E402
from .autograd import Tensor
from .autograd.dtypes import DType as dtype
from .autograd.factories import (BoolTensor, DoubleTensor, FloatTensor, IntTensor,  # noqa: F401
                                 LongTensor, arange, bool_, empty, float16, float32, float64,
                                 from_numpy, full, int8, int16, int32, int64, multinomial, ones,
                                 ones_like, rand, randint, randn, randperm, tensor, uint8, zeros,
                                 zeros_like)
from .autograd.printing import set_printoptions
from .autograd.size import Size
from .autograd.factories import (as_tensor, eye, full_like, is_tensor, linspace,  # noqa: F401
                                 logspace, numel, rand_like, randint_like, randn_like)
from .autograd.namespace import *  # noqa: F401,F403  (ts.exp, ts.sum, ... for each Tensor method)
from .autograd.namespace import FUNCTIONS, METHODS, cat, matmul, stack, where
from .autograd.namespace import einsum, std_mean, var_mean  # noqa: F401
from .autograd import linalg  # noqa: E402
from .autograd.mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.errors import DTypeError, OutOfRangeError, ShapeError
from .autograd.rng import Generator, default_generator, manual_seed
from .autograd.device import backends, cuda, device, get_default_device, set_default_device
from .io import load, save

# ``import tinyseq.backends.cudnn as cudnn`` works, as with torch
_sys.modules.update({m.__name__: m for m in (cuda, backends, backends.cudnn, backends.mps)})
_sys.modules["tinyseq.linalg"] = linalg  # ``import tinyseq.linalg``, as torch.linalg


class inference_mode(no_grad):
    """``with ts.inference_mode():`` (or ``@ts.inference_mode``) records no graph, as ``no_grad``
    (PyTorch's also makes tensors that can never join a graph; tinyseq's are ordinary);
    ``inference_mode(False)`` records it, as ``enable_grad``."""

    def __new__(cls, mode=True):
        if callable(mode):  # @ts.inference_mode, without parentheses
            return no_grad()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.enabled = not mode

    def __call__(self, fn):
        return (enable_grad() if self.enabled else no_grad())(fn)


def initial_seed():
    """The seed the default stream started from (``ts.manual_seed``'s)."""
    return default_generator.initial_seed()


def seed():
    """Seed the default stream from a fresh random seed, and return that seed."""
    return default_generator.seed()


def get_rng_state():
    """The default stream's state (a uint8 Tensor), for ``ts.set_rng_state``."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Put the default stream back in a state that ``ts.get_rng_state()`` gave."""
    default_generator.set_state(new_state)


def get_default_dtype():
    """``ts.float32``: what floats become unless a ``dtype`` says otherwise."""
    return float32


def set_default_dtype(d):
    """Accepted for ``ts.float32``, tinyseq's fixed default; give ``dtype=`` to the factories or
    call ``model.double()`` for float64."""
    if not (isinstance(d, (type, _np.dtype, dtype)) and d in (float32, float64)):
        raise TypeError(f"set_default_dtype: only floating dtypes can be the default, got {d!r}")
    if d != float32:
        raise NotImplementedError("set_default_dtype: tinyseq's default dtype stays float32; "
                                  "give dtype=ts.float64 to the factories, or call "
                                  "model.double()")


_COMPILE_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs",
                  "max-autotune")


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None,
            name=None, disable=False, recompile_limit=None, isolate_recompiles=False,
            shapes_spec=None):
    """``model`` itself (a module or a function), unchanged: tinyseq compiles nothing, it runs
    what it is given step by step on numpy, so the result computes exactly what ``model`` does.
    Accepted so that PyTorch programs calling ``torch.compile(model)`` (or using
    ``@torch.compile(...)`` as a decorator, ``model=None``) run; ``mode`` is checked as torch
    checks it, the other options are ignored.

    >>> import tinyseq as ts
    >>> layer = ts.nn.Linear(2, 3)
    >>> ts.compile(layer) is layer
    True
    """
    if mode is not None and mode not in _COMPILE_MODES:
        raise RuntimeError(f"compile: Unrecognized mode={mode}, should be one of: "
                           f"{', '.join(_COMPILE_MODES)}")
    if mode is not None and options is not None:
        raise RuntimeError("compile: Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if model is None:  # @ts.compile(mode=...): a decorator
        return lambda fn: compile(fn, fullgraph=fullgraph, mode=mode, options=options)
    if not callable(model):
        raise AssertionError(f"compile: A callable function is expected, but {type(model)} is "
                             "provided.")
    return model


# PyTorch's dtype names (they hide Python's bool, float and int in this module: none is used below)
bool, float, double, half, long, int, short = (bool_, float32, float64, float16, int64, int32,
                                              int16)
__version__ = "0.1.0"

__all__ = ["autograd", "Tensor", "tensor", "from_numpy", "zeros", "ones", "full", "rand", "randn",
           "arange", "zeros_like", "ones_like", "empty", "randint", "randperm", "multinomial",
           "FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "dtype", "Size",
           "set_printoptions", "float16", "half",
           "float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool", "float",
           "double", "long", "int", "short", "cat", "stack", "where", "matmul", "no_grad",
           "enable_grad", "is_grad_enabled", "set_grad_enabled", "inference_mode", "manual_seed",
           "Generator",
           "default_generator", "initial_seed", "seed", "get_rng_state", "set_rng_state", "device",
           "set_default_device", "get_default_device", "get_default_dtype",
           "set_default_dtype", "ShapeError", "DTypeError", "OutOfRangeError", "save", "load",
           "linalg", "einsum", "var_mean", "std_mean", "randn_like", "rand_like", "randint_like",
           "full_like", "linspace", "logspace", "eye", "as_tensor", "is_tensor", "numel",
           "compile", *METHODS, *FUNCTIONS]

# loaded at their first use (PEP 562): ``import tinyseq.autograd`` loads no layers, drawings or
# models (tests/test_imports.py), and ``import tinyseq`` takes a third less time
_SUBPACKAGES = ("nn", "optim", "data", "utils", "models", "viz", "course", "app")


def __getattr__(name):
    """``ts.nn``, ``ts.viz``, ...: the subpackage, imported now (then an ordinary attribute)."""
    if name in _SUBPACKAGES:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    public = [k for k in globals() if not k.startswith("_") or k.startswith("__")]
    return sorted({*public, *_SUBPACKAGES})
