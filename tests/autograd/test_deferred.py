"""Deferred weight gradients (``tinyseq/autograd/deferred.py``): a weight used at every step gets
its gradient as one product over all its rows, with the same values as the T thin products summed
one by one (the eager path, which these tests recreate by materialising every ``Deferred`` as soon
as an op returns it), and nothing outside the engine ever sees a lazy value."""
import itertools

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn
from tinyseq.autograd import deferred, engine
from tinyseq.autograd.deferred import Deferred
from tinyseq.autograd.observers import Observer, observers
from tinyseq.nn import functional as F

try:
    import torch
except ImportError:  # the comparisons with the eager path still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the reference")

TOL = {np.float32: 1e-6, np.float64: 1e-12}


@pytest.fixture
def eager(monkeypatch):
    """A switch to the eager path: every op's ``Deferred`` is made an array as it is returned."""
    run = engine.ARRAYS.run

    def eager_run(node, grads, retain_graph):
        return [np.asarray(g) if type(g) is Deferred else g for g in run(node, grads, retain_graph)]

    return lambda: monkeypatch.setattr(engine.ARRAYS, "run", staticmethod(eager_run))


@pytest.fixture
def products(monkeypatch):
    """The number of rows of every product a ``Deferred`` makes, in order."""
    rows, product = [], Deferred._product

    def counted(self):
        rows.append(sum(left.shape[0] for left in self.lefts))
        return product(self)

    monkeypatch.setattr(Deferred, "_product", counted)
    return rows


def _f64(a, requires_grad=False):
    return ts.tensor(a, dtype=ts.float64, requires_grad=requires_grad)


def _grads(loss_fn, params):
    """The gradients of ``params`` after one ``loss_fn().backward()``, as numpy arrays."""
    for p in params:
        p.grad = None
    loss_fn().backward()
    return [p.grad.numpy().copy() for p in params]


def _same_both_ways(loss_fn, params, eager, dtype, products=None):
    """Backward deferred, then eager: the same gradients within ``TOL[dtype]``; returns them.
    ``products`` (the fixture's list) then holds only the deferred pass's products."""
    lazy = _grads(loss_fn, params)
    if products is not None:
        products.append(None)  # the eager pass's come after it, and are dropped below
    eager()
    for p, a, b in zip(params, lazy, _grads(loss_fn, params)):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=TOL[dtype], atol=TOL[dtype])
    if products is not None:
        del products[products.index(None):]
    return lazy


LAYERS = list(itertools.product(["RNN", "GRU", "LSTM"], [1, 2], [False, True], [False, True],
                                [np.float32, np.float64]))


@pytest.mark.parametrize("kind,layers,bidirectional,batch_first,dtype", LAYERS)
def test_a_layers_gradients_are_the_eager_ones(kind, layers, bidirectional, batch_first, dtype,
                                               eager, products):
    ts.manual_seed(0)
    T, B = 6, 3
    layer = getattr(nn, kind)(3, 4, num_layers=layers, bidirectional=bidirectional,
                              batch_first=batch_first, dtype=ts.float64 if dtype == np.float64
                              else ts.float32)
    x = ts.randn(*((B, T, 3) if batch_first else (T, B, 3))).to(layer.weight_hh_l0.dtype)
    params = list(layer.parameters())
    _same_both_ways(lambda: (layer(x)[0] ** 2).sum(), params, eager, dtype, products)
    # each direction of each layer: weight_ih's one product (the input projection of every step)
    # and weight_hh's T step products summed as one, both over T·B rows
    assert products == [T * B] * (2 * layers * (1 + bidirectional))


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_packed_sequences_give_the_eager_gradients(kind, eager):
    ts.manual_seed(1)
    layer = getattr(nn, kind)(2, 3, num_layers=2, bidirectional=True, dtype=ts.float64)
    x = ts.randn(5, 4, 2, dtype=ts.float64)
    R = nn.utils.rnn

    def loss():
        packed = R.pack_padded_sequence(x, [5, 2, 4, 1], enforce_sorted=False)
        out, _ = layer(packed)
        return (R.pad_packed_sequence(out)[0] ** 2).sum()

    _same_both_ways(loss, list(layer.parameters()), eager, np.float64)


