"""Recurrent cells. Each step is the course's equations, a plain function of the projected input,
the state and the weights; ``RNNCell``, ``GRUCell`` and ``LSTMCell`` own the weights and call it,
and so do the layers of ``recurrent.py`` for every time step.

Shapes: ``x_proj`` ``(B, gates·H)``, states ``(B, H)``. One fused matmul per input computes all
gates (the notes' ``W_a = [W_aa | W_ax]`` split as ``weight_hh | weight_ih``), gate order as in
PyTorch (GRU r, z, n; LSTM i, f, g, o). ``x_proj = W_ax x⟨t⟩ + b`` comes from ``project``, which a
layer runs once for all T steps; a step adds ``W_aa a⟨t-1⟩`` in one ``linear``. Backpropagation
through time is the engine's job. Gates and states carry the course's names (``.named("Γ_f")``),
which ``ts.viz.draw_graph`` prints.
"""
import math

import numpy as np

from ..autograd import rng
from ..autograd.factories import zeros
from ..autograd.errors import ShapeError
from . import _checks, functional as F
from .module import Module, Parameter


# ---- the steps ---------------------------------------------------------------------------------
def rnn_tanh_step(x_proj, a_prev, weight_hh):
    """a⟨t⟩ = tanh(W_aa a⟨t-1⟩ + W_ax x⟨t⟩ + b_a), where ``x_proj`` is ``W_ax x⟨t⟩ + b_a``."""
    return F.linear(a_prev, weight_hh, x_proj).tanh().named("a⟨t⟩")


def rnn_relu_step(x_proj, a_prev, weight_hh):
    """a⟨t⟩ = relu(W_aa a⟨t-1⟩ + W_ax x⟨t⟩ + b_a): the RNN with ``nonlinearity="relu"``."""
    return F.linear(a_prev, weight_hh, x_proj).relu().named("a⟨t⟩")


def gru_step(x_proj, c_prev, weight_hh, bias_hh):
    """PyTorch's GRU (``reset_after=True``): Γ_r scales ``W_hn c⟨t-1⟩ + b_hn`` after the matmul,
    so ``b_hh`` comes here and ``x_proj`` is ``W_ih x⟨t⟩ + b_ih``. PyTorch's z is 1 - Γ_u. The
    GRU's memory cell is its output: c⟨t⟩ = a⟨t⟩."""
    H = c_prev.shape[1]
    x_rz, x_n = x_proj.split([2 * H, H], 1)
    h_rz, h_n = F.linear(c_prev, weight_hh, bias_hh).split([2 * H, H], 1)
    gamma_r, z = (x_rz + h_rz).sigmoid().chunk(2, 1)  # Γ_r and z = 1 - Γ_u, in one sigmoid
    gamma_r.name, z.name = "Γ_r", "1 - Γ_u"
    gamma_u = (1 - z).named("Γ_u")
    c_tilde = (x_n + gamma_r * h_n).tanh().named("c̃⟨t⟩")
    return (gamma_u * c_tilde + z * c_prev).named("a⟨t⟩")  # Γ_u c̃⟨t⟩ + (1 - Γ_u) c⟨t-1⟩


def gru_reset_before_step(x_proj, c_prev, weight_hh):
    """The notes' GRU (Cho et al. 2014, ``reset_after=False``): c̃⟨t⟩ = tanh(W_c [Γ_r c⟨t-1⟩,
    x⟨t⟩] + b_c), Γ_r before the matmul; ``x_proj`` is ``W_ih x⟨t⟩ + b_ih + b_hh``; c⟨t⟩ = a⟨t⟩."""
    H = c_prev.shape[1]
    x_rz, x_n = x_proj.split([2 * H, H], 1)
    w_rz, w_n = weight_hh.split([2 * H, H], 0)
    gamma_r, z = F.linear(c_prev, w_rz, x_rz).sigmoid().chunk(2, 1)  # Γ_r and z = 1 - Γ_u
    gamma_r.name, z.name = "Γ_r", "1 - Γ_u"
    gamma_u = (1 - z).named("Γ_u")
    c_tilde = F.linear(gamma_r * c_prev, w_n, x_n).tanh().named("c̃⟨t⟩")
    return (gamma_u * c_tilde + z * c_prev).named("a⟨t⟩")  # Γ_u c̃⟨t⟩ + (1 - Γ_u) c⟨t-1⟩


