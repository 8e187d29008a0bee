"""``nll_loss`` and ``cross_entropy`` as torch computes them (class weights, ``ignore_index``,
label smoothing, probability targets), and the reduction and index helpers every loss of
``ts.nn.functional`` shares. Composed from autograd ops: no backward is written here.

Shapes: ``N`` batch, ``C`` classes, ``d1...`` extra dims of sequence losses; the class dim is 1
(0 for an unbatched ``(C)`` input).
"""
import warnings

import numpy as np

from ..autograd.errors import ShapeError
from ..autograd.function import Function
from ..autograd.namespace import where
from ..autograd.tensor import Tensor
from . import _checks
from ._checks import DTypeError, OutOfRangeError

REDUCTIONS = ("mean", "sum", "none")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """``-weight[t] · input[n, t]`` for each target ``t = target[n]`` that is not
    ``ignore_index``; ``"mean"`` divides the sum by ``Σ weight[t]`` (the count without weights).

    input ``(N, C)`` or ``(N, C, d1...)`` log-probabilities with int targets ``(N)`` or
    ``(N, d1...)``; or one unbatched ``(C)`` with a 0-d target. ``weight`` ``(C,)`` (a constant,
    as in torch). With every target ignored, the mean is NaN, as in PyTorch.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "nll_loss")
    _checks.floating("nll_loss", input)
    return _class_targets(input, target, weight, ignore_index, reduction, 0.0, "nll_loss")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """``nll_loss(log_softmax(input, 1), target, weight)`` for int class targets; a float target
    of the input's shape holds class probabilities: ``-Σ_c weight_c target_c log_softmax_c``.

    ``label_smoothing`` ε mixes the target with the uniform distribution: ``(1 - ε) ·`` the loss
    above ``+ ε / C ·`` the loss against every class (``-Σ_c weight_c log_softmax_c``), as torch.
    Logits ``(N, C)``, ``(N, C, d1...)`` or ``(C)``; weight ``(C,)``.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "cross_entropy")
    _checks.floating("cross_entropy", input)
    if input.ndim < 1:
        raise ShapeError("cross_entropy: input must have a class dimension: (C), (N, C) or "
                         f"(N, C, d1...), got shape {input.shape}")
    eps = _checks.number("cross_entropy", "label_smoothing", label_smoothing)
    if not 0 <= eps <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {eps}")
    logp = input.log_softmax(1 if input.ndim > 1 else 0)
    if tuple(np.shape(target)) == input.shape or _dtype_of(target).kind == "f":
        return _probability_targets(logp, target, weight, ignore_index, reduction, eps)
    return _class_targets(logp, target, weight, ignore_index, reduction, eps, "cross_entropy")


def _class_targets(logp, target, weight, ignore_index, reduction, eps, op):
    """The loss of log-probabilities ``logp`` against int class ``target``s, smoothed by
    ``eps``: per target ``-(1 - ε) w_t logp_t - ε / C Σ_c w_c logp_c``, 0 where ignored."""
    _check_reduction(reduction, op)
    ignore_index = _checks.size(op, "ignore_index", ignore_index, -np.inf)
    idx = _indices(target, op)
    expected = logp.shape[:1] + logp.shape[2:] if logp.ndim > 1 else ()
    if logp.ndim < 1 or idx.shape != expected:
        raise ShapeError(f"{op}: target of shape {idx.shape} does not fit input of shape "
                         f"{logp.shape}; expected target shape {expected} (input is (N, C) or "
                         "(N, C, d1...) with target (N) or (N, d1...), or (C) with a 0-d target)")
    C = logp.shape[1] if logp.ndim > 1 else logp.shape[0]
    w = _class_weights(weight, C, logp, op)
    valid = idx != ignore_index
    _check_classes(op, idx[valid], C, ignore_index)
    flat_logp = _classes_last(logp)  # (M, C)
    flat, ok = np.where(valid, idx, 0).reshape(-1), valid.reshape(-1)
    target_w = np.where(ok, w[flat], 0).astype(w.dtype)  # w_t, 0 where ignored
    loss = -flat_logp[np.arange(flat.size), flat] * Tensor(target_w)
    if eps:
        smooth = -(flat_logp * Tensor(w)).sum(1) * Tensor(ok.astype(w.dtype))
        loss = loss * (1 - eps) + smooth * (eps / C)
    if reduction == "none":
        return loss.reshape(*idx.shape)
    total = loss.sum()
    if reduction == "sum":
        return total
    denominator = float(target_w.sum())
    return total / denominator if denominator else _OverZeroWeight.apply(loss, ok)


