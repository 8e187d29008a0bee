"""Higher-order gradients and forward mode of the reductions, products, convolutions, orders and
scans (ops in ``reduce``, ``linalg``, ``einsum``, ``conv``, ``pool``, ``norms``, ``stats``,
``scan``, ``order``, ``sample``, ``logic``), against PyTorch 2.13 and numerically.

One table drives every check: a row is ``(name, fn, shapes, kinds)``; ``fn(m, *xs)`` is written
once for both libraries (``m`` is ``tinyseq`` or ``torch``), and the inputs are drawn by
``arrays_for`` (float64, every input differentiable). For each row:

- double backward: ``g = grad((f(xs) * u).sum(), xs, create_graph=True)``, then
  ``grad(Σ (g_i * w_i).sum(), xs)``, against torch's;
- gradgradcheck: that first gradient, as a function of ``xs``, against central differences;
- forward mode: the tangent of ``f`` in directions ``v`` against torch's ``forward_ad``;
- ``<J v, u> = <v, Jᵀ u>``: the forward tangent against the reverse gradient.

Data are kept away from kinks and ties (``distinct``, ``away``), where torch's second derivative
is a convention.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyseq as ts
import tinyseq.autograd.forward_ad as fwAD
from tests.strategies import FEW, arrays_for, pairs, seeds
from tests.torch_compare import torch

# torch's forward mode scripts a helper (a deprecation warning), and its padding='same' with
# an even kernel warns of a copy: torch's business, not these tests'.
pytestmark = [pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated"),
              pytest.mark.filterwarnings("ignore:Using padding='same'")]
ATOL, RTOL = 1e-9, 1e-7
# ---- running one function on both libraries ------------------------------------------------------
def _t(m, a, requires_grad=False):
    return m.tensor(a, dtype=m.float64, requires_grad=requires_grad)


def _leaves(m, arrays):
    return [_t(m, a, True) for a in arrays]


def _numpy(t):
    return t.detach().numpy()


def _zeros_for(m, xs, gs):
    return [m.zeros_like(x) if g is None else g for x, g in zip(xs, gs)]


def first_grads(m, fn, xs, u):
    """``grad((fn(xs) * u).sum(), xs, create_graph=True)``, zeros for an unused input."""
    out = fn(m, *xs)
    gs = m.autograd.grad((out * u).sum(), xs, create_graph=True, allow_unused=True)
    return _zeros_for(m, xs, gs)


def grad_of_weighted(m, gs, ws, xs, create_graph=False):
    """``grad(Σ (g_i * w_i).sum(), xs)``: zeros where no ``g_i`` depends on ``xs`` (the
    derivative of a linear op's gradient)."""
    terms = [(g * w).sum() for g, w in zip(gs, ws) if g.requires_grad]
    if not terms:
        return [m.zeros_like(x) for x in xs]
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return _zeros_for(m, xs, m.autograd.grad(total, xs, create_graph=create_graph,
                                             allow_unused=True))


def second_grads(m, fn, xs, u, ws, create_graph=False):
    """The derivative of the first gradients ``g`` weighted by ``ws``: a second order."""
    return grad_of_weighted(m, first_grads(m, fn, xs, u), ws, xs, create_graph)


def tangent(m, fn, arrays, vs):
    """``(primal, tangent)`` of ``fn`` at ``arrays`` in the directions ``vs`` (forward mode)."""
    ad = fwAD if m is ts else torch.autograd.forward_ad
    with ad.dual_level():
        duals = [ad.make_dual(_t(m, a), _t(m, v))
                 for a, v in zip(arrays, vs)]
        primal, t = ad.unpack_dual(fn(m, *duals))
        return primal.detach().numpy().copy(), t.numpy().copy()


# ---- the table -----------------------------------------------------------------------------------
def _row(name, fn, shapes, kinds="n"):
    return pytest.param(name, fn, shapes, kinds, id=name)


def _case(name, shapes, kinds):
    """The row's inputs, and random ``u`` (output-shaped) ``w``, ``v`` (input-shaped)."""
    arrays = arrays_for(name, shapes, kinds)
    rng = np.random.default_rng(len(name))
    ws = [rng.standard_normal(a.shape) for a in arrays]
    vs = [rng.standard_normal(a.shape) for a in arrays]
    return arrays, ws, vs, rng


def _output_weight(fn, arrays, rng):
    out = fn(torch, *[torch.tensor(a) for a in arrays])
    return rng.standard_normal(tuple(out.shape))


ROWS = [
    # reduce.py
    _row("sum", lambda m, x: x.sum(), [(3, 4)]),
    _row("sum_dims_keepdim", lambda m, x: (x * x).sum((0, -1), keepdim=True), [(2, 3, 4)]),
    _row("mean_dim", lambda m, x: (x * x).mean(-2), [(2, 3, 4)]),
    _row("logsumexp", lambda m, x: m.logsumexp(x, 1), [(3, 4)]),
    _row("logsumexp_keepdim", lambda m, x: m.logsumexp(x, (0, 2), keepdim=True), [(2, 3, 4)]),
    _row("logsumexp_0d", lambda m, x: m.logsumexp(x, 0), [()]),
    _row("softmax", lambda m, x: m.softmax(x, -1), [(3, 4)]),
    _row("softmax_dim0", lambda m, x: m.softmax(x, 0), [(3, 2, 2)]),
    _row("softmax_0d", lambda m, x: m.softmax(x * x, -1) * x, [()]),
    _row("log_softmax", lambda m, x: m.log_softmax(x, 1), [(3, 4)]),
    _row("log_softmax_neg", lambda m, x: m.log_softmax(x, -3), [(3, 2, 2)]),
    _row("log_softmax_0d", lambda m, x: m.log_softmax(x * x, 0) + x, [()]),
    # linalg.py (products: the square of an operand makes the second derivative non-zero in it)
    _row("matmul", lambda m, a, b: a @ b, [(3, 4), (4, 2)]),
    _row("matmul_batched", lambda m, a, b: (a * a) @ b, [(2, 1, 3, 4), (3, 4, 2)]),
    _row("matmul_vec_mat", lambda m, a, b: a @ (b * b), [(4,), (2, 4, 3)]),
    _row("matmul_mat_vec", lambda m, a, b: a @ b, [(2, 3, 4), (4,)]),
    _row("matmul_vec_vec", lambda m, a, b: (a * a) @ b, [(4,), (4,)]),
    _row("mm", lambda m, a, b: m.mm(a, b * b), [(3, 4), (4, 2)]),
    _row("mv", lambda m, a, b: m.mv(a * a, b), [(3, 4), (4,)]),
    _row("dot", lambda m, a, b: m.dot(a, b * b), [(4,), (4,)]),
    _row("bmm", lambda m, a, b: m.bmm(a, b), [(2, 3, 4), (2, 4, 2)]),
    _row("linear", lambda m, x, w, b: m.nn.functional.linear(x * x, w, b), [(3, 4), (2, 4), (2,)]),
    _row("linear_nd", lambda m, x, w, b: m.nn.functional.linear(x, w * w, b),
         [(2, 3, 4), (5, 4), (5,)]),
    _row("linear_no_bias", lambda m, x, w: m.nn.functional.linear(x, w), [(2, 3, 4), (5, 4)]),
    _row("linear_broadcast_bias", lambda m, x, w, b: m.nn.functional.linear(x, w, b * b),
         [(3, 4), (5, 4), (3, 1)]),
    _row("outer", lambda m, a, b: m.outer(a, b * b), [(3,), (4,)]),
    _row("addmm", lambda m, c, a, b: m.addmm(c * c, a, b, beta=0.5, alpha=2.0),
         [(3, 1), (3, 4), (4, 2)]),
    _row("baddbmm", lambda m, c, a, b: m.baddbmm(c, a * a, b, alpha=-1.5),
         [(2, 1, 2), (2, 3, 4), (2, 4, 2)]),
    # einsum.py
    _row("einsum_bmm", lambda m, a, b: m.einsum("bij,bjk->bik", a * a, b), [(2, 3, 4), (2, 4, 2)]),
    _row("einsum_outer", lambda m, a, b: m.einsum("i,j->ij", a, b * b), [(3,), (4,)]),
    _row("einsum_implicit", lambda m, a, b: m.einsum("ij,jk", a, b * b), [(3, 4), (4, 2)]),
    _row("einsum_ellipsis", lambda m, a: m.einsum("...ij->...ji", a * a), [(2, 3, 4)]),
    _row("einsum_summed_away", lambda m, a, b: m.einsum("ij,k->i", a, b * b), [(3, 4), (2,)]),
    _row("einsum_broadcast", lambda m, a, b: m.einsum("bij,bjk->bik", a, b * b),
         [(1, 3, 4), (2, 4, 2)]),
    _row("einsum_three", lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b * b, c),
         [(2, 3), (3, 4), (4, 2)]),
    # conv.py (the input squared: a convolution is bilinear, so its own second derivative
    # only mixes x and w)
    _row("conv1d", lambda m, x, w, b: m.nn.functional.conv1d(x * x, w, b),
         [(2, 3, 7), (4, 3, 3), (4,)]),
    _row("conv1d_strided_padded", lambda m, x, w: m.nn.functional.conv1d(
        x, w * w, stride=2, padding=2, dilation=2), [(2, 2, 9), (3, 2, 3)]),
    _row("conv1d_same_groups", lambda m, x, w, b: m.nn.functional.conv1d(
        x, w, b * b, padding="same", groups=2), [(1, 4, 6), (4, 2, 4), (4,)]),
    _row("conv1d_unbatched", lambda m, x, w: m.nn.functional.conv1d(x * x, w, padding=1),
         [(3, 5), (2, 3, 2)]),
    _row("conv_transpose1d", lambda m, x, w, b: m.nn.functional.conv_transpose1d(x * x, w, b),
         [(2, 3, 5), (3, 4, 3), (4,)]),
    _row("conv_transpose1d_strided", lambda m, x, w: m.nn.functional.conv_transpose1d(
        x, w * w, stride=3, padding=1, output_padding=2, dilation=2), [(2, 2, 4), (2, 3, 3)]),
    _row("conv_transpose1d_groups", lambda m, x, w, b: m.nn.functional.conv_transpose1d(
        x * x, w, b, stride=2, groups=2), [(1, 4, 3), (4, 1, 2), (2,)]),
    # pool.py (composed of indexing, where, mul and sum; distinct values: no ties in a window)
    _row("max_pool1d", lambda m, x: m.nn.functional.max_pool1d(x * x, 3, 2, padding=1),
         [(2, 3, 8)], "distinct"),
    _row("max_pool1d_dilated", lambda m, x: m.nn.functional.max_pool1d(
        x.exp(), 2, dilation=2, ceil_mode=True), [(3, 7)], "distinct"),
    _row("avg_pool1d", lambda m, x: m.nn.functional.avg_pool1d(
        x * x, 3, 2, padding=1, count_include_pad=False), [(2, 3, 8)]),
    _row("adaptive_max_pool1d", lambda m, x: m.nn.functional.adaptive_max_pool1d(x.exp(), 3),
         [(2, 2, 7)], "distinct"),
    _row("adaptive_avg_pool1d", lambda m, x: m.nn.functional.adaptive_avg_pool1d(x * x, 4),
         [(2, 2, 7)]),
    # norms.py
    _row("norm_2", lambda m, x: m.linalg.vector_norm(x, dim=1), [(3, 4)]),
    _row("norm_2_all_keepdim", lambda m, x: m.linalg.vector_norm(x, keepdim=True), [(2, 3)]),
    _row("norm_1", lambda m, x: m.linalg.vector_norm(x * x.exp(), 1, dim=(0, -1)), [(2, 3, 2)],
         "away"),
    _row("norm_3", lambda m, x: m.linalg.vector_norm(x, 3, dim=-1), [(3, 4)], "away"),
    _row("norm_half", lambda m, x: m.linalg.vector_norm(x, 0.5, dim=0), [(3, 4)], "away"),
    _row("norm_inf", lambda m, x: m.linalg.vector_norm(x * x, float("inf"), dim=1), [(3, 4)],
         "distinct"),
    _row("norm_neg_inf", lambda m, x: m.linalg.vector_norm(x.exp(), -float("inf")), [(3, 4)],
         "distinct"),
    _row("norm_0", lambda m, x: m.linalg.vector_norm(x, 0, dim=1) * x.sum(1), [(3, 4)], "away"),
    _row("matrix_norm_fro", lambda m, x: m.linalg.matrix_norm(x), [(2, 3, 4)]),
    _row("norm_method", lambda m, x: x.norm(dim=-1), [(2, 3, 4)]),
    # stats.py
    _row("var", lambda m, x: x.var(), [(3, 4)]),
    _row("var_dims_keepdim", lambda m, x: m.var(x, (0, 2), keepdim=True, correction=0),
         [(2, 3, 4)]),
    _row("var_biased_neg_dim", lambda m, x: x.var(-1, False), [(3, 4)]),
    _row("std", lambda m, x: x.std(), [(3, 4)]),
    _row("std_dim", lambda m, x: m.std(x, 1, correction=2), [(3, 5)]),
    _row("std_keepdim_size_one", lambda m, x: m.std(x, (0, 2), keepdim=True), [(3, 1, 4)]),
    _row("var_mean", lambda m, x: m.var_mean(x, 0)[0] * m.var_mean(x, 0)[1], [(4, 3)]),
    _row("std_mean", lambda m, x: m.std_mean(x, -1)[0] + m.std_mean(x, -1)[1], [(2, 3, 4)]),
    # scan.py
    _row("prod", lambda m, x: x.prod(), [(2, 3)]),
    _row("prod_dim", lambda m, x: x.prod(1), [(3, 4)]),
    _row("prod_keepdim_neg", lambda m, x: m.prod(x, -2, keepdim=True), [(2, 3, 2)]),
    _row("prod_0d", lambda m, x: (x * x).prod(), [()]),
    _row("prod_zeros", lambda m, x: x.prod(1), [(4, 5)], "ties"),  # (small ints, zeros among them)
    _row("cumsum", lambda m, x: (x * x).cumsum(1), [(3, 4)]),
    _row("cumsum_neg", lambda m, x: m.cumsum(x.exp(), -3), [(3, 2, 2)]),
    _row("cumprod", lambda m, x: x.cumprod(1), [(3, 4)]),
    _row("cumprod_dim0", lambda m, x: m.cumprod(x, 0), [(4, 2, 3)]),
    _row("cumprod_zeros", lambda m, x: x.cumprod(-1), [(4, 5)], "ties"),
    # extrema.py and order.py (distinct values, exp to keep them apart: the picks do not move in
    # gradcheck)
    _row("max", lambda m, x: x.exp().max(), [(3, 4)], "distinct"),
    _row("min_dim", lambda m, x: x.exp().min(1).values, [(3, 4)], "distinct"),
    _row("max_dim_keepdim", lambda m, x: m.max(x.exp(), -1, keepdim=True).values, [(2, 3, 4)],
         "distinct"),
    _row("max_0d", lambda m, x: m.max(x * x, 0).values, [()]),
    _row("amax", lambda m, x: m.amax(x.exp(), (0, 2)), [(2, 3, 4)], "distinct"),
    _row("amin_keepdim", lambda m, x: m.amin(x.exp(), 1, keepdim=True), [(3, 4)], "distinct"),
    _row("maximum", lambda m, a, b: m.maximum(a.exp(), b * b), [(3, 1), (4,)]),
    _row("minimum", lambda m, a, b: m.minimum(a * a, b.exp()), [(2, 3), (2, 3)]),
    _row("max_other", lambda m, a, b: m.max(a.exp(), b.exp()), [(3, 4), (3, 4)]),
    _row("sort", lambda m, x: m.sort(x.exp(), 1).values, [(3, 4)], "distinct"),
    _row("sort_descending", lambda m, x: m.sort(x.exp(), 0, descending=True).values,
         [(4, 2, 3)], "distinct"),
    _row("topk", lambda m, x: m.topk(x.exp(), 2).values, [(3, 5)], "distinct"),
    _row("topk_smallest", lambda m, x: m.topk(x.exp(), 3, 0, largest=False).values, [(4, 2)],
         "distinct"),
    _row("kthvalue", lambda m, x: m.kthvalue(x.exp(), 2, 1).values, [(3, 4)], "distinct"),
    _row("kthvalue_keepdim", lambda m, x: m.kthvalue(x.exp(), 3, 0, keepdim=True).values,
         [(4, 3)], "distinct"),
    _row("median", lambda m, x: x.exp().median(), [(3, 5)], "distinct"),
    _row("median_dim", lambda m, x: m.median(x.exp(), -1).values, [(3, 4)], "distinct"),
    _row("mode", lambda m, x: m.mode(x.exp(), 1).values, [(3, 4)], "distinct"),
    # losses composed of log_softmax and indexing (their rules are other files')
    _row("cross_entropy", lambda m, x: m.nn.functional.cross_entropy(
        x * x, m.tensor([0, 3, 1])), [(3, 4)]),
    _row("nll_loss", lambda m, x: m.nn.functional.nll_loss(
        m.log_softmax(x, 1) * x, m.tensor([2, 0, 1]), reduction="sum"), [(3, 4)]),
]
ROWS_BY_NAME = {p.values[0]: p.values for p in ROWS}


