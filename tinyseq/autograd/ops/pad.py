"""``pad``, the op behind ``ts.nn.functional.pad``: sizes added (or, negative, removed) at both
ends of the last dims. ``constant`` fills them with a value; ``reflect``, ``replicate`` and
``circular`` copy elements of the input there, which is indexing by an array per padded dim
(``t[index]``: the gradient of an element copied many times is summed).
"""
import numpy as np

from ..dtypes import tensor_of
from ..function import Function
from .index import GetItem

MODES = ("constant", "reflect", "replicate", "circular")


class Pad(Function):
    """``a`` with ``widths[d] = (before, after)`` elements of ``value`` added along each dim d; a
    negative width removes elements instead."""
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, widths, value):
        ctx.shape = a.shape
        ctx.crop = tuple(slice(max(-lo, 0), n - max(-hi, 0))
                         for (lo, hi), n in zip(widths, a.shape))
        ctx.grow = tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths)
        return np.pad(a[ctx.crop], ctx.grow, constant_values=value)

    @staticmethod
    def backward(ctx, g):
        inner = g[tuple(slice(lo, g.shape[d] - hi) for d, (lo, hi) in enumerate(ctx.grow))]
        full = np.zeros(ctx.shape, g.dtype)
        full[ctx.crop] = inner
        return full, None, None

    @staticmethod
    def graph_backward(ctx, g):
        """The padding taken back off: ``pad`` by the opposite widths (what was grown is cut,
        what was cut is grown with zeros)."""
        widths = tuple((crop.start - lo, n - crop.stop - hi)
                       for crop, (lo, hi), n in zip(ctx.crop, ctx.grow, ctx.shape))
        return Pad.apply(g, widths, np.zeros((), g._data.dtype)), None, None


PadCopy = GetItem.alias("pad")  # reflect, replicate, circular: elements picked by index arrays


def pad(input, pad, mode="constant", value=None):
    """``input`` padded: ``pad = (left, right)`` for the last dim, ``(left, right, top, bottom)``
    for the last two, and so on (as torch's ``F.pad``)."""
    input = tensor_of(input)
    widths = _widths(input, pad, mode, value)
    if mode == "constant":
        fill = 0 if value is None else value
        if input.numel() == 0 and any(lo < 0 or hi < 0 for lo, hi in widths):
            raise RuntimeError("pad: negative padding of an empty tensor")
        return Pad.apply(input, widths, np.asarray(fill).astype(input._data.dtype))
    k = len(pad) // 2
    picks = [_sources(mode, n, lo, hi) for n, (lo, hi) in zip(input.shape[-k:], widths[-k:])]
    return PadCopy.apply(input, (slice(None),) * (input.ndim - k) + np.ix_(*picks))


def _widths(input, pad, mode, value):
    """``pad`` as one ``(before, after)`` pair per dim of ``input``, checked as torch checks it."""
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2:
        raise RuntimeError(f"pad: the padding length must be divisible by 2, got {len(pad)} "
                           f"({tuple(pad)}): give (before, after) for each padded dim")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad: padding length should be at most twice the input's dims, got "
                           f"{len(pad)} for an input of shape {input.shape}")
    if mode not in MODES:
        raise NotImplementedError(f"pad: mode must be one of {MODES}, got {mode!r}")
    k = len(pad) // 2
    widths = [(0, 0)] * (input.ndim - k) + [(int(pad[2 * i]), int(pad[2 * i + 1]))
                                            for i in reversed(range(k))]
    if mode != "constant":
        _check_copy_mode(input, mode, k, widths[-k:] if k else [], value)
    for d, (lo, hi) in enumerate(widths):
        if input.shape[d] + lo + hi < 0:
            raise RuntimeError(f"pad: padding {(lo, hi)} leaves a negative size for dim {d} of "
                               f"the input of shape {input.shape}")
    return tuple(widths)


def _check_copy_mode(input, mode, k, widths, value):
    """torch's rules for the modes that copy elements: the input has the padded dims plus one or
    two (batch, channels), and reflect pads less than a dim's size."""
    if not 1 <= k <= 3 or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"pad: mode {mode!r} with padding length {2 * k} needs an input "
                                  f"of {k + 1} or {k + 2} dims, got shape {input.shape}")
    if value not in (None, 0):
        raise NotImplementedError(f"pad: a value ({value}) only goes with mode 'constant'")
    for n, (lo, hi) in zip(input.shape[-k:], widths):
        if min(lo, hi) < 0:
            raise NotImplementedError(f"pad: negative padding {(lo, hi)} is only supported by "
                                      "tinyseq in mode 'constant'")
        limit = n - 1 if mode == "reflect" else n if mode == "circular" else None
        if n == 0 or (limit is not None and max(lo, hi) > limit):
            raise RuntimeError(f"pad: padding {(lo, hi)} is too large for a dim of size {n} in "
                               f"mode {mode!r} (reflect needs padding < size, circular <= size)")


def _sources(mode, n, lo, hi):
    """For each position of a padded dim (``lo`` + ``n`` + ``hi`` long), the input element it
    copies."""
    j = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    if mode == "circular":
        return j % n
    return np.where(j < 0, -j, np.where(j >= n, 2 * (n - 1) - j, j))  # reflect, edge not repeated

