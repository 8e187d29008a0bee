"""The benchmark's hand-written numpy BPTT (benchmarks/impl_numpy.py) computes what the model
computes: loss and every gradient as tinyseq's and PyTorch's on small configurations (RNN, LSTM, GRU;
one-hot and embedding input), the same optimiser steps, the same sampled text, and buffers that are
reused from call to call without leaking one batch into the next."""
import sys
from pathlib import Path

import numpy as np
import pytest

import tinyseq as ts

BENCHMARKS = str(Path(__file__).resolve().parents[2] / "benchmarks")
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)

from impl_numpy import Numpy
from workloads import GATES, draw

V, H, T, B = 7, 6, 5, 3
CASES = [(cell, E) for cell in ("RNN", "LSTM", "GRU") for E in (None, 4)]
IDS = [f"{cell}-{'embedding' if E else 'one-hot'}" for cell, E in CASES]


def config(cell, E, opt="adam", clip=None, lr=0.05):
    return {"cell": cell, "V": V, "E": E, "H": H, "B": B, "T": T, "opt": opt, "lr": lr, "clip": clip}


def random_state(cfg, seed=0):
    """Weights under PyTorch's names, large enough that the gates are far from linear."""
    rng = np.random.default_rng(seed)
    G, I = GATES[cfg["cell"]] * H, cfg["E"] or V
    shapes = {"rnn.weight_ih_l0": (G, I), "rnn.weight_hh_l0": (G, H), "rnn.bias_ih_l0": (G,),
              "rnn.bias_hh_l0": (G,), "fc.weight": (V, H), "fc.bias": (V,)}
    if cfg["E"]:
        shapes = {"embed.weight": (V, cfg["E"]), **shapes}
    return {k: rng.normal(0, 0.7, s).astype(np.float32) for k, s in shapes.items()}


def batch(seed=1, T=T, B=B):
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))


class TinyseqModel(ts.nn.Module):
    """The benchmark's model (embedding or one-hot, one recurrent layer, linear head) in tinyseq."""

    def __init__(self, cfg):
        super().__init__()
        if cfg["E"]:
            self.embed = ts.nn.Embedding(V, cfg["E"])
        self.rnn = getattr(ts.nn, cfg["cell"])(cfg["E"] or V, H)
        self.fc = ts.nn.Linear(H, V)
        self.one_hot = not cfg["E"]

    def forward(self, x):
        inp = ts.nn.functional.one_hot(x, V).float() if self.one_hot else self.embed(x)
        return self.fc(self.rnn(inp)[0])


def tinyseq_model(cfg, state):
    model = TinyseqModel(cfg)
    model.load_state_dict(state)
    return model


def tinyseq_loss(model, x, y):
    logits = model(ts.tensor(x))
    return ts.nn.functional.cross_entropy(logits.reshape(-1, V), ts.tensor(y.reshape(-1)))


def assert_grads_close(grads, ref):
    assert grads.keys() == ref.keys()
    for k in ref:
        np.testing.assert_allclose(grads[k], ref[k], rtol=1e-4, atol=1e-6, err_msg=k)


@pytest.mark.parametrize("cell,E", CASES, ids=IDS)
def test_loss_and_grads_match_tinyseq(cell, E):
    cfg = config(cell, E)
    state, (x, y) = random_state(cfg), batch()
    model = tinyseq_model(cfg, state)
    loss = tinyseq_loss(model, x, y)
    loss.backward()
    ref = {k: p.grad.numpy() for k, p in model.named_parameters()}
    got_loss, grads = Numpy(cfg, state).loss_and_grads(x, y)
    np.testing.assert_allclose(got_loss, loss.item(), rtol=1e-5)
    assert_grads_close(grads, ref)
    assert all(np.abs(g).max() > 1e-3 for g in grads.values())  # every gradient is really compared


@pytest.mark.parametrize("cell,E", CASES, ids=IDS)
def test_loss_and_grads_match_pytorch(cell, E):
    torch = pytest.importorskip("torch", reason="PyTorch is the reference")
    cfg = config(cell, E)
    state, (x, y) = random_state(cfg), batch()
    modules = {"rnn": getattr(torch.nn, cell)(E or V, H), "fc": torch.nn.Linear(H, V)}
    if E:
        modules["embed"] = torch.nn.Embedding(V, E)
    model = torch.nn.ModuleDict(modules)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    xt = torch.from_numpy(x)
    inp = model["embed"](xt) if E else torch.nn.functional.one_hot(xt, V).float()
    logits = model["fc"](model["rnn"](inp)[0])
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.from_numpy(y.reshape(-1)))
    loss.backward()
    got_loss, grads = Numpy(cfg, state).loss_and_grads(x, y)
    np.testing.assert_allclose(got_loss, loss.item(), rtol=1e-5)
    assert_grads_close(grads, {k: p.grad.numpy() for k, p in model.named_parameters()})


@pytest.mark.parametrize("cell,E,opt,clip", [("RNN", None, "adagrad", 0.5), ("LSTM", 4, "adam", None),
                                             ("GRU", 4, "adam", None)])
def test_training_steps_match_tinyseq_optimisers(cell, E, opt, clip):
    """Three steps: the same parameters after Adam, or after clipping (it bites at 0.5) and Adagrad."""
    cfg = config(cell, E, opt=opt, clip=clip)
    state = random_state(cfg)
    ours, model = Numpy(cfg, state), tinyseq_model(cfg, state)
    optimiser = (ts.optim.Adagrad if opt == "adagrad" else ts.optim.Adam)(model.parameters(), lr=cfg["lr"])
    for seed in (1, 2, 3):
        x, y = batch(seed)
        optimiser.zero_grad()
        loss = tinyseq_loss(model, x, y)
        loss.backward()
        if clip:
            assert ts.nn.utils.clip_grad_norm_(model.parameters(), clip).item() > clip
        optimiser.step()
        np.testing.assert_allclose(ours.step(x, y), loss.item(), rtol=1e-5)
    for k, p in model.named_parameters():
        assert not np.allclose(p.detach().numpy(), state[k])  # the steps moved every parameter
        np.testing.assert_allclose(ours.p[k], p.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=k)


@pytest.mark.parametrize("cell,E", CASES, ids=IDS)
def test_sampling_matches_tinyseq(cell, E):
    """The same 40 characters from the same uniforms (inverse CDF), one at a time from a zero state."""
    cfg = config(cell, E)
    state = random_state(cfg)
    model, us = tinyseq_model(cfg, state), np.random.default_rng(5).random(40)
    idx, expected, hidden = 0, [], None
    with ts.no_grad():
        for u in us:
            x = ts.tensor([[idx]])
            inp = ts.nn.functional.one_hot(x, V).float() if not E else model.embed(x)
            out, hidden = model.rnn(inp, hidden)
            idx = draw(model.fc(out[0, 0]).softmax(0).numpy(), u)
            expected.append(idx)
    assert len(set(expected)) > 2
    assert Numpy(cfg, state).sample(us) == expected


def test_buffers_are_reused_without_leaking_between_calls():
    """A second batch, then another (T, B), on one instance: as on a fresh instance each time."""
    cfg = config("LSTM", 4)
    state = random_state(cfg)
    ours = Numpy(cfg, state)
    ours.loss_and_grads(*batch(1))
    for x, y in (batch(2), batch(3, T=4, B=2), batch(2)):
        loss, grads = ours.loss_and_grads(x, y)
        fresh_loss, fresh = Numpy(cfg, state).loss_and_grads(x, y)
        assert loss == fresh_loss
        for k in fresh:
            np.testing.assert_array_equal(grads[k], fresh[k])
