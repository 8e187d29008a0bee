"""Gradients that are graphs themselves: ``backward(create_graph=True)`` and ``grad(...,
create_graph=True)``, so that a gradient can be differentiated again, to any order.

The walk is the engine's (``engine._walk``); only what a gradient is changes. With
``create_graph=True`` it is a Tensor, and ``Graphs`` below gives the walk's steps for Tensors:
each node runs its op's ``graph_backward`` (the op's gradient written in tinyseq's ops) on Tensors,
under grad mode, so the ops of the gradient are recorded like any other ops. For that the arrays
the node's forward saved come back as the tensors they were in the graph (``saved_tensors``):
``Mul``'s gradient for ``a`` is ``g * b`` with ``b`` the tensor ``b``, so it depends on ``b``, and
its derivative with respect to ``b`` is there to be taken.
"""
import contextlib

import numpy as np

from .errors import ShapeError
from .mode import Scope, state
from .node import AccumulateGrad, check_saved
from .ops._util import broadcasts_to, unbroadcast
from .tensor import Tensor


def saved_tensors(node):
    """What ``node``'s forward saved, as Tensors in the graph: an argument's array as that
    argument (a leaf itself; a tensor that ``node``'s input edge leads to), an output's array as
    the output of ``node``, an array forward computed (or an argument needing no gradient) as a
    constant."""
    saved = node.ctx.saved_tensors
    if len(node.saved_from) != len(saved):
        raise RuntimeError(f"backward(create_graph=True): '{node.name}' does not know where the "
                           "arrays its forward saved came from, so its gradient cannot be "
                           "differentiated")
    return tuple([_tensor_of(node, a, source) for a, source in zip(saved, node.saved_from)])


def _tensor_of(node, a, source):
    if isinstance(a, np.generic):  # a scalar forward computed (a ufunc's result on 0-d arrays)
        a = np.asarray(a)
    if source is None or not isinstance(a, np.ndarray):
        return Tensor._wrap(a) if isinstance(a, np.ndarray) else a
    if source < 0:  # output ~source of this node
        return _made_by(a, node, ~source)
    edge = node.next_edges[source]
    if edge is None:  # an argument that needs no gradient: a constant
        return Tensor._wrap(a)
    producer, k = edge
    return producer.leaf if type(producer) is AccumulateGrad else _made_by(a, producer, k)


def _made_by(a, node, k):
    """A tensor of array ``a`` that is output ``k`` of ``node``, as in the forward graph (with
    the tangent that array's tensor carries, inside a forward-mode level)."""
    t = Tensor._wrap(a)
    t.grad_fn, t._output_nr, t._requires_grad = node, k, True
    if state.dual is not None:
        tangent = state.dual.tangent_of_array(a)
        if tangent is not None:
            state.dual.set(t, tangent)
    return t


def root_gradients(roots, given):
    """The engine's checked ``(edge, array)`` roots with Tensor gradients: a gradient the caller
    gave as a Tensor stays that Tensor (it may itself be in a graph: the double-backward trick
    differentiates through it)."""
    out = []
    for (edge, g), user in zip(roots, given):
        if isinstance(user, Tensor):  # (cast, if it must be, as an op: its graph stays)
            out.append((edge, user if user._data.dtype == g.dtype else user.to(g.dtype)))
        else:
            out.append((edge, Tensor._wrap(np.array(g))))
    return out


