"""Indexing along one dim by a tensor of indices: ``index_select``, ``gather``,
``take_along_dim`` and ``masked_select`` read (they are ``t[index]``, GetItem, under their own
names, so the gradient of an element picked twice is summed); ``scatter``, ``scatter_add``,
``index_fill`` and ``index_add`` write into a copy (and in place as ``scatter_``, ...).

``gather``'s ``index`` has the input's number of dims;
``out[i][j][k] = input[index[i][j][k]][j][k]`` for dim 0. As a numpy index that is a tuple of arrays, ``index`` for the dim and an ``arange``
for each other dim (``_along``), which also says where ``scatter`` writes.
"""
import numpy as np

from ..dtypes import data_of, tensor_of
from ..function import Function
from ..tensor import Tensor
from ._util import norm_dim
from .index import GetItem, index_put
from .inplace import apply_
from .selection import Where, bool_tensor, to
from .shape import expand, flatten

IndexSelect = GetItem.alias("index_select")
Gather = GetItem.alias("gather")
MaskedSelect = GetItem.alias("masked_select")


def _indices(op, index):
    """``index`` (a Tensor, array or list of ints) as an int array."""
    a = np.asarray(data_of(index))
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected dtype int64 for index, got {a.dtype}; convert it "
                           "with .long()")
    return a


def _in_range(op, idx, size, dim, negative=False):
    """Refuse an index outside ``[0, size)`` (``[-size, size)`` with ``negative``), as torch."""
    if idx.size:
        low, high = int(idx.min()), int(idx.max())
        bad = low if low < (-size if negative else 0) else high if high >= size else None
        if bad is not None:
            raise RuntimeError(f"{op}: index {bad} is out of bounds for dimension {dim} with "
                               f"size {size}")
    return np.where(idx < 0, idx + size, idx) if negative else idx


def _vector(op, index):
    idx = _indices(op, index)
    if idx.ndim > 1:
        raise IndexError(f"{op}: index must be a vector (1-d) or a scalar, got shape {idx.shape}")
    return idx.reshape(-1)


def index_select(input, dim, index):
    """The entries ``index`` (a 1-d int tensor) of dim ``dim``, in that order (a copy)."""
    input = tensor_of(input)
    d = norm_dim(dim, input.ndim, "index_select")
    idx = _vector("index_select", index)
    n = input.shape[d] if input.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"index_select: index {bad} is out of range for dim {dim} of size {n} "
                         f"(indices must be in [0, {n}))")
    if input.ndim == 0:
        input = input.reshape(1)
    return IndexSelect.apply(input, (slice(None),) * d + (idx,))


def _along(index, dim):
    """The numpy index of ``gather``/``scatter``: ``index`` for dim ``dim``, the position itself
    for every other dim."""
    return tuple(index if d == dim else
                 np.arange(n).reshape((n,) + (1,) * (index.ndim - d - 1))
                 for d, n in enumerate(index.shape))


def _check_index_shape(op, input_shape, idx, dim, src_shape=None):
    """``index`` has the input's dims, none larger than the input's (but along ``dim``) or
    ``src``'s, as torch requires; ``dim`` is already checked."""
    if idx.ndim != len(input_shape):
        raise RuntimeError(f"{op}: index of shape {idx.shape} must have as many dims as the input "
                           f"of shape {tuple(input_shape)}")
    if src_shape is not None and len(src_shape) != idx.ndim:
        raise RuntimeError(f"{op}: index of shape {idx.shape} must have as many dims as src of "
                           f"shape {tuple(src_shape)}")
    for d, k in enumerate(idx.shape):
        if (d != dim and k > input_shape[d]) or (src_shape is not None and k > src_shape[d]):
            raise RuntimeError(f"{op}: index of shape {idx.shape} must be no larger than the "
                               f"input {tuple(input_shape)} apart from dim {dim}" +
                               ("" if src_shape is None else
                                f", nor than src {tuple(src_shape)}"))


def gather(input, dim, index):
    """``out[i][j] = input[index[i][j]][j]`` (dim 0), ``input[i][index[i][j]]`` (dim 1): picks
    along ``dim``; the output has ``index``'s shape."""
    input = tensor_of(input)
    d = norm_dim(dim, input.ndim, "gather")
    idx = _indices("gather", index)
    if input.ndim == 0:
        input, idx = input.reshape(1), idx.reshape(1) if idx.ndim == 0 else idx
    _check_index_shape("gather", input.shape, idx, d)
    _in_range("gather", idx, input.shape[d], dim)
    return Gather.apply(input, _along(idx, d))


