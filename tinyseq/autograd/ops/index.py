"""Indexing: ``t[index]`` with ints, slices, ``None``, ``...``, integer arrays and boolean masks.

numpy and PyTorch differ when an index mixes arrays with ints, True/False, ``None`` or ``...``:
numpy counts the int in ``x[0, :, [0, 1]]`` as one more index array, so for a (2, 3, 4) array
the indexed dims go first, (2, 3); PyTorch applies ints first, as basic indexing, and gets (3, 2).
``torch_steps`` splits such an index into the two steps PyTorch takes.
"""
import re

import numpy as np

from ..function import Function


class GetItem(Function):
    """``a[index]``; ``index`` is a tuple. Repeated integer indices accumulate their gradients."""

    name = "index"
    moves_data_only = True

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


def _is_int(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, bool)


def _is_mask(i):
    return isinstance(i, np.ndarray) and i.dtype == np.bool_


def _spanned(index):
    """How many dims of the array the entries of ``index`` other than ``...`` index."""
    return sum(i.ndim if _is_mask(i) else 1 for i in index
               if i is not None and i is not Ellipsis and not isinstance(i, bool))


def torch_steps(index, ndim):
    """``(basic, advanced)``: ``index`` (a tuple) as the two steps PyTorch takes, which numpy
    then reads as PyTorch does, ``a[basic][advanced]``; ``(None, index)`` when numpy alone agrees.

    PyTorch first applies the ints, slices and ``None`` (and turns True/False into a new dim
    indexed by ``[0]``/``[]``), then indexes with the arrays, whose result dims go first if and
    only if the arrays are apart in the dims that remain. numpy instead counts an int, True or
    False among the arrays and treats ``None`` and ``...`` as keeping arrays apart even when ``...``
    covers no dim; the second step has none of those, so numpy's rule is PyTorch's there.
    """
    if len(index) < 2 or not any(isinstance(i, (bool, np.ndarray)) for i in index):
        return None, index
    if all(isinstance(i, (slice, np.ndarray)) for i in index):
        return None, index
    basic, advanced = [], []
    for i in index:
        if _is_int(i) or isinstance(i, slice):
            basic.append(i)
            advanced += [] if _is_int(i) else [slice(None)]
        elif i is None or isinstance(i, bool):
            basic.append(None)
            advanced.append(slice(None) if i is None else np.arange(int(i)))
        elif i is Ellipsis:
            basic.append(i)
            advanced += [slice(None)] * max(ndim - _spanned(index), 0)
        else:  # an int array, or a mask covering mask.ndim dims
            basic += [slice(None)] * (i.ndim if _is_mask(i) else 1)
            advanced.append(i)
    return tuple(basic), tuple(advanced)


def index_error(err, shape, index):
    """numpy's ``IndexError`` ``err`` for ``index`` into an array of ``shape``, in one line that
    names the dim, the index and the size (as torch does), else numpy's reason and the shape."""
    bad = _out_of_range(shape, index)
    if bad is not None:
        dim, value, size = bad
        return IndexError(f"index: index {value} is out of range for dim {dim} of size {size} "
                          f"(tensor of shape {shape}); indices of that dim go from {-size} to "
                          f"{size - 1}")
    reason = re.sub(r"\baxis\b", "dim", re.sub(r"\barray\b", "tensor", str(err))).strip()
    return IndexError(f"index: {reason} (indexing a tensor of shape {shape})")


def check_masks(shape, index):
    """Refuse a bool mask whose shape is not that of the dims it indexes, as torch does (numpy
    lets a mask of size 0, or any mask into an empty tensor, through)."""
    for i in index:  # (a plain loop first: this runs at every index)
        if type(i) is np.ndarray and i.dtype == np.bool_:
            break
    else:
        return
    for dim, i in _entries(shape, index):
        if _is_mask(i) and shape[dim:dim + i.ndim] != i.shape and dim + i.ndim <= len(shape):
            dims = f"dim {dim}" if i.ndim == 1 else f"dims {dim} to {dim + i.ndim - 1}"
            raise IndexError(f"index: a bool mask of shape {i.shape} indexes {dims} of a tensor "
                             f"of shape {shape}, of sizes {shape[dim:dim + i.ndim]}; a mask must "
                             "have the shape of the dims it indexes")


def _out_of_range(shape, index):
    """``(dim, index, size)`` of the first int or int-array entry out of range, else ``None``."""
    for dim, i in _entries(shape, index):
        if dim < len(shape) and (_is_int(i) or _is_int_array(i)) and np.size(i):
            n = shape[dim]
            for v in (np.min(i), np.max(i)):
                if not -n <= v < n:
                    return dim, int(v), n
    return None


def _entries(shape, index):
    """``(dim, entry)`` for each entry of ``index`` that indexes dims of an array of ``shape``,
    ``dim`` the first of them (``None``, True, False and ``...`` index none)."""
    dim = 0
    for i in index:
        if i is Ellipsis:
            dim += max(len(shape) - _spanned(index), 0)
        elif i is not None and not isinstance(i, bool):
            yield dim, i
            dim += i.ndim if _is_mask(i) else 1