class Graphs:
    """The backward walk's steps (``engine.ARRAYS``'s) when gradients are Tensors, one instance a
    walk: the ops it records run under grad mode and in one scope, ``backward pass``, so that
    ``ts.viz.draw_graph`` draws the gradient's ops in a box of their own."""

    def __init__(self):
        self.scope = state.scope + (Scope("backward pass", None),)

    @contextlib.contextmanager
    def recording(self):
        """Grad mode on and the walk's scope, for the ops of the gradient."""
        outer = state.grad_enabled, state.scope
        state.grad_enabled, state.scope = True, self.scope
        try:
            yield
        finally:
            state.grad_enabled, state.scope = outer

    def add(self, pending, edge, g):
        """Sum gradient ``g`` into the slot of ``edge``, as an op of the gradient's graph."""
        node, k = edge
        slots = pending.get(node)
        if slots is None:
            slots = pending[node] = [None] * len(node.out_meta)
        slot = slots[k]
        if slot is None:
            slots[k] = [g, False]
        else:
            with self.recording():
                slots[k] = [slot[0] + g, False]

    def run(self, node, grads, retain_graph):
        """Run the op's ``graph_backward`` on Tensors; each gradient it returns is checked (and
        summed back to its input's shape, or cast to its dtype) as ``engine._run`` does."""
        fn = node.fn
        check_saved(node)
        if fn.graph_backward is None:
            raise RuntimeError(
                f"backward(create_graph=True): the gradient of '{node.name}' ({fn.__name__}) "
                "cannot be differentiated yet: the op has no graph_backward; compute this "
                "gradient without create_graph=True")
        ctx = _TensorContext(node.ctx, saved_tensors(node))
        if len(grads) > 1 and fn.materialize_grads:
            grads = [Tensor._wrap(np.zeros(shape, dtype)) if g is None else g
                     for g, (shape, dtype) in zip(grads, node.out_meta)]
        with self.recording():
            out = fn.graph_backward(ctx, *grads)
            if type(out) is not tuple:
                out = tuple(out) if isinstance(out, list) else (out,)
            if len(out) != len(node.next_edges):
                raise RuntimeError(f"{fn.__name__}.graph_backward returned {len(out)} "
                                   f"gradient(s) for {len(node.next_edges)} argument(s)")
            result = [None if edge is None or g is None else _checked(g, edge, fn, i)
                      for i, (g, edge) in enumerate(zip(out, node.next_edges))]
        if not retain_graph:
            node.ctx = None
        return result

    def accumulate(self, t, g, owned):
        """``t.grad`` becomes ``g`` (a tensor in the gradient's graph), or ``t.grad + g``."""
        if t._grad is None:
            t._grad = g
        else:
            with self.recording():
                t._grad = t._grad + g

    @staticmethod
    def run_hooks(fns, g):
        """Each hook gets the gradient Tensor itself; a Tensor it returns replaces it."""
        for fn in fns:
            new = fn(g)
            if new is not None:
                if not isinstance(new, Tensor) or new.shape != g.shape:
                    raise ShapeError(f"a hook returned {type(new).__name__} of shape "
                                     f"{getattr(new, 'shape', None)} for a gradient of shape "
                                     f"{g.shape}; return a Tensor of that shape, or None")
                g = new
        return g

    @staticmethod
    def arrays(grads):
        """The gradients as arrays, for observers (which see arrays in either walk)."""
        return [None if g is None else g._data for g in grads]

    @staticmethod
    def captured(g):
        """What ``grad()`` returns for a captured gradient: the Tensor itself."""
        return g


class _TensorContext:
    """The ``ctx`` that forward filled, read through (its attributes; a checkpoint's stand-in
    that reruns its function when first read), with ``saved_tensors`` as Tensors."""

    def __init__(self, ctx, saved_tensors):
        self._ctx, self.saved_tensors = ctx, saved_tensors

    def __getattr__(self, name):
        return getattr(self._ctx, name)


def _checked(g, edge, fn, i):
    """Gradient ``g`` that ``fn.graph_backward`` returned for input ``i`` (``edge``), as a Tensor
    of that input's shape and dtype."""
    if not isinstance(g, Tensor):
        g = Tensor._wrap(np.asarray(g))  # an array: a constant of the gradient's graph
    shape, dtype = edge[0].out_meta[edge[1]]
    if g._data.shape != shape:
        if not broadcasts_to(shape, g._data.shape):
            raise ShapeError(f"{fn.__name__}.graph_backward returned a gradient of shape "
                             f"{g._data.shape} for its input {i}, which has shape {shape}")
        g = unbroadcast(g, shape)
    return g if g._data.dtype == dtype else g.to(dtype)
