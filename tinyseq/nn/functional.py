"""``ts.nn.functional``: layers and losses as functions, composed from autograd ops (no backward
is written here). Shapes: ``N`` batch, ``C`` classes, ``d1...`` extra dims of sequence losses."""
import numpy as np

from ..autograd import rng
from ..autograd.function import Function
from ..autograd.namespace import linear as linear_op, pad as pad_op, where
from ..autograd.errors import ShapeError
from ..autograd.tensor import Tensor
from . import _checks
from ._checks import OutOfRangeError
from ._nll import _indices, cross_entropy, nll_loss  # noqa: F401  (F.nll_loss, F.cross_entropy)
from .activations import elu, gelu, leaky_relu, silu, softplus  # noqa: F401  (F.gelu, ...)
from ._ctc import ctc_loss  # noqa: F401
from ._losses import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                      cosine_embedding_loss, gaussian_nll_loss, huber_loss, kl_div, l1_loss,
                      margin_ranking_loss, mse_loss, poisson_nll_loss, smooth_l1_loss)



def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` in one op: input ``(*, in)``, weight ``(out, in)``, bias
    ``(out,)``, None, or (as in PyTorch) any shape that broadcasts to the output; returns
    ``(*, out)``."""
    # (this runs for every layer at every step: each check calls its helper, which names what is
    # wrong, only once a quick test has failed)
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)):
        _checks.tensor("linear", "input", input)
        _checks.tensor("linear", "weight", weight)
    x, w = input._data.shape, weight._data.shape  # (numpy's: a ts.Size costs more to make)
    b = None if bias is None else bias._data.shape if isinstance(bias, Tensor) else np.shape(bias)
    ok = len(w) == 2 and len(x) >= 1 and x[-1] == w[1]
    if ok and b is not None and b != (w[0],):
        out = (*x[:-1], w[0])
        ok = len(b) <= len(out) and all(m in (1, o) for m, o in zip(b[::-1], out[::-1]))
    if not ok:
        given = f"input {x}, weight {w}" + ("" if b is None else f", bias {b}")
        raise ShapeError(f"linear: {given} do not fit: expected input (*, in_features), weight "
                         "(out_features, in_features) and bias (out_features,) or broadcastable "
                         "to the output (*, out_features)")
    if input._data.dtype.kind != "f":
        _checks.float_like("linear", input, weight)
    return linear_op(input, weight, bias)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` ``(num, dim)`` picked by the int64 ``input`` ``(*)``: ``(*, dim)``.

    Ids must be in ``[0, num)``. Repeated indices sum their gradients (divided by how often each
    id occurs in ``input`` with ``scale_grad_by_freq``); the ``padding_idx`` row (negative counts
    from the end) gets none. With ``max_norm``, the rows looked up are first renormalised in
    place (outside the graph, as torch) to a ``norm_type``-norm of at most ``max_norm``.
    """
    padding_idx = _checks.padding_index("embedding", padding_idx, weight.shape[0])
    return _embedding(input, weight, padding_idx, "embedding", max_norm, norm_type,
                      scale_grad_by_freq, sparse)


def _embedding(input, weight, padding_idx, name, max_norm=None, norm_type=2.0,
               scale_grad_by_freq=False, sparse=False):
    """``embedding`` with ``name`` (the layer or the function) in its errors."""
    if sparse:
        raise ValueError(f"{name}: sparse=True needs sparse gradients, which tinyseq does not "
                         "have; use sparse=False (a dense gradient, the same values)")
    idx = _indices(input, name)
    n = weight.shape[0]
    if idx.size:
        low, high = idx.min(), idx.max()
        if low < 0 or high >= n:
            raise OutOfRangeError(f"{name}: id {low if low < 0 else high} is out of range for "
                                  f"{n} embeddings (ids must be in [0, {n}))")
    if max_norm is not None:
        _renorm_rows(weight, np.unique(idx), max_norm, norm_type, name)
    out = weight[idx]  # (an int array: ``getitem``'s short way, the ids checked above only)
    by_count = _checks.flag(name, "scale_grad_by_freq", scale_grad_by_freq)
    if by_count or padding_idx is not None:
        scale = _counts_scale(idx, out.numpy().dtype) if by_count else None
        padded = None if padding_idx is None else (idx == padding_idx)[..., None]
        out = _GradientScale.apply(out, scale, padded)
    return out


def _counts_scale(idx, dtype):
    """``scale_grad_by_freq``: ``1 / count`` of each position's id, ``(*, 1)`` for ids ``idx``
    ``(*)``."""
    _, inverse, counts = np.unique(idx, return_inverse=True, return_counts=True)
    return (1 / counts[inverse.reshape(idx.shape)]).astype(dtype)[..., None]


class _GradientScale(Function):
    """``padding_idx`` and ``scale_grad_by_freq``: the looked-up rows ``(*, dim)`` as they are
    (and so their tangents: the function is a lookup), with the gradient of each multiplied by
    ``scale`` ``(*, 1)`` (``1 / count`` of its id, or None) and set to 0 where ``padded``
    ``(*, 1)`` (the padding positions, or None): 0, not ``0 · g``, so that a NaN gradient does
    not reach the padding row, as torch's skips it.

    Padding alone keeps the gradient's graph (``create_graph=True``). Dividing by a count is not
    a derivative, so that gradient has none of its own: ``create_graph=True`` refuses it."""

    name = "embedding_gradient"
    linear = True  # forward mode: the rows, and so their tangents, pass unchanged

    @staticmethod
    def forward(ctx, rows, scale, padded):
        ctx.scale, ctx.padded = scale, padded
        return rows.view()  # (a view: the same values, sharing the rows' version counter)

    @staticmethod
    def backward(ctx, g):
        grad = g if ctx.scale is None else g * ctx.scale
        if ctx.padded is not None:
            grad = np.where(ctx.padded, grad.dtype.type(0), grad)
        return grad, None, None

    @staticmethod
    def graph_backward(ctx, g):
        if ctx.scale is not None:
            raise RuntimeError("embedding(scale_grad_by_freq=True): each row's gradient is "
                               "divided by its id's count, which is not a derivative, so that "
                               "gradient has no derivative of its own (create_graph=True); use "
                               "scale_grad_by_freq=False to differentiate twice")
        return where(Tensor(ctx.padded), 0.0, g), None, None


def _renorm_rows(weight, rows, max_norm, norm_type, name):
    """Scale in place each of ``weight``'s ``rows`` whose ``norm_type``-norm exceeds
    ``max_norm`` by ``max_norm / (norm + 1e-7)``, as torch's ``embedding_renorm_``."""
    max_norm = _checks.number(name, "max_norm", max_norm, 0)
    norm_type = _checks.number(name, "norm_type", norm_type)
    if not rows.size:
        return
    w = weight._data[rows]
    norms = np.linalg.norm(w.astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)[:, None]
        # into the array itself: no op, so a forward-mode tangent of weight stays as it is (an
        # assignment would write the new rows' zero tangent over it); counted as an in-place
        # change, so a graph that saved weight refuses to use the old values
        weight._data[rows[big]] = w[big] * scale
        weight._version.value += 1


def dropout(input, p=0.5, training=True):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (train
    only)."""
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
    zero = total == 0  # (not ``total > 0``: a NaN norm stays NaN, as in torch)
    return where(zero, 0.0, where(zero, 1.0, total) ** (1 / p))


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
# convolutions and pooling: the autograd ops themselves (tinyseq/autograd/ops/conv.py, pool.py)
from ..autograd.namespace import (adaptive_avg_pool1d, adaptive_max_pool1d,  # noqa: E402,F401
                                   avg_pool1d, conv1d, conv_transpose1d, max_pool1d)
