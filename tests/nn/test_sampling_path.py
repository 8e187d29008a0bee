"""The path a sampling loop takes through a recurrent layer (benchmark S1, issue 17): one step
per call under ``no_grad``, the state handed back each time. The numbers are PyTorch's; the
states a single layer returns under ``no_grad`` are views, never of the output; in a graph they
stay copies; the quick checks of the input and the state refuse what the full checks refuse."""
import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import torch

I, H, B = 3, 4, 2


def _pair(kind, **options):
    """The same layer on PyTorch and tinyseq, PyTorch's weights in both."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(I, H, **options)
    ours = getattr(ts.nn, kind)(I, H, **options)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _step_by_step(m, layer, xs):
    """``xs`` ``(T, B, I)`` fed one step per call under ``m.no_grad()``, each call's state
    handed to the next: the outputs ``(T, B, D·H)`` and the last state, as numpy arrays."""
    state, outs = None, []
    with m.no_grad():
        for x in xs:
            out, state = layer(m.from_numpy(x[None].copy()), state)
            outs.append(out.numpy()[0])
    states = state if isinstance(state, tuple) else (state,)
    return np.stack(outs), [s.numpy() for s in states]


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("options", [{}, {"num_layers": 2}, {"bidirectional": True}],
                         ids=["one layer", "two layers", "bidirectional"])
def test_one_step_per_call_matches_pytorch(kind, options):
    ours, theirs = _pair(kind, **options)
    xs = np.random.default_rng(0).standard_normal((6, B, I)).astype(np.float32)
    out, states = _step_by_step(ts, ours, xs)
    expected_out, expected_states = _step_by_step(torch, theirs, xs)
    np.testing.assert_allclose(out, expected_out, rtol=1e-5, atol=1e-6)
    assert [s.shape for s in states] == [s.shape for s in expected_states]
    for s, e in zip(states, expected_states):
        np.testing.assert_allclose(s, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
def test_one_step_per_call_is_the_whole_sequence_at_once(kind):
    layer, _ = _pair(kind)
    xs = np.random.default_rng(1).standard_normal((5, B, I)).astype(np.float32)
    out, states = _step_by_step(ts, layer, xs)
    with ts.no_grad():
        whole, last = layer(ts.from_numpy(xs))
    last = last if isinstance(last, tuple) else (last,)
    np.testing.assert_allclose(out, whole.numpy(), rtol=1e-6, atol=1e-7)
    for s, e in zip(states, last):
        np.testing.assert_allclose(s, e.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("grad", [False, True], ids=["no_grad", "grad"])
def test_the_output_and_the_states_do_not_share_memory(grad):
    layer, _ = _pair("LSTM")
    x = ts.randn(1, B, I)
    with ts.set_grad_enabled(grad):
        out, (h, c) = layer(x)
        before = h.numpy().copy()
        np.testing.assert_array_equal(out.numpy(), before)
        with ts.no_grad():
            out.add_(1.0)
    np.testing.assert_array_equal(h.numpy(), before)
    assert h.shape == c.shape == (1, B, H)


def test_a_state_changed_in_place_in_a_graph_leaves_backward_alone():
    # the peephole's Γ_o saves c⟨T⟩: c_n must be a copy of it, as PyTorch's c_n is its own tensor
    layer = ts.nn.LSTM(I, H, peephole=True)
    out, (h, c) = layer(ts.randn(3, B, I))
    c.add_(1.0)
    h.mul_(2.0)
    out.sum().backward()
    assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all()
               for p in layer.parameters())


def test_a_state_handed_back_is_the_state_a_copy_would_give():
    layer, _ = _pair("LSTM")
    x1, x2 = ts.randn(1, B, I), ts.randn(1, B, I)
    with ts.no_grad():
        _, state = layer(x1)
        out, _ = layer(x2, state)
        again, _ = layer(x2, tuple(ts.tensor(s.numpy().copy()) for s in state))
    np.testing.assert_array_equal(out.numpy(), again.numpy())


BAD_INPUTS = [
    (lambda: np.zeros((1, B, I), np.float32), TypeError, r"LSTM: input must be a Tensor"),
    (lambda: ts.zeros(B, I), ValueError, r"LSTM: expected a 3-d input \(T, B, input_size\)"),
    (lambda: ts.zeros(1, B, I + 1), ValueError, r"LSTM: input has 4 features"),
    (lambda: ts.zeros(0, B, I), ValueError, r"LSTM: the input .* has no time steps"),
    (lambda: ts.zeros(1, B, I, dtype=ts.int64), TypeError, r"LSTM: input of dtype int64"),
]


@pytest.mark.parametrize("make, error, words", BAD_INPUTS)
def test_a_bad_input_is_refused_as_before(make, error, words):
    layer = ts.nn.LSTM(I, H)
    with ts.no_grad(), pytest.raises(error, match=words):
        layer(make())


BAD_STATES = [
    ((ts.zeros(1, B + 1, H), ts.zeros(1, B, H)), r"LSTM: h_0 must have shape \(1, 2, 4\)"),
    ((ts.zeros(1, B, H), ts.zeros(2, B, H)), r"LSTM: c_0 must have shape \(1, 2, 4\)"),
    ((ts.zeros(1, B, H, dtype=ts.int64), ts.zeros(1, B, H)), r"LSTM: h_0 must be floating"),
    ((np.zeros((1, B, H)), ts.zeros(1, B, H)), r"LSTM: h_0 must be a Tensor"),
]


@pytest.mark.parametrize("state, words", BAD_STATES)
def test_a_bad_state_is_refused_as_before(state, words):
    layer = ts.nn.LSTM(I, H)
    with ts.no_grad(), pytest.raises((TypeError, ValueError), match=words):
        layer(ts.zeros(1, B, I), state)
