"""Recurrent cells against PyTorch's cells (same weights), and the variants PyTorch lacks against a
numpy transcription of their equations, with gradcheck for all of them."""
import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn

from tests.torch_compare import compare_module_with_torch


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


@pytest.mark.parametrize("kind, kwargs", [
    ("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("RNNCell", {"bias": False}),
    ("GRUCell", {}), ("GRUCell", {"bias": False}), ("LSTMCell", {}), ("LSTMCell", {"bias": False}),
])
@pytest.mark.parametrize("batch, n_in, n_h", [(1, 1, 1), (3, 5, 4), (2, 7, 3)])
@pytest.mark.parametrize("with_state", [False, True])
def test_cells_match_pytorch(kind, kwargs, batch, n_in, n_h, with_state):
    rng = np.random.default_rng(1)
    x, h, c = (rng.standard_normal(shape) for shape in [(batch, n_in)] + [(batch, n_h)] * 2)
    state = [(h, c) if kind == "LSTMCell" else h] if with_state else []
    compare_module_with_torch(lambda nn: getattr(nn, kind)(n_in, n_h, **kwargs), [x, *state])


def _weights(cell):
    return {k: v.numpy().astype(np.float64) for k, v in cell.state_dict().items()}


def test_gru_reset_before_matches_the_course_equations():
    cell = nn.GRUCell(3, 4, reset_after=False)
    w = _weights(cell)
    rng = np.random.default_rng(0)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    gi = x @ w["weight_ih"].T + w["bias_ih"]
    W_r, W_z, W_n = np.split(w["weight_hh"], 3)
    b_r, b_z, b_n = np.split(w["bias_hh"], 3)
    r = _sigmoid(gi[:, :4] + h @ W_r.T + b_r)               # Γ_r
    gamma_u = 1 - _sigmoid(gi[:, 4:8] + h @ W_z.T + b_z)    # Γ_u = 1 - z
    c_tilde = np.tanh(gi[:, 8:] + (r * h) @ W_n.T + b_n)    # c̃ = tanh(W_c [Γ_r * c, x] + b_c)
    expected = gamma_u * c_tilde + (1 - gamma_u) * h        # c⟨t⟩
    out = cell(ts.tensor(x, dtype=ts.float64), ts.tensor(h, dtype=ts.float64))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_lstm_peephole_matches_gers_and_schmidhuber():
    cell = nn.LSTMCell(3, 4, peephole=True)
    w = _weights(cell)
    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    gates = x @ w["weight_ih"].T + w["bias_ih"] + h @ w["weight_hh"].T + w["bias_hh"]
    i, f, g, o = np.split(gates, 4, axis=1)
    c_new = _sigmoid(f + c * w["weight_cf"]) * c + _sigmoid(i + c * w["weight_ci"]) * np.tanh(g)
    h_new = _sigmoid(o + c_new * w["weight_co"]) * np.tanh(c_new)
    out_h, out_c = cell(*(ts.tensor(a, dtype=ts.float64) for a in (x,)),
                        (ts.tensor(h, dtype=ts.float64), ts.tensor(c, dtype=ts.float64)))
    np.testing.assert_allclose(out_c.numpy(), c_new, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out_h.numpy(), h_new, rtol=1e-5, atol=1e-6)
    assert [k for k, _ in cell.named_parameters()][-3:] == ["weight_ci", "weight_cf", "weight_co"]


@pytest.mark.parametrize("make", [
    lambda: nn.RNNCell(3, 2), lambda: nn.GRUCell(3, 2), lambda: nn.GRUCell(3, 2, reset_after=False),
    lambda: nn.LSTMCell(3, 2), lambda: nn.LSTMCell(3, 2, peephole=True),
])
def test_cells_pass_gradcheck_through_two_steps(make):
    cell = make()
    names = [k for k, _ in cell.named_parameters()]
    values = [ts.tensor(p.numpy(), dtype=ts.float64, requires_grad=True) for p in cell.parameters()]
    x = ts.randn(2, 2, 3, dtype=ts.float64)
    lstm = isinstance(cell, nn.LSTMCell)

    for name in names:  # PyTorch's way to compute with plain tensors: unregister the parameters
        delattr(cell, name)

    def run(*weights):
        for name, w in zip(names, weights):
            setattr(cell, name, w)  # a plain tensor attribute: the cell computes with it
        state = None
        for t in range(2):
            state = cell(x[t], state)
        return state[0] if lstm else state

    assert ts.autograd.gradcheck(run, values)


def test_bad_nonlinearity_is_refused():
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        nn.RNNCell(2, 2, nonlinearity="sigmoid")
