"""draw_graph writes a small tensor's numbers (micrograd's ``data 2 | grad -6``): leaves, named
results and roots, signed gradients after backward, the threshold, NaN/Inf, ints; and the colour
legend spans only what the boxes show."""
import re

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.autograd.record import SMALL, recorder
from tests.viz.test_draw import labels, parsed


def scalar_expression(record=True):
    """micrograd's example: L = (a*b + c) * f, every value named."""
    a, b, c, f = (ts.tensor(v, requires_grad=True).named(n)
                  for v, n in ((2.0, "a"), (-3.0, "b"), (10.0, "c"), (-2.0, "f")))
    e = (a * b).named("e")
    d = (e + c).named("d")
    L = (d * f).named("L")
    if record:
        with ts.viz.record_grad_norms():
            L.backward()
    return (a, b, c, f, e, d), L


def box(text, title):
    """The label text of the box whose title (first word) is ``title``."""
    return next(t for t in text.values() if t.split()[0] == title)


def test_a_scalar_expression_shows_data_and_signed_grads_like_micrograd():
    (a, b, c, f, e, d), L = scalar_expression()
    text = labels(ts.viz.draw_graph(L))
    for leaf in (a, b, c, f):  # dL/da = b*f, dL/db = a*f, dL/dc = f, dL/df = a*b + c
        assert box(text, leaf.name) == (f"{leaf.name} data {leaf.item():.4g} "
                                        f"grad {leaf.grad.item():.4g}")
    assert box(text, "a") == "a data 2 grad 6" and box(text, "b") == "b data -3 grad -4"
    assert box(text, "f") == "f data -2 grad 4"
    mul_e = next(t for t in text.values() if t.startswith("mul e"))
    assert mul_e == "mul e data -6 grad -2"  # dL/de = f: the sign a norm would lose
    assert box(text, "add") == "add d data 4 grad -2"
    assert box(text, "L") == "L data -8 grad 1"  # the output box
    assert "()" not in " ".join(text.values())  # no shapes where the numbers say more


def test_a_plain_backward_fills_the_grads_of_inputs_and_leaves_ops_without():
    (a, *_), L = scalar_expression(record=False)
    L.backward()
    text = labels(ts.viz.draw_graph(L))
    assert box(text, "a") == "a data 2 grad 6"  # an input, not a parameter: its .grad
    assert box(text, "add") == "add d data 4"  # an op's gradient is kept only when recorded


def test_before_backward_there_are_values_and_no_grads():
    (a, *_), L = scalar_expression(record=False)
    text = labels(ts.viz.draw_graph(L))
    assert box(text, "a") == "a data 2" and "grad" not in " ".join(text.values())
    shown = labels(ts.viz.draw_graph(L, show_grads=True))
    assert box(shown, "a") == "a data 2 no grad yet"


def test_show_values_false_shows_shapes_only():
    _, L = scalar_expression()
    text = labels(ts.viz.draw_graph(L, show_values=False))
    assert box(text, "a") == "a ()" and "data" not in " ".join(text.values())


@pytest.mark.parametrize("size, shown", [(1, True), (SMALL, True), (SMALL + 1, False),
                                         (1000, False)])
def test_only_tensors_up_to_the_threshold_show_numbers(size, shown):
    x = ts.arange(size, dtype=ts.float32).requires_grad_().named("x")
    y = (x * 2).sum()
    y.backward()
    text = box(labels(ts.viz.draw_graph(y, show_grads=True)), "x")
    if shown:
        numbers = ", ".join(str(v) for v in range(size))
        grads = ", ".join(["2"] * size)
        assert text == f"x data [{numbers}] grad [{grads}]"
    else:  # the shape and the norm, no numbers however large the tensor
        assert text == f"x ({size},) ‖grad‖ {2 * np.sqrt(size):.2g}"


def test_a_0d_tensor_and_a_matrix_are_written_with_their_brackets():
    w = ts.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True).named("w")
    s = ts.tensor(0.25, requires_grad=True).named("s")
    y = (w * s).sum()
    y.backward()
    text = labels(ts.viz.draw_graph(y))
    assert box(text, "w") == "w data [[1, -2], [0.5, 3]] grad [[0.25, 0.25], [0.25, 0.25]]"
    assert box(text, "s") == "s data 0.25 grad 2.5"  # the sum of w


