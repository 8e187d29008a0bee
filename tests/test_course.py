"""ts.course against a numpy transcription of the notes, including the course's hand-written
rnn_backward: the engine's gradients must equal what it derives by hand."""
import numpy as np
import pytest

import tinyseq as ts
from tinyseq import course


def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def rnn_cell_forward_np(xt, a_prev, p):
    a_next = np.tanh(p["Wax"] @ xt + p["Waa"] @ a_prev + p["ba"])
    return a_next, softmax(p["Wya"] @ a_next + p["by"]), (a_next, a_prev, xt)


def rnn_backward_np(da, caches, p):
    """The notes' rnn_cell_backward summed over time, by hand."""
    n_a, m, T = da.shape
    grads = {k: np.zeros_like(p[k]) for k in ("Wax", "Waa", "ba")}
    dx = np.zeros((p["Wax"].shape[1], m, T))
    da_prev = np.zeros((n_a, m))
    for t in reversed(range(T)):
        a_next, a_prev, xt = caches[t]
        dtanh = (1 - a_next ** 2) * (da[:, :, t] + da_prev)
        dx[:, :, t] = p["Wax"].T @ dtanh
        grads["Wax"] += dtanh @ xt.T
        grads["Waa"] += dtanh @ a_prev.T
        grads["ba"] += dtanh.sum(axis=1, keepdims=True)
        da_prev = p["Waa"].T @ dtanh
    return dx, da_prev, grads


def params(rng, shapes):
    return {k: rng.standard_normal(s) for k, s in shapes.items()}


@pytest.fixture
def rnn():
    rng = np.random.default_rng(1)
    n_x, n_a, n_y, m, T = 3, 5, 2, 10, 4
    p = params(rng, {"Wax": (n_a, n_x), "Waa": (n_a, n_a), "Wya": (n_y, n_a), "ba": (n_a, 1),
                     "by": (n_y, 1)})
    return p, rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m)), rng


def test_rnn_forward_matches_the_notes_and_keeps_float64(rnn):
    p, x, a0, _ = rnn
    a, y = course.rnn_forward(x, a0, p)
    a_next, ys = a0, []
    for t in range(x.shape[2]):
        a_next, yt, _ = rnn_cell_forward_np(x[:, :, t], a_next, p)
        np.testing.assert_allclose(a.numpy()[:, :, t], a_next, rtol=1e-12)
        ys.append(yt)
    np.testing.assert_allclose(y.numpy(), np.stack(ys, 2), rtol=1e-12)
    assert a.dtype == ts.float64 and a.shape == (5, 10, 4) and y.shape == (2, 10, 4)


def test_engine_backward_equals_the_hand_written_rnn_backward(rnn):
    p, x, a0, rng = rnn
    tp = {k: ts.tensor(v, dtype=ts.float64, requires_grad=True) for k, v in p.items()}
    tx = ts.tensor(x, dtype=ts.float64, requires_grad=True)
    ta0 = ts.tensor(a0, dtype=ts.float64, requires_grad=True)
    a, _ = course.rnn_forward(tx, ta0, tp)
    da = rng.standard_normal(a.shape)
    (a * ts.from_numpy(da)).sum().backward()
    caches, a_next = [], a0
    for t in range(x.shape[2]):
        a_next, _, cache = rnn_cell_forward_np(x[:, :, t], a_next, p)
        caches.append(cache)
    dx, da0, grads = rnn_backward_np(da, caches, p)
    np.testing.assert_allclose(tx.grad.numpy(), dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ta0.grad.numpy(), da0, rtol=1e-10, atol=1e-12)
    for k, g in grads.items():
        np.testing.assert_allclose(tp[k].grad.numpy(), g, rtol=1e-10, atol=1e-12, err_msg=k)


def test_lstm_forward_matches_the_notes_and_gradcheck():
    rng = np.random.default_rng(2)
    n_x, n_a, n_y, m, T = 3, 4, 2, 5, 3
    gates = {f"W{g}": (n_a, n_a + n_x) for g in "fico"}
    biases = {f"b{g}": (n_a, 1) for g in "fico"}
    p = params(rng, {**gates, **biases, "Wy": (n_y, n_a), "by": (n_y, 1)})
    x, a0 = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m))
    a, y, c = course.lstm_forward(x, a0, p)
    a_next, c_next = a0, np.zeros((n_a, m))
    for t in range(T):
        concat = np.concatenate([a_next, x[:, :, t]])
        ft, it = sigmoid(p["Wf"] @ concat + p["bf"]), sigmoid(p["Wi"] @ concat + p["bi"])
        cct, ot = np.tanh(p["Wc"] @ concat + p["bc"]), sigmoid(p["Wo"] @ concat + p["bo"])
        c_next = ft * c_next + it * cct
        a_next = ot * np.tanh(c_next)
        np.testing.assert_allclose(a.numpy()[:, :, t], a_next, rtol=1e-12)
        np.testing.assert_allclose(c.numpy()[:, :, t], c_next, rtol=1e-12)
        np.testing.assert_allclose(y.numpy()[:, :, t], softmax(p["Wy"] @ a_next + p["by"]),
                                   rtol=1e-12)
    names = sorted(p)

    def run(x_t, *ws):
        return course.lstm_forward(x_t, a0, dict(zip(names, ws)))[0]

    inputs = [ts.tensor(x, dtype=ts.float64, requires_grad=True)] + [
        ts.tensor(p[k], dtype=ts.float64, requires_grad=k in ("Wf", "bo", "Wc")) for k in names]
    assert ts.autograd.gradcheck(run, inputs)


