"""Matrix products, with numpy's ``matmul`` rules: 1-D operands and broadcast batch dimensions."""
import numpy as np

from ..function import Function
from ._util import unbroadcast


class MatMul(Function):
    """``a @ b``. Gradients: ``dA = dC @ Bᵀ``, ``dB = Aᵀ @ dC`` (batch dims summed back)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a2 = a[None, :] if a.ndim == 1 else a  # a vector is a (1, n) row on the left ...
        b2 = b[:, None] if b.ndim == 1 else b  # ... and an (n, 1) column on the right
        if b.ndim == 1:  # first: for vector @ vector, g is 0-d
            g = np.expand_dims(g, -1)
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """``x @ Wᵀ + b`` as one op (PyTorch's ``F.linear``, the notes' ``W_a [a, x] + b_a``): x
    ``(*, in)``, W ``(out, in)``, b ``(out,)`` or None. Gradients, summed over the leading dims:
    ``dx = dY W``, ``dW = dYᵀ x``, ``db = Σ dY``."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        y = x.reshape(-1, x.shape[-1]) @ w.T
        if b is not None:
            y = np.add(y, b, out=y) if b.dtype == y.dtype else y + b
        return y.reshape(*x.shape[:-1], w.shape[0])

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1])
        gx = (g2 @ w).reshape(x.shape) if needs_x else None
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if needs_w else None
        gb = g2.sum(0) if needs_b else None
        return gx, gw, gb
