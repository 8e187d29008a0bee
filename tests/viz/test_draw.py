"""draw_graph: what is drawn (ops, names, shapes, clusters, folding, gradient norms) and its errors."""
import re

import graphviz
import numpy as np
import pygraphviz
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyseq as ts
from tinyseq import nn
from tinyseq.viz.graph import fold, trace
from tinyseq.autograd.record import recorder


def lstm_loss(T=4, layers=1, record=False, **kw):
    lstm = nn.LSTM(3, 4, num_layers=layers, **kw)
    out, _ = lstm(ts.randn(T, 2, 3))
    loss = out[-1].sum()
    if record:
        with ts.viz.record_grad_norms():
            loss.backward()
    return lstm, loss


def kinds(graph):
    counts = {}
    for item in graph.items.values():
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return counts


def parsed(dot):
    return pygraphviz.AGraph(string=dot.source)


def labels(dot):
    """node name -> its label's text, HTML tags turned into single spaces."""
    graph = parsed(dot)  # (a pygraphviz node reads its attributes through its live graph)
    return {n: " ".join(re.sub(r"<[^>]+>", " ", n.attr["label"]).split())
            for n in graph.nodes() if n != "legend"}


def clusters(graph, path=()):
    """(path of cluster labels, its node names) of every cluster, depth first."""
    for sub in graph.subgraphs():
        if (sub.name or "").startswith("cluster"):
            here = path + (sub.graph_attr["label"],)
            yield here, set(sub.nodes())
            yield from clusters(sub, here)


def test_returns_a_digraph_with_named_ops_shapes_and_parameter_names():
    _, loss = lstm_loss()
    dot = ts.viz.draw_graph(loss)
    assert isinstance(dot, graphviz.Digraph)
    text = " ".join(labels(dot).values())
    for op in ("linear", "sigmoid", "tanh", "mul", "split", "unbind", "stack"):
        assert op in text
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        assert f"lstm.{name}" in text
    assert "(2, 4)" in text and "4 × (2, 16)" in text  # a step's h; unbind's four outputs
    assert "(16,)" in text  # a bias


def test_every_gate_of_every_step_of_a_4_step_lstm_is_drawn_and_named():
    _, loss = lstm_loss(T=4)
    text = list(labels(ts.viz.draw_graph(loss)).values())
    for gate in ("sigmoid Γ f", "sigmoid Γ u", "sigmoid Γ o", "tanh c̃⟨t⟩", "add c⟨t⟩"):
        assert sum(t.startswith(gate) for t in text) == 4, gate  # Γ<sub>f</sub>: "Γ f"
    assert sum(t.startswith("sigmoid") for t in text) == 12


def test_scopes_become_nested_labelled_clusters_in_time_order():
    _, loss = lstm_loss(T=3, layers=2)
    dot = ts.viz.draw_graph(loss)
    found = dict(clusters(parsed(dot)))
    assert set(found) == {("lstm",), *[("lstm", f"layer {k}") for k in (0, 1)],
                          *[("lstm", f"layer {k}", f"t={t}") for k in (0, 1) for t in range(3)]}
    text = labels(dot)
    step = found[("lstm", "layer 1", "t=2")]
    assert sorted(text[n].split()[0] for n in step) == sorted(
        ["linear", "split", "sigmoid", "sigmoid", "sigmoid", "tanh",
         "mul", "mul", "add", "tanh", "mul"])


def test_parameters_inputs_and_constants_look_different():
    w = nn.Linear(3, 2)
    x = ts.randn(5, 3, requires_grad=True)
    x.name = "x"
    mask = ts.ones(5, 2)
    y = w(x) * mask
    dot = parsed(ts.viz.draw_graph(y))
    node = {" ".join(re.sub(r"<[^>]+>", " ", n.attr["label"]).split()).split()[0]: n.attr
            for n in dot.nodes()}
    assert node["x"]["shape"] == "ellipse"  # an input that requires grad
    assert (node["linear.weight"]["shape"], node["linear.weight"]["fillcolor"]) == ("box",
                                                                                  "#dcf0d5")
    assert "dashed" in node["const"]["style"]  # the mask: a constant, no gradient
    assert node["linear"]["style"] == "rounded,filled"


def test_a_tensor_with_no_graph_says_so():
    with pytest.raises(ValueError, match="has no graph: it is a leaf"):
        ts.viz.draw_graph(ts.ones(2, requires_grad=True))
    with pytest.raises(ValueError, match="does not require grad"):
        ts.viz.draw_graph(ts.ones(2) * 2)
    with pytest.raises(TypeError, match="roots must be Tensors"):
        ts.viz.draw_graph([np.ones(2)])


