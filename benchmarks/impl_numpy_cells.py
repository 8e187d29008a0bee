"""The recurrent part of the hand-written numpy BPTT: forward and backward of the RNN, LSTM and GRU
cells over a whole sequence, in column layout, every array preallocated (``impl_numpy.py`` drives it).

Layout: a step's state ``a⟨t⟩`` is a column block ``(H, B)`` (feature rows, batch columns), so the
gates of a step form one C-contiguous ``(G*H, B)`` array in which every gate is a contiguous block
of rows, a step's recurrent product is the single ``W_hh @ a⟨t-1⟩``, and the elementwise passes run
over contiguous memory. Arrays over the sequence are ``(T, rows, B)``, one such block per step.

Shapes: ``Z`` ``(T, G*H, B)`` holds on entry the input side of every gate's pre-activation
(``W_ih x⟨t⟩ + b_ih``, and for the RNN and LSTM also ``b_hh``); the forward pass turns it, in
place, into the gates after their nonlinearities, which the backward pass reads. ``hs`` ``(T+1, H,
B)`` receives ``a⟨0⟩ = 0, a⟨1⟩, ..., a⟨T⟩``. The backward pass takes ``dhs`` ``(H, T, B)`` (a view:
the loss's gradient with respect to every ``a⟨t⟩``) and fills ``dZ`` ``(T, G*H, B)`` with the
gradient of the loss with respect to the gates' pre-activations; the GRU also fills ``dP`` with the
gradient with respect to ``W_hh a⟨t-1⟩ + b_hh`` (for the other cells that is ``dZ`` itself).
``ws`` is the ``Workspace`` holding these buffers. Every function is written with ``out=`` and
in-place operators: no array is allocated inside the time loops.
"""
import numpy as np


class Workspace:
    """Every buffer of one BPTT over (T, B), allocated once and reused by every step and call.

    Per step, ``(T, rows, B)``: ``Z`` the gates, ``hs`` ``(T+1, H, B)`` the states, ``cs``
    ``(T+1, H, B)`` the LSTM's memory cells and ``tcs`` ``(T, H, B)`` their tanh, ``P`` the GRU's
    ``W_hh a⟨t-1⟩ + b_hh``, ``dZ``/``dP`` their gradients. Step scratch: ``tmp``/``tmp2`` ``(H, B)``,
    ``gtmp``/``deriv`` ``(G*H, B)``; ``dh``, ``dc`` ``(H, B)`` the gradients arriving from step t+1.
    All steps side by side, ``(rows, N)`` with ``N = T*B`` columns in (t, b) order, for the single
    products over the sequence: ``onehot`` ``(V, N)`` the input tokens, ``hcols`` ``(H, (T+1)*B)``
    the states, ``logits`` ``(V, N)``, ``dhs`` ``(H, N)``, ``dZc``/``dPc`` ``(G*H, N)``, ``demb``
    ``(E, N)``.
    """

    def __init__(self, cell, T, B, H, G, V, E):
        z = lambda *shape: np.zeros(shape, np.float32)
        N = T * B
        self.Z, self.hs, self.dZ = z(T, G * H, B), z(T + 1, H, B), z(T, G * H, B)
        self.cs, self.tcs = (z(T + 1, H, B), z(T, H, B)) if cell == "LSTM" else (None, None)
        self.P, self.dP = (z(T, G * H, B), z(T, G * H, B)) if cell == "GRU" else (None, self.dZ)
        self.tmp, self.tmp2, self.dh, self.dc = z(H, B), z(H, B), z(H, B), z(H, B)
        self.gtmp, self.deriv = z(G * H, B), z(G * H, B)
        self.onehot, self.hcols, self.logits, self.dhs = z(V, N), z(H, N + B), z(V, N), z(H, N)
        self.dZc = z(G * H, N)
        self.dPc = z(G * H, N) if cell == "GRU" else self.dZc
        self.demb = z(E or 1, N)


def sigmoid_(x):
    """σ(x) in place, as 0.5 tanh(x/2) + 0.5: one transcendental pass, no overflow for large |x|."""
    x *= 0.5
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5


