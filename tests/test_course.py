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
        np.testing.assert_allclose(a.data[:, :, t], a_next, rtol=1e-12)
        ys.append(yt)
    np.testing.assert_allclose(y.data, np.stack(ys, 2), rtol=1e-12)
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
    np.testing.assert_allclose(tx.grad.data, dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ta0.grad.data, da0, rtol=1e-10, atol=1e-12)
    for k, g in grads.items():
        np.testing.assert_allclose(tp[k].grad.data, g, rtol=1e-10, atol=1e-12, err_msg=k)


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
        np.testing.assert_allclose(a.data[:, :, t], a_next, rtol=1e-12)
        np.testing.assert_allclose(c.data[:, :, t], c_next, rtol=1e-12)
        np.testing.assert_allclose(y.data[:, :, t], softmax(p["Wy"] @ a_next + p["by"]),
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
    np.testing.assert_allclose(course.gru_cell_forward(xt, c_prev, p).data, expected, rtol=1e-12)
    inputs = [ts.tensor(xt, dtype=ts.float64, requires_grad=True),
              ts.tensor(c_prev, dtype=ts.float64, requires_grad=True)]
    assert ts.autograd.gradcheck(lambda a, b: course.gru_cell_forward(a, b, p), inputs)


def test_rnn_cell_forward_with_tensors_and_float32():
    rng = np.random.default_rng(4)
    p = {k: ts.tensor(v) for k, v in params(
        rng, {"Wax": (4, 3), "Waa": (4, 4), "Wya": (2, 4), "ba": (4, 1), "by": (2, 1)}).items()}
    a, y = course.rnn_cell_forward(ts.randn(3, 6), ts.zeros(4, 6), p)
    assert a.dtype == y.dtype == ts.float32 and a.shape == (4, 6)
    np.testing.assert_allclose(y.data.sum(axis=0), np.ones(6), rtol=1e-6)
