"""How a tool watches the graph being built and walked without the engine knowing what it does.

An observer (``record.py`` adds one: it keeps the constants, names and gradient norms that
``ts.viz`` draws) is an ``Observer`` whose methods the engine calls:

- ``recorded(node, args, flags, outputs)``: ``Function.apply`` has recorded ``node`` for the
  arguments ``args``; ``flags[i]`` says whether argument ``i`` needs a gradient; ``outputs`` are
  the Tensors it made (read them, keep no reference: they would outlive the user's);
- ``named(tensor, name)``: a result in the graph (a tensor with a ``grad_fn``) was given a name
  (``Tensor.name``, ``Tensor.named``);
- ``walking(roots)``: a backward walk starts at the nodes ``roots``; it may return a function
  ``watch(node, grads)`` that the walk calls at each node whose gradient is complete (``grads``:
  one array, or ``None``, per output; read them, do not change them);
- ``sending(roots)``: the same walk may also return a function ``sent(node, grads)`` that it calls
  after each op's backward with the gradients the op sends to its inputs (one array, or ``None``,
  per entry of ``node.next_edges``; read them), which ``ts.viz.animate_backward`` draws on edges.

``observers`` holds what was added with ``observe`` (``record.py``'s recorder, from import on),
and ``observers.remove(observer)`` takes one away; each costs every op, name and walk a method
call, so keep them cheap. An observer keeps what it learns in ``node.notes`` (a dict, under keys of
its own; it goes with the node) or in weak dictionaries keyed by node.
"""

observers = []


class Observer:
    """Base class of an observer: override the methods for the events you want."""

    def recorded(self, node, args, flags, outputs):
        pass

    def named(self, tensor, name):
        pass

    def walking(self, roots):
        return None

    def sending(self, roots):
        return None


def observe(observer):
    """Add ``observer`` (an ``Observer``) for the rest of the process; returns it."""
    if not isinstance(observer, Observer):
        raise TypeError(f"observe: expected an Observer, got {type(observer).__name__}")
    observers.append(observer)
    return observer
