"""The backward walk: ``backward()`` and ``grad()``.

``_walk`` is the whole algorithm, in HIPS autograd's words: take the nodes in ``toposort`` order
(each after every op that consumed its outputs); the node's gradient is then complete; run its
backward; hand the gradients it returns to its inputs, where they are summed. Leaves end the walk:
their ``AccumulateGrad`` node adds the gradient into ``leaf.grad``.

Everything else happens at one of two named steps. ``_complete`` (this node's gradient is
complete): tensor hooks, ``retain_grad``, what ``grad()`` captures, the watchers of observers
(``observers.py``; ``record.py`` keeps gradient norms there for ``ts.viz``). ``_run`` (run its
backward): the checks that the graph was not freed and that saved arrays were not changed in
place, the op's backward, the check that each gradient has its input's shape (naming the op), ``detect_anomaly``'s
check, and freeing what forward saved unless ``retain_graph=True``.

Gradients that meet at a node are summed in place once the engine owns the array (never in an
array an op returned, which may be a view of something else). A weight's gradient may arrive as a
``Deferred`` sum of products (``deferred.py``): those are joined as they meet and made one array
when the node's gradient is complete, so nothing past ``_complete`` ever sees one.
"""
import numpy as np

from . import anomaly, higher
from .deferred import Deferred, join
from .node import AccumulateGrad, check_saved, edge_of
from .mode import state
from .observers import observers
from .errors import ShapeError
from .ops._util import broadcasts_to, quiet, unbroadcast
from .ops.view_writes import refresh
from .tensor import Tensor
from .toposort import toposort
from .views import is_stale


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``sum_i grad_i · d tensors_i / d leaf`` into each leaf's ``.grad`` (``t.backward()``,
    ``ts.autograd.backward``; ``tensors`` and ``grad_tensors`` one Tensor or a sequence).
    With ``create_graph=True`` the gradients are Tensors in a graph of their own (``higher.py``),
    which can be differentiated again; the graph is then kept unless ``retain_graph=False``.
    ``inputs``: only these tensors get their ``.grad`` (leaves or not), as in torch."""
    tensors = _tensor_list(tensors, "tensors", "backward")
    retain_graph, create_graph = _flags("backward", retain_graph, create_graph)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(tensors) if grad_tensors is None else [grad_tensors]
    if len(grad_tensors) != len(tensors):
        raise ValueError(f"backward: {len(tensors)} tensors but {len(grad_tensors)} grad_tensors; "
                         "give one gradient (or None) per tensor")
    if inputs is not None:
        inputs = _tensor_list(inputs, "inputs", "backward")
        if not inputs:
            raise RuntimeError("backward: inputs is empty; give the tensors whose .grad to fill, "
                               "or leave inputs out for every leaf")
        for i, t in enumerate(inputs):
            if not t.requires_grad:
                raise RuntimeError(f"backward: inputs[{i}] does not require grad, so it can get "
                                   "no gradient")
        grads = grad(tensors, inputs, grad_tensors, retain_graph, create_graph, allow_unused=True)
        steps = higher.Graphs() if create_graph else ARRAYS
        for t, g in zip(inputs, grads):
            if g is not None:
                steps.accumulate(t, g if create_graph else g._data, owned=True)
        return
    _walk(*_start(tensors, grad_tensors, create_graph), _retain(retain_graph, create_graph),
          capture=None)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple of Tensors.

    Unlike ``backward()`` it leaves every ``.grad`` alone. ``grad_outputs`` is needed for outputs
    with more than one element. An input that the outputs do not depend on is an error unless
    ``allow_unused=True``, which gives ``None`` for it. ``create_graph=True``: the gradients are
    Tensors in a graph, to be differentiated again (``higher.py``).
    """
    outputs, inputs = _tensor_list(outputs, "outputs"), _tensor_list(inputs, "inputs")
    retain_graph, create_graph, allow_unused = _flags("grad", retain_graph, create_graph,
                                                      allow_unused)
    if not inputs:
        raise RuntimeError("grad: inputs is empty; give the tensors whose gradients you want")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs; "
                         "give one gradient (or None) per output")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it has no gradient")
    capture = {edge_of(t): None for t in inputs}
    roots, steps = _start(outputs, grad_outputs, create_graph)
    _walk(roots, steps, _retain(retain_graph, create_graph), capture)
    result = []
    for i, t in enumerate(inputs):
        g = capture[edge_of(t)]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
        result.append(None if g is None else steps.captured(g))
    return tuple(result)