def lstm_step(x_proj, state, weight_hh):
    """The LSTM on ``state = (a⟨t-1⟩, c⟨t-1⟩)``; PyTorch's i, f, g, o are Γ_u, Γ_f, c̃⟨t⟩, Γ_o
    before their sigmoid or tanh. Returns ``(a⟨t⟩, c⟨t⟩)``."""
    a_prev, c_prev = state
    i, f, g, o = F.linear(a_prev, weight_hh, x_proj).chunk(4, 1)  # W_a [a⟨t-1⟩, x⟨t⟩] + b_a
    gamma_u = i.sigmoid().named("Γ_u")
    gamma_f = f.sigmoid().named("Γ_f")
    c_tilde = g.tanh().named("c̃⟨t⟩")
    gamma_o = o.sigmoid().named("Γ_o")
    c = (gamma_f * c_prev + gamma_u * c_tilde).named("c⟨t⟩")
    return (gamma_o * c.tanh()).named("a⟨t⟩"), c


def peephole_lstm_step(x_proj, state, weight_hh, weight_ci, weight_cf, weight_co):
    """The LSTM whose gates see the cell (Gers & Schmidhuber 2000) through diagonal weights
    ``(H,)``: Γ_u and Γ_f see c⟨t-1⟩, Γ_o sees c⟨t⟩."""
    a_prev, c_prev = state
    i, f, g, o = F.linear(a_prev, weight_hh, x_proj).chunk(4, 1)
    gamma_u = (i + c_prev * weight_ci).sigmoid().named("Γ_u")
    gamma_f = (f + c_prev * weight_cf).sigmoid().named("Γ_f")
    c_tilde = g.tanh().named("c̃⟨t⟩")
    c = (gamma_f * c_prev + gamma_u * c_tilde).named("c⟨t⟩")
    gamma_o = (o + c * weight_co).sigmoid().named("Γ_o")
    return (gamma_o * c.tanh()).named("a⟨t⟩"), c


def projected(step):
    """``step`` of an LSTM with projections (PyTorch's ``proj_size`` P, Sak et al. 2014): its
    a⟨t⟩ ``(B, H)`` becomes ``W_hr a⟨t⟩`` ``(B, P)``, the state the next step and the layer above
    see (so ``weight_hh`` is ``(4H, P)``); c⟨t⟩ keeps its H. The step takes ``weight_hr``
    ``(P, H)`` after its own weights."""
    def projected_step(x_proj, state, *weights):
        *weights, weight_hr = weights
        a, c = step(x_proj, state, *weights)
        return F.linear(a, weight_hr).named("W_hr a⟨t⟩"), c
    return projected_step


CELL_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # every cell's, as in PyTorch


def project(x, weight_ih, bias_ih, bias_hh):
    """What the gates get from outside the state, ``W_ih x + b_ih + b_hh`` ``(*, gates·H)``;
    ``bias_hh=None`` for a step that adds ``b_hh`` itself (``gru_step``) or without biases."""
    bias = bias_ih if bias_hh is None else bias_ih + bias_hh
    return F.linear(x, weight_ih, bias)


def add_parameters(module, suffix, input_size, hidden_size, gates, bias, step_weights,
                   proj_size=0, dtype=np.float32):
    """Register one cell's parameters on ``module`` under PyTorch's names + ``suffix``
    (``weight_ih_l0``): ``weight_ih`` ``(gates·H, I)``, ``weight_hh`` ``(gates·H, H)`` (``(gates·H,
    P)`` with a projection ``proj_size`` P, and ``weight_hr`` ``(P, H)``), biases ``(gates·H,)``
    and the step's diagonal weights ``(H,)``, all ~ U(-1/√H, 1/√H) as in PyTorch (drawn in
    float64, stored as ``dtype``)."""
    k = 1 / math.sqrt(hidden_size)
    n = gates * hidden_size
    shapes = {"weight_ih": (n, input_size), "weight_hh": (n, proj_size or hidden_size)}
    shapes.update({"bias_ih": (n,), "bias_hh": (n,)} if bias else {})
    shapes.update({name: (hidden_size,) for name in step_weights
                   if name not in CELL_WEIGHTS + ("weight_hr",)})
    shapes.update({"weight_hr": (proj_size, hidden_size)} if proj_size else {})
    for name, shape in shapes.items():
        data = rng.generator().uniform(-k, k, shape).astype(dtype)
        setattr(module, name + suffix, Parameter(data))


