"""Ops that move elements around without changing them. Forward returns numpy views where it can.

``Split`` and ``Unbind`` are one node with many outputs and ``Cat``/``Stack`` one node with many
inputs, so that backward through T time-step slices costs O(T), not O(T^2).

Each Function is followed by the functions users call (``reshape(input, *shape)``: ``ts.reshape``
and ``t.reshape()``), which check the shapes and dims they are given and name them in errors.
"""
import itertools
import operator
import math
import warnings

import numpy as np

from ..dtypes import joined_dtype, tensor_of
from ..errors import ShapeError
from ..function import Function
from ..mode import state
from ._util import norm_dim, unbroadcast
from .index import GetItem
from .reduce import reduce_axes


def shape_arg(shape):
    """``f(2, 3)`` and ``f((2, 3))`` both mean the shape ``(2, 3)``."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def check_shape(op, shape, lowest=0):
    """``shape`` as a tuple of ints, refusing other types and sizes below ``lowest`` (-1 where
    -1 means "work this size out", as in ``reshape`` and ``expand``)."""
    for k, n in enumerate(shape):
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{op}: sizes must be ints, got {type(n).__name__} {n!r} at position "
                            f"{k} of {tuple(shape)}")
        if n < lowest:
            raise ShapeError(f"{op}: size {n} at position {k} of {tuple(shape)} is negative" +
                             ("; only -1 is allowed" if lowest else ""))
    return tuple(int(n) for n in shape)


class Reshape(Function):
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


# Reshapes under the names they are called by, in the graph and in error messages.
View = Reshape.alias("view")
Flatten = Reshape.alias("flatten")
Squeeze = Reshape.alias("squeeze")
SqueezeDims = Squeeze.variant("SqueezeBackward1")  # ``squeeze(dim)``, as torch names it
Unsqueeze = Reshape.alias("unsqueeze")


def reshape(input, *shape):
    return _reshape(Reshape, tensor_of(input), shape_arg(shape))


def view(input, *shape):
    """``input`` in ``shape``, sharing its memory; as in torch, only where its strides allow (a
    transposed tensor cannot be flattened without a copy: ``reshape`` copies, ``view`` refuses).

    Only a view of another tensor (a transpose, a permute, an expand, a slice) is refused: its
    strides are torch's. A result of arithmetic is laid out by numpy, which keeps its inputs'
    order where torch sometimes makes it contiguous, so for it a copy is taken quietly rather than
    refusing a program that runs on torch."""
    out = _reshape(View, input, shape_arg(shape))
    copied = out._data.size and not np.may_share_memory(out._data, input._data)
    if copied and getattr(input, "_base", None) is not None:
        raise RuntimeError(f"view size is not compatible with input tensor's size and stride (at "
                           f"least one dimension spans across two contiguous subspaces): shape "
                           f"{input.shape} to {tuple(shape_arg(shape))}. Use .reshape(...) "
                           "instead, or .contiguous().view(...)")
    return out


def flatten(input, start_dim=0, end_dim=-1):
    input = tensor_of(input)
    if input.ndim == 0:
        return _reshape(Flatten, input, (1,))
    lo, hi = norm_dim(start_dim, input.ndim, "flatten"), norm_dim(end_dim, input.ndim, "flatten")
    if lo > hi:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                         f"tensor of shape {input.shape}")
    sizes = input._data.shape
    shape = sizes[:lo] + (math.prod(sizes[lo:hi + 1]),) + sizes[hi + 1:]
    return _reshape(Flatten, input, shape)


def _reshape(op, t, shape):
    try:
        if shape and min(shape) < -1:  # numpy would take any negative size for -1
            raise ValueError
        return op.apply(t, shape)
    except (ValueError, TypeError):
        if list(check_shape(op.name, shape, lowest=-1)).count(-1) > 1:
            raise ShapeError(f"{op.name}: only one size can be -1 (inferred), got "
                             f"{tuple(shape)}") from None
        raise ShapeError(f"{op.name}: cannot reshape a tensor of shape {t.shape} ({t.numel()} "
                         f"elements) into shape {tuple(shape)}") from None


def unsqueeze(input, dim):
    input = tensor_of(input)
    d = norm_dim(dim, input.ndim + 1, "unsqueeze")
    return Unsqueeze.apply(input, input._data.shape[:d] + (1,) + input._data.shape[d:])


def squeeze(input, dim=None):
    """Remove the size-1 dims (all of them, or those of ``dim`` that have size 1)."""
    input = tensor_of(input)
    axes = range(input.ndim) if dim is None else reduce_axes(dim, input.ndim, "squeeze")
    shape = tuple(n for i, n in enumerate(input._data.shape) if not (i in axes and n == 1))
    return (Squeeze if dim is None else SqueezeDims).apply(input, shape)


def unsqueeze_(input, dim):
    """``unsqueeze`` in place: this tensor takes the new shape."""
    return _reshape_("unsqueeze_", unsqueeze, input, dim)


def squeeze_(input, dim=None):
    """``squeeze`` in place: this tensor takes the new shape."""
    return _reshape_("squeeze_", squeeze, input, dim)


def t_(input):
    """``t()`` in place (PyTorch's ``t_``)."""
    return _reshape_("t_", t, input)


def transpose_(input, dim0, dim1):
    """``transpose(dim0, dim1)`` in place."""
    return _reshape_("transpose_", transpose, input, dim0, dim1)


def _reshape_(op, fn, self, *args):
    """``self`` reshaped by ``fn`` in place; a tensor in a graph is rebased onto ``fn``'s node,
    as in torch, and a leaf that requires grad refuses."""
    out = fn(self, *args)
    if self._requires_grad and state.grad_enabled:
        if self.grad_fn is None:
            raise RuntimeError(f"{op}: a leaf tensor that requires grad is being used in an "
                               "in-place operation; use the out-of-place op, or do it under "
                               "`with ts.no_grad():`")
        if self._base is not None:
            raise RuntimeError(f"{op}: this tensor is a view in a graph, whose shape cannot "
                               "change in place in tinyseq; use the out-of-place op")
        self.grad_fn, self._output_nr = out.grad_fn, out._output_nr
    self._data = out._data
    return self


class Permute(Function):
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(np.argsort(ctx.dims)), None


Transpose = Permute.alias("transpose")  # a permutation that swaps two dims
TransposeT = Transpose.variant("TBackward0")  # ``t.t()``, as torch names it


def permute(input, *dims):
    input = tensor_of(input)
    dims = tuple(norm_dim(d, input.ndim, "permute") for d in shape_arg(dims))
    if sorted(dims) != list(range(input.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {input.ndim} dims of a "
                         f"tensor of shape {input.shape}")
    return Permute.apply(input, dims)


def transpose(input, dim0, dim1):
    input = tensor_of(input)
    dims = list(range(input.ndim))
    a, b = norm_dim(dim0, input.ndim, "transpose"), norm_dim(dim1, input.ndim, "transpose")
    if dims:  # a 0-d tensor has nothing to swap
        dims[a], dims[b] = dims[b], dims[a]
    return Transpose.apply(input, tuple(dims))


def t(input):
    """The transpose of a matrix (a tensor of at most 2 dims, which it returns as it is)."""
    if input.ndim > 2:
        raise ValueError(f"t(): expects a tensor with at most 2 dims, got shape {input.shape}; "
                         "use transpose(d0, d1) or permute(...)")
    return input if input.ndim < 2 else TransposeT.apply(input, (1, 0))


def swapaxes(input, axis0, axis1):
    """``transpose`` under numpy's name (also ``swapdims``)."""
    return transpose(input, axis0, axis1)


def swapdims(input, dim0, dim1):
    return transpose(input, dim0, dim1)


def _reversed_dims(input):
    """``t.T``: the dims reversed; torch warns (deprecated) for a tensor that is not 2-D."""
    if input.ndim != 2:
        warnings.warn("t.T on a tensor that is not 2-D is deprecated in torch (it reverses all "
                      "dims); use t.mT to transpose batches of matrices or t.permute(...)",
                      UserWarning, stacklevel=2)
    return Permute.apply(input, tuple(range(input.ndim))[::-1])


def contiguous(input):
    """Itself if its data is laid out in C order, else a C-ordered copy (recorded as a clone)."""
    if input._data.flags.c_contiguous:
        return input
    from .elementwise import clone  # (elementwise imports this module)
    return clone(input)


def is_contiguous(input):
    return bool(input._data.flags.c_contiguous)


class Flip(Function):
    """``a`` reversed along ``dims``; a copy, as in torch."""
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.flip(a, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return np.flip(g, ctx.dims), None


def flip(input, *dims):
    """``input`` reversed along each of ``dims`` (``t.flip(0)``, ``ts.flip(t, [0, 1])``)."""
    input = tensor_of(input)
    dims = norm_dim(shape_arg(dims), input.ndim, "flip")
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"flip: dims {tuple(shape_arg(dims))} name a dim more than once")
    return Flip.apply(input, dims if input.ndim else ())


def reversed_(input):
    """``reversed(t)``: ``t`` flipped along dim 0 (a 0-d tensor as it is), as in torch."""
    return input if input.ndim == 0 else flip(input, 0)


Narrow = GetItem.alias("narrow")  # ``length`` entries of ``dim`` from ``start``: a view


def narrow(input, dim, start, length):
    """``input`` along ``dim`` from ``start`` (negative counts from the end) for ``length``."""
    input = tensor_of(input)
    if input.ndim == 0:
        raise RuntimeError("narrow: cannot be applied to a 0-d tensor")
    d = norm_dim(dim, input.ndim, "narrow")
    try:
        n, start, length = input._data.shape[d], operator.index(start), operator.index(length)
    except TypeError:
        raise TypeError(f"narrow: start and length must be ints, got {start!r} and "
                        f"{length!r}") from None
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dim {dim} of size {n} "
                         f"(expected in [{-n}, {n}])")
    start += n if start < 0 else 0
    if length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds the size {n} "
                           f"of dim {dim} (shape {input.shape})")
    return Narrow.apply(input, (slice(None),) * d + (slice(start, start + length),))


