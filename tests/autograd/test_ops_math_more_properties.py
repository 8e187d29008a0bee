"""Property tests (hypothesis) of the ops added with ``unary``, ``rounding``, ``scan``, ``stats``,
``norms`` and ``einsum``: broadcast shapes, dims and dtypes drawn at random, forwards against
numpy and gradients against references numpy computes independently of tinyseq."""
import numpy as np
from hypothesis import given, strategies as st

import tinyseq as ts
from tests.autograd.test_properties import assert_grad, assert_value, leaf, sum_to, tol
from tests.strategies import (FAST, away, float_dtypes, normal, nonscalar_shapes, pairs, seeds,
                              shape_and_dims)


def _axes(shape, dim):
    if dim is None:
        return tuple(range(len(shape)))
    return tuple(d % len(shape) for d in (dim if isinstance(dim, tuple) else (dim,)))


@FAST
@given(pairs, seeds, float_dtypes, st.sampled_from(["remainder", "fmod"]))
def test_remainders_broadcast_and_send_their_gradients_back(shapes, seed, dtype, op):
    (sa, sb), _ = shapes
    rng = np.random.default_rng(seed)
    a_np, b_np = normal(rng, sa, dtype), away(rng, sb, dtype)
    a, b = leaf(a_np), leaf(b_np)
    out = getattr(ts, op)(a, b)
    ref, quotient = (np.remainder(a_np, b_np), np.floor_divide(a_np, b_np)) if op == "remainder" \
        else (np.fmod(a_np, b_np), np.trunc(a_np / b_np))
    assert_value(out, ref, dtype)
    g = normal(rng, out.shape, dtype)
    out.backward(g)
    assert_grad(a, sum_to(g, sa))
    assert_grad(b, sum_to(-g * quotient, sb))


@FAST
@given(pairs, seeds, st.sampled_from([np.int64, np.int32]))
def test_integer_floor_division_is_pythons_over_broadcast_shapes(shapes, seed, dtype):
    (sa, sb), _ = shapes
    rng = np.random.default_rng(seed)
    a = np.asarray(rng.integers(-20, 20, sa), dtype)
    b = np.asarray(rng.integers(1, 6, sb) * rng.choice([-1, 1], sb), dtype)
    out = ts.from_numpy(a) // ts.from_numpy(b)
    np.testing.assert_array_equal(out.numpy(), np.floor_divide(a, b))
    trunc = ts.divide(ts.from_numpy(a), ts.from_numpy(b), rounding_mode="trunc")
    np.testing.assert_array_equal(trunc.numpy(), np.trunc(a / b).astype(dtype))
    assert out.dtype == trunc.dtype == np.dtype(dtype)


@FAST
@given(shape_and_dims(), seeds, float_dtypes, st.booleans(), st.sampled_from([0, 1, 2]))
def test_var_and_std_over_any_dims_match_numpy(shape_dims, seed, dtype, keepdim, correction):
    shape, dim = shape_dims
    axes = _axes(shape, dim)
    n = int(np.prod([shape[i] for i in axes]))
    if n - correction <= 0:
        return
    rng = np.random.default_rng(seed)
    x_np = normal(rng, shape, dtype)
    for op in ("var", "std"):
        x = leaf(x_np)
        out = getattr(x, op)(dim, keepdim=keepdim, correction=correction)
        var = x_np.var(axis=axes, keepdims=True, ddof=correction)
        ref = var if op == "var" else np.sqrt(var)
        assert_value(out, ref if keepdim else ref.squeeze(axes), dtype)
        g = normal(rng, ref.shape, dtype)
        out.backward(g if keepdim else g.squeeze(axes))
        d = x_np - x_np.mean(axis=axes, keepdims=True)
        with np.errstate(divide="ignore"):  # (the gradient of std is 0 where std is 0, as torch)
            scale = 2 / (n - correction) if op == "var" else np.where(
                ref == 0, 0, 1 / ((n - correction) * ref))
        assert_grad(x, g * scale * d, scale=np.abs(g * scale * d) * n)


@FAST
@given(nonscalar_shapes, seeds, float_dtypes, st.data())
def test_cumsum_cumprod_and_prod_along_any_dim_match_numpy(shape, seed, dtype, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    x_np = away(rng, shape, dtype)
    x = leaf(x_np)
    assert_value(x.cumsum(dim), np.cumsum(x_np, axis=dim), dtype)
    cp = x.cumprod(dim)
    assert_value(cp, np.cumprod(x_np, axis=dim), dtype)
    g = normal(rng, shape, dtype)
    cp.backward(g)
    # d(cumprod_k)/dx_i = cumprod_k / x_i for k >= i (no zeros here): the reverse cumsum of g * out
    ref = np.flip(np.cumsum(np.flip(g * np.cumprod(x_np, axis=dim), dim), axis=dim), dim) / x_np
    assert_grad(x, ref, scale=np.abs(ref) * shape[dim])
    y = leaf(x_np)
    p = y.prod(dim)
    assert_value(p, np.prod(x_np, axis=dim), dtype)
    p.sum().backward()
    assert_grad(y, np.prod(x_np, axis=dim, keepdims=True) / x_np)


@FAST
@given(shape_and_dims(), seeds, float_dtypes, st.sampled_from([1, 2, 3, np.inf]))
def test_vector_norms_over_any_dims_match_numpy(shape_dims, seed, dtype, p):
    shape, dim = shape_dims
    axes = _axes(shape, dim)
    rng = np.random.default_rng(seed)
    x_np = away(rng, shape, dtype) * (1 + np.arange(int(np.prod(shape))).reshape(shape) * 1e-3)
    x_np = x_np.astype(dtype)  # (distinct magnitudes: no ties for inf)
    x = leaf(x_np)
    out = ts.linalg.vector_norm(x, p, dim, keepdim=True)
    m = np.abs(x_np.astype(np.float64))
    ref = m.max(axis=axes, keepdims=True) if p == np.inf else (m ** p).sum(
        axis=axes, keepdims=True) ** (1 / p)
    assert_value(out, ref, dtype)
    out.sum().backward()
    if p == np.inf:
        grad = (m == ref) * np.sign(x_np)
    else:
        grad = np.sign(x_np) * m ** (p - 1) / ref ** (p - 1)
    assert_grad(x, grad)


@FAST
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), seeds,
       float_dtypes)
def test_einsum_batched_products_match_numpy_and_matmul(b, i, j, k, seed, dtype):
    rng = np.random.default_rng(seed)
    a_np, c_np = normal(rng, (b, i, j), dtype), normal(rng, (b, j, k), dtype)
    a, c = leaf(a_np), leaf(c_np)
    out = ts.einsum("bij,bjk->bik", a, c)
    assert_value(out, a_np @ c_np, dtype)
    g = normal(rng, out.shape, dtype)
    out.backward(g)
    assert_grad(a, g @ np.swapaxes(c_np, 1, 2))
    assert_grad(c, np.swapaxes(a_np, 1, 2) @ g)
    np.testing.assert_allclose(ts.einsum("bij->bji", a).numpy(), np.swapaxes(a_np, 1, 2),
                               **tol(dtype))
