"""What a reader of the graph learns about it while it is built and walked (``ts.viz`` draws it).

The engine keeps only what backward needs. To draw a graph afterwards, ``ts.viz`` also wants the
tensors that needed no gradient (inputs, masks: drawn as constants), the names given to results
(``Γ_f``), the values of small results and, after a backward inside ``record_grad_norms()``, the
norm of each op's gradient. ``recorder``, an ``Observer`` (``observers.py``) added when autograd
is imported, keeps the first three in each node's ``notes`` and the norms in weak dictionaries
keyed by node: all of it goes when the graph goes. It is on from the start, so that a graph built
before ``ts.viz`` is first used can still be drawn.

A drawing writes out the numbers of a ``SMALL`` tensor (a scalar, a short vector), as micrograd
does: the recorder copies such a result's value when the op makes it (later changes in place do
not reach the copy) and, inside ``record_grad_norms()``, its signed gradient. A larger one costs
only the size check. Measured against the recorder of 06c6433, which kept no values (timeit, best
of 7, on a shared 2-core machine, so give or take 0.1 µs): ``recorded`` itself costs an op 0.3 µs
with a small output (``x * y`` of 2 elements; 0.05 µs before), 0.2 µs with a 0-d one (micrograd's
scalars), 0.1 µs with a large one (64×64), and 0.43 µs as before for ``s * 2.0`` (its constant
scan is cheaper now); end to end, ``x * y`` of 2 elements takes 6.9–7.0 µs (6.5–6.7 before), 64×64
the same as before, the scalar expression ``((s*s + s)*s).tanh()`` 24.8 µs (23.4: +6%). A small
LSTM's forward (``LSTM(8, 32)``, 20 steps, batch 16: large outputs) pays 5–9% for the recorder,
now as before (not the 1% said before); a name costs one dict, as before.
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

# Tensors of at most this many elements are drawn with their numbers: four values at 4 significant
# digits (about 40 characters) keep a box no wider than a parameter's name; the LSTM of the docs
# (batch 2, hidden 4: 8 elements) keeps its shapes, a scalar loss or a 2x2 matrix shows them.
SMALL = 4


class Recorder(Observer):
    """In ``node.notes`` (which goes with the node): ``"values"``, a copy of each SMALL output
    (``None`` for a larger one); ``"consts"``, ``(argument index, shape, name, reference)`` of each
    argument that needed no gradient and is a Tensor, or an array of one or more dimensions (the
    reference, called, gives the Tensor while it lives, or a small array's copy); ``"labels"``,
    ``{output index: name}``. Here: ``norms[node]``, ``(walk, squared norm of each output's
    gradient, the gradient itself of each SMALL output)``; ``walks[root]``, ``(walk, recording)``
    of the last backward walk that started at ``root``, walks being numbered 1, 2, ..."""

    def __init__(self):
        self.norms = weakref.WeakKeyDictionary()
        self.walks = weakref.WeakKeyDictionary()
        self.numbers = itertools.count(1)
        self.local = threading.local()  # .recording: inside record_grad_norms(), in this thread

    def recorded(self, node, args, flags, outputs):
        """``outputs``: the Tensors ``node`` made (the value of a SMALL one is kept for
        drawing)."""
        if len(outputs) == 1:  # (the usual case, inlined: this runs for every op)
            data = outputs[0]._data
            if data.size <= SMALL:
                value = (data[()] if data.ndim == 0 else data.copy(),)  # (as _copy does)
                if node.notes is None:  # (always, unless an observer before this one noted)
                    node.notes = {"values": value}
                else:
                    node.notes["values"] = value
        elif any(t._data.size <= SMALL for t in outputs):
            _note(node, "values", tuple(_copy(t._data) if t._data.size <= SMALL else None
                                        for t in outputs))
        if False in flags:  # (a loop: half the cost of a comprehension, which makes a frame)
            consts = []
            for i, a in enumerate(args):
                if not flags[i] and (isinstance(a, Tensor) or type(a) is np.ndarray and a.ndim):
                    consts.append(_constant(i, a))
            if consts:
                _note(node, "consts", tuple(consts))

    def named(self, tensor, name):
        node = tensor.grad_fn
        if node.notes is None:  # (the usual case: a large result named once; on the hot path)
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

    @staticmethod
    def values(node):
        """``{output index: a copy of its array}`` of the SMALL outputs of ``node``, as the op
        made them (or as they were when named)."""
        values = node.notes.get("values", ()) if node.notes else ()
        return {k: value for k, value in enumerate(values) if value is not None}

    def walking(self, roots):
        walk, recording = next(self.numbers), getattr(self.local, "recording", False)
        for node in roots:
            self.walks[node] = (walk, recording)
        if not recording:
            return None

        def keep_norms(node, grads):
            if type(node) is not AccumulateGrad:  # (a leaf's norm is that of its .grad)
                self.norms[node] = (walk, [None if g is None else np.vdot(g, g) for g in grads],
                                    [g.copy() if g is not None and g.size <= SMALL else None
                                     for g in grads])

        return keep_norms

    def gradients(self, nodes):
        """``node -> (norm, recorded)`` for ``nodes``: the norm of the gradient of its outputs in
        the last backward that went through it; ``(None, True)`` if none did (or it got no
        gradient), ``(None, False)`` if the last one did not record norms. (A walk that recorded
        nothing is known by its roots: one whose roots are all gone is forgotten.)"""
        result = {}
        for node, (kept, recording) in self._last_kept(nodes).items():
            if kept is not None:
                result[node] = (combined([None if s is None else math.sqrt(s) for s in kept[1]]),
                                True)
            else:
                result[node] = (None, recording)
        return result

    def small_gradients(self, nodes):
        """``node -> {output index: its gradient}`` for the SMALL outputs of ``nodes`` whose
        gradient the last backward through them recorded (empty if none)."""
        return {node: {} if kept is None else
                {k: g for k, g in enumerate(kept[2]) if g is not None}
                for node, (kept, _) in self._last_kept(nodes).items()}

    def _last_kept(self, nodes):
        """``node -> (what norms keeps of it, or None if the last backward through it did not
        record, or none did; whether that backward recorded)``."""
        last = {}  # node -> (walk, recording) of the last walk through it from a root still alive
        for root, walk in sorted(list(self.walks.items()), key=lambda item: item[1][0]):
            for node in toposort([root]):
                last[node] = walk
        result = {}
        for node in nodes:
            walk, recording = last.get(node, (0, True))
            kept = self.norms.get(node)
            result[node] = (kept if kept is not None and kept[0] >= walk else None, recording)
        return result


def combined(norms):
    """One norm for several outputs (those that got a gradient); ``None`` if none did."""
    norms = [n for n in norms or () if n is not None]
    return math.sqrt(sum(n * n for n in norms)) if norms else None


def _note(node, key, value):
    """Set ``node.notes[key]`` (``notes`` is made on the first note: most nodes have none)."""
    if node.notes is None:
        node.notes = {key: value}
    else:
        node.notes[key] = value


def _copy(array):
    """A copy of ``array`` that a later change in place cannot reach: a 0-d array's ``[()]``, a
    numpy scalar (immutable, drawn as the array is), costs a third of ``copy()``."""
    return array[()] if array.ndim == 0 else array.copy()


def _constant(i, arg):
    """What ``consts`` keeps of argument ``i``, ``arg``, that needs no gradient: a Tensor, or an
    array the op was given for one (an int or bool tensor next to a float one, or a numpy array,
    comes as an array already cast to the float dtype; a Python number, a 0-d array, is no box).
    """
    if isinstance(arg, Tensor):
        return i, arg.shape, arg.name, weakref.ref(arg)
    return i, arg.shape, None, _Held(_copy(arg) if arg.size <= SMALL else None)


class _Held:
    """A constant's array held for drawing, called as a weak reference is (a cast array dies with
    the op: a small one's copy is kept, a larger one's shape is enough)."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __call__(self):
        return self.array


recorder = observe(Recorder())


@contextlib.contextmanager
def record_grad_norms():
    """Backward runs inside this block keep the norm of the gradient of every op they pass (and
    the gradient itself of a result of at most ``SMALL`` elements), which ``ts.viz.draw_graph``
    shows.

    It costs a norm per node (backward runs about a fifth slower), so it is off by default.
    """
    prev = getattr(recorder.local, "recording", False)
    recorder.local.recording = True
    try:
        yield
    finally:
        recorder.local.recording = prev
