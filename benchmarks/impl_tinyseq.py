"""(a) tinyseq: the benchmark model and training step through tinyseq's public API, as a user writes it.

``ts.nn.Embedding`` (W1: ``ts.nn.functional.one_hot``), ``ts.nn.RNN/LSTM/GRU``, ``ts.nn.Linear``,
``ts.nn.functional.cross_entropy``, ``ts.optim.Adam/Adagrad``, ``ts.nn.utils.clip_grad_norm_``.
Imports tinyseq and numpy, never torch, and keeps freed memory for the next step as the ``tinyseq``
command does (``tinyseq/app/tuning.py``). ``initial_state`` gives the reference weights that every
implementation starts from. The interface is described in ``workloads.py``.
"""
import math

import numpy as np

import tinyseq as ts
from tinyseq.app import tuning
from tinyseq.utils.checkpoint import checkpoint
from workloads import draw

tuning.keep_freed_memory()  # as the tinyseq command does: import tinyseq alone changes nothing


def initial_state(cfg, seed=0):
    """The reference weights: a freshly initialised tinyseq model's state_dict (numpy arrays)."""
    ts.manual_seed(seed)
    model = TinyseqModel(cfg)
    return {k: np.array(v.data if hasattr(v, "data") else v, dtype=np.float32)
            for k, v in model.state_dict().items()}


class TinyseqModel(ts.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.V = cfg["V"]
        if cfg["E"]:
            self.embed = ts.nn.Embedding(cfg["V"], cfg["E"])
        self.rnn = getattr(ts.nn, cfg["cell"])(cfg["E"] or cfg["V"], cfg["H"])
        self.fc = ts.nn.Linear(cfg["H"], cfg["V"])
        self.one_hot = not cfg["E"]

    def forward(self, x):  # x: int64 tensor (T, B) -> logits (T, B, V)
        inp = ts.nn.functional.one_hot(x, self.V).float() if self.one_hot else self.embed(x)
        out, _ = self.rnn(inp)
        return self.fc(out)


class Tinyseq:
    name = "tinyseq"

    def __init__(self, cfg, state):
        self.cfg, self.model = cfg, TinyseqModel(cfg)
        self.model.load_state_dict(state)
        params = self.model.parameters()
        self.opt = (ts.optim.Adagrad(params, lr=cfg["lr"]) if cfg["opt"] == "adagrad"
                    else ts.optim.Adam(params, lr=cfg["lr"]))

    def _loss(self, x, y):
        logits = self.model(ts.tensor(x))
        return ts.nn.functional.cross_entropy(logits.reshape(-1, self.cfg["V"]),
                                              ts.tensor(y.reshape(-1)))

    def loss_and_grads(self, x, y):
        self.model.zero_grad()
        loss = self._loss(x, y)
        loss.backward()
        return loss.item(), {k: p.grad.numpy() for k, p in self.model.named_parameters()}

    def step(self, x, y):
        self.opt.zero_grad()
        loss = self._loss(x, y)
        loss.backward()
        if self.cfg["clip"]:
            ts.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg["clip"])
        self.opt.step()
        return loss

    def sample(self, us, start=0):
        m, idx, state, out = self.model, start, None, []
        with ts.no_grad():
            for u in us:
                x = ts.tensor([[idx]])
                inp = ts.nn.functional.one_hot(x, m.V).float() if m.one_hot else m.embed(x)
                h, state = m.rnn(inp, state)
                probs = m.fc(h[0, 0]).softmax(0).numpy()
                idx = draw(probs, u)
                out.append(idx)
        return out


class TinyseqCheckpoint(Tinyseq):
    """(a') tinyseq with the recurrent layer recomputed in backward (``ts.utils.checkpoint``), in
    segments of √T steps, as docs/nn.md's "Recomputing activations" writes it: only the segments'
    inputs and states are kept; each segment runs again when backward reaches it."""

    name = "tinyseq-checkpoint"

    def __init__(self, cfg, state):
        if cfg.get("sample"):  # (sampling runs under no_grad: nothing is kept, nothing to redo)
            raise NotImplementedError("tinyseq-checkpoint: sampling keeps no activations")
        super().__init__(cfg, state)
        self.model.forward = self._forward  # (the same module and weights; another forward)

    def _forward(self, x):
        m = self.model
        inp = ts.nn.functional.one_hot(x, m.V).float() if m.one_hot else m.embed(x)
        segment, outputs, state = max(1, math.isqrt(len(inp))), [], None
        for chunk in inp.split(segment):
            out, state = checkpoint(m.rnn, chunk, state, use_reentrant=False)
            outputs.append(out)
        return m.fc(ts.cat(outputs))