# ---- the checks ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, fn, shapes, kinds", ROWS)
def test_double_backward_matches_torch(name, fn, shapes, kinds):
    arrays, ws, _, rng = _case(name, shapes, kinds)
    u = _output_weight(fn, arrays, rng)
    ours = second_grads(ts, fn, _leaves(ts, arrays), _t(ts, u), [_t(ts, w) for w in ws])
    theirs = second_grads(torch, fn, _leaves(torch, arrays), _t(torch, u),
                          [_t(torch, w) for w in ws])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_numpy(a), _numpy(b), atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("name, fn, shapes, kinds", ROWS)
def test_gradgradcheck(name, fn, shapes, kinds):
    arrays, _, _, rng = _case(name, shapes, kinds)
    u = _t(ts, _output_weight(fn, arrays, rng))

    def gradient(*xs):
        with ts.enable_grad():  # (gradcheck's differences run under no_grad)
            return tuple(first_grads(ts, fn, list(xs), u))

    assert ts.autograd.gradcheck(gradient, _leaves(ts, arrays), atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name, fn, shapes, kinds", ROWS)
def test_forward_mode_matches_torch(name, fn, shapes, kinds):
    arrays, _, vs, _ = _case(name, shapes, kinds)
    ours = tangent(ts, fn, arrays, vs)
    theirs = tangent(torch, fn, arrays, vs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("name, fn, shapes, kinds", ROWS)
def test_forward_and_reverse_agree(name, fn, shapes, kinds):
    arrays, _, vs, rng = _case(name, shapes, kinds)
    u = _output_weight(fn, arrays, rng)
    _, jv = tangent(ts, fn, arrays, vs)
    xs = _leaves(ts, arrays)
    vjp = ts.autograd.grad((fn(ts, *xs) * _t(ts, u)).sum(), xs, allow_unused=True)
    reverse = sum(float((g.numpy() * v).sum()) for g, v in zip(vjp, vs) if g is not None)
    np.testing.assert_allclose(float((jv * u).sum()), reverse, atol=1e-10, rtol=1e-9)


def third_grads(m, fn, xs, u, ws, vs):
    """The derivative of the second gradients weighted by ``vs``: a third order."""
    return grad_of_weighted(m, second_grads(m, fn, xs, u, ws, create_graph=True), vs, xs)


@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax", "matmul_batched",
                                  "einsum_three", "conv1d_strided_padded", "norm_3", "var",
                                  "std_dim", "prod_zeros", "cumprod", "maximum"])
