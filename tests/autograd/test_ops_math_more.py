"""The ops of ``unary``, ``rounding``, ``logic``, ``scan``, ``stats``, ``norms``, ``einsum``, the
fixed-shape products and the factories added with them, against PyTorch: values, dtypes and every
gradient (``compare_with_torch``), gradients again by ``gradcheck`` in float64, and bad input
refused in one line with torch's exception type."""
import math
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tests.strategies import arrays_for
from tests.torch_compare import compare_with_torch, torch
from tinyseq.autograd.ops import (einsum, logic, norms, rounding, sample, scan, stats,
                                  unary)

INF = math.inf

# (id, fn of (module, *tensors), shapes, data kind): each differentiable op against torch
DIFFERENTIABLE = [
    ("sin", lambda m, x: m.sin(x), [(3, 4)], "n"),
    ("cos", lambda m, x: x.cos(), [(3, 4)], "n"),
    ("rsqrt", lambda m, x: m.rsqrt(x), [(3, 4)], "pos"),
    ("reciprocal", lambda m, x: x.reciprocal(), [(3, 4)], "away"),
    ("square", lambda m, x: m.square(x), [(3, 4)], "n"),
    ("log1p", lambda m, x: m.log1p(x), [(3, 4)], "pos"),
    ("expm1", lambda m, x: x.expm1(), [(3, 4)], "n"),
    ("log2", lambda m, x: m.log2(x), [(3, 4)], "pos"),
    ("log10", lambda m, x: x.log10(), [(3, 4)], "pos"),
    ("remainder", lambda m, a, b: m.remainder(a, b), [(3, 4), (4,)], ("n", "away")),
    ("mod-op", lambda m, a, b: a % b, [(3, 1), (1, 4)], ("n", "away")),
    ("fmod", lambda m, a, b: m.fmod(a, b), [(3, 4), (3, 1)], ("n", "away")),
    ("fmod-scalar", lambda m, a: a.fmod(0.7), [(3, 4)], "n"),
    ("div-floor", lambda m, a, b: m.div(a, b, rounding_mode="floor"), [(3, 4), (4,)],
     ("n", "away")),
    ("div-trunc", lambda m, a, b: a.div(b, rounding_mode="trunc"), [(3, 4), (4,)],
     ("n", "away")),
    ("prod", lambda m, x: x.prod(), [(2, 3)], "n"),
    ("prod-dim", lambda m, x: m.prod(x, 1, keepdim=True), [(2, 3, 2)], "n"),
    ("prod-neg-dim", lambda m, x: x.prod(-1), [(4, 3)], "n"),
    ("cumsum", lambda m, x: m.cumsum(x, 1), [(3, 4)], "n"),
    ("cumsum-neg", lambda m, x: x.cumsum(dim=-3), [(2, 3, 2)], "n"),
    ("cumprod", lambda m, x: m.cumprod(x, 0), [(4, 3)], "n"),
    ("cumprod-1", lambda m, x: x.cumprod(dim=-1), [(2, 5)], "n"),
    ("var", lambda m, x: x.var(), [(3, 4)], "n"),
    ("var-dim", lambda m, x: m.var(x, 1, keepdim=True), [(3, 4)], "n"),
    ("var-dims-corr", lambda m, x: x.var(dim=(0, 2), correction=0), [(2, 3, 4)], "n"),
    ("var-unbiased", lambda m, x: x.var(0, False), [(3, 4)], "n"),
    ("var-flag", lambda m, x: x.var(False), [(3, 4)], "n"),
    ("std", lambda m, x: m.std(x), [(3, 4)], "n"),
    ("std-dim", lambda m, x: x.std(-1, keepdim=True), [(3, 4)], "n"),
    ("std-corr2", lambda m, x: x.std(dim=0, correction=2), [(5, 2)], "n"),
    ("std_mean", lambda m, x: m.std_mean(x, 1), [(3, 4)], "n"),
    ("var_mean", lambda m, x: m.var_mean(x, dim=(0, 1), keepdim=True), [(3, 4)], "n"),
    ("norm", lambda m, x: x.norm(), [(3, 4)], "n"),
    ("norm-dim", lambda m, x: m.norm(x, dim=1, keepdim=True), [(3, 4)], "n"),
    ("norm-p1", lambda m, x: x.norm(p=1, dim=0), [(3, 4)], "away"),
    ("norm-p3", lambda m, x: x.norm(3, dim=(0, 1)), [(3, 4)], "away"),
    ("norm-pinf", lambda m, x: x.norm(p=INF, dim=1), [(3, 4)], "distinct"),
    ("norm-p-inf", lambda m, x: m.norm(x, p=-INF), [(3, 4)], "distinct"),
    ("vector_norm", lambda m, x: m.linalg.vector_norm(x, ord=2, dim=(1, 2)), [(2, 3, 4)], "n"),
    ("vector_norm-0.5", lambda m, x: m.linalg.vector_norm(x, 0.5), [(5,)], "away"),
    ("linalg.norm", lambda m, x: m.linalg.norm(x), [(2, 3, 4)], "n"),
    ("linalg.norm-vec", lambda m, x: m.linalg.norm(x, ord=1, dim=-1), [(3, 4)], "away"),
    ("linalg.norm-fro", lambda m, x: m.linalg.norm(x, dim=(0, 1)), [(3, 4)], "n"),
    ("matrix_norm-1", lambda m, x: m.linalg.matrix_norm(x, ord=1), [(2, 3, 4)], "away"),
    ("matrix_norm-inf", lambda m, x: m.linalg.norm(x, ord=INF), [(3, 4)], "away"),
    ("matrix_norm--1", lambda m, x: m.linalg.matrix_norm(x, -1, keepdim=True), [(3, 4)], "away"),
    ("matrix_norm--inf", lambda m, x: m.linalg.matrix_norm(x, -INF, dim=(0, 1)), [(3, 4)],
     "away"),
    ("mm", lambda m, a, b: m.mm(a, b), [(2, 3), (3, 4)], "n"),
    ("mv", lambda m, a, b: a.mv(b), [(2, 3), (3,)], "n"),
    ("dot", lambda m, a, b: m.dot(a, b), [(5,), (5,)], "n"),
    ("outer", lambda m, a, b: m.outer(a, b), [(2,), (3,)], "n"),
    ("addmm", lambda m, c, a, b: m.addmm(c, a, b), [(4,), (2, 3), (3, 4)], "n"),
    ("addmm-scaled", lambda m, c, a, b: c.addmm(a, b, beta=0.5, alpha=2.0),
     [(2, 4), (2, 3), (3, 4)], "n"),
    ("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b, alpha=-1.5), [(1, 2, 4), (3, 2, 3),
                                                                     (3, 3, 4)], "n"),
    ("einsum-bmm", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [(2, 3, 4), (2, 4, 5)], "n"),
    ("einsum-outer", lambda m, a, b: m.einsum("i,j->ij", a, b), [(3,), (4,)], "n"),
    ("einsum-bth", lambda m, a, b: m.einsum("bth,h->bt", a, b), [(2, 5, 3), (3,)], "n"),
    ("einsum-T", lambda m, a: m.einsum("ij->ji", a), [(3, 4)], "n"),
    ("einsum-sum", lambda m, a: m.einsum("ij->", a), [(3, 4)], "n"),
    ("einsum-implicit", lambda m, a, b: m.einsum("ij,jk", a, b), [(2, 3), (3, 4)], "n"),
    ("einsum-attn", lambda m, q, k: m.einsum("bqd,bkd->bqk", q, k), [(2, 3, 4), (2, 5, 4)], "n"),
    ("einsum-list", lambda m, a, b: m.einsum("bhqk,bhkd->bhqd", [a, b]),
     [(2, 2, 3, 4), (2, 2, 4, 5)], "n"),
    ("einsum-ellipsis", lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
     [(2, 3, 4), (1, 4, 2)], "n"),
    ("einsum-broadcast", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [(1, 3, 4), (2, 4, 5)],
     "n"),
    ("einsum-only-mine", lambda m, a, b: m.einsum("ij,k->i", a, b), [(2, 3), (4,)], "n"),
    ("einsum-three", lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b, c),
     [(2, 3), (3, 4), (4, 2)], "n"),
]
IDS = [row[0] for row in DIFFERENTIABLE]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, fn, shapes, kind", DIFFERENTIABLE, ids=IDS)
def test_differentiable_ops_match_torch(name, fn, shapes, kind, dtype):
    compare_with_torch(fn, arrays=arrays_for(name, shapes, kind), dtype=dtype)