def _start(tensors, grads, create_graph):
    """The walk's roots, and its steps: ``ARRAYS``, or ``higher.Graphs`` for gradients that are
    graphs."""
    roots = _root_edges(tensors, grads)
    if not create_graph:
        return roots, ARRAYS
    return higher.root_gradients(roots, grads), higher.Graphs()


def _flags(op, retain_graph, *flags):
    """``retain_graph`` (``None`` or a flag) and the other flags (``create_graph``,
    ``allow_unused``) as bools; a flag is a bool or an int, as torch takes it, and anything else
    (a truthy ``"False"``) is refused in one line."""
    if (retain_graph is None or type(retain_graph) is bool) and \
            all([type(f) is bool for f in flags]):  # (the usual case, at every backward)
        return (retain_graph, *flags)
    names = ("retain_graph", "create_graph", "allow_unused")
    out = []
    for name, value in zip(names, (retain_graph, *flags)):
        if value is None and name == "retain_graph":
            out.append(None)
        elif isinstance(value, (bool, int, np.bool_, np.integer)):
            out.append(bool(value))
        else:
            raise TypeError(f"{op}: {name} must be True or False, got {value!r}")
    return out


def _retain(retain_graph, create_graph):
    """``retain_graph``, which defaults to ``create_graph`` (as in torch): a gradient that is a
    graph is differentiated later through the saved arrays of the first graph."""
    return create_graph if retain_graph is None else retain_graph


def _tensor_list(tensors, what, op="grad"):
    """``tensors`` (one Tensor or a sequence of them) as a list, for ``grad`` or ``backward``."""
    items = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            kind = type(t).__name__
            if kind == "Tensor":  # another library's (a torch.Tensor)
                kind = f"{type(t).__module__.split('.')[0]}.Tensor"
            raise TypeError(f"{op}: {what} must be Tensors, and {what}[{i}] is a {kind}")
    return items


def _root_edges(tensors, grads):
    """``(edge, gradient array)`` for each root tensor, with the gradient checked or implied."""
    roots = []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if is_stale(t):
            refresh(t)  # a view whose root was changed in place since it was made
        if not t.requires_grad:
            raise RuntimeError(
                f"backward: tensor {i} does not require grad, so no graph was recorded for it "
                "(was it computed under no_grad, or from inputs without requires_grad=True?)")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(
                    f"backward: a gradient can be implied only for a scalar (one-element) tensor, "
                    f"and this one has shape {t.shape}; reduce it first (.sum(), .mean()) or pass "
                    f"gradient= a tensor of shape {t.shape}")
            g = np.ones(t._data.shape, dtype=t._data.dtype)
        else:
            given, g = g, np.asarray(g._data if isinstance(g, Tensor) else g)
            if g.dtype.kind not in "fiub":
                raise TypeError(f"backward: gradient must be a Tensor of numbers, got "
                                f"{type(given).__name__} (dtype {g.dtype})")
            g = g.astype(t._data.dtype, copy=False)
            if g.shape != t._data.shape:
                raise ShapeError(f"backward: gradient has shape {g.shape} but the tensor has "
                                 f"shape {t.shape}")
        roots.append((edge_of(t), g))
    return roots