# ---- RNN: a⟨t⟩ = tanh(W_aa a⟨t-1⟩ + W_ax x⟨t⟩ + b_a) ---------------------------------------------
def rnn_forward(Z, W_hh, ws):
    """Z ``(T, H, B)`` pre-activations without the recurrent term -> a⟨t⟩ in place, copied to hs."""
    for t in range(len(Z)):
        a = Z[t]
        np.matmul(W_hh, ws.hs[t], out=ws.tmp)
        a += ws.tmp
        np.tanh(a, out=a)                                   # a⟨t⟩
        ws.hs[t + 1] = a


def rnn_backward(dhs, Z, W_hh, ws):
    """dZ[t] = da⟨t⟩ (1 - a⟨t⟩²), with da⟨t⟩ from the loss and from step t+1 through W_aa."""
    dh, dZ = ws.dh, ws.dZ
    dh.fill(0)
    for t in range(len(Z) - 1, -1, -1):
        dh += dhs[:, t]
        d = dZ[t]
        np.multiply(Z[t], Z[t], out=d)
        np.subtract(1, d, out=d)
        d *= dh
        np.matmul(W_hh.T, d, out=dh)                        # da⟨t-1⟩ through W_aa


# ---- LSTM: PyTorch's gate rows i, f, g, o are Γ_u, Γ_f, c̃⟨t⟩, Γ_o ----------------------------------
def lstm_forward(Z, W_hh, ws):
    """Z ``(T, 4H, B)`` -> the gates Γ_u, Γ_f, c̃⟨t⟩, Γ_o in place; c⟨t⟩ in cs, tanh c⟨t⟩ in tcs."""
    H = W_hh.shape[1]
    for t in range(len(Z)):
        a = Z[t]
        np.matmul(W_hh, ws.hs[t], out=ws.gtmp)             # W_a [a⟨t-1⟩, x⟨t⟩] + b_a: add the
        a += ws.gtmp                                        # recurrent term to the input side
        sigmoid_(a[:2 * H])                                 # Γ_u, Γ_f (one contiguous block)
        np.tanh(a[2 * H:3 * H], out=a[2 * H:3 * H])         # c̃⟨t⟩
        sigmoid_(a[3 * H:])                                 # Γ_o
        u, f, c_tilde, o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
        c = ws.cs[t + 1]
        np.multiply(f, ws.cs[t], out=c)                     # c⟨t⟩ = Γ_f c⟨t-1⟩ + Γ_u c̃⟨t⟩
        np.multiply(u, c_tilde, out=ws.tmp)
        c += ws.tmp
        np.tanh(c, out=ws.tcs[t])
        np.multiply(o, ws.tcs[t], out=ws.hs[t + 1])         # a⟨t⟩ = Γ_o tanh c⟨t⟩


def lstm_backward(dhs, Z, W_hh, ws):
    """dZ[t] = the gradient of the gates' pre-activations, from da⟨t⟩ and dc⟨t⟩ (loss + step t+1)."""
    H = W_hh.shape[1]
    dh, dc, tmp, D = ws.dh, ws.dc, ws.tmp, ws.deriv
    dh.fill(0)
    dc.fill(0)
    for t in range(len(Z) - 1, -1, -1):
        dh += dhs[:, t]
        a, d, tc = Z[t], ws.dZ[t], ws.tcs[t]
        u, f, c_tilde, o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
        np.multiply(tc, tc, out=tmp)                        # dc⟨t⟩ += da⟨t⟩ Γ_o (1 - tanh² c⟨t⟩)
        np.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc += tmp
        np.multiply(dc, c_tilde, out=d[:H])                 # d/dΓ_u  = dc c̃
        np.multiply(dc, ws.cs[t], out=d[H:2 * H])           # d/dΓ_f  = dc c⟨t-1⟩
        np.multiply(dc, u, out=d[2 * H:3 * H])              # d/dc̃    = dc Γ_u
        np.multiply(dh, tc, out=d[3 * H:])                  # d/dΓ_o  = da tanh c⟨t⟩
        np.multiply(a, a, out=D)                            # the activations' derivatives:
        np.subtract(a[:2 * H], D[:2 * H], out=D[:2 * H])    # σ' = σ - σ² for Γ_u, Γ_f,
        np.subtract(1, D[2 * H:3 * H], out=D[2 * H:3 * H])  # tanh' = 1 - c̃² for c̃,
        np.subtract(a[3 * H:], D[3 * H:], out=D[3 * H:])    # σ' for Γ_o
        d *= D
        dc *= f                                             # dc⟨t-1⟩ = dc⟨t⟩ Γ_f
        np.matmul(W_hh.T, d, out=dh)                        # da⟨t-1⟩ through W_a


