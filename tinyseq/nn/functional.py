"""``ts.nn.functional``: layers and losses as functions, composed from autograd ops (no backward
is written here). Shapes: ``N`` batch, ``C`` classes, ``d1...`` extra dims of sequence losses."""
import warnings

import numpy as np

from ..autograd import rng
from ..autograd.functional import linear as linear_op, pad as pad_op, where
from ..autograd.errors import ShapeError
from ..autograd.tensor import Tensor
from . import _checks
from ._checks import DTypeError, OutOfRangeError
from .activations import elu, gelu, leaky_relu, silu, softplus  # noqa: F401  (F.gelu, ...)

REDUCTIONS = ("mean", "sum", "none")


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` in one op: input ``(*, in)``, weight ``(out, in)``, bias
    ``(out,)``, None, or (as in PyTorch) any shape that broadcasts to the output; returns
    ``(*, out)``."""
    _checks.tensor("linear", "input", input)
    ok = weight.ndim == 2 and input.ndim >= 1 and input.shape[-1] == weight.shape[1]
    if ok and bias is not None and bias.shape != (weight.shape[0],):
        out = (*input.shape[:-1], weight.shape[0])
        ok = len(bias.shape) <= len(out) and all(
            b in (1, o) for b, o in zip(bias.shape[::-1], out[::-1]))
    if not ok:
        given = f"input {input.shape}, weight {weight.shape}" + (
            "" if bias is None else f", bias {bias.shape}")
        raise ShapeError(f"linear: {given} do not fit: expected input (*, in_features), weight "
                         "(out_features, in_features) and bias (out_features,) or broadcastable "
                         "to the output (*, out_features)")
    _checks.float_like("linear", input, weight)
    return linear_op(input, weight, bias)


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` ``(num, dim)`` picked by the int64 ``input`` ``(*)``: ``(*, dim)``.

    Ids must be in ``[0, num)``. Repeated indices sum their gradients; the ``padding_idx`` row
    (negative counts from the end) gets none.
    """
    padding_idx = _checks.padding_index("embedding", padding_idx, weight.shape[0])
    return _embedding(input, weight, padding_idx, "embedding")


def _embedding(input, weight, padding_idx, name):
    """``embedding`` with ``name`` (the layer or the function) in its errors."""
    idx = _indices(input, name)
    n = weight.shape[0]
    if idx.size:
        low, high = idx.min(), idx.max()
        if low < 0 or high >= n:
            raise OutOfRangeError(f"{name}: id {low if low < 0 else high} is out of range for "
                                  f"{n} embeddings (ids must be in [0, {n}))")
    out = weight[idx]
    if padding_idx is not None:
        out = where(Tensor(idx == padding_idx)[..., None], out.detach(), out)
    return out


def dropout(input, p=0.5, training=True):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (train only)."""
    _checks.number("dropout", "p", p, 0, 1)
    _checks.tensor("dropout", "input", input)
    if not training or p == 0:
        return input
    dtype = input.numpy().dtype
    if p == 1:
        return input * np.zeros(input.shape, dtype)
    keep = rng.generator().random(input.shape) >= p
    return input * (keep.astype(dtype) / dtype.type(1 - p))  # zero with prob. p, scale 1/(1-p)


def relu(input):
    return input.relu()


def tanh(input):
    return input.tanh()


def sigmoid(input):
    return input.sigmoid()


def softmax(input, dim):
    return input.softmax(dim)


def log_softmax(input, dim):
    return input.log_softmax(dim)


def one_hot(indices, num_classes=-1):
    """int64 one-hot vectors ``(*, num_classes)`` (the course's representation of words)."""
    idx = _indices(indices, "one_hot")
    num_classes = _checks.size("one_hot", "num_classes", num_classes, -1)
    if num_classes == -1 and not idx.size:
        raise ValueError(f"one_hot: cannot infer num_classes from empty indices {idx.shape}; "
                         "pass num_classes")
    n = int(idx.max()) + 1 if num_classes == -1 else num_classes
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise OutOfRangeError(f"one_hot: indices must be in [0, {n}), got "
                              f"[{idx.min()}, {idx.max()}]")
    _checks.affordable("one_hot", idx.size * n, "values")
    return Tensor((idx[..., None] == np.arange(n)).astype(np.int64))


def nll_loss(input, target, ignore_index=-100, reduction="mean"):
    """``-input[n, target[n]]`` averaged over the targets that are not ``ignore_index``.

    input ``(N, C)`` or ``(N, C, d1...)`` log-probabilities with int targets ``(N)`` or
    ``(N, d1...)``; or one unbatched ``(C)`` with a 0-d target. With every target ignored, the mean
    is NaN, as in PyTorch.
    """
    _checks.floating("nll_loss", input)
    return _nll(input, target, ignore_index, reduction, "nll_loss")


