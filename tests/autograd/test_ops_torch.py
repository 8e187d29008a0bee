"""Every op of the contract against PyTorch, in float64: forward values, then every input gradient.

Each case is one row: a name, a function of ``(m, *tensors)`` where ``m`` is the library (``ts`` or
``torch``), the input shapes (broadcasting, size-1 dims, 0-d scalars, odd sizes), and, where the
two libraries spell something differently, a separate torch function. ``compare_with_torch``
checks the outputs (shape, dtype, values), then back-propagates one random upstream gradient
through both and checks every input gradient (values, and that tinyseq's has the input's shape
and dtype). tinyseq runs with numpy warnings turned into errors.
"""
import numpy as np
import pytest

import tinyseq as ts
from tests.strategies import A34, M45, MASK31, MASK34, P34, ROWS, arrays_for
from tests.torch_compare import compare_with_torch, torch


def case(name, fn, *shapes, torch_fn=None, kind="n"):
    """One row of a table: ``fn(m, *tensors)`` on inputs of ``shapes`` drawn as ``kind`` (see
    ``tests.strategies.KINDS``)."""
    return pytest.param(name, fn, torch_fn, shapes, kind, id=name)


def lit(m, a):
    """A numpy constant as it goes into each library: as-is for tinyseq, as a tensor for torch."""
    return a if m is ts else torch.from_numpy(a)


def run(name, fn, torch_fn, shapes, kind, **kw):
    return compare_with_torch(fn, torch_fn, arrays_for(name, shapes, kind), **kw)


