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
        full = np.zeros(ctx.shape, dtype=g.dtype)
        index = ctx.index
        has_int_array = any(isinstance(i, np.ndarray) and i.dtype.kind in "iu" for i in index)
        if has_int_array:
            np.add.at(full, index, g)  # the same row picked twice gets both gradients
        else:
            full[index] = g
        return full, None

