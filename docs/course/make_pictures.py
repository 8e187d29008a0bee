"""Draws the pictures of the course pages into ``docs/img/`` (run it after changing one):

    python docs/course/make_pictures.py

Page 1's graph: L = tanh(w x + b)², after a backward pass that recorded every gradient.
Page 1b's graph: the gradient of L = sum(tanh(W x)) made with create_graph=True, whose own ops
sit in the box "backward pass".
"""
from pathlib import Path

import tinyseq as ts

IMG = Path(__file__).resolve().parent.parent / "img"


def engine_graph():
    x = ts.tensor(0.5).named("x")
    w = ts.tensor(2.0, requires_grad=True).named("w")
    b = ts.tensor(-0.5, requires_grad=True).named("b")
    L = ((w * x + b).tanh() ** 2).named("L")
    with ts.autograd.record_grad_norms():
        L.backward(retain_graph=True)
    ts.viz.render(ts.viz.draw_graph(L, show_grads=True), IMG / "course-engine-graph.svg")


def gradient_graph():
    """The page's W (2, 3) and x (3,), drawn by name; g = dL/dx as a graph."""
    ts.manual_seed(0)
    W = ts.randn(2, 3, dtype=ts.float64).named("W")
    x = ts.randn(3, dtype=ts.float64, requires_grad=True).named("x")
    (g,) = ts.autograd.grad((W @ x).tanh().sum(), x, create_graph=True)
    ts.viz.render(ts.viz.draw_graph(g.named("g")), IMG / "course-modes-gradient-graph.svg")


if __name__ == "__main__":
    engine_graph()
    gradient_graph()
    print(f"wrote {IMG / 'course-engine-graph.svg'} and {IMG / 'course-modes-gradient-graph.svg'}")