def test_bad_options_name_the_choices():
    _, loss = lstm_loss(T=1)
    with pytest.raises(ValueError, match="collapse must be one of"):
        ts.viz.draw_graph(loss, collapse="layers")
    with pytest.raises(ValueError, match="rankdir must be one of"):
        ts.viz.draw_graph(loss, rankdir="up")


def test_a_graph_above_the_node_limit_suggests_collapse():
    _, loss = lstm_loss(T=50)
    with pytest.raises(ValueError, match="more than max_nodes=500: pass collapse='steps'"):
        ts.viz.draw_graph(loss, max_nodes=500)
    assert ts.viz.draw_graph(loss, collapse="steps", max_nodes=500)


def test_collapse_steps_folds_each_step_and_keeps_the_flow_between_them():
    _, loss = lstm_loss(T=5, layers=2)
    graph = fold(trace(loss), "steps")
    steps = {k: i for k, i in graph.items.items() if i.kind == "folded"}
    assert sorted(i.title for i in steps.values()) == sorted([f"t={t}" for t in range(5)] * 2)
    assert {i.ops for i in steps.values()} == {11}  # an LSTM step is 11 ops
    between = {(graph.items[a].title, graph.items[b].title) for a, b, _ in graph.edges
               if a in steps and b in steps}
    assert between == {(f"t={t}", f"t={t + 1}") for t in range(4)}


def test_a_folded_64_step_2_layer_lstm_is_a_grid_in_time_order():
    _, loss = lstm_loss(T=64, layers=2)
    dot = ts.viz.draw_graph(loss, collapse="steps")
    laid = pygraphviz.AGraph(string=dot.source)
    laid.layout(prog="dot")
    rows = {}
    for n in laid.nodes():
        m = re.fullmatch(r"<b>(\d+)</b>.*", n.attr["label"])
        if m:
            x, y = map(float, n.attr["pos"].split(","))
            rows.setdefault(round(y), []).append((x, int(m.group(1))))
    assert sorted(len(r) for r in rows.values()) == [64, 64]  # one row per layer
    for row in rows.values():
        assert [t for _, t in sorted(row)] == list(range(64))  # left to right in time
    width, height = map(float, laid.graph_attr["bb"].split(",")[2:])
    assert width / 72 < 40 and height / 72 < 20  # inches: a screen, at half size


def test_collapse_modules_folds_each_innermost_module():
    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    x = ts.randn(4, 3).named("x")
    graph = fold(trace(net(x).sum()), "modules")
    folded = sorted((i for i in graph.items.values() if i.kind == "folded"), key=lambda i: i.title)
    assert [(i.title, i.ops, i.scope) for i in folded] == [
        ("0", 1, ("sequential",)), ("1", 1, ("sequential",)), ("2", 1, ("sequential",))]
    assert kinds(graph) == {"folded": 3, "constant": 1, "op": 1, "output": 1}  # x stays
    x_key = next(k for k, i in graph.items.items() if i.kind == "constant")
    assert [graph.items[b].title for a, b, _ in graph.edges if a == x_key] == ["0"]


def test_gradient_norms_are_the_engines_and_colour_by_size():
    x = ts.randn(3, 4, requires_grad=True)
    h = (x * 2).tanh()
    h.retain_grad()
    loss = (h * 1e-3).sum()
    before = labels(ts.viz.draw_graph(loss, show_grads=True))
    assert sum("no grad yet" in t for t in before.values()) == 5  # x (an input), mul, tanh, mul, sum
    with ts.viz.record_grad_norms():
        loss.backward()
    dot = ts.viz.draw_graph(loss, show_grads=True)
    text = labels(dot)
    tanh = next(t for t in text.values() if t.startswith("tanh"))
    assert f"‖grad‖ {np.linalg.norm(h.grad.numpy()):.2g}" in tanh
    graph = parsed(dot)
    fill = {n: n.attr["fillcolor"] for n in graph.nodes()}
    palette = ts.viz.draw.PALETTE
    sum_node = next(n for n, t in text.items() if t.startswith("sum"))
    tanh_node = next(n for n, t in text.items() if t.startswith("tanh"))
    assert palette.index(fill[sum_node]) > palette.index(fill[tanh_node])  # 1 vs ~3.5e-3
    assert "log scale" in dot.source


