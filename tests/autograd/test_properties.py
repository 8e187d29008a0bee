"""Property tests (hypothesis) of the ops over random shapes, dims, indices and dtypes.

Every forward is compared with numpy, and every gradient with a reference that numpy computes
independently of tinyseq (the local derivative, broadcast to the output, then summed back over the
broadcast axes). Data comes from a numpy generator seeded by a drawn integer and is kept away from
kinks, ties and domain edges: denominators have |b| >= 0.5, bases of ``**`` lie in [0.5, 2], values
reduced by ``max`` are distinct.
"""
import numpy as np
import pytest
from hypothesis import example, given, strategies as st
from hypothesis.extra import numpy as hnp

import tinyseq as ts
from tests.strategies import (FAST, FEW, away, basic_indices, distinct, expand_targets,
                              float_dtypes, nonscalar_shapes, normal, pairs, pairs_with_empty,
                              positive, reshape_targets, seeds, shape_and_dims, shapes,
                              split_args, triples)


# ---- helpers ------------------------------------------------------------------------------------
def leaf(x):
    return ts.from_numpy(np.array(x)).requires_grad_()


def sum_to(g, shape):
    """Independent reference of ``unbroadcast``: sum ``g`` (numpy) down to ``shape``."""
    g = np.asarray(g)
    lead = g.ndim - len(shape)
    assert lead >= 0
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    for i, n in enumerate(shape):
        if n == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    assert g.shape == tuple(shape)
    return g


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if np.dtype(dtype) == np.float32 else dict(rtol=1e-10,
                                                                                 atol=1e-12)


def assert_grad(t, expected, scale=None):
    """``t.grad`` exists, has ``t``'s shape and dtype, and equals ``expected``.

    ``scale`` (same shape as expected) is the sum of |terms| behind each element, for float32
    sums of many terms.
    """
    assert t.grad is not None, "no gradient"
    assert isinstance(t.grad, ts.Tensor)
    assert t.grad.shape == t.shape, (t.grad.shape, t.shape)
    assert t.grad.numpy().dtype == t.numpy().dtype, (t.grad.numpy().dtype, t.numpy().dtype)
    kw = tol(t.numpy().dtype)
    expected = np.asarray(expected, dtype=np.float64)
    if scale is not None:
        atol = kw["atol"] + kw["rtol"] * np.asarray(scale, dtype=np.float64)
        err = np.abs(t.grad.numpy().astype(np.float64) - expected)
        assert np.all(err <= atol + kw["rtol"] * np.abs(expected)), (t.grad.numpy(), expected)
    else:
        np.testing.assert_allclose(t.grad.numpy().astype(np.float64), expected, **kw)


def assert_round_trip(y, x, x_np, rng, dtype):
    """``y``, computed from ``x`` and back, equals ``x``; its gradient is the upstream itself."""
    assert_value(y, x_np, dtype)
    g_np = normal(rng, x_np.shape, dtype)
    y.backward(g_np)
    assert_grad(x, g_np)


def assert_value(out, expected, dtype=None):
    expected = np.asarray(expected)
    assert isinstance(out, ts.Tensor)
    assert out.shape == expected.shape, (out.shape, expected.shape)
    if dtype is not None:
        assert out.numpy().dtype == np.dtype(dtype), (out.numpy().dtype, dtype)
    np.testing.assert_allclose(out.numpy().astype(np.float64), expected.astype(np.float64),
                               **tol(dtype or out.numpy().dtype))


# ---- binary elementwise ops with broadcasting ---------------------------------------------------
# name -> (op on tensors/arrays, data for a, data for b, d(out)/da, d(out)/db), derivatives in numpy
BINARY = {
    "add": (lambda a, b: a + b, normal, normal,
            lambda a, b: np.ones_like(a * b), lambda a, b: np.ones_like(a * b)),
    "sub": (lambda a, b: a - b, normal, normal,
            lambda a, b: np.ones_like(a * b), lambda a, b: -np.ones_like(a * b)),
    "mul": (lambda a, b: a * b, normal, normal,
            lambda a, b: b + 0 * a, lambda a, b: a + 0 * b),
    "div": (lambda a, b: a / b, normal, away,
            lambda a, b: 1 / b + 0 * a, lambda a, b: -a / b**2),
    "pow": (lambda a, b: a ** b, positive, normal,
            lambda a, b: b * a ** (b - 1), lambda a, b: a ** b * np.log(a)),
}


