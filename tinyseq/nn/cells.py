"""Recurrent cells, each its equations from the course notes in a few lines of ops.

Shapes: x ``(B, input_size)``, h and c ``(B, hidden_size)``. One fused matmul per input computes all
gates (the notes' ``W_a = [W_aa | W_ax]`` split as ``weight_hh | weight_ih``); gate order as in
PyTorch (GRU r, z, n; LSTM i, f, g, o). Backpropagation through time is the engine's job. Gates and
states carry the course's names (``.named("Γ_f")``), which ``ts.viz.draw_graph`` prints.
"""
import math

import numpy as np

from ..autograd import rng
from ..autograd.factories import zeros
from ..autograd.errors import ShapeError
from ..autograd.tensor import Tensor
from . import _checks, functional as F
from .module import Module, Parameter


DEFAULTS = {"nonlinearity": "tanh", "reset_after": True, "peephole": False}


class _Cell(Module):
    """``weight_ih`` ``(gates·H, I)``, ``weight_hh`` ``(gates·H, H)``, biases ``(gates·H,)``,
    all ~ U(-1/√H, 1/√H) as PyTorch initialises them."""

    gates = 1

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        name = type(self).__name__
        input_size = _checks.size(name, "input_size", input_size)
        hidden_size = _checks.size(name, "hidden_size", hidden_size, 1)
        bias = bool(bias)  # (any truthy value, as in torch)
        _checks.affordable(name, self.gates * hidden_size * (input_size + hidden_size + 2))
        self.input_size, self.hidden_size = input_size, hidden_size
        n = self.gates * hidden_size
        self.weight_ih = self._uniform(n, input_size)
        self.weight_hh = self._uniform(n, hidden_size)
        self.bias_ih = self._uniform(n) if bias else None
        self.bias_hh = self._uniform(n) if bias else None

    def _uniform(self, *shape):
        k = 1 / math.sqrt(self.hidden_size)
        return Parameter(rng.generator().uniform(-k, k, shape).astype(np.float32))

    def _zeros(self, x):
        return zeros(x.shape[0], self.hidden_size, dtype=x.data.dtype)

    def project(self, x):
        """What the gates get from outside the state, ``W_ih x + b_ih + b_hh`` ``(*, gates·H)``: a
        layer computes it for all time steps in one matmul, then calls ``step`` for each, which
        adds ``W_hh h`` in one ``linear``."""
        bias = None if self.bias_ih is None else self.bias_ih + self.bias_hh
        return F.linear(x, self.weight_ih, bias)

    def forward(self, x, state=None):
        """One step: x ``(B, input_size)`` and the state (None: zeros) -> the new state."""
        self._check_input(x)
        if state is not None:
            self._check_state(state, x)
        return self.step(self.project(x), state)

    def _check_input(self, x):
        name = type(self).__name__
        _checks.tensor(name, "input", x)
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ShapeError(f"{name}: expected an input (B, input_size) = (B, {self.input_size})"
                             f", got shape {x.shape}")
        F._float_like(name, x, self.weight_ih)

    def _check_state(self, state, x):
        _check_hidden(type(self).__name__, "hx", state, (x.shape[0], self.hidden_size))

    def extra_repr(self):
        options = [f"{self.input_size}, {self.hidden_size}"]
        options += ["bias=False"] * (self.bias_ih is None)
        options += [f"{k}={v!r}" for k, v in self.options().items() if v != DEFAULTS[k]]
        return ", ".join(options)

    def options(self):
        """The cell's own options (``nonlinearity``, ``reset_after``, ``peephole``)."""
        return {k: getattr(self, k) for k in DEFAULTS if k in self.__dict__}


