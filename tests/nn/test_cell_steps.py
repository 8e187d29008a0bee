"""The cells' steps as plain functions: the course's equations without branches, quoted verbatim by
docs/recurrent.md, run by the cells and the layers alike; the layers own their parameters under
PyTorch's names, share one signature and give their hidden states through ``unroll``."""
import ast
import inspect
import pathlib
import textwrap

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn
from tinyseq.models import charlm, classifier, seq2seq
from tinyseq.nn import cells

STEPS = [cells.rnn_tanh_step, cells.rnn_relu_step, cells.gru_step, cells.gru_reset_before_step,
         cells.lstm_step, cells.peephole_lstm_step]
PAGE = pathlib.Path(__file__).parents[2] / "docs" / "recurrent.md"


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _f64(*arrays):
    return [ts.tensor(a, dtype=ts.float64) for a in arrays]


@pytest.mark.parametrize("step", STEPS, ids=lambda f: f.__name__)
def test_a_step_has_no_branch_and_no_loop(step):
    tree = ast.parse(textwrap.dedent(inspect.getsource(step)))
    kinds = {type(node).__name__ for node in ast.walk(tree)}
    assert not kinds & {"If", "IfExp", "For", "While", "Try", "Match"}, kinds


@pytest.mark.parametrize("step", [s for s in STEPS if s is not cells.rnn_relu_step],
                         ids=lambda f: f.__name__)
def test_the_page_quotes_each_step_as_it_is(step):
    assert inspect.getsource(step) in PAGE.read_text(encoding="utf-8")


# ---- the steps against the course's equations, in float64 ------------------------------------
B, H = 3, 4
rng = np.random.default_rng(0)
W_hh3, W_hh4 = rng.standard_normal((3 * H, H)), rng.standard_normal((4 * H, H))
b_hh3 = rng.standard_normal(3 * H)
x3, x4 = rng.standard_normal((B, 3 * H)), rng.standard_normal((B, 4 * H))
h, c = rng.standard_normal((B, H)), rng.standard_normal((B, H))


def test_gru_step_is_the_update_the_course_writes():
    pre_h = h @ W_hh3.T + b_hh3
    gamma_r = _sigmoid(x3[:, :H] + pre_h[:, :H])
    gamma_u = 1 - _sigmoid(x3[:, H:2 * H] + pre_h[:, H:2 * H])   # PyTorch's z is 1 - Γ_u
    c_tilde = np.tanh(x3[:, 2 * H:] + gamma_r * pre_h[:, 2 * H:])
    out = cells.gru_step(*_f64(x3, h, W_hh3, b_hh3))
    np.testing.assert_allclose(out.numpy(), gamma_u * c_tilde + (1 - gamma_u) * h, rtol=1e-12)


def test_gru_reset_before_step_puts_the_reset_gate_before_the_matmul():
    W_r, W_u, W_c = np.split(W_hh3, 3)
    gamma_r = _sigmoid(x3[:, :H] + h @ W_r.T)
    gamma_u = 1 - _sigmoid(x3[:, H:2 * H] + h @ W_u.T)
    c_tilde = np.tanh(x3[:, 2 * H:] + (gamma_r * h) @ W_c.T)
    out = cells.gru_reset_before_step(*_f64(x3, h, W_hh3))
    np.testing.assert_allclose(out.numpy(), gamma_u * c_tilde + (1 - gamma_u) * h, rtol=1e-12)


def test_lstm_steps_are_the_course_equations():
    i, f, g, o = np.split(x4 + h @ W_hh4.T, 4, axis=1)
    c_next = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    x_proj, a_prev, c_prev, weight_hh = _f64(x4, h, c, W_hh4)
    a, c_out = cells.lstm_step(x_proj, (a_prev, c_prev), weight_hh)
    np.testing.assert_allclose(c_out.numpy(), c_next, rtol=1e-12)
    np.testing.assert_allclose(a.numpy(), _sigmoid(o) * np.tanh(c_next), rtol=1e-12)
    w_ci, w_cf, w_co = rng.standard_normal((3, H))
    peep_c = _sigmoid(f + c * w_cf) * c + _sigmoid(i + c * w_ci) * np.tanh(g)
    a, c_out = cells.peephole_lstm_step(x_proj, (a_prev, c_prev), weight_hh,
                                        *_f64(w_ci, w_cf, w_co))
    np.testing.assert_allclose(c_out.numpy(), peep_c, rtol=1e-12)
    np.testing.assert_allclose(a.numpy(), _sigmoid(o + peep_c * w_co) * np.tanh(peep_c), rtol=1e-12)


def test_steps_name_their_results_in_the_course_notation():
    a, c_out = cells.lstm_step(*_f64(x4), tuple(_f64(h, c)), *_f64(W_hh4))
    assert (a.name, c_out.name) == ("a⟨t⟩", "c⟨t⟩")
    assert cells.gru_step(*_f64(x3, h, W_hh3, b_hh3)).name == "a⟨t⟩"


