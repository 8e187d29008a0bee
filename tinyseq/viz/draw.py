"""``draw_graph``: the autograd graph as a ``graphviz.Digraph``, one cluster per scope.

Ops are rounded blue boxes named by their op, parameters green boxes named by their module path,
inputs yellow ellipses, constants dashed grey boxes, outputs orange. With ``show_grads`` every box
is coloured by the norm of its gradient on a log scale (pale: vanishing, dark red: large).
"""
import html
import math
import re
import warnings

import graphviz

from ..autograd.record import SMALL
from .graph import MODULE, STEP, fold, ident, trace
from .render import Drawing

STYLE = {  # kind -> node attributes
    "op": dict(shape="box", style="rounded,filled", fillcolor="#e7eef8", color="#5b7bb2"),
    "parameter": dict(shape="box", style="filled", fillcolor="#dcf0d5", color="#3d8b37",
                      penwidth="1.4"),
    "input": dict(shape="ellipse", style="filled", fillcolor="#fff4c2", color="#b8960c"),
    "constant": dict(shape="box", style="rounded,dashed", color="#9a9a9a", fontcolor="#6f6f6f"),
    "output": dict(shape="box", style="filled,bold", fillcolor="#fddcbf", color="#c0602a"),
    "folded": dict(shape="box3d", style="filled", fillcolor="#ece6f6", color="#6c5a99"),
}
CLUSTER = {  # scope kind -> cluster attributes
    "module": dict(style="rounded", color="#8c8c8c", fontcolor="#333333"),
    "step": dict(style="rounded,dashed", color="#8aa4cc", fontcolor="#45638f"),
    "group": dict(style="rounded,dotted", color="#8c8c8c", fontcolor="#555555"),
}
COLOURED = ("op", "parameter", "input", "folded")  # kinds coloured by their gradient's norm
NONFINITE = "#7a0177"  # a NaN or Inf gradient norm
PALETTE = ("#fff7bc", "#fee391", "#fec44f", "#fe9929", "#ec7014", "#cc4c02", "#993404", "#662506")
COLLAPSE = (None, "steps", "modules")
RANKDIRS = ("TB", "LR", "BT", "RL")
MAX_NODES = 2000  # boxes a drawing can have and still be read
# Graphviz's network simplex (ranking, then x placement) can take minutes on some large graphs: a
# hand-unrolled chain of 80 `tanh(0.9 y + a)` (~330 boxes, `a` feeding every step) took 47-59 s,
# 0.6 s with two iterations of each; an nn.LSTM unrolled 64 steps takes ~1 s either way. Above
# QUICK_ABOVE boxes the drawing asks for the quick layout (slightly less compact).
QUICK_ABOVE = 200
QUICK_LAYOUT = dict(nslimit="2", nslimit1="2")


