"""The steps of a backward walk cut into ``Frame`` records, one per box: what completed, which
edges carried a gradient and what, and how many of its gradients each box has received so far.
``animate.py`` watches the walk and knows which box shows each node (``boxes``); this file only
counts and words it.
"""
import heapq
from dataclasses import dataclass

import numpy as np

from ..autograd.node import AccumulateGrad

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
        """Frame 0: the forward pass is done; the seed 1 arrives at the loss's box."""
        b = self.boxes
        self.done.add(b.output)
        self.received[b.root] = (1, b.uses[b.root])
        self.sums[b.root] = {b.seed: np.ones(())}
        self.grad_text[b.root] = "1"
        edge = (b.root, b.output)
        name = b.symbols.get(b.root)
        seed = f"∂{name}/∂{name} = 1" if name else "its gradient with respect to itself, 1,"
        return self._record(0, f"Forward pass done. Backward starts at the loss: {seed} "
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
        self.done.add(box)
        texts = {edge: _text(_join(slots.values())) for edge, slots in sent.items()}
        if box in b.leaves:  # (a leaf sends nothing: its gradient ends here)
            caption = self._leaf(box, segment[-1])
        else:
            head = self._folded(box, segment) if box in b.folded else self._op(box, segment[-1])
            caption = head + self._sent(texts)
        return self._record(len(self.frames), caption, (box,), texts)

    def _leaf(self, box, step):
        """What a leaf's box says: what arrived (a hook may change it before it is added) and the
        ``.grad`` that results: the leaf's earlier ``.grad`` plus this walk's, as in torch."""
        name, (k, n) = self.boxes.titles[box], self.received[box]
        given = _join(step.grads)
        result = given if step.held is None else step.held + given
        self.grad_text[box] = _text(result)
        words = f"{name}: its gradient arrived" if n == 1 else (
            f"{name}: {k} of {n} gradients arrived, summed")
        arrived = _join(self.sums[box].values())
        if _changed(arrived, given):
            words += f" ({_text(arrived)}), a hook changed it to {_text(given)}"
        elif step.held is not None:
            words += f": {_text(given)}"
        if step.held is not None:
            words += f", added to the {_text(step.held)} {name}.grad held"
        return f"{words}: {name}.grad = {self.grad_text[box]}"

    def _op(self, box, step):
        """What an op's box says when its gradient is complete (and whether a hook changed it)."""
        b = self.boxes
        self.grad_text[box] = text = _text(_join(step.grads))
        hooked = any(_changed(g, step.grads[k]) for (_, k), g in self.sums.get(box, {}).items())
        note = (f"a hook changed the {_text(_join(self.sums[box].values()))} that arrived"
                if hooked else "")
        if box in b.symbols:
            loss = b.symbols.get(b.root, "loss")
            value = f", ∂{loss}/∂{b.symbols[box]} = {text}" + (f" ({note})" if note else "")
        else:
            value = f" ({text}; {note})" if note else f" ({text})"
        return f"{b.titles[box]}: its gradient is complete{value}"

    def _folded(self, box, segment):
        """What a folded box says: its ops are done, and the leaves inside it that got gradients
        (a module's parameters are folded with it)."""
        b = self.boxes
        leaves = [b.inner[id(step.node.leaf)] for step in segment
                  if type(step.node) is AccumulateGrad]
        ops = len(segment) - len(leaves)
        words = f"{b.titles[box]}: its {ops} op{' is' if ops == 1 else 's are'} done"
        kind = "parameters" if all(k == "parameter" for _, k in leaves) else "leaf tensors"
        if len(leaves) > 4:
            return words + f", its {len(leaves)} {kind} got their gradients"
        if leaves:
            names = [title for title, _ in leaves]
            names = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
            their = "its gradient" if len(leaves) == 1 else "their gradients"
            return words + f", {names} got {their}"
        return words

    def _sent(self, sent):
        """The end of a caption: where the box's gradients went."""
        if not sent:
            return "; it sends nothing back (no input needs a gradient)."
        parts = []
        for (child, _), text in sent.items():
            got, of = self.received[child]
            share = f" ({got} of {of} arrived)" if of > 1 else ""
            parts.append(f"{self.boxes.titles[child]} gets {text}{share}")
        edges = "1 edge" if len(sent) == 1 else f"{len(sent)} edges"
        return f"; it sends gradients along {edges}: " + ", ".join(parts) + "."

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


def _changed(arrived, given):
    """Whether a hook changed the sum of what arrived into ``given`` (NaN equals NaN here)."""
    return given is not None and not np.allclose(arrived, given, equal_nan=True)


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
