"""``t.data`` as in PyTorch: a Tensor on ``t``'s memory, outside the graph (no ``grad_fn``, no
gradient, its own version counter), writable under grad mode; ``t.data = other`` takes
``other``'s memory. The word language model's training loop (PyTorch's examples) against torch."""
import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import torch

RNG = np.random.default_rng(15)


def _pair(shape, requires_grad=True):
    a = RNG.standard_normal(shape)
    return (ts.tensor(a, dtype=ts.float64, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


# ---- the word language model's plain SGD loop --------------------------------------------------
class _WordLM:
    """Embedding -> 2-layer LSTM -> Linear, on either library (``lib`` is ts or torch)."""

    def __init__(self, lib, V=11, E=6, H=8):
        self.encoder = lib.nn.Embedding(V, E)
        self.rnn = lib.nn.LSTM(E, H, num_layers=2)
        self.decoder = lib.nn.Linear(H, V)
        self.modules = {"encoder": self.encoder, "rnn": self.rnn, "decoder": self.decoder}

    def __call__(self, ids):
        out, _ = self.rnn(self.encoder(ids))
        return self.decoder(out)

    def named_parameters(self):
        for name, m in self.modules.items():
            for k, p in m.named_parameters():
                yield f"{name}.{k}", p


def _train(lib, model, ids, targets, lr=0.5, steps=3):
    for _ in range(steps):
        for _, p in model.named_parameters():
            p.grad = None
        logits = model(ids)
        loss = lib.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                               targets.reshape(-1))
        loss.backward()
        lib.nn.utils.clip_grad_norm_([p for _, p in model.named_parameters()], 0.25)
        for _, p in model.named_parameters():
            p.data.add_(p.grad, alpha=-lr)  # examples/word_language_model/main.py


def test_the_word_language_models_sgd_loop_gives_torchs_parameters():
    torch.manual_seed(0)
    theirs, ours = _WordLM(torch), _WordLM(ts)
    for name, m in theirs.modules.items():
        ours.modules[name].load_state_dict({k: v.detach().numpy()
                                            for k, v in m.state_dict().items()})
    ids, targets = RNG.integers(0, 11, (7, 3)), RNG.integers(0, 11, (7, 3))
    _train(torch, theirs, torch.tensor(ids), torch.tensor(targets))
    _train(ts, ours, ts.tensor(ids), ts.tensor(targets))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p.is_leaf and p.requires_grad, name
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)


# ---- what .data is ------------------------------------------------------------------------------
def test_data_is_a_tensor_on_the_same_memory_outside_the_graph():
    x, _ = _pair((2, 3))
    y = x * 2
    for t in (x, y):
        d = t.data
        assert type(d) is ts.Tensor and np.shares_memory(d.numpy(), t.numpy())
        assert d.requires_grad is False and d.grad_fn is None and d.is_leaf and d.grad is None
        assert d.shape == t.shape and d.dtype == t.dtype
    assert isinstance(x.numpy(), np.ndarray) and np.asarray(x) is x.numpy()


@pytest.mark.parametrize("write", [
    lambda d: d.add_(1.5),
    lambda d: d.uniform_(-0.1, 0.1),
    lambda d: d.zero_(),
    lambda d: d.copy_(d * 3),
    lambda d: d.mul_(2),
    lambda d: d.__setitem__((0, slice(None)), 7.0),
    lambda d: d.__setitem__(1, ts.tensor([1.0, 2.0, 3.0])),
])
def test_a_leaf_that_requires_grad_is_written_through_data_under_grad_mode(write):
    w = ts.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    d = w.data
    write(d)  # no "leaf tensor that requires grad" error: .data is outside the graph
    np.testing.assert_array_equal(w.numpy(), d.numpy())
    assert w.is_leaf and w.requires_grad and w.grad_fn is None and not d.requires_grad