def _unrolled(w, u, xs, h):
    """A small RNN written out by hand: ``h = tanh(linear(h, w) + x @ u)`` at every step."""
    for x in xs:
        h = (F.linear(h, w) + x @ u).tanh()
    return h


def test_a_weight_used_by_linear_and_by_matmul_gets_both_sums(eager, products):
    rng = np.random.default_rng(2)
    w = _f64(rng.standard_normal((4, 4)), requires_grad=True)
    xs = _f64(rng.standard_normal((5, 3, 4)))
    h0 = _f64(rng.standard_normal((3, 4)))
    # w in linear (h wᵀ) at each step, and in matmul (x w) at each step: 10 deferred products
    lazy = _same_both_ways(lambda: _unrolled(w, w, xs, h0).sum(), [w], eager, np.float64,
                           products)
    assert products[0] == 2 * 5 * 3  # one product over all 30 rows
    assert len(products) == 1
    if torch is not None:
        tw = torch.tensor(w.numpy(), requires_grad=True)
        h = torch.tensor(h0.numpy())
        for x in torch.tensor(xs.numpy()):
            h = (torch.nn.functional.linear(h, tw) + x @ tw).tanh()
        h.sum().backward()
        np.testing.assert_allclose(lazy[0], tw.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_a_weight_on_the_left_of_matmul_is_deferred_too(eager, products):
    rng = np.random.default_rng(3)
    w = _f64(rng.standard_normal((4, 4)), requires_grad=True)
    hs = _f64(rng.standard_normal((6, 4, 2)))  # columns, as in ``W @ h``; and a batch of them

    def loss():
        h, total = hs[0], 0
        for col in hs[1:]:
            h = (w @ h + col).tanh()
            total = total + (w @ hs).sum()  # a batched right operand: its batch becomes rows
        return (h ** 2).sum() + total

    _same_both_ways(loss, [w], eager, np.float64, products)
    # w's: one product of 5·2 + 5·6·2 rows; each h's (4 rows: w's) is made when h's is complete
    assert sorted(products) == [4] * 4 + [5 * 2 + 5 * 6 * 2]


def test_a_deferred_sum_meets_an_array(eager):
    # tied weights: the embedding's gradient (an array) meets the output layer's (deferred)
    rng = np.random.default_rng(4)
    emb = nn.Embedding(7, 4, dtype=ts.float64)
    ids = ts.tensor(rng.integers(0, 7, (5, 3)))

    def loss():
        h = emb(ids)
        return (F.linear(h, emb.weight) ** 2).sum() + (emb.weight * 3).sum()

    _same_both_ways(loss, [emb.weight], eager, np.float64)


def test_pairs_of_fold_rows_rows_are_summed_as_they_come(eager, products, monkeypatch):
    monkeypatch.setattr(deferred, "FOLD_ROWS", 4)
    rng = np.random.default_rng(5)
    w = _f64(rng.standard_normal((3, 3)), requires_grad=True)
    xs = _f64(rng.standard_normal((4, 2, 3)))
    _same_both_ways(lambda: _unrolled(w, w, xs, xs[0]).sum(), [w], eager, np.float64, products)
    assert products == [2 * 2] * 4  # 8 pairs of 2 rows: 4 products of 4 rows


@needs_torch
def test_lstm_weight_gradients_are_torchs():
    ts.manual_seed(6)
    ours = nn.LSTM(3, 5, num_layers=2)
    theirs = torch.nn.LSTM(3, 5, num_layers=2)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(6).standard_normal((7, 2, 3)).astype(np.float32)
    (ours(ts.tensor(x))[0] ** 2).sum().backward()
    (theirs(torch.tensor(x))[0] ** 2).sum().backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=name)