@pytest.mark.parametrize("name, fn, shapes, kind", DIFFERENTIABLE, ids=IDS)
def test_differentiable_ops_pass_gradcheck(name, fn, shapes, kind):
    inputs = [ts.tensor(a, dtype=ts.float64, requires_grad=True)
              for a in arrays_for(name, shapes, kind)]
    assert ts.autograd.gradcheck(lambda *xs: fn(ts, *xs), inputs)


# ---- zeros in products, and the gradients torch defines at kinks ------------------------------
@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, -1.0], [0.0, 2.0, 0.0, 5.0], [0.0] * 4,
                                    [1.5, -2.0, 0.5, 4.0]])
@pytest.mark.parametrize("op", ["prod", "cumprod"])
def test_products_with_zeros_have_torchs_gradient(values, op):
    a = np.array([values, values[::-1]])
    fn = (lambda m, x: x.prod(1)) if op == "prod" else (lambda m, x: x.cumprod(1))
    compare_with_torch(fn, arrays=[a])
    x = ts.tensor(a, requires_grad=True)
    assert ts.autograd.gradcheck(lambda x: fn(ts, x), (x,))


@pytest.mark.parametrize("fn", [
    lambda m, x: x.std(1), lambda m, x: x.norm(dim=1), lambda m, x: m.linalg.vector_norm(x, 3, 1),
    lambda m, x: x.norm(p=INF, dim=1), lambda m, x: x.norm(p=1, dim=1),
], ids=["std", "norm2", "norm3", "norm-inf", "norm1"])
def test_spread_and_norms_at_zero_and_at_ties_are_torchs(fn):
    a = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0], [3.0, 3.0, 3.0]])
    out, _ = compare_with_torch(fn, arrays=[a])
    assert np.isfinite(out[0].numpy()).all()