@FAST
@given(name=st.sampled_from(sorted(BINARY)), shapes=pairs, seed=seeds, dtype=float_dtypes)
def test_binary_forward_and_broadcast_gradients(name, shapes, seed, dtype):
    op, make_a, make_b, da, db = BINARY[name]
    (sa, sb), so = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    a_np, b_np, g_np = make_a(rng, sa, dtype), make_b(rng, sb, dtype), normal(rng, so, dtype)
    a, b = leaf(a_np), leaf(b_np)
    out = op(a, b)
    assert_value(out, op(a_np, b_np), dtype)
    out.backward(ts.from_numpy(g_np))
    a64, b64, g64 = a_np.astype(np.float64), b_np.astype(np.float64), g_np.astype(np.float64)
    ga = np.broadcast_to(g64 * da(a64, b64), so)
    gb = np.broadcast_to(g64 * db(a64, b64), so)
    assert_grad(a, sum_to(ga, sa), sum_to(np.abs(ga), sa))
    assert_grad(b, sum_to(gb, sb), sum_to(np.abs(gb), sb))


@FAST
@given(name=st.sampled_from(sorted(BINARY)), shapes=pairs_with_empty, seed=seeds)
def test_binary_broadcasting_with_empty_dims(name, shapes, seed):
    """Zero-size dims broadcast as in numpy; the gradients are zeros of each input's shape."""
    op, make_a, make_b, da, db = BINARY[name]
    (sa, sb), so = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    a_np, b_np, g_np = make_a(rng, sa, np.float64), make_b(rng, sb, np.float64), normal(
        rng, so, np.float64)
    a, b = leaf(a_np), leaf(b_np)
    out = op(a, b)
    assert_value(out, op(a_np, b_np), np.float64)
    out.backward(g_np)
    assert_grad(a, sum_to(np.broadcast_to(g_np * da(a_np, b_np), so), sa))
    assert_grad(b, sum_to(np.broadcast_to(g_np * db(a_np, b_np), so), sb))


@FAST
@given(name=st.sampled_from(sorted(BINARY)), shape=shapes, seed=seeds, dtype=float_dtypes)
def test_binary_op_of_a_tensor_with_itself_accumulates(name, shape, seed, dtype):
    op, make_a, make_b, da, db = BINARY[name]
    rng = np.random.default_rng(seed)
    maker = positive if name in ("pow", "div") else normal
    x_np, g_np = maker(rng, shape, dtype), normal(rng, shape, dtype)
    x = leaf(x_np)
    out = op(x, x)
    assert_value(out, op(x_np, x_np), dtype)
    out.backward(g_np)
    x64, g64 = x_np.astype(np.float64), g_np.astype(np.float64)
    assert_grad(x, g64 * (da(x64, x64) + db(x64, x64)))


@FAST
@given(shapes=triples, seed=seeds, dtype=float_dtypes)
def test_where_forward_and_broadcast_gradients(shapes, seed, dtype):
    (sc, sa, sb), so = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    cond = np.asarray(rng.random(sc) < 0.5)
    a_np, b_np, g_np = normal(rng, sa, dtype), normal(rng, sb, dtype), normal(rng, so, dtype)
    a, b = leaf(a_np), leaf(b_np)
    out = ts.where(ts.from_numpy(cond), a, b)
    assert_value(out, np.where(cond, a_np, b_np), dtype)
    out.backward(ts.from_numpy(g_np))
    g64 = g_np.astype(np.float64)
    ga, gb = np.where(cond, g64, 0.0), np.where(cond, 0.0, g64)
    assert_grad(a, sum_to(ga, sa), sum_to(np.abs(ga), sa))
    assert_grad(b, sum_to(gb, sb), sum_to(np.abs(gb), sb))


# ---- reductions -----------------------------------------------------------------------------------
def np_axes(dim, nd):
    if dim is None:
        return tuple(range(nd))
    return tuple(d % nd for d in (dim if isinstance(dim, tuple) else (dim,)))


def keep(g, shape, axes):
    """Reshape a reduced gradient so that it broadcasts against ``shape``."""
    return np.asarray(g).reshape([1 if i in axes else n for i, n in enumerate(shape)])


