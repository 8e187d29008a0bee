"""Every differentiable op through ``ts.autograd.gradcheck`` (float64, central differences), and
gradcheck itself: it must pass a correct custom Function and reject a backward that is 1% off.

Inputs keep away from kinks, where the central difference straddles two slopes: relu and abs at 0,
clamp at its bounds, ties of max/min, and the edges of sqrt's and log's domains.
"""
import re

import numpy as np
import pytest

import tinyseq as ts
from tests.strategies import A34, M45, MASK31, MASK34, P34, ROWS, arrays_for


def g(name, fn, *shapes, kind="n"):
    """One row: ``fn(*tensors)`` on float64 inputs of ``shapes`` drawn as ``kind`` (see
    ``tests.strategies.KINDS``; clamp bounds are ``CLAMP_BOUNDS``)."""
    return pytest.param(name, fn, shapes, kind, id=name)


NEG_INF_MASK = np.array([[True, False, False, True], [False, True, False, False], [False] * 4])

CASES = [
    # + - * / ** @ and unary -, with broadcasting, 0-d, scalars and numpy arrays on either side
    g("add_bcast", lambda a, b: a + b, (2, 3, 1), (4,)),
    g("add_0d", lambda a, b: a + b, (), (2, 3)),
    g("sub_bcast", lambda a, b: a - b, (3, 1), (1, 4)),
    g("mul_bcast", lambda a, b: a * b, (2, 3), (3,)),
    g("mul_self", lambda a: a * a, (5,)),
    g("div", lambda a, b: a / b, (3, 4), (4,), kind=("n", "away")),
    g("div_0d_denominator", lambda a, b: a / b, (2, 3), (), kind=("n", "away")),
    g("pow_tensor_tensor", lambda a, b: a ** b, (3, 4), (4,), kind=("pos", "n")),
    g("pow_tensor_tensor_bcast", lambda a, b: a ** b, (2, 1), (3,), kind=("pos", "n")),
    g("pow_int", lambda a: a ** 3, (2, 3)),
    g("pow_fraction", lambda a: a ** 0.5 + a ** -1.5, (5,), kind="pos"),
    g("rpow_scalar", lambda a: 2 ** a, (3, 2)),
    g("rpow_ndarray", lambda a: P34 ** a, (4,)),
    g("pow_ndarray_exponent", lambda a: a ** A34, (3, 1), kind="pos"),
    g("scalars_both_sides", lambda a: (1.5 - a) * 2 + 3 / (a * a + 1) - a / 4, (3, 2)),
    g("ndarrays_both_sides", lambda a: (A34 - a) * A34 + A34 / a, (3, 4), kind="away"),
    g("neg", lambda a: -a, (2, 3)),
    g("matmul_vec_vec", lambda a, b: a @ b, (4,), (4,)),
    g("matmul_vec_mat", lambda a, b: a @ b, (3,), (3, 4)),
    g("matmul_mat_vec", lambda a, b: a @ b, (4, 3), (3,)),
    g("matmul_mat_mat", lambda a, b: a @ b, (2, 3), (3, 5)),
    g("matmul_batched_bcast", lambda a, b: a @ b, (2, 1, 2, 3), (3, 3, 2)),
    g("matmul_batched_vec", lambda a, b: ts.matmul(a, b), (2, 3, 4), (4,)),
    g("matmul_vec_batched", lambda a, b: a @ b, (3,), (2, 3, 2)),
    g("rmatmul_ndarray", lambda a: M45 @ a, (5, 2)),
    g("matmul_ndarray", lambda a: a @ M45, (2, 4)),
    g("linear", lambda x, w, b: ts.nn.functional.linear(x, w, b), (2, 5, 3), (4, 3), (4,)),
    g("linear_vector_input", lambda x, w, b: ts.nn.functional.linear(x, w, b), (3,), (2, 3), (2,)),
    g("linear_no_bias", lambda x, w: ts.nn.functional.linear(x, w), (5, 3), (4, 3)),
    # elementwise functions
    g("exp", lambda a: a.exp(), (2, 3)),
    g("log", lambda a: ts.log(a), (2, 3), kind="pos"),
    g("sqrt", lambda a: a.sqrt(), (5,), kind="pos"),
    g("abs", lambda a: a.abs(), (3, 3), kind="away"),
    g("tanh", lambda a: ts.tanh(a), (2, 3)),
    g("sigmoid", lambda a: a.sigmoid(), (2, 3)),
    g("relu", lambda a: a.relu(), (3, 4), kind="away"),
    g("clamp_min", lambda a: a.clamp(min=-0.3), (3, 4), kind="clamp"),
    g("clamp_max", lambda a: a.clamp(max=0.2), (3, 4), kind="clamp"),
    g("clamp_both", lambda a: ts.clamp(a, -0.5, 0.5), (4, 4), kind="clamp"),
    # reductions and the softmax family
    g("sum_all", lambda a: a.sum(), (2, 3)),
    g("sum_dim_neg_keepdim", lambda a: a.sum(-1, keepdim=True), (2, 3, 2)),
    g("sum_tuple", lambda a: a.sum((0, 2)), (2, 3, 2)),
    g("mean_all", lambda a: a.mean(), (3, 4)),
    g("mean_dim", lambda a: a.mean(1), (2, 3, 2)),
    g("mean_tuple_keepdim", lambda a: ts.mean(a, (-1, 0), keepdim=True), (2, 3, 2)),
    g("max_all", lambda a: a.max(), (3, 4), kind="distinct"),
    g("max_dim", lambda a: a.max(1), (3, 4), kind="distinct"),
    g("max_dim_neg_keepdim", lambda a: a.max(-1, keepdim=True), (2, 3, 2), kind="distinct"),
    g("max_tuple", lambda a: a.max((0, 2)), (2, 3, 2), kind="distinct"),
    g("min_all", lambda a: ts.min(a), (3, 4), kind="distinct"),
    g("min_dim", lambda a: a.min(0), (3, 4), kind="distinct"),
    g("min_tuple_keepdim", lambda a: a.min((1, 2), keepdim=True), (2, 3, 2), kind="distinct"),
    g("logsumexp", lambda a: a.logsumexp(1), (3, 4)),
    g("logsumexp_tuple_keepdim", lambda a: a.logsumexp((0, -1), keepdim=True), (2, 3, 2)),
    g("softmax", lambda a: a.softmax(-1), (3, 4)),
    g("softmax_dim0", lambda a: ts.softmax(a, 0), (3, 4)),
    g("log_softmax", lambda a: a.log_softmax(1), (2, 3, 2)),
    g("logsumexp_big", lambda a: a.logsumexp(1), (3, 4), kind="big"),
    g("softmax_big", lambda a: a.softmax(-1), (3, 4), kind="big"),
    g("log_softmax_big", lambda a: a.log_softmax(-1), (3, 4), kind="big"),
    # shapes
    g("reshape", lambda a: a.reshape(3, -1) * A34, (2, 3, 2)),
    g("view", lambda a: a.view(6) ** 2, (2, 3)),
    g("transpose", lambda a: a.transpose(0, -1) * np.arange(6.0).reshape(2, 3, 1), (1, 3, 2)),
    g("permute", lambda a: a.permute(2, 0, 1) ** 2, (2, 3, 2)),
    g("T", lambda a, b: a.T @ b, (3, 2), (3, 4)),
    g("unsqueeze", lambda a: a.unsqueeze(1) * a.unsqueeze(0), (3,)),
    g("squeeze", lambda a: a.squeeze() ** 2 + a.squeeze(0).sum(), (1, 3, 1)),
    g("expand", lambda a: a.expand(2, -1, 4) * A34, (3, 1)),
    g("flatten", lambda a: a.flatten(1) ** 2, (2, 3, 2)),
    g("split", lambda a: a.split([1, 2], 1), (2, 3)),
    g("split_partly_used", lambda a: a.split(2, 1)[1] * 3, (2, 5)),
    g("chunk", lambda a: (lambda i, f, c: i.sigmoid() * c.tanh() + f)(*a.chunk(3, 1)), (2, 6)),
    g("unbind", lambda a: a.unbind(1), (2, 3)),
    g("unbind_partly_used", lambda a: a.unbind(0)[1] * a.unbind(0)[1], (3, 2)),
    g("masked_fill", lambda a: a.masked_fill(MASK31, 0.5) ** 2, (3, 4)),
    g("masked_fill_neg_inf_softmax", lambda a: a.masked_fill(NEG_INF_MASK, float("-inf"))
      .softmax(-1), (3, 4)),
    g("cat", lambda a, b, c: ts.cat([a, b * b, c], -1), (2, 1), (2, 3), (2, 2)),
    g("stack", lambda a, b: ts.stack([a, b, a * b], 1), (2, 3), (2, 3)),
    g("where", lambda a, b: ts.where(a > 0, a, b * b), (3, 4), (4,), kind=("away", "n")),
    g("where_ndarray_cond_scalar", lambda a: ts.where(MASK34, a, 0.0) * 2, (3, 4)),
    # indexing
    g("index_int", lambda a: a[1] * a[-1], (3, 4)),
    g("index_slices_steps", lambda a: a[1::2, ::2], (4, 5)),
    g("index_neg_slice", lambda a: a[-3:-1, 1:], (4, 3)),
    g("index_none_ellipsis", lambda a: a[None, ..., 1] * a[..., 0], (2, 3, 2)),
    g("index_repeated_list", lambda a: a[[0, 2, 0, 0]] * np.arange(1.0, 5.0)[:, None], (3, 2)),
    g("index_repeated_tensor", lambda a: a[:, ts.tensor([[1, 1], [0, 1]])], (2, 3)),
    g("index_paired_arrays", lambda a: a[[0, 1, 0], [2, 2, 2]], (2, 3)),
    g("index_bool_mask_from_x", lambda a: a[a > 0], (3, 4), kind="away"),
    g("index_bool_rows_and_slice", lambda a: a[ROWS, 1:], (4, 3)),
    g("index_mixed", lambda a: a[1:, None, [0, 0, 2]], (3, 3, 2)),
    g("index_arrays_split_by_slice", lambda a: a[[0, 1, 0], :, [1, 1, 0]], (2, 3, 2)),
    # compositions
    g("lstm_like_step", lambda x, w, h: (lambda i, f, c, o: o.sigmoid() * (
        f.sigmoid() * h + i.sigmoid() * c.tanh()).tanh())(*(ts.cat([x, h], 1) @ w).chunk(4, 1)),
      (2, 3), (5, 8), (2, 2)),
    g("cross_entropy_like", lambda z: -(z.log_softmax(-1)[[0, 1, 2], [3, 0, 3]]).mean(), (3, 4)),
]