@pytest.mark.parametrize("p", [0.5, 1.5, 3.0, 0.0])
def test_vector_norms_with_zero_elements_have_torchs_gradient(p):
    a = np.array([[0.0, 0.0, 3.0], [0.0, -1.0, 2.0]])
    compare_with_torch(lambda m, x: m.linalg.vector_norm(x, p, dim=1), arrays=[a])


def test_var_with_no_degrees_of_freedom_is_nan_or_inf_and_warns_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (both warn, as the next lines check)
        compare_with_torch(lambda m, x: (x.var(), x.var(correction=3)),
                           arrays=[np.array([1.0, 2.0])], requires_grad=False, strict=False)
        compare_with_torch(lambda m, x: x.std(0), arrays=[np.ones((1, 3))], requires_grad=False,
                           strict=False)
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        torch.ones(1).std()
    with pytest.warns(UserWarning, match=r"std\(\): degrees of freedom is <= 0 \(correction 1 "
                                         "for 1 elements\\)"):
        assert math.isnan(ts.ones(1).std().item())


# ---- step functions: values of every dtype, a gradient of zeros -------------------------------
STEP_VALUES = np.array([-2.5, -1.5, -0.5, -0.0, 0.0, 0.4, 0.5, 1.5, 2.5, 2.7, np.nan, np.inf])