# name -> (data, reference value with keepdims (numpy, float64), d(value)/dx given x and that value)
REDUCTIONS = {
    "sum": (normal, lambda x, axes: x.sum(axis=axes, keepdims=True),
            lambda x, y: np.ones_like(x)),
    "mean": (normal, lambda x, axes: x.mean(axis=axes, keepdims=True),
             lambda x, y: np.full_like(x, y.size / x.size)),
    "max": (distinct, lambda x, axes: x.max(axis=axes, keepdims=True),  # to the maximum
            lambda x, y: (x == y).astype(np.float64)),
    "logsumexp": (lambda rng, shape, dtype: 3 * normal(rng, shape, dtype),
                  lambda x, axes: np.log(np.exp(x).sum(axis=axes, keepdims=True)),
                  lambda x, y: np.exp(x - y)),  # softmax
}


def _values(r):
    """``r``, or the values of ``max(int dim)``'s ``(values, indices)``."""
    return r if isinstance(r, ts.Tensor) else r.values


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@FAST
@given(sd=shape_and_dims(), keepdim=st.booleans(), seed=seeds, dtype=float_dtypes)
def test_reduction_shape_value_and_gradient(name, sd, keepdim, seed, dtype):
    make, reference, local = REDUCTIONS[name]
    shape, dim = sd
    if name == "logsumexp" and dim is None:  # it takes dims, as torch's
        dim = tuple(range(len(shape)))
    if name in ("max", "min") and dim is None:  # max() gives one value: keepdim needs a dim
        keepdim = False
    axes = np_axes(dim, len(shape))
    rng = np.random.default_rng(seed)
    x_np = make(rng, shape, dtype)
    x = leaf(x_np)
    out = _values(getattr(x, name)(dim=dim, keepdim=keepdim))
    x64 = x_np.astype(np.float64)
    y = reference(x64, axes)
    expected = y if keepdim else y.reshape([n for i, n in enumerate(shape) if i not in axes])
    assert_value(out, expected, dtype)
    assert _values(getattr(ts, name)(x, dim=dim, keepdim=keepdim)).shape == expected.shape
    g_np = normal(rng, expected.shape, dtype)
    out.backward(g_np)
    assert_grad(x, local(x64, y) * keep(g_np.astype(np.float64), shape, axes))


# ---- shape ops -------------------------------------------------------------------------------------
@FAST
@given(st_=reshape_targets(), seed=seeds, dtype=float_dtypes)
def test_reshape_and_back_is_identity(st_, seed, dtype):
    shape, target = st_
    rng = np.random.default_rng(seed)
    x_np = normal(rng, shape, dtype)
    x = leaf(x_np)
    y = x.reshape(target)
    assert_value(y, x_np.reshape(target), dtype)
    assert_round_trip(y.reshape(*shape) if shape else y.reshape(()), x, x_np, rng, dtype)


@FAST
@given(data=st.data(), shape=shapes, seed=seeds, dtype=float_dtypes)
def test_permute_then_inverse_is_identity(data, shape, seed, dtype):
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    inv = tuple(int(i) for i in np.argsort(perm))
    rng = np.random.default_rng(seed)
    x_np = normal(rng, shape, dtype)
    x = leaf(x_np)
    y = x.permute(*perm)
    assert_value(y, np.transpose(x_np, perm), dtype)
    # one permute alone: its gradient is the upstream permuted back
    gy = normal(rng, y.shape, dtype)
    y.backward(gy)
    assert_grad(x, np.transpose(gy, inv))
    x2 = leaf(x_np)
    z = x2.permute(perm).permute(inv)
    assert_round_trip(z, x2, x_np, rng, dtype)


@FAST
@given(data=st.data(), shape=nonscalar_shapes, seed=seeds, dtype=float_dtypes)
def test_transpose_twice_is_identity(data, shape, seed, dtype):
    nd = len(shape)
    d0 = data.draw(st.integers(-nd, nd - 1))
    d1 = data.draw(st.integers(-nd, nd - 1))
    rng = np.random.default_rng(seed)
    x_np = normal(rng, shape, dtype)
    x = leaf(x_np)
    y = x.transpose(d0, d1)
    assert_value(y, np.swapaxes(x_np, d0, d1), dtype)
    z = y.transpose(d0, d1)
    assert_round_trip(z, x, x_np, rng, dtype)
    x2 = leaf(x_np)
    gy = normal(rng, y.shape, dtype)
    x2.transpose(d0, d1).backward(gy)
    assert_grad(x2, np.swapaxes(gy, d0, d1))