@quiet  # Inf and NaN are gradients, as in torch, not numpy warnings
def _walk(roots, steps, retain_graph, capture):
    """The backward walk, as HIPS autograd's ``backward_pass``: take the nodes in ``toposort``
    order; each one's gradient is then complete; run its backward and hand the gradients it returns
    to its inputs. ``roots`` are ``(edge, gradient)`` pairs; ``capture`` (for ``grad()``) maps the
    edges whose gradients to keep to ``None``; then only the nodes leading to them run. ``steps``
    says what a gradient is: ``ARRAYS`` (numpy arrays), or a ``higher.Graphs`` (Tensors)."""
    nodes = [node for (node, _), _ in roots]
    order = toposort(nodes)
    needed = None if capture is None else _leading_to(order, capture)
    watchers = [watch for watch in (o.walking(nodes) for o in observers) if watch is not None]
    senders = [_with_arrays(sent, steps) for sent in (o.sending(nodes) for o in observers)
               if sent]
    add, run, accumulate = steps.add, steps.run, steps.accumulate
    pending = {}  # node -> one [gradient, owned by the engine] slot (or None) per output
    for edge, g in roots:
        add(pending, edge, g)
    for node in order:
        slots = pending.pop(node, None)
        if slots is None:
            continue  # no gradient reached it
        grads = _complete(node, slots, capture, watchers, steps)
        if type(node) is AccumulateGrad:
            if capture is None:
                g, owned = slots[0]
                accumulate(node.leaf, g, owned)
        elif needed is None or node in needed:
            sent = run(node, grads, retain_graph)
            for edge, g in zip(node.next_edges, sent):
                if g is not None:
                    add(pending, edge, g)
            for watch in senders:  # (ts.viz.animate_backward draws the gradient on each edge)
                watch(node, sent)


def _leading_to(order, capture):
    """The nodes (of ``order``, the walk's) with a captured node below them: ``grad()`` runs only
    these."""
    targets, needed = {node for node, _ in capture}, set()
    for node in reversed(order):  # every node after the nodes it consumes
        if any(e is not None and (e[0] in needed or e[0] in targets) for e in node.next_edges):
            needed.add(node)
    return needed


def _add(pending, edge, g):
    """Sum gradient ``g`` into the slot of ``edge``; in place once the engine owns the sum."""
    node, k = edge
    slots = pending.get(node)
    if slots is None:
        slots = pending[node] = [None] * len(node.out_meta)
    slot = slots[k]
    if slot is None:
        slots[k] = [g, False]
    elif type(g) is Deferred or type(slot[0]) is Deferred:
        slots[k] = [join(slot[0], g), True]
    elif slot[1]:
        np.add(slot[0], g, out=slot[0])
    else:
        slots[k] = [np.asarray(slot[0] + g), True]  # 0-d + 0-d gives a numpy scalar


def _complete(node, slots, capture, watchers, steps):
    """This node's gradient is complete: its output gradients, after tensor hooks (a hook's result
    replaces its slot, which the engine then does not own); then ``retain_grad`` tensors get
    theirs, ``grad()`` captures what it asked for, and the observers' watchers see them. A
    ``Deferred`` gradient becomes an array first (one that the engine owns)."""
    for k, s in enumerate(slots):
        if s is not None and type(s[0]) is Deferred:
            slots[k] = [s[0].materialize(), True]
    grads = [None if s is None else s[0] for s in slots]
    if type(node) is AccumulateGrad:  # a leaf keeps its hooks itself, for its one output
        hooks = {0: node.leaf._hooks} if node.leaf._hooks else None
    else:
        hooks = node.hooks
    for k, fns in (hooks.items() if hooks else ()):
        if grads[k] is not None:
            new = steps.run_hooks(fns, grads[k])
            if new is not grads[k]:
                grads[k], slots[k] = new, [new, False]
    if node.retained:
        for k, ref in node.retained.items():
            t = ref()
            if t is not None and grads[k] is not None:
                steps.accumulate(t, grads[k], False)
    if capture is not None:
        for k, g in enumerate(grads):
            if (node, k) in capture:
                capture[(node, k)] = g
    if watchers:
        arrays = steps.arrays(grads)
        for watch in watchers:
            watch(node, arrays)
    return grads


def _run_hooks(fns, g):
    """Call each hook with (a copy of) the gradient so far; a tensor a hook returns replaces it."""
    for fn in fns:
        new = fn(Tensor._wrap(np.array(g)))
        if new is not None:
            given, new = new, np.asarray(new._data if isinstance(new, Tensor) else new)
            if new.dtype.kind not in "fiub":
                raise TypeError(f"a hook returned {type(given).__name__} (dtype {new.dtype}); "
                                "return a Tensor of the gradient's shape, or None")
            new = new.astype(g.dtype, copy=False)
            if new.shape != g.shape:
                raise ShapeError(f"a hook returned a gradient of shape {new.shape} for a tensor "
                                 f"of shape {g.shape}")
            g = new
    return g