@pytest.mark.parametrize("fn", [
    lambda m, x: m.floor(x), lambda m, x: x.ceil(), lambda m, x: m.round(x),
    lambda m, x: x.trunc(), lambda m, x: m.sign(x), lambda m, x: x.round(decimals=1),
    lambda m, x: m.round(x * 123.456, decimals=-1), lambda m, x: m.round(x / 7, decimals=3),
], ids=["floor", "ceil", "round", "trunc", "sign", "round1", "round-1", "round3"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step_functions_match_torch_with_zero_gradients(fn, dtype):
    out, _ = compare_with_torch(fn, arrays=[STEP_VALUES], dtype=dtype, strict=False)
    assert out[0].grad_fn is not None


@pytest.mark.parametrize("op", ["floor", "ceil", "round", "trunc", "sign", "square"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_step_functions_and_square_keep_integers(op, dtype):
    compare_with_torch(lambda m, x: getattr(m, op)(x), arrays=[np.array([-3, 0, 2, 7], dtype)])


def test_dtypes_of_the_math_ops_are_torchs():
    for op in ["sin", "cos", "rsqrt", "reciprocal", "log1p", "expm1", "log2", "log10"]:
        compare_with_torch(lambda m, x: getattr(m, op)(x), arrays=[np.array([1, 2, 4])],
                           atol=1e-6, rtol=1e-6)  # (float32 results)
    compare_with_torch(lambda m, x: (m.square(x), m.sign(x)), arrays=[np.array([True, False])])


# ---- integer division and remainders ----------------------------------------------------------
INT_A, INT_B = np.array([7, -7, 7, -7, 0, 5]), np.array([2, 2, -2, -2, 3, 5])


@pytest.mark.parametrize("fn", [
    lambda m, a, b: a // b, lambda m, a, b: a % b, lambda m, a, b: m.fmod(a, b),
    lambda m, a, b: m.floor_divide(a, b), lambda m, a, b: m.remainder(a, b),
    lambda m, a, b: m.divide(a, b, rounding_mode="trunc"),
    lambda m, a, b: a.divide(b, rounding_mode="floor"),
    lambda m, a, b: m.div(a, b), lambda m, a, b: a // 2.5, lambda m, a, b: 9 // b,
    lambda m, a, b: -9 % b, lambda m, a, b: a.fmod(-3), lambda m, a, b: a.float() // b,
    lambda m, a, b: a.double() % b,
], ids=["//", "%", "fmod", "floor_divide", "remainder", "trunc", "floor", "div", "//float",
        "r//", "r%", "fmod-scalar", "float//", "double%"])
def test_integer_division_matches_torch(fn):
    compare_with_torch(fn, arrays=[INT_A, INT_B])


def test_float_division_by_zero_gives_torchs_inf_and_nan():
    a, b = np.array([1.0, -1.0, 0.0, 3.0]), np.zeros(4)
    compare_with_torch(lambda m, a, b: (a // b, a % b, m.fmod(a, b),
                                        m.divide(a, b, rounding_mode="trunc")),
                       arrays=[a, b], requires_grad=False, strict=False)


@pytest.mark.parametrize("fn", [lambda x: x // ts.tensor([0, 1]), lambda x: x % 0,
                                lambda x: ts.fmod(x, ts.tensor([1, 0])),
                                lambda x: x.divide(0, rounding_mode="floor")])
def test_integer_division_by_zero_is_refused_as_torch(fn):
    with pytest.raises(RuntimeError, match="integer division by zero"):
        fn(ts.tensor([4, 5]))


def test_floor_divide_has_no_derivative_as_in_torch():
    x = ts.tensor([3.0, 4.0], requires_grad=True)
    y = x // 2
    assert y.requires_grad and y.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="floor_divide: the derivative .* not implemented"):
        y.sum().backward()


def test_a_number_remainder_a_tensor_has_no_derivative_as_in_torch():
    b = ts.tensor([2.0, -3.0], requires_grad=True)
    y = 7.5 % b
    assert y.tolist() == [1.5, -1.5] and y.requires_grad
    with pytest.raises(RuntimeError, match="remainder: the derivative of a number % a tensor"):
        y.sum().backward()


def test_div_refuses_an_unknown_rounding_mode():
    with pytest.raises(RuntimeError, match="div: rounding_mode must be None, 'trunc' or 'floor', "
                                           "got 'round'"):
        ts.divide(ts.ones(2), 2, rounding_mode="round")


# ---- logic ------------------------------------------------------------------------------------
BOOLS = np.array([True, False, True, False])
OTHER = np.array([True, True, False, False])


@pytest.mark.parametrize("fn", [
    lambda m, a, b: ~a, lambda m, a, b: a & b, lambda m, a, b: a | b, lambda m, a, b: a ^ b,
    lambda m, a, b: True & a, lambda m, a, b: False | a, lambda m, a, b: True ^ a,
    lambda m, a, b: m.logical_not(a), lambda m, a, b: m.logical_and(a, b),
    lambda m, a, b: a.logical_or(b), lambda m, a, b: m.logical_xor(a, b),
    lambda m, a, b: m.bitwise_not(a), lambda m, a, b: a.bitwise_and(b),
], ids=["~", "&", "|", "^", "r&", "r|", "r^", "not", "and", "or", "xor", "bnot", "band"])
def test_bool_logic_matches_torch(fn):
    compare_with_torch(fn, arrays=[BOOLS, OTHER])


@pytest.mark.parametrize("fn", [
    lambda m, a, b: ~a, lambda m, a, b: a & b, lambda m, a, b: a | 5, lambda m, a, b: a ^ b,
    lambda m, a, b: 6 & a, lambda m, a, b: m.logical_and(a, b.float()),
    lambda m, a, b: m.logical_not(a.float()), lambda m, a, b: m.bitwise_xor(a, b),
])
def test_bitwise_ops_on_integers_match_torch(fn):
    compare_with_torch(fn, arrays=[np.array([0, 3, -4, 12]), np.array([1, 6, 5, -1])])


def test_bitwise_ops_refuse_floats_with_torchs_types():
    x = ts.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"~ \(operator.invert\) is only implemented on integer"):
        ~x
    with pytest.raises(NotImplementedError, match="bitwise_and: bitwise ops take integer or bool "
                                                  "tensors, got float32"):
        x & x
    with pytest.raises(NotImplementedError, match="bitwise_not: .* got float32"):
        ts.bitwise_not(x)


VALUES = np.array([[1.0, np.nan, -np.inf], [0.0, np.inf, 2.0]])


@pytest.mark.parametrize("fn", [
    lambda m, x: m.isnan(x), lambda m, x: x.isinf(), lambda m, x: m.isfinite(x),
    lambda m, x: m.isposinf(x), lambda m, x: x.isneginf(),
    lambda m, x: m.isclose(x, x + 1e-9), lambda m, x: m.isclose(x, x, equal_nan=True),
    lambda m, x: x.isclose(m.zeros(3, dtype=m.float64), atol=1.5),
    lambda m, x: m.any(x), lambda m, x: x.all(), lambda m, x: x.any(dim=1),
    lambda m, x: m.all(x, 0, keepdim=True), lambda m, x: x.any(dim=(0, 1)),
    lambda m, x: m.count_nonzero(x), lambda m, x: x.count_nonzero(dim=0),
    lambda m, x: m.count_nonzero(x, dim=(0, 1)), lambda m, x: x.nonzero(),
    lambda m, x: m.nonzero(x, as_tuple=True), lambda m, x: m.argwhere(x),
    lambda m, x: x[1, 0].nonzero(), lambda m, x: x[0, 0].nonzero(as_tuple=True),
], ids=["isnan", "isinf", "isfinite", "isposinf", "isneginf", "isclose", "isclose-nan",
        "isclose-atol", "any", "all", "any-dim", "all-keep", "any-tuple", "count", "count-dim",
        "count-tuple", "nonzero", "nonzero-tuple", "argwhere", "nonzero-0d-zero", "nonzero-0d"])
def test_value_tests_match_torch(fn):
    compare_with_torch(fn, arrays=[VALUES], strict=False)


def test_any_and_all_of_integers_and_empty_tensors_match_torch():
    compare_with_torch(lambda m, x: (x.any(), x.all(1), m.zeros(0).all(), m.zeros(2, 0).any(1)),
                       arrays=[np.array([[0, 2], [0, 0]])])
    compare_with_torch(lambda m, x: (x.any(), x.all()), arrays=[np.array([1, 2], np.uint8)])


def test_allclose_and_equal_return_python_bools_as_torch():
    a = np.array([1.0, 2.0, np.nan])
    for fn in [lambda m, x: m.allclose(x, x), lambda m, x: m.allclose(x, x, equal_nan=True),
               lambda m, x: x.allclose(x + 1e-4, rtol=0, atol=1e-3),
               lambda m, x: m.equal(x, x), lambda m, x: m.equal(x[:2], x[:2] + 0.0),
               lambda m, x: m.equal(x[:2], x[:1]), lambda m, x: m.equal(x[:2], x[:2].long())]:
        mine, theirs = fn(ts, ts.tensor(a, dtype=ts.float64)), fn(torch, torch.tensor(a))
        assert type(mine) is bool and mine == theirs


def test_isclose_refuses_what_torch_refuses():
    with pytest.raises(RuntimeError, match="isclose: the tensors have dtypes int64 and float32"):
        ts.isclose(ts.tensor([1]), ts.tensor([1.0]))
    with pytest.raises(RuntimeError, match="isclose: rtol must be greater than or equal to zero"):
        ts.allclose(ts.ones(2), ts.ones(2), rtol=-1)
    with pytest.raises(ts.ShapeError, match=r"isclose: shapes \(2,\) and \(3,\) cannot be"):
        ts.allclose(ts.ones(2), ts.ones(3))


@pytest.mark.parametrize("kwargs", [{}, {"return_inverse": True}, {"return_counts": True},
                                    {"return_inverse": True, "return_counts": True},
                                    {"sorted": False}])
def test_unique_matches_torch(kwargs):
    a = np.array([[3, 1, 3], [2, 1, 7]])
    compare_with_torch(lambda m, x: m.unique(x, **kwargs), arrays=[a])
    compare_with_torch(lambda m, x: x.unique(**kwargs), arrays=[np.array([2.0, np.nan, 2.0, -1.0])],
                       requires_grad=False)


def test_unique_refuses_dim_and_its_derivative_as_torch():
    with pytest.raises(NotImplementedError, match="unique: dim=0 is not supported"):
        ts.unique(ts.tensor([[1, 2]]), dim=0)
    y = ts.tensor([2.0, 1.0, 2.0], requires_grad=True).unique()
    assert y.requires_grad and y.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="unique: the derivative for unique is not implemented"):
        y.sum().backward()


# ---- reductions: dtypes and refusals ----------------------------------------------------------
def test_integer_products_and_sums_are_int64_as_torch():
    compare_with_torch(lambda m, x: (x.prod(), x.prod(0), x.cumsum(1), x.cumprod(0),
                                     m.cumsum(x.bool(), 0), x.prod(dtype=m.float64),
                                     x.cumsum(0, dtype=m.float32)),
                       arrays=[np.array([[1, 2, 3], [4, -5, 6]], np.int32)])
    compare_with_torch(lambda m, x: (x.prod(), x.cumsum(0), x.cumprod(-1), x.prod(0)),
                       arrays=[np.array(2.5)])


@pytest.mark.parametrize("call, error, message", [
    (lambda: ts.ones(2, 3).prod(dim=(0, 1)), TypeError, "prod: dim must be one int"),
    (lambda: ts.ones(2).cumsum(1), IndexError, "cumsum: dim 1 is out of range"),
    (lambda: ts.tensor([1, 2]).var(), RuntimeError, "var: std and var only support floating"),
    (lambda: ts.ones(3).std(unbiased=True, correction=1), TypeError,
     "std: give unbiased or correction, not both"),
    (lambda: ts.tensor([1, 2]).norm(), RuntimeError,
     "linalg.vector_norm: expected a floating-point tensor, got int64"),
    (lambda: ts.ones(2, 2).norm(p="nuc"), NotImplementedError, "norm: p='nuc' needs singular"),
    (lambda: ts.linalg.matrix_norm(ts.ones(2, 2), 2), NotImplementedError,
     "linalg.matrix_norm: ord=2 needs singular values"),
    (lambda: ts.linalg.norm(ts.ones(2, 2, 2), ord=1), RuntimeError,
     "linalg.norm: with ord and no dim the input must be 1-D or 2-D, got 3-D"),
    (lambda: ts.linalg.vector_norm(ts.zeros(0), INF), RuntimeError,
     "linalg.vector_norm: the norm of order inf of an empty slice"),
    (lambda: ts.linalg.matrix_norm(ts.ones(3)), RuntimeError,
     r"linalg.matrix_norm: the input must have at least 2 dims \(matrices\), got shape \(3,\)"),
    (lambda: ts.linalg.matrix_norm(ts.ones(3, 3), dim=(1, -1)), RuntimeError,
     "linalg.matrix_norm: dim must name two different dims, got dim=\\(1, -1\\)"),
])
def test_reductions_refuse_bad_input_in_one_line(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- products: shapes refused as torch refuses them -------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda: ts.mm(ts.ones(2, 3), ts.ones(3)), r"mm: mat2 must be 2-D, got shape \(3,\)"),
    (lambda: ts.mm(ts.ones(2, 3), ts.ones(2, 3)), r"mm: shapes \(2, 3\) and \(2, 3\) cannot be"),
    (lambda: ts.mv(ts.ones(2, 3), ts.ones(2)), r"mv: shapes \(2, 3\) and \(2,\) cannot be"),
    (lambda: ts.dot(ts.ones(2), ts.ones(3)), "dot: the vectors must have the same size, got 2 "
                                            "and 3"),
    (lambda: ts.dot(ts.ones(2), ts.ones(2, dtype=ts.float64)), "dot: the vectors must have the "
                                                               "same dtype"),
    (lambda: ts.outer(ts.ones(2, 1), ts.ones(2)), r"outer: input must be 1-D, got shape \(2, 1\)"),
    (lambda: ts.addmm(ts.ones(3), ts.ones(2, 3), ts.ones(3, 4)), r"addmm: input of shape \(3,\) "
                                                                  "does not broadcast"),
    (lambda: ts.baddbmm(ts.ones(1), ts.ones(2, 3), ts.ones(3, 4)), "bmm: input must be a 3-D"),
    (lambda: ts.einsum("ij,jk->ik", ts.ones(2, 3), ts.ones(4, 5)), "einsum: 'ij,jk->ik' does not "
                                                                   "fit the shapes"),
    (lambda: ts.einsum("ij,jk", ts.ones(2, 3), ts.ones(3, 4, dtype=ts.float64)),
     "einsum: all operands must have one dtype"),
])
def test_products_refuse_bad_shapes_in_one_line(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


@pytest.mark.parametrize("call, error, message", [
    (lambda: ts.einsum("ii->i", ts.ones(2, 2)), NotImplementedError, "repeats a letter"),
    (lambda: ts.einsum("ij->", ts.ones(2)), ValueError, "names 2 dims but its operand has 1"),
    (lambda: ts.einsum("i,j->ij", ts.ones(2)), ValueError, "has 2 operand"),
    (lambda: ts.einsum("i1->i", ts.ones(2)), ValueError, "invalid equation"),
    (lambda: ts.einsum(ts.ones(2), [0]), NotImplementedError, "the sublist form"),
])
def test_einsum_refuses_what_it_does_not_support_in_one_line(call, error, message):
    with pytest.raises(error, match=f"einsum: .*{message}"):
        call()


def test_addmm_with_beta_0_ignores_its_input_as_torch():
    compare_with_torch(lambda m, c, a, b: m.addmm(c, a, b, beta=0),
                       arrays=[np.full((2, 4), np.nan), *arrays_for("beta0", [(2, 3), (3, 4)])],
                       requires_grad=[False, True, True])


# ---- creation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda m: m.linspace(0, 1, 5), lambda m: m.linspace(-2, 3.5, steps=7, dtype=m.float64),
    lambda m: m.linspace(0, 10, 3, dtype=m.int64), lambda m: m.linspace(1, 1, 0),
    lambda m: m.linspace(m.tensor(1.0), 2, 3),
    lambda m: m.logspace(0, 2, 3), lambda m: m.logspace(0, 3, 4, base=2),
    lambda m: m.eye(3), lambda m: m.eye(2, 4, dtype=m.int64), lambda m: m.eye(0),
    lambda m: m.full_like(m.zeros(2, 3), 7.5), lambda m: m.full_like(m.zeros(2, dtype=m.int64), 3),
    lambda m: m.full_like(m.zeros(2), 1, dtype=m.float64),
    lambda m: m.as_tensor([1.0, 2.0]), lambda m: m.as_tensor([1, 2]),
    lambda m: m.as_tensor(np.arange(3.0), dtype=m.float32),
], ids=["linspace", "linspace64", "linspace-int", "linspace-0", "linspace-tensor", "logspace",
        "logspace2", "eye", "eye-int", "eye0", "full_like", "full_like-int", "full_like-dtype",
        "as_tensor", "as_tensor-int", "as_tensor-dtype"])