def test_third_order_matches_torch(name):
    _, fn, shapes, kinds = ROWS_BY_NAME[name]
    arrays, ws, vs, rng = _case(name, shapes, kinds)
    u = _output_weight(fn, arrays, rng)
    ours = third_grads(ts, fn, _leaves(ts, arrays), _t(ts, u), [_t(ts, w) for w in ws],
                       [_t(ts, v) for v in vs])
    theirs = third_grads(torch, fn, _leaves(torch, arrays), _t(torch, u),
                         [_t(torch, w) for w in ws], [_t(torch, v) for v in vs])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_numpy(a), _numpy(b), atol=ATOL, rtol=RTOL)


# ---- the binary ops over drawn shapes -----------------------------------------------------------
def _both_ways_match(fn, arrays, seed):
    """Double backward and forward mode of ``fn`` at ``arrays``, against torch."""
    rng = np.random.default_rng(seed)
    u = _output_weight(fn, arrays, rng)
    ws = [rng.standard_normal(a.shape) for a in arrays]
    ours = second_grads(ts, fn, _leaves(ts, arrays), _t(ts, u), [_t(ts, w) for w in ws])
    theirs = second_grads(torch, fn, _leaves(torch, arrays), _t(torch, u),
                          [_t(torch, w) for w in ws])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_numpy(a), _numpy(b), atol=ATOL, rtol=RTOL)
    for a, b in zip(tangent(ts, fn, arrays, ws), tangent(torch, fn, arrays, ws)):
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=RTOL)


