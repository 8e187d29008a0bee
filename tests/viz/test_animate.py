"""``animate_backward``: the frames of a backward walk, run and read back.

The frames must be the engine's walk: a box completes only after every box that uses it, each box
receives one gradient per use (a shared weight one per time step), the last frame's gradients are
the leaves' ``.grad`` (and torch's); the drawings hold every frame and load nothing."""
import html
import inspect
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.autograd.observers import Observer, observers
from tinyseq.viz import animate_backward
from tinyseq.viz.animate_svg import _Drawing

SVG = "{http://www.w3.org/2000/svg}"


def micrograd(lib, values=(2.0, -3.0, 10.0, -2.0)):
    """micrograd's example, ``L = (a*b + c) * f``, on tinyseq or torch: (leaves, L)."""
    leaves = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values]
    a, b, c, f = leaves
    return leaves, (a * b + c) * f


def named_micrograd():
    (a, b, c, f), _ = micrograd(ts)
    for t, name in zip((a, b, c, f), "abcf"):
        t.named(name)
    e = (a * b).named("e")
    d = (e + c).named("d")
    return (a, b, c, f), (d * f).named("L")


def completion(walk):
    """box -> the frame in which its gradient became complete."""
    return {box: frame.index for frame in walk.frames for box in frame.completed}


def test_the_frames_follow_a_topological_order_of_the_graph():
    leaves, L = named_micrograd()
    walk = animate_backward(L)
    done = completion(walk)
    assert len(walk.frames) == 1 + len(done) == 8  # the seed, then 3 ops and 4 leaves
    edges = {e for frame in walk.frames for e in frame.carried}
    assert len(edges) == 7  # every edge but none from a constant carried a gradient
    for child, consumer in edges:  # the gradient goes down (child <- consumer)
        if consumer in done:
            assert done[consumer] < done[child], (consumer, child)
    assert walk.frames[0].done == {walk._boxes.output}
    assert walk.frames[0].received == {walk.box(L): (1, 1)}


def test_the_last_frame_has_the_leaves_gradients_and_they_are_torchs():
    torch = pytest.importorskip("torch")
    leaves, L = named_micrograd()
    walk = animate_backward(L)
    t_leaves, t_L = micrograd(torch)
    t_L.backward()
    last = walk.frames[-1]
    for leaf, t_leaf in zip(leaves, t_leaves):
        assert leaf.grad.item() == t_leaf.grad.item()
        assert float(last.grad_text[walk.box(leaf)]) == pytest.approx(leaf.grad.item(), rel=1e-3)


def test_a_value_used_three_times_receives_three_gradients_and_sums_them():
    a = ts.tensor(1.5, requires_grad=True).named("a")
    b = ts.tensor(-2.0, requires_grad=True).named("b")
    L = (a * b + a) * a  # dL/da = 2ab + 2a = -3, dL/db = a² = 2.25
    walk = animate_backward(L)
    box = walk.box(a)
    counts = [frame.received.get(box, (0, 3)) for frame in walk.frames]
    assert counts[-1] == (3, 3)
    arrived = [k for k, _ in counts]
    assert arrived == sorted(arrived) and set(arrived) == {0, 1, 2, 3}  # one at a time
    assert a.grad.item() == pytest.approx(-3.0) and b.grad.item() == pytest.approx(2.25)
    assert walk.frames[-1].caption == "a: 3 of 3 gradients arrived, summed: a.grad = -3"
    partial = next(f for f in walk.frames if f.received.get(box, (0, 3))[0] == 2)
    assert box not in partial.done


def test_it_is_a_real_backward_that_adds_into_grad_and_frees_the_graph():
    (a, b, c, f), L = micrograd(ts)
    a.grad = ts.tensor(100.0, dtype=ts.float64)
    animate_backward(L, retain_graph=True)
    assert a.grad.item() == 100.0 + (-3.0 * -2.0)
    animate_backward(L)  # the graph was kept, then freed
    with pytest.raises(RuntimeError, match="second time"):
        L.backward()


