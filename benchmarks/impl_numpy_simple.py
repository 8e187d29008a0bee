"""numpy-simple: the benchmark's first hand-written numpy BPTT, row layout (B, G*H), no buffers reused.

Forward storing activations, backward by hand for RNN, LSTM and GRU, and the same optimiser update
as PyTorch's Adam / Adagrad. One-hot input (W1) is a column gather, not a matmul. The practical
floor for numpy. Imports numpy only. The interface is described in ``workloads.py``.
"""
import numpy as np

from workloads import draw


def _sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1)  # stable, one ufunc call


class Numpy:
    """No framework: forward storing activations, backward by hand (RNN, LSTM, GRU)."""
    name = "numpy-simple"

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
