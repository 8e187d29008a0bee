"""The graph's nodes: a ``Node`` per recorded op, an ``AccumulateGrad`` per leaf that wants a
gradient, and ``edge_of``, the edge that carries a gradient into a tensor.

A tensor made by an op points at its node (``t.grad_fn``) and says which of its outputs it is
(``t._output_nr``); a node points at its inputs' nodes through ``next_edges``. The backward walk
(``engine.py``) follows these edges from the output to the leaves.

A node's ``name`` is the op's (``"mul"``); its class is named as PyTorch names it (``MulBackward0``:
``type(t.grad_fn).__name__``, what ``repr(t)`` shows), one subclass of ``Node`` per name
(``node_class``).
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
    ``ctx`` saved, ``saved_from`` where each came from (``views.versions_of``);
    ``hooks``/``retained`` map an output index to its tensor hooks / its ``retain_grad`` tensor; ``notes`` ``None``, or a dict in which observers (``observers.py``)
    keep what they learn about the node, under keys of their own (the engine never reads it).
    """

    __slots__ = ("fn", "ctx", "next_edges", "out_meta", "name", "scope", "trace",
                 "saved_versions", "saved_from", "hooks", "retained", "notes", "__weakref__")

    def __init__(self, fn, ctx, next_edges, out_meta):
        self.fn = fn
        self.ctx = ctx
        self.next_edges = next_edges
        self.out_meta = out_meta
        self.name = fn.node_name
        self.scope = state.scope
        self.trace = anomaly.creation_trace() if state.anomaly else None
        self.saved_versions = self.saved_from = ()
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


# PyTorch's node names where they are not ``<Op>Backward0`` (``log_softmax``: LogSoftmaxBackward0);
# torch's name of some ops depends on the arguments, and its most common one is taken (``matmul`` of
# two matrices, ``linear`` with a bias, ``reshape`` of a contiguous tensor; ``sum`` and ``mean`` of
# every element, ``SumBackward1`` with a dim)
TORCH_NAMES = {"matmul": "MmBackward0", "linear": "AddmmBackward0", "reshape": "ViewBackward0",
               "flatten": "ViewBackward0", "narrow": "SliceBackward0", "cast": "ToCopyBackward0",
               "clamp": "ClampBackward1", "setitem": "CopySlices", "copyslices": "CopySlices",
               "copy": "CopyBackwards"}


def torch_name(fn):
    """PyTorch's name of the nodes of Function ``fn``: ``fn.torch_name`` if its class sets one,
    else from ``TORCH_NAMES`` or the op's name (``masked_fill``: ``MaskedFillBackward0``); a
    Function defined outside tinyseq is ``<ClassName>Backward``, as torch names custom Functions."""
    if "torch_name" in fn.__dict__:
        return fn.torch_name
    if not fn.__module__.startswith("tinyseq."):
        return f"{fn.__name__}Backward"
    camel = "".join(word.title() for word in fn.name.split("_"))
    return TORCH_NAMES.get(fn.name, f"{camel}Backward0")


class OpName(str):
    """A node's ``name``: the op's name (``"mul"``), a string; called, as PyTorch's
    ``grad_fn.name()``, it gives PyTorch's name of the node (``"MulBackward0"``)."""

    def __new__(cls, name, torch):
        self = super().__new__(cls, name)
        self.torch = torch
        return self

    def __call__(self):
        return self.torch

    def __reduce__(self):
        return OpName, (str(self), self.torch)


_NODE_CLASSES = {}


def node_class(torch):
    """The subclass of ``Node`` named ``torch`` (``"MulBackward0"``), made once."""
    cls = _NODE_CLASSES.get(torch)
    if cls is None:
        cls = _NODE_CLASSES[torch] = type(torch, (Node,), {
            "__slots__": (), "__module__": __name__,
            "__doc__": f"A node of the op PyTorch calls ``{torch}``."})
    return cls


class AccumulateGrad:
    """The node of a leaf that requires a gradient: backward adds into ``leaf.grad``."""

    __slots__ = ("leaf", "out_meta", "__weakref__")
    retained = None  # a leaf keeps its own gradient; its hooks live on the leaf (``leaf._hooks``)
    # The same for every leaf, so kept on the class: a leaf's accumulator lives only as long as
    # the graph that uses it (``edge_of``), and a small graph made and dropped in a loop makes one
    # per leaf each time (making the name each time cost a small ``x * y`` about 1.5 us of 8).
    name = OpName("accumulate_grad", "torch::autograd::AccumulateGrad")
    scope = ()
    next_edges = ()

    def __init__(self, leaf):
        self.leaf = leaf
        self.out_meta = ((leaf._data.shape, leaf._data.dtype),)

    def __repr__(self):
        return f"<accumulate_grad node of a leaf {self.leaf._data.shape}>"


def check_saved(node):
    """Refuse to run a node whose saved arrays were freed, or changed in place since forward."""
    if node.ctx is None:
        raise RuntimeError(
            f"backward: trying to go through the graph a second time, but it was freed (at "
            f"'{node.name}') by the first backward; pass retain_graph=True to the first "
            "backward() if you need to run backward twice")
    for counter, version in node.saved_versions:
        if counter.value != version:
            raise RuntimeError(
                f"backward: an array that '{node.name}' saved for its gradient was modified by an "
                f"in-place operation after the forward (version {counter.value}, expected "
                f"{version}); use an out-of-place op or .clone() before changing it")


def edge_of(t):
    """The edge that carries a gradient into tensor ``t``: its producer, or its leaf accumulator."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    acc = t._accumulator() if t._accumulator is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._accumulator = weakref.ref(acc)
    return (acc, 0)