@FAST
@given(data=st.data(), shape=shapes, seed=seeds, dtype=float_dtypes)
def test_unsqueeze_then_squeeze_is_identity(data, shape, seed, dtype):
    nd = len(shape)
    d = data.draw(st.integers(-(nd + 1), nd))
    rng = np.random.default_rng(seed)
    x_np = normal(rng, shape, dtype)
    x = leaf(x_np)
    y = x.unsqueeze(d)
    assert_value(y, np.expand_dims(x_np, d), dtype)
    z = y.squeeze(d)
    assert_round_trip(z, x, x_np, rng, dtype)
    # squeeze() drops every size-1 dim, as np.squeeze
    x2 = leaf(x_np)
    s = x2.unsqueeze(d).squeeze()
    assert_value(s, np.squeeze(x_np), dtype)
    gs = normal(rng, s.shape, dtype)
    s.backward(gs)
    assert_grad(x2, gs.reshape(shape))


@FAST
@given(st_=expand_targets(), seed=seeds, dtype=float_dtypes)
def test_expand_matches_broadcast_to_and_sums_gradient(st_, seed, dtype):
    shape, target = st_
    lead = len(target) - len(shape)
    full = tuple(shape[i - lead] if n == -1 else n for i, n in enumerate(target))
    rng = np.random.default_rng(seed)
    x_np = normal(rng, shape, dtype)
    x = leaf(x_np)
    y = x.expand(*target) if target else x.expand(())
    assert_value(y, np.broadcast_to(x_np, full), dtype)
    g_np = normal(rng, full, dtype)
    y.backward(g_np)
    g64 = g_np.astype(np.float64)
    assert_grad(x, sum_to(g64, shape), sum_to(np.abs(g64), shape))


@FAST
@given(args=split_args(), seed=seeds, dtype=float_dtypes)
def test_split_then_cat_reconstructs(args, seed, dtype):
    shape, dim, how = args
    n = shape[dim]
    rng = np.random.default_rng(seed)
    x_np = normal(rng, shape, dtype)
    x = leaf(x_np)
    pieces = x.split(how, dim)
    if isinstance(how, int):
        sizes = [min(how, n - lo) for lo in range(0, n, how)]
    else:
        sizes = how
    assert [p.shape[dim] for p in pieces] == sizes
    expected = np.split(x_np, np.cumsum(sizes)[:-1], axis=dim)
    for p, e in zip(pieces, expected):
        assert_value(p, e, dtype)
    y = ts.cat(pieces, dim)
    assert_round_trip(y, x, x_np, rng, dtype)


@FAST
@given(args=split_args(), seed=seeds, dtype=float_dtypes, data=st.data())
def test_split_using_only_some_pieces_gives_zeros_elsewhere(args, seed, dtype, data):
    shape, dim, how = args
    rng = np.random.default_rng(seed)
    x_np = normal(rng, shape, dtype)
    x = leaf(x_np)
    pieces = x.split(how, dim)
    used = data.draw(st.lists(st.integers(0, len(pieces) - 1), min_size=1, unique=True))
    gs = [normal(rng, pieces[i].shape, dtype) for i in used]
    loss = sum(((pieces[i] * ts.from_numpy(g)).sum() for i, g in zip(used, gs)), ts.zeros(
        (), dtype=dtype))
    loss.backward()
    expected = [np.zeros(p.shape) for p in pieces]
    for i, g in zip(used, gs):
        expected[i] = g
    assert_grad(x, np.concatenate(expected, axis=dim))


