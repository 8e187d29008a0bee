"""``animate_backward``: reverse mode as it runs, in frames a learner steps through.

The graph is drawn once (``draw.drawing``) and laid out once, so boxes never move; each frame only
changes what is lit. Frame 0 is the forward pass done and ∂L/∂L = 1 seeded at the loss; then one
frame per box whose gradient becomes complete, in the engine's order: the box lights up, the
gradients it sends light up its edges, and each box that receives one counts "k of n arrived"
until every use of its value has sent back its share (a value used twice, as an RNN's weight is at
every step, sums them). With ``collapse="steps"`` a frame is a whole time step, not each of its ops.
``animate_svg.py`` turns the frames into an animated SVG and an HTML player.
"""

import math

import numpy as np

from ..autograd.node import AccumulateGrad
from ..autograd.observers import Observer, observers
from ..autograd.tensor import Tensor
from ..autograd.toposort import toposort
from ..io import write_atomic
from .draw import COLLAPSE, RANKDIRS, GraphTooLarge, draw_graph, drawing
from .graph import fold, trace
from .render import layout, target
from . import animate_svg
from .animate_frames import frames_of

MAX_BOXES = 400  # beyond this a walk has too many frames to step through
RANKDIR = draw_graph.__kwdefaults__["rankdir"]  # a walk is laid out as draw_graph draws


def animate_backward(loss, *, collapse=None, rankdir=RANKDIR, retain_graph=False,
                     max_nodes=MAX_BOXES):
    """Run ``loss.backward()`` and return the walk as a ``BackwardWalk`` to step through.

    It is a real backward: every leaf's ``.grad`` is filled (added to) as ``loss.backward()``
    would, and the graph is freed unless ``retain_graph=True``. ``loss`` is a one-element Tensor
    with a graph; ``collapse="steps"`` folds each time step into one box (an unrolled RNN stays
    readable), ``collapse="modules"`` each innermost module; ``rankdir`` as in ``draw_graph``.
    In a notebook the result shows itself as a player (previous/next, a slider, play);
    ``.save("walk.html")`` writes the player, ``.save("walk.svg")`` an animated SVG.

    >>> import tinyseq as ts
    >>> from tinyseq.viz import animate_backward
    >>> a = ts.tensor(2.0, requires_grad=True).named("a")
    >>> L = (a * a).named("L")                      # a is used twice
    >>> walk = animate_backward(L)
    >>> [f.caption for f in walk.frames][-1]
    'a: 2 of 2 gradients arrived, summed: a.grad = 4'
    >>> a.grad.item()
    4.0
    """
    _check(loss, collapse, rankdir, retain_graph, max_nodes)
    try:
        dot, graph, names, drawn = drawing(loss, collapse=collapse, show_shapes=True, show_grads=False,
                                    rankdir=rankdir, max_nodes=max_nodes)
    except GraphTooLarge as error:  # (its message names draw_graph)
        folds = _folds(loss, collapse, error.nodes)
        raise ValueError(f"animate_backward: the graph has {error.nodes} boxes, more than "
                         f"max_nodes={max_nodes}: {folds}raise max_nodes") from None
    inner = _folded_leaves(loss, graph)
    watcher = _Watcher(loss.grad_fn)
    observers.append(watcher)
    try:
        loss.backward(retain_graph=retain_graph)
    finally:
        observers.remove(watcher)
    boxes = _Boxes(graph, names, (loss.grad_fn, loss._output_nr), drawn, inner)
    frames = frames_of(boxes, watcher.steps)
    return BackwardWalk(frames, boxes, layout(dot.source, "svg").decode("utf-8"))


def _folds(loss, collapse, now):
    """The foldings that would give fewer boxes than ``now`` (``collapse``'s): "pass
    collapse='steps' (40 boxes) or ", or nothing if none helps (no time steps, no modules)."""
    graph = trace(loss)
    better = [(other, len(fold(graph, other).items)) for other in COLLAPSE
              if other not in (None, collapse)]
    better = [f"collapse={other!r} ({boxes} boxes)" for other, boxes in better if boxes < now]
    return f"pass {' or '.join(better)}, or " if better else ""


