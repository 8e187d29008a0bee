"""Indexing: ``t[index]`` with ints, slices, ``None``, ``...``, integer arrays and boolean masks.

numpy and PyTorch differ when an index mixes arrays with ints, True/False, ``None`` or ``...``:
numpy counts the int in ``x[0, :, [0, 1]]`` as one more index array, so for a (2, 3, 4) array
the indexed dims go first, (2, 3); PyTorch applies ints first, as basic indexing, and gets (3, 2).
``torch_steps`` splits such an index into the two steps PyTorch takes.

``getitem`` (``t[index]``) and ``setitem`` (``t[index] = value``, in place) read the index
the same way (``_index``) and name the dim, the index and the size in their errors.
"""
import operator
import re

import numpy as np

from ..dtypes import data_of
from ..errors import ShapeError
from ..forward_ad import has_tangent
from ..function import Context, Function
from ..mode import state
from ..tensor import Tensor
from ._util import quiet, unbroadcast
from .inplace import apply_, recording, writable


class GetItem(Function):
    """``a[index]``; ``index`` is a tuple. Repeated integer indices accumulate their gradients."""

    name = "index"
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.index = a.shape, index
        out = a[index]
        return out if type(out) is np.ndarray else a[index + (Ellipsis,)]  # a 0-d view, as torch

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

    @staticmethod
    def graph_backward(ctx, g):
        return index_put(g, ctx.shape, ctx.index), None


class Transposed(Function):
    """The transpose of a linear op ``op`` whose backward is written in numpy, as an op itself:
    forward is ``op``'s backward (with the ``ctx`` of ``op``'s forward), backward is ``op``'s
    forward, so the gradient of ``t[index]`` (zeros with ``g`` added at ``index``) can be
    differentiated again, to any order: its gradient is ``op`` again, recorded as an op.
    ``op_args`` are the arguments ``op``'s forward takes after the tensor (``(index,)``)."""

    moves_data_only = True  # (and linear: forward mode runs it on the tangents)

    @staticmethod
    def forward(ctx, g, op, op_ctx, op_args):
        ctx.op, ctx.op_args = op, op_args
        return op.backward(op_ctx, g)[0]

    @staticmethod
    def backward(ctx, h):
        return ctx.op.forward(Context((False,)), h, *ctx.op_args), None, None, None

    @staticmethod
    def graph_backward(ctx, h):
        return ctx.op.apply(h, *ctx.op_args), None, None, None


# The gradient of ``t[index]``: ``g`` put into zeros at ``index`` (summed where an element was
# picked twice), which torch calls ``index_put`` too.
IndexPut = Transposed.alias("index_put", torch="IndexPutImplBackward0")


def index_put(g, shape, index):
    """Zeros of ``shape`` with the Tensor ``g`` added at ``index`` (a tuple, as ``t[index]``
    takes it; ``g`` has the shape of ``zeros(shape)[index]``), as an op of the graph."""
    ctx = Context((True,))
    ctx.shape, ctx.index = shape, index
    return IndexPut.apply(g, GetItem, ctx, (index,))


# ``t[index]`` in nodes named as PyTorch names them: the last item that does something decides
Select, Slice = GetItem.variant("SelectBackward0"), GetItem.variant("SliceBackward0")
NewDim, Alias = GetItem.variant("UnsqueezeBackward0"), GetItem.variant("AliasBackward0")


def _getitem_op(index):
    """The ``GetItem`` whose node PyTorch names as it names ``t[index]``: ``IndexBackward0`` when
    an array, a mask or True/False is in it, else by the last item that does something:
    ``SelectBackward0`` for ``t[:, 0]``, ``SliceBackward0`` for ``t[1:]`` (and ``t[:]``)."""
    if any(isinstance(i, (bool, np.ndarray)) for i in index):
        return GetItem
    for i in reversed(index):
        if i is None:
            return NewDim
        if _is_int(i):
            return Select
        if type(i) is slice and not i.start is i.stop is i.step is None:  # (not ``t[:]``)
            return Slice
    return Slice if any(type(i) is slice for i in index) else Alias


def getitem(input, index):
    """``t[index]`` as in PyTorch: ints, slices, None, ..., int or bool Tensors/arrays/lists."""
    if type(index) is int or type(index) is tuple and index and _all_ints(index):
        return _select(input, index if type(index) is tuple else (index,))
    if type(index) is np.ndarray and index.ndim and index.dtype.kind in "iu":
        return _rows(input, index)
    index = _index(index)
    check_masks(input._data.shape, index)
    try:
        basic, advanced = torch_steps(index, input.ndim)
        if basic is not None:
            return GetItem.apply(_getitem_op(basic).apply(input, basic), advanced)
        return _getitem_op(index).apply(input, index)
    except IndexError as e:
        raise index_error(e, input._data.shape, index) from None


def _all_ints(index):
    """Whether every item of the tuple ``index`` is an int (not a bool, not a numpy int)."""
    for i in index:
        if type(i) is not int:
            return False
    return True


def _select(input, ints):
    """``t[0]``, ``h[0, 0]``: a tuple of plain ints, which needs none of ``getitem``'s reading of
    the index (no arrays, masks or steps to check; PyTorch names the node Select): ``h[0, 0]``
    3.3 -> 1.7 us, which sampling a character pays at every step."""
    try:
        return Select.apply(input, ints)
    except IndexError as e:
        raise index_error(e, input._data.shape, ints) from None