def test_creation_matches_torch(fn):
    compare_with_torch(lambda m: fn(m), arrays=[])


def test_as_tensor_shares_what_torch_shares():
    a = np.zeros(3)
    t = ts.as_tensor(a)
    a[0] = 5.0
    assert t.tolist() == [5.0, 0.0, 0.0] and t.dtype is ts.float64
    x = ts.ones(2)
    assert ts.as_tensor(x) is x and ts.as_tensor(x, dtype=ts.float64).dtype is ts.float64


@pytest.mark.parametrize("make, dtype", [
    (lambda m, t: m.randn_like(t), np.float32), (lambda m, t: m.rand_like(t.double()), np.float64),
    (lambda m, t: m.randint_like(t, 5), np.float32),
    (lambda m, t: m.randint_like(t.long(), 2, 6), np.int64),
    (lambda m, t: m.randn_like(t, dtype=m.float64), np.float64),
])
def test_random_likes_have_torchs_shape_and_dtype_and_follow_the_seed(make, dtype):
    th = make(torch, torch.zeros(40, 50))
    ts.manual_seed(3)
    first = make(ts, ts.zeros(40, 50))
    ts.manual_seed(3)
    again = make(ts, ts.zeros(40, 50))
    assert first.shape == tuple(th.shape) and first.numpy().dtype == dtype == to_np(th.dtype)
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert len(np.unique(first.numpy())) > 1


