"""The benchmark workloads, each written four ways.

Every implementation is a class with the same three methods:

- ``__init__(cfg, state)``: build the model from ``state`` (numpy arrays under PyTorch's names:
  ``embed.weight`` (W2-W4 only), ``rnn.weight_ih_l0``, ``rnn.weight_hh_l0``, ``rnn.bias_ih_l0``,
  ``rnn.bias_hh_l0``, ``fc.weight``, ``fc.bias``) and its optimiser;
- ``loss_and_grads(x, y)``: forward + backward on one batch, returns ``(loss, {name: grad})``
  (no optimiser step; used by the correctness check);
- ``step(x, y)``: one full training step (forward over the sequence, cross-entropy over every step,
  full BPTT, clipping for W1, optimiser update).

``x`` and ``y`` are int64 arrays ``(T, B)`` (sequence first). The hidden state starts at zero on
every step. The loss is the mean cross-entropy over all ``T*B`` positions.
"""
import numpy as np
import torch
import torch.nn.functional as TF

import tinyseq as ts

WORKLOADS = {
    # name: cell, V, embedding (None = one-hot input), H, B, T, optimiser, lr, clip
    "W1": dict(cell="RNN", V=65, E=None, H=100, B=1, T=25, opt="adagrad", lr=0.1, clip=5.0),
    "W2": dict(cell="LSTM", V=65, E=64, H=256, B=32, T=64, opt="adam", lr=2e-3, clip=None),
    "W3": dict(cell="LSTM", V=65, E=128, H=512, B=64, T=64, opt="adam", lr=2e-3, clip=None),
    "W4": dict(cell="GRU", V=65, E=64, H=256, B=32, T=64, opt="adam", lr=2e-3, clip=None),
}
# S1: sample characters one at a time from the W2 model under no_grad (inverse-CDF draws from
# shared uniforms, so every implementation must produce the same text)
WORKLOADS["S1"] = dict(WORKLOADS["W2"], sample=2000)
DESCRIPTION = {"W1": "min-char-rnn", "W2": "lstm-medium", "W3": "lstm-large", "W4": "gru-medium",
               "S1": "sampling"}
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def initial_state(cfg, seed=0):
    """The reference weights: a freshly initialised tinyseq model's state_dict (numpy arrays)."""
    ts.manual_seed(seed)
    model = TinyseqModel(cfg)
    return {k: np.array(v.data if hasattr(v, "data") else v, dtype=np.float32)
            for k, v in model.state_dict().items()}


def uniforms(n, seed=2):
    return np.random.default_rng(seed).random(n)


def draw(probs, u):
    """Inverse-CDF sample from a probability vector (numpy) with the uniform ``u``."""
    return min(int(np.searchsorted(np.cumsum(probs, dtype=np.float64), u * probs.sum())), len(probs) - 1)


def batches(cfg, n, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, cfg["V"], (cfg["T"], cfg["B"])),
             rng.integers(0, cfg["V"], (cfg["T"], cfg["B"]))) for _ in range(n)]


# ---- (a) tinyseq, public API only ---------------------------------------------------------------
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