def draw_graph(roots, *, collapse=None, show_shapes=True, show_grads=False, rankdir="TB",
               max_nodes=MAX_NODES, show_values=True):
    """Draw everything that produced ``roots`` (a Tensor or a list of Tensors).

    Ops are named (``matmul``, ``tanh``, ...) with their output shapes; parameters carry their
    dotted names (``lstm.weight_hh_l0``); each scope (a module, a layer, a time step ``t=<k>``) is a
    labelled cluster. A tensor of at most ``SMALL`` (4) elements shows its numbers instead of its
    shape, as micrograd's ``draw_dot`` does: ``data`` (a leaf's, a named result's, a root's) and,
    once known, its signed ``grad`` (a leaf's ``.grad`` after any backward; an op's after a
    backward inside ``ts.viz.record_grad_norms()``); ``show_values=False`` shows shapes only.
    ``show_grads=True`` also colours each box by the norm of its gradient and writes the norm of
    the larger ones. Data flows along ``rankdir``: top to bottom by default, which keeps a long
    graph as wide as a page or a notebook; ``"LR"`` is left to right.
    ``collapse="steps"`` folds each time step, ``collapse="modules"`` each innermost module, into
    one box; folded steps of a layer sit in one row across the flow, in time order, and layers
    follow each other along it, like the course's pictures of deep RNNs. Returns a
    ``graphviz.Digraph`` whose ``render``, ``pipe``, ``view`` and Jupyter display work without a
    system graphviz; ``ts.viz.render(graph, "graph.svg")`` writes it.

    >>> import tinyseq as ts
    >>> rnn = ts.nn.RNN(3, 4)
    >>> out, h = rnn(ts.randn(2, 1, 3))
    >>> g = ts.viz.draw_graph(out.sum())
    >>> "rnn.weight_hh_l0" in g.source and "cluster" in g.source
    True
    """
    if collapse not in COLLAPSE:
        raise ValueError(f"draw_graph: collapse must be one of {COLLAPSE}, got {collapse!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    for name, flag in (("show_shapes", show_shapes), ("show_grads", show_grads),
                       ("show_values", show_values)):
        if not isinstance(flag, bool):
            raise TypeError(f"draw_graph: {name} must be True or False, got {flag!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int):
        raise TypeError(f"draw_graph: max_nodes must be an int, got {type(max_nodes).__name__}")
    if max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be at least 1, got {max_nodes}")
    dot, *_ = drawing(roots, collapse=collapse, show_shapes=show_shapes, show_grads=show_grads,
                        rankdir=rankdir, max_nodes=max_nodes, show_values=show_values)
    return dot


def drawing(roots, *, collapse, show_shapes, show_grads, rankdir, max_nodes, show_values=True):
    """What ``draw_graph`` draws, with what the drawing was made from: ``(dot, graph, names,
    drawn)``, ``graph`` the folded ``Graph`` whose items are the boxes, ``names[key]`` the graphviz
    name of item ``key`` (the ``<title>`` of its box in the SVG; ``graph.members`` maps an op
    folded away to the box that holds it), ``drawn`` the edges ``(name, name)`` drawn, in the
    order drawn. ``ts.viz.animate_backward`` lights these boxes and edges up."""
    graph = trace(roots)
    if show_grads and graph.unrecorded:
        warnings.warn(
            f"draw_graph(show_grads=True): a backward went through {graph.unrecorded} ops of this "
            "graph without recording their gradient norms (it costs time, so it is off by "
            "default): they say 'not recorded', parameters show their .grad. To see every norm, "
            "run `with ts.viz.record_grad_norms(): loss.backward()`", stacklevel=3)
    graph = fold(graph, collapse)
    if len(graph.items) > max_nodes:
        raise GraphTooLarge(len(graph.items), max_nodes)
    rows = _Rows(graph) if collapse == "steps" else None
    rows = rows if rows is not None and rows.steps else None
    dot = Drawing(graph_attr=dict(rankdir=rankdir,
                                  fontname="Helvetica", fontsize="11",
                                  nodesep="0.06" if rows else "0.12",
                                  ranksep="0.3" if rows else "0.22", margin="0.1",
                                  **(QUICK_LAYOUT if len(graph.items) > QUICK_ABOVE else {})),
                  node_attr=dict(fontname="Helvetica", fontsize="10", height="0.3",
                                 margin="0.08,0.03"),
                  edge_attr=dict(color="#666666", arrowsize="0.6", penwidth="0.9",
                                 fontname="Helvetica", fontsize="8", fontcolor="#555555"))
    names = {key: f"n{i}" for i, key in enumerate(graph.items)}
    scale = (_Scale([i.norm for i in graph.items.values() if i.kind in COLOURED])
             if show_grads else None)  # (the legend spans the norms the boxes show, no other)
    clusters = _Clusters(dot)
    for key, item in graph.items.items():
        compact = rows is not None and key in rows.row_of
        attrs = _fill(STYLE[item.kind], item, scale)
        if compact:  # 64 steps in a row must fit on a screen: the step number, the norm
            attrs.update(shape="box", margin="0.03,0.02", fontsize="9", width="0.3")
        scope = rows.shared.get(key, item.scope) if rows else item.scope
        clusters.of(scope).node(names[key], _label(item, show_shapes, show_values, scale, compact,
                                                   attrs.get("fontcolor")),
                                tooltip=_tooltip(item), **attrs)
    if rows:
        for scope, keys in rows.rows():
            clusters.row(scope, [names[k] for k in keys])
    drawn = {}  # (an ordered set)
    for source, target, attrs in (rows.edges() if rows else _edges(graph)):
        dot.edge(names[source], names[target], **attrs)
        drawn[names[source], names[target]] = None
    clusters.close()
    if scale is not None and (scale.lo is not None or scale.nonfinite):
        dot.node("legend", scale.legend(), shape="plaintext")
    return dot, graph, names, list(drawn)


class GraphTooLarge(ValueError):
    """A drawing with more boxes than ``max_nodes``: fold it, or allow more."""

    def __init__(self, nodes, limit):
        self.nodes, self.limit = nodes, limit
        super().__init__(f"draw_graph: the graph has {nodes} nodes, more than max_nodes={limit}: "
                         "pass collapse='steps' or collapse='modules' to fold it, or raise "
                         "max_nodes")


def _label(item, shapes, values, scale, compact=False, font=None):
    """An HTML label: the title in bold (and the name its result was given), then what is asked
    for (``shapes``, ``values``): a small result's numbers (``data 2``, ``grad -6``), a larger one's shapes and
    gradient norm; ``compact``: only the step number and the norm."""
    if compact:
        norm = "" if scale is None else f'<br/><font point-size="7">{_short(item)}</font>'
        return f"<<b>{STEP.match(item.title).group(1)}</b>{norm}>"
    lines = [f"<b>{html.escape(item.title)}</b>"]
    if item.name:  # the course's symbols: Γ_f is drawn Γ with a subscript f
        name = re.sub(r"_(\w+)", r"<sub>\1</sub>", html.escape(item.name))
        lines[0] += f'  <font color="{font or "#9c3d00"}"><i>{name}</i></font>'
    if item.kind == "folded":
        lines.append(f"{item.ops} op" + "s" * (item.ops != 1))
    numbers = values and _is_small(item)
    if numbers and item.values:
        lines += _numbered("data", item.values, len(item.shapes))
    elif shapes and item.shapes:
        lines.append(_shapes(item.shapes))
    if numbers and item.grads:
        lines += _numbered("grad", item.grads, len(item.shapes))
    elif scale is not None and item.kind in COLOURED:
        lines.append(_norm_text(item))
    head, *rest = lines
    return "<" + "<br/>".join([head] + [f'<font point-size="8">{x}</font>' for x in rest]) + ">"


def _is_small(item):
    """Whether every output of ``item`` has at most ``SMALL`` elements (its numbers are drawn)."""
    return bool(item.shapes) and all(math.prod(s) <= SMALL for s in item.shapes)


def _numbered(what, arrays, outputs):
    """``["data 2"]``; ``["data[0] [1, 2]", "data[1] [3, 4]"]`` for an op of several outputs."""
    return [f"{what}{f'[{k}]' * (outputs > 1)} {html.escape(_numbers(a))}"
            for k, a in sorted(arrays.items())]


def _numbers(array):
    """``-6``, ``0.3333``, ``[1, 2]``, ``[[1, nan], [inf, -0.5]]``: 4 significant digits."""
    if array.ndim == 0:
        x = array.item()
        return f"{x:.4g}" if isinstance(x, float) else str(x)
    return "[" + ", ".join(_numbers(row) for row in array) + "]"


def _tooltip(item):
    """What the SVG shows when the pointer rests on a box: everything about it in one line."""
    parts = [item.title, item.kind] + [item.name] * bool(item.name)
    parts += [f"{item.ops} ops"] * (item.kind == "folded")
    parts += [_shapes(item.shapes)] * bool(item.shapes)
    parts += _numbered("data", item.values, len(item.shapes))
    parts += _numbered("grad", item.grads, len(item.shapes))
    parts += [] if item.norm is None else [f"gradient norm {item.norm:.3g}"]
    return " · ".join(parts)


def _norm_text(item):
    if item.norm is not None:
        return f"‖grad‖ {item.norm:.2g}"
    return "no grad yet" if item.recorded else "not recorded"


def _short(item):
    """``5e-8`` for 5.2e-08, ``6`` for 6.1: a norm in four characters."""
    if item.norm is None:
        return "–" if item.recorded else "n/r"
    if not math.isfinite(item.norm):
        return str(item.norm)
    mantissa, exponent = f"{item.norm:.0e}".split("e")
    return mantissa if int(exponent) == 0 else f"{mantissa}e{int(exponent)}"


def _shapes(shapes):
    """``(4, 16)``; ``3 × (2, 16)`` for an op with three outputs of one shape."""
    text = [str(tuple(s)) for s in shapes]
    if len(set(text)) == 1 and len(text) > 1:
        return f"{len(text)} × {text[0]}"
    return ", ".join(text[:3]) + (", …" if len(text) > 3 else "")


def _fill(style, item, scale):
    """The kind's style, with the fill colour of the gradient norm when grads are shown."""
    if scale is None or item.kind not in COLOURED:
        return dict(style)
    fill, font = scale.colour(item.norm, item.recorded)
    return {**style, "fillcolor": fill, "fontcolor": font}


class _Scale:
    """Gradient norms -> colours of ``PALETTE`` on a log scale from the smallest to the largest."""

    def __init__(self, norms):
        logs = [math.log10(n) for n in norms if n and math.isfinite(n)]
        self.lo, self.hi = (min(logs), max(logs)) if logs else (None, None)
        self.nonfinite = any(n is not None and not math.isfinite(n) for n in norms)

    def colour(self, norm, recorded=True):
        """(fill, font colour); white for "no grad yet", pale grey for "not recorded", grey for
        an exact zero, purple for NaN or Inf (off the scale: something diverged)."""
        if norm is None:
            return ("#ffffff" if recorded else "#f0f0f0"), "#444444"
        if norm == 0:
            return "#dddddd", "#444444"
        if not math.isfinite(norm):
            return NONFINITE, "#ffffff"
        span = self.hi - self.lo
        k = round((math.log10(norm) - self.lo) / span * (len(PALETTE) - 1)) if span else 4
        return PALETTE[k], "#ffffff" if k >= 5 else "#222222"

    def legend(self):
        """A table: the palette from the smallest to the largest norm (if a box has a finite
        one), and purple for NaN or Inf (if a box has such a norm)."""
        rows = []
        if self.lo is not None:
            cells = "".join(f'<td bgcolor="{c}" width="18"> </td>' for c in PALETTE)
            rows.append(f"<td>{10 ** self.lo:.1e}</td>{cells}<td>{10 ** self.hi:.1e}</td>")
        if self.nonfinite:  # (under the palette's first cell, if there is a palette)
            rows.append("<td></td>" * (self.lo is not None) + f'<td bgcolor="{NONFINITE}" '
                        f'width="18"> </td><td colspan="{len(PALETTE)}" align="left">NaN or Inf'
                        "</td>")
        columns = len(PALETTE) + 2 if self.lo is not None else len(PALETTE) + 1
        return (f'<<table border="0" cellspacing="0" cellpadding="3"><tr><td colspan="{columns}">'
                f"<b>‖grad‖, log scale</b></td></tr>"
                + "".join(f"<tr>{row}</tr>" for row in rows) + "</table>>")


class _Clusters:
    """Nested ``cluster`` subgraphs, one per scope path, made as items ask for them."""

    def __init__(self, dot):
        self.subs = {(): dot}  # ident(scope) -> its subgraph

    def of(self, scope):
        """The subgraph of ``scope`` (made with its parents on first use)."""
        key = ident(scope)
        if key not in self.subs:
            self.of(scope[:-1])
            name = str(scope[-1])
            kind = "step" if STEP.match(name) else "module" if MODULE.match(name) else "group"
            self.subs[key] = graphviz.Digraph(name=f"cluster_{len(self.subs)}", graph_attr=dict(
                label=name, **CLUSTER[kind]))
        return self.subs[key]

    def row(self, scope, names):
        """Put ``names`` (folded time steps of one layer) on one rank: a row, in time order."""
        row = graphviz.Digraph(graph_attr=dict(rank="same"))
        for name in names:
            row.node(name)
        self.of(scope).subgraph(row)

    def close(self):
        """Nest every cluster in its parent, innermost first."""
        for scope in sorted(self.subs, key=len, reverse=True)[:-1]:
            self.subs[scope[:-1]].subgraph(self.subs[scope])


def _edges(graph):
    """``(source, target, attributes)`` of every edge; constants' edges dashed grey."""
    for source, target, label in graph.edges:
        if graph.items[source].kind == "constant":
            yield source, target, dict(style="dashed", color="#9a9a9a", **_label_of(label))
        else:
            yield source, target, _label_of(label)


def _label_of(label):
    return {"label": label} if label else {}


class _Rows:
    """Folded time steps of one layer on one rank, in time order (the course's picture of a deep
    RNN). A parameter that feeds every step of a row gets one edge, "every step", into the row's
    first step; fed by one row only, it stands at the row's start."""

    def __init__(self, graph):
        self.graph, self.steps, self.scope = graph, {}, {}  # ident(row scope) -> its steps, scope
        for key, item in graph.items.items():
            if item.kind == "folded" and STEP.match(item.title):
                self.steps.setdefault(ident(item.scope), []).append(key)
                self.scope[ident(item.scope)] = item.scope
        self.row_of = {k: row for row, keys in self.steps.items() for k in keys}
        fans = {}  # parameter -> {row: steps it feeds}
        for source, target, _ in graph.edges:
            if graph.items[source].kind == "parameter" and target in self.row_of:
                fans.setdefault(source, {}).setdefault(self.row_of[target], []).append(target)
        self.fans = {p: rows for p, rows in fans.items()
                     if all(len(steps) > 1 for steps in rows.values())}
        self.shared = {p: self.scope[next(iter(rows))] for p, rows in self.fans.items()
                       if len(rows) == 1}  # parameter -> the one row it stands in
        fed = {t for s, t, _ in graph.edges if s in self.row_of and t in self.row_of}
        self.first = {row: next((k for k in keys if k not in fed), keys[0])  # first in time
                      for row, keys in self.steps.items()}

    def rows(self):
        """``(scope, keys)`` of each row: the parameters standing in it, then its steps."""
        for row, keys in self.steps.items():
            shared = [p for p, s in self.shared.items() if ident(s) == row]
            yield self.scope[row], shared + keys

    def edges(self):
        for source, target, attrs in _edges(self.graph):
            if not (source in self.fans and target in self.row_of):
                yield source, target, attrs
        for p, rows in self.fans.items():
            for row in rows:  # (between rows, an edge that ranks would break a row's order)
                yield p, self.first[row], dict(style="dashed", label="every step",
                                               **({"constraint": "false"} if len(rows) > 1 else {}))