# (products, not exp: of a 0-d input numpy's exp is a scalar, not the output's array, so the
# graph of exp's gradient treats its output as a constant; exp's own file's business)
BINARY = {
    "maximum": lambda m, a, b: m.maximum(a * a, b * b * b),
    "minimum": lambda m, a, b: m.minimum(a * a * a, b * a.sum()),
    "matmul": lambda m, a, b: (a * a) @ (b * b),
}


@FEW
@given(st.sampled_from(sorted(BINARY)), pairs, st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), st.sampled_from(["", "vec_left", "vec_right"]), seeds)
def test_binary_ops_over_broadcast_shapes(op, shapes, n, k, p, vec, seed):
    """maximum/minimum over broadcast shapes; matmul over broadcast batch dims (the pair of
    shapes) and its vector forms."""
    sa, sb = shapes.input_shapes
    if op == "matmul":
        sa = (k,) if vec == "vec_left" else sa + (n, k)
        sb = (k,) if vec == "vec_right" else sb + (k, p)
    rng = np.random.default_rng(seed)
    _both_ways_match(BINARY[op], [rng.standard_normal(sa), rng.standard_normal(sb)], seed)


# ---- the ops with no derivative ------------------------------------------------------------------
def test_bernoulli_has_zero_derivatives_at_every_order_and_in_forward_mode():
    p = ts.tensor([0.2, 0.5, 0.9, 0.7], dtype=ts.float64, requires_grad=True)
    y = ts.bernoulli(p)
    (g,) = ts.autograd.grad((y * p).sum(), p, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), y.detach().numpy())  # d(y p)/dp = y
    assert g.requires_grad  # (through the draw, recorded as in torch) ...
    (h,) = ts.autograd.grad((g * ts.arange(4.0, dtype=ts.float64)).sum(), p)
    np.testing.assert_array_equal(h.numpy(), np.zeros(4))  # ... whose derivative is 0
    with fwAD.dual_level():
        dual = fwAD.make_dual(p.detach(), ts.ones(4, dtype=ts.float64))
        np.testing.assert_array_equal(fwAD.unpack_dual(ts.bernoulli(dual)).tangent.numpy(),
                                      np.zeros(4))


def test_unique_refuses_every_derivative_as_torch():
    x = ts.tensor([1.0, 2.0, 1.0], dtype=ts.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="unique: the derivative for unique is not implemented"):
        ts.autograd.grad(ts.unique(x).sum(), x, create_graph=True)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x.detach(), ts.ones(3, dtype=ts.float64))
        with pytest.raises(NotImplementedError, match="unique: forward-mode AD"):
            ts.unique(dual)
