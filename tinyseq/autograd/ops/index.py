"""Indexing: ``t[index]`` with ints, slices, ``None``, ``...``, integer arrays and boolean masks."""
import numpy as np

from ..function import Function


class GetItem(Function):
    """``a[index]``; ``index`` is a tuple. Repeated integer indices accumulate their gradients."""

    name = "index"

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.index = a.shape, index
        return a[index]

    @staticmethod
    def backward(ctx, g):
        index = ctx.index
        if len(index) == 1 and _is_int_array(index[0]):  # rows picked by ids: an embedding
            return _sum_rows(g, index[0], ctx.shape), None
        full = np.zeros(ctx.shape, dtype=g.dtype)
        if any(_is_int_array(i) for i in index):
            np.add.at(full, index, g)  # the same element picked twice gets both gradients
        else:
            full[index] = g
        return full, None


def _is_int_array(i):
    return isinstance(i, np.ndarray) and i.dtype.kind in "iu"


def _sum_rows(g, ids, shape):
    """``full[ids[k]] += g[k]`` for every k, as ``np.add.at`` would, but by sorting the ids and
    summing each run of equal ids at once (``np.add.at`` is about 7x slower on 2,048 ids)."""
    full = np.zeros(shape, dtype=g.dtype)
    if ids.size == 0:
        return full
    ids = ids.ravel().astype(np.intp, copy=False)  # (uint8 ids + 256 rows must not overflow)
    ids = np.where(ids < 0, ids + shape[0], ids)  # -1 and n-1 are one row
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    rows = g.reshape(len(order), *shape[1:])[order]
    full[ids[starts]] = np.add.reduceat(rows, starts, axis=0)
    return full