def test_uniform_through_data_initialises_the_weight_as_torch_does():
    w, v = ts.zeros(4, 5, requires_grad=True), torch.zeros(4, 5, requires_grad=True)
    w.data.uniform_(-0.1, 0.1)
    v.data.uniform_(-0.1, 0.1)
    assert (np.abs(w.numpy()) <= 0.1).all() and np.unique(w.numpy()).size == 20
    assert (w.is_leaf, w.requires_grad, w.grad_fn) == (v.is_leaf, v.requires_grad, None)


def test_a_change_through_data_is_not_seen_by_autograd_as_in_torch():
    """``.data`` has its own version counter: a saved tensor changed through it is not an error
    at backward, and the gradient uses the new values (detach() would be caught)."""
    grads = []
    for lib in (ts, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = (x * x).sum()
        x.data.mul_(2)
        y.backward()
        grads.append(np.asarray(x.grad.detach() if lib is torch else x.grad))
        z = (x * x).sum()
        x.detach().add_(1)
        with pytest.raises(RuntimeError, match="modified by an in.?place operation"):
            z.backward()
    np.testing.assert_array_equal(*grads)


def test_writing_a_non_leafs_data_does_not_record():
    x, tx = _pair((3,))
    y, ty = x.exp(), tx.exp()
    node = y.grad_fn
    y.data.add_(1), ty.data.add_(1)
    assert y.grad_fn is node and ty.grad_fn.name() == "ExpBackward0"
    y.sum().backward(), ty.sum().backward()  # exp's gradient reads its (changed) result
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


# ---- t.data = other -----------------------------------------------------------------------------
def test_assigning_data_takes_the_others_memory_shape_and_dtype_and_keeps_grad():
    w, v = ts.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    (w * 2).sum().backward(), (v * 2).sum().backward()
    other, their_other = ts.zeros(5, dtype=ts.float64), torch.zeros(5, dtype=torch.float64)
    w.data, v.data = other, their_other
    assert w.shape == tuple(v.shape) == (5,) and w.numpy().dtype == np.float64
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_array_equal(w.grad.numpy(), v.grad.numpy())  # kept, of the old shape
    other.add_(1), their_other.add_(1)
    np.testing.assert_array_equal(w.numpy(), v.detach().numpy())  # the same memory


def test_the_word_language_models_weight_swap():
    """``w.data = other``: the pattern of tying or loading weights by hand."""
    decoder, encoder = ts.nn.Linear(4, 6), ts.nn.Embedding(6, 4)
    decoder.weight.data = encoder.weight.data
    assert np.shares_memory(decoder.weight.numpy(), encoder.weight.numpy())
    x = ts.randn(2, 4)
    np.testing.assert_allclose(decoder(x).numpy(),
                               x.numpy() @ encoder.weight.numpy().T + decoder.bias.numpy(),
                               rtol=1e-6)


def test_assigning_data_refuses_what_torch_refuses():
    w, v = ts.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    for value in ([1.0, 2.0], np.zeros(3)):
        with pytest.raises(TypeError, match=r"data must be set to a Tensor, got .*ts.tensor"):
            w.data = value
        with pytest.raises(TypeError):
            v.data = value
    with pytest.raises(RuntimeError, match="floating point"):
        w.data = ts.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="floating point"):
        v.data = torch.tensor([1, 2, 3])
    plain = ts.ones(3)
    plain.data = ts.tensor([1, 2, 3])  # no gradient: any dtype, as in torch
    assert plain.numpy().dtype == np.int64 and plain.tolist() == [1, 2, 3]


def test_the_old_tutorials_add_alpha_first_order_works_with_torchs_warning():
    """``p.data.add_(-lr, p.grad.data)`` (old PyTorch tutorials): torch 2.13 still takes it, warning."""
    p = ts.nn.Parameter(ts.tensor([1.0, 2.0]))
    (p * p).sum().backward()
    with pytest.warns(UserWarning, match=r"This overload of add_ is deprecated"):
        p.data.add_(-0.5, p.grad.data)
    assert p.tolist() == [0.0, 0.0]
    with pytest.warns(UserWarning, match=r"This overload of sub_ is deprecated"):
        p.data.sub_(2, ts.tensor([1.0, -1.0]))
    assert p.tolist() == [-2.0, 2.0]
