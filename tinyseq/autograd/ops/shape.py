"""Ops that move elements around without changing them. Forward returns numpy views where it can.

Cutting and joining (``split``, ``chunk``, ``unbind``, ``cat``, ``stack``) are ``joins.py``'s.

Each Function is followed by the functions users call (``reshape(input, *shape)``: ``ts.reshape``
and ``t.reshape()``), which check the shapes and dims they are given and name them in errors.
"""
import operator
import math
import warnings

import numpy as np

from ..dtypes import tensor_of
from ..errors import ShapeError
from ..function import Function
from ..mode import state
from ._util import norm_dim, unbroadcast
from .index import GetItem
from .reduce import reduce_axes
from .selection import clone


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

    @staticmethod
    def graph_backward(ctx, g):
        return Reshape.apply(g, ctx.shape), None


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
    if state.dual is not None and state.dual.tangent(out) is not None:
        state.dual.set(self, state.dual.tangent(out))  # (forward mode: the tangent's shape too)
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

    @staticmethod
    def graph_backward(ctx, g):
        return Permute.apply(g, tuple(np.argsort(ctx.dims).tolist())), None


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

    @staticmethod
    def graph_backward(ctx, g):
        return Flip.apply(g, ctx.dims), None


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

    graph_backward = backward  # (unbroadcast sums a Tensor with Tensor ops)


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


# The functions above as Tensor methods (tensor.py attaches them): ``t.view(2, 3)`` is
# ``view(t, 2, 3)``.
TENSOR_METHODS = {
    "reshape": reshape, "view": view, "flatten": flatten, "unsqueeze": unsqueeze,
    "squeeze": squeeze, "permute": permute, "transpose": transpose, "t": t,
    "T": property(_reversed_dims), "expand": expand, "swapaxes": swapaxes, "swapdims": swapdims, "contiguous": contiguous,
    "is_contiguous": is_contiguous, "flip": flip, "__reversed__": reversed_, "narrow": narrow,
    "unsqueeze_": unsqueeze_, "squeeze_": squeeze_, "t_": t_, "transpose_": transpose_,
}