@FAST
@given(data=st.data(), seed=seeds, dtype=float_dtypes)
def test_chunk_then_cat_reconstructs(data, seed, dtype):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    chunks = data.draw(st.integers(1, shape[dim] + 2))
    rng = np.random.default_rng(seed)
    x_np = normal(rng, shape, dtype)
    x = leaf(x_np)
    pieces = x.chunk(chunks, dim)
    size = -(-shape[dim] // chunks)  # ceil, as torch.chunk
    assert len(pieces) == -(-shape[dim] // size) <= chunks
    assert all(p.shape[dim] == size for p in pieces[:-1])
    y = ts.cat(pieces, dim)
    assert_round_trip(y, x, x_np, rng, dtype)


@FAST
@given(data=st.data(), seed=seeds, dtype=float_dtypes)
def test_unbind_then_stack_reconstructs(data, seed, dtype):
    shape = data.draw(nonscalar_shapes)
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    rng = np.random.default_rng(seed)
    x_np = normal(rng, shape, dtype)
    x = leaf(x_np)
    pieces = x.unbind(dim)
    assert len(pieces) == shape[dim]
    for i, p in enumerate(pieces):
        assert_value(p, np.take(x_np, i, axis=dim), dtype)
    y = ts.stack(pieces, dim)
    assert_round_trip(y, x, x_np, rng, dtype)
    # only some slices used: zeros elsewhere
    x2 = leaf(x_np)
    parts = x2.unbind(dim)
    i = data.draw(st.integers(0, len(parts) - 1))
    gi = normal(rng, parts[i].shape, dtype)
    parts[i].backward(gi)
    expected = np.zeros(shape)
    np.moveaxis(expected, dim, 0)[i] = gi
    assert_grad(x2, expected)


@FAST
@given(data=st.data(), seed=seeds, dtype=float_dtypes)
def test_stack_then_unbind_and_cat_gradients_are_slices(data, seed, dtype):
    """The other direction: k tensors stacked/concatenated get their slice of the upstream."""
    shape = data.draw(shapes)
    k = data.draw(st.integers(1, 4))
    dim = data.draw(st.integers(-(len(shape) + 1), len(shape)))
    rng = np.random.default_rng(seed)
    xs_np = [normal(rng, shape, dtype) for _ in range(k)]
    xs = [leaf(a) for a in xs_np]
    y = ts.stack(xs, dim)
    assert_value(y, np.stack(xs_np, axis=dim), dtype)
    g_np = normal(rng, y.shape, dtype)
    y.backward(g_np)
    for i, x in enumerate(xs):
        assert_grad(x, np.take(g_np, i, axis=dim))


# ---- indexing ---------------------------------------------------------------------------------------
@FAST
@given(data=st.data(), seed=seeds, dtype=float_dtypes)
def test_basic_indexing_and_scattered_gradient(data, seed, dtype):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5))
    index = data.draw(basic_indices(shape))
    check_gather_scatter(seed, shape, dtype, index, index)


@FAST
@given(data=st.data(), seed=seeds, dtype=float_dtypes)
def test_integer_array_indexing_with_repeats_accumulates(data, seed, dtype):
    shape = data.draw(nonscalar_shapes)
    index = data.draw(hnp.integer_array_indices(
        shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6)))
    as_tensor = data.draw(st.booleans())
    check_gather_scatter(seed, shape, dtype, index,
                         tuple(ts.from_numpy(i) for i in index) if as_tensor else index)


def check_gather_scatter(seed, shape, dtype, index, ts_index):
    """``x[ts_index]`` equals numpy's ``x[index]``; its gradient is ``np.add.at`` of the upstream."""
    rng = np.random.default_rng(seed)
    x_np = normal(rng, shape, dtype)
    x = leaf(x_np)
    y = x[ts_index]
    expected = x_np[index]
    assert_value(y, expected, dtype)
    g_np = normal(rng, expected.shape, dtype)
    y.backward(g_np)
    full = np.zeros(shape)
    np.add.at(full, index, g_np.astype(np.float64))
    assert_grad(x, full)


@FAST
@given(data=st.data(), seed=seeds, dtype=float_dtypes)
def test_repeated_rows_along_a_random_axis_accumulate(data, seed, dtype):
    """An index array with forced repeats on one axis, slices elsewhere (``x[:, [1, 1, 0]]``)."""
    shape = data.draw(nonscalar_shapes)
    nd = len(shape)
    ax = data.draw(st.integers(0, nd - 1))
    n = shape[ax]
    picks = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6))
    picks = picks + [picks[0]]  # at least one repeat
    idx = np.array(picks, dtype=np.int64)
    index = (slice(None),) * ax + (idx,)
    as_list = data.draw(st.booleans())
    check_gather_scatter(seed, shape, dtype, index,
                         (slice(None),) * ax + (picks,) if as_list else index)


@FAST
@given(data=st.data(), seed=seeds, dtype=float_dtypes)
def test_boolean_mask_indexing_and_scattered_gradient(data, seed, dtype):
    shape = data.draw(nonscalar_shapes)
    mask = data.draw(hnp.arrays(np.bool_, shape))
    check_gather_scatter(seed, shape, dtype, mask, ts.from_numpy(mask))


# ---- dtypes -------------------------------------------------------------------------------------------
OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
       "/": lambda a, b: a / b, "**": lambda a, b: a ** b}