def to_np(dtype):
    return torch.empty(0, dtype=dtype).numpy().dtype


def test_random_draws_have_the_right_range_and_moments():
    ts.manual_seed(0)
    assert abs(float(ts.randn_like(ts.zeros(20000)).std()) - 1) < 0.05
    u = ts.rand_like(ts.zeros(20000))
    assert 0 <= float(u.min()) and float(u.max()) < 1 and abs(float(u.mean()) - 0.5) < 0.02
    r = ts.randint_like(ts.zeros(2000, dtype=ts.int64), 2, 6)
    assert sorted(np.unique(r.numpy()).tolist()) == [2, 3, 4, 5]


def test_bernoulli_draws_with_its_probabilities_and_a_zero_gradient_as_torch():
    ts.manual_seed(0)
    p = ts.tensor([0.0, 1.0, 0.25] * 4000, requires_grad=True)
    b = ts.bernoulli(p)
    assert b.dtype is ts.float32 and b.requires_grad and b.grad_fn.name == "bernoulli"
    draws = b.numpy().reshape(-1, 3)
    assert (draws[:, 0] == 0).all() and (draws[:, 1] == 1).all()
    assert abs(draws[:, 2].mean() - 0.25) < 0.03
    b.sum().backward()
    assert p.grad.tolist() == [0.0] * 12000
    t = ts.zeros(3000, dtype=ts.int64).bernoulli_(0.5)
    assert t.dtype is ts.int64 and set(np.unique(t.numpy())) == {0, 1}
    assert ts.zeros(3).bernoulli_(ts.tensor([0.0, 1.0, 1.0])).tolist() == [0.0, 1.0, 1.0]


