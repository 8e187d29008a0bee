"""The losses of ``ts.nn.functional`` computed element by element: regression (``mse_loss``,
``l1_loss``, ``smooth_l1_loss``, ``huber_loss``, ``poisson_nll_loss``, ``gaussian_nll_loss``),
binary (``binary_cross_entropy`` and ``..._with_logits``), ``kl_div`` and the pair losses
(``margin_ranking_loss``, ``cosine_embedding_loss``), with PyTorch's signatures: the deprecated
``size_average``/``reduce`` in PyTorch's positions, with its warning. Composed from autograd ops:
no backward is written here.

Shapes: the target has the input's shape (PyTorch warns and broadcasts a different one, which is
almost always a bug: refused here); ``reduction`` is ``"mean"``, ``"sum"`` or ``"none"``.
"""
import math
import warnings

import numpy as np

from ..autograd.errors import ShapeError
from ..autograd.namespace import log1p, where
from ..autograd.tensor import Tensor
from . import _checks
from ._nll import REDUCTIONS, _check_reduction, _legacy_reduction, _reduce


# ---- regression ----------------------------------------------------------------------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """``(input - target)²``; ``weight`` (the input's shape) multiplies each term, and the mean
    is then ``Σ w (x - y)² / Σ w``, as PyTorch's."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "mse_loss")
    diff = _difference("mse_loss", input, target, reduction)
    return _weighted(diff * diff, weight, reduction, "mse_loss", mean_by_weights=True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """``|input - target|`` (gradient 0 where they are equal, as PyTorch); ``weight`` as in
    ``mse_loss``."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "l1_loss")
    diff = _difference("l1_loss", input, target, reduction)
    return _weighted(diff.abs(), weight, reduction, "l1_loss", mean_by_weights=True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 d² / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``);
    ``beta=0`` is ``l1_loss``."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "smooth_l1_loss")
    beta = _checks.number("smooth_l1_loss", "beta", beta)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must not be negative, got {beta}")
    diff = _difference("smooth_l1_loss", input, target, reduction)
    size = diff.abs()
    if beta == 0:
        return _reduce(size, reduction)
    return _reduce(where(size < beta, diff * diff * (0.5 / beta), size - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 d²`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``: ``delta`` times
    ``smooth_l1_loss`` with ``beta=delta``. With ``weight`` the mean is the plain mean of the
    weighted terms (PyTorch's, unlike ``mse_loss``'s)."""
    delta = _checks.number("huber_loss", "delta", delta)
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be positive, got {delta}")
    diff = _difference("huber_loss", input, target, reduction)
    size = diff.abs()
    loss = where(size < delta, diff * diff * 0.5, (size - 0.5 * delta) * delta)
    return _weighted(loss, weight, reduction, "huber_loss", mean_by_weights=False)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """The negative log-likelihood of ``target`` under Poisson(λ): ``exp(input) - target ·
    input`` with ``log_input`` (input = log λ), else ``input - target · log(input + eps)``;
    ``full`` adds Stirling's ``target log target - target + 0.5 log(2π target)`` where
    ``target > 1``."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "poisson_nll_loss")
    _check_reduction(reduction, "poisson_nll_loss")
    _checks.floating("poisson_nll_loss", input)
    t = _like(target, input, "poisson_nll_loss")
    eps = _checks.number("poisson_nll_loss", "eps", eps)
    if _checks.flag("poisson_nll_loss", "log_input", log_input):
        loss = input.exp() - t * input
    else:
        loss = input - t * (input + eps).log()
    if _checks.flag("poisson_nll_loss", "full", full):
        big = t > 1
        safe = where(big, t, 1.0)  # (log of targets <= 1 would be -inf or NaN, then masked)
        stirling = safe * safe.log() - safe + 0.5 * (safe * (2 * math.pi)).log()
        loss = loss + where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """The negative log-likelihood of ``target`` under N(input, var): ``0.5 (log var + (input -
    target)² / var)`` (+ ``0.5 log 2π`` with ``full``). ``var`` has the input's shape, or one
    dim fewer (the last), or one dim of size 1 (shared variance), or is a float; it is clamped
    at ``eps`` for the value, its gradient passing through unchanged, as PyTorch's."""
    _checks.floating("gaussian_nll_loss", input)
    t = _like(target, input, "gaussian_nll_loss")
    var = _variance(var, input)
    if reduction not in REDUCTIONS:
        raise ValueError(f"gaussian_nll_loss: reduction must be one of {REDUCTIONS}, got "
                         f"{reduction!r}")
    eps = _checks.number("gaussian_nll_loss", "eps", eps)
    floor = var.detach().clamp(min=eps) - var.detach()  # (the clamp, outside the graph)
    var = var + floor
    diff = input - t
    loss = (var.log() + diff * diff / var) * 0.5
    if _checks.flag("gaussian_nll_loss", "full", full):
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def _variance(var, input):
    """``gaussian_nll_loss``'s ``var`` as a Tensor that broadcasts to the input, checked as
    PyTorch checks it."""
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"gaussian_nll_loss: var has negative entries (var={var})")
        return Tensor(np.full(input.shape, var, input.numpy().dtype))
    _checks.tensor("gaussian_nll_loss", "var", var)
    if var.numel() and var.numpy().min() < 0:
        raise ValueError(f"gaussian_nll_loss: var has negative entries (min "
                         f"{var.numpy().min()}); a variance is >= 0")
    if var.shape == input.shape:
        return var
    if var.shape == input.shape[:-1]:  # one variance per row of the last dim
        return var.unsqueeze(-1)
    mismatched = [(a, b) for a, b in zip(input.shape, var.shape) if a != b]
    if var.ndim == input.ndim and len(mismatched) == 1 and mismatched[0][1] == 1:
        return var
    raise ValueError(f"gaussian_nll_loss: var of shape {var.shape} is of incorrect size for an "
                     f"input of shape {input.shape} (give the input's shape, the input's shape "
                     "without its last dim, or one dim of size 1)")