def test_a_leafs_caption_says_what_arrived_and_the_grad_that_results():
    torch = pytest.importorskip("torch")
    b = ts.tensor(3.0, requires_grad=True).named("b")
    L = b * b * b  # dL/db = 3b² = 27, in three gradients
    first = animate_backward(L, retain_graph=True).frames[-1].caption
    second = animate_backward(L, retain_graph=True).frames[-1].caption
    t_b = torch.tensor(3.0, requires_grad=True)
    t_L = t_b * t_b * t_b
    t_L.backward(retain_graph=True)
    t_L.backward()
    assert b.grad.item() == t_b.grad.item() == 54.0
    assert first == "b: 3 of 3 gradients arrived, summed: b.grad = 27"
    assert second == ("b: 3 of 3 gradients arrived, summed: 27, added to the 27 b.grad held: "
                      "b.grad = 54")
    w = ts.tensor(2.0, requires_grad=True).named("w")
    w.grad = ts.tensor(100.0)
    assert animate_backward(w * 30).frames[-1].caption == (
        "w: its gradient arrived: 30, added to the 100 w.grad held: w.grad = 130")
    assert w.grad.item() == 130.0


def test_captions_say_when_a_hook_changed_a_gradient():
    d = ts.tensor(2.0, requires_grad=True).named("d")
    y = d * 3
    y.register_hook(lambda g: g * 10)
    d.register_hook(lambda g: g + 1)
    walk = animate_backward(y * y)  # y receives 6 + 6 = 12, the hook makes it 120
    words = [f.caption for f in walk.frames]
    assert words[1].endswith("along 1 edge: mul gets 12 (2 of 2 arrived).")  # (one edge drawn)
    assert words[2] == ("mul: its gradient is complete (120; a hook changed the 12 that "
                               "arrived); it sends gradients along 1 edge: d gets 360.")
    assert words[3] == "d: its gradient arrived (360), a hook changed it to 361: d.grad = 361"
    assert d.grad.item() == 361.0


def test_the_first_caption_names_the_loss_as_it_was_named():
    a = ts.tensor(2.0, requires_grad=True).named("a")
    z = (a * 3).named("z")
    named = animate_backward((z * z).named("loss")).frames
    assert named[0].caption.startswith("Forward pass done. Backward starts at the loss: "
                                       "∂loss/∂loss = 1 arrives at mul (loss).")
    assert named[2].caption.startswith("mul (z): its gradient is complete, ∂loss/∂z = 12;")
    z = (a * 3).named("z")
    unnamed = animate_backward(z * z).frames
    assert unnamed[0].caption == ("Forward pass done. Backward starts at the loss: its gradient "
                                  "with respect to itself, 1, arrives at mul.")
    assert "∂L" not in " ".join(f.caption for f in unnamed)


def test_a_folded_module_says_which_parameters_got_gradients():
    ts.manual_seed(0)
    linear = ts.nn.Linear(2, 1)
    walk = animate_backward(linear(ts.randn(3, 2)).sum(), collapse="modules")
    assert walk.frames[-1].caption == ("linear: its 1 op is done, linear.bias and linear.weight "
                                       "got their gradients; it sends nothing back (no input "
                                       "needs a gradient).")
    lstm = ts.nn.LSTM(3, 4, num_layers=2)
    out, _ = lstm(ts.randn(5, 2, 3))
    last = animate_backward(out.pow(2).mean(), collapse="modules").frames[-1].caption
    got = [name for name, p in lstm.named_parameters() if p.grad is not None]
    assert len(got) == 8 and f"its {len(got)} parameters got their gradients;" in last