def _rows(input, ids):
    """``t[ids]`` for an int array ``ids`` (not 0-d, which indexes as an int): an embedding's
    lookup, which has nothing else for ``getitem`` to read (7.9 -> 6.6 us an ``Embedding`` of
    one id, which sampling pays at every step)."""
    try:
        return GetItem.apply(input, (ids,))
    except IndexError as e:
        raise index_error(e, input._data.shape, (ids,)) from None


class SetItem(Function):
    """``a[index] = value`` written into ``a`` itself; ``index`` is ``(basic, advanced)`` as
    ``torch_steps`` gives it. ``a``'s gradient is zero at the written elements; ``value``'s is
    theirs, summed back to its shape (an element written twice gives both its gradient)."""

    name = "setitem"

    @staticmethod
    def forward(ctx, a, value, index):
        ctx.index, ctx.shape = index, value.shape
        _region(a, index)[index[1]] = value
        return a

    @staticmethod
    def backward(ctx, g):
        ga = np.array(g)
        _region(ga, ctx.index)[ctx.index[1]] = 0
        gv = _region(g, ctx.index)[ctx.index[1]] if ctx.needs_input_grad[1] else None
        if gv is not None and gv.ndim < len(ctx.shape):  # a value with more leading 1s
            gv = gv.reshape((1,) * (len(ctx.shape) - gv.ndim) + gv.shape)
        return ga, (None if gv is None else unbroadcast(gv, ctx.shape)), None

    @staticmethod
    def graph_backward(ctx, g):
        basic, advanced = ctx.index
        keep = np.ones(g.shape, bool)  # False at the written elements
        _region(keep, ctx.index)[advanced] = False
        gv = None
        if ctx.needs_input_grad[1]:
            gv = GetItem.apply(g if basic is None else GetItem.apply(g, basic), advanced)
            if gv.ndim < len(ctx.shape):  # a value with more leading 1s
                gv = gv.reshape((1,) * (len(ctx.shape) - gv.ndim) + gv.shape)
            gv = unbroadcast(gv, ctx.shape)
        from .selection import Where  # (a select, as torch's: no Inf or NaN of g where written)
        return Where.apply(keep, g, np.zeros((), g._data.dtype)), gv, None

    @staticmethod
    def jvp(ctx, ta, tv, index):
        out = np.array(ta)  # (the tangent ``a`` came with stays as it was)
        tv = np.asarray(tv)
        _region(out, index)[index[1]] = tv if tv.dtype.kind == "f" else 0  # (an int: a constant)
        return out


def _region(a, index):
    return a if index[0] is None else a[index[0]]  # (no arrays in ``basic``: a view)


@quiet
def setitem(input, index, value):
    """``t[index] = value``, in place (recorded as ``ops/inplace.py`` says); the index means what
    ``t[index]`` means."""
    index = _index(index)
    check_masks(input._data.shape, index)
    kind = (value._data if isinstance(value, Tensor) else np.asarray(value)).dtype
    if kind.kind not in "fiub":
        raise TypeError(f"__setitem__: cannot write {kind} values into a tensor")
    value = value if isinstance(value, Tensor) else np.asarray(value)
    steps = torch_steps(index, input.ndim)
    try:
        if (recording("__setitem__", input, (value,))
                or state.dual is not None and has_tangent(input, value)):  # (forward mode)
            apply_("__setitem__", SetItem.apply, input, value, steps)
        else:  # unrecorded: straight into the array
            writable("__setitem__", input)
            _region(input._data, steps)[steps[1]] = data_of(value)
            input._version.value += 1
    except IndexError as e:
        raise index_error(e, input._data.shape, index) from None
    except ValueError as e:
        if isinstance(e, ShapeError):
            raise
        raise ShapeError(f"__setitem__: a value of shape {np.shape(data_of(value))} cannot be "
                         f"broadcast to the shape {_region(input._data, steps)[steps[1]].shape} it "
                         "is written into") from None


def _index(index):
    """A tuple index for numpy: Tensors and lists become arrays (``[]`` an empty int array), a 0-d
    int Tensor an int (PyTorch indexes with it as with an int)."""
    if type(index) is not tuple:
        return (_index_item(index),)
    return tuple([_index_item(i) for i in index])


def _index_item(i):
    if type(i) is int:  # the usual case, first
        return i
    if type(i) is slice:
        if i.step is not None and not (type(i.step) is int and i.step > 0):
            _check_step(i.step)
        return i
    if isinstance(i, Tensor):
        i = i._data
    elif isinstance(i, list):
        i = np.asarray(i) if i else np.zeros(0, dtype=np.intp)
    if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iub":
        return i.item()
    return bool(i) if isinstance(i, np.bool_) else i


def _check_step(step):
    """Refuse a slice step that is not a positive integer, as torch does."""
    try:
        step = operator.index(step)
    except TypeError:
        raise TypeError(f"index: a slice step must be an integer, got {type(step).__name__} "
                        f"{step!r}") from None
    if step <= 0:
        fix = " (to reverse a dim of size n, index it with ts.arange(n - 1, -1, -1))"
        raise ValueError(f"index: a slice step must be greater than zero, got {step}"
                         + (fix if step < 0 else ""))


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


# The functions above as Tensor methods (tensor.py attaches them): ``t[i]`` is ``getitem(t, i)``.
TENSOR_METHODS = {"__getitem__": getitem, "__setitem__": setitem}