def test_gru_cell_matches_the_notes_and_gradcheck():
    rng = np.random.default_rng(3)
    n_x, n_c, m = 3, 4, 2
    p = params(rng, {"Wu": (n_c, n_c + n_x), "Wr": (n_c, n_c + n_x), "Wc": (n_c, n_c + n_x),
                     "bu": (n_c, 1), "br": (n_c, 1), "bc": (n_c, 1)})
    xt, c_prev = rng.standard_normal((n_x, m)), rng.standard_normal((n_c, m))
    concat = np.concatenate([c_prev, xt])
    gu, gr = sigmoid(p["Wu"] @ concat + p["bu"]), sigmoid(p["Wr"] @ concat + p["br"])
    c_tilde = np.tanh(p["Wc"] @ np.concatenate([gr * c_prev, xt]) + p["bc"])
    expected = gu * c_tilde + (1 - gu) * c_prev
    np.testing.assert_allclose(course.gru_cell_forward(xt, c_prev, p).numpy(), expected, rtol=1e-12)
    inputs = [ts.tensor(xt, dtype=ts.float64, requires_grad=True),
              ts.tensor(c_prev, dtype=ts.float64, requires_grad=True)]
    assert ts.autograd.gradcheck(lambda a, b: course.gru_cell_forward(a, b, p), inputs)


def test_rnn_cell_forward_with_tensors_and_float32():
    rng = np.random.default_rng(4)
    p = {k: ts.tensor(v) for k, v in params(
        rng, {"Wax": (4, 3), "Waa": (4, 4), "Wya": (2, 4), "ba": (4, 1), "by": (2, 1)}).items()}
    a, y = course.rnn_cell_forward(ts.randn(3, 6), ts.zeros(4, 6), p)
    assert a.dtype == y.dtype == ts.float32 and a.shape == (4, 6)
    np.testing.assert_allclose(y.numpy().sum(axis=0), np.ones(6), rtol=1e-6)


# ---- bad shapes and missing keys: one line in the course's notation (issue 13) ----------------

N_X, N_A, N_Y, M, T = 3, 5, 2, 4, 6
RNN_SHAPES = {"Wax": (N_A, N_X), "Waa": (N_A, N_A), "Wya": (N_Y, N_A), "ba": (N_A, 1),
              "by": (N_Y, 1)}
LSTM_SHAPES = {**{f"W{g}": (N_A, N_A + N_X) for g in "fico"}, **{f"b{g}": (N_A, 1) for g in "fico"},
               "Wy": (N_Y, N_A), "by": (N_Y, 1)}
GRU_SHAPES = {**{f"W{g}": (N_A, N_A + N_X) for g in "urc"}, **{f"b{g}": (N_A, 1) for g in "urc"}}


def zeros(*shape):
    return np.zeros(shape)


def with_(shapes, **changes):
    p = {k: zeros(*s) for k, s in shapes.items()}
    return {k: v for k, v in {**p, **changes}.items() if v is not None}