def test_nan_and_inf_values_and_grads_are_written_and_coloured_off_the_scale():
    x = ts.tensor([1.0, float("nan"), float("inf")], requires_grad=True).named("x")
    y = (x * ts.tensor([2.0, 1.0, 0.0])).sum().named("y")
    with ts.viz.record_grad_norms():
        y.backward()
    dot = ts.viz.draw_graph(y, show_grads=True)
    text = labels(dot)
    assert box(text, "x") == "x data [1, nan, inf] grad [2, 1, 0]"
    assert box(text, "sum") == "sum y data nan grad 1"
    y2 = (x * 1.0).sum()
    with ts.viz.record_grad_norms():
        (y2 * float("inf")).backward()
    graph = parsed(ts.viz.draw_graph(y2, show_grads=True))  # (its nodes read through it)
    x_node = next(n for n in graph.nodes() if n.attr["label"].startswith("<b>x</b>"))
    assert "grad [inf, inf, inf]" in x_node.attr["label"]
    assert x_node.attr["fillcolor"] == ts.viz.draw.NONFINITE


def test_constants_show_their_numbers_ints_and_bools_as_such():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    k = ts.tensor([3.0, -1.5]).named("k")
    mask = ts.tensor([True, False]).named("mask")
    y = (x * k).masked_fill(mask, 0.0).sum()
    text = labels(ts.viz.draw_graph(y))
    assert box(text, "k") == "k data [3, -1.5]"
    assert box(text, "mask") == "mask data [True, False]"
    assert ts.viz.draw._numbers(np.array([[3, -1], [0, 7]])) == "[[3, -1], [0, 7]]"
    assert ts.viz.draw._numbers(np.array(1 / 3)) == "0.3333"


def test_int_and_bool_tensors_next_to_a_float_one_are_drawn_as_constants():
    """The op gets them cast to the float dtype (PyTorch's typing), as arrays: drawn all the
    same, with the numbers the op used; a Python number is no box."""
    a = ts.tensor(2.0, requires_grad=True)
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    for y, numbers in (((a * ts.tensor([1, 2, 3])).sum(), "[1, 2, 3]"),
                       ((x * ts.tensor([True, False])).sum(), "[1, 0]"),
                       ((x + np.array([5, 7])).sum(), "[5, 7]")):
        assert [t for t in labels(ts.viz.draw_graph(y)).values()
                if t.startswith("const")] == [f"const data {numbers}"]
    large = (ts.ones(3, 5, requires_grad=True) * (ts.arange(15).reshape(3, 5) > 7)).sum()
    assert "const (3, 5)" in labels(ts.viz.draw_graph(large)).values()
    assert not [t for t in labels(ts.viz.draw_graph((x * 3 + 1.5).sum())).values()
                if t.startswith("const")]


def test_a_value_is_the_one_when_named_not_after_a_later_change():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    h = (x * 2).named("h")
    y = h.sum()
    with ts.no_grad():
        h.data[0] = 100.0  # changed behind autograd's back, after naming
    assert "h data [2, 4]" in " ".join(labels(ts.viz.draw_graph(y)).values())


def test_leaves_are_drawn_as_they_are_now_results_as_the_ops_computed_them():
    """What docs/visualization.md says: after an update in place (an optimizer's step), a leaf
    shows its new value next to results computed from the old one, the output box too."""
    y = ts.tensor([1.0, 2.0], requires_grad=True).named("y")
    k = ts.tensor([3.0, 4.0]).named("k")
    z = (y * 2).named("z")
    L = (z * k).sum().named("L")
    with ts.no_grad():
        y.data[0] = 100.0  # behind autograd's back, after the forward pass
        k.add_(1)
        L.add_(1)  # (even the drawn result itself)
    text = labels(ts.viz.draw_graph(L))
    assert box(text, "y") == "y data [100, 2]" and box(text, "k") == "k data [4, 5]"
    assert "mul z data [2, 4]" in text.values() and "mul data [6, 16]" in text.values()
    assert box(text, "sum") == "sum L data 22" and box(text, "L") == "L data 22"


def test_ops_of_several_outputs_say_which_numbers_are_which():
    x = ts.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a, b = x.chunk(2)
    b.named("hi")
    y = (a * b).sum()
    with ts.viz.record_grad_norms():
        y.backward()
    split = next(t for t in labels(ts.viz.draw_graph(y)).values() if t.startswith("split"))
    assert "data[1] [3, 4]" in split and "grad[0] [3, 4]" in split and "grad[1] [1, 2]" in split