def step_scoped_rnn(steps=4):
    """The course's RNN cell unrolled by hand, each step in a scope ``t=<k>``: (parameters, L)."""
    rng = np.random.default_rng(0)
    p = {k: ts.from_numpy(rng.standard_normal(s) * 0.5).requires_grad_().named(k)
         for k, s in (("Wax", (3, 2)), ("Waa", (3, 3)), ("ba", (3, 1)), ("Wya", (2, 3)),
                      ("by", (2, 1)))}
    a = ts.zeros(3, 1, dtype=ts.float64).named("a⟨0⟩")
    loss = 0
    for t in range(steps):
        with ts.autograd.scope(f"t={t}"):
            a, y = ts.course.rnn_cell_forward(ts.from_numpy(rng.standard_normal((2, 1))), a, p)
            loss = loss + y[0].sum()
    return p, loss


def test_a_folded_rnn_has_one_frame_per_step_and_its_weights_receive_one_gradient_per_step():
    p, L = step_scoped_rnn(4)
    walk = animate_backward(L, collapse="steps")
    steps = [box for frame in walk.frames for box in frame.completed
             if re.fullmatch(r"t=\d", walk.titles[box])]
    assert [walk.titles[s] for s in steps] == ["t=3", "t=2", "t=1", "t=0"]  # once each, back
    last = walk.frames[-1]
    for name in ("Wax", "Waa", "ba", "Wya", "by"):
        assert last.received[walk.box(p[name])] == (4, 4), name
        norm = float(np.linalg.norm(p[name].grad.numpy()))
        text = last.grad_text[walk.box(p[name])]
        assert float(text.split("= ")[-1].strip("[]").split(",")[0]) == pytest.approx(
            norm if "‖" in text else p[name].grad.numpy().ravel()[0], rel=2e-3)
    assert len(walk.frames) < 20  # 4 steps, 5 weights, the sums between: readable


def test_a_layer_unrolled_by_nn_rnn_folds_the_same_way():
    rnn = ts.nn.RNN(2, 3)
    out, _ = rnn(ts.randn(4, 1, 2))
    walk = animate_backward(out.sum(), collapse="steps")
    weight = walk.box(rnn.weight_hh_l0)
    assert walk.frames[-1].received[weight] == (4, 4)
    # the drawing draws the weight's four edges as one, "every step": each frame lights it
    lit = [f.index for f in walk.frames if any(a == weight for a, _ in f.sent)]
    assert len(lit) == 4


def captions(svg):
    """The caption of each frame of a drawing, its wrapped lines joined again."""
    group = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "caption")
    return [" ".join(line.text for line in text) for text in group]


def svg_of(page):
    return ET.fromstring(re.search(r"<svg.*</svg>", page, re.S).group(0))


def shown(svg, k=None):
    """The marks a drawing shows in frame ``k``, or with nothing running (``k=None``): those
    without ``visibility="hidden"``."""
    marks = [m for m in svg.iter() if m.get("data-f")]
    if k is None:
        return [m for m in marks if m.get("visibility") != "hidden"]
    spans = [tuple(map(int, m.get("data-f").split())) for m in marks]
    return [m for m, (first, last) in zip(marks, spans) if first <= k <= last]


