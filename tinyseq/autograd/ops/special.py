"""Special functions of the activations in ``ts.nn.functional``: ``erf`` (GELU's Gaussian CDF is
``(1 + erf(x / √2)) / 2``) and ``softplus``, written as ops because numpy has neither: composed
from ``log`` and ``exp``, softplus would lose ``log1p``'s precision at large negative inputs.

numpy has no ``erf`` and scipy is not a dependency, so ``erf`` runs Python's ``math.erf`` over the
elements (exact to the last bit, about 0.1 µs an element).
"""
import math

import numpy as np

from ..dtypes import floating
from ..function import Function
from . import activations
from .selection import where

_erf = np.frompyfunc(math.erf, 1, 1)


class Erf(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.asarray(_erf(a), dtype=a.dtype)  # (a 0-d input gives a Python float)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (2 / math.sqrt(math.pi) * np.exp(-a * a)).astype(a.dtype)

    jvp = backward  # (the tangent is scaled by the same derivative)

    @staticmethod
    def graph_backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (2 / math.sqrt(math.pi) * activations.exp(-a * a))


def erf(input):
    """The error function ``2/√π ∫₀ˣ exp(-t²) dt``, elementwise (ints give float32)."""
    return Erf.apply(floating(input))


class Softplus(Function):
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold`` (as torch);
    the gradient is ``sigmoid(beta x)`` (1 past the threshold)."""

    @staticmethod
    def forward(ctx, a, beta, threshold):
        z = a * np.asarray(beta, a.dtype)
        ctx.save_for_backward(z, a)  # (``a``: for graph_backward, as torch saves it)
        ctx.beta, ctx.threshold = beta, threshold
        return np.where(z > threshold, a, np.logaddexp(0, z) / np.asarray(beta, a.dtype))

    @staticmethod
    def backward(ctx, g):
        z = ctx.saved_tensors[0]
        sigmoid = np.exp(-np.logaddexp(0, -z))  # (no overflow at either end)
        return np.where(z > ctx.threshold, g, g * sigmoid), None, None

    @staticmethod
    def jvp(ctx, ta, tbeta, tthreshold):
        return Softplus.backward(ctx, ta)[0]  # (the tangent is scaled by the same derivative)

    @staticmethod
    def graph_backward(ctx, g):
        """``g * sigmoid(beta a)`` in Tensor ops, from the input itself (``z = beta a`` is a
        constant in the graph), ``g`` past the threshold."""
        z, a = ctx.saved_tensors
        slope = activations.sigmoid(a * ctx.beta)
        return where(z._data > ctx.threshold, g, g * slope), None, None


def softplus(input, beta=1.0, threshold=20.0):
    """A smooth ``relu``: ``log(1 + exp(beta x)) / beta``, linear past ``beta x > threshold``."""
    for name, value in (("beta", beta), ("threshold", threshold)):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise TypeError(f"softplus: {name} must be a number, got {type(value).__name__} "
                            f"{value!r}")
    return Softplus.apply(floating(input), beta, threshold)


# The functions above as Tensor methods (tensor.py attaches them); softplus is nn.functional's.
TENSOR_METHODS = {"erf": erf}
