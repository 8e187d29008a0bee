"""The graph's nodes: a ``Node`` per recorded op, an ``AccumulateGrad`` per leaf that wants a
gradient, and ``edge_of``, the edge that carries a gradient into a tensor.

A tensor made by an op points at its node (``t.grad_fn``) and says which of its outputs it is
(``t._output_nr``); a node points at its inputs' nodes through ``next_edges``. The backward walk
(``engine.py``) follows these edges from the output to the leaves.
"""
import weakref

from . import anomaly
from .mode import state
from .tensor import RemovableHandle


class Node:
    """One recorded op: the ``grad_fn`` of the tensors it produced.

    ``next_edges[i]`` is ``(node, output_index)`` for argument ``i`` when it needs a gradient, else
    ``None``; ``out_meta[k]`` is ``(shape, dtype)`` of output ``k``; ``ctx`` what forward saved
    for backward (``None`` once freed); ``scope`` the scope path at creation; ``trace`` where it
    was created (under ``detect_anomaly``); ``saved_versions`` the version counters of the arrays
    ``ctx`` saved; ``hooks``/``retained`` map an output index to its tensor hooks / its
    ``retain_grad`` tensor; ``notes`` ``None``, or a dict in which observers (``observers.py``)
    keep what they learn about the node, under keys of their own (the engine never reads it).
    """

    __slots__ = ("fn", "ctx", "next_edges", "out_meta", "name", "scope", "trace",
                 "saved_versions", "hooks", "retained", "notes", "__weakref__")

    def __init__(self, fn, ctx, next_edges, out_meta):
        self.fn = fn
        self.ctx = ctx
        self.next_edges = next_edges
        self.out_meta = out_meta
        self.name = fn.name
        self.scope = state.scope
        self.trace = anomaly.creation_trace() if state.anomaly else None
        self.saved_versions = ()
        self.hooks = None
        self.retained = None
        self.notes = None

    def __repr__(self):
        return f"<{self.name} node>"

    def register_hook(self, hook, output=0):
        """Call ``hook(grad)`` with the finished gradient of output ``output`` (what
        ``Tensor.register_hook`` does for the tensors this node made); returns a removable
        handle."""
        self.hooks = self.hooks or {}
        hooks = self.hooks.setdefault(output, [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def release(self):
        """Drop what forward saved (after backward, unless ``retain_graph=True``)."""
        self.ctx = None


class AccumulateGrad:
    """The node of a leaf that requires a gradient: backward adds into ``leaf.grad``."""

    __slots__ = ("leaf", "out_meta", "name", "scope", "next_edges", "__weakref__")
    retained = None  # a leaf keeps its own gradient; its hooks live on the leaf (``leaf._hooks``)

    def __init__(self, leaf):
        self.leaf = leaf
        self.out_meta = ((leaf.shape, leaf.dtype),)
        self.name = "accumulate_grad"
        self.scope = ()
        self.next_edges = ()

    def __repr__(self):
        return f"<accumulate_grad node of a leaf {self.leaf.shape}>"


def edge_of(t):
    """The edge that carries a gradient into tensor ``t``: its producer, or its leaf accumulator."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    acc = t._accumulator() if t._accumulator is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._accumulator = weakref.ref(acc)
    return (acc, 0)