def _accumulate_grad(t, g, owned):
    """Add ``g`` into ``t.grad`` (taking ``g`` itself when ``owned``: no one else holds it)."""
    if t.grad is None:
        t._grad = Tensor._wrap(g if owned else np.array(g))  # (its shape and dtype are right)
    else:
        np.add(t.grad._data, g, out=t.grad._data)


def _run(node, grads, retain_graph):
    """Call the node's ``backward`` and check that each input gradient has that input's shape."""
    ctx, fn = node.ctx, node.fn
    if ctx is None or node.saved_versions:
        check_saved(node)
    if len(grads) > 1 and fn.materialize_grads:  # (a one-output node runs only with its gradient)
        grads = [np.zeros(shape, dtype) if g is None else g
                 for g, (shape, dtype) in zip(grads, node.out_meta)]
    out = fn.backward(ctx, *grads)
    if type(out) is not tuple:  # most often one array (a one-input op)
        out = tuple(out) if isinstance(out, list) else (out,)
    if len(out) != len(node.next_edges):
        raise RuntimeError(f"{fn.__name__}.backward returned {len(out)} gradient(s), but "
                           f"{fn.__name__}.forward took {len(node.next_edges)} argument(s); return "
                           "a tuple with one gradient per argument (None for arguments that need "
                           "no gradient)")
    checking = state.anomaly
    result = [None] * len(out)
    for i, (g, edge) in enumerate(zip(out, node.next_edges)):
        if edge is None or g is None:
            continue
        shape, dtype = edge[0].out_meta[edge[1]]
        if type(g) is Deferred and g.shape == shape and g.dtype == dtype and not checking:
            result[i] = g  # summed with the others when complete; anomaly checks look at arrays
            continue
        if type(g) is not np.ndarray:
            g = _gradient_array(g, fn, i)
        if g.shape != shape:
            g = _reduce_to(g, shape, fn, i)
        result[i] = g if g.dtype == dtype else _gradient_array(g, fn, i).astype(dtype)
    if checking:
        anomaly.check_backward(node, grads, result)
    if not retain_graph:
        node.ctx = None  # what forward saved is freed now, not when the graph goes
    return result


def _with_arrays(sent, steps):
    """An observer's ``sent(node, grads)`` that is handed arrays in place of ``Deferred`` ones
    (or of Tensors)."""
    def arrays(node, grads):
        sent(node, [np.asarray(g) if type(g) is Deferred else g for g in steps.arrays(grads)])
    return arrays


class ARRAYS:
    """The backward walk's steps when gradients are numpy arrays (a ``higher.Graphs`` when they
    are Tensors)."""
    add = staticmethod(_add)
    run = staticmethod(_run)
    accumulate = staticmethod(_accumulate_grad)
    run_hooks = staticmethod(_run_hooks)

    @staticmethod
    def arrays(grads):
        return grads

    @staticmethod
    def captured(g):
        """What ``grad()`` returns for a captured gradient: a Tensor of a copy of it."""
        return Tensor._wrap(np.array(g))


def _gradient_array(g, fn, i):
    """A gradient that Function ``fn``'s backward returned (maybe not as an ndarray) as an array of
    real numbers."""
    a = np.asarray(g._data if isinstance(g, Tensor) else g)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{fn.__name__}.backward returned {type(g).__name__} (dtype {a.dtype}) as "
                        f"the gradient for its input {i}; return a numpy array of floats or None")
    return a


def _reduce_to(g, shape, fn, i):
    """A gradient of a broadcast shape summed back to its input's ``shape`` (as torch does),
    else a ``ShapeError`` naming the Function ``fn``."""
    if not broadcasts_to(shape, g.shape):
        raise ShapeError(f"{fn.__name__}.backward returned a gradient of shape {g.shape} for its "
                         f"input {i}, which has shape {shape}; return one of the input's shape")
    return unbroadcast(g, shape)
