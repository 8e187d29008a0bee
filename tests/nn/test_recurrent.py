"""RNN/GRU/LSTM layers against PyTorch by state_dict over a grid of configurations, including
padded batches (PyTorch's packed sequences); cost linear in T; clear errors."""
import itertools

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn
from tests.cost import grad_elements
from tests.torch_compare import compare_module_with_torch

GRID = [dict(kind=k, num_layers=L, bidirectional=bi, batch_first=bf, bias=b, hx=h, lengths=ln)
        for k, L, bi, bf, b, h, ln in itertools.product(
            ["RNN", "RNN_relu", "GRU", "LSTM"], [1, 2], [False, True], [False, True], [True, False],
            [False, True], [False, True])
        if not (bf and not b)]  # keep the grid small: batch_first is independent of bias


def _ids(c):
    return "-".join(f"{k}={v}" for k, v in c.items())


@pytest.mark.parametrize("cfg", GRID, ids=[_ids(c) for c in GRID])
def test_layer_matches_pytorch(cfg):
    kind, L, bf = cfg["kind"], cfg["num_layers"], cfg["batch_first"]
    opts = dict(num_layers=L, bidirectional=cfg["bidirectional"], batch_first=bf, bias=cfg["bias"])
    if kind == "RNN_relu":
        kind, opts["nonlinearity"] = "RNN", "relu"
    T, B, D = 5, 3, 2 if cfg["bidirectional"] else 1
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, 3) if bf else (T, B, 3))
    h0 = tuple(rng.standard_normal((L * D, B, 4)) for _ in range(1 + (kind == "LSTM")))
    state = [h0 if kind == "LSTM" else h0[0]] if cfg["hx"] else []
    lengths = [5, 2, 4] if cfg["lengths"] else None

    def with_lengths(m, layer, *inputs):
        return layer(*inputs, lengths=lengths)

    def packed(m, layer, x, *state):  # PyTorch's way to say lengths
        seq = m.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=bf, enforce_sorted=False)
        out, last = layer(seq, *state)
        return m.nn.utils.rnn.pad_packed_sequence(out, batch_first=bf, total_length=T)[0], last

    compare_module_with_torch(lambda nn: getattr(nn, kind)(3, 4, **opts), [x, *state],
                              forward=with_lengths if lengths else None,
                              torch_forward=packed if lengths else None)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_outside_zero_one_is_refused(p):
    with pytest.raises(ValueError, match=r"LSTM: dropout must be in \[0, 1\], got"):
        nn.LSTM(2, 3, num_layers=2, dropout=p)


def test_dropout_between_layers_only_in_training():
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = ts.randn(6, 2, 3)
    a, _ = lstm.eval()(x)
    b, _ = lstm(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    ts.manual_seed(1)
    c, _ = lstm.train()(x)
    assert not np.allclose(a.numpy(), c.numpy())


def test_bptt_cost_grows_linearly_with_sequence_length(monkeypatch):
    layer = nn.GRU(2, 3)

    def train_step(T):
        out, h = layer(ts.randn(T, 1, 2))
        out.sum().backward()

    ratio = (grad_elements(lambda: train_step(4000), monkeypatch)
             / grad_elements(lambda: train_step(1000), monkeypatch))
    assert 3.8 < ratio < 4.2, ratio  # quadratic work per step would give about 16


def test_ten_thousand_steps_backpropagate():
    layer = nn.RNN(1, 2)
    x = ts.randn(10_000, 1, 1)
    out, h = layer(x)
    h.sum().backward()
    assert np.isfinite(layer.weight_hh_l0.grad.numpy()).all()


def test_no_grad_keeps_no_graph():
    layer = nn.LSTM(2, 3)
    with ts.no_grad():
        out, (h, c) = layer(ts.randn(7, 2, 2))
    assert out.grad_fn is None and h.grad_fn is None and not out.requires_grad


def test_steps_are_scoped():
    out, _ = nn.RNN(2, 3)(ts.randn(3, 1, 2))
    assert out.grad_fn.name == "stack"
    assert {e[0].scope[-1] for e in out.grad_fn.next_edges if e} == {"t=0", "t=1", "t=2"}


def test_layers_and_directions_are_scoped_when_there_are_several():
    out, _ = nn.GRU(2, 3, num_layers=2, bidirectional=True)(ts.randn(2, 1, 2))
    stacks = [e[0] for e in out.grad_fn.next_edges if e]  # cat of the two directions
    scopes = {e[0].scope for s in stacks for e in s.next_edges if e}
    assert scopes == {("gru", f"layer 1{d}", f"t={t}") for d in ("", " reverse") for t in (0, 1)}


def test_truncated_bptt_by_detaching_the_carried_state():
    layer = nn.LSTM(2, 3)
    x = ts.randn(8, 1, 2)
    _, state = layer(x[:4])
    state = tuple(s.detach() for s in state)
    out, _ = layer(x[4:], state)
    out.sum().backward()  # only the second window's graph is walked
    assert layer.weight_ih_l0.grad is not None


@pytest.mark.parametrize("call, pattern", [
    (lambda m: m(ts.randn(4, 3)), r"expected a 3-d input \(T, B, input_size\), got shape \(4, 3\)"),
    (lambda m: m(ts.randn(4, 2, 5)), r"input has 5 features .* input_size=3"),
    (lambda m: m(ts.randn(4, 2, 3), ts.zeros(1, 3, 4)), r"hx must have shape \(1, 2, 4\)"),
])
def test_bad_shapes_are_explained(call, pattern):
    with pytest.raises(ts.ShapeError, match=pattern):
        call(nn.GRU(3, 4))


@pytest.mark.parametrize("lengths, pattern", [
    ([4, 5], r"lengths must be between 1 and T=4"), ([0, 2], r"between 1 and T=4"),
    ([1, 2, 3], r"lengths must be 2 integers"),
])
def test_bad_lengths_are_explained(lengths, pattern):
    with pytest.raises(ValueError, match=pattern):
        nn.RNN(3, 4)(ts.randn(4, 2, 3), lengths=lengths)


def test_repr_shows_the_options_that_differ_from_the_defaults():
    assert repr(nn.GRU(3, 4, num_layers=2, reset_after=False)) == (
        "GRU(3, 4, num_layers=2, reset_after=False)")
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity='relu')"
    assert repr(nn.LSTMCell(3, 4, peephole=True)) == "LSTMCell(3, 4, peephole=True)"
    assert repr(nn.LSTM(3, 4, bidirectional=True)) == "LSTM(3, 4, bidirectional=True)"