class Expand(Function):
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.shape), None


def expand(input, *shape):
    """A broadcast view; ``-1`` keeps a dim, new dims may be added on the left."""
    input = tensor_of(input)
    shape = check_shape("expand", shape_arg(shape), lowest=-1)
    lead = len(shape) - input.ndim
    if lead < 0:
        raise ShapeError(f"expand: {len(shape)} sizes {shape} for a tensor of shape "
                         f"{input.shape}; give at least one size per dim")
    if -1 in shape[:lead]:
        raise ShapeError(f"expand: -1 (keep the size) in a new leading dim of {shape}; "
                         "new dims need a size")
    full = tuple(input._data.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    try:
        return Expand.apply(input, full)
    except ValueError:
        raise ShapeError(f"expand: cannot expand shape {input.shape} to {shape}; "
                         "only dims of size 1 can grow, and new dims go on the left") from None


class Split(Function):
    """Cut ``a`` along ``axis`` at ``bounds`` (start, stop) pairs; one output per piece."""
    moves_data_only = True

    materialize_grads = False

    @staticmethod
    def forward(ctx, a, bounds, axis):
        ctx.shape, ctx.bounds, ctx.axis = a.shape, bounds, axis
        lead = (slice(None),) * axis
        return tuple(a[lead + (slice(lo, hi),)] for lo, hi in bounds)

    @staticmethod
    def backward(ctx, *grads):
        if all(g is not None for g in grads):
            return np.concatenate(grads, axis=ctx.axis), None, None
        full = np.zeros(ctx.shape, dtype=next(g for g in grads if g is not None).dtype)
        lead = (slice(None),) * ctx.axis
        for (lo, hi), g in zip(ctx.bounds, grads):
            if g is not None:
                full[lead + (slice(lo, hi),)] = g
        return full, None, None


def split(input, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    input = tensor_of(input)
    ax = norm_dim(dim, input.ndim, "split")
    n = input._data.shape[ax]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        return _split(input, step, ax)
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = list(check_shape("split", split_size_or_sections))
        if sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} add up to {sum(sizes)}, but dim {dim} of "
                             f"shape {input.shape} has size {n}")
        ends = list(itertools.accumulate(sizes))
        return Split.apply(input, tuple(zip([0] + ends[:-1], ends)), ax)
    raise TypeError(f"split: split_size_or_sections must be an int or a list of ints, "
                    f"got {type(split_size_or_sections).__name__}")