# ---- + - * / ** and unary - ---------------------------------------------------------------------
ARITHMETIC = [
    case("add", lambda m, a, b: a + b, (3, 4), (3, 4)),
    case("add_bcast_trailing", lambda m, a, b: a + b, (2, 3, 5), (5,)),
    case("add_bcast_both", lambda m, a, b: a + b, (5, 1, 3), (1, 7, 1)),
    case("add_0d_left", lambda m, a, b: a + b, (), (2, 3)),
    case("add_0d_0d", lambda m, a, b: a + b, (), ()),
    case("add_size1_to_0d", lambda m, a, b: a + b, (1,), ()),
    case("add_same_tensor_twice", lambda m, a: a + a, (3,)),
    case("sub", lambda m, a, b: a - b, (3, 1), (4,)),
    case("sub_0d_right", lambda m, a, b: a - b, (2, 1, 3), ()),
    case("mul", lambda m, a, b: a * b, (2, 3, 4), (3, 1)),
    case("mul_size1", lambda m, a, b: a * b, (1, 1), (5,)),
    case("mul_self", lambda m, a: a * a * a, (7,)),
    case("div", lambda m, a, b: a / b, (3, 4), (4,), kind=("n", "away")),
    case("div_bcast_0d_num", lambda m, a, b: a / b, (), (2, 3), kind=("n", "away")),
    case("div_bcast_both", lambda m, a, b: a / b, (1, 5), (3, 1), kind=("n", "away")),
    case("pow_tensor_tensor", lambda m, a, b: a ** b, (3, 4), (4,), kind=("pos", "n")),
    case("pow_tensor_tensor_bcast", lambda m, a, b: a ** b, (2, 1), (3,), kind=("pos", "n")),
    case("pow_tensor_0d_exponent", lambda m, a, b: a ** b, (5,), (), kind=("pos", "n")),
    case("pow_int_2", lambda m, a: a ** 2, (3, 4)),
    case("pow_int_3_negative_base", lambda m, a: a ** 3, (5,)),
    case("pow_0", lambda m, a: a ** 0, (4,), kind="away"),
    case("pow_half", lambda m, a: a ** 0.5, (2, 3), kind="pos"),
    case("pow_neg_fraction", lambda m, a: a ** -1.5, (5,), kind="pos"),
    case("method_pow", lambda m, a: a.pow(3), (2, 2)),
    case("neg", lambda m, a: -a, (2, 3)),
    case("neg_0d", lambda m, a: -a, ()),
    # Python scalars, either side
    case("add_scalar", lambda m, a: a + 2, (3,)),
    case("radd_scalar", lambda m, a: 2.5 + a, (3, 1)),
    case("sub_scalar", lambda m, a: a - 1.5, (2, 2)),
    case("rsub_scalar", lambda m, a: 1.5 - a, (2, 2)),
    case("mul_scalar", lambda m, a: a * -3, (4,)),
    case("rmul_scalar", lambda m, a: 0.5 * a, ()),
    case("div_scalar", lambda m, a: a / 4, (3,)),
    case("rdiv_scalar", lambda m, a: 4 / a, (3, 2), kind="away"),
    case("rpow_scalar", lambda m, a: 2 ** a, (3, 4)),
    case("rpow_scalar_fraction", lambda m, a: 0.5 ** a, (5,)),
    # numpy arrays, either side
    case("add_ndarray", lambda m, a: a + lit(m, A34), (3, 4)),
    case("radd_ndarray", lambda m, a: lit(m, A34) + a, (4,)),
    case("rsub_ndarray", lambda m, a: lit(m, A34) - a, (3, 1)),
    case("rmul_ndarray", lambda m, a: lit(m, A34) * a, (1, 4)),
    case("rdiv_ndarray", lambda m, a: lit(m, A34) / a, (3, 4), kind="away"),
    case("rpow_ndarray", lambda m, a: lit(m, P34) ** a, (3, 4)),
    case("pow_ndarray_exponent", lambda m, a: a ** lit(m, A34), (4,), kind="pos"),
    case("matmul_ndarray_right", lambda m, a: a @ lit(m, M45), (2, 3, 4)),
    case("linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (5, 3), (4, 3), (4,)),
    case("linear_3d_input", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (2, 5, 3), (4, 3),
         (4,)),
    case("linear_vector_input", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (3,), (4, 3),
         (4,)),
    case("linear_no_bias", lambda m, x, w: m.nn.functional.linear(x, w), (2, 1, 3), (1, 3)),
    # the routes Linear takes by the number of rows: one (outer-product dW), a batch (W xᵀ), many
    case("linear_one_row", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (1, 7), (40, 7),
         (40,)),
    case("linear_batch_rows", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (64, 9), (48, 9),
         (48,)),
    case("linear_one_element_bias", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (3, 4),
         (5, 4), (1,)),
    case("linear_bias_per_row", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (6, 4), (5, 4),
         (6, 5)),
    case("linear_bias_broadcast_3d", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (2, 3, 4),
         (5, 4), (3, 5)),
    case("linear_many_rows", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (5, 13, 6),
         (11, 6), (11,)),
    case("rmatmul_ndarray", lambda m, a: lit(m, M45) @ a, (5, 2)),
    case("expression", lambda m, a, b: (a * b - a / (b * b + 1)) ** 2 + 1 - b, (3, 1), (4,)),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, kind", ARITHMETIC)
def test_arithmetic(name, fn, torch_fn, shapes, kind):
    run(name, fn, torch_fn, shapes, kind)


# ---- elementwise functions ----------------------------------------------------------------------
UNARY = [
    case("exp", lambda m, a: a.exp(), (2, 3)),
    case("exp_0d", lambda m, a: m.exp(a), ()),
    case("log", lambda m, a: a.log(), (3, 1, 2), kind="pos"),
    case("log_fn", lambda m, a: m.log(a), (5,), kind="pos"),
    case("sqrt", lambda m, a: a.sqrt(), (4, 3), kind="pos"),
    case("sqrt_fn_0d", lambda m, a: m.sqrt(a), (), kind="pos"),
    case("abs", lambda m, a: a.abs(), (3, 5), kind="away"),
    case("abs_builtin", lambda m, a: abs(a), (7,), kind="away"),
    case("abs_fn", lambda m, a: m.abs(a), (1, 4), kind="away"),
    case("tanh", lambda m, a: a.tanh(), (2, 5)),
    case("tanh_fn", lambda m, a: m.tanh(a), ()),
    case("sigmoid", lambda m, a: a.sigmoid(), (3, 3)),
    case("sigmoid_fn", lambda m, a: m.sigmoid(a), (1,)),
    case("relu", lambda m, a: a.relu(), (4, 5), kind="away"),
    case("relu_fn", lambda m, a: m.relu(a), (2, 1, 3), kind="away"),
    case("sigmoid_big", lambda m, a: a.sigmoid(), (4, 5), kind="big"),
    case("tanh_big", lambda m, a: a.tanh(), (3, 4), kind="big"),
    case("exp_of_log", lambda m, a: a.log().exp() * a.sqrt(), (3,), kind="pos"),
    case("clamp_min", lambda m, a: a.clamp(min=-0.3), (4, 5)),
    case("clamp_max", lambda m, a: a.clamp(max=0.2), (3, 1, 2)),
    case("clamp_both", lambda m, a: a.clamp(-0.5, 0.5), (5, 3)),
    case("clamp_fn_0d", lambda m, a: m.clamp(a, min=0.1, max=0.9), ()),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, kind", UNARY)
def test_elementwise(name, fn, torch_fn, shapes, kind):
    run(name, fn, torch_fn, shapes, kind)


# ---- reductions and the softmax family ----------------------------------------------------------
def _max(dim, keepdim=False, sign=1):
    """tinyseq's max/min and torch's: ``(values, indices)`` for an int dim, ``amax`` for a tuple."""
    def ts_fn(m, a):
        f = a.max if sign > 0 else a.min
        return f() if dim is None else f(dim=dim, keepdim=keepdim)

    def torch_fn(m, a):
        if dim is None:
            return a.max() if sign > 0 else a.min()
        if isinstance(dim, int):
            return (a.max if sign > 0 else a.min)(dim=dim, keepdim=keepdim)
        return (torch.amax if sign > 0 else torch.amin)(a, dim=dim, keepdim=keepdim)

    return ts_fn, torch_fn


def max_case(name, dim, keepdim, shape, sign=1, kind="n"):
    f, g = _max(dim, keepdim, sign)
    return case(name, f, shape, torch_fn=g, kind=kind)


REDUCTIONS = [
    case("sum_all", lambda m, a: a.sum(), (2, 3, 4)),
    case("sum_0d", lambda m, a: a.sum(), ()),
    case("sum_dim0", lambda m, a: a.sum(0), (5, 3)),
    case("sum_dim_neg", lambda m, a: a.sum(dim=-1), (2, 3, 4)),
    case("sum_dim_tuple", lambda m, a: a.sum(dim=(0, 2)), (2, 3, 4)),
    case("sum_dim_tuple_neg", lambda m, a: a.sum(dim=(-1, 0)), (2, 1, 3)),
    case("sum_keepdim", lambda m, a: a.sum(1, keepdim=True), (3, 5)),
    case("sum_tuple_keepdim", lambda m, a: a.sum((0, 1), keepdim=True), (2, 3, 1)),
    case("sum_size1_dim", lambda m, a: a.sum(1), (4, 1)),
    case("sum_fn", lambda m, a: m.sum(a, dim=1), (1, 7)),
    case("sum_0d_dim0", lambda m, a: a.sum(0), ()),
    case("mean_all", lambda m, a: a.mean(), (3, 5)),
    case("mean_0d", lambda m, a: a.mean(), ()),
    case("mean_0d_dim_neg", lambda m, a: a.mean(-1, keepdim=True), ()),
    case("mean_dim", lambda m, a: a.mean(1), (2, 7, 3)),
    case("mean_dim_neg_keepdim", lambda m, a: a.mean(-2, keepdim=True), (2, 7, 3)),
    case("mean_tuple", lambda m, a: a.mean((0, -1)), (2, 7, 3)),
    case("mean_fn_keepdim", lambda m, a: m.mean(a, 0, keepdim=True), (5,)),
    max_case("max_all", None, False, (3, 4)),
    max_case("max_all_0d", None, False, ()),
    max_case("max_0d_dim0", 0, False, ()),
    max_case("min_0d_tuple", (0,), True, (), sign=-1),
    max_case("max_dim", 1, False, (3, 5)),
    max_case("max_dim_neg_keepdim", -1, True, (2, 3, 4)),
    max_case("max_dim0_size1", 0, False, (1, 4)),
    max_case("max_tuple", (0, 2), False, (2, 3, 4)),
    max_case("max_tuple_keepdim", (1, -1), True, (2, 3, 4)),
    max_case("min_all", None, False, (4, 3), sign=-1),
    max_case("min_dim", 0, False, (5, 2), sign=-1),
    max_case("min_dim_keepdim", -2, True, (3, 4, 2), sign=-1),
    max_case("min_tuple", (0, 1), False, (3, 2, 2), sign=-1),
    # ties: max() and tuple dims share the gradient evenly (torch.amax), an int dim gives it to the
    # first maximal element (torch returns the first index too)
    max_case("max_all_ties", None, False, (4, 5), kind="ties"),
    max_case("max_tuple_ties", (0, 1), False, (4, 5, 2), kind="ties"),
    max_case("max_dim_ties", 1, False, (6, 5), kind="ties"),
    max_case("min_all_ties", None, False, (3, 6), sign=-1, kind="ties"),
    max_case("min_tuple_ties", (-1,), True, (5, 6), sign=-1, kind="ties"),
    case("max_fn", lambda m, a: m.max(a), (2, 3)),
    case("max_of_sums", lambda m, a: (a.sum(0) * a.max()).sum(), (3, 2)),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, kind", REDUCTIONS)
def test_reductions(name, fn, torch_fn, shapes, kind):
    run(name, fn, torch_fn, shapes, kind)


SOFTMAX = [
    case("logsumexp_dim", lambda m, a: a.logsumexp(1), (3, 4)),
    case("logsumexp_neg_keepdim", lambda m, a: a.logsumexp(-1, keepdim=True), (2, 3, 5)),
    case("logsumexp_tuple", lambda m, a: a.logsumexp((0, 2)), (2, 3, 5)),
    case("logsumexp_size1", lambda m, a: a.logsumexp(1), (5, 1)),
    case("logsumexp_1d", lambda m, a: m.logsumexp(a, 0), (7,)),
    case("logsumexp_0d", lambda m, a: a.logsumexp(0), ()),
    case("softmax_0d", lambda m, a: a.softmax(0), ()),
    case("log_softmax_0d", lambda m, a: a.log_softmax(-1), ()),
    case("softmax_dim1", lambda m, a: a.softmax(1), (3, 4)),
    case("softmax_dim0", lambda m, a: a.softmax(0), (3, 4)),
    case("softmax_neg", lambda m, a: a.softmax(-1), (2, 3, 5)),
    case("softmax_size1", lambda m, a: a.softmax(1), (2, 1, 5)),
    case("softmax_1d_fn", lambda m, a: m.softmax(a, 0), (7,)),
    case("log_softmax_dim1", lambda m, a: a.log_softmax(1), (3, 4)),
    case("log_softmax_neg", lambda m, a: a.log_softmax(-2), (2, 3, 5)),
    case("log_softmax_1d_fn", lambda m, a: m.log_softmax(a, 0), (6,)),
    case("log_softmax_size1", lambda m, a: a.log_softmax(0), (1, 3)),
    # logits of +-1000: finite values and gradients, no numpy warning
    case("logsumexp_big", lambda m, a: a.logsumexp(1), (4, 6), kind="big"),
    case("logsumexp_big_tuple", lambda m, a: a.logsumexp((0, 1)), (3, 4), kind="big"),
    case("softmax_big", lambda m, a: a.softmax(-1), (4, 6), kind="big"),
    case("log_softmax_big", lambda m, a: a.log_softmax(-1), (4, 6), kind="big"),
    case("log_softmax_big_dim0", lambda m, a: a.log_softmax(0), (5, 3), kind="big"),
    case("masked_softmax_neg_inf",
         lambda m, a: a.masked_fill(lit(m, ~MASK34 & np.array([[1], [0], [0]], bool)),
                                    float("-inf")).softmax(-1), (3, 4)),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, kind", SOFTMAX)
def test_softmax_family(name, fn, torch_fn, shapes, kind):
    outs, _ = run(name, fn, torch_fn, shapes, kind)
    assert all(np.isfinite(o.numpy()).all() for o in outs)


def test_softmax_of_equal_huge_logits_is_uniform():
    x = np.array([[1000.0, 1000.0, 1000.0], [-1000.0, -1000.0, -1000.0]])
    outs, _ = compare_with_torch(lambda m, a: a.softmax(1), None, [x])
    np.testing.assert_allclose(outs[0].numpy(), np.full((2, 3), 1 / 3), rtol=1e-12)
    outs, _ = compare_with_torch(lambda m, a: a.logsumexp(1), None, [x])
    np.testing.assert_allclose(outs[0].numpy(), [1000 + np.log(3), -1000 + np.log(3)], rtol=1e-12)


# ---- shapes -------------------------------------------------------------------------------------
SHAPES = [
    case("reshape", lambda m, a: a.reshape(4, 6), (2, 3, 4)),
    case("reshape_tuple_minus1", lambda m, a: a.reshape((-1, 1, 3)), (2, 3, 2)),
    case("reshape_0d_to_2d", lambda m, a: a.reshape(1, 1), ()),
    case("reshape_to_0d", lambda m, a: a.reshape(()), (1, 1)),
    case("reshape_fn", lambda m, a: m.reshape(a, (5, -1)), (5, 3)),
    case("view", lambda m, a: a.view(6, 4), (2, 3, 4)),
    case("view_flat", lambda m, a: a.view(-1), (3, 5)),
    case("transpose", lambda m, a: a.transpose(0, 2), (2, 3, 4)),
    case("transpose_neg", lambda m, a: a.transpose(-1, -2), (2, 3, 5)),
    case("transpose_same_dim", lambda m, a: a.transpose(1, 1), (2, 3)),
    case("transpose_fn", lambda m, a: m.transpose(a, 0, 1), (1, 4)),
    case("transpose_0d", lambda m, a: a.transpose(0, -1), ()),
    case("permute", lambda m, a: a.permute(2, 0, 1), (2, 3, 4)),
    case("permute_tuple_neg", lambda m, a: a.permute((-1, 0, 1)), (3, 1, 5)),
    case("T", lambda m, a: a.T, (3, 5)),
    case("T_then_mul", lambda m, a, b: a.T * b, (3, 5), (3,)),
    case("unsqueeze0", lambda m, a: a.unsqueeze(0), (3, 4)),
    case("unsqueeze_neg", lambda m, a: a.unsqueeze(-1), (3, 4)),
    case("unsqueeze_mid", lambda m, a: m.unsqueeze(a, 1), (3, 4)),
    case("unsqueeze_0d", lambda m, a: a.unsqueeze(0), ()),
    case("squeeze_all", lambda m, a: a.squeeze(), (1, 3, 1, 2)),
    case("squeeze_dim", lambda m, a: a.squeeze(0), (1, 3, 1, 2)),
    case("squeeze_neg", lambda m, a: a.squeeze(-2), (1, 3, 1, 2)),
    case("squeeze_not_size1", lambda m, a: a.squeeze(1), (1, 3, 1, 2)),
    case("squeeze_tuple", lambda m, a: a.squeeze((0, 2)), (1, 3, 1, 2)),
    case("squeeze_to_0d", lambda m, a: m.squeeze(a), (1, 1)),
    case("expand", lambda m, a: a.expand(3, 4), (3, 1)),
    case("expand_new_dims_minus1", lambda m, a: a.expand(2, -1, 4), (3, 1)),
    case("expand_0d", lambda m, a: a.expand(3, 2), ()),
    case("expand_tuple", lambda m, a: a.expand((2, 5)), (5,)),
    case("flatten", lambda m, a: a.flatten(), (2, 3, 4)),
    case("flatten_from1", lambda m, a: a.flatten(1), (2, 3, 4)),
    case("flatten_0_1", lambda m, a: a.flatten(0, 1), (2, 3, 4)),
    case("flatten_neg", lambda m, a: m.flatten(a, -2, -1), (2, 3, 4)),
    case("flatten_0d", lambda m, a: a.flatten(), ()),
    case("masked_fill_bcast_mask", lambda m, a: a.masked_fill(lit(m, MASK31), 0.5), (3, 4)),
    case("masked_fill_full_mask", lambda m, a: a.masked_fill(lit(m, MASK34), -2.0), (3, 4)),
    case("masked_fill_tensor_mask", lambda m, a: a.masked_fill(a > 0, 0.0), (2, 5)),
    case("masked_fill_fn", lambda m, a: m.masked_fill(a, lit(m, MASK34[0]), 1.0), (3, 4)),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, kind", SHAPES)
def test_shape_ops(name, fn, torch_fn, shapes, kind):
    run(name, fn, torch_fn, shapes, kind)


SPLITS = [
    case("split_int_uneven", lambda m, a: a.split(2, dim=1), (3, 5)),
    case("split_sizes", lambda m, a: a.split([1, 3, 1], 1), (2, 5, 2)),
    case("split_dim0_ones", lambda m, a: a.split(1), (3, 2)),
    case("split_neg_dim", lambda m, a: a.split(2, -1), (2, 3, 4)),
    case("split_bigger_than_dim", lambda m, a: a.split(10), (3, 2)),
    case("split_one_piece_used", lambda m, a: a.split(2, 1)[1] * 3, (3, 5)),
    case("split_fn", lambda m, a: m.split(a, [2, 1]), (3, 4)),
    case("chunk", lambda m, a: a.chunk(3, 1), (2, 7)),
    case("chunk_uneven_dim0", lambda m, a: a.chunk(2), (5, 3)),
    case("chunk_fewer_pieces", lambda m, a: a.chunk(4, -1), (2, 6)),
    case("chunk_more_than_size", lambda m, a: a.chunk(5), (3,)),
    case("chunk_gates", lambda m, a: (lambda i, f, g, o: i.sigmoid() * g.tanh() + f * o)(
        *a.chunk(4, 1)), (3, 8)),
    case("chunk_one_used", lambda m, a: m.chunk(a, 3, 1)[2], (2, 7)),
    case("unbind", lambda m, a: a.unbind(), (3, 4)),
    case("unbind_neg", lambda m, a: a.unbind(-1), (2, 3, 4)),
    case("unbind_mid", lambda m, a: m.unbind(a, 1), (2, 3, 4)),
    case("unbind_size1", lambda m, a: a.unbind(0), (1, 5)),
    case("unbind_some_used", lambda m, a: a.unbind(1)[0] - a.unbind(1)[2] * 2, (4, 3)),
    case("iterate", lambda m, a: m.stack([r * (i + 1) for i, r in enumerate(a)]), (3, 2)),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, kind", SPLITS)
def test_split_chunk_unbind(name, fn, torch_fn, shapes, kind):
    run(name, fn, torch_fn, shapes, kind)


JOINS = [
    case("cat0", lambda m, a, b: m.cat([a, b]), (2, 3), (4, 3)),
    case("cat1", lambda m, a, b: m.cat([a, b], dim=1), (2, 3), (2, 1)),
    case("cat_neg_three", lambda m, a, b, c: m.cat((a, b, c), -1), (2, 1, 3), (2, 1, 1),
         (2, 1, 5)),
    case("cat_single", lambda m, a: m.cat([a], 0), (3, 2)),
    case("cat_1d", lambda m, a, b: m.cat([a, b]), (1,), (6,)),
    case("cat_same_tensor", lambda m, a: m.cat([a, a * 2], 1), (2, 3)),
    case("stack0", lambda m, a, b: m.stack([a, b]), (2, 3), (2, 3)),
    case("stack1", lambda m, a, b: m.stack([a, b], dim=1), (2, 3), (2, 3)),
    case("stack_new_last", lambda m, a, b, c: m.stack((a, b, c), -1), (4,), (4,), (4,)),
    case("stack_0d", lambda m, a, b, c: m.stack([a, b, c]), (), (), ()),
    case("stack_size1", lambda m, a, b: m.stack([a, b], 2), (1, 3), (1, 3)),
    case("where", lambda m, a, b: m.where(a > 0, a, b), (3, 4), (3, 4)),
    case("where_bcast", lambda m, a, b: m.where(lit(m, MASK31), a, b), (3, 4), (4,)),
    case("where_bcast_cond_tensor", lambda m, a, b, c: m.where(c > 0, a, b),
         (1, 4), (3, 1), (3, 4)),
    case("where_scalar_other", lambda m, a: m.where(a > 0.3, a, 0.0), (2, 5)),
    case("where_0d", lambda m, a, b: m.where(a > b, a, b), (), (3,)),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, kind", JOINS)
def test_cat_stack_where(name, fn, torch_fn, shapes, kind):
    run(name, fn, torch_fn, shapes, kind)


MATMUL = [
    case("vec_vec", lambda m, a, b: a @ b, (5,), (5,)),
    case("vec_mat", lambda m, a, b: a @ b, (3,), (3, 4)),
    case("mat_vec", lambda m, a, b: a @ b, (4, 3), (3,)),
    case("mat_mat", lambda m, a, b: a @ b, (2, 3), (3, 5)),
    case("mat_mat_size1", lambda m, a, b: a @ b, (1, 3), (3, 1)),
    case("batched", lambda m, a, b: a @ b, (2, 3, 4), (2, 4, 5)),
    case("batched_by_mat", lambda m, a, b: a @ b, (2, 3, 4), (4, 5)),
    case("mat_by_batched", lambda m, a, b: a @ b, (3, 4), (2, 4, 5)),
    case("batch_bcast", lambda m, a, b: a @ b, (2, 1, 3, 4), (5, 4, 2)),
    case("batch_bcast_both", lambda m, a, b: a @ b, (1, 3, 2, 3), (4, 1, 3, 2)),
    case("vec_batched", lambda m, a, b: a @ b, (4,), (3, 4, 2)),
    case("batched_vec", lambda m, a, b: a @ b, (2, 3, 4), (4,)),
    case("fn_matmul", lambda m, a, b: m.matmul(a, b), (3, 4), (4, 2)),
    case("linear_layer", lambda m, x, w, b: (x @ w.T + b).tanh(), (5, 3), (4, 3), (4,)),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, kind", MATMUL)
def test_matmul(name, fn, torch_fn, shapes, kind):
    run(name, fn, torch_fn, shapes, kind)


# ---- indexing -----------------------------------------------------------------------------------
def idx(name, index, shape=(4, 5, 3), torch_index=None):
    """``x[index]`` on both (``torch_index`` where torch needs another spelling)."""
    fn = lambda m, x: x[index]  # noqa: E731
    tfn = None if torch_index is None else torch_index
    return case(name, fn, shape, torch_fn=tfn)


INDEXING = [
    idx("int", 1),
    idx("neg_int", -1),
    idx("two_ints", (1, -2)),
    idx("all_ints_to_0d", (3, 0, 2)),
    idx("slice", slice(1, 3)),
    idx("slice_step", (slice(None), slice(None, None, 2))),
    idx("slice_neg_bounds", slice(-3, -1)),
    idx("slice_step_offset", (slice(1, None, 2), slice(None), slice(2, None))),
    idx("slice_empty", slice(2, 2)),
    idx("slice_step_bounds", (slice(None), slice(3, 0, 2))),
    idx("none", None),
    idx("none_mid", (slice(None), None, 1)),
    idx("ellipsis_int", (Ellipsis, 1)),
    idx("ellipsis_none", (Ellipsis, None)),
    idx("int_ellipsis_none", (-1, Ellipsis, None)),
    idx("ellipsis_only", Ellipsis),
    idx("list_repeated", [0, 2, 0, 0]),
    idx("list_neg_repeated", [-1, 0, -1]),
    idx("ndarray_repeated", np.array([1, 1, 3, 1])),
    idx("ndarray_2d_repeated", np.array([[0, 1], [1, 1]])),
    idx("list_dim1_repeated", (slice(None), [1, 1, 0])),
    idx("paired_arrays", ([0, 2, 0], [1, 1, 1])),
    idx("paired_arrays_bcast", (np.array([[0], [3]]), np.array([2, 2, 4]))),
    idx("int_and_array", (1, [0, 0, 4])),
    idx("slice_and_array", (slice(1, None), [0, 0, 2])),
    idx("ellipsis_and_array", (Ellipsis, [1, 1, 0])),
    idx("none_array_slice", (None, [0, 0], slice(1, 3))),
    idx("arrays_split_by_slice", ([0, 1, 0], slice(None), [2, 2, 1])),
    idx("bool_rows", ROWS),
    idx("bool_rows_and_slice", (ROWS, slice(1, None))),
    idx("bool_rows_and_int", (ROWS, 2)),
    idx("bool_full", np.arange(60).reshape(4, 5, 3) % 3 == 0),
    idx("bool_dim1", (slice(None), np.array([True, False, True, True, False]))),
    idx("bool_0d_true", np.array(True)),
    idx("scalar_0d", (), shape=()),
    idx("none_on_0d", None, shape=()),
    case("tensor_index_repeated", lambda m, x: x[m.tensor([0, 2, 0])], (3, 4)),
    case("tensor_index_2d", lambda m, x: x[:, m.tensor([[3, 3], [0, 3]])], (2, 4)),
    case("bool_tensor_mask", lambda m, x: x[x > 0], (4, 5)),
    case("bool_tensor_rows", lambda m, x: x[x.sum(1) > 0], (6, 2)),
    case("index_then_math", lambda m, x: (x[[0, 0, 1]] * x[1:, None]).sum(0), (3, 4)),
    case("embedding_lookup", lambda m, w: w[lit(m, np.array([[1, 0, 1], [4, 4, 4]]))].sum(1),
         (5, 3)),
    case("embedding_negative_ids", lambda m, w: w[lit(m, np.array([-1, 4, 0, -5, 2, 2]))] ** 2,
         (5, 3)),
    case("embedding_rows_of_matrices", lambda m, w: w[lit(m, np.array([[3, 1], [1, 3]]))],
         (4, 2, 3)),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, kind", INDEXING)
def test_indexing(name, fn, torch_fn, shapes, kind):
    run(name, fn, torch_fn, shapes, kind)


def test_repeated_indices_accumulate_their_gradients():
    x = ts.tensor([1.0, 2.0, 3.0], dtype=ts.float64, requires_grad=True)
    x[[2, 0, 2, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 3.0])
    y = ts.tensor(np.zeros((2, 3)), dtype=ts.float64, requires_grad=True)
    y[ts.tensor([1, 1]), ts.tensor([0, 0])].backward(np.array([2.0, 5.0]))
    np.testing.assert_array_equal(y.grad.numpy(), [[0, 0, 0], [7, 0, 0]])


# ---- no gradient: comparisons, argmax/argmin ----------------------------------------------------
COMPARISONS = [
    case("lt", lambda m, a, b: a < b, (3, 4), (4,)),
    case("le", lambda m, a, b: a <= b, (3, 1), (1, 4), kind="ties"),
    case("gt", lambda m, a, b: a > b, (), (5,)),
    case("ge", lambda m, a, b: a >= b, (2, 3), (2, 3), kind="ties"),
    case("eq", lambda m, a, b: a == b, (4, 3), (3,), kind="ties"),
    case("ne", lambda m, a, b: a != b, (4, 3), (4, 1), kind="ties"),
    case("gt_scalar", lambda m, a: a > 0, (3, 4)),
    case("scalar_lt_reflected", lambda m, a: 0.5 < a, (5,)),
    case("eq_scalar", lambda m, a: a == 1, (4, 4), kind="ties"),
    case("le_ndarray", lambda m, a: a <= lit(m, A34), (3, 4)),
    case("ndarray_ge_reflected", lambda m, a: lit(m, A34) >= a, (4,)),
    case("argmax_all", lambda m, a: a.argmax(), (3, 4)),
    case("argmax_dim", lambda m, a: a.argmax(1), (3, 4)),
    case("argmax_neg_keepdim", lambda m, a: a.argmax(-1, keepdim=True), (2, 3, 4)),
    case("argmax_ties_first", lambda m, a: m.argmax(a, 0), (6, 5), kind="ties"),
    case("argmin_all", lambda m, a: a.argmin(), (5,)),
    case("argmin_dim", lambda m, a: a.argmin(dim=0), (4, 3)),
    case("argmin_ties_first", lambda m, a: m.argmin(a, dim=1, keepdim=True), (5, 6), kind="ties"),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, kind", COMPARISONS)
def test_comparisons_and_arg_reductions_have_no_gradient(name, fn, torch_fn, shapes, kind):
    outs, _ = run(name, fn, torch_fn, shapes, kind)
    for o in outs:
        assert o.grad_fn is None and not o.requires_grad
        assert o.numpy().dtype in (np.bool_, np.int64)


# ---- dtypes -------------------------------------------------------------------------------------
FLOAT32 = [
    case("f32_mul_float", lambda m, a: a * 2.5, (3, 4)),
    case("f32_rmul_float", lambda m, a: 2.5 * a, (3,)),
    case("f32_rpow_int", lambda m, a: 2 ** a, (2, 3)),
    case("f32_rpow_float", lambda m, a: 1.5 ** a, (4,)),
    case("f32_pow_int", lambda m, a: a ** 2, (3,)),
    case("f32_pow_float", lambda m, a: a ** 1.5, (3,), kind="pos"),
    case("f32_div_int", lambda m, a: a / 3, (2, 2)),
    case("f32_rsub_float", lambda m, a: 1.0 - a, (5,)),
    case("f32_add_int", lambda m, a: a + 1, ()),
    case("f32_clamp", lambda m, a: a.clamp(0.1), (4,)),
    case("f32_where_scalar", lambda m, a: m.where(a > 0, a, 0.0), (2, 3)),
    case("f32_masked_fill", lambda m, a: a.masked_fill(lit(m, MASK34), 1.5), (3, 4)),
    case("f32_softmax", lambda m, a: a.softmax(-1), (3, 4)),
    case("f32_logsumexp_big", lambda m, a: a.logsumexp(1), (3, 4), kind="big"),
    case("f32_mean", lambda m, a: a.mean(1), (3, 5)),
    case("f32_max", lambda m, a: a.max(), (3, 5)),
    case("f32_index", lambda m, a: a[[0, 0, 1]], (3, 2)),
    case("f32_exp_log", lambda m, a: a.exp().log().sqrt(), (3,), kind="pos"),
]


@pytest.mark.parametrize("name, fn, torch_fn, shapes, kind", FLOAT32)
def test_float32_stays_float32(name, fn, torch_fn, shapes, kind):
    outs, _ = run(name, fn, torch_fn, shapes, kind, dtype=np.float32)
    assert all(o.numpy().dtype == np.float32 for o in outs)


def mixed(name, fn, *inputs):
    """A case whose inputs are ``(shape, kind, dtype)``: int64, float32, float64 side by side."""
    return pytest.param(name, fn, inputs, id=name)


I64, F32, F64 = np.int64, np.float32, np.float64
MIXED = [
    mixed("int_plus_f32", lambda m, i, x: i + x, ((3, 4), "int", I64), ((3, 4), "n", F32)),
    mixed("f32_times_int_bcast", lambda m, i, x: x * i, ((4,), "int", I64), ((3, 4), "n", F32)),
    mixed("int_times_float_scalar", lambda m, i: i * 2.5, ((3,), "int", I64)),
    mixed("int_plus_int_scalar_stays_int", lambda m, i: i + 1, ((3,), "int", I64)),
    mixed("int_div_int_scalar", lambda m, i: i / 2, ((3,), "int", I64)),
    mixed("int_div_int", lambda m, i, j: i / j, ((3,), "int", I64), ((3,), "pint", I64)),
    mixed("f32_mul_f64", lambda m, a, b: a * b, ((3, 4), "n", F32), ((4,), "n", F64)),
    mixed("f32_div_f64", lambda m, a, b: a / b, ((2, 3), "n", F32), ((2, 1), "away", F64)),
    mixed("f64_sub_f32_0d", lambda m, a, b: a - b, ((2, 3), "n", F64), ((), "n", F32)),
    mixed("f32_pow_f64", lambda m, a, b: a ** b, ((3,), "pos", F32), ((3,), "n", F64)),
    # torch's matmul refuses mixed dtypes; numpy's (tinyseq's) promotes, as a cast first would
    mixed("f32_matmul_f64", lambda m, a, b: (a @ b) if m is ts else (a.double() @ b),
          ((2, 3), "n", F32), ((3, 4), "n", F64)),
    mixed("f32_cat_f64", lambda m, a, b: m.cat([a, b]), ((2, 3), "n", F32), ((1, 3), "n", F64)),
    mixed("f32_stack_f64", lambda m, a, b: m.stack([a, b], 1), ((3,), "n", F64), ((3,), "n", F32)),
    mixed("f32_where_f64", lambda m, a, b: m.where(a > 0, a, b),
          ((3, 4), "n", F32), ((4,), "n", F64)),
]


@pytest.mark.parametrize("name, fn, inputs", MIXED)
def test_mixed_dtypes_promote_like_torch_and_grads_keep_input_dtype(name, fn, inputs):
    shapes, kinds, dtypes = zip(*inputs)
    arrays = [a.astype(d) for a, d in zip(arrays_for(name, shapes, kinds), dtypes)]
    # compare_with_torch checks each output's dtype against torch's, and each gradient's dtype
    # against its own input's (a float32 input's gradient stays float32 next to float64)
    compare_with_torch(fn, None, arrays, dtype=None)


def test_max_over_one_dim_sends_the_gradient_to_the_argmax_element_and_amax_shares_ties():
    x = ts.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0]], dtype=ts.float64, requires_grad=True)
    x.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    x.grad = None
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [0, 0, 0]])
    x.grad = None
    x.min(dim=(0, 1)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.5, 0, 0], [0, 0, 0.5]])


def test_float32_gradients_of_a_mixed_graph_are_float32():
    a = ts.tensor(np.ones((2, 3)), dtype=ts.float32, requires_grad=True)
    b = ts.tensor(np.full(3, 2.0), dtype=ts.float64, requires_grad=True)
    out = (a * b).sum()
    assert out.dtype == np.float64
    out.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 2.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(3, 2.0))
