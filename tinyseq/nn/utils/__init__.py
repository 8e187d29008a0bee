"""Gradient clipping (the course's remedy for exploding gradients) and sequence padding."""
import math

import numpy as np

from ...autograd.tensor import Tensor
from .. import _checks
from . import rnn  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401


def _with_grads(parameters, op):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameters must be Tensors, but item {i} is a "
                            f"{type(p).__name__}")
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so their joint norm is at most ``max_norm`` (>= 0; inf: no
    clipping). A non-finite total norm is PyTorch's too: a NaN norm makes every gradient NaN, an
    infinite one zeroes the finite elements (and makes the infinite ones NaN), without a warning;
    ``error_if_nonfinite=True`` raises instead.

    Returns the total norm before clipping (a 0-d float32 Tensor), as PyTorch does.
    """
    max_norm = _checks.number("clip_grad_norm_", "max_norm", max_norm, 0)
    norm_type = _checks.number("clip_grad_norm_", "norm_type", norm_type, 0)
    if norm_type == 0:
        raise ValueError("clip_grad_norm_: norm_type must be > 0 (2 for the Euclidean norm, "
                         "inf for the largest element), got 0")
    grads = [p.grad.numpy() for p in _with_grads(parameters, "clip_grad_norm_")]
    if not grads:
        return Tensor(np.zeros((), np.float32))
    if norm_type == float("inf"):
        total = max(float(np.abs(g).max()) for g in grads)
    else:  # the 2-norm as a dot product per gradient; other norms, or float32 overflow: float64
        total = sum(float(np.vdot(g, g)) for g in grads) ** 0.5 if norm_type == 2 else math.inf
        if not math.isfinite(total):
            with np.errstate(over="ignore"):  # a norm past float64 is inf, silently
                total = sum(float((np.abs(g.astype(np.float64)) ** norm_type).sum())
                            for g in grads) ** (1 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of the gradients is {total}, so "
                           "they cannot be clipped; look for the NaN/Inf gradient (or pass "
                           "error_if_nonfinite=False)")
    coef = max_norm / (total + 1e-6)
    if coef < 1 or math.isnan(coef):
        with np.errstate(invalid="ignore"):  # inf * 0 is NaN, silently, as in torch
            for g in grads:
                g *= np.asarray(coef, dtype=g.dtype)
    return Tensor(np.asarray(total, dtype=np.float32))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place (``clip_value``
    >= 0: a negative one would set every gradient to it, as PyTorch does without a word)."""
    clip_value = _checks.number("clip_grad_value_", "clip_value", clip_value, 0)
    for p in _with_grads(parameters, "clip_grad_value_"):
        p.grad.clamp_(-clip_value, clip_value)