# ---- (b) and (c): PyTorch, fused nn.RNN/LSTM/GRU or the same cell composed from ops ---------------
class ComposedCell(torch.nn.Module):
    """PyTorch's cell equations from elementary ops, unrolled in a Python loop (seq first)."""

    def __init__(self, cell, I, H):
        super().__init__()
        self.cell, self.H, n = cell, H, GATES[cell] * H
        self.weight_ih_l0 = torch.nn.Parameter(torch.empty(n, I))
        self.weight_hh_l0 = torch.nn.Parameter(torch.empty(n, H))
        self.bias_ih_l0 = torch.nn.Parameter(torch.empty(n))
        self.bias_hh_l0 = torch.nn.Parameter(torch.empty(n))

    def forward(self, x, state=None):
        T, B, _ = x.shape
        xp = TF.linear(x, self.weight_ih_l0, self.bias_ih_l0)  # all steps in one matmul
        if state is None:
            h, c = x.new_zeros(B, self.H), x.new_zeros(B, self.H)
        else:
            h, c = state
        outs = []
        for xt in xp.unbind(0):
            hp = TF.linear(h, self.weight_hh_l0, self.bias_hh_l0)
            if self.cell == "RNN":
                h = torch.tanh(xt + hp)
            elif self.cell == "LSTM":
                i, f, g, o = (xt + hp).chunk(4, 1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
            else:  # GRU, PyTorch's reset-after form
                i_r, i_z, i_n = xt.chunk(3, 1)
                h_r, h_z, h_n = hp.chunk(3, 1)
                r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
                n = torch.tanh(i_n + r * h_n)
                h = (1 - z) * n + z * h
            outs.append(h)
        return torch.stack(outs), (h, c)


class TorchModel(torch.nn.Module):
    def __init__(self, cfg, fused):
        super().__init__()
        self.V, I = cfg["V"], cfg["E"] or cfg["V"]
        if cfg["E"]:
            self.embed = torch.nn.Embedding(cfg["V"], cfg["E"])
        self.rnn = (getattr(torch.nn, cfg["cell"])(I, cfg["H"]) if fused
                    else ComposedCell(cfg["cell"], I, cfg["H"]))
        self.fc = torch.nn.Linear(cfg["H"], cfg["V"])
        self.one_hot = not cfg["E"]

    def forward(self, x):
        inp = TF.one_hot(x, self.V).float() if self.one_hot else self.embed(x)
        out, _ = self.rnn(inp)
        return self.fc(out)


class Torch:
    name, fused = "torch-fused", True

    def __init__(self, cfg, state):
        self.cfg, self.model = cfg, TorchModel(cfg, self.fused)
        self.model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
        params = list(self.model.parameters())
        self.opt = (torch.optim.Adagrad(params, lr=cfg["lr"]) if cfg["opt"] == "adagrad"
                    else torch.optim.Adam(params, lr=cfg["lr"]))

    def _loss(self, x, y):
        logits = self.model(torch.from_numpy(x))
        return TF.cross_entropy(logits.reshape(-1, self.cfg["V"]), torch.from_numpy(y.reshape(-1)))

    def loss_and_grads(self, x, y):
        self.model.zero_grad()
        loss = self._loss(x, y)
        loss.backward()
        return loss.item(), {k: p.grad.numpy().copy() for k, p in self.model.named_parameters()}

    def step(self, x, y):
        self.opt.zero_grad()
        loss = self._loss(x, y)
        loss.backward()
        if self.cfg["clip"]:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg["clip"])
        self.opt.step()
        return loss

    def sample(self, us, start=0):
        m, idx, state, out = self.model, start, None, []
        with torch.no_grad():
            for u in us:
                x = torch.tensor([[idx]])
                inp = TF.one_hot(x, m.V).float() if m.one_hot else m.embed(x)
                h, state = m.rnn(inp, state)
                probs = torch.softmax(m.fc(h[0, 0]), 0).numpy()
                idx = draw(probs, u)
                out.append(idx)
        return out


class TorchComposed(Torch):
    name, fused = "torch-composed", False


# ---- (d) hand-written numpy forward + BPTT ------------------------------------------------------
def _sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1)  # stable, one ufunc call