@pytest.mark.parametrize("call, error, message", [
    (lambda: ts.bernoulli(ts.tensor([1.5])), RuntimeError, r"bernoulli: every probability must "
                                                           r"be in \[0, 1\]"),
    (lambda: ts.bernoulli(ts.tensor([1])), NotImplementedError, "bernoulli: the probabilities must "
                                                                "be a float tensor"),
    (lambda: ts.zeros(2).bernoulli_(ts.ones(3)), ts.ShapeError, r"bernoulli_: a value of shape"),
    (lambda: ts.linspace(0, 1, -1), RuntimeError, "linspace: steps must be a non-negative int"),
    (lambda: ts.linspace(0, "1", 3), TypeError, "linspace: end must be a number"),
    (lambda: ts.eye(-1), RuntimeError, "eye: n must be a non-negative int, got -1"),
    (lambda: ts.randn_like(ts.zeros(2, dtype=ts.int64)), TypeError, "randn_like: dtype must be "
                                                                    "float32 or float64"),
])
def test_creation_refuses_bad_input_in_one_line(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_tensor_questions_match_torch():
    for m in (ts, torch):
        assert m.is_tensor(m.ones(1)) and not m.is_tensor([1.0])
        assert m.numel(m.ones(2, 3)) == 6
        assert m.is_floating_point(m.ones(1)) and not m.ones(1).long().is_floating_point()


# ---- in-place variants ------------------------------------------------------------------------
@pytest.mark.parametrize("op, args, kind", [
    ("sin_", (), "n"), ("cos_", (), "n"), ("rsqrt_", (), "pos"), ("reciprocal_", (), "away"),
    ("square_", (), "n"), ("log1p_", (), "pos"), ("expm1_", (), "n"), ("floor_", (), "n"),
    ("ceil_", (), "n"), ("trunc_", (), "n"), ("sign_", (), "n"), ("round_", (), "n"),
    ("remainder_", (0.7,), "n"), ("fmod_", (-0.7,), "n"),
])
def test_in_place_variants_are_recorded_as_torchs(op, args, kind):
    def fn(m, x):
        y = x * 1.5  # not a leaf: in place on it is recorded
        getattr(y, op)(*args)
        return y
    compare_with_torch(fn, arrays=arrays_for(op, [(3, 4)], kind))


def test_integer_in_place_division_matches_torch():
    def fn(m, a):
        b, c, d = a.clone(), a.clone(), a.clone()
        b //= 3
        c %= -3
        d.div_(2, rounding_mode="trunc")
        return b, c, d
    compare_with_torch(fn, arrays=[INT_A])
    x = ts.tensor([2.25, -1.75], dtype=ts.float64)
    x.round_(decimals=1)
    assert x.tolist() == torch.tensor([2.25, -1.75]).double().round_(decimals=1).tolist()


# ---- layout: each new op is ts.NAME and the method ---------------------------------------------
@pytest.mark.parametrize("module", [unary, rounding, logic, scan, stats, norms, sample],
                         ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_every_new_method_is_its_function_on_tensor(module):
    for name, method in module.TENSOR_METHODS.items():
        assert getattr(ts.Tensor, name) is method, name
        assert method.__module__ == module.__name__, name
        if not name.startswith("__") and hasattr(torch, name):
            assert getattr(ts, name) is method, name


def test_einsum_and_linalg_are_where_torch_has_them():
    assert ts.einsum is einsum.einsum and not hasattr(ts.Tensor, "einsum")
    import tinyseq.linalg
    assert tinyseq.linalg is ts.linalg and ts.linalg.vector_norm is norms.vector_norm
    assert ts.linalg.norm(ts.tensor([3.0, 4.0])).item() == 5.0