@pytest.mark.parametrize("call, error, words", [
    (lambda: course.rnn_cell_forward(zeros(N_X, M), zeros(N_A, M), with_(RNN_SHAPES, Wax=None)),
     KeyError, r"rnn_cell_forward: parameters has no Wax \(n_a, n_x\); it needs Wax, Waa, Wya"),
    (lambda: course.rnn_cell_forward(zeros(N_X, M), zeros(N_A, M), [1, 2]), TypeError,
     "rnn_cell_forward: parameters must be a dict of arrays with keys Wax, Waa, Wya, ba, by, "
     "got list"),
    (lambda: course.rnn_cell_forward(zeros(N_X, M), zeros(N_A, M),
                                     with_(RNN_SHAPES, Wax=zeros(N_X, N_A))), ts.ShapeError,
     r"rnn_cell_forward: parameters\['Wax'\] must be \(n_a, n_x\) = \(5, 3\), got shape "
     r"\(3, 5\) \(n_x=3, m=4 from xt; n_a=5 from a_prev\)"),
    (lambda: course.rnn_cell_forward(zeros(N_X, M), zeros(N_A, M),
                                     with_(RNN_SHAPES, ba=zeros(N_A, M))), ts.ShapeError,
     r"parameters\['ba'\] must be \(n_a, 1\) = \(5, 1\), got shape \(5, 4\)"),
    (lambda: course.rnn_cell_forward(zeros(N_X), zeros(N_A), with_(RNN_SHAPES)), ts.ShapeError,
     r"rnn_cell_forward: xt must be \(n_x, m\) \(2-d\), got shape \(3,\); for one example use "
     r"m = 1: xt.reshape\(-1, 1\)"),  # used to broadcast to a silently wrong (5, 5)
    (lambda: course.rnn_forward(zeros(N_X, M), zeros(N_A, M), with_(RNN_SHAPES)), ts.ShapeError,
     r"rnn_forward: x must be \(n_x, m, T_x\) \(3-d\), got shape \(3, 4\)"),
    (lambda: course.rnn_forward(zeros(N_X, M, 0), zeros(N_A, M), with_(RNN_SHAPES)), ValueError,
     "rnn_forward: x has T_x = 0 time steps"),
    (lambda: course.rnn_forward(zeros(N_X, M, T), zeros(N_A, M), with_(RNN_SHAPES, by=None)),
     KeyError, r"rnn_forward: parameters has no by \(n_y, 1\)"),
    (lambda: course.rnn_forward(zeros(N_X, M, T), zeros(N_A, M),
                                with_(RNN_SHAPES, by=zeros(N_Y + 1, 1))), ts.ShapeError,
     r"parameters\['by'\] must be \(n_y, 1\) = \(2, 1\), got shape \(3, 1\) .*n_y=2 from "
     r"parameters\['Wya'\]"),
    (lambda: course.lstm_cell_forward(zeros(N_X, M), zeros(N_A, M), zeros(2, M),
                                      with_(LSTM_SHAPES)), ts.ShapeError,
     r"lstm_cell_forward: c_prev must be \(n_a, m\) = \(5, 4\), got shape \(2, 4\)"),
    (lambda: course.lstm_cell_forward(zeros(N_X, M), zeros(N_A, M), zeros(N_A, M),
                                      with_(LSTM_SHAPES, Wf=zeros(N_A, N_X))), ts.ShapeError,
     r"parameters\['Wf'\] must be \(n_a, n_a \+ n_x\) = \(5, 8\), got shape \(5, 3\)"),
    (lambda: course.lstm_forward(zeros(N_X, M, T), zeros(N_A, M), with_(LSTM_SHAPES, bo=None)),
     KeyError, r"lstm_forward: parameters has no bo \(n_a, 1\); it needs Wf, Wi, Wc, Wo"),
    (lambda: course.lstm_forward(zeros(N_X, M, T), zeros(N_A), with_(LSTM_SHAPES)),
     ts.ShapeError, r"lstm_forward: a0 must be \(n_a, m\) \(2-d\), got shape \(5,\)"),
    (lambda: course.gru_cell_forward(zeros(N_X, M, T), zeros(N_A, M), with_(GRU_SHAPES)),
     ts.ShapeError, r"gru_cell_forward: xt must be \(n_x, m\) \(2-d\), got shape \(3, 4, 6\); "
                    r"one time step of x \(n_x, m, T_x\) is x\[:, :, t\]"),
    (lambda: course.gru_cell_forward(zeros(N_X, M), None, with_(GRU_SHAPES)), TypeError,
     "gru_cell_forward: c_prev must be an array or Tensor of numbers, got NoneType"),
    (lambda: course.gru_cell_forward(np.full((N_X, M), "a"), zeros(N_A, M), with_(GRU_SHAPES)),
     TypeError, "gru_cell_forward: xt must hold real numbers, got dtype <U1"),
    (lambda: course.rnn_forward(zeros(N_X, M, T) * 1j, zeros(N_A, M), with_(RNN_SHAPES)),
     TypeError, "rnn_forward: x must hold real numbers, got dtype complex128"),
])
def test_bad_shapes_and_keys_are_named_in_the_course_notation(call, error, words):
    with pytest.raises(error, match=words) as e:
        call()
    assert "\n" not in str(e.value)


def test_an_empty_batch_is_fine():
    a, y = course.rnn_forward(zeros(N_X, 0, T), zeros(N_A, 0), with_(RNN_SHAPES))
    assert a.shape == (N_A, 0, T) and y.shape == (N_Y, 0, T)