# ---- cells and layers run the same step ------------------------------------------------------
VARIANTS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("GRU", {}),
            ("GRU", {"reset_after": False}), ("GRU", {"bias": False}), ("LSTM", {}),
            ("LSTM", {"peephole": True}), ("LSTM", {"bias": False})]


@pytest.mark.parametrize("kind, options", VARIANTS, ids=[f"{k}-{o}" for k, o in VARIANTS])
def test_a_layer_step_is_its_cell_step(kind, options):
    layer = getattr(nn, kind)(3, H, **options)
    cell = getattr(nn, kind + "Cell")(3, H, **options)
    cell.load_state_dict({k[: -len("_l0")]: v for k, v in layer.state_dict().items()})
    x = ts.randn(1, B, 3)
    out, _ = layer(x)
    state = cell(x[0])
    np.testing.assert_allclose(out[0].numpy(), (state[0] if kind == "LSTM" else state).numpy(),
                               rtol=1e-6, atol=1e-7)


def test_a_layer_owns_its_parameters_under_pytorch_names_with_no_hidden_cells():
    lstm = nn.LSTM(3, H, num_layers=2, bidirectional=True, peephole=True)
    assert lstm._modules == {}
    assert not [v for v in vars(lstm).values() if isinstance(v, (nn.Module, list))]
    names = [k for k, _ in lstm.named_parameters()]
    one = ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_ci", "weight_cf", "weight_co"]
    assert names == [n + s for s in ("_l0", "_l0_reverse", "_l1", "_l1_reverse") for n in one]
    assert list(lstm.state_dict()) == names
    assert lstm.weight_ih_l1_reverse.shape == (4 * H, 2 * H) and lstm.weight_co_l1.shape == (H,)


def test_one_signature_for_the_three_layers():
    signature = inspect.signature(nn.GRU)
    assert inspect.signature(nn.LSTM) == signature
    assert list(signature.parameters) == ["input_size", "hidden_size", "num_layers", "bias",
                                          "batch_first", "dropout", "bidirectional", "options"]
    assert repr(nn.RNN(10, 20, 2, "relu")) == "RNN(10, 20, num_layers=2, nonlinearity='relu')"
    assert repr(nn.RNN(10, 20, 2, "relu", False)) == (
        "RNN(10, 20, num_layers=2, bias=False, nonlinearity='relu')")
    assert repr(nn.GRU(3, 4, 1, False, True)) == "GRU(3, 4, bias=False, batch_first=True)"
    with pytest.raises(TypeError, match=r"LSTM: unexpected keyword argument 'reset_after' \(its "
                                        r"cell's option is peephole\)"):
        nn.LSTM(3, 4, reset_after=False)
    with pytest.raises(TypeError, match="multiple values for keyword argument 'nonlinearity'"):
        nn.RNN(3, 4, 1, "relu", nonlinearity="tanh")
    with pytest.raises(ValueError, match="RNN: nonlinearity must be 'tanh' or 'relu', got True"):
        nn.RNN(3, 4, 1, True)  # the fourth is the nonlinearity, as in torch, not bias
    with pytest.raises(TypeError, match="GRU: reset_after must be True or False, got 'no'"):
        nn.GRU(3, 4, reset_after="no")


def test_nn_knows_no_command_line_names():
    assert not hasattr(nn.recurrent, "LAYERS")
    assert charlm.CELLS == {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
    assert classifier.CELLS is charlm.CELLS
    assert seq2seq.CELLS == {"gru": nn.GRU, "lstm": nn.LSTM}


# ---- unroll: the hidden states a⟨t⟩ of the last layer ---------------------------------------
@pytest.mark.parametrize("options", [{}, {"batch_first": True}, {"bidirectional": True},
                                     {"num_layers": 2, "bidirectional": True}])
def test_unroll_gives_the_states_that_make_the_output(options):
    layer = nn.LSTM(3, H, **options)
    T, D = 5, 2 if layer.bidirectional else 1
    x = ts.randn(*((B, T, 3) if layer.batch_first else (T, B, 3)))
    output, (h_n, c_n), steps = layer.unroll(x)
    assert len(steps) == D and all(len(s) == T for s in steps)
    expected = output.transpose(0, 1) if layer.batch_first else output
    for d, states in enumerate(steps):
        np.testing.assert_array_equal(ts.stack(states), expected[..., d * H:(d + 1) * H])
    np.testing.assert_array_equal(steps[0][-1].numpy(), h_n[-D].numpy())  # forward ends at t = T
    if D == 2:
        np.testing.assert_array_equal(steps[1][0].numpy(), h_n[-1].numpy())  # reverse ends at t = 1
    again, _ = layer(x)
    np.testing.assert_array_equal(again.numpy(), output.numpy())


def test_unroll_states_past_a_sequence_end_are_its_last_state():
    gru = nn.GRU(3, H)
    output, h_n, (states,) = gru.unroll(ts.randn(4, 2, 3), lengths=[4, 2])
    np.testing.assert_array_equal(states[3].numpy()[1], states[1].numpy()[1])  # frozen after t = 2
    np.testing.assert_array_equal(output.numpy()[3, 1], 0.0)               # and output as zeros
    np.testing.assert_array_equal(states[3].numpy(), h_n[0].numpy())
