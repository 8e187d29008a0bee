"""What a reader of the graph learns about it while it is built and walked (``ts.viz`` draws it).

The engine keeps only what backward needs. To draw a graph afterwards, ``ts.viz`` also wants the
tensors that needed no gradient (inputs, masks: drawn as constants), the names given to results
(``Γ_f``) and, after a backward inside ``record_grad_norms()``, the norm of each op's gradient.
``recorder``, an ``Observer`` (``observers.py``) added when autograd is imported, keeps the first
two in each node's ``notes`` and the norms in weak dictionaries keyed by node: all of it goes when
the graph goes. It is on from the start, so that a graph built before ``ts.viz`` is first used can
still be drawn; it costs about 0.1 µs an op and 0.1 µs a name (an LSTM step of ~15 ops: about 1%).
The engine itself (``engine.py``, ``function.py``, ``node.py``) knows nothing of what it keeps.
"""
import contextlib
import itertools
import math
import threading
import weakref

import numpy as np

from .node import AccumulateGrad
from .observers import Observer, observe
from .tensor import Tensor
from .toposort import toposort


class Recorder(Observer):
    """In ``node.notes`` (which goes with the node): ``"consts"``, ``(argument index, shape, name,
    weak reference)`` of each Tensor argument that needed no gradient, and ``"labels"``, ``{output
    index: name}``. Here: ``norms[node]``, ``(walk, squared norm of each output's gradient)``;
    ``walks[root]``, ``(walk, recording)`` of the last backward walk that started at ``root``,
    walks being numbered 1, 2, ..."""

    def __init__(self):
        self.norms = weakref.WeakKeyDictionary()
        self.walks = weakref.WeakKeyDictionary()
        self.numbers = itertools.count(1)
        self.local = threading.local()  # .recording: inside record_grad_norms(), in this thread

    def recorded(self, node, args, flags):
        if False in flags:
            consts = [(i, a.shape, a.name, weakref.ref(a)) for i, (a, f)
                      in enumerate(zip(args, flags)) if not f and isinstance(a, Tensor)]
            if consts and node.notes is None:  # (the usual case: this is the first note)
                node.notes = {"consts": tuple(consts)}
            elif consts:
                node.notes["consts"] = tuple(consts)

    def named(self, tensor, name):
        node = tensor.grad_fn
        if node.notes is None:  # (the usual case: a result named once; this is on the hot path)
            node.notes = {"labels": {tensor._output_nr: name}}
        else:
            node.notes.setdefault("labels", {})[tensor._output_nr] = name

    @staticmethod
    def consts(node):
        """The Tensor arguments of ``node`` that needed no gradient, as ``recorded`` kept them."""
        return node.notes.get("consts", ()) if node.notes else ()

    @staticmethod
    def labels(node):
        """``{output index: name}`` of the named outputs of ``node`` (empty if none)."""
        return node.notes.get("labels", {}) if node.notes else {}

    def walking(self, roots):
        walk, recording = next(self.numbers), getattr(self.local, "recording", False)
        for node in roots:
            self.walks[node] = (walk, recording)
        if not recording:
            return None

        def keep_norms(node, grads):
            if type(node) is not AccumulateGrad:  # (a leaf's norm is that of its .grad)
                self.norms[node] = (walk, [None if g is None else np.vdot(g, g) for g in grads])

        return keep_norms

    def gradients(self, nodes):
        """``node -> (norm, recorded)`` for ``nodes``: the norm of the gradient of its outputs in
        the last backward that went through it; ``(None, True)`` if none did (or it got no
        gradient), ``(None, False)`` if the last one did not record norms. (A walk that recorded
        nothing is known by its roots: one whose roots are all gone is forgotten.)"""
        last = {}  # node -> (walk, recording) of the last walk through it from a root still alive
        for root, walk in sorted(list(self.walks.items()), key=lambda item: item[1][0]):
            for node in toposort([root]):
                last[node] = walk
        result = {}
        for node in nodes:
            walk, recording = last.get(node, (0, True))
            kept = self.norms.get(node)
            if kept is not None and kept[0] >= walk:
                result[node] = (combined([None if s is None else math.sqrt(s) for s in kept[1]]),
                                True)
            else:
                result[node] = (None, recording)
        return result


def combined(norms):
    """One norm for several outputs (those that got a gradient); ``None`` if none did."""
    norms = [n for n in norms or () if n is not None]
    return math.sqrt(sum(n * n for n in norms)) if norms else None


recorder = observe(Recorder())


@contextlib.contextmanager
def record_grad_norms():
    """Backward runs inside this block keep the norm of the gradient of every op they pass, which
    ``ts.viz.draw_graph(show_grads=True)`` shows.

    It costs a norm per node (backward runs about a fifth slower), so it is off by default.
    """
    prev = getattr(recorder.local, "recording", False)
    recorder.local.recording = True
    try:
        yield
    finally:
        recorder.local.recording = prev