def _loss_and_weight(rng):
    w = _f64(rng.standard_normal((3, 3)), requires_grad=True)
    xs = _f64(rng.standard_normal((4, 2, 3)))
    return w, (lambda: _unrolled(w, w, xs, xs[0]).sum()), xs


def test_a_hook_on_the_weight_sees_the_complete_sum_once_as_an_array(eager):
    w, loss, _ = _loss_and_weight(np.random.default_rng(7))
    seen = []
    w.register_hook(lambda g: seen.append(g) or g * 2)
    loss().backward()
    eager()
    reference = w.grad.numpy().copy()
    w.grad, calls = None, len(seen)
    loss().backward()
    assert calls == 1 and type(seen[0]._data) is np.ndarray
    np.testing.assert_allclose(reference, w.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(reference, 2 * seen[0].numpy(), rtol=1e-12)


def test_retain_grad_and_grad_of_a_weight_made_by_an_op(eager):
    rng = np.random.default_rng(8)
    w0 = _f64(rng.standard_normal((3, 3)), requires_grad=True)
    xs = _f64(rng.standard_normal((4, 2, 3)))
    w = w0 * 1.5  # a non-leaf weight: its node runs once, on the complete sum
    w.retain_grad()
    _unrolled(w, w, xs, xs[0]).sum().backward()
    retained = w.grad.numpy().copy()  # (grad() below adds to it too, as in torch)
    (captured,) = ts.autograd.grad(_unrolled(w, w, xs, xs[0]).sum(), w)
    eager()
    (reference,) = ts.autograd.grad(_unrolled(w, w, xs, xs[0]).sum(), w)
    assert type(w.grad._data) is np.ndarray
    np.testing.assert_allclose(retained, reference.numpy(), rtol=1e-12)
    np.testing.assert_allclose(captured.numpy(), reference.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w0.grad.numpy(), 1.5 * reference.numpy(), rtol=1e-12)


@needs_torch
def test_grad_with_respect_to_a_weight_is_torchs():
    w, loss, xs = _loss_and_weight(np.random.default_rng(9))
    (ours,) = ts.autograd.grad(loss(), w)
    tw = torch.tensor(w.numpy(), requires_grad=True)
    h = torch.tensor(xs.numpy()[0])
    for x in torch.tensor(xs.numpy()):
        h = (torch.nn.functional.linear(h, tw) + x @ tw).tanh()
    (theirs,) = torch.autograd.grad(h.sum(), tw)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    assert w.grad is None


def test_gradcheck_of_a_small_unrolled_rnn():
    rng = np.random.default_rng(10)
    w = _f64(rng.standard_normal((3, 3)) / 2, requires_grad=True)
    u = _f64(rng.standard_normal((2, 3)) / 2, requires_grad=True)
    xs = _f64(rng.standard_normal((5, 4, 2)), requires_grad=True)
    h0 = _f64(rng.standard_normal((4, 3)), requires_grad=True)
    assert ts.autograd.gradcheck(lambda w, u, xs, h0: _unrolled(w, u, xs, h0), (w, u, xs, h0))


def test_observers_and_anomaly_checks_see_arrays():
    class Seen(Observer):
        def __init__(self):
            self.types = set()

        def walking(self, roots):
            return lambda node, grads: self.types.update(type(g) for g in grads)

        def sending(self, roots):
            return self.walking(roots)

    w, loss, _ = _loss_and_weight(np.random.default_rng(11))
    seen = Seen()
    observers.append(seen)
    try:
        loss().backward()
    finally:
        observers.remove(seen)
    assert seen.types == {np.ndarray, type(None)} or seen.types == {np.ndarray}
    expected = w.grad.numpy().copy()
    w.grad = None
    with ts.autograd.detect_anomaly():
        loss().backward()
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12)


def test_backward_twice_accumulates_the_deferred_sum():
    w, loss, _ = _loss_and_weight(np.random.default_rng(12))
    out = loss()
    out.backward(retain_graph=True)
    once = w.grad.numpy().copy()
    out.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * once, rtol=1e-12)
