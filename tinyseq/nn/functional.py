"""``ts.nn.functional``: layers and losses as functions, composed from autograd ops (no backward
is written here). Shapes: ``N`` batch, ``C`` classes, ``d1...`` extra dims of sequence losses."""
import numpy as np

from ..autograd import rng
from ..autograd.functional import where
from ..autograd.ops._util import ShapeError
from ..autograd.ops.linalg import Linear
from ..autograd.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` in one op: input ``(*, in)``, weight ``(out, in)``, bias
    ``(out,)``, None, or (as in PyTorch) any shape that broadcasts to the output; returns
    ``(*, out)``."""
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
    return Linear.apply(input, weight, bias)


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` ``(num, dim)`` picked by the int64 ``input`` ``(*)``: ``(*, dim)``.

    Repeated indices sum their gradients; the ``padding_idx`` row gets none.
    """
    idx = _indices(input, "embedding")
    out = weight[idx]
    if padding_idx is not None:
        out = where(Tensor._wrap(idx == padding_idx)[..., None], out.detach(), out)
    return out


def dropout(input, p=0.5, training=True):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (train only)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return input
    dtype = input.data.dtype
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
    n = int(idx.max()) + 1 if num_classes < 0 else num_classes
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"one_hot: indices must be in [0, {n}), got [{idx.min()}, {idx.max()}]")
    return Tensor._wrap((idx[..., None] == np.arange(n)).astype(np.int64))


def nll_loss(input, target, ignore_index=-100, reduction="mean"):
    """``-input[n, target[n]]`` averaged over the targets that are not ``ignore_index``.

    input ``(N, C)`` or ``(N, C, d1...)`` log-probabilities; target int64 ``(N)`` or ``(N, d1...)``.
    """
    _check_reduction(reduction, "nll_loss")
    idx = _indices(target, "nll_loss")
    if input.ndim < 1 or idx.shape != input.shape[:1] + input.shape[2:]:
        raise ShapeError(f"nll_loss: target of shape {idx.shape} does not fit input of shape "
                         f"{input.shape}; expected target shape {input.shape[:1] + input.shape[2:]}"
                         " (input is (N, C) or (N, C, d1...), target (N) or (N, d1...))")
    C = input.shape[1] if input.ndim > 1 else input.shape[0]
    valid = idx != ignore_index
    if np.any((idx[valid] < 0) | (idx[valid] >= C)):
        raise ValueError(f"nll_loss: target values must be in [0, {C}) or ignore_index "
                         f"({ignore_index}), got values in [{idx.min()}, {idx.max()}]")
    logp = input.unsqueeze(0) if input.ndim == 1 else input
    logp = logp.permute(0, *range(2, logp.ndim), 1).reshape(-1, C)  # (M, C), class last
    flat, ok = np.where(valid, idx, 0).reshape(-1), valid.reshape(-1)
    picked = logp[np.arange(flat.size), flat] * Tensor._wrap(ok.astype(input.data.dtype))
    if reduction == "none":
        return -picked.reshape(*idx.shape)
    total = -picked.sum()
    return total if reduction == "sum" else total / int(ok.sum())


def cross_entropy(input, target, ignore_index=-100, reduction="mean"):
    """``nll_loss(log_softmax(input, 1), target)``: logits ``(N, C)`` or ``(N, C, d1...)``."""
    return nll_loss(input.log_softmax(1 if input.ndim > 1 else 0), target, ignore_index, reduction)


def binary_cross_entropy(input, target, reduction="mean"):
    """The course's per-step loss ``-(y log ŷ + (1 - y) log(1 - ŷ))``, logs clamped at -100."""
    _check_reduction(reduction, "binary_cross_entropy")
    y = _like(target, input, "binary_cross_entropy")
    loss = -(y * _log_clamped(input) + (1 - y) * _log_clamped(1 - input))
    return _reduce(loss, reduction)


def _log_clamped(p):
    """``max(log p, -100)`` as PyTorch's BCE takes it, with a finite gradient (0) where p = 0."""
    positive = p > 0
    return where(positive, where(positive, p, 1.0).log().clamp(min=-100), -100.0)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """``binary_cross_entropy(sigmoid(x), y)`` as ``max(x, 0) - x y + log(1 + exp(-|x|))``."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    y = _like(target, input, "binary_cross_entropy_with_logits")
    loss = input.relu() - input * y + (1 + (-input.abs()).exp()).log()
    return _reduce(loss, reduction)


def mse_loss(input, target, reduction="mean"):
    _check_reduction(reduction, "mse_loss")
    diff = input - _like(target, input, "mse_loss")
    return _reduce(diff * diff, reduction)


def _indices(x, op):
    idx = np.asarray(x.data if isinstance(x, Tensor) else x)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected integer (int64) indices, got dtype {idx.dtype}; "
                        "convert with .long()")
    return idx


def _like(target, input, op):
    """A float target of the input's shape (the targets of BCE and MSE)."""
    t = target if isinstance(target, Tensor) else Tensor(np.asarray(target, input.data.dtype))
    if t.shape != input.shape:
        raise ShapeError(f"{op}: target of shape {t.shape} must have the input's shape "
                         f"{input.shape}")
    if t.data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point target, got dtype {t.data.dtype}; "
                        "convert with .float()")
    return t


def _check_reduction(reduction, op):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce(loss, reduction):
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()
