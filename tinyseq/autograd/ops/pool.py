"""1-d pooling over the last dim of ``(N, C, L)`` or ``(C, L)``: ``max_pool1d``, ``avg_pool1d``,
``adaptive_max_pool1d``, ``adaptive_avg_pool1d`` (``ts.max_pool1d``, ``F.max_pool1d``, ...).

Every pooling is a table: output ``j`` looks at input positions ``idx[j, 0..K)``, of which
``valid[j]`` are inside the input (the rest are padding, or repeats that pad a short adaptive
window). The ops are composed from ones that have their backward already, so none is written
here: an average is ``t[..., idx]`` (``GetItem``) times a weight per position, summed; a max picks
one element per window, found in numpy as torch finds it (the first largest; the last NaN), by
``t[index]`` (so its gradient goes to that element alone, summed where windows overlap).
"""

import numpy as np

from ..errors import flag
from ..tensor import Tensor
from .conv import _single, _tensor
from .gather import _along
from .index import GetItem
from .selection import where

MaxPick = GetItem.alias("max_pool1d")
AvgPick = GetItem.alias("avg_pool1d")


# ---- the tables ----------------------------------------------------------------------------------
def strided_table(size, count, kernel, stride, padding, dilation):
    """``(idx, valid)``, each ``(count, kernel)``: window ``j`` reads ``j s + k d - padding``."""
    idx = (np.arange(count)[:, None] * stride + np.arange(kernel)[None] * dilation - padding)
    return idx, (idx >= 0) & (idx < size)


def adaptive_table(size, count):
    """``(idx, valid)`` of adaptive pooling: window ``j`` is ``[⌊j L / n⌋, ⌈(j + 1) L / n⌉)``,
    padded to the longest window."""
    j = np.arange(count)
    starts, ends = j * size // count, -(-(j + 1) * size // count)
    width = int((ends - starts).max()) if count else 1
    idx = starts[:, None] + np.arange(width)[None]
    return idx, idx < ends[:, None]


def pooled_length(op, size, kernel, stride, padding, dilation, ceil_mode):
    """torch's output length: ``⌊(L + 2p - d (K - 1) - 1) / s⌋ + 1`` (rounded up in ceil_mode,
    but the last window must start inside the input or its left padding)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    count = span // stride + 1
    if ceil_mode and (count - 1) * stride >= size + padding:
        count -= 1
    if count < 1:
        raise RuntimeError(f"{op}: the output would be {count} long: an input of length {size} "
                           f"is too short for kernel_size={kernel}, dilation={dilation}, "
                           f"padding={padding}")
    return count


# ---- max and average of a table ------------------------------------------------------------------
def _max_of(input, idx, valid, return_indices):
    """The largest valid element of each window, and its position (int64), as torch finds them:
    the first largest, the last NaN; a window of padding alone (dilation can make one) is -inf
    at its first position past the left padding."""
    size = input.shape[-1]
    safe = np.clip(idx, 0, size - 1)
    picked = np.where(valid, input.numpy()[..., safe], -np.inf)
    best = (picked == picked.max(-1, keepdims=True)) & valid  # (all -inf: the first valid)
    best = np.where(valid.any(-1, keepdims=True), best, idx >= 0)
    nan = np.isnan(picked)
    last_nan = idx.shape[-1] - 1 - np.argmax(nan[..., ::-1], -1)
    at = np.where(nan.any(-1), last_nan, np.argmax(best, -1))[..., None]
    indices = np.take_along_axis(np.broadcast_to(idx, best.shape), at, -1)[..., 0]
    out = MaxPick.apply(input, _along(np.take_along_axis(np.broadcast_to(
        safe, best.shape), at, -1)[..., 0], indices.ndim - 1))
    if not valid.any(-1).all():
        out = where(Tensor(valid.any(-1)), out, -np.inf)
    return (out, Tensor(indices.astype(np.int64))) if return_indices else out


def _average_of(input, idx, weights):
    """``Σ_k weights[j, k] · input[..., idx[j, k]]``: each window's weighted sum."""
    size = input.shape[-1]
    picked = AvgPick.apply(input, (Ellipsis, np.clip(idx, 0, max(size - 1, 0))))
    return (picked * weights.astype(input.numpy().dtype)).sum(-1)