def _nll(logp, target, ignore_index, reduction, op):
    """``nll_loss`` with ``op`` (the function the user called) in its errors."""
    _check_reduction(reduction, op)
    ignore_index = _checks.size(op, "ignore_index", ignore_index, -np.inf)
    idx = _indices(target, op)
    expected = logp.shape[:1] + logp.shape[2:] if logp.ndim > 1 else ()
    if logp.ndim < 1 or idx.shape != expected:
        raise ShapeError(f"{op}: target of shape {idx.shape} does not fit input of shape "
                         f"{logp.shape}; expected target shape {expected} (input is (N, C) or "
                         "(N, C, d1...) with target (N) or (N, d1...), or (C) with a 0-d target)")
    C = logp.shape[1] if logp.ndim > 1 else logp.shape[0]
    valid = idx != ignore_index
    _check_classes(op, idx[valid], C, ignore_index)
    if logp.ndim == 1:
        logp = logp.unsqueeze(0)
    logp = logp.permute(0, *range(2, logp.ndim), 1).reshape(-1, C)  # (M, C), class last
    flat, ok = np.where(valid, idx, 0).reshape(-1), valid.reshape(-1)
    picked = logp[np.arange(flat.size), flat] * Tensor(ok.astype(logp.numpy().dtype))
    if reduction == "none":
        return -picked.reshape(*idx.shape)
    total = -picked.sum()
    if reduction == "sum":
        return total
    count = int(ok.sum())
    return total / count if count else total * np.nan  # no target counted: NaN, as in PyTorch


def _check_classes(op, targets, C, ignore_index):
    """Every (not ignored) target a class index in ``[0, C)``."""
    if targets.size and (targets.min() < 0 or targets.max() >= C):
        bad = targets.min() if targets.min() < 0 else targets.max()
        raise OutOfRangeError(f"{op}: target {bad} is out of bounds for {C} classes (targets "
                              f"must be in [0, {C}) or ignore_index={ignore_index})")


def cross_entropy(input, target, ignore_index=-100, reduction="mean"):
    """``nll_loss(log_softmax(input, 1), target)``: logits ``(N, C)`` or ``(N, C, d1...)`` (or
    ``(C)`` unbatched) with int class targets, or, as in PyTorch, a float target of the input's
    shape holding class probabilities: ``-Σ_c target · log_softmax(input)`` per element."""
    _checks.floating("cross_entropy", input)
    if input.ndim < 1:
        raise ShapeError("cross_entropy: input must have a class dimension: (C), (N, C) or "
                         f"(N, C, d1...), got shape {input.shape}")
    logp = input.log_softmax(1 if input.ndim > 1 else 0)
    if _dtype_of(target).kind == "f":
        return _soft_cross_entropy(logp, target, reduction)
    return _nll(logp, target, ignore_index, reduction, "cross_entropy")


def _soft_cross_entropy(logp, target, reduction):
    """Cross-entropy against class probabilities ``target`` (the shape of the input)."""
    _check_reduction(reduction, "cross_entropy")
    if tuple(np.shape(target)) != logp.shape:
        raise DTypeError(f"cross_entropy: expected integer (int64) indices as target, got dtype "
                         f"{_dtype_of(target)} of shape {tuple(np.shape(target))}; convert with "
                         ".long() (a float target is read as class probabilities and must have "
                         f"the input's shape {logp.shape})")
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target, logp.numpy().dtype))
    loss = -(t * logp).sum(1 if logp.ndim > 1 else 0)
    return _reduce(loss, reduction)


def binary_cross_entropy(input, target, reduction="mean"):
    """The course's per-step loss ``-(y log ŷ + (1 - y) log(1 - ŷ))``, logs clamped at -100;
    ``input`` and ``target`` must be in [0, 1] (as PyTorch, which also refuses NaN)."""
    _check_reduction(reduction, "binary_cross_entropy")
    _checks.floating("binary_cross_entropy", input)
    y = _like(target, input, "binary_cross_entropy")
    _probabilities("binary_cross_entropy", "input", input.numpy(), " (for logits use "
                   "binary_cross_entropy_with_logits)")
    _probabilities("binary_cross_entropy", "target", y.numpy(), "")
    loss = -(y * _log_clamped(input) + (1 - y) * _log_clamped(1 - input))
    return _reduce(loss, reduction)


def _probabilities(op, name, a, hint):
    """Refuse values outside [0, 1] or NaN, with the range found."""
    if a.size and not (a.min() >= 0 and a.max() <= 1):  # NaN fails both comparisons
        raise ValueError(f"{op}: all elements of {name} must be between 0 and 1, got values in "
                         f"[{a.min()}, {a.max()}]{hint}")


