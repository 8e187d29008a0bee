"""More activations, as functions (``ts.nn.functional.gelu``, ...) and as modules (``nn.GELU``),
composed from autograd ops: no backward is written here. Each keeps its input's shape.

Where two branches meet (``leaky_relu``, ``elu``) the gradient at 0 is torch's: the left
branch's slope. ``elu``'s exponential only sees ``x`` where ``x <= 0`` (0 elsewhere), so a large ``x``
overflows nothing
(``where`` would send a 0 gradient through ``exp(x) = inf`` and make NaN).
"""
import math

from ..autograd.namespace import erf, softplus as softplus_op, where
from . import _checks
from .module import Module

APPROXIMATIONS = ("none", "tanh")


def gelu(input, approximate="none"):
    """``x Φ(x)``, Φ the standard normal CDF ``(1 + erf(x / √2)) / 2``; with
    ``approximate="tanh"``, ``x (1 + tanh(√(2/π) (x + 0.044715 x³))) / 2``."""
    if approximate not in APPROXIMATIONS:
        raise RuntimeError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    _checks.floating("gelu", input)
    if approximate == "tanh":
        inner = (input + 0.044715 * input * input * input) * math.sqrt(2 / math.pi)
        return 0.5 * input * (1 + inner.tanh())
    return 0.5 * input * (1 + erf(input * (1 / math.sqrt(2))))


def silu(input, inplace=False):
    """``x sigmoid(x)`` (also called swish)."""
    _checks.floating("silu", input)
    return input * input.sigmoid()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` where ``x > 0``, else ``negative_slope * x``."""
    negative_slope = _checks.number("leaky_relu", "negative_slope", negative_slope)
    _checks.tensor("leaky_relu", "input", input)
    return where(input > 0, input, input * negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """``alpha * (exp(x) - 1)`` where ``x <= 0`` (``expm1``: -0.0 stays -0.0), else ``x``; a NaN
    takes the ``x`` branch, so its gradient passes through, as in torch."""
    alpha = _checks.number("elu", "alpha", alpha)
    _checks.floating("elu", input)
    negative = input <= 0
    return where(negative, where(negative, input, 0.0).expm1() * alpha, input)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta x)) / beta``, and ``x`` where ``beta x > threshold``."""
    _checks.floating("softplus", input)
    return softplus_op(input, beta, threshold)


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in APPROXIMATIONS:
            raise RuntimeError(f"GELU: approximate must be 'none' or 'tanh', got "
                               f"{approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace  # (accepted; tinyseq computes out of place)

    def forward(self, input):
        return silu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = _checks.number("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = inplace

    def forward(self, input):
        return leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = _checks.number("ELU", "alpha", alpha)
        self.inplace = inplace

    def forward(self, input):
        return elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = _checks.number("Softplus", "beta", beta)
        self.threshold = _checks.number("Softplus", "threshold", threshold)

    def forward(self, input):
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"