# ---- what users call -----------------------------------------------------------------------------
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The largest element of each window of ``kernel_size`` positions ``dilation`` apart, the
    windows ``stride`` (default ``kernel_size``) apart over the input padded with ``-inf``:
    ``(N, C, L_out)`` (and the int64 positions of the maxima, with ``return_indices``)."""
    op = "max_pool1d"
    input = _input(op, input)
    kernel, stride, padding, dilation = _window(op, kernel_size, stride, padding, dilation)
    if 2 * padding > kernel:
        raise RuntimeError(f"{op}: padding should be at most half of kernel size, got "
                           f"padding={padding} and kernel_size={kernel}")
    count = pooled_length(op, input.shape[-1], kernel, stride, padding, dilation,
                          flag(op, "ceil_mode", ceil_mode))
    idx, valid = strided_table(input.shape[-1], count, kernel, stride, padding, dilation)
    return _max_of(input, idx, valid, flag(op, "return_indices", return_indices))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """The mean of each window of ``kernel_size`` positions, the windows ``stride`` (default
    ``kernel_size``) apart over the input padded with zeros: ``(N, C, L_out)``. The zeros count
    in the mean with ``count_include_pad``; the part of a ``ceil_mode`` window past the padding
    never does."""
    op = "avg_pool1d"
    input = _input(op, input)
    kernel, stride, padding, _ = _window(op, kernel_size, stride, padding, 1)
    if 2 * padding > kernel:
        raise RuntimeError(f"{op}: pad should be at most half of kernel size, got "
                           f"padding={padding} and kernel_size={kernel}")
    size = input.shape[-1]
    count = pooled_length(op, size, kernel, stride, padding, 1, flag(op, "ceil_mode", ceil_mode))
    idx, valid = strided_table(size, count, kernel, stride, padding, 1)
    start = idx[:, 0]
    if flag(op, "count_include_pad", count_include_pad):  # the padding counts, what is past not
        divisor = np.minimum(start + kernel, size + padding) - start
    else:
        divisor = valid.sum(1)
    return _average_of(input, idx, valid / divisor[:, None])


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """The largest element of each of ``output_size`` windows that cover the input evenly
    (window ``j``: ``[⌊j L / n⌋, ⌈(j + 1) L / n⌉)``): ``(N, C, output_size)``."""
    op = "adaptive_max_pool1d"
    input = _input(op, input)
    idx, valid = adaptive_table(input.shape[-1], _output_size(op, output_size))
    return _max_of(input, idx, valid, flag(op, "return_indices", return_indices))


def adaptive_avg_pool1d(input, output_size):
    """The mean of each of ``output_size`` windows that cover the input evenly (as
    ``adaptive_max_pool1d``'s): ``(N, C, output_size)``."""
    op = "adaptive_avg_pool1d"
    input = _input(op, input)
    idx, valid = adaptive_table(input.shape[-1], _output_size(op, output_size))
    return _average_of(input, idx, valid / valid.sum(1, keepdims=True))


# ---- argument checks -----------------------------------------------------------------------------
def _input(op, input):
    """A floating-point ``(C, L)`` or ``(N, C, L)`` Tensor with ``L > 0``."""
    _tensor(op, "input", input)
    if input.ndim not in (2, 3) or input.shape[-1] == 0:
        raise RuntimeError(f"{op}: expected a 2-D (C, L) or 3-D (N, C, L) input with a non-empty "
                           f"L, got input of shape {input.shape}")
    if input.numpy().dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for dtype {input.numpy().dtype}; "
                                  "convert the input with .float()")
    return input


def _window(op, kernel_size, stride, padding, dilation):
    """``(kernel, stride, padding, dilation)`` as ints, checked as torch checks them; a missing
    stride (None or empty) is the kernel size."""
    kernel = _single(op, "kernel_size", kernel_size)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _single(op, "stride", stride)
    padding, dilation = _single(op, "padding", padding), _single(op, "dilation", dilation)
    for name, value in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        if value <= 0:
            raise RuntimeError(f"{op}: {name} must be greater than zero, got {value}")
    if padding < 0:
        raise RuntimeError(f"{op}: padding must be non-negative, got {padding}")
    return kernel, stride, padding, dilation


def _output_size(op, output_size):
    size = _single(op, "output_size", output_size)
    if size < 0:
        raise RuntimeError(f"{op}: output_size must be >= 0, got {size}")
    return size


