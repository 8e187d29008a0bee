"""Matrix products, with numpy's ``matmul`` rules: 1-D operands and broadcast batch dimensions.

Each Function is followed by the function users call: ``matmul(input, other)`` (``ts.matmul``,
``a @ b``) and ``linear(input, weight, bias=None)`` (``ts.nn.functional.linear``).
"""
import numpy as np

from ..deferred import Deferred
from ..dtypes import data_of, operands
from ..errors import ShapeError
from ..function import Function
from ._util import unbroadcast
from .elementwise import add, mul


class MatMul(Function):
    """``a @ b``. Gradients: ``dA = dC @ Bᵀ``, ``dB = Aᵀ @ dC`` (batch dims summed back).

    The gradient of a 2-D operand (a weight, as in ``h @ W`` or ``W @ h`` at every step) is
    returned as a ``Deferred`` product, so that the engine sums its T gradients as one product
    (``deferred.py``): its batch dims, and those of the other operand, become rows of that product.
    """

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
            if a.ndim == 2:  # Σ gᵢ bᵢᵀ over b's batch: the rows are g's and b's columns
                ga = Deferred(_rows(np.swapaxes(g, -1, -2)), _rows(np.swapaxes(b2, -1, -2)))
            else:
                ga = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            if b.ndim == 2:  # Σ aᵢᵀ gᵢ over a's batch: the rows are a's and g's rows
                gb = Deferred(_rows(a2), _rows(g))
            else:
                gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb

    @staticmethod
    def graph_backward(ctx, g):
        """``backward`` in Tensor ops (no ``Deferred``): the gradient as a graph."""
        a, b = ctx.saved_tensors
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        if b.ndim == 1:
            g = g.unsqueeze(-1)
        if a.ndim == 1:
            g = g.unsqueeze(-2)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(g @ b2.transpose(-1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(a2.transpose(-1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return ta @ b + a @ tb  # (a product rule: the op is linear in each operand)


def _rows(m):
    """The rows of a stack of matrices ``(*, n, k)`` as one matrix ``(N, k)``."""
    return m if m.ndim == 2 else m.reshape(-1, m.shape[-1])


def matmul(input, other):
    """``input @ other`` with numpy's rules (1-D operands, broadcast batch dims)."""
    a, b = operands(input, other)
    try:
        return MatMul.apply(a, b)
    except ValueError:
        sa, sb = np.shape(data_of(a)), np.shape(data_of(b))
        if not sa or not sb:
            raise ShapeError(f"matmul: both operands need at least 1 dim, got shapes {sa} and {sb}; "
                             "use * to multiply by a scalar") from None
        inner = sb[0] if len(sb) == 1 else sb[-2]
        if sa[-1] == inner:  # the matrices fit: their batch dims do not broadcast
            raise ShapeError(f"matmul: shapes {sa} and {sb}: the batch dims {sa[:-2]} and "
                             f"{sb[:-2]} do not broadcast together") from None
        raise ShapeError(f"matmul: shapes {sa} and {sb} do not match: the last dim of the first "
                         f"({sa[-1]}) must equal the {'only' if len(sb) == 1 else 'second-to-last'}"
                         f" dim of the second ({inner})") from None


Bmm = MatMul.alias("bmm")


def bmm(input, mat2):
    """Batched matrix product: ``(b, n, m) @ (b, m, p)`` -> ``(b, n, p)``, without broadcasting."""
    a, b = operands(input, mat2)
    sa, sb = np.shape(data_of(a)), np.shape(data_of(b))
    for name, s in (("input", sa), ("mat2", sb)):
        if len(s) != 3:
            raise RuntimeError(f"bmm: {name} must be a 3-D tensor (batch, rows, cols), got shape "
                               f"{s}; use matmul for other shapes")
    if sb[:2] != (sa[0], sa[2]):
        raise RuntimeError(f"bmm: shapes {sa} and {sb} do not match: mat2 must have shape "
                           f"({sa[0]}, {sa[2]}, p)")
    return Bmm.apply(a, b)


class Linear(Function):
    """``x @ Wᵀ + b`` as one op (PyTorch's ``F.linear``, the notes' ``W_a [a, x] + b_a``): x
    ``(*, in)``, W ``(out, in)``, b ``(out,)``, None, or any shape that broadcasts to the output
    ``(*, out)`` (as in ``addmm``: a recurrent step adds its input's projection this way).
    Gradients, summed over the leading dims: ``dx = dY W``, ``dW = dYᵀ x``, ``db = Σ dY``.

    A recurrent step multiplies a few rows (the batch) by a wide W. OpenBLAS is slow at that as
    ``x Wᵀ``, so that case takes the faster route to the same numbers: ``(W xᵀ)ᵀ``. ``dW`` is
    returned as a ``Deferred`` product: a W used at every step gets its T gradients summed as one
    product over all T·B rows (``deferred.py``).
    """

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        if 1 < x2.shape[0] <= 64:
            y = np.ascontiguousarray((w @ x2.T).T)
        else:
            y = x2 @ w.T
        if x.ndim != 2:
            y = y.reshape(*x.shape[:-1], w.shape[0])
        if b is None:
            return y
        ctx.bias_shape = b.shape
        return np.add(y, b, out=y) if b.dtype == y.dtype else y + b

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        g2, x2 = g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1])
        gx = (g2 @ w).reshape(x.shape) if needs_x else None
        gw = Deferred(g2, x2) if needs_w else None
        gb = None
        if needs_b:
            gb = g2.sum(0) if ctx.bias_shape == g.shape[-1:] else unbroadcast(g, ctx.bias_shape)
        return gx, gw, gb

    @staticmethod
    def graph_backward(ctx, g):
        """``backward`` in Tensor ops (no ``Deferred``): the gradient as a graph."""
        x, w = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        g2, x2 = g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1])
        gx = (g2 @ w).reshape(x.shape) if needs_x else None
        gw = g2.transpose(0, 1) @ x2 if needs_w else None
        gb = unbroadcast(g, ctx.bias_shape) if needs_b else None
        return gx, gw, gb

    @staticmethod
    def jvp(ctx, tx, tw, tb):
        x, w = ctx.saved_tensors
        ty = tx @ w.T + x @ tw.T
        return ty if tb is None else ty + tb


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` as one node: input ``(*, in)``, weight ``(out, in)``, bias
    ``(out,)``, None or a shape that broadcasts to the output ``(*, out)``. It checks nothing:
    ``ts.nn.functional.linear`` checks the shapes and dtypes, then calls it."""
    return Linear.apply(input, weight, bias)


# The functions above as Tensor methods (tensor.py attaches them): ``a @ b`` is ``matmul(a, b)``.
TENSOR_METHODS = {"__matmul__": matmul, "matmul": matmul, "bmm": bmm}


# ---- the fixed-shape products: mm, mv, dot, outer, addmm, baddbmm -----------------------------
Mm = MatMul.alias("mm")
Mv = MatMul.alias("mv")
Dot = MatMul.alias("dot")


def _dims(op, names_shapes, wanted, fix):
    """Refuse an operand whose number of dims is not ``wanted``, naming it and its shape."""
    for name, shape in names_shapes:
        if len(shape) != wanted:
            raise RuntimeError(f"{op}: {name} must be {wanted}-D, got shape {shape}; {fix}")


def mm(input, mat2):
    """The matrix product of two 2-D tensors ``(n, m) @ (m, p)`` -> ``(n, p)`` (no broadcasting)."""
    a, b = operands(input, mat2)
    sa, sb = np.shape(data_of(a)), np.shape(data_of(b))
    _dims("mm", (("input", sa), ("mat2", sb)), 2, "use matmul for other shapes")
    if sa[1] != sb[0]:
        raise RuntimeError(f"mm: shapes {sa} and {sb} cannot be multiplied ({sa[1]} != {sb[0]})")
    return Mm.apply(a, b)


def mv(input, vec):
    """Matrix times vector: ``(n, m) @ (m,)`` -> ``(n,)``."""
    a, b = operands(input, vec)
    sa, sb = np.shape(data_of(a)), np.shape(data_of(b))
    _dims("mv", (("input", sa),), 2, "use matmul for other shapes")
    _dims("mv", (("vec", sb),), 1, "use matmul for other shapes")
    if sa[1] != sb[0]:
        raise RuntimeError(f"mv: shapes {sa} and {sb} cannot be multiplied ({sa[1]} != {sb[0]})")
    return Mv.apply(a, b)


def dot(input, other):
    """The inner product of two 1-D tensors of the same size and dtype: a 0-d tensor."""
    a, b = input, other
    da, db = np.asarray(data_of(a)), np.asarray(data_of(b))
    _dims("dot", (("input", da.shape), ("other", db.shape)), 1, "use matmul or (a * b).sum()")
    if da.shape != db.shape:
        raise RuntimeError(f"dot: the vectors must have the same size, got {da.shape[0]} and "
                           f"{db.shape[0]}")
    if da.dtype != db.dtype:
        raise RuntimeError(f"dot: the vectors must have the same dtype, got {da.dtype} and "
                           f"{db.dtype}; convert one with .to(other.dtype)")
    return Dot.apply(*operands(a, b))


class Outer(Function):
    """``a[:, None] * b[None, :]``; gradients ``dA = dC @ b``, ``dB = aᵀ dC``."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply.outer(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g @ b if ctx.needs_input_grad[0] else None
        gb = a @ g if ctx.needs_input_grad[1] else None
        return ga, gb

    graph_backward = backward  # (two matmuls: the same on Tensors)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.saved_tensors
        return np.multiply.outer(ta, b) + np.multiply.outer(a, tb)  # (a product rule)


def outer(input, vec2):
    """The outer product of two 1-D tensors: ``(n,)`` and ``(m,)`` -> ``(n, m)``."""
    a, b = operands(input, vec2)
    _dims("outer", (("input", np.shape(data_of(a))), ("vec2", np.shape(data_of(b)))), 1,
          "flatten them first, or use a[:, None] * b")
    return Outer.apply(a, b)


def _scaled_sum(op, input, product, beta, alpha):
    """``beta * input + alpha * product``; with ``beta = 0`` ``input`` is ignored (its NaNs too),
    as in torch."""
    for name, v in (("beta", beta), ("alpha", alpha)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)):
            raise TypeError(f"{op}: {name} must be a number, got {v!r}")
    out = product if alpha == 1 else mul(product, alpha)
    shape, target = np.shape(data_of(input)), out._data.shape
    try:  # (to the product's shape, never past it: torch refuses an input that would grow it)
        fits = np.broadcast_shapes(shape, target) == target
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{op}: input of shape {shape} does not broadcast to the product's "
                           f"shape {target}")
    return out if beta == 0 else add(input if beta == 1 else mul(input, beta), out)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to ``(n, p)``."""
    return _scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)``; ``input`` broadcasts to ``(b, n, p)``."""
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


TENSOR_METHODS.update({"mm": mm, "mv": mv, "dot": dot, "outer": outer, "addmm": addmm,
                       "baddbmm": baddbmm})
