"""The steps of a backward walk cut into ``Frame`` records, one per box: what completed, which
edges carried a gradient and what, and how many of its gradients each box has received so far.
``animate.py`` watches the walk and knows which box shows each node (``boxes``); this file only
counts and words it.
"""
import heapq
from dataclasses import dataclass

import numpy as np

SMALL = 3  # a gradient of at most this many numbers is written out; a larger one by its norm


@dataclass
class Frame:
    """One step of the walk, as plain data; boxes are named as in the drawing (``"n3"``).

    ``completed``: the boxes whose gradient became complete in this frame; ``sent``: the drawn
    edges ``(input box, consumer box)`` a gradient went down in this frame (against the arrow),
    with ``sent_text[edge]`` what it carried; cumulative: ``done`` (boxes complete so far),
    ``received[box] = (k, n)`` (k of the n gradients its uses send back have arrived),
    ``grad_text[box]`` (its gradient so far: values when small, else its norm), ``carried`` (the
    drawn edges a gradient has gone down so far, this frame's included).
    """

    index: int
    caption: str
    completed: tuple
    sent: tuple
    sent_text: dict
    done: frozenset
    received: dict
    grad_text: dict
    carried: tuple


def frames_of(boxes, steps):
    """The frames of a walk whose nodes' ``_Step`` records are ``steps``, in the engine's order."""
    return _Frames(boxes, steps).frames


class _Frames:
    """The walk's steps as frames, one per box: the engine's order when no box is folded. A folded
    time step's ops are spread over the walk (its loss terms early, its first matmul late), so its
    box is shown whole, in an order of the boxes in which each comes after all that use it."""

    def __init__(self, boxes, steps):
        self.boxes, members = boxes, {}  # box -> its nodes' steps, in the engine's order
        for step in steps:
            members.setdefault(boxes.of(step.node), []).append(step)
        self.done, self.received, self.sums = set(), {}, {}
        self.grad_text, self.carried = {}, {}
        self.frames = [self._seed()]
        for box in _box_order(boxes, steps, members):
            self.frames.append(self._frame(box, members[box]))

    def _seed(self):
        """Frame 0: the forward pass is done; ∂L/∂L = 1 arrives at the loss's box."""
        b = self.boxes
        self.done.add(b.output)
        self.received[b.root] = (1, b.uses[b.root])
        self.grad_text[b.root] = "1"
        edge = (b.root, b.output)
        return self._record(0, f"Forward pass done. Backward starts at the loss: ∂L/∂L = 1 "
                               f"arrives at {b.titles[b.root]}.", (), {edge: "1"})

    def _frame(self, box, segment):
        """The frame in which ``box`` completes: the steps of its nodes, ``segment``."""
        b, sent = self.boxes, {}  # drawn edge -> {slot: the gradient it carried to the slot}
        for step in segment:
            if step.sent is None:
                continue
            for child, slot, g in b.inputs(step.node, step.sent):
                k, n = self.received.get(child, (0, b.uses[child]))
                self.received[child] = (k + 1, n)
                _add(self.sums.setdefault(child, {}), slot, g)
                self.grad_text[child] = _text(_join(self.sums[child].values()))
                edge = b.edge(child, b.of(step.node))
                if edge is not None:
                    _add(sent.setdefault(edge, {}), slot, g)
        last = segment[-1]
        if box not in b.folded and last.grads:  # (a folded box shows what entered it)
            self.grad_text[box] = _text(_join(last.grads))
        self.done.add(box)
        texts = {edge: _text(_join(slots.values())) for edge, slots in sent.items()}
        return self._record(len(self.frames), self._caption(box, texts, len(segment)), (box,),
                            texts)

    def _caption(self, box, sent, ops):
        """The frame in words: which gradient is complete, and where it went."""
        b = self.boxes
        name = b.titles[box]
        k, n = self.received.get(box, (0, b.uses.get(box, 0)))
        if box in b.leaves:
            if n == 1:
                return f"{name}: its gradient arrived: {name}.grad = {self.grad_text[box]}"
            return (f"{name}: {k} of {n} gradients arrived, summed: {name}.grad = "
                    f"{self.grad_text[box]}")
        if box in b.folded:
            head = f"{name}: its {ops} ops are done"
        elif box in b.symbols:
            head = f"{name}: its gradient is complete, ∂L/∂{b.symbols[box]} = {self.grad_text[box]}"
        else:
            head = f"{name}: its gradient is complete ({self.grad_text[box]})"
        if not sent:
            return head + "; it sends nothing back (no input needs a gradient)."
        parts = []
        for (child, _), text in sent.items():
            got, of = self.received[child]
            share = f" ({got} of {of} arrived)" if of > 1 else ""
            parts.append(f"{b.titles[child]} gets {text}{share}")
        edges = "1 edge" if len(sent) == 1 else f"{len(sent)} edges"
        return f"{head}; it sends gradients along {edges}: " + ", ".join(parts) + "."

    def _record(self, index, caption, completed, texts):
        self.carried.update(dict.fromkeys(texts))
        return Frame(index, caption, completed, tuple(texts), texts, frozenset(self.done),
                     dict(self.received), dict(self.grad_text), tuple(self.carried))


def _box_order(boxes, steps, members):
    """The boxes, each after every box that sent it a gradient; among those ready, the one whose
    last node the engine took first (so, unfolded, the engine's own order)."""
    last = {boxes.of(step.node): i for i, step in enumerate(steps)}
    below, waiting = {}, dict.fromkeys(members, 0)  # box -> boxes it sent to; -> senders left
    for box, segment in members.items():
        below[box] = {child for step in segment if step.sent is not None
                      for child, _, _ in boxes.inputs(step.node, step.sent)}
        for child in below[box]:
            waiting[child] += 1
    ready = [(last[box], box) for box, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    while ready:
        _, box = heapq.heappop(ready)
        yield box
        for child in below[box]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (last[child], child))


def _add(sums, slot, g):
    """Sum ``g`` into ``sums[slot]``, as the engine sums the gradients that meet at one output."""
    sums[slot] = g if slot not in sums else sums[slot] + g


def _join(arrays):
    """Gradients of several tensors as one flat array (only its norm is shown when it is long)."""
    arrays = [a for a in arrays if a is not None]
    return arrays[0] if len(arrays) == 1 else np.concatenate([a.ravel() for a in arrays])


def _text(g):
    """``-2``, ``[0.5, -1]`` when it has at most ``SMALL`` numbers, else ``‖g‖ = 0.25``."""
    if g.size <= SMALL:
        values = [f"{v:.3g}" for v in g.ravel().tolist()]
        return values[0] if g.ndim == 0 or g.size == 1 else "[" + ", ".join(values) + "]"
    return f"‖g‖ = {float(np.linalg.norm(g)):.3g}"