def take_along_dim(input, indices, dim=None):
    """``gather`` with ``input`` and ``indices`` broadcast against each other (but along
    ``dim``); with no dim, picks from the flattened ``input``."""
    input = tensor_of(input)
    idx = _indices("take_along_dim", indices)
    if dim is None:
        return gather(flatten(input), 0, idx.reshape(-1))
    d = norm_dim(dim, input.ndim, "take_along_dim")
    if idx.ndim != input.ndim:
        raise RuntimeError(f"take_along_dim: input and indices should have the same number of "
                           f"dims, got shapes {input.shape} and {idx.shape}")
    try:
        both = np.broadcast_shapes(input.shape[:d] + (1,) + input.shape[d + 1:],
                                   idx.shape[:d] + (1,) + idx.shape[d + 1:])
    except ValueError:
        raise RuntimeError(f"take_along_dim: input of shape {input.shape} and indices of shape "
                           f"{idx.shape} do not broadcast (apart from dim {dim})") from None
    input = expand(input, both[:d] + (input.shape[d],) + both[d + 1:])
    return gather(input, d, np.broadcast_to(idx, both[:d] + (idx.shape[d],) + both[d + 1:]))


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` (bool, broadcast with it) holds, as a 1-d tensor."""
    input = tensor_of(input)
    m = data_of(bool_tensor(mask, "masked_select"))
    try:
        shape = np.broadcast_shapes(input.shape, m.shape)
    except ValueError:
        raise RuntimeError(f"masked_select: mask of shape {m.shape} does not broadcast with the "
                           f"input of shape {input.shape}") from None
    return MaskedSelect.apply(expand(input, shape), (np.broadcast_to(m, shape),))


class Scatter(Function):
    """A copy of ``a`` with ``a[index] = src[region]`` (``src`` may be a 0-d value); ``region``
    is the corner of ``src`` that ``index`` covers. ``a`` gets no gradient where written; ``src``
    the gradient of where each element went."""
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, src, index, region):
        ctx.index, ctx.region, ctx.src_shape = index, region, np.shape(src)
        out = a.copy()
        out[index] = src[region] if region else src
        return out

    @staticmethod
    def backward(ctx, g):
        ga = g.copy()
        ga[ctx.index] = 0
        return ga, _source_grad(ctx, g), None, None

    @staticmethod
    def graph_backward(ctx, g):
        keep = np.ones(g.shape, bool)  # False where written
        keep[ctx.index] = False
        return _kept(keep, g), _graph_source_grad(ctx, g), None, None


class ScatterAdd(Function):
    """A copy of ``a`` with ``src[region]`` added at ``index`` (repeated positions add up)."""

    linear = True  # (in ``a`` and ``src`` together: forward mode scatters the tangents)

    @staticmethod
    def forward(ctx, a, src, index, region):
        ctx.index, ctx.region, ctx.src_shape = index, region, np.shape(src)
        out = a.copy()
        np.add.at(out, index, src[region])
        return out

    @staticmethod
    def backward(ctx, g):
        return g, _source_grad(ctx, g), None, None

    @staticmethod
    def graph_backward(ctx, g):
        return g, _graph_source_grad(ctx, g), None, None


def _kept(keep, g):
    """``g`` where ``keep`` holds, else 0, as an op (a select, as torch's: an Inf or NaN of ``g``
    does not reach the positions a write replaced)."""
    return Where.apply(keep, g, np.zeros((), g._data.dtype))


def _source_grad(ctx, g):
    """The gradient of a scattered ``src``: where each of its elements went, zero for those
    outside ``index``'s corner."""
    if not ctx.needs_input_grad[1]:
        return None
    gs = np.zeros(ctx.src_shape, g.dtype)
    if ctx.region:
        gs[ctx.region] = g[ctx.index]
    return gs


def _graph_source_grad(ctx, g):
    """``_source_grad`` with Tensor ops: ``g`` read at ``index``, put into zeros at ``region``."""
    if not ctx.needs_input_grad[1]:
        return None
    if not ctx.region:
        return np.zeros(ctx.src_shape, g._data.dtype)  # (a constant)
    return index_put(GetItem.apply(g, ctx.index), ctx.src_shape, ctx.region)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of ``input`` with ``src``'s elements (or the number ``value``) written at the
    positions ``index`` names along ``dim``: ``out[index[i][j]][j] = src[i][j]`` for dim 0."""
    if reduce is not None:
        raise NotImplementedError(f"scatter: reduce={reduce!r} is not supported by tinyseq; use "
                                  "scatter_add for 'add'")
    return _scatter("scatter", Scatter, input, dim, index, value if src is None else src)


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src``'s elements added at the positions ``index`` names along
    ``dim`` (the gradient-friendly ``scatter``: positions named twice add both)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a Tensor, got {type(src).__name__}")
    return _scatter("scatter_add", ScatterAdd, input, dim, index, src)


def _scatter(op, fn, input, dim, index, src):
    input = tensor_of(input)
    d = norm_dim(dim, input.ndim, op)
    idx = _indices(op, index)
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            raise RuntimeError(f"{op}: expected src of the input's dtype {input._data.dtype}, got "
                               f"{src._data.dtype}; convert it with .to(input.dtype)")
        _check_index_shape(op, input.shape, idx, d, src.shape)
        region = tuple(slice(0, k) for k in idx.shape)
    elif isinstance(src, (bool, int, float, np.number)):
        _check_index_shape(op, input.shape, idx, d)
        src, region = np.asarray(src).astype(input._data.dtype), ()
    else:
        raise TypeError(f"{op}: src must be a Tensor or a number (value=), got "
                        f"{type(src).__name__}")
    _in_range(op, idx, input.shape[d], dim)
    return fn.apply(input, src, _along(idx, d), region)


def index_fill(input, dim, index, value):
    """A copy of ``input`` with the entries ``index`` of dim ``dim`` set to ``value`` (a number,
    or a 0-d tensor, which gets their gradient)."""
    input = tensor_of(input)
    d = norm_dim(dim, input.ndim, "index_fill")
    idx = _vector("index_fill", index)
    n = input.shape[d] if input.ndim else 1
    idx = _in_range("index_fill", idx, n, dim, negative=True)
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill: value must be a number or a 0-d tensor, got a "
                               f"tensor of shape {value.shape}")
        value = to(value, input._data.dtype)
    else:
        value = np.asarray(value).astype(input._data.dtype)
    mask = np.zeros(n, bool)
    mask[idx] = True
    return IndexFill.apply(mask.reshape((n,) + (1,) * (input.ndim - d - 1)), value, input)


IndexFill = Where.alias("index_fill")  # ``where(mask along dim, value, input)``


class IndexAdd(Function):
    """A copy of ``a`` with ``alpha * source`` added at the entries ``index`` of ``axis``."""

    @staticmethod
    def forward(ctx, a, source, index, axis, alpha):
        ctx.at, ctx.axis, ctx.alpha = (slice(None),) * axis + (index,), axis, alpha
        out = a.copy()
        np.add.at(out, ctx.at, source * alpha if alpha != 1 else source)
        return out

    @staticmethod
    def backward(ctx, g):
        gs = g[ctx.at] if ctx.needs_input_grad[1] else None
        if gs is not None and ctx.alpha != 1:
            gs = gs * np.asarray(ctx.alpha, g.dtype)
        return g, gs, None, None, None

    @staticmethod
    def graph_backward(ctx, g):
        gs = GetItem.apply(g, ctx.at) if ctx.needs_input_grad[1] else None
        if gs is not None and ctx.alpha != 1:
            gs = gs * ctx.alpha
        return g, gs, None, None, None

    @staticmethod
    def jvp(ctx, ta, ts, index, axis, alpha):
        # (linear, but not ``linear``: a float ``alpha`` would arrive as a tangent, 0.0)
        out = np.array(ta)
        np.add.at(out, ctx.at, ts * ctx.alpha if ctx.alpha != 1 else ts)
        return out


def index_add(input, dim, index, source, alpha=1):
    """A copy of ``input`` with ``alpha * source[..., i, ...]`` added to the entry ``index[i]``
    of dim ``dim``; ``source`` has ``input``'s shape but ``len(index)`` along ``dim``."""
    input = tensor_of(input)
    d = norm_dim(dim, input.ndim, "index_add")
    idx = _vector("index_add", index)
    if not isinstance(source, Tensor):
        raise TypeError(f"index_add: source must be a Tensor, got {type(source).__name__}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_add: input ({input._data.dtype}) and source "
                           f"({source._data.dtype}) must have the same dtype")
    want = input.shape[:d] + (idx.size,) + input.shape[d + 1:]
    if source.shape != want:
        raise RuntimeError(f"index_add: source of shape {source.shape} does not fit {idx.size} "
                           f"indices into dim {dim} of the input of shape {input.shape}; "
                           f"expected {want}")
    idx = _in_range("index_add", idx, input.shape[d], dim)
    return IndexAdd.apply(input, source, idx, d, alpha)


def scatter_(input, dim, index, src=None, value=None, *, reduce=None):
    """``scatter`` in place."""
    if reduce is not None:
        raise NotImplementedError(f"scatter_: reduce={reduce!r} is not supported by tinyseq; use "
                                  "scatter_add_ for 'add'")
    return apply_("scatter_", scatter, input, dim, index, src, value)


def scatter_add_(input, dim, index, src):
    """``scatter_add`` in place."""
    return apply_("scatter_add_", scatter_add, input, dim, index, src)


def index_fill_(input, dim, index, value):
    """``index_fill`` in place."""
    return apply_("index_fill_", index_fill, input, dim, index, value)


def index_add_(input, dim, index, source, alpha=1):
    """``index_add`` in place."""
    return apply_("index_add_", index_add, input, dim, index, source, alpha)


# The functions above as Tensor methods (tensor.py attaches them).
TENSOR_METHODS = {
    "index_select": index_select, "gather": gather, "take_along_dim": take_along_dim,
    "masked_select": masked_select, "scatter": scatter, "scatter_add": scatter_add,
    "index_fill": index_fill, "index_add": index_add, "scatter_": scatter_,
    "scatter_add_": scatter_add_, "index_fill_": index_fill_, "index_add_": index_add_,
}
