"""(b) torch-fused and (c) torch-composed: the benchmark model in PyTorch.

``Torch`` uses PyTorch's fused ``nn.RNN/LSTM/GRU`` (oneDNN/MKL kernels); ``TorchComposed`` the same
cell from elementary ops in a Python loop (``ComposedCell``), tinyseq's like-for-like peer. Imports
torch and numpy, never tinyseq: the weights arrive as numpy arrays. The interface is described in
``workloads.py``.
"""
import torch
import torch.nn.functional as TF

from workloads import GATES, draw


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
