"""The course's functions in the course's notation, on the tinyseq engine.

Shapes as in the notes: ``x`` ``(n_x, m, T_x)``, ``a`` ``(n_a, m)`` per step, weights act from the
left (``W_ax x⟨t⟩``). Arrays keep their dtype (the course's are float64) and every function returns
Tensors. There is no cache and no hand-written backward: ``(a * da).sum().backward()`` computes what
the course's ``rnn_backward(da, caches)`` derives by hand.
"""
import numpy as np

from .autograd.factories import from_numpy, tensor, zeros
from .autograd.functional import cat, stack
from .autograd.tensor import Tensor


def _t(v):
    """A Tensor as given, an ndarray without changing its dtype, anything else as ``ts.tensor``."""
    return v if isinstance(v, Tensor) else from_numpy(v) if isinstance(v, np.ndarray) else tensor(v)


def _p(parameters, *names):
    return [_t(parameters[n]) for n in names]


def rnn_cell_forward(xt, a_prev, parameters):
    """One RNN step: ``a⟨t⟩ = tanh(W_ax x⟨t⟩ + W_aa a⟨t-1⟩ + b_a)``, ``ŷ⟨t⟩ = softmax(W_ya a⟨t⟩ + b_y)``.

    xt ``(n_x, m)``, a_prev ``(n_a, m)`` -> ``(a_next (n_a, m), yt_pred (n_y, m))``.
    """
    Wax, Waa, Wya, ba, by = _p(parameters, "Wax", "Waa", "Wya", "ba", "by")
    a_next = (Wax @ _t(xt) + Waa @ _t(a_prev) + ba).tanh()
    return a_next, (Wya @ a_next + by).softmax(0)


def rnn_forward(x, a0, parameters):
    """The RNN over all T_x steps: x ``(n_x, m, T_x)`` -> ``(a (n_a, m, T_x), y_pred (n_y, m, T_x))``."""
    a_next, a, y = _t(a0), [], []
    for xt in _t(x).unbind(2):
        a_next, yt = rnn_cell_forward(xt, a_next, parameters)
        a.append(a_next)
        y.append(yt)
    return stack(a, 2), stack(y, 2)


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """One LSTM step on ``concat = [a⟨t-1⟩; x⟨t⟩]``:

    Γ_f = σ(W_f concat + b_f), Γ_u = σ(W_i concat + b_i), c̃ = tanh(W_c concat + b_c),
    c⟨t⟩ = Γ_f * c⟨t-1⟩ + Γ_u * c̃, Γ_o = σ(W_o concat + b_o), a⟨t⟩ = Γ_o * tanh(c⟨t⟩).
    Returns ``(a_next, c_next, yt_pred)``.
    """
    Wf, bf, Wi, bi, Wc, bc, Wo, bo, Wy, by = _p(
        parameters, "Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo", "Wy", "by")
    concat = cat([_t(a_prev), _t(xt)], 0)
    ft = (Wf @ concat + bf).sigmoid()   # Γ_f
    it = (Wi @ concat + bi).sigmoid()   # Γ_u
    cct = (Wc @ concat + bc).tanh()     # c̃⟨t⟩
    c_next = ft * _t(c_prev) + it * cct
    ot = (Wo @ concat + bo).sigmoid()   # Γ_o
    a_next = ot * c_next.tanh()
    return a_next, c_next, (Wy @ a_next + by).softmax(0)


def lstm_forward(x, a0, parameters):
    """The LSTM over all steps, from ``c⟨0⟩ = 0``: -> ``(a, y, c)``, each ``(n, m, T_x)``."""
    a_next = _t(a0)
    c_next = zeros(*a_next.shape, dtype=a_next.data.dtype)
    a, y, c = [], [], []
    for xt in _t(x).unbind(2):
        a_next, c_next, yt = lstm_cell_forward(xt, a_next, c_next, parameters)
        a.append(a_next)
        y.append(yt)
        c.append(c_next)
    return stack(a, 2), stack(y, 2), stack(c, 2)


def gru_cell_forward(xt, c_prev, parameters):
    """The full GRU of the notes on ``[c⟨t-1⟩; x⟨t⟩]``:

    Γ_u = σ(W_u [c⟨t-1⟩, x⟨t⟩] + b_u), Γ_r = σ(W_r [c⟨t-1⟩, x⟨t⟩] + b_r),
    c̃ = tanh(W_c [Γ_r * c⟨t-1⟩, x⟨t⟩] + b_c), c⟨t⟩ = Γ_u * c̃ + (1 - Γ_u) * c⟨t-1⟩.
    """
    Wu, bu, Wr, br, Wc, bc = _p(parameters, "Wu", "bu", "Wr", "br", "Wc", "bc")
    c_prev, xt = _t(c_prev), _t(xt)
    concat = cat([c_prev, xt], 0)
    gamma_u = (Wu @ concat + bu).sigmoid()
    gamma_r = (Wr @ concat + br).sigmoid()
    c_tilde = (Wc @ cat([gamma_r * c_prev, xt], 0) + bc).tanh()
    return gamma_u * c_tilde + (1 - gamma_u) * c_prev