# ---- binary --------------------------------------------------------------------------------------
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """The course's per-step loss ``-(y log ŷ + (1 - y) log(1 - ŷ))``, logs clamped at -100,
    times ``weight`` (broadcast to the target); ``input`` and ``target`` must be in [0, 1] (as
    PyTorch, which also refuses NaN)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy")
    _check_reduction(reduction, "binary_cross_entropy")
    _checks.floating("binary_cross_entropy", input)
    y = _like(target, input, "binary_cross_entropy")
    _probabilities("binary_cross_entropy", "input", input.numpy(), " (for logits use "
                   "binary_cross_entropy_with_logits)")
    _probabilities("binary_cross_entropy", "target", y.numpy(), "")
    loss = -(y * _log_clamped(input) + (1 - y) * _log_clamped(1 - input))
    return _reduce(_times(loss, weight, "weight", "binary_cross_entropy"), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """``binary_cross_entropy(sigmoid(x), y, weight)`` computed stably, as PyTorch:
    ``(1 - y) x + (1 + (pos_weight - 1) y) softplus(-x)``. ``pos_weight`` (broadcast to the
    input, usually ``(C,)``) weighs the positive term ``-y log σ(x)`` of each class."""
    op = "binary_cross_entropy_with_logits"
    reduction = _legacy_reduction(size_average, reduce, reduction, op)
    _check_reduction(reduction, op)
    _checks.floating(op, input)
    y = _like(target, input, op)
    softplus_neg = log1p((-input.abs()).exp()) + (-input).relu()  # log(1 + exp(-x)), stably
    if pos_weight is None:
        loss = (1 - y) * input + softplus_neg
    else:
        log_weight = _times(y, pos_weight, "pos_weight", op) - y + 1  # 1 + (pos_weight - 1) y
        loss = (1 - y) * input + log_weight * softplus_neg
    return _reduce(_times(loss, weight, "weight", op), reduction)


def _times(loss, weight, name, op):
    """``loss · weight``, ``weight`` (None: no weight; a constant) broadcast to the loss's
    shape."""
    if weight is None:
        return loss
    _checks.tensor(op, name, weight)
    if weight.requires_grad:  # (as PyTorch, which has no gradient for it)
        raise RuntimeError(f"{op}: the loss is not differentiable with respect to {name}; pass "
                           f"{name}.detach()")
    try:
        shape = np.broadcast_shapes(loss.shape, weight.shape)
    except ValueError:
        shape = None
    if shape != loss.shape:
        raise ShapeError(f"{op}: {name} of shape {weight.shape} does not broadcast to the "
                         f"target's shape {loss.shape}")
    return loss * weight


def _probabilities(op, name, a, hint):
    """Refuse values outside [0, 1] or NaN, with the range found."""
    if a.size and not (a.min() >= 0 and a.max() <= 1):  # NaN fails both comparisons
        raise ValueError(f"{op}: all elements of {name} must be between 0 and 1, got values in "
                         f"[{a.min()}, {a.max()}]{hint}")


def _log_clamped(p):
    """``max(log p, -100)`` as PyTorch's BCE takes it, with a finite gradient (0) where p = 0."""
    positive = p > 0
    return where(positive, where(positive, p, 1.0).log().clamp(min=-100), -100.0)