@FAST
@given(op=st.sampled_from(sorted(OPS)), scalar=st.one_of(
    st.floats(0.5, 3.0), st.integers(1, 3), st.floats(-3.0, -0.5)),
    scalar_left=st.booleans(), shape=shapes, seed=seeds, dtype=float_dtypes)
def test_python_scalars_keep_the_tensor_dtype(op, scalar, scalar_left, shape, seed, dtype):
    if op == "**" and scalar_left:
        scalar = abs(scalar)  # a positive base
    rng = np.random.default_rng(seed)
    x_np = positive(rng, shape, dtype)  # positive: safe base and denominator
    x = leaf(x_np)
    out = OPS[op](scalar, x) if scalar_left else OPS[op](x, scalar)
    assert out.numpy().dtype == np.dtype(dtype), (out.numpy().dtype, dtype)
    # as in PyTorch, the scalar is used in the tensor's dtype: numpy in that dtype is the reference
    s_np = np.asarray(scalar, dtype=dtype)
    expected = OPS[op](s_np, x_np) if scalar_left else OPS[op](x_np, s_np)
    assert_value(out, expected, dtype)
    s, x64 = np.float64(s_np), x_np.astype(np.float64)
    g_np = normal(rng, shape, dtype)
    out.backward(g_np)
    assert x.grad is not None and x.grad.numpy().dtype == np.dtype(dtype)
    assert x.grad.shape == x.shape
    one = np.ones_like(x64)
    deriv = {  # d(out)/dx, scalar on the left / on the right
        "+": lambda: (one, one), "-": lambda: (-one, one), "*": lambda: (s * one, s * one),
        "/": lambda: (-s / x64**2, one / s),
        "**": lambda: (s ** x64 * np.log(s), None) if scalar_left else (None, s * x64 ** (s - 1)),
    }[op]()[0 if scalar_left else 1]
    assert_grad(x, g_np.astype(np.float64) * deriv)


@FAST
@given(name=st.sampled_from(sorted(BINARY)), shapes=pairs, seed=seeds, f32_left=st.booleans())
@example(name="pow", shapes=hnp.BroadcastableShapes(((), ()), ()), seed=0, f32_left=True)
@example(name="pow", shapes=hnp.BroadcastableShapes(((), ()), ()), seed=0, f32_left=False)
def test_mixed_float32_float64_gradients_keep_input_dtypes(name, shapes, seed, f32_left):
    op, make_a, make_b, da, db = BINARY[name]
    (sa, sb), so = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    da_t, db_t = (np.float32, np.float64) if f32_left else (np.float64, np.float32)
    a_np, b_np = make_a(rng, sa, da_t), make_b(rng, sb, db_t)
    a, b = leaf(a_np), leaf(b_np)
    out = op(a, b)
    # torch's promotion: float64 wins, except that a 0-d operand next to a dimensioned one is
    # typed like a number (it takes the other's dtype)
    expected = np.float64
    if (len(sa) == 0) != (len(sb) == 0):
        expected = db_t if len(sa) == 0 else da_t
        a_np, b_np = a_np.astype(expected), b_np.astype(expected)  # (the 0-d one is cast)
    assert out.numpy().dtype == expected, out.numpy().dtype
    assert_value(out, op(a_np.astype(np.float64), b_np.astype(np.float64)))
    g_np = normal(rng, so, expected)
    out.backward(g_np)
    a64, b64 = a_np.astype(np.float64), b_np.astype(np.float64)
    assert a.grad.numpy().dtype == da_t and b.grad.numpy().dtype == db_t
    ga = np.broadcast_to(g_np * da(a64, b64), so)
    gb = np.broadcast_to(g_np * db(a64, b64), so)
    # (computed in float32 when the 0-d one was cast: float32's tolerance for both gradients)
    check = assert_grad if expected == np.float64 else _float32_close
    check(a, sum_to(ga, sa), sum_to(np.abs(ga), sa))
    check(b, sum_to(gb, sb), sum_to(np.abs(gb), sb))


def _float32_close(t, expected, scale):
    assert t.grad.shape == t.shape and t.grad.numpy().dtype == t.numpy().dtype
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-5, atol=1e-6 * (1 + scale.max()))


@FAST
@given(sd=shape_and_dims(allow_none=False), seed=seeds, dtype=float_dtypes,
       red=st.sampled_from(["sum", "mean", "max", "logsumexp"]), keepdim=st.booleans())