# ---- GRU, PyTorch's form: c̃ = tanh(W_in x + b_in + Γ_r (W_hn a⟨t-1⟩ + b_hn)), z = 1 - Γ_u -------
def gru_forward(Z, W_hh, b_hn, ws):
    """Z ``(T, 3H, B)`` (input side; b_hh of the r, z rows included) -> Γ_r, z, c̃⟨t⟩ in place;
    ``P[t]`` = W_hh a⟨t-1⟩ with b_hn added to its c̃ rows, ``b_hn`` ``(H, 1)``."""
    H = W_hh.shape[1]
    for t in range(len(Z)):
        a, p, h_prev = Z[t], ws.P[t], ws.hs[t]
        np.matmul(W_hh, h_prev, out=p)
        p[2 * H:] += b_hn                                   # W_hn a⟨t-1⟩ + b_hn
        a[:2 * H] += p[:2 * H]
        sigmoid_(a[:2 * H])                                 # Γ_r and z = 1 - Γ_u, one block
        r, z, c_tilde = a[:H], a[H:2 * H], a[2 * H:]
        np.multiply(r, p[2 * H:], out=ws.tmp)
        c_tilde += ws.tmp
        np.tanh(c_tilde, out=c_tilde)                       # c̃⟨t⟩
        np.subtract(h_prev, c_tilde, out=ws.tmp)            # a⟨t⟩ = Γ_u c̃ + (1 - Γ_u) a⟨t-1⟩
        ws.tmp *= z                                         #      = c̃ + z (a⟨t-1⟩ - c̃)
        np.add(c_tilde, ws.tmp, out=ws.hs[t + 1])


def gru_backward(dhs, Z, W_hh, ws):
    """dZ[t]: gradient of the input-side pre-activations; dP[t]: of W_hh a⟨t-1⟩ + b_hh."""
    H = W_hh.shape[1]
    dh, tmp, tmp2 = ws.dh, ws.tmp, ws.tmp2
    dh.fill(0)
    for t in range(len(Z) - 1, -1, -1):
        dh += dhs[:, t]
        a, d, dp, h_prev = Z[t], ws.dZ[t], ws.dP[t], ws.hs[t]
        r, z, c_tilde = a[:H], a[H:2 * H], a[2 * H:]
        dr, dz, dn = d[:H], d[H:2 * H], d[2 * H:]
        np.multiply(c_tilde, c_tilde, out=tmp)              # d/d(c̃ pre-act.) = da Γ_u (1 - c̃²)
        np.subtract(1, tmp, out=tmp)
        np.subtract(1, z, out=tmp2)                         # Γ_u = 1 - z
        tmp *= tmp2
        np.multiply(tmp, dh, out=dn)
        np.subtract(h_prev, c_tilde, out=dz)                # d/d(z pre-act.) = da (a⟨t-1⟩ - c̃) z (1 - z)
        dz *= dh
        dz *= z
        dz *= tmp2
        np.multiply(dn, ws.P[t, 2 * H:], out=dr)            # d/d(Γ_r pre-act.) =
        dr *= r                                             #   dn (W_hn a + b_hn) Γ_r (1 - Γ_r)
        np.subtract(1, r, out=tmp)
        dr *= tmp
        dp[:2 * H] = d[:2 * H]                              # the hidden side: same r, z gradients,
        np.multiply(dn, r, out=dp[2 * H:])                  # Γ_r-scaled for W_hn a⟨t-1⟩ + b_hn
        np.multiply(dh, z, out=tmp)                         # da⟨t-1⟩ = da z + W_hh^T dp
        np.matmul(W_hh.T, dp, out=dh)
        dh += tmp

