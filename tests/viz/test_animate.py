"""``animate_backward``: the frames of a backward walk, run and read back.

The frames must be the engine's walk: a box completes only after every box that uses it, each box
receives one gradient per use (a shared weight one per time step), the last frame's gradients are
the leaves' ``.grad`` (and torch's); the drawings hold every frame and load nothing."""
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
    """The caption of each frame group of a drawing, its wrapped lines joined again."""
    return [" ".join(t.text for t in g.iter(f"{SVG}text") if t.get("class") == "caption")
            for g in svg.iter(f"{SVG}g") if g.get("class") == "frame"]


def test_the_html_player_holds_every_frame_and_loads_nothing():
    _, L = named_micrograd()
    walk = animate_backward(L)
    page = walk.html()
    assert page.startswith("<!DOCTYPE html>")
    svg = ET.fromstring(re.search(r"<svg.*</svg>", page, re.S).group(0))
    assert captions(svg) == [frame.caption for frame in walk.frames]  # every frame, in order
    assert re.findall(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", page) == []
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "location.hash" in page  # #frame=3 in the URL opens frame 3
    one, two = walk._repr_html_(), walk._repr_html_()
    ids = re.compile(r'id="(walk\d+)-player"')
    assert ids.search(one).group(1) != ids.search(two).group(1)  # two players in one notebook


def test_the_svg_parses_and_has_one_animated_state_per_frame(tmp_path):
    _, L = step_scoped_rnn(3)
    walk = animate_backward(L, collapse="steps")
    path = walk.save(tmp_path / "walk.svg")
    root = ET.parse(path).getroot()
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "frame"]
    assert [g.get("id") for g in groups] == [f"walk-f{i}" for i in range(len(walk.frames))]
    style = root.find(f"{SVG}style").text
    for i in range(len(walk.frames)):
        assert re.search(rf"#walk-f{i} {{animation: walk-(step|last) [\d.]+s step-end", style)
    assert captions(root) == [frame.caption for frame in walk.frames]
    assert path.stat().st_size < 300_000
    (tmp_path / "walk.html").write_text("old")
    assert walk.save(str(tmp_path / "walk.html")).read_text().startswith("<!DOCTYPE html>")


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
     "more than max_nodes=2: pass collapse"),
    (lambda: animate_backward(ts.ones(1, requires_grad=True) * 2).save("walk.png"), ValueError,
     r"BackwardWalk.save: .*suffix must be one of .html, .svg"),
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
        assert page.startswith("<!DOCTYPE html>") and 'class="frame"' in page