# ---- divergence ----------------------------------------------------------------------------------
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """The KL divergence of ``input`` (log-probabilities) from ``target`` (probabilities, or
    log-probabilities with ``log_target``): ``target (log target - input)`` per element, 0 where
    ``target`` is 0. ``reduction="batchmean"`` divides the sum by the batch size (the KL
    divergence); ``"mean"`` by the number of elements, with PyTorch's warning."""
    legacy = size_average is not None or reduce is not None
    reduction = _legacy_reduction(size_average, reduce, reduction, "kl_div")
    if reduction not in REDUCTIONS + ("batchmean",):
        raise ValueError(f"kl_div: reduction must be one of {REDUCTIONS + ('batchmean',)}, got "
                         f"{reduction!r}")
    _checks.floating("kl_div", input)
    t = _like(target, input, "kl_div")
    if log_target:
        loss = t.exp() * (t - input)
    else:
        positive = t > 0
        loss = where(positive, t * where(positive, t, 1.0).log(), 0.0) - t * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    if reduction == "mean" and not legacy:
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size "
                      "and the support size; 'batchmean' divides only by the batch size and is "
                      "the KL divergence (as torch warns)", UserWarning, stacklevel=2)
    return _reduce(loss, reduction)


# ---- pairs ---------------------------------------------------------------------------------------
def _pair_arguments(op, input1, input2, target, size_average, reduce, reduction):
    """The reduction of a loss of two inputs and a target, checked (torch's legacy
    ``size_average``/``reduce`` translated), the inputs floating and the target a tensor."""
    reduction = _legacy_reduction(size_average, reduce, reduction, op)
    _check_reduction(reduction, op)
    for name, t in (("input1", input1), ("input2", input2)):
        _checks.floating(op, t, name)
    _checks.tensor(op, "target", target)
    return reduction


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """``max(0, -target (input1 - input2) + margin)``: ``target`` 1 means input1 should rank
    higher, -1 lower. The three have the same number of dims (and broadcast)."""
    op = "margin_ranking_loss"
    reduction = _pair_arguments(op, input1, input2, target, size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"{op}: all input tensors should have the same number of dims, got "
                           f"input1 {input1.shape}, input2 {input2.shape}, target {target.shape}")
    margin = _checks.number(op, "margin", margin)
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


_COSINE_EPS = 1e-12  # added to each squared norm, as PyTorch's cosine_embedding_loss


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos(x1, x2)`` where ``target`` is 1, ``max(0, cos(x1, x2) - margin)`` where it is
    -1 (0 elsewhere): inputs ``(N, D)`` with target ``(N)``, or ``(D)`` with a 0-d target; the
    cosine along D."""
    op = "cosine_embedding_loss"
    reduction = _pair_arguments(op, input1, input2, target, size_average, reduce, reduction)
    if input1.shape != input2.shape or input1.ndim not in (1, 2) \
            or target.shape != input1.shape[:-1]:
        raise RuntimeError(f"{op}: expected inputs (N, D) with a target (N) or (D) with a 0-d "
                           f"target, got input1 {input1.shape}, input2 {input2.shape}, target "
                           f"{target.shape}")
    margin = _checks.number(op, "margin", margin)
    dot = (input1 * input2).sum(-1)
    norms = ((input1 * input1).sum(-1) + _COSINE_EPS) * ((input2 * input2).sum(-1) + _COSINE_EPS)
    cos = dot / norms.sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


# ---- shared --------------------------------------------------------------------------------------
def _difference(op, input, target, reduction):
    """``input - target`` after the checks every regression loss makes."""
    _check_reduction(reduction, op)
    _checks.floating(op, input)
    return input - _like(target, input, op)


def _weighted(loss, weight, reduction, op, mean_by_weights):
    """``loss`` times ``weight`` (exactly the input's shape, as PyTorch asks), reduced; the mean
    is ``Σ w loss / Σ w`` if ``mean_by_weights``, else the plain mean."""
    if weight is None:
        return _reduce(loss, reduction)
    _checks.tensor(op, "weight", weight)
    if weight.shape != loss.shape:
        raise ShapeError(f"{op}: weight of shape {weight.shape} must have the input's shape "
                         f"{loss.shape} (weights and input must have the same size)")
    loss = loss * weight
    if reduction == "mean" and mean_by_weights:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _like(target, input, op):
    """A float target of the input's shape."""
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target, input.numpy().dtype))
    if t.shape != input.shape:
        raise ShapeError(f"{op}: target of shape {t.shape} must have the input's shape "
                         f"{input.shape}")
    if t.numpy().dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point target, got dtype {t.numpy().dtype}; "
                        "convert with .float()")
    return t