@pytest.mark.parametrize("name, fn, shapes, kind", CASES)
def test_gradcheck(name, fn, shapes, kind):
    inputs = [ts.tensor(a, dtype=ts.float64, requires_grad=True)
              for a in arrays_for(name, shapes, kind)]
    assert ts.autograd.gradcheck(fn, inputs) is True


# ---- gradcheck itself ---------------------------------------------------------------------------
class MulOk(ts.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a


class MulOffAtOneElement(MulOk):
    """The gradient of input 1 is 1% too large at element (1, 2) only."""

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        gb = grad * a
        gb[1, 2] *= 1.01
        return grad * b, gb


class CubeOff(ts.autograd.Function):
    """d(x^3)/dx = 3x^2, scaled by ``factor`` (set per test)."""

    factor = 1.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * grad * CubeOff.factor


def _numbers(text):
    return [float(s) for s in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", text)]


def test_gradcheck_passes_a_correct_custom_function():
    a = ts.tensor(np.random.default_rng(0).standard_normal((2, 3)), dtype=ts.float64,
                  requires_grad=True)
    b = ts.tensor(np.random.default_rng(1).standard_normal((2, 3)), dtype=ts.float64,
                  requires_grad=True)
    assert ts.autograd.gradcheck(lambda x, y: MulOk.apply(x, y), (a, b)) is True
    CubeOff.factor = 1.0
    assert ts.autograd.gradcheck(lambda x: CubeOff.apply(x).sum(), (a,)) is True


def test_gradcheck_rejects_a_backward_one_percent_off_and_says_where():
    a = np.random.default_rng(0).uniform(0.5, 2.0, (2, 3))
    a[1, 2] = 1.7
    b = np.random.default_rng(1).standard_normal((2, 3))
    a, b = (ts.tensor(v, dtype=ts.float64, requires_grad=True) for v in (a, b))
    with pytest.raises(ts.autograd.GradcheckError) as info:
        ts.autograd.gradcheck(lambda x, y: MulOffAtOneElement.apply(x, y), (a, b))
    msg = str(info.value)
    assert "input 1" in msg, msg                                 # which input
    assert "(1, 2)" in msg, msg                                  # which element, readably
    nums = _numbers(msg)
    assert any(abs(v - 1.7 * 1.01) < 1e-6 for v in nums), msg   # the analytic value
    assert any(abs(v - 1.7) < 1e-6 for v in nums), msg          # the numerical value



def test_gradcheck_perturbs_a_transposed_input_not_a_copy_of_it():
    """A float64 input laid out column-major (a transpose) is perturbed element by element too:
    the numerical gradient was 0 for it, failing every correct backward."""
    a = np.random.default_rng(2).standard_normal((3, 2)).T  # (2, 3), not C-contiguous
    x = ts.tensor(a, dtype=ts.float64, requires_grad=True)
    assert not x.numpy().flags.c_contiguous
    assert ts.autograd.gradcheck(lambda t: (t * t).sum(1), (x,)) is True
    CubeOff.factor = 1.01
    try:
        with pytest.raises(ts.autograd.GradcheckError, match="input 0"):
            ts.autograd.gradcheck(lambda t: CubeOff.apply(t), (x,))
    finally:
        CubeOff.factor = 1.0

@pytest.mark.parametrize("factor", [1.01, 0.99, -1.0])
def test_gradcheck_rejects_a_scaled_backward(factor):
    x = ts.tensor([0.5, -1.2, 2.0], dtype=ts.float64, requires_grad=True)
    CubeOff.factor = factor
    try:
        with pytest.raises(ts.autograd.GradcheckError, match="input 0"):
            ts.autograd.gradcheck(lambda t: CubeOff.apply(t), (x,))
    finally:
        CubeOff.factor = 1.0


def test_gradcheck_tolerance_is_the_documented_one():
    """A 0.01% error is inside the default rtol=1e-3, and outside a tighter one."""
    x = ts.tensor([0.5, -1.2, 2.0], dtype=ts.float64, requires_grad=True)
    try:
        CubeOff.factor = 1.0001
        assert ts.autograd.gradcheck(lambda t: CubeOff.apply(t), (x,)) is True
        with pytest.raises(ts.autograd.GradcheckError):
            ts.autograd.gradcheck(lambda t: CubeOff.apply(t), (x,), rtol=1e-6, atol=1e-9)
    finally:
        CubeOff.factor = 1.0


def test_gradcheck_rejects_a_nan_gradient():
    class NanGrad(ts.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * np.nan  # never close to the numerical 2

    x = ts.tensor([1.0, 2.0], dtype=ts.float64, requires_grad=True)
    with pytest.raises(ts.autograd.GradcheckError, match="input 0"):
        ts.autograd.gradcheck(lambda t: NanGrad.apply(t), (x,))
