"""Gradient clipping (the course's remedy for exploding gradients) and sequence padding."""
import math

import numpy as np

from ...autograd.tensor import Tensor
from . import rnn  # noqa: F401


def _with_grads(parameters):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Scale all gradients together so their joint norm is at most ``max_norm``.

    Returns the total norm before clipping (a 0-d float32 Tensor), as PyTorch does.
    """
    grads = [p.grad.data for p in _with_grads(parameters)]
    if not grads:
        return Tensor(np.zeros((), np.float32))
    if norm_type == float("inf"):
        total = max(float(np.abs(g).max()) for g in grads)
    else:  # the 2-norm as a dot product per gradient; other norms, or float32 overflow: float64
        total = sum(float(np.vdot(g, g)) for g in grads) ** 0.5 if norm_type == 2 else math.inf
        if not math.isfinite(total):
            total = sum(float((np.abs(g.astype(np.float64)) ** norm_type).sum())
                        for g in grads) ** (1 / norm_type)
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g *= np.asarray(coef, dtype=g.dtype)
    return Tensor(np.asarray(total, dtype=np.float32))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    for p in _with_grads(parameters):
        np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