def _log_clamped(p):
    """``max(log p, -100)`` as PyTorch's BCE takes it, with a finite gradient (0) where p = 0."""
    positive = p > 0
    return where(positive, where(positive, p, 1.0).log().clamp(min=-100), -100.0)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """``binary_cross_entropy(sigmoid(x), y)`` as ``max(x, 0) - x y + log(1 + exp(-|x|))``."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    _checks.floating("binary_cross_entropy_with_logits", input)
    y = _like(target, input, "binary_cross_entropy_with_logits")
    loss = input.relu() - input * y + (1 + (-input.abs()).exp()).log()
    return _reduce(loss, reduction)


def mse_loss(input, target, reduction="mean"):
    _check_reduction(reduction, "mse_loss")
    _checks.floating("mse_loss", input)
    diff = input - _like(target, input, "mse_loss")
    return _reduce(diff * diff, reduction)


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


def _like(target, input, op):
    """A float target of the input's shape (the targets of BCE and MSE)."""
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target, input.numpy().dtype))
    if t.shape != input.shape:
        raise ShapeError(f"{op}: target of shape {t.shape} must have the input's shape "
                         f"{input.shape}")
    if t.numpy().dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point target, got dtype {t.numpy().dtype}; "
                        "convert with .float()")
    return t


def _check_reduction(reduction, op):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce(loss, reduction):
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """The KL divergence of ``input`` (log-probabilities) from ``target`` (probabilities, or
    log-probabilities with ``log_target``): ``target (log target - input)`` per element, 0 where
    ``target`` is 0. ``reduction="batchmean"`` divides the sum by the batch size (the KL
    divergence); ``"mean"`` by the number of elements, with torch's warning."""
    if size_average is not None or reduce is not None:
        raise TypeError("kl_div: size_average and reduce are deprecated in torch and not taken "
                        "by tinyseq; use reduction=")
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
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size "
                      "and the support size; 'batchmean' divides only by the batch size and is "
                      "the KL divergence (as torch warns)", UserWarning, stacklevel=2)
    return _reduce(loss, reduction)


def pad(input, pad, mode="constant", value=None):
    """``input`` padded at both ends of its last dims: ``pad = (left, right)`` pads the last dim,
    ``(left, right, top, bottom)`` the last two, ...; negative sizes cut. ``mode`` is
    ``"constant"`` (``value``, default 0; any dims), or ``"reflect"``, ``"replicate"`` or
    ``"circular"`` (1 to 3 padded dims of a batched input, as in torch)."""
    _checks.tensor("pad", "input", input)
    return pad_op(input, pad, mode, value)


def _norm(input, p, dim, keepdim, op):
    """The ``p``-norm along ``dim``, with a gradient of 0 (not NaN) at a zero vector."""
    p = _checks.number(op, "p", p)
    if p <= 0:
        raise ValueError(f"{op}: p must be > 0 (2 for the Euclidean norm, inf for the largest "
                         f"element), got {p}")
    if p == np.inf:
        return input.abs().amax(dim, keepdim=keepdim)
    powered = input * input if p == 2 else input.abs() ** p
    total = powered.sum(dim, keepdim=keepdim)
    nonzero = total > 0
    return where(nonzero, where(nonzero, total, 1.0) ** (1 / p), 0.0)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``input / max(‖input‖_p, eps)``, the norm taken along ``dim``: unit vectors along it."""
    _checks.floating("normalize", input)
    return input / _norm(input, p, dim, True, "normalize").clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``Σ x1 x2 / (max(‖x1‖, eps) max(‖x2‖, eps))`` along ``dim`` (the inputs broadcast);
    ``dim`` is removed."""
    _checks.floating("cosine_similarity", x1, "x1")
    _checks.floating("cosine_similarity", x2, "x2")
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(f"cosine_similarity: x1 of shape {x1.shape} and x2 of shape {x2.shape} "
                         "do not broadcast") from None
    x1, x2 = x1.expand(*shape), x2.expand(*shape)
    n1 = _norm(x1, 2, dim, True, "cosine_similarity").clamp(min=eps)
    n2 = _norm(x2, 2, dim, True, "cosine_similarity").clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``‖x1 - x2 + eps‖_p`` along the last dim (the inputs broadcast)."""
    _checks.floating("pairwise_distance", x1, "x1")
    _checks.floating("pairwise_distance", x2, "x2")
    return _norm(x1 - x2 + eps, p, -1, keepdim, "pairwise_distance")


# (imported last: attention.py uses this module's dropout, linear and pad)
from .attention import scaled_dot_product_attention  # noqa: E402,F401