def test_the_recorder_keeps_small_outputs_only_and_copies_them_into_the_nodes_notes():
    x = ts.ones(SMALL, requires_grad=True)
    big = ts.ones(SMALL + 1, requires_grad=True)
    s = ts.tensor(1.5, requires_grad=True)
    small_out, big_out, scalar = x * 2, big * 2, s * 2  # the engine hands each to the recorder
    kept, kept_scalar = recorder.values(small_out.grad_fn)[0], recorder.values(scalar.grad_fn)[0]
    assert small_out.grad_fn.notes == {"values": (kept,)}  # (it goes with the node)
    assert kept.tolist() == [2.0] * SMALL and kept is not small_out.numpy()
    small_out.data.add_(1)  # a later change in place is not what the op computed
    scalar.data.add_(1)
    assert kept.tolist() == [2.0] * SMALL and kept_scalar == 3.0 and kept_scalar.ndim == 0
    assert recorder.values(big_out.grad_fn) == {} and big_out.grad_fn.notes is None
    head, tail = ts.arange(7.0).requires_grad_().split([2, 5])  # one small output, one large
    assert {k: v.tolist() for k, v in recorder.values(head.grad_fn).items()} == {0: [0.0, 1.0]}


def test_an_unnamed_op_shows_its_value():
    w = ts.tensor(2.0, requires_grad=True)
    y = (w * 3.0).tanh()  # neither result is named
    y.backward()
    texts = " ".join(labels(ts.viz.draw_graph(y)).values())
    assert "mul data 6" in texts and f"tanh data {np.tanh(6.0):.4g}" in texts


def test_the_legend_spans_only_the_norms_the_boxes_show():
    """The legend used to count an input's norm that no box showed (up to 6.0 while no box said
    more than 2); now inputs are coloured too, and the output and constants are not counted."""
    _, L = scalar_expression()
    dot = ts.viz.draw_graph(L, show_grads=True)
    legend = re.findall(r"<td>([-+.e\d]+)</td>", dot.source)
    assert [float(v) for v in legend] == [1.0, 6.0]  # |dL/dL| = 1 ... |dL/da| = 6
    graph = parsed(dot)
    fills = {n.attr["label"].split("</b>")[0][3:]: n.attr["fillcolor"]
             for n in graph.nodes() if n != "legend"}
    palette = ts.viz.draw.PALETTE
    assert fills["a"] == palette[-1] and fills["mul"] in palette  # the largest norm is the darkest


def legend_entries(dot):
    """``[(colour, text)]`` of the legend's colour cells followed by a text (not a number)."""
    graph = parsed(dot)  # (its nodes read through it)
    table = next(n.attr["label"] for n in graph.nodes() if n == "legend")
    return re.findall(r'<td bgcolor="(#\w+)"[^>]*> </td><td[^>]*>([A-Za-z][^<]*)</td>', table)


def test_the_legend_names_purple_when_a_box_is_purple_and_only_then():
    a = ts.tensor(-1.0, requires_grad=True).named("a")
    L = (a.sqrt() * 2).named("L")  # d sqrt(a) / da at -1 is NaN
    with ts.viz.record_grad_norms():
        L.backward()
    dot = ts.viz.draw_graph(L, show_grads=True)
    graph = parsed(dot)
    assert ts.viz.draw.NONFINITE in [n.attr["fillcolor"] for n in graph.nodes()]
    assert (ts.viz.draw.NONFINITE, "NaN or Inf") in legend_entries(dot)
    assert re.findall(r"<td>([-+.e\d]+)</td>", dot.source) == ["1.0e+00", "2.0e+00"]
    _, L = scalar_expression()  # every norm finite: the palette only
    assert ts.viz.draw.NONFINITE not in ts.viz.draw_graph(L, show_grads=True).source
    b = ts.tensor(-1.0, requires_grad=True)
    M = b.sqrt()
    with ts.viz.record_grad_norms():
        M.backward(ts.tensor(float("nan")))  # every norm NaN: no palette, the purple entry
    dot = ts.viz.draw_graph(M, show_grads=True)
    assert legend_entries(dot) == [(ts.viz.draw.NONFINITE, "NaN or Inf")]
    assert ts.viz.draw.PALETTE[0] not in dot.source


def test_show_values_must_be_a_bool():
    _, L = scalar_expression(record=False)
    for name in ("show_values", "show_grads", "show_shapes"):
        with pytest.raises(TypeError, match=f"draw_graph: {name} must be True or False, got 'yes'"):
            ts.viz.draw_graph(L, **{name: "yes"})
