"""More ops that move elements without changing them: ``repeat``, ``roll``, ``movedim``,
``unflatten``, ``tensor_split`` and the ``*_as`` forms (``expand_as``, ``view_as``, ``reshape_as``,
``type_as``), which are the ops of ``shape.py`` and ``selection.py`` given another tensor's shape
or dtype.

Each Function is followed by the function users call (``ts.roll`` and ``t.roll()``), which checks
its arguments as torch does and names them in its errors.
"""
import operator

import numpy as np

from ..dtypes import tensor_of
from ..errors import ShapeError
from ..function import Function
from ..tensor import Tensor
from ._util import norm_dim
from .joins import Split
from .selection import to
from .shape import check_shape, expand, permute, reshape, shape_arg, view


class Repeat(Function):
    """``a`` tiled ``reps`` times along each dim (``reps`` as long as ``a.ndim``, which forward
    gets by adding leading 1s); backward sums the tiles."""
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, reps):
        ctx.shape = a.shape
        return np.tile(a, reps)

    @staticmethod
    def backward(ctx, g):
        # (r0, s0, r1, s1, ...): each dim of g split into its tiles and the tile's own size
        pairs = tuple(n for r, s in zip(g.shape, ctx.shape) for n in (r // max(s, 1), s))
        if 0 in ctx.shape or 0 in g.shape:  # an empty input or no tiles: nothing flows back
            return np.zeros(ctx.shape, g.dtype), None
        return g.reshape(pairs).sum(axis=tuple(range(0, len(pairs), 2))), None

    @staticmethod
    def graph_backward(ctx, g):
        # (no case for empty tensors: a sum over an empty dim gives the zeros, in the graph)
        pairs = tuple(n for r, s in zip(g.shape, ctx.shape) for n in (r // max(s, 1), s))
        return g.reshape(pairs).sum(tuple(range(0, len(pairs), 2))), None


def repeat(input, *sizes):
    """``input`` repeated ``sizes[d]`` times along each dim d (a copy, as torch's ``t.repeat``);
    extra leading sizes add dims: ``(2, 3)`` repeated ``(2, 1, 1)`` is ``(2, 2, 3)``."""
    sizes = check_shape("repeat", shape_arg(sizes))
    if len(sizes) < input.ndim:
        raise RuntimeError(f"repeat: {len(sizes)} repeat sizes {sizes} for a tensor of "
                           f"{input.ndim} dims (shape {input.shape}); give one size per dim "
                           "(1 keeps a dim as it is)")
    lead = (1,) * (len(sizes) - input.ndim)
    return Repeat.apply(reshape(input, lead + input.shape), sizes)


def expand_as(input, other):
    """``input.expand(other.shape)``."""
    return expand(input, _tensor("expand_as", other).shape)


def view_as(input, other):
    """``input.view(other.shape)``."""
    return view(input, _tensor("view_as", other).shape)


def reshape_as(input, other):
    """``input.reshape(other.shape)``."""
    return reshape(input, _tensor("reshape_as", other).shape)


def type_as(input, other):
    """``input`` in ``other``'s dtype (itself if it has it already)."""
    return to(input, _tensor("type_as", other)._data.dtype)


def _tensor(op, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: other must be a Tensor, got {type(other).__name__}")
    return other


def unflatten(input, dim, sizes):
    """Dim ``dim`` split into dims of ``sizes`` (one of them may be -1): ``(2, 12)`` unflattened
    at dim 1 into ``(3, 4)`` is ``(2, 3, 4)``."""
    input = tensor_of(input)
    d = norm_dim(dim, input.ndim, "unflatten")
    if not isinstance(sizes, (tuple, list)) or not sizes:
        raise RuntimeError(f"unflatten: sizes must be a non-empty tuple or list of ints, got "
                           f"{sizes!r}")
    sizes = check_shape("unflatten", sizes, lowest=-1)
    n, known = input.shape[d], int(np.prod([s for s in sizes if s != -1]))
    if sizes.count(-1) > 1:
        raise RuntimeError(f"unflatten: only one size can be -1 (inferred), got {sizes}")
    if (n != known) if -1 not in sizes else (known == 0 or n % known):
        raise RuntimeError(f"unflatten: sizes {list(sizes)} don't multiply up to the size of dim "
                           f"{dim} ({n}) of the input of shape {input.shape}")
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1:])


TensorSplit = Split.alias("tensor_split")


def tensor_split(input, indices_or_sections, dim=0):
    """Views of ``input`` along ``dim``: ``n`` sections (the first ``size % n`` one longer), or
    the pieces between the given indices (as numpy's ``array_split``)."""
    input = tensor_of(input)
    if input.ndim == 0:
        raise RuntimeError("tensor_split: expected at least a 1-dimensional tensor, got a 0-d one")
    ax = norm_dim(dim, input.ndim, "tensor_split")
    n = input.shape[ax]
    cuts = _cuts(indices_or_sections, n)
    ends = [min(max(c if c >= 0 else c + n, 0), n) for c in cuts]  # as Python slices read them
    if any(b < a for a, b in zip(ends, ends[1:])):  # overlapping pieces: one slice each
        starts = [0] + ends
        return tuple(input[(slice(None),) * ax + (slice(lo, hi),)]
                     for lo, hi in zip(starts, ends + [n]))
    bounds = tuple(zip([0] + ends, ends + [n]))
    return TensorSplit.apply(input, bounds, ax)


def _cuts(spec, n):
    """The split points of ``tensor_split``'s ``indices_or_sections``."""
    if isinstance(spec, Tensor):
        if spec._data.dtype.kind not in "iu" or spec.ndim > 1:
            raise RuntimeError("tensor_split: a tensor of indices_or_sections must be a 0-d or "
                               f"1-d int64 tensor, got dtype {spec._data.dtype} of shape "
                               f"{spec.shape}")
        spec = spec.item() if spec.ndim == 0 else spec.tolist()
    if isinstance(spec, (tuple, list)):
        return [operator.index(i) for i in spec]
    try:
        sections = operator.index(spec)
    except TypeError:
        raise TypeError(f"tensor_split: indices_or_sections must be an int or a list of ints, "
                        f"got {type(spec).__name__}") from None
    if sections <= 0:
        raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got "
                           f"{sections}")
    small, extra = divmod(n, sections)
    return list(np.cumsum([small + (k < extra) for k in range(sections)])[:-1])


def movedim(input, source, destination):
    """Dims ``source`` (an int or a tuple) moved to the places ``destination``; the other dims
    keep their order."""
    input = tensor_of(input)
    src = _dims(source, input.ndim, "source")
    dst = _dims(destination, input.ndim, "destination")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {tuple(src)} and destination {tuple(dst)} must "
                           "name as many dims")
    order = [d for d in range(input.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


def moveaxis(input, source, destination):
    """``movedim`` under numpy's name."""
    return movedim(input, source, destination)


def _dims(dims, ndim, name):
    dims = [dims] if isinstance(dims, (int, np.integer)) else list(dims)
    dims = [norm_dim(d, ndim, "movedim") for d in dims]
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"movedim: repeated dim in {name} {tuple(dims)}")
    return dims


class Roll(Function):
    """``np.roll``: elements shifted along ``axes`` (all of them, flattened, when None), those
    pushed off the end coming back at the start."""
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return np.roll(a, shifts, axes)

    @staticmethod
    def backward(ctx, g):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return np.roll(g, back, ctx.axes), None, None

    @staticmethod
    def graph_backward(ctx, g):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return Roll.apply(g, back, ctx.axes), None, None


def roll(input, shifts, dims=None):
    """``input`` rolled by ``shifts`` along ``dims`` (ints or tuples of one length); with no
    dims, the flattened tensor is rolled and keeps its shape."""
    input = tensor_of(input)
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            if len(shifts) != 1:
                raise RuntimeError(f"roll: with no dims, give one shift, got {tuple(shifts)}")
            shifts = shifts[0]
        return Roll.apply(input, int(shifts), None)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dims must align, got {len(shifts)} shifts "
                           f"{shifts} and {len(dims)} dims {dims}")
    if input.ndim == 0:
        raise ShapeError("roll: a 0-d tensor has no dim to roll along; give dims=None")
    axes = tuple(norm_dim(d, input.ndim, "roll") for d in dims)
    return Roll.apply(input, tuple(int(s) for s in shifts), axes)


# The functions above as Tensor methods (tensor.py attaches them).
TENSOR_METHODS = {
    "repeat": repeat, "expand_as": expand_as, "view_as": view_as, "reshape_as": reshape_as,
    "type_as": type_as, "unflatten": unflatten, "tensor_split": tensor_split, "movedim": movedim,
    "moveaxis": moveaxis, "roll": roll,
}