class RNNCell(_Cell):
    """a⟨t⟩ = g(W_ax x⟨t⟩ + b_ih + W_aa a⟨t-1⟩ + b_hh), g = tanh or relu."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def step(self, gi, h=None):
        h = self._zeros(gi) if h is None else h
        pre = F.linear(h, self.weight_hh, gi)  # W_aa a⟨t-1⟩ + (W_ax x⟨t⟩ + b_a)
        return (pre.tanh() if self.nonlinearity == "tanh" else pre.relu()).named("a⟨t⟩")


class GRUCell(_Cell):
    """The GRU; ``h' = (1 - z) * n + z * h`` (the course's Γ_u is ``1 - z``, c̃ is ``n``).

    ``reset_after=True`` (PyTorch): ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``;
    ``reset_after=False`` (the notes, Cho et al. 2014): ``n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)``.
    """

    gates = 3

    def __init__(self, input_size, hidden_size, bias=True, reset_after=True):
        super().__init__(input_size, hidden_size, bias)
        self.reset_after = _checks.flag("GRUCell", "reset_after", reset_after)

    def project(self, x):
        """``W_ih x + b_ih``: ``b_hh`` stays in the step, where ``r`` multiplies its ``n`` part."""
        return F.linear(x, self.weight_ih, self.bias_ih)

    def step(self, gi, h=None):
        h = self._zeros(gi) if h is None else h
        H = self.hidden_size
        i_rz, i_n = gi.split([2 * H, H], 1)
        if self.reset_after:
            h_rz, h_n = F.linear(h, self.weight_hh, self.bias_hh).split([2 * H, H], 1)
        else:
            w_rz, w_n = self.weight_hh.split([2 * H, H], 0)
            b_rz = b_n = None
            if self.bias_hh is not None:
                b_rz, b_n = self.bias_hh.split([2 * H, H], 0)
            h_rz = F.linear(h, w_rz, b_rz)
        r, z = (i_rz + h_rz).sigmoid().chunk(2, 1)  # both gates in one sigmoid
        r.name, z.name = "Γ_r", "1 - Γ_u"  # the reset (relevance) gate; z is 1 - the update gate
        if self.reset_after:
            n = (i_n + r * h_n).tanh().named("c̃⟨t⟩")
        else:
            n = (i_n + F.linear(r * h, w_n, b_n)).tanh().named("c̃⟨t⟩")
        # c⟨t⟩ = Γ_u c̃ + (1 - Γ_u) c⟨t-1⟩ = (1 - z) n + z h, one op shorter as n + z (h - n)
        return (n + z * (h - n)).named("a⟨t⟩")


def _check_hidden(owner, what, h, expected, layout="(batch, hidden_size)"):
    """A state Tensor of shape ``expected`` (``layout`` in words) and a floating-point dtype."""
    if not isinstance(h, Tensor):
        raise TypeError(f"{owner}: {what} must be a Tensor of shape {expected}, got "
                        f"{type(h).__name__}")
    if h.shape != expected:
        raise ShapeError(f"{owner}: {what} must have shape {expected} {layout}, got {h.shape}")
    F._floating(owner, h, what)


class LSTMCell(_Cell):
    """The LSTM: ``c' = Γ_f c + Γ_u c̃``, ``h' = Γ_o tanh(c')`` (PyTorch's i, f, g, o = Γ_u, Γ_f, c̃,
    Γ_o). With ``peephole=True`` the input and forget gates also see ``c⟨t-1⟩`` and the output gate
    ``c⟨t⟩``, through diagonal weights ``weight_ci``, ``weight_cf``, ``weight_co`` ``(H,)``."""

    gates = 4

    def __init__(self, input_size, hidden_size, bias=True, peephole=False):
        super().__init__(input_size, hidden_size, bias)
        self.peephole = _checks.flag("LSTMCell", "peephole", peephole)
        if peephole:
            self.weight_ci = self._uniform(hidden_size)
            self.weight_cf = self._uniform(hidden_size)
            self.weight_co = self._uniform(hidden_size)

    def _check_state(self, state, x):
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"LSTMCell: the state must be a tuple (h, c), got "
                            f"{type(state).__name__}")
        for what, s in zip(("h", "c"), state):
            _check_hidden("LSTMCell", what, s, (x.shape[0], self.hidden_size))

    def step(self, gi, state=None):
        h, c = (self._zeros(gi), self._zeros(gi)) if state is None else state
        gates = F.linear(h, self.weight_hh, gi)  # W_hh a⟨t-1⟩ + (W_ih x⟨t⟩ + b)
        i, f, g, o = gates.chunk(4, 1)
        if self.peephole:
            i, f = i + c * self.weight_ci, f + c * self.weight_cf
        gate_f = f.sigmoid().named("Γ_f")
        gate_u = i.sigmoid().named("Γ_u")
        c_tilde = g.tanh().named("c̃⟨t⟩")
        c = (gate_f * c + gate_u * c_tilde).named("c⟨t⟩")  # c⟨t⟩ = Γ_f c⟨t-1⟩ + Γ_u c̃⟨t⟩
        if self.peephole:
            o = o + c * self.weight_co
        gate_o = o.sigmoid().named("Γ_o")
        return (gate_o * c.tanh()).named("a⟨t⟩"), c  # a⟨t⟩ = Γ_o tanh(c⟨t⟩)
