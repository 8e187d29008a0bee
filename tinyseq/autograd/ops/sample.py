"""Random draws from a tensor's values: ``ts.bernoulli(p)`` / ``p.bernoulli()`` (and, in
``inplace.py``, ``t.bernoulli_(p)``), from the generator that ``ts.manual_seed`` seeds.

As in torch the draw is recorded when ``p`` requires grad, with a gradient of 0 (a sample does
not move with its probability), at every order and in forward mode.
"""
import numpy as np

from .. import rng
from ..dtypes import tensor_of
from ..function import Function


def draw_bernoulli(p, dtype):
    """0/1 of ``dtype``, 1 with probability ``p`` (an array, each in [0, 1])."""
    p = np.asarray(p)
    if p.size and not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError(f"bernoulli: every probability must be in [0, 1], got values from "
                           f"{p.min()} to {p.max()}")
    return (rng.generator().random(p.shape) < p).astype(dtype)


class Bernoulli(Function):
    @staticmethod
    def forward(ctx, p):
        return draw_bernoulli(p, p.dtype)

    @staticmethod
    def backward(ctx, g):
        return np.zeros_like(g)

    @staticmethod
    def graph_backward(ctx, g):
        return np.zeros(g.shape, g._data.dtype)  # (a constant: zero at every order)

    @staticmethod
    def jvp(ctx, tp):
        return np.zeros_like(tp)


def bernoulli(input, *, generator=None):
    """1 with probability ``input`` (each element in [0, 1]), else 0, of ``input``'s dtype."""
    if generator is not None:
        raise NotImplementedError("bernoulli: generator= is not supported; seed the one "
                                  "generator with ts.manual_seed")
    p = tensor_of(input)
    if p._data.dtype.kind != "f":
        raise NotImplementedError(f"bernoulli: the probabilities must be a float tensor, got "
                                  f"{p._data.dtype}; convert with .float()")
    return Bernoulli.apply(p)


TENSOR_METHODS = {"bernoulli": bernoulli}
