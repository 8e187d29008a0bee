"""A training step costs O(T): work, graph size and peak memory per token stay flat from T=16 to
T=1024 (the benchmark suite's promise, guarded here by counts, not by timings).

The step is the benchmark's W2 in miniature: embedding, LSTM, linear head, cross-entropy over every
position, full BPTT, Adam. Work is counted as the elements of every forward result (from the graph)
and of every gradient an op's backward returns; memory as the peak of numpy's allocations traced
by ``tracemalloc`` during forward and backward.
"""
import tracemalloc

import numpy as np
import pytest

import tinyseq as ts
from tests.cost import grad_elements

V, E = 11, 8


def make_step(T, H=16, B=2):
    ts.manual_seed(0)
    embed, lstm, head = ts.nn.Embedding(V, E), ts.nn.LSTM(E, H), ts.nn.Linear(H, V)
    params = [*embed.parameters(), *lstm.parameters(), *head.parameters()]
    opt = ts.optim.Adam(params, lr=1e-3)
    rng = np.random.default_rng(T)
    x = ts.tensor(rng.integers(0, V, (T, B)))
    y = ts.tensor(rng.integers(0, V, (T * B,)))

    def forward():
        out, _ = lstm(embed(x))
        return ts.nn.functional.cross_entropy(head(out).reshape(-1, V), y)

    def step():
        opt.zero_grad()
        forward().backward()
        opt.step()

    return forward, step


def graph_size(loss):
    """(number of op nodes, elements of all their outputs) reachable from ``loss``."""
    seen, stack, elements = set(), [loss.grad_fn], 0
    while stack:
        node = stack.pop()
        if node in seen or not hasattr(node, "ctx"):
            continue
        seen.add(node)
        elements += sum(int(np.prod(shape)) for shape, _ in node.out_meta)
        stack += [e[0] for e in node.next_edges if e is not None]
    return len(seen), elements


@pytest.fixture(scope="module")
def sizes():
    return {T: graph_size(make_step(T)[0]()) for T in (16, 1024)}


def per_token_ratio(small, large, fixed=0):
    return ((large - fixed) / 1024) / ((small - fixed) / 16)


def test_graph_nodes_per_token_are_flat(sizes):
    (n16, _), (n1024, _) = sizes[16], sizes[1024]
    assert n1024 - n16 == 11 * (1024 - 16)  # 11 ops per LSTM step, and a fixed few around them


def test_forward_work_per_token_is_flat(sizes):
    (_, e16), (_, e1024) = sizes[16], sizes[1024]
    assert 0.97 < per_token_ratio(e16, e1024) < 1.03


def test_backward_work_per_token_is_flat(monkeypatch):
    counts = {T: grad_elements(make_step(T)[1], monkeypatch) for T in (16, 1024)}
    # the parameters' gradients are a fixed cost: make it the same at both lengths, then compare
    ratio = per_token_ratio(counts[16], counts[1024])
    assert 0.9 < ratio < 1.0, ratio  # quadratic work (a full-size gradient per step) gives ~64


def peak_bytes(step):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        step()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_peak_memory_per_token_is_flat():
    # big enough that arrays, not Python objects (which free lists partly hide), dominate
    H, B = 128, 8
    steps = {T: make_step(T, H, B)[1] for T in (16, 256, 1024)}
    for step in steps.values():
        step()  # Adam's state exists from here on
    peak = {T: peak_bytes(step) for T, step in steps.items()}
    # what each extra token costs, at short and at long lengths: the same if memory is O(T)
    short = (peak[256] - peak[16]) / (256 - 16)
    long = (peak[1024] - peak[256]) / (1024 - 256)
    assert long == pytest.approx(short, rel=0.1), peak  # O(T^2) would make `long` ~5x `short`
    per_token_arrays = 4 * B * (4 * H + 9 * H + E + 3 * V)  # gates, 9 (B, H) states, in, logits
    assert long < 2 * per_token_arrays, (long, per_token_arrays)