def test_reductions_and_shape_ops_keep_dtype(sd, seed, dtype, red, keepdim):
    shape, dim = sd
    rng = np.random.default_rng(seed)
    x = leaf(distinct(rng, shape, dtype))
    y = _values(getattr(x, red)(dim, keepdim=keepdim))
    assert y.numpy().dtype == np.dtype(dtype)
    z = (y.unsqueeze(0).transpose(0, -1) * 2.0).exp() if y.ndim else (y * 2.0).exp()
    assert z.numpy().dtype == np.dtype(dtype)
    z.sum().backward()
    assert x.grad.numpy().dtype == np.dtype(dtype) and x.grad.shape == x.shape


# ---- accumulation ----------------------------------------------------------------------------------
@FAST
@given(shape=shapes, uses=st.integers(1, 4), calls=st.integers(1, 3), seed=seeds,
       dtype=float_dtypes)
@example(shape=(), uses=3, calls=1, seed=0, dtype=np.float32)
@example(shape=(), uses=2, calls=2, seed=0, dtype=np.float64)
def test_gradients_accumulate_over_uses_and_backward_calls(shape, uses, calls, seed, dtype):
    """``x`` used ``uses`` times in one graph, and ``backward`` run ``calls`` times: the gradient is
    ``uses * calls`` times the upstream, and ``.grad.numpy()`` stays a numpy.ndarray (API.md)."""
    rng = np.random.default_rng(seed)
    x_np, g_np = normal(rng, shape, dtype), normal(rng, shape, dtype)
    x = leaf(x_np)
    for _ in range(calls):
        out = x
        for _ in range(uses - 1):
            out = out + x
        out.backward(g_np)
        assert isinstance(x.grad.numpy(), np.ndarray), type(x.grad.numpy())
    assert_grad(x, uses * calls * g_np.astype(np.float64))


# ---- gradcheck of random composite expressions ----------------------------------------------------
UNARY_STEPS = {
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "exp_tanh": lambda t: t.tanh().exp(),
    "log1p_sq": lambda t: (t * t + 1).log(),
    "sqrt1p_sq": lambda t: (t * t + 1).sqrt(),
    "neg": lambda t: -t,
    "softmax_last": lambda t: t.softmax(-1) if t.ndim else t,
    "lse_keep": lambda t: t.logsumexp(-1, keepdim=True) if t.ndim else t,
    "mean_first_keep": lambda t: t.mean(0, keepdim=True) if t.ndim else t,
    "scale": lambda t: 0.5 * t - 0.25,
}
BINARY_STEPS = {
    "add": lambda t, u: t + u,
    "sub": lambda t, u: u - t,
    "mul": lambda t, u: t * u,
    "div": lambda t, u: t / (u * u + 0.5),
    "pow": lambda t, u: (t.sigmoid() + 0.5) ** u.tanh(),
    "where": lambda t, u: ts.where(u > 0, t, u * t),
}


@st.composite
def composite_programs(draw):
    steps = draw(st.lists(st.one_of(
        st.tuples(st.just("u"), st.sampled_from(sorted(UNARY_STEPS))),
        st.tuples(st.just("b"), st.sampled_from(sorted(BINARY_STEPS)), st.integers(1, 2))),
        min_size=1, max_size=6))
    return steps


@FEW
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=1,
                                                max_side=3),
       program=composite_programs(), seed=seeds, reduce_=st.booleans())
@example(shapes=hnp.BroadcastableShapes(((), (), ()), ()), program=[("b", "div", 1)], seed=0,
         reduce_=False)  # b gets three gradients: two from b * b, one from 0.1 * b * c
def test_gradcheck_random_composite_expression(shapes, program, seed, reduce_):
    rng = np.random.default_rng(seed)
    # the condition of `where` (u > 0) must not straddle 0 under eps perturbations
    xs = [ts.tensor(away(rng, s, np.float64), dtype=ts.float64, requires_grad=True)
          for s in shapes.input_shapes]

    def fn(a, b, c):
        ops = (a, b, c)
        acc = a
        for step in program:
            if step[0] == "u":
                acc = UNARY_STEPS[step[1]](acc)
            else:
                acc = BINARY_STEPS[step[1]](acc, ops[step[2]])
        # make sure every input is used, so every gradient is checked
        acc = acc + 0.1 * b * c
        return acc.sum() if reduce_ else acc

    assert ts.autograd.gradcheck(fn, xs) is True
