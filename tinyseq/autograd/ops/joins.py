"""Ops that cut a tensor into pieces or join pieces into one: ``split``/``chunk``, ``unbind``,
``cat``, ``stack``. Forward returns numpy views where it can.

``Split`` and ``Unbind`` are one node with many outputs and ``Cat``/``Stack`` one node with many
inputs, so that backward through T time-step slices costs O(T), not O(T^2): a recurrent layer
unbinds its input once and stacks its outputs once.
"""
import itertools

import numpy as np

from ..dtypes import joined_dtype, tensor_of
from ..errors import ShapeError
from ..function import Function
from ..tensor import Tensor
from ._util import norm_dim
from .shape import Squeeze, check_shape


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

    @staticmethod
    def graph_backward(ctx, *grads):
        """The pieces' gradients joined again (zeros for a piece that got none)."""
        grads = _filled(grads, [ctx.shape[:ctx.axis] + (hi - lo,) + ctx.shape[ctx.axis + 1:]
                                for lo, hi in ctx.bounds])
        return Cat.apply(ctx.axis, *grads), None, None


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

    @staticmethod
    def graph_backward(ctx, *grads):
        """The slices' gradients stacked again (zeros for a slice that got none)."""
        piece = ctx.shape[:ctx.axis] + ctx.shape[ctx.axis + 1:]
        return Stack.apply(ctx.axis, *_filled(grads, [piece] * len(grads))), None


def _filled(grads, shapes):
    """The gradients of a multi-output op's outputs, a constant of zeros (of ``shapes[k]``) for
    each that got none (``materialize_grads = False``)."""
    dtype = next(g for g in grads if g is not None)._data.dtype
    return [Tensor._wrap(np.zeros(shape, dtype)) if g is None else g
            for g, shape in zip(grads, shapes)]


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

    @staticmethod
    def graph_backward(ctx, g):
        cuts = [int(c) for c in ctx.offsets]
        bounds = tuple(zip([0] + cuts, cuts + [g.shape[ctx.axis]]))
        return (None, *Split.apply(g, bounds, ctx.axis))


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

    @staticmethod
    def graph_backward(ctx, g):
        return (None, *Unbind.apply(g, ctx.axis))


def stack(tensors, dim=0):
    """Join tensors of one shape along a new dim ``dim``."""
    tensors = _tensors(tensors, "stack")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t._data.shape != first._data.shape:
            raise ShapeError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{first.shape}; stack needs tensors of one shape")
    return Stack.apply(norm_dim(dim, first.ndim + 1, "stack"), *tensors)


# The functions above as Tensor methods (tensor.py attaches them): ``t.chunk(4, 1)`` is
# ``chunk(t, 4, 1)``.
TENSOR_METHODS = {"split": split, "chunk": chunk, "unbind": unbind}
