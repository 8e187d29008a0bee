"""Second derivatives and forward mode through whole sequence models, against PyTorch: a
Hessian-vector product of a language model's loss (embedding, a 2-layer RNN/GRU/LSTM, a linear
head, cross-entropy) with respect to every parameter, and the tangent of a recurrent layer's
outputs in forward mode."""
import numpy as np
import pytest

import tinyseq as ts
import tinyseq.autograd.forward_ad as fwAD
from tests.torch_compare import torch

pytestmark = pytest.mark.skipif(torch is None, reason="PyTorch is the reference")
V, E, H, T, B = 7, 3, 4, 5, 2


class LM:
    """The same small language model in tinyseq and in torch (float64, the same weights)."""

    def __init__(self, lib, cell, state=None):
        nn = lib.nn
        self.lib, self.embed = lib, nn.Embedding(V, E, dtype=lib.float64)
        self.rnn = getattr(nn, cell)(E, H, num_layers=2, dtype=lib.float64)
        self.head = nn.Linear(H, V, dtype=lib.float64)
        self.modules = {"embed": self.embed, "rnn": self.rnn, "head": self.head}
        if state is not None:
            for name, m in self.modules.items():
                m.load_state_dict({k: lib.tensor(v) for k, v in state[name].items()})

    def state(self):
        return {name: {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}
                for name, m in self.modules.items()}

    def parameters(self):
        return [p for m in self.modules.values() for p in m.parameters()]

    def loss(self, ids, targets):
        out, _ = self.rnn(self.embed(ids))
        logits = self.head(out).reshape(-1, V)
        return self.lib.nn.functional.cross_entropy(logits, targets.reshape(-1))


def hvp(model, ids, targets, vs):
    params = model.parameters()
    grads = model.lib.autograd.grad(model.loss(ids, targets), params, create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vs))
    return [h.detach().numpy() for h in model.lib.autograd.grad(dot, params)]


@pytest.mark.parametrize("cell", ["RNN", "GRU", "LSTM"])
def test_hessian_vector_product_of_a_language_model_matches_torch(cell):
    ts.manual_seed(0)
    mine = LM(ts, cell)
    theirs = LM(torch, cell, mine.state())
    rng = np.random.default_rng(1)
    ids, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    vs = [rng.standard_normal(p.shape) for p in mine.parameters()]
    got = hvp(mine, ts.tensor(ids), ts.tensor(targets), [ts.tensor(v, dtype=ts.float64) for v in vs])
    want = hvp(theirs, torch.tensor(ids), torch.tensor(targets), [torch.tensor(v) for v in vs])
    assert len(got) == len(want) == len(vs)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("cell", ["RNN", "GRU", "LSTM"])
def test_forward_mode_through_a_recurrent_layer_matches_torch(cell):
    ts.manual_seed(2)
    layer = getattr(ts.nn, cell)(E, H, num_layers=2, dtype=ts.float64)
    ref = getattr(torch.nn, cell)(E, H, num_layers=2, dtype=torch.float64)
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in layer.state_dict().items()})
    rng = np.random.default_rng(3)
    x, v = rng.standard_normal((T, B, E)), rng.standard_normal((T, B, E))
    with fwAD.dual_level():
        out, _ = layer(fwAD.make_dual(ts.tensor(x, dtype=ts.float64), ts.tensor(v, dtype=ts.float64)))
        got = fwAD.unpack_dual(out).tangent.numpy()
    with torch.autograd.forward_ad.dual_level():
        fw = torch.autograd.forward_ad
        out, _ = ref(fw.make_dual(torch.tensor(x), torch.tensor(v)))
        want = fw.unpack_dual(out).tangent.detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_a_frequency_scaled_embedding_gradient_refuses_to_be_differentiated():
    """scale_grad_by_freq divides each row's gradient by its id's count: a scaled gradient with
    no derivative of its own. First order and forward mode work; create_graph refuses in one line."""
    ids = ts.tensor([[0, 2, 0], [1, 0, 2]])
    w = ts.tensor(np.arange(12.0).reshape(4, 3), dtype=ts.float64, requires_grad=True)
    out = ts.nn.functional.embedding(ids, w, scale_grad_by_freq=True)
    (g,) = ts.autograd.grad(out.sum(), w, retain_graph=True)
    np.testing.assert_array_equal(g.numpy()[:, 0], [1.0, 1.0, 1.0, 0.0])  # 3/3, 1/1, 2/2, none
    with pytest.raises(RuntimeError, match=r"scale_grad_by_freq=True\): each row's gradient"):
        ts.autograd.grad(out.sum(), w, create_graph=True)
    with fwAD.dual_level():
        dual = fwAD.make_dual(w.detach(), ts.ones(4, 3, dtype=ts.float64))
        tangent = fwAD.unpack_dual(ts.nn.functional.embedding(ids, dual, scale_grad_by_freq=True))
        np.testing.assert_array_equal(tangent.tangent.numpy(), np.ones((2, 3, 3)))
