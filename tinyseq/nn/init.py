"""``ts.nn.init``: PyTorch's initialisers. Each fills a floating Tensor in place, outside the graph,
from the generator that ``ts.manual_seed`` seeds, and returns it::

    for name, p in model.named_parameters():
        if "weight" in name:
            nn.init.xavier_uniform_(p)
        else:
            nn.init.zeros_(p)

Fan-in and fan-out are PyTorch's: a weight ``(out, in, *kernel)`` has ``fan_in = in · ∏kernel`` and
``fan_out = out · ∏kernel``. The values are PyTorch's distributions, not its random streams.
"""
import math
import numbers
import warnings

import numpy as np

from ..autograd import rng
from ..autograd.mode import no_grad
from . import _checks

_GAINS = {"linear": 1, "conv1d": 1, "conv2d": 1, "conv3d": 1, "conv_transpose1d": 1,
          "conv_transpose2d": 1, "conv_transpose3d": 1, "sigmoid": 1, "tanh": 5 / 3,
          "relu": math.sqrt(2), "selu": 3 / 4}


def calculate_gain(nonlinearity, param=None):
    """The gain that keeps activations' variance after ``nonlinearity`` (``"tanh"``: 5/3);
    ``param`` is leaky_relu's negative slope (0.01 by default)."""
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, numbers.Real):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2 / (1 + slope ** 2))
    if nonlinearity not in _GAINS:
        raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; use one of "
                         f"{', '.join([*_GAINS, 'leaky_relu'])}")
    return _GAINS[nonlinearity]


def _calculate_fan_in_and_fan_out(tensor, op="_calculate_fan_in_and_fan_out"):
    """``(fan_in, fan_out)`` of a weight ``(out, in, *kernel)``, as PyTorch computes them."""
    _checks.tensor(f"nn.init.{op}", "tensor", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"nn.init.{op}: fan in and fan out need a tensor of 2 or more "
                         f"dimensions (out, in, ...), got shape {tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(op, tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"nn.init.{op}: mode {mode!r} is not supported; use 'fan_in' or "
                         "'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, op)
    return fan_in if mode == "fan_in" else fan_out


def _fill(op, tensor, draw, generator=None):
    """Write ``draw(generator, shape)`` (a float64 array) into ``tensor`` in place, outside the
    graph; returns ``tensor``."""
    _checks.floating(f"nn.init.{op}", tensor, "tensor")
    g = rng.numpy_generator(f"nn.init.{op}", generator)  # (a ts.Generator or a numpy one)
    with no_grad():
        tensor.copy_(draw(g, tensor.shape))
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Values from U(a, b)."""
    a, b = _checks.number("nn.init.uniform_", "a", a), _checks.number("nn.init.uniform_", "b", b)
    if a > b:
        raise RuntimeError(f"nn.init.uniform_: the range [a, b) must have a <= b, got a={a} > "
                           f"b={b}")
    return _fill("uniform_", tensor, lambda g, shape: g.uniform(a, b, shape), generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Values from N(mean, std²)."""
    std = _checks.number("nn.init.normal_", "std", std, 0)
    return _fill("normal_", tensor, lambda g, shape: g.normal(mean, std, shape), generator)


def constant_(tensor, val):
    if isinstance(val, bool) or not isinstance(val, (int, float, np.number)):  # (NaN is fine)
        raise TypeError(f"nn.init.constant_: val must be a number, got {type(val).__name__} "
                        f"{val!r}")
    return _fill("constant_", tensor, lambda g, shape: np.full(shape, val, np.float64))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain·√(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_uniform_")
    a = math.sqrt(3) * gain * math.sqrt(2 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_normal_")
    return normal_(tensor, 0.0, gain * math.sqrt(2 / (fan_in + fan_out)), generator)


def _kaiming_std(op, tensor, a, mode, nonlinearity):
    """gain / √fan (He et al. 2015), or None for an empty tensor (PyTorch warns, does nothing)."""
    fan = _fan(op, tensor, mode)
    if 0 in tensor.shape:
        warnings.warn(f"nn.init.{op}: initializing zero-element tensors is a no-op",
                      UserWarning, stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain·√(3 / fan), fan the fan-in or fan-out by ``mode``, gain
    ``calculate_gain(nonlinearity, a)``."""
    std = _kaiming_std("kaiming_uniform_", tensor, a, mode, nonlinearity)
    return tensor if std is None else uniform_(tensor, -math.sqrt(3) * std, math.sqrt(3) * std,
                                               generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std²) with std = gain / √fan."""
    std = _kaiming_std("kaiming_normal_", tensor, a, mode, nonlinearity)
    return tensor if std is None else normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix times ``gain``: the tensor seen as ``(rows, rest)`` has
    orthonormal rows or columns, whichever are fewer (Saxe et al. 2013), from the QR decomposition
    of a normal matrix with the signs made unique."""
    _checks.tensor("nn.init.orthogonal_", "tensor", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"nn.init.orthogonal_: only tensors of 2 or more dimensions are "
                         f"supported, got shape {tensor.shape}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows

    def draw(g, shape):
        flat = g.standard_normal((rows, cols))
        q, r = np.linalg.qr(flat.T if rows < cols else flat)
        q *= np.sign(np.diag(r))
        return gain * (q.T if rows < cols else q).reshape(shape)

    return _fill("orthogonal_", tensor, draw, generator)
