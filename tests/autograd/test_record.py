"""The recorder (autograd/record.py): what it keeps of a graph for drawing (constants, names, gradient norms), kept
outside the engine's nodes, and when a drawn op says "no grad yet" or "not recorded"."""
import gc
import weakref
import subprocess
import sys

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.autograd.record import recorder


def test_constant_tensor_arguments_are_kept_with_their_shape_and_name():
    w = ts.ones(3, 2, requires_grad=True)
    x = ts.ones(4, 3)
    x.name = "x"
    y = (x @ w) * 2.0  # x is a constant tensor argument; 2.0 is not a tensor at all
    assert recorder.consts(y.grad_fn) == ()
    matmul = y.grad_fn.next_edges[0][0]
    (index, shape, name, ref), = recorder.consts(matmul)
    assert (index, shape, name, ref()) == (0, (4, 3), "x", x)


def test_names_of_results_are_kept_per_output_in_the_nodes_notes_only():
    x = ts.randn(2, 6, requires_grad=True)  # (results of more than SMALL elements: no values)
    a, b = x.chunk(2, 1)
    b.name = "Γ_f"
    assert recorder.labels(b.grad_fn) == {1: "Γ_f"} and b.grad_fn.notes == {"labels": {1: "Γ_f"}}
    assert recorder.labels((a * 2).grad_fn) == {} and (a * 2).grad_fn.notes is None
    for attribute in ("consts", "labels", "grad_sqnorms"):
        assert not hasattr(b.grad_fn, attribute)


def test_norms_are_kept_only_inside_record_grad_norms():
    x = ts.tensor([3.0, 4.0], requires_grad=True)
    y = x * 2
    z = y.sum()
    nodes = [z.grad_fn, y.grad_fn]
    assert recorder.gradients(nodes) == {n: (None, True) for n in nodes}  # no backward yet
    z.backward(retain_graph=True)
    assert recorder.gradients(nodes) == {n: (None, False) for n in nodes}  # ran, not recorded
    with ts.viz.record_grad_norms():
        z.backward(retain_graph=True)
    found = recorder.gradients(nodes)
    assert found[z.grad_fn] == (1.0, True)
    assert found[y.grad_fn] == (pytest.approx(np.sqrt(2.0)), True)  # dz/dy = [1, 1]
    z.backward()  # the last backward through a node decides: it did not record
    assert recorder.gradients(nodes) == {n: (None, False) for n in nodes}


def test_a_backward_from_above_counts_for_a_result_drawn_below_it():
    x = ts.ones(3, requires_grad=True)
    h = x.tanh()
    with ts.viz.record_grad_norms():
        (h * 2).sum().backward()
    norm, recorded = recorder.gradients([h.grad_fn])[h.grad_fn]
    assert recorded and norm == pytest.approx(2 * np.sqrt(3))


def test_the_old_name_ts_autograd_record_grad_norms_still_switches_recording_on():
    x = ts.ones(2, requires_grad=True)
    y = (x * 3).sum()
    with ts.autograd.record_grad_norms():
        y.backward()
    assert recorder.gradients([y.grad_fn])[y.grad_fn] == (1.0, True)


def test_what_the_recorder_keeps_is_forgotten_with_the_graph():
    x = ts.ones(2, requires_grad=True)
    y = (x * ts.ones(2)).named("y")
    loss = y.sum()
    with ts.viz.record_grad_norms():
        loss.backward()
    mul = weakref.ref(y.grad_fn)  # (its notes, with the constant and the name, go with it)
    assert recorder.consts(mul()) and recorder.labels(mul()) == {0: "y"}
    gc.collect()  # (earlier tests' garbage first: only this graph's entries may go below)
    before = [len(d) for d in (recorder.norms, recorder.walks)]
    del y, loss
    gc.collect()
    after = [len(d) for d in (recorder.norms, recorder.walks)]
    assert mul() is None and [b - a for a, b in zip(after, before)] == [2, 1]  # mul, sum; sum


def test_a_graph_built_before_ts_viz_is_first_used_draws_its_constants_and_names():
    """``ts.viz`` loads lazily; the recorder is autograd's, so what came before still shows."""
    code = ("import sys, tinyseq as ts\n"
            "x = ts.ones(2, 3).named('x')\n"
            "w = ts.ones(3, 4, requires_grad=True)\n"
            "y = (x @ w).tanh().named('Γ_f')\n"
            "assert 'tinyseq.viz' not in sys.modules\n"
            "print(ts.viz.draw_graph(y).source)\n")
    source = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert "Γ_f" in source and ">x<" in source
