"""(d) numpy: the benchmark model with no framework, forward and backward (BPTT) written by hand, as
fast as we know how to write it in numpy. Imports numpy only; the interface is in ``workloads.py``.

What makes it fast (issue 17; 1.2-1.4x the straightforward row-layout version it replaced, see
benchmarks/README.md):

- column layout: a step's state is ``(H, B)``, so a step's gates are one contiguous ``(G*H, B)``
  array with every gate a contiguous block of rows, and the recurrence is one ``W_hh @ a⟨t-1⟩``
  per step (``impl_numpy_cells.py``);
- the input side of every gate for all T steps in one (batched) product before the loop;
- every weight gradient as ONE product over all ``N = T*B`` columns, not T thin ones: the
  per-step blocks are laid side by side once (one transposing copy) after the loop;
- σ(x) as ``0.5 tanh(x/2) + 0.5`` in place; the activations' derivatives from their outputs;
- every buffer preallocated (``Workspace``), ``out=`` and in-place operators in the loops;
- parameters, gradients and optimiser state each one flat float32 buffer (views per name), so
  clipping and the Adam / Adagrad update are a few whole-buffer passes.

The loss (mean cross-entropy over the ``T*B`` positions), clipping and updates are PyTorch's.
"""
import math

import numpy as np
from impl_numpy_cells import (
    Workspace,
    gru_backward,
    gru_forward,
    lstm_backward,
    lstm_forward,
    rnn_backward,
    rnn_forward,
)
from workloads import GATES, draw


