"""What ``draw_graph`` draws, before any styling: the ops, leaves and constants that produced some
tensors, the edges between them and their scopes; ``fold`` merges time steps or modules into one
item each. It only reads the graph the engine recorded.

A scope path is a tuple of ``Scope`` entries, each one entry into a module or a time step: two
calls of one module are equal as strings but not the same entries, so ``ident`` keys clusters by
identity and the two calls are two boxes.
"""
import dataclasses
import re
from dataclasses import dataclass

import numpy as np

from ..autograd.node import AccumulateGrad
from ..autograd.tensor import Tensor
from ..autograd.toposort import toposort
from ..autograd.record import SMALL, combined, recorder

STEP = re.compile(r"t=(-?\d+)$")  # a time step's scope; modules are named like identifiers
MODULE = re.compile(r"\w+$")  # ("lstm", "0", "head"); other scopes ("layer 1") only group


@dataclass
class Item:
    """One box: ``kind`` is op, parameter, input, constant, output or folded.

    ``name`` what its outputs were named (``Γ_f``), ``shapes`` its output shapes, ``scope`` the
    cluster it sits in, ``norm`` the norm of the gradient of its outputs (``None``: none yet, or
    ``recorded=False``: a backward ran without recording it), ``ops`` how many ops it stands for;
    ``values`` and ``grads``, ``{output index: array}``, the value and the gradient of each output
    of at most ``SMALL`` elements that is known (a leaf's ``.data`` and ``.grad``, what the
    recorder kept of an op's result).
    """

    kind: str
    title: str
    name: str = None
    shapes: tuple = ()
    scope: tuple = ()
    norm: float = None
    recorded: bool = True
    ops: int = 1
    values: dict = dataclasses.field(default_factory=dict)
    grads: dict = dataclasses.field(default_factory=dict)


@dataclass
class Graph:
    """``items`` by key, in the order data flows; ``edges`` ``(source, target, label)``;
    ``members``, after ``fold``: the key of each item folded away -> the key of its folded box."""

    items: dict
    edges: list
    members: dict = dataclasses.field(default_factory=dict)

    @property
    def unrecorded(self):
        """How many ops a backward went through without recording their gradient norms."""
        return sum(not item.recorded for item in self.items.values())


def ident(scope):
    """A scope path as a key: by the identity of its entries, not their names."""
    return tuple(map(id, scope))


def trace(roots):
    """The graph that produced ``roots`` (a Tensor or a list of them)."""
    if not isinstance(roots, (Tensor, list, tuple)):
        raise TypeError(f"draw_graph: roots must be a Tensor or a list of Tensors, got "
                        f"{type(roots).__name__}")
    roots = [roots] if isinstance(roots, Tensor) else list(roots)
    roots = list({id(t): t for t in roots}.values())  # a tensor given twice is drawn once
    if not roots:
        raise ValueError("draw_graph: nothing to draw: pass a Tensor or a list of Tensors")
    for i, t in enumerate(roots):
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: roots must be Tensors, got {type(t).__name__} at {i}")
        if t.grad_fn is None:
            what = "a leaf" if t.requires_grad else "a tensor that does not require grad"
            raise ValueError(f"draw_graph: the tensor of shape {t.shape} has no graph: it is {what}"
                             ". Draw a result computed from tensors with requires_grad=True, "
                             "outside no_grad()")
    items, edges, names = {}, [], _ParameterNames()
    nodes = [n for n in toposort([t.grad_fn for t in roots]) if type(n) is not AccumulateGrad]
    gradients, small = recorder.gradients(nodes), recorder.small_gradients(nodes)
    for node in nodes:
        target = ("op", id(node))
        items[target] = _op(node, *gradients[node], small[node])
        for _, shape, name, ref in recorder.consts(node):
            # (a named constant is drawn once, others once per scope)
            key = ("const", id(ref)) if name else ("const", id(ref), ident(node.scope))
            items.setdefault(key, Item("constant", name or "const", None, (shape,),
                                       values=_small({0: ref()})))
            edges.append((key, target, ""))
        for edge in node.next_edges:
            if edge is not None:
                child, k = edge
                source = (_leaf(items, child.leaf, names.find(child.leaf, node.scope))
                          if type(child) is AccumulateGrad else ("op", id(child)))
                edges.append((source, target, f"[{k}]" if len(child.out_meta) > 1 else ""))
    for i, t in enumerate(roots):
        op, k = items[("op", id(t.grad_fn))], t._output_nr
        items[("output", i)] = Item("output", t.name or "output", None, (t.shape,),
                                    values=_small({0: op.values.get(k)}),  # (as computed)
                                    grads=_small({0: op.grads.get(k)}))
        edges.append((("op", id(t.grad_fn)), ("output", i), ""))
    _place_by_consumers(items, edges)
    return Graph(_in_flow_order(items), edges)


def _op(node, norm, recorded, grads):
    labels = recorder.labels(node)
    names = ", ".join(map(str, labels.values())) if labels else None
    return Item("op", node.name, names, tuple(s for s, _ in node.out_meta), node.scope, norm,
                recorded, values=recorder.values(node), grads=grads)


def _small(arrays):
    """``{k: numpy array}`` of the Tensors or arrays in ``arrays`` of at most ``SMALL`` elements
    (``None``, a tensor gone, or a larger one is left out)."""
    arrays = {k: a.numpy() if isinstance(a, Tensor) else a for k, a in arrays.items()}
    return {k: np.array(a) for k, a in arrays.items() if a is not None and a.size <= SMALL}