def test_the_html_player_holds_every_frame_and_loads_nothing():
    _, L = named_micrograd()
    walk = animate_backward(L)
    page = walk.html()
    assert page.startswith("<!DOCTYPE html>")
    svg = svg_of(page)
    assert captions(svg) == [frame.caption for frame in walk.frames]  # every frame, in order
    assert re.findall(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", page) == []
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "location.hash" in page  # #frame=3 in the URL opens frame 3
    layers = {g.get("class"): g for g in svg.iter(f"{SVG}g")}
    for k, frame in enumerate(walk.frames):  # frame k shows the marks of frame k
        tinted = [len(shown(layers[kind], k)) for kind in ("done", "active", "partial")]
        waiting = [box for box in frame.received if box not in frame.done]
        assert tinted == [len(frame.done) - len(frame.completed), len(frame.completed),
                          len(waiting)]


def test_without_scripts_the_player_shows_the_last_frame_and_lists_every_caption():
    _, L = named_micrograd()
    walk = animate_backward(L)
    page = walk._repr_html_()  # (an untrusted notebook runs no script)
    svg = svg_of(page)
    last = len(walk) - 1
    assert {m.get("data-f") for m in shown(svg)} == {m.get("data-f") for m in shown(svg, last)}
    assert [" ".join(t.text for t in m) for m in shown(svg) if m.tag == f"{SVG}text"
            and m.get("data-f") == f"{last} {last}"] == [walk.frames[-1].caption]
    assert 'class="controls" style="margin: 4px 0; display: none"' in page  # the script shows them
    items = re.findall(r"<li>(.*?)</li>", page)
    assert [html.unescape(i) for i in items] == [f.caption for f in walk.frames]


def test_each_drawing_has_its_own_ids_so_two_can_share_a_page():
    _, L = named_micrograd()
    walk = animate_backward(L)
    pages = [walk._repr_html_(), walk._repr_html_(), walk.html(), walk.svg(), walk.svg()]
    prefixes = [svg_of(page).get("id") for page in pages]
    assert len(set(prefixes)) == 5 and all(re.fullmatch(r"walk-[0-9a-f]{32}", p) for p in prefixes)
    for page, prefix in zip(pages, prefixes):
        ids = set(re.findall(r'\bid="([^"]+)"', page))
        assert all(i.startswith(prefix) for i in ids)
        refs = set(re.findall(r'href="#([^"]+)"', page))
        assert refs and refs <= ids  # every <use> points into its own drawing
    assert f'getElementById("{prefixes[0]}-player")' in pages[0]


def test_the_walk_is_laid_out_as_draw_graph_lays_out_the_graph():
    assert (inspect.signature(animate_backward).parameters["rankdir"].default
            == inspect.signature(ts.viz.draw_graph).parameters["rankdir"].default == "TB")
    leaves, L = named_micrograd()
    walk = animate_backward(L)
    boxes = _Drawing(walk._svg, "x").boxes
    loss, a = boxes[walk.box(L)], boxes[walk.box(leaves[0])]
    assert a[3] < loss[1]  # data flows top to bottom: the leaf above the loss
    boxes = _Drawing(animate_backward(micrograd(ts)[1], rankdir="LR")._svg, "x").boxes
    assert max(b[2] for b in boxes.values()) > max(b[3] for b in boxes.values())  # wide


def test_the_svg_parses_and_each_mark_is_animated_for_its_frames(tmp_path):
    _, L = step_scoped_rnn(3)
    walk = animate_backward(L, collapse="steps")
    path = walk.save(tmp_path / "walk.svg")
    root = ET.parse(path).getroot()
    assert captions(root) == [frame.caption for frame in walk.frames]
    style = root.find(f"{SVG}style").text
    keyframes = dict(re.findall(r"@keyframes (\S+) {0% {visibility: visible} ([\d.]+)% ", style))
    n, cycle = len(walk), (len(walk) + 2) * 1.5  # 1.5 s a frame, the last held 3 times as long
    for mark in (m for m in root.iter() if m.get("data-f")):
        first, last = map(int, mark.get("data-f").split())
        if (first, last) == (0, n - 1):
            assert mark.get("style") is None  # (shown throughout)
            continue
        name, seconds, _, delay, _ = mark.get("style").split()[1:]
        assert float(seconds[:-1]) == cycle and float(delay[:-1]) == first * 1.5 - cycle
        length = (last - first + 1 + 2 * (last == n - 1)) * 1.5
        assert float(keyframes[name]) == pytest.approx(100 * length / cycle, abs=1e-3)
    assert path.stat().st_size < 300_000
    (tmp_path / "walk.html").write_text("old")
    assert walk.save(str(tmp_path / "walk.html")).read_text().startswith("<!DOCTYPE html>")


def chain(n):
    """A chain of ``n`` steps ``y = tanh(0.9 y + a)``: 3 boxes and 3 frames a step."""
    a = ts.tensor(0.5, requires_grad=True)
    y = a
    for _ in range(n):
        y = (y * 0.9 + a).tanh()
    return y


def test_a_long_walk_grows_with_its_frames_not_frames_times_boxes():
    sizes = {}
    for n in (25, 100):
        walk = animate_backward(chain(n), rankdir="LR", max_nodes=1000)  # (LR: faster to lay out)
        sizes[n] = len(walk), len(walk.html()), len(walk.svg())
    assert sizes[100][0] == 302
    assert sizes[100][1] < 2_000_000 and sizes[100][2] < 2_000_000
    for i in (1, 2):  # 4 times the frames, about 4 times the bytes (not 16)
        assert sizes[100][i] / sizes[25][i] < 5


def test_the_observer_is_gone_after_the_walk_even_a_failed_one():
    (a, b, c, f), L = micrograd(ts)
    before = list(observers)
    animate_backward(L)
    with pytest.raises(RuntimeError, match="second time"):
        animate_backward(L)  # freed by the first
    assert observers == before


def test_observers_see_the_gradient_each_op_sends_along_each_edge():
    seen = []

    class Watch(Observer):
        def sending(self, roots):
            return lambda node, grads: seen.append((node.name, [None if g is None else float(g)
                                                               for g in grads]))

    x = ts.tensor(3.0, requires_grad=True)
    y = ts.tensor(4.0)
    watch = Watch()
    observers.append(watch)
    try:
        (x * y).backward()
    finally:
        observers.remove(watch)
    assert seen == [("mul", [4.0, None])]  # ∂(xy)/∂x = y; y needs none


@pytest.mark.parametrize("call, error, words", [
    (lambda: animate_backward(3.0), TypeError, "loss must be a Tensor, got float"),
    (lambda: animate_backward(ts.ones(2)), RuntimeError, "has no graph"),
    (lambda: animate_backward(ts.ones(2, requires_grad=True) * 2), RuntimeError,
     "one element, got shape"),
    (lambda: animate_backward(ts.ones(1, requires_grad=True) * 2, collapse="step"), ValueError,
     "collapse must be one of"),
    (lambda: animate_backward(ts.ones(1, requires_grad=True) * 2, rankdir="up"), ValueError,
     "rankdir must be one of"),
    (lambda: animate_backward(ts.ones(1, requires_grad=True) * 2, retain_graph=1), TypeError,
     "retain_graph must be True or False"),
    (lambda: animate_backward(ts.ones(1, requires_grad=True) * 2 + 1, max_nodes=2), ValueError,
     "has 4 boxes, more than max_nodes=2: raise max_nodes$"),  # (no folding would help)
    (lambda: animate_backward(ts.nn.RNN(2, 3)(ts.randn(5, 1, 2))[0].sum(), max_nodes=10),
     ValueError, r"more than max_nodes=10: pass collapse='steps' \(18 boxes\) or "
                 r"collapse='modules' \(4 boxes\), or raise max_nodes"),
    (lambda: animate_backward(ts.ones(1, requires_grad=True) * 2).save("walk.png"), ValueError,
     r"BackwardWalk.save: .*suffix must be one of .html, .svg"),
    *[(lambda bad=bad: animate_backward(ts.ones(1, requires_grad=True) * 2).svg(bad), ValueError,
       r"BackwardWalk.svg: seconds must be a positive number")
      for bad in (0, -1.5, float("nan"), float("inf"), "1", True)],
])
def test_bad_arguments_get_one_clear_line(call, error, words):
    with pytest.raises(error, match=words) as caught:
        call()
    assert "animate_backward" in str(caught.value) or "BackwardWalk" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_course_animations_are_up_to_date_and_small():
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, str(root / "docs" / "course" / "make_animations.py"),
                          "--check"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    for name in ("course-engine-walk", "course-bptt-walk"):
        assert (root / "docs" / "img" / f"{name}.svg").stat().st_size < 300_000
        page = (root / "docs" / "img" / f"{name}.html").read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and "data-f=" in page
