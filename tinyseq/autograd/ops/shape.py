"""Ops that move elements around without changing them. Forward returns numpy views where it can.

``Split`` and ``Unbind`` are one node with many outputs and ``Cat``/``Stack`` one node with many
inputs, so that backward through T time-step slices costs O(T), not O(T^2).
"""
import numpy as np

from ..function import Function
from ._util import unbroadcast


class Reshape(Function):
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


class View(Reshape):
    pass


class Flatten(Reshape):
    pass


class Squeeze(Reshape):
    pass


class Unsqueeze(Reshape):
    pass


class Permute(Function):
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(np.argsort(ctx.dims)), None


class Transpose(Permute):
    pass


class Expand(Function):
    moves_data_only = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.shape), None


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