class _OverZeroWeight(Function):
    """The ``"mean"`` of per-target losses ``(M,)`` whose counted weight is 0 (every target
    ignored, or the targets' class weights are 0), as torch computes it: the sum divided by 0
    (NaN), and so the tangent (NaN); the gradient ``weight_t / 0`` reaches only the counted
    targets (``ok`` ``(M,)``), an ignored target gets 0, not NaN: one all-padding batch must not
    turn every parameter NaN."""

    name = "nll_loss"  # (torch names this node NllLossBackward0)

    @staticmethod
    def forward(ctx, loss, ok):
        ctx.ok = ok
        ctx.scale = np.where(ok, np.inf, 0).astype(loss.dtype)  # d mean / d loss_i: 1 / 0 or 0
        return np.asarray(loss.sum() / loss.dtype.type(0))

    @staticmethod
    def backward(ctx, g):
        # (set to 0, not multiplied by 0: a NaN gradient must not reach an ignored target)
        return np.where(ctx.ok, g * ctx.scale, ctx.scale.dtype.type(0)), None

    @staticmethod
    def graph_backward(ctx, g):  # (the scale is a constant: the second derivative is 0)
        return where(Tensor(ctx.ok), g * Tensor(ctx.scale), 0.0), None

    @staticmethod
    def jvp(ctx, tangent, ok):
        return np.asarray(tangent.sum() / tangent.dtype.type(0))


def _probability_targets(logp, target, weight, ignore_index, reduction, eps):
    """Cross-entropy against class probabilities ``target`` (the shape of the input), smoothed
    to ``(1 - ε) target + ε / C``; ``"mean"`` averages over the ``N·d1...`` positions."""
    _check_reduction(reduction, "cross_entropy")
    if tuple(np.shape(target)) != logp.shape:
        raise DTypeError(f"cross_entropy: expected integer (int64) indices as target, got dtype "
                         f"{_dtype_of(target)} of shape {tuple(np.shape(target))}; convert with "
                         ".long() (a float target is read as class probabilities and must have "
                         f"the input's shape {logp.shape})")
    if _dtype_of(target).kind != "f":
        raise DTypeError(f"cross_entropy: a target of the input's shape {logp.shape} holds class "
                         f"probabilities and must be floating-point, got {_dtype_of(target)}; "
                         "convert it with .float() (class indices have shape (N) or (N, d1...))")
    if _checks.size("cross_entropy", "ignore_index", ignore_index, -np.inf) >= 0:
        raise ValueError(f"cross_entropy: ignore_index={ignore_index} is not supported for "
                         "probability (floating-point) targets; leave it at -100")
    class_dim = 1 if logp.ndim > 1 else 0
    C = logp.shape[class_dim]
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target, logp.numpy().dtype))
    if eps:
        t = t * (1 - eps) + eps / C
    weighted = logp * t
    if weight is not None:
        shape = [1] * logp.ndim
        shape[class_dim] = C
        weighted = weighted * Tensor(_class_weights(weight, C, logp, "cross_entropy")
                                     .reshape(shape))
    loss = -weighted.sum(class_dim)
    if reduction != "mean" or loss.numel():
        return _reduce(loss, reduction)
    return loss.sum() + np.nan  # the mean of nothing: NaN, with torch's tangent (0)


def _classes_last(logp):
    """``(N, C, d1...)`` (or ``(C)``) as ``(M, C)``: one row per position."""
    C = logp.shape[1] if logp.ndim > 1 else logp.shape[0]
    if logp.ndim == 1:
        logp = logp.unsqueeze(0)
    return logp.permute(0, *range(2, logp.ndim), 1).reshape(-1, C)


def _class_weights(weight, C, logp, op):
    """``weight`` as a constant numpy ``(C,)`` of the input's dtype (ones when None)."""
    dtype = logp.numpy().dtype
    if weight is None:
        return np.ones(C, dtype)
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: weight must be a Tensor of {C} class weights, got "
                        f"{type(weight).__name__}; convert it with ts.tensor(...)")
    if weight.shape != (C,):
        raise ShapeError(f"{op}: weight tensor should be defined either for all {C} classes or "
                         f"no classes but got weight tensor of shape: {list(weight.shape)}")
    if weight.requires_grad:
        raise RuntimeError(f"{op}: the loss is not differentiable with respect to weight; pass "
                           "weight.detach()")
    if weight.numpy().dtype != dtype:
        raise DTypeError(f"{op}: weight has dtype {weight.numpy().dtype} but the input has "
                         f"{dtype}; convert it with .to(ts.{dtype})")
    return weight.numpy()


def _check_classes(op, targets, C, ignore_index):
    """Every (not ignored) target a class index in ``[0, C)``."""
    if targets.size and (targets.min() < 0 or targets.max() >= C):
        bad = targets.min() if targets.min() < 0 else targets.max()
        raise OutOfRangeError(f"{op}: target {bad} is out of bounds for {C} classes (targets "
                              f"must be in [0, {C}) or ignore_index={ignore_index})")


def _legacy_reduction(size_average, reduce, reduction, op):
    """``reduction``, or what torch's deprecated ``size_average``/``reduce`` mean, with its
    warning: both True (their default) is "mean", ``reduce`` alone "sum", ``reduce=False``
    "none"."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(f"{op}: size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", UserWarning, stacklevel=3)
    return reduction


def _dtype_of(x):
    return x.numpy().dtype if isinstance(x, Tensor) else np.asarray(x).dtype


def _indices(x, op):
    try:
        idx = np.asarray(x.numpy() if isinstance(x, Tensor) else x)
    except ValueError:  # a ragged nested list
        raise TypeError(f"{op}: expected integer (int64) indices, got a ragged "
                        f"{type(x).__name__}; pass a Tensor of ids") from None
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected integer (int64) indices, got dtype {idx.dtype}; "
                        "convert with .long()")
    return idx


def _check_reduction(reduction, op):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce(loss, reduction):
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()