def _folded_leaves(loss, graph):
    """``{id(leaf): (its title, its kind)}`` for the leaves folded into a box (a module's
    parameters, with ``collapse="modules"``), which its caption names; read before folding."""
    folded = [key for key in graph.members if key[0] == "leaf"]
    if not folded:
        return {}
    items = trace(loss).items
    return {key[1]: (items[key].title, items[key].kind) for key in folded}


def _check(loss, collapse, rankdir, retain_graph, max_nodes):
    """One clear line for each argument ``animate_backward`` cannot take."""
    if not isinstance(loss, Tensor):
        raise TypeError(f"animate_backward: loss must be a Tensor, got {type(loss).__name__}")
    if loss.grad_fn is None:
        raise RuntimeError(f"animate_backward: loss (shape {loss.shape}) has no graph to walk: "
                           "compute it from tensors with requires_grad=True, outside no_grad()")
    if loss.numel() != 1:
        raise RuntimeError(f"animate_backward: loss must have one element, got shape {loss.shape}"
                           "; reduce it first (.sum(), .mean())")
    if collapse not in COLLAPSE:
        raise ValueError(f"animate_backward: collapse must be one of {COLLAPSE}, got {collapse!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"animate_backward: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    if not isinstance(retain_graph, bool):
        raise TypeError(f"animate_backward: retain_graph must be True or False, got "
                        f"{retain_graph!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"animate_backward: max_nodes must be a positive int, got {max_nodes!r}")


class _Step:
    """A node of the walk: its complete output gradients, and what its backward sent (one array or
    ``None`` per input edge; ``None`` for a leaf, which sends nothing); for a leaf, ``held``, its
    ``.grad`` before this walk adds to it (``None`` if it had none). Copies: the engine sums into
    its arrays in place."""

    def __init__(self, node, grads):
        self.node, self.sent, self.held = node, None, None
        self.grads = [None if g is None else np.array(g) for g in grads]
        if type(node) is AccumulateGrad and node.leaf.grad is not None:
            self.held = np.array(node.leaf.grad.numpy())  # (the engine adds to it right after)


class _Watcher(Observer):
    """Keeps the ``_Step`` of each node of the walk that starts at ``root`` (only that one)."""

    def __init__(self, root):
        self.root, self.steps = root, []

    def walking(self, roots):
        if roots != [self.root]:
            return None
        return lambda node, grads: self.steps.append(_Step(node, grads))

    def sending(self, roots):
        if roots != [self.root]:
            return None

        def sent(node, grads):  # (the engine calls it right after node's completion)
            self.steps[-1].sent = [None if g is None else np.array(g) for g in grads]

        return sent


class _Boxes:
    """Which drawn box shows each node, and how many gradients each box is to receive: one per use
    of its value by a box other than itself, and the seed ∂L/∂L = 1 for the loss's box
    (``seed``: the slot ``(node, output)`` it goes to); ``inner``: the leaves folded into a box
    (``_folded_leaves``)."""

    def __init__(self, graph, names, seed, drawn, inner):
        self.graph, self.names, self.seed, self.inner = graph, names, seed, inner
        root = seed[0]
        self.titles = {names[key]: _title(item) for key, item in graph.items.items()}
        self.symbols = {names[key]: item.name for key, item in graph.items.items() if item.name}
        self.folded = {names[key] for key, item in graph.items.items() if item.kind == "folded"}
        self.leaves = {names[key] for key in graph.items if key[0] == "leaf"}
        self.output = names[("output", 0)]
        self.root = self.of(root)
        self.uses = {self.root: 1}
        for node in toposort([root]):
            for child, _, _ in self.inputs(node):
                self.uses[child] = self.uses.get(child, 0) + 1
        self.drawn = set(drawn)
        self.leaving = {}  # box -> the first edge drawn out of it (a weight fed to every step of
        for a, b in drawn:  # a row is drawn once, "every step": its gradients all go down that one)
            self.leaving.setdefault(a, (a, b))

    def of(self, node):
        """The name of the box that shows ``node`` (its folded box, if it was folded)."""
        key = ("leaf", id(node.leaf)) if type(node) is AccumulateGrad else ("op", id(node))
        return self.names[self.graph.members.get(key, key)]

    def inputs(self, node, sent=None):
        """``(input box, slot, gradient)`` for each edge of ``node`` that leaves its box (``slot``:
        the input node and which of its outputs); with ``sent`` (what its backward returned) the
        gradient it carried, and edges that carried none left out."""
        mine = self.of(node)
        for i, edge in enumerate(node.next_edges):
            if edge is not None and (sent is None or sent[i] is not None):
                box = self.of(edge[0])
                if box != mine:
                    yield box, edge, None if sent is None else sent[i]

    def edge(self, child, consumer):
        """The drawn edge a gradient from ``consumer`` to ``child`` goes down: the direct one, or
        (a weight fed to every step of a row is drawn once) the one edge that leaves ``child``."""
        if (child, consumer) in self.drawn:
            return (child, consumer)
        return self.leaving.get(child)


def _title(item):
    """``mul (L)``: the op and what its result was named; a leaf or folded step by its title."""
    return f"{item.title} ({item.name})" if item.name and item.kind == "op" else item.title


class BackwardWalk:
    """The frames of a backward walk, and their drawing: ``frames`` (a list of ``Frame``),
    ``titles[box]``, ``box(tensor)`` (the box that shows a tensor's gradient), ``svg()`` (an
    animated SVG, usable as an ``<img>``), ``html()`` (a self-contained player), ``save(path)``."""

    def __init__(self, frames, boxes, svg):
        self.frames, self._boxes, self._svg = frames, boxes, svg
        self.titles = boxes.titles

    def __len__(self):
        return len(self.frames)

    def __repr__(self):
        return f"<BackwardWalk: {len(self.frames)} frames over {len(self.titles)} boxes>"

    def box(self, tensor):
        """The name of the box where ``tensor``'s gradient is shown (its leaf or its op's box)."""
        if not isinstance(tensor, Tensor):
            raise TypeError(f"BackwardWalk.box: expected a Tensor, got {type(tensor).__name__}")
        key = ("leaf", id(tensor)) if tensor.grad_fn is None else ("op", id(tensor.grad_fn))
        key = self._boxes.graph.members.get(key, key)
        if key not in self._boxes.names:
            raise ValueError(f"BackwardWalk.box: the tensor of shape {tensor.shape} is not in "
                             "this walk's graph")
        return self._boxes.names[key]

    def svg(self, seconds=1.5):
        """The walk as an animated SVG: a frame every ``seconds``, looping."""
        if (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                or not math.isfinite(seconds) or seconds <= 0):
            raise ValueError(f"BackwardWalk.svg: seconds must be a positive number of seconds a "
                             f"frame is shown, got {seconds!r}")
        return animate_svg.animated(self._svg, self.frames, seconds)

    def html(self):
        """A self-contained HTML page (no network) playing the walk: previous/next, slider, play;
        ``#frame=3`` in its URL opens frame 3."""
        return animate_svg.player(self._svg, self.frames, page=True)

    def _repr_html_(self):
        return animate_svg.player(self._svg, self.frames, page=False)

    def save(self, path):
        """Write ``.html`` (the player) or ``.svg`` (animated); returns the path."""
        path, fmt = target(path, ("html", "svg"), "BackwardWalk.save")
        text = self.html() if fmt == "html" else self.svg()
        return write_atomic(path, text.encode("utf-8"), who="BackwardWalk.save")