class Numpy:
    """No framework: forward storing activations, backward by hand (RNN, LSTM, GRU)."""
    name = "numpy"

    def __init__(self, cfg, state):
        self.cfg = cfg
        self.p = {k: v.copy() for k, v in state.items()}
        self.opt_state = {k: [np.zeros_like(v), np.zeros_like(v)] for k, v in self.p.items()}
        self.t = 0

    def loss_and_grads(self, x, y):
        cfg, p = self.cfg, self.p
        T, B = x.shape
        H, V, N = cfg["H"], cfg["V"], x.size
        W_ih, W_hh, W_fc = p["rnn.weight_ih_l0"], p["rnn.weight_hh_l0"], p["fc.weight"]
        lstm, gru = cfg["cell"] == "LSTM", cfg["cell"] == "GRU"
        # GRU: b_hh stays inside r * (W_hn h + b_hn); the others fold both biases into the input side
        b = p["rnn.bias_ih_l0"] + (0 if gru else p["rnn.bias_hh_l0"])
        # forward: input projection of all steps at once (one-hot input = a column gather)
        if cfg["E"]:
            emb = p["embed.weight"][x.reshape(-1)]                     # (N, E)
            xp = (emb @ W_ih.T + b).reshape(T, B, -1)
        else:
            xp = (W_ih.T[x.reshape(-1)] + b).reshape(T, B, -1)
        hs = np.zeros((T + 1, B, H), np.float32)                       # hs[0] = h0 = 0
        if lstm:
            acts = np.empty((T, B, 4 * H), np.float32)                 # i, f, g, o after nonlinearity
            cs = np.zeros((T + 1, B, H), np.float32)
            tcs = np.empty((T, B, H), np.float32)
        if gru:
            acts = np.empty((T, B, 3 * H), np.float32)                 # r, z, n
            hns = np.empty((T, B, H), np.float32)                      # W_hn h + b_hn
        for t in range(T):
            if gru:
                hp = hs[t] @ W_hh.T + p["rnn.bias_hh_l0"]
                a, x_t = acts[t], xp[t]
                a[:, :2 * H] = _sigmoid(x_t[:, :2 * H] + hp[:, :2 * H])
                hns[t] = hp[:, 2 * H:]
                a[:, 2 * H:] = np.tanh(x_t[:, 2 * H:] + a[:, :H] * hns[t])
                z, n = a[:, H:2 * H], a[:, 2 * H:]
                hs[t + 1] = n + z * (hs[t] - n)
                continue
            a = xp[t] + hs[t] @ W_hh.T
            if lstm:
                a[:, :2 * H] = _sigmoid(a[:, :2 * H])
                a[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])
                a[:, 3 * H:] = _sigmoid(a[:, 3 * H:])
                acts[t] = a
                cs[t + 1] = a[:, H:2 * H] * cs[t] + a[:, :H] * a[:, 2 * H:3 * H]
                tcs[t] = np.tanh(cs[t + 1])
                hs[t + 1] = a[:, 3 * H:] * tcs[t]
            else:
                hs[t + 1] = np.tanh(a)
        hflat = hs[1:].reshape(N, H)
        logits = hflat @ W_fc.T + p["fc.bias"]
        logits -= logits.max(1, keepdims=True)
        e = np.exp(logits)
        probs = e / e.sum(1, keepdims=True)
        rows = np.arange(N)
        loss = -np.log(probs[rows, y.reshape(-1)]).mean()
        # backward
        dlogits = probs
        dlogits[rows, y.reshape(-1)] -= 1
        dlogits /= N
        g = {"fc.weight": dlogits.T @ hflat, "fc.bias": dlogits.sum(0)}
        dhs = (dlogits @ W_fc).reshape(T, B, H)
        dpre = np.empty_like(xp)                                        # d(gate pre-activations)
        if gru:
            dhp = np.empty_like(xp)                                     # d(W_hh h + b_hh)
        dh_next = np.zeros((B, H), np.float32)
        dc_next = np.zeros((B, H), np.float32)
        for t in range(T - 1, -1, -1):
            dh = dhs[t] + dh_next
            if gru:
                a = acts[t]
                r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
                dan = dh * (1 - z) * (1 - n * n)
                d, e = dpre[t], dhp[t]
                d[:, :H] = e[:, :H] = dan * hns[t] * r * (1 - r)
                d[:, H:2 * H] = e[:, H:2 * H] = dh * (hs[t] - n) * z * (1 - z)
                d[:, 2 * H:] = dan
                e[:, 2 * H:] = dan * r
                dh_next = dh * z + e @ W_hh
                continue
            if lstm:
                a = acts[t]
                i, f, gg, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
                dc = dh * o * (1 - tcs[t] ** 2) + dc_next
                d = dpre[t]
                d[:, :H] = dc * gg * i * (1 - i)
                d[:, H:2 * H] = dc * cs[t] * f * (1 - f)
                d[:, 2 * H:3 * H] = dc * i * (1 - gg ** 2)
                d[:, 3 * H:] = dh * tcs[t] * o * (1 - o)
                dc_next = dc * f
            else:
                dpre[t] = dh * (1 - hs[t + 1] ** 2)
            dh_next = dpre[t] @ W_hh
        dflat = dpre.reshape(N, -1)
        dhflat = dhp.reshape(N, -1) if gru else dflat
        g["rnn.weight_hh_l0"] = dhflat.T @ hs[:-1].reshape(N, H)
        g["rnn.bias_ih_l0"] = dflat.sum(0)
        g["rnn.bias_hh_l0"] = dhflat.sum(0) if gru else g["rnn.bias_ih_l0"].copy()
        if cfg["E"]:
            g["rnn.weight_ih_l0"] = dflat.T @ emb
            demb = dflat @ W_ih
            g["embed.weight"] = np.zeros_like(p["embed.weight"])
            np.add.at(g["embed.weight"], x.reshape(-1), demb)
        else:
            g["rnn.weight_ih_l0"] = np.zeros_like(W_ih)
            np.add.at(g["rnn.weight_ih_l0"].T, x.reshape(-1), dflat)
        return float(loss), g

    def sample(self, us, start=0):
        p, H, lstm = self.p, self.cfg["H"], self.cfg["cell"] == "LSTM"
        W_hh, b = p["rnn.weight_hh_l0"], p["rnn.bias_ih_l0"] + p["rnn.bias_hh_l0"]
        # the input's contribution to the gates, per character (embedding row or one-hot column)
        table = (p["embed.weight"] @ p["rnn.weight_ih_l0"].T if self.cfg["E"]
                 else p["rnn.weight_ih_l0"].T) + b
        h, c = np.zeros(H, np.float32), np.zeros(H, np.float32)
        idx, out = start, []
        for u in us:
            a = table[idx] + W_hh @ h
            if lstm:
                i, f, o = _sigmoid(a[:H]), _sigmoid(a[H:2 * H]), _sigmoid(a[3 * H:])
                c = f * c + i * np.tanh(a[2 * H:3 * H])
                h = o * np.tanh(c)
            else:
                h = np.tanh(a)
            logits = p["fc.weight"] @ h + p["fc.bias"]
            e = np.exp(logits - logits.max())
            idx = draw(e / e.sum(), u)
            out.append(idx)
        return out

    def step(self, x, y):
        loss, g = self.loss_and_grads(x, y)
        cfg = self.cfg
        if cfg["clip"]:
            total = np.sqrt(sum(float((v.astype(np.float64) ** 2).sum()) for v in g.values()))
            coef = cfg["clip"] / (total + 1e-6)
            if coef < 1:
                for v in g.values():
                    v *= np.float32(coef)
        self.t += 1
        lr = cfg["lr"]
        for k, p in self.p.items():
            gk, (m, v) = g[k], self.opt_state[k]
            if cfg["opt"] == "adagrad":            # as torch.optim.Adagrad, eps=1e-10
                m += gk * gk
                p -= lr * gk / (np.sqrt(m) + 1e-10)
            else:                                  # as torch.optim.Adam, betas (0.9, 0.999)
                m *= 0.9
                m += 0.1 * gk
                v *= 0.999
                v += 0.001 * gk * gk
                bc1, bc2 = 1 - 0.9 ** self.t, 1 - 0.999 ** self.t
                p -= (lr / bc1) * m / (np.sqrt(v / bc2) + 1e-8)
        return loss


IMPLEMENTATIONS = {c.name: c for c in (Tinyseq, Torch, TorchComposed, Numpy)}
