"""Writes the course's animations of the backward walk into ``docs/img/`` (run it after changing
one), each as an animated SVG (the pages show it) and an HTML player (the pages link to it):

    python docs/course/make_animations.py           # write them
    python docs/course/make_animations.py --check   # exit 1 if a file is missing or out of date

Page 1's walk: L = tanh(w x + b)², the page's expression. Page 4's: the course's RNN cell over 3
steps, each step folded into one box, on the page's data: its weights receive a gradient per step.
``--check`` compares what the frames say (their captions), not the layout's coordinates, which
depend on the graphviz that lays them out.
"""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

import tinyseq as ts
from tinyseq.viz import animate_backward

IMG = Path(__file__).resolve().parent.parent / "img"
SVG = "{http://www.w3.org/2000/svg}"


def engine_walk():
    """Page 1: the walk of L = tanh(w x + b)², as the page builds it."""
    x = ts.tensor(0.5).named("x")
    w = ts.tensor(2.0, requires_grad=True).named("w")
    b = ts.tensor(-0.5, requires_grad=True).named("b")
    z = (w * x + b).named("z")
    a = z.tanh().named("a")
    return animate_backward((a ** 2).named("L"))


def bptt_walk():
    """Page 4: the course's RNN cell over 3 steps on the page's data, folded by steps."""
    rng = np.random.default_rng(2)  # the page's first block: its parameters and data
    n_x, n_a, n_y, m, T_x = 3, 5, 4, 6, 7
    p = {"Wax": rng.standard_normal((n_a, n_x)) * 0.5,
         "Waa": rng.standard_normal((n_a, n_a)) * 0.5,
         "Wya": rng.standard_normal((n_y, n_a)) * 0.5, "ba": rng.standard_normal((n_a, 1)),
         "by": rng.standard_normal((n_y, 1))}
    x, a0 = rng.standard_normal((n_x, m, T_x)), rng.standard_normal((n_a, m))
    labels = rng.integers(0, n_y, (m, T_x))
    y = np.moveaxis(np.eye(n_y)[labels], 2, 0)
    P = {k: ts.from_numpy(v.copy()).requires_grad_().named(k) for k, v in p.items()}
    a_t, losses = ts.from_numpy(a0).named("a⟨0⟩"), []
    for t in range(1, 4):
        with ts.autograd.scope(f"t={t}"):
            a_t, y_t = ts.course.rnn_cell_forward(ts.from_numpy(x[:, :, t - 1]), a_t, P)
            losses.append(-(ts.from_numpy(y[:, :, t - 1]) * y_t.log()).sum())
    return animate_backward(ts.stack(losses).sum().named("L"), collapse="steps")


WALKS = {"course-engine-walk": engine_walk, "course-bptt-walk": bptt_walk}


def captions(svg_text):
    """What each frame of an animated SVG says: its caption's lines joined again (none in a file
    of an older format)."""
    root = ET.fromstring(svg_text)
    group = next((g for g in root.iter(f"{SVG}g") if g.get("class") == "caption"), ())
    return [" ".join(line.text for line in text) for text in group]


def main(check):
    stale = []
    for name, make in WALKS.items():
        walk = make()
        if check:
            svg = IMG / f"{name}.svg"
            ok = (svg.is_file() and (IMG / f"{name}.html").is_file()
                  and captions(svg.read_text(encoding="utf-8")) == [f.caption for f in walk.frames])
            stale += [] if ok else [name]
        else:
            for suffix in ("svg", "html"):
                print(f"wrote {walk.save(IMG / f'{name}.{suffix}')}")
    if stale:
        print("out of date: " + ", ".join(stale) + "; run python docs/course/make_animations.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