class Numpy:
    """No framework: forward storing activations, backward by hand (RNN, LSTM, GRU), column layout."""
    name = "numpy"

    def __init__(self, cfg, state):
        self.cfg = cfg
        self.H, self.G = cfg["H"], GATES[cfg["cell"]] * cfg["H"]
        sizes = [v.size for v in state.values()]
        self.flat = np.concatenate([v.ravel() for v in state.values()]).astype(np.float32)
        self.gflat, self.m, self.v, self.scratch = (np.zeros_like(self.flat) for _ in range(4))
        self.p, self.g = self._views(self.flat, state, sizes), self._views(self.gflat, state, sizes)
        self.t, self.ws = 0, None

    @staticmethod
    def _views(flat, state, sizes):
        """{name: view of ``flat`` with that parameter's shape}, in ``state``'s order."""
        ends = np.cumsum(sizes)
        return {k: flat[e - n:e].reshape(v.shape) for (k, v), n, e in zip(state.items(), sizes, ends)}

    def _workspace(self, T, B):
        cfg = self.cfg
        if self.ws is None or self.ws.Z.shape[::2] != (T, B):
            self.ws = Workspace(cfg["cell"], T, B, self.H, GATES[cfg["cell"]], cfg["V"], cfg["E"])
        return self.ws

    def _input_bias(self, B=1):
        """``(G*H, B)``, B equal columns: the biases added on the input side. b_hh joins b_ih
        except, for the GRU, in the c̃ rows, where Γ_r scales W_hn a⟨t-1⟩ + b_hn."""
        p, H = self.p, self.H
        b = p["rnn.bias_ih_l0"] + p["rnn.bias_hh_l0"]
        if self.cfg["cell"] == "GRU":
            b[2 * H:] = p["rnn.bias_ih_l0"][2 * H:]
        return np.repeat(b[:, None], B, axis=1)

    def loss_and_grads(self, x, y):
        """x, y ``(T, B)`` int -> (mean cross-entropy, {name: gradient}), no optimiser step."""
        loss = self._forward_backward(x, y)
        return loss, {k: v.copy() for k, v in self.g.items()}

    def _forward_backward(self, x, y):
        """Loss of one batch; the gradients land in ``self.g`` (views of ``self.gflat``)."""
        cfg, p, g, H, G = self.cfg, self.p, self.g, self.H, self.G
        T, B = x.shape
        N, ws, cell = T * B, self._workspace(T, B), cfg["cell"]
        W_ih, W_hh, W_fc = p["rnn.weight_ih_l0"], p["rnn.weight_hh_l0"], p["fc.weight"]
        ws.onehot.fill(0)
        ws.onehot[x.reshape(-1), np.arange(N)] = 1                  # the tokens, X (V, N)
        # the input side of every gate pre-activation, all T steps in one product
        if cfg["E"]:
            emb = p["embed.weight"][x]                               # x⟨t⟩ rows, (T, B, E)
            np.matmul(W_ih, emb.transpose(0, 2, 1), out=ws.Z)        # W_ih x⟨t⟩, (T, G*H, B)
        else:
            np.copyto(ws.Z, W_ih[:, x].transpose(1, 0, 2))          # W_ih @ one-hot: a gather
        ws.Z += self._input_bias(B)                 # a (G*H, B) block adds 2x faster than a column
        if cell == "GRU":
            gru_forward(ws.Z, W_hh, p["rnn.bias_hh_l0"][2 * H:, None], ws)
        else:
            (lstm_forward if cell == "LSTM" else rnn_forward)(ws.Z, W_hh, ws)
        # the states side by side: hcols[:, t*B + b] = a⟨t⟩ of sequence b (a⟨0⟩ = 0 first)
        np.copyto(ws.hcols.reshape(H, T + 1, B), ws.hs.transpose(1, 0, 2))
        h_out, h_prev = ws.hcols[:, B:], ws.hcols[:, :N]
        loss = _cross_entropy(W_fc, p["fc.bias"], h_out, y.reshape(-1), ws.logits)
        dlogits = ws.logits
        np.matmul(dlogits, h_out.T, out=g["fc.weight"])
        dlogits.sum(1, out=g["fc.bias"])
        np.matmul(W_fc.T, dlogits, out=ws.dhs)                      # dL/da⟨t⟩ from the output layer
        backward = {"RNN": rnn_backward, "LSTM": lstm_backward, "GRU": gru_backward}[cell]
        backward(ws.dhs.reshape(H, T, B), ws.Z, W_hh, ws)
        # the per-step gradients side by side, then each weight gradient is ONE product over N
        np.copyto(ws.dZc.reshape(G, T, B), ws.dZ.transpose(1, 0, 2))
        if cell == "GRU":
            np.copyto(ws.dPc.reshape(G, T, B), ws.dP.transpose(1, 0, 2))
        np.matmul(ws.dPc, h_prev.T, out=g["rnn.weight_hh_l0"])
        ws.dZc.sum(1, out=g["rnn.bias_ih_l0"])
        if cell == "GRU":
            ws.dPc.sum(1, out=g["rnn.bias_hh_l0"])
        else:                                                         # b_ih and b_hh enter alike
            g["rnn.bias_hh_l0"][...] = g["rnn.bias_ih_l0"]
        if cfg["E"]:
            np.matmul(ws.dZc, emb.reshape(N, -1), out=g["rnn.weight_ih_l0"])
            np.matmul(W_ih.T, ws.dZc, out=ws.demb)                   # dL/dx⟨t⟩, (E, N)
            np.matmul(ws.onehot, ws.demb.T, out=g["embed.weight"])   # summed per token
        else:
            np.matmul(ws.dZc, ws.onehot.T, out=g["rnn.weight_ih_l0"])
        return loss

    def step(self, x, y):
        """One training step: forward, BPTT, clipping (W1), Adam or Adagrad as PyTorch's."""
        loss = self._forward_backward(x, y)
        cfg, g, tmp = self.cfg, self.gflat, self.scratch
        if cfg["clip"]:                           # as clip_grad_norm_: one norm over all gradients
            coef = cfg["clip"] / (math.sqrt(float(np.dot(g, g))) + 1e-6)
            if coef < 1:
                g *= np.float32(coef)
        self.t += 1
        lr, m, v, p = cfg["lr"], self.m, self.v, self.flat
        if cfg["opt"] == "adagrad":               # as torch.optim.Adagrad, eps=1e-10
            np.multiply(g, g, out=tmp)
            m += tmp
            np.sqrt(m, out=tmp)
            tmp += 1e-10
            np.divide(g, tmp, out=tmp)
            tmp *= lr
        else:                                     # as torch.optim.Adam, betas (0.9, 0.999)
            m *= 0.9
            np.multiply(g, 0.1, out=tmp)
            m += tmp
            v *= 0.999
            np.multiply(g, g, out=tmp)
            tmp *= 0.001
            v += tmp
            np.sqrt(v, out=tmp)                   # denominator sqrt(v) / sqrt(1 - β2^t) + eps
            tmp *= 1 / math.sqrt(1 - 0.999 ** self.t)
            tmp += 1e-8
            np.divide(m, tmp, out=tmp)
            tmp *= lr / (1 - 0.9 ** self.t)
        p -= tmp
        return loss

    def sample(self, us, start=0):
        """Characters one at a time from a zero state, one per uniform in ``us``. With B = 1 the
        cost is the number of numpy calls, so a step is a few calls on 1-d vectors."""
        p, H, cell = self.p, self.H, self.cfg["cell"]
        W_hh, W_fc, b_fc = p["rnn.weight_hh_l0"], p["fc.weight"], p["fc.bias"]
        b_hn = p["rnn.bias_hh_l0"][2 * H:]
        # the input side of the gates, per character (embedding row or one-hot column)
        table = (p["embed.weight"] @ p["rnn.weight_ih_l0"].T if self.cfg["E"]
                 else p["rnn.weight_ih_l0"].T) + self._input_bias()[:, 0]
        h, c = np.zeros(H, np.float32), np.zeros(H, np.float32)
        idx, out = start, []
        for u in us:
            x, hp = table[idx], W_hh @ h
            if cell == "GRU":
                r, z = np.split(_sigmoid(x[:2 * H] + hp[:2 * H]), 2)    # Γ_r, z = 1 - Γ_u
                c_tilde = np.tanh(x[2 * H:] + r * (hp[2 * H:] + b_hn))
                h = c_tilde + z * (h - c_tilde)                       # Γ_u c̃ + (1 - Γ_u) a⟨t-1⟩
            elif cell == "LSTM":
                a = x + hp
                a[:2 * H] = _sigmoid(a[:2 * H])                       # Γ_u, Γ_f
                a[3 * H:] = _sigmoid(a[3 * H:])                       # Γ_o
                c = a[H:2 * H] * c + a[:H] * np.tanh(a[2 * H:3 * H])  # Γ_f c⟨t-1⟩ + Γ_u c̃⟨t⟩
                h = a[3 * H:] * np.tanh(c)                            # a⟨t⟩ = Γ_o tanh c⟨t⟩
            else:
                h = np.tanh(x + hp)                                   # a⟨t⟩
            logits = W_fc @ h + b_fc
            e = np.exp(logits - logits.max())
            idx = draw(e / e.sum(), u)
            out.append(idx)
        return out


def _sigmoid(x):
    """σ(x) as 0.5 tanh(x/2) + 0.5 (no overflow), on a new array."""
    return 0.5 * np.tanh(0.5 * x) + 0.5


def _cross_entropy(W_fc, b_fc, h_out, y, logits):
    """Mean cross-entropy of ``softmax(W_fc h + b_fc)`` over the N columns of ``h_out`` ``(H, N)``
    against ``y`` ``(N,)``; leaves dloss/dlogits ``(V, N)`` in the buffer ``logits``."""
    N = len(y)
    cols = np.arange(N)
    np.matmul(W_fc, h_out, out=logits)
    logits += b_fc[:, None]
    logits -= logits.max(0)                       # shift each column: exp cannot overflow
    picked = logits[y, cols]
    np.exp(logits, out=logits)
    total = logits.sum(0)
    loss = float(np.mean(np.log(total) - picked))
    logits *= 1 / (total * N)                     # softmax / N
    logits[y, cols] -= 1 / N                      # minus the one-hot targets / N
    return loss