def _split(input, step, ax):
    """``split(input, step, ax)`` once checked: pieces of ``step`` (> 0) along axis ``ax`` (>= 0)."""
    n = input._data.shape[ax]
    return Split.apply(input, tuple([(lo, min(lo + step, n)) for lo in range(0, max(n, 1), step)]),
                       ax)


def chunk(input, chunks, dim=0):
    """``chunks`` pieces of size ceil(n / chunks) along ``dim`` (fewer if they run out)."""
    input = tensor_of(input)
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    ax = norm_dim(dim, input.ndim, "chunk")
    n = input._data.shape[ax]
    if n == 0:  # as torch: that many empty pieces
        return Split.apply(input, ((0, 0),) * chunks, ax)
    # (straight to the pieces with the dim found above: through ``split`` the dim was normalised
    # and the size checked again, about 1 us of the 7 us an LSTM step's four gates took)
    return _split(input, -(-n // chunks), ax)


class Unbind(Function):
    """The slices ``a[..., i, ...]`` along ``axis``, each without that axis."""
    moves_data_only = True

    materialize_grads = False

    @staticmethod
    def forward(ctx, a, axis):
        ctx.shape, ctx.axis = a.shape, axis
        return tuple(a if axis == 0 else np.moveaxis(a, axis, 0))

    @staticmethod
    def backward(ctx, *grads):
        if all(g is not None for g in grads):
            return np.stack(grads, axis=ctx.axis), None
        full = np.zeros(ctx.shape, dtype=next(g for g in grads if g is not None).dtype)
        view = np.moveaxis(full, ctx.axis, 0)  # writing into the view fills ``full``
        for i, g in enumerate(grads):
            if g is not None:
                view[i] = g
        return full, None


def unbind(input, dim=0):
    """The slices along ``dim``, each without it: one node however many slices."""
    input = tensor_of(input)
    if input.ndim == 0:
        raise IndexError("unbind: a 0-d tensor has no dim to unbind along")
    ax = norm_dim(dim, input.ndim, "unbind")
    if input._data.shape[ax] == 1:  # one slice is a view
        return (Squeeze.apply(input, input._data.shape[:ax] + input._data.shape[ax + 1:]),)
    return Unbind.apply(input, ax)


class Cat(Function):
    """Join the arrays along an existing ``axis``; backward hands each its slice of the gradient."""
    moves_data_only = True

    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.offsets = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return (None, *np.split(g, ctx.offsets, axis=ctx.axis))


def cat(tensors, dim=0):
    """Join tensors along the existing dim ``dim``; all other dims must match."""
    tensors = _tensors(tensors, "cat")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise ShapeError(f"cat: tensor {i} is 0-d and has no dim to join along; use stack")
    ax = norm_dim(dim, first.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or any(a != b for k, (a, b)
                                       in enumerate(zip(t._data.shape, first._data.shape))
                                       if k != ax):
            raise ShapeError(f"cat: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{first.shape}; all dims except dim={dim} must match")
    return Cat.apply(ax, *tensors)


def _tensors(seq, op):
    """The tensors to join, in one dtype as PyTorch joins them (``joined_dtype``)."""
    tensors = [tensor_of(t) for t in seq]
    if not tensors:
        raise ValueError(f"{op}: expects a non-empty sequence of tensors")
    first = tensors[0]._data.dtype
    for t in tensors:  # one dtype (the usual case) needs no ``joined_dtype`` (1.7 us a call)
        if t._data.dtype != first:
            break
    else:
        return tensors
    dtype = joined_dtype(*(t._data.dtype for t in tensors))
    return [t if t._data.dtype == dtype else t.to(dtype) for t in tensors]


class Stack(Function):
    """Join the arrays along a new ``axis``; backward hands each its slice of the gradient."""
    moves_data_only = True

    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis  # (np.stack's own checks cost more than this on small arrays)
        return np.concatenate([a.reshape(a.shape[:axis] + (1,) + a.shape[axis:]) for a in arrays],
                              axis=axis)

    @staticmethod
    def backward(ctx, g):
        return (None, *np.moveaxis(g, ctx.axis, 0))


def stack(tensors, dim=0):
    """Join tensors of one shape along a new dim ``dim``."""
    tensors = _tensors(tensors, "stack")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t._data.shape != first._data.shape:
            raise ShapeError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{first.shape}; stack needs tensors of one shape")
    return Stack.apply(norm_dim(dim, first.ndim + 1, "stack"), *tensors)


# The functions above as Tensor methods (tensor.py attaches them): ``t.view(2, 3)`` is
# ``view(t, 2, 3)``.
TENSOR_METHODS = {
    "reshape": reshape, "view": view, "flatten": flatten, "unsqueeze": unsqueeze,
    "squeeze": squeeze, "permute": permute, "transpose": transpose, "t": t,
    "T": property(_reversed_dims), "expand": expand, "split": split, "chunk": chunk,
    "unbind": unbind, "swapaxes": swapaxes, "swapdims": swapdims, "contiguous": contiguous,
    "is_contiguous": is_contiguous, "flip": flip, "__reversed__": reversed_, "narrow": narrow,
    "unsqueeze_": unsqueeze_, "squeeze_": squeeze_, "t_": t_, "transpose_": transpose_,
}