def _in_flow_order(items):
    """Items reordered so that data flows from the first to the last (leaves first)."""
    leaves = {k: v for k, v in items.items() if v.kind in ("parameter", "input")}
    ops = [(k, v) for k, v in items.items() if v.kind not in ("parameter", "input", "output")]
    outputs = {k: v for k, v in items.items() if v.kind == "output"}
    return {**leaves, **dict(reversed(ops)), **outputs}


def _leaf(items, leaf, path):
    """A leaf's item: a parameter if a module holds it as ``path``, else an input; its norm is
    that of its ``.grad``, which backward fills."""
    key = ("leaf", id(leaf))
    item = items.get(key)
    if item is None:
        kind = "input" if path is None else "parameter"
        norm = None if leaf.grad is None else float(np.linalg.norm(leaf.grad.numpy()))
        items[key] = Item(kind, leaf.name or path or kind, None, (leaf.shape,), (), norm,
                          values=_small({0: leaf}), grads=_small({0: leaf.grad}))
    elif item.kind == "input" and path is not None:  # (first met outside its module: a penalty)
        item.kind, item.title = "parameter", leaf.name or path
    return key


class _ParameterNames:
    """Names parameters by the modules whose scopes they are used in: a leaf that the module of
    scope ``lstm`` holds as ``weight_hh_l0`` is ``lstm.weight_hh_l0`` (the innermost module that
    holds it names it; other scopes, such as time steps, are not part of a name)."""

    def __init__(self):
        self.held = {}  # id(module) -> {id(parameter): its dotted name in the module}

    def find(self, leaf, scope):
        """The dotted name of ``leaf`` if a module in ``scope`` holds it, else ``None``."""
        modules = [entry for entry in scope if hasattr(entry.owner, "named_parameters")]
        for i in range(len(modules), 0, -1):
            owner = modules[i - 1].owner
            if id(owner) not in self.held:
                self.held[id(owner)] = {id(p): name for name, p in owner.named_parameters()}
            name = self.held[id(owner)].get(id(leaf))
            if name is not None:
                return ".".join([*modules[:i], name])
        return None


def _place_by_consumers(items, edges):
    """Put leaves and constants beside what uses them: in the innermost scope that holds all of
    their consumers, but no deeper than a module (a weight shared by all time steps of a layer
    sits in the layer's module, not in one step)."""
    scopes = {}
    for source, target, _ in edges:
        if items[source].kind in ("parameter", "input", "constant"):
            scopes.setdefault(source, []).append(items[target].scope)
    for key, found in scopes.items():
        common = found[0]
        for scope in found[1:]:
            same = [a is b for a, b in zip(common, scope)]
            common = common[: same.index(False) if False in same else len(same)]
        if items[key].kind != "constant":
            while common and not MODULE.match(common[-1]):
                common = common[:-1]
        items[key].scope = common


# ---- folding -------------------------------------------------------------------------------------
def fold(graph, collapse):
    """A copy of ``graph`` with every time step (``collapse="steps"``) or every innermost module
    (``collapse="modules"``) merged into one ``folded`` item; edges inside a group disappear.
    Named constants (``x``, ``a⟨0⟩``) stay in sight, beside the group."""
    if collapse is None:
        return graph
    groups = _step_groups(graph) if collapse == "steps" else _module_groups(graph)
    items, members = {}, {}
    for key, item in graph.items.items():
        group = groups.get(key)
        if group is not None and item.kind == "constant" and item.title != "const":
            items[key] = dataclasses.replace(item, scope=group[:-1])
            continue
        if group is None:
            items[key] = item
            continue
        folded = items.get(("folded", ident(group)))
        if folded is None:
            folded = items[("folded", ident(group))] = Item("folded", group[-1], None, (),
                                                            group[:-1], None, True, 0)
        folded.ops += item.kind == "op"
        folded.recorded &= item.recorded
        members[key] = ("folded", ident(group))
    edges, exits = {}, {}
    for source, target, label in graph.edges:
        a, b = members.get(source, source), members.get(target, target)
        if a != b:
            edges.setdefault((a, b), label if (a, b) == (source, target) else "")
            if a != source:
                exits.setdefault(a, {})[source] = graph.items[source]
    for group, inner in exits.items():  # what leaves a group is its output: h⟨t⟩, c⟨t⟩
        items[group].shapes = tuple(dict.fromkeys(i.shapes[0] for i in inner.values()))
        items[group].norm = combined([i.norm for i in inner.values()])
    return Graph(items, [(a, b, label) for (a, b), label in edges.items()], members)


def _step_groups(graph):
    """item key -> the scope path of the time step it belongs to (up to its ``t=<k>``)."""
    groups = {}
    for key, item in graph.items.items():
        for i, name in enumerate(item.scope):
            if STEP.match(name):
                groups[key] = item.scope[: i + 1]
                break
    return groups


def _module_groups(graph):
    """item key -> the innermost module scope it belongs to (a module with no module inside)."""
    modules = {ident(item.scope[: i + 1]): item.scope[: i + 1] for item in graph.items.values()
               for i, name in enumerate(item.scope) if MODULE.match(name)}
    innermost = {k: m for k, m in modules.items()
                 if not any(len(o) > len(k) and o[: len(k)] == k for o in modules)}
    groups = {}
    for key, item in graph.items.items():
        for i in range(len(item.scope), 0, -1):
            if ident(item.scope[:i]) in innermost:
                groups[key] = item.scope[:i]
                break
    return groups