@pytest.mark.parametrize("retain_graph", [False, True])
def test_show_grads_after_an_unrecorded_backward_says_so_and_how_to_record(retain_graph):
    lstm, loss = lstm_loss(T=2)
    loss.backward(retain_graph=retain_graph)
    with pytest.warns(UserWarning, match=r"without recording.*record_grad_norms\(\)"):
        text = labels(ts.viz.draw_graph(loss, show_grads=True))
    ops = [t for t in text.values() if t.split()[0] in ("linear", "sigmoid", "mul", "split")]
    assert ops and all(t.endswith("not recorded") for t in ops)  # never a made-up 0
    w = lstm.weight_hh_l0
    weight = next(t for t in text.values() if t.startswith("lstm.weight_hh_l0"))
    assert f"‖grad‖ {np.linalg.norm(w.grad):.2g}" in weight  # parameters show their .grad


def test_vanishing_gradient_is_visible_in_the_folded_steps():
    ts.manual_seed(1)
    _, loss = lstm_loss(T=30, record=True)
    graph = fold(trace(loss), "steps")
    norms = {int(i.title[2:]): i.norm for i in graph.items.values() if i.kind == "folded"}
    assert norms[0] < norms[29] * 1e-3


def test_parameters_feeding_every_step_stand_at_the_start_of_the_row():
    _, loss = lstm_loss(T=6)
    source = ts.viz.draw_graph(loss, collapse="steps").source
    assert source.count('label="every step"') == 1  # weight_hh_l0 (the biases join before)


def test_named_results_label_their_ops():
    x = ts.ones(2, requires_grad=True)
    y = (x * 3).named("score")
    assert y.name == "score" and recorder.labels(y.grad_fn) == {0: "score"}
    assert "score" in " ".join(labels(ts.viz.draw_graph(y)).values())


def test_a_module_called_twice_is_drawn_twice_and_folds_without_cycles():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(3, 3)

        def forward(self, x):
            return self.enc(self.enc(x).tanh())

    twice = Twice()  # (parameters are named through their module: keep it alive)
    y = twice(ts.randn(2, 3)).sum()
    found = [path for path, _ in clusters(parsed(ts.viz.draw_graph(y)))]
    assert found.count(("twice", "enc")) == 2
    graph = fold(trace(y), "modules")
    encs = [k for k, i in graph.items.items() if i.kind == "folded" and i.title == "enc"]
    assert len(encs) == 2
    assert not has_cycle(graph)
    weight = next(k for k, i in graph.items.items() if i.title == "twice.enc.weight")
    assert sorted(b for a, b, _ in graph.edges if a == weight) == sorted(encs)  # one weight, both


def test_a_hand_unrolled_cell_under_step_scopes_folds_into_a_row():
    cell = nn.RNNCell(3, 4)
    h = ts.zeros(2, 4).named("a⟨0⟩")
    for t in range(5):  # the course's loop: one cell, called once a step
        with ts.autograd.scope(f"t={t}"):
            h = cell(ts.randn(2, 3), h)
    drawn = {i.title for i in trace(h.sum()).items.values() if i.kind == "parameter"}
    assert "rnncell.weight_hh" in drawn  # not t=4.rnncell.weight_hh
    dot = ts.viz.draw_graph(h.sum(), collapse="steps")
    laid = parsed(dot)
    laid.layout(prog="dot")
    steps = sorted((float(n.attr["pos"].split(",")[0]), int(m.group(1))) for n in laid.nodes()
                   for m in [re.fullmatch(r"<b>(\d+)</b>.*", n.attr["label"])] if m)
    assert [t for _, t in steps] == list(range(5))
    assert not has_cycle(fold(trace(h.sum()), "steps"))


def test_rows_stay_in_time_order_with_masks_and_a_layer_called_twice():
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True)
    out, _ = lstm(ts.randn(5, 2, 2), lengths=[5, 3])
    gru = nn.GRU(2, 3)
    again, _ = gru(gru(ts.randn(4, 1, 2))[0][..., :2])
    for y in (out.sum(), again.sum()):
        laid = parsed(ts.viz.draw_graph(y, collapse="steps"))
        laid.layout(prog="dot")
        innermost = {}  # node -> the deepest cluster holding it: its row's layer (or call)
        for sub in subgraphs(laid):
            innermost.update({n: sub.name for n in sub.nodes()})
        rows = {}
        for n in laid.nodes():
            m = re.fullmatch(r"<b>(\d+)</b>.*", n.attr["label"])
            if m:
                x = float(n.attr["pos"].split(",")[0])
                rows.setdefault(innermost[n], []).append((x, int(m.group(1))))
        assert len(rows) in (2, 4) and all(len(r) in (4, 5) for r in rows.values())
        for row in rows.values():
            ts_in_order = [t for _, t in sorted(row)]
            assert ts_in_order in (sorted(ts_in_order), sorted(ts_in_order)[::-1]), ts_in_order