# ---- the cells: one step, with its weights ------------------------------------------------------
class _Cell(Module):
    """A step and its weights: ``forward(x (B, input_size), state=None (zeros))`` -> the state."""

    gates = 1
    defaults = {}  # the cell's variant option and its default, e.g. {"peephole": False}

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None, **options):
        super().__init__()
        name = type(self).__name__
        dtype = _checks.factory_dtype(name, device, dtype)
        input_size = _checks.size(name, "input_size", input_size)
        hidden_size = _checks.size(name, "hidden_size", hidden_size, 1)
        bias = bool(bias)  # (any truthy value, as in torch)
        self._step, step_weights = self.variant(name, **options)  # the step, chosen once
        self._step_weights = step_weights
        _checks.affordable(name, self.gates * hidden_size * (input_size + hidden_size + 2))
        self.input_size, self.hidden_size = input_size, hidden_size
        for option, value in options.items():  # (a numpy bool kept as a bool)
            setattr(self, option, bool(value) if isinstance(value, np.bool_) else value)
        self.bias_ih = self.bias_hh = None
        add_parameters(self, "", input_size, hidden_size, self.gates, bias, step_weights,
                       dtype=dtype)

    def options(self):
        """The variant option and its value: ``{"peephole": True}``."""
        return {k: getattr(self, k) for k in self.defaults}

    def forward(self, x, state=None):
        """One step: x ``(B, input_size)`` and the state (None: zeros) -> the new state."""
        self._check_input(x)
        if state is None:
            state = self._zero_state(x)
        else:
            self._check_state(state, x)
        bias_hh = None if "bias_hh" in self._step_weights else self.bias_hh
        x_proj = project(x, self.weight_ih, self.bias_ih, bias_hh)
        return self._step(x_proj, state, *(getattr(self, name) for name in self._step_weights))

    def _zero_state(self, x):
        """a⟨0⟩ = 0 for a batch like ``x``."""
        return zeros(x.shape[0], self.hidden_size, dtype=x.dtype)

    def _check_input(self, x):
        name = type(self).__name__
        _checks.tensor(name, "input", x)
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ShapeError(f"{name}: expected an input (B, input_size) = (B, {self.input_size})"
                             f", got shape {x.shape}")
        _checks.float_like(name, x, self.weight_ih)

    def _check_state(self, state, x):
        _checks.state(type(self).__name__, "hx", state, (x.shape[0], self.hidden_size))

    def extra_repr(self):
        options = [f"{self.input_size}, {self.hidden_size}"]
        options += ["bias=False"] * (self.bias_ih is None)
        options += [f"{k}={v!r}" for k, v in self.options().items() if v != self.defaults[k]]
        return ", ".join(options)


class RNNCell(_Cell):
    """a⟨t⟩ = g(W_ax x⟨t⟩ + b_ih + W_aa a⟨t-1⟩ + b_hh), g = tanh or relu."""

    defaults = {"nonlinearity": "tanh"}

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, device, dtype, nonlinearity=nonlinearity)

    @staticmethod
    def variant(owner, nonlinearity="tanh"):
        """The step for ``nonlinearity`` and the weights it takes after ``(x_proj, state)``."""
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"{owner}: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        return (rnn_tanh_step if nonlinearity == "tanh" else rnn_relu_step), ("weight_hh",)


class GRUCell(_Cell):
    """The GRU: c⟨t⟩ = Γ_u c̃⟨t⟩ + (1 - Γ_u) c⟨t-1⟩, ``(1 - z) * n + z * h`` in PyTorch's names.

    ``reset_after=True`` (PyTorch): ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``;
    ``reset_after=False`` (the notes, Cho et al. 2014):
    ``n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)``.
    """

    gates = 3
    defaults = {"reset_after": True}

    def __init__(self, input_size, hidden_size, bias=True, reset_after=True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, device, dtype, reset_after=reset_after)

    @staticmethod
    def variant(owner, reset_after=True):
        """The step for ``reset_after`` and the weights it takes after ``(x_proj, state)``."""
        if _checks.flag(owner, "reset_after", reset_after):
            return gru_step, ("weight_hh", "bias_hh")
        return gru_reset_before_step, ("weight_hh",)


class LSTMCell(_Cell):
    """The LSTM: ``c' = Γ_f c + Γ_u c̃``, ``h' = Γ_o tanh(c')``; the state is the pair ``(h, c)``.
    With ``peephole=True`` the input and forget gates also see ``c⟨t-1⟩`` and the output gate
    ``c⟨t⟩``, through diagonal weights ``weight_ci``, ``weight_cf``, ``weight_co`` ``(H,)``."""

    gates = 4
    defaults = {"peephole": False}

    def __init__(self, input_size, hidden_size, bias=True, peephole=False, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, device, dtype, peephole=peephole)

    @staticmethod
    def variant(owner, peephole=False):
        """The step for ``peephole`` and the weights it takes after ``(x_proj, state)``."""
        if _checks.flag(owner, "peephole", peephole):
            return peephole_lstm_step, ("weight_hh", "weight_ci", "weight_cf", "weight_co")
        return lstm_step, ("weight_hh",)

    def _zero_state(self, x):
        return super()._zero_state(x), super()._zero_state(x)

    def _check_state(self, state, x):
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"LSTMCell: the state must be a tuple (h, c), got "
                            f"{type(state).__name__}")
        for what, s in zip(("h", "c"), state):
            _checks.state("LSTMCell", what, s, (x.shape[0], self.hidden_size))