def test_collapse_steps_without_steps_keeps_the_rankdir():
    y = nn.Linear(3, 2)(ts.randn(4, 3)).sum()
    assert "rankdir=TB" in ts.viz.draw_graph(y, collapse="steps").source
    assert "rankdir=LR" in ts.viz.draw_graph(y, collapse="steps", rankdir="LR").source


def test_a_constant_is_drawn_once_however_many_ops_use_it():
    gru = nn.GRU(2, 3, bidirectional=True)
    out, _ = gru(ts.randn(4, 2, 2), lengths=[4, 2])
    text = list(labels(ts.viz.draw_graph(out.sum())).values())
    assert sum(t.startswith("a⟨0⟩") for t in text) == 2  # one zero state per direction


def test_roots_empty_or_repeated():
    with pytest.raises(ValueError, match="nothing to draw"):
        ts.viz.draw_graph([])
    y = (ts.ones(2, requires_grad=True) * 2).sum()
    assert sum(t.startswith("output") for t in labels(ts.viz.draw_graph([y, y])).values()) == 1


def test_names_are_written_in_the_font_colour_of_their_fill():
    _, loss = lstm_loss(T=3, record=True)
    graph = parsed(ts.viz.draw_graph(loss, show_grads=True))
    checked = 0
    for n in graph.nodes():
        named = re.search(r'<font color="(#\w+)"><i>', n.attr["label"] or "")
        if named:
            assert named.group(1) == n.attr["fontcolor"]
            checked += 1
    assert checked >= 3 * 5  # every named gate and state of three steps was looked at


def subgraphs(graph):
    """Every cluster, parents before children."""
    for sub in graph.subgraphs():
        if (sub.name or "").startswith("cluster"):
            yield sub
            yield from subgraphs(sub)


def has_cycle(graph):
    after = {}
    for a, b, _ in graph.edges:
        after.setdefault(a, []).append(b)
    state = {}

    def visit(k):  # iterative DFS with colours
        stack = [(k, iter(after.get(k, ())))]
        state[k] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                return True
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(after.get(child, ()))))
        return False

    return any(visit(k) for k in list(graph.items) if k not in state)


@settings(max_examples=15, deadline=None)
@given(T=st.integers(1, 5), layers=st.integers(1, 2), bidirectional=st.booleans(),
       cell=st.sampled_from(["RNN", "GRU", "LSTM"]))
def test_folding_steps_leaves_one_box_per_step_layer_and_direction(T, layers, bidirectional,
                                                                  cell):
    layer = getattr(nn, cell)(2, 3, num_layers=layers, bidirectional=bidirectional)
    out, _ = layer(ts.randn(T, 1, 2))
    graph = fold(trace(out.sum()), "steps")
    steps = [k for k, i in graph.items.items() if i.kind == "folded"]
    assert len(steps) == T * layers * (2 if bidirectional else 1)
    sources = {a for a, _, _ in graph.edges}
    targets = {b for _, b, _ in graph.edges}
    assert all(k in sources and k in targets for k in steps)  # every step gets and gives
    assert not has_cycle(graph)
    for collapse in (None, "steps", "modules"):
        assert "digraph" in ts.viz.draw_graph(out.sum(), collapse=collapse).source


def test_a_named_batch_first_input_keeps_its_name():
    gru = nn.GRU(3, 4, batch_first=True)
    out, _ = gru(ts.randn(2, 5, 3).named("x"))
    assert any(t.startswith("x ") for t in labels(ts.viz.draw_graph(out.sum())).values())


def test_a_large_drawing_asks_graphviz_for_the_quick_layout():
    """A hand-unrolled chain whose one leaf feeds every step took graphviz ~50 s to lay out at 80
    steps; above QUICK_ABOVE boxes the drawing limits the network simplex's iterations."""
    from tinyseq.viz.draw import QUICK_ABOVE

    def chain(n):
        a, y = ts.tensor(0.5, requires_grad=True), ts.tensor(0.1)
        for _ in range(n):
            y = (y * 0.9 + a).tanh()
        return ts.viz.draw_graph(y.sum())

    small, large = chain(10), chain(QUICK_ABOVE // 2)
    assert "nslimit" not in small.source
    assert 'nslimit=2' in large.source and 'nslimit1=2' in large.source
    assert large.pipe("svg").startswith(b"<?xml")  # and it lays out (in about a second)
