"""The shape and indexing ops of ``ops/layout.py``, ``ops/diagonal.py`` and ``ops/gather.py``
against PyTorch (outputs, then every input gradient, float64 and float32), through gradcheck, by
hypothesis against numpy, in place, and their refusals (torch's exception types)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinyseq as ts
from tests.strategies import FAST, FEW, arrays_for, nonscalar_shapes, seeds
from tests.torch_compare import compare_with_torch, torch
from tinyseq.autograd import namespace
from tinyseq.autograd.ops import diagonal, gather, layout

IDX = np.array([[0, 2], [3, 3], [1, 0]])              # gather/scatter indices into (3, 4) along 1
ROWS = np.array([2, 0, 2])                            # index_select / index_add rows of (3, 4)
MASK = np.array([[True, False, True, False]])         # broadcasts over (3, 4)


def case(name, fn, *shapes, ints=(), kind="n"):
    """``fn(m, *tensors, *int tensors)``: float inputs of ``shapes``, then the int arrays ``ints``."""
    return pytest.param(name, fn, shapes, ints, kind, id=name)


CASES = [
    case("repeat", lambda m, a: a.repeat(2, 1, 3), (3, 4)),
    case("repeat_new_dims", lambda m, a: a.repeat(2, 2, 1), (4,)),
    case("repeat_0d", lambda m, a: a.repeat(3), ()),
    case("repeat_zero", lambda m, a: a.repeat(0, 2), (2, 3)),
    case("expand_as", lambda m, a, b: a.expand_as(b) * b, (3, 1), (2, 3, 4)),
    case("view_as", lambda m, a, b: a.view_as(b) + b, (6,), (2, 3)),
    case("reshape_as", lambda m, a, b: a.t().reshape_as(b) * b, (2, 3), (6,)),
    case("type_as_float32", lambda m, a, b: a.type_as(b), (3,), (2,)),
    case("unflatten", lambda m, a: a.unflatten(1, (2, -1)), (3, 4)),
    case("unflatten_fn", lambda m, a: m.unflatten(a, -1, (2, 2, 1)), (2, 4)),
    case("tensor_split_sections", lambda m, a: a.tensor_split(3, dim=1), (2, 7)),
    case("tensor_split_indices", lambda m, a: m.tensor_split(a, [1, 4], 0), (6, 2)),
    case("tensor_split_past_end", lambda m, a: a.tensor_split([2, 9]), (4,)),
    case("tensor_split_overlap", lambda m, a: a.tensor_split([3, 1]), (5,)),
    case("tensor_split_negative", lambda m, a: a.tensor_split([-2]), (5, 2)),
    case("movedim", lambda m, a: a.movedim(0, 2), (2, 3, 4)),
    case("movedim_tuple", lambda m, a: m.movedim(a, (0, -1), (2, 0)), (2, 3, 4)),
    case("moveaxis", lambda m, a: m.moveaxis(a, 1, 0), (2, 3)),
    case("roll", lambda m, a: a.roll(1, 1), (3, 4)),
    case("roll_dims", lambda m, a: m.roll(a, (2, -1), (0, 1)), (3, 4)),
    case("roll_flat", lambda m, a: a.roll(5), (3, 4)),
    case("tril", lambda m, a: m.tril(a), (4, 4)),
    case("tril_batch_offset", lambda m, a: a.tril(-1), (2, 3, 5)),
    case("triu", lambda m, a: m.triu(a, diagonal=1), (3, 4)),
    case("triu_wide_offset", lambda m, a: a.triu(-2), (5, 3)),
    case("diag_of_vector", lambda m, a: m.diag(a), (3,)),
    case("diag_of_vector_offset", lambda m, a: m.diag(a, -2), (3,)),
    case("diag_of_matrix", lambda m, a: a.diag(1), (3, 4)),
    case("diagonal", lambda m, a: a.diagonal(), (3, 4)),
    case("diagonal_dims", lambda m, a: m.diagonal(a, offset=-1, dim1=2, dim2=0), (4, 2, 3)),
    case("diagonal_past_edge", lambda m, a: a.diagonal(5), (3, 4)),
    case("index_select", lambda m, a, i: a.index_select(0, i), (3, 4), ints=(ROWS,)),
    case("index_select_dim1", lambda m, a, i: m.index_select(a, -1, i), (2, 4),
         ints=(np.array([3, 3, 0]),)),
    case("gather", lambda m, a, i: a.gather(1, i), (3, 4), ints=(IDX,)),
    case("gather_dim0_smaller", lambda m, a, i: m.gather(a, 0, i), (3, 4),
         ints=(np.array([[2, 0], [1, 1]]),)),
    case("take_along_dim", lambda m, a, i: m.take_along_dim(a, i, dim=1), (3, 4), ints=(IDX,)),
    case("take_along_dim_bcast", lambda m, a, i: a.take_along_dim(i, 0), (3, 1),
         ints=(np.array([[0, 2], [1, 1]]),)),
    case("take_along_dim_flat", lambda m, a, i: m.take_along_dim(a, i), (3, 4), ints=(IDX,)),
    case("masked_select", lambda m, a, k: a.masked_select(k), (3, 4), ints=(MASK,)),
    case("masked_select_bcast_input", lambda m, a, k: m.masked_select(a, k), (4,),
         ints=(np.array([[True, False, True, True], [False] * 4]),)),
    case("scatter_src", lambda m, a, s, i: a.scatter(1, i, s), (3, 4), (3, 2),
         ints=(np.array([[0, 2], [3, 1], [1, 0]]),)),
    case("scatter_value", lambda m, a, i: m.scatter(a, 1, i, 2.5), (3, 4), ints=(IDX,)),
    case("scatter_value_keyword", lambda m, a, i: a.scatter(0, i, value=-1.0), (3, 4),
         ints=(np.array([[2, 0, 1, 1]]),)),
    case("scatter_add", lambda m, a, s, i: a.scatter_add(1, i, s), (3, 4), (3, 2), ints=(IDX,)),
    case("scatter_add_fn", lambda m, a, s, i: m.scatter_add(a, 0, i, s), (3, 4), (2, 4),
         ints=(np.array([[0, 1, 2, 0], [0, 0, 2, 2]]),)),
    case("index_fill", lambda m, a, i: a.index_fill(1, i, -2.0), (3, 4),
         ints=(np.array([0, -1]),)),
    case("index_fill_0d_value", lambda m, a, v, i: m.index_fill(a, 0, i, v), (3, 4), (),
         ints=(np.array([1]),)),
    case("index_add", lambda m, a, s, i: a.index_add(0, i, s), (3, 4), (3, 4), ints=(ROWS,)),
    case("index_add_alpha", lambda m, a, s, i: m.index_add(a, 1, i, s, alpha=-0.5), (3, 4),
         (3, 2), ints=(np.array([1, 1]),)),
]


def _arrays(name, shapes, ints, kind):
    return [*arrays_for(name, shapes, kind), *ints]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, fn, shapes, ints, kind", CASES)
def test_matches_torch(name, fn, shapes, ints, kind, dtype):
    compare_with_torch(fn, arrays=_arrays(name, shapes, ints, kind), dtype=dtype)


@pytest.mark.parametrize("name, fn, shapes, ints, kind", CASES)
def test_gradcheck(name, fn, shapes, ints, kind):
    arrays = _arrays(name, shapes, ints, kind)
    n = len(shapes)
    floats = [ts.tensor(a, dtype=ts.float64, requires_grad=True) for a in arrays[:n]]
    const = [ts.tensor(a) for a in arrays[n:]]
    if name == "type_as_float32":  # (a cast to float32 is not float64-exact)
        return

    def f(*xs):
        out = fn(ts, *xs, *const)
        return out if isinstance(out, ts.Tensor) else tuple(out)

    assert ts.autograd.gradcheck(f, floats) is True


def test_scatter_from_a_larger_src_uses_its_corner():
    """torch 2.13 computes this forward but its backward fails (a gradient of index's shape for
    src); tinyseq's gives src's corner the gradient and the rest zeros, checked by gradcheck."""
    idx = np.array([[0, 2], [3, 1]])
    compare_with_torch(lambda m, a, s, i: a.scatter(1, i, s),
                       arrays=[*arrays_for("big_src", [(3, 4), (3, 3)]), idx],
                       check_backward=False)
    a, s = (ts.tensor(v, dtype=ts.float64, requires_grad=True)
            for v in arrays_for("big_src", [(3, 4), (3, 3)]))
    assert ts.autograd.gradcheck(lambda a, s: a.scatter(1, ts.tensor(idx), s), (a, s))
    a.scatter(1, ts.tensor(idx), s).sum().backward()
    assert s.grad.tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 0]]


def test_a_wrong_gradient_fails_the_comparison():
    """The table's checks can fail: torch's gather against tinyseq's gather on other rows."""
    with pytest.raises(AssertionError):
        compare_with_torch(lambda m, a, i: a.gather(1, i if m is torch else i.flip(0)),
                           arrays=[np.arange(12.0).reshape(3, 4), IDX])


def test_type_as_takes_the_other_dtype_and_its_gradient_comes_back_in_its_own():
    x = ts.tensor([1.5, 2.0], dtype=ts.float64, requires_grad=True)
    y = x.type_as(ts.zeros(1))
    assert y.dtype == ts.float32 and x.type_as(ts.zeros(1, dtype=ts.int64)).tolist() == [1, 2]
    y.sum().backward()
    assert x.grad.dtype == ts.float64 and x.grad.tolist() == [1.0, 1.0]
    assert x.type_as(x) is x


def test_views_share_memory_as_in_torch():
    x = ts.arange(12.0).reshape(3, 4)
    x.diagonal()[0] = 100.0  # diagonal is a view, diag a copy
    x.tensor_split(2, dim=1)[1][0, 0] = -1.0
    x.unflatten(1, (2, 2))[2, 1, 1] = 7.0
    assert x[0, 0].item() == 100.0 and x[0, 2].item() == -1.0 and x[2, 3].item() == 7.0
    d = x.diag()
    d[1] = 0.0
    assert x[1, 1].item() == 5.0


def test_integer_tensors_go_through_and_carry_no_gradient():
    i = ts.tensor([[1, 2], [3, 4]])
    assert ts.tril(i).tolist() == [[1, 0], [3, 4]] and i.repeat(1, 2).tolist()[0] == [1, 2, 1, 2]
    assert i.gather(0, ts.tensor([[1, 0]])).tolist() == [[3, 2]]
    assert i.masked_select(i > 1).tolist() == [2, 3, 4]
    assert ts.zeros(3, dtype=ts.int64).index_fill(0, ts.tensor([1]), 1.9).tolist() == [0, 1, 0]
    x = ts.ones(2, 2, requires_grad=True)
    assert x.masked_select(x > 0).grad_fn.name == "masked_select"
    assert (x > 0).gather(1, ts.tensor([[0], [1]])).grad_fn is None


# ---- in place -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, call", [
    ("scatter_", lambda m, a, s: a.scatter_(1, m.tensor([[0], [3], [1]]), s[:, :1])),
    ("scatter_value", lambda m, a, s: a.scatter_(1, m.tensor([[0], [3], [1]]), 5.0) * s.sum()),
    ("scatter_add_", lambda m, a, s: a.scatter_add_(0, m.tensor([[2, 2, 0, 1]]), s[:1])),
    ("index_fill_", lambda m, a, s: a.index_fill_(1, m.tensor([1, 2]), 0.0) * s[0, 0]),
    ("index_add_", lambda m, a, s: a.index_add_(0, m.tensor([0, 0, 2]), s.expand(3, 4))),
    ("tril_", lambda m, a, s: a.tril_(1) + s),
    ("triu_", lambda m, a, s: a.triu_() * s),
])
def test_in_place_forms_match_torch_inside_a_graph(name, call):
    def fn(m, x, s):
        a = x * 1.0  # a non-leaf: in place is recorded and x still gets its gradient
        out = call(m, a, s)
        return out, a

    compare_with_torch(fn, arrays=arrays_for(name, [(3, 4), (3, 1 if "index_add" in name else 4)]))


def test_in_place_on_a_leaf_is_refused_and_plain_tensors_change():
    x = ts.zeros(2, 3)
    assert x.scatter_(1, ts.tensor([[2], [0]]), 1.0) is x
    assert x.tolist() == [[0, 0, 1], [1, 0, 0]]
    w = ts.zeros(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="index_add_: a leaf tensor that requires grad"):
        w.index_add_(0, ts.tensor([0]), ts.ones(1, 2))


# ---- by property, against numpy -----------------------------------------------------------------
@FAST
@given(nonscalar_shapes, st.data(), seeds)
def test_repeat_roll_movedim_are_numpys(shape, data, seed):
    a = np.random.default_rng(seed).standard_normal(shape)
    x = ts.tensor(a, dtype=ts.float64, requires_grad=True)
    reps = data.draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape) + 2))
    np.testing.assert_array_equal(x.repeat(*reps).numpy(), np.tile(a, reps))
    shift, dim = data.draw(st.integers(-6, 6)), data.draw(st.integers(-len(shape), len(shape) - 1))
    rolled = x.roll(shift, dim)
    np.testing.assert_array_equal(rolled.numpy(), np.roll(a, shift, dim))
    src, dst = data.draw(st.permutations(range(len(shape)))), data.draw(
        st.permutations(range(len(shape))))
    k = data.draw(st.integers(0, len(shape)))
    np.testing.assert_array_equal(ts.movedim(x, src[:k], dst[:k]).numpy(),
                                  np.moveaxis(a, src[:k], dst[:k]))
    (rolled * ts.tensor(np.roll(a, shift, dim), dtype=ts.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), a, rtol=1e-12)  # roll's gradient rolls back


@FAST
@given(nonscalar_shapes, st.data(), seeds)
def test_gather_and_scatter_add_are_numpys_take_and_put_along_axis(shape, data, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    dim = data.draw(st.integers(0, len(shape) - 1))
    idx = rng.integers(0, shape[dim], shape[:dim] + (data.draw(st.integers(1, 4)),)
                       + shape[dim + 1:])
    x = ts.tensor(a, dtype=ts.float64, requires_grad=True)
    out = x.gather(dim, ts.tensor(idx))
    np.testing.assert_array_equal(out.numpy(), np.take_along_axis(a, idx, dim))
    g = rng.standard_normal(idx.shape)
    out.backward(ts.tensor(g, dtype=ts.float64))
    expected = np.zeros(shape)
    for pos in np.ndindex(idx.shape):  # every picked element gets its gradient, repeats add
        at = list(pos)
        at[dim] = idx[pos]
        expected[tuple(at)] += g[pos]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
    added = ts.zeros(shape, dtype=ts.float64).scatter_add(dim, ts.tensor(idx),
                                                              ts.tensor(g, dtype=ts.float64))
    np.testing.assert_allclose(added.numpy(), expected, rtol=1e-12)


@FEW
@given(st.integers(0, 9), st.lists(st.integers(-12, 12), max_size=4), st.integers(1, 5))
def test_tensor_split_is_numpys_array_split(n, cuts, sections):
    a = np.arange(float(n))
    for spec in (sections, cuts):
        ours = ts.tensor(a).tensor_split(spec)
        theirs = np.array_split(a, spec)
        assert [p.tolist() for p in ours] == [p.tolist() for p in theirs]


@FEW
@given(st.integers(1, 5), st.integers(1, 5), st.integers(-6, 6))
def test_tril_triu_and_diagonal_are_numpys(n, m, k):
    a = np.arange(float(n * m)).reshape(n, m)
    x = ts.tensor(a)
    np.testing.assert_array_equal(x.tril(k).numpy(), np.tril(a, k))
    np.testing.assert_array_equal(ts.triu(x, k).numpy(), np.triu(a, k))
    np.testing.assert_array_equal(x.diagonal(k).numpy(), np.diagonal(a, k))
    np.testing.assert_array_equal(x.diag(k).numpy(), np.diag(a, k))


# ---- layout and refusals ------------------------------------------------------------------------
@pytest.mark.parametrize("module", [layout, diagonal, gather], ids=lambda m: m.__name__)
def test_each_method_is_its_modules_function_and_ts_names_are_the_methods(module):
    for name, method in module.TENSOR_METHODS.items():
        assert getattr(ts.Tensor, name) is method and method.__module__ == module.__name__
        if name in namespace.METHODS:
            assert getattr(ts, name) is method


REFUSALS = [
    ("repeat_too_few", lambda m: m.ones(2, 3).repeat(2), RuntimeError, "repeat"),
    ("unflatten_bad", lambda m: m.ones(3, 4).unflatten(1, (3, 2)), RuntimeError, "unflatten"),
    ("tensor_split_0", lambda m: m.ones(3).tensor_split(0), RuntimeError, "sections"),
    ("movedim_lengths", lambda m: m.ones(2, 3).movedim((0, 1), (0,)), RuntimeError, "movedim"),
    ("movedim_repeat", lambda m: m.ones(2, 3).movedim((0, 0), (0, 1)), RuntimeError, "repeated"),
    ("roll_align", lambda m: m.ones(2, 3).roll(1, (0, 1)), RuntimeError, "roll"),
    ("tril_1d", lambda m: m.tril(m.ones(3)), RuntimeError, "at least 2"),
    ("diag_3d", lambda m: m.diag(m.ones(2, 2, 2)), RuntimeError, "diag"),
    ("diagonal_same", lambda m: m.ones(2, 2).diagonal(0, 1, 1), RuntimeError, "diagonal"),
    ("index_select_2d", lambda m: m.ones(3).index_select(0, m.tensor([[0]])), IndexError,
     "index_select"),
    ("index_select_range", lambda m: m.ones(3).index_select(0, m.tensor([3])), IndexError,
     "index"),
    ("index_select_float", lambda m: m.ones(3).index_select(0, m.tensor([0.0])), RuntimeError,
     "int"),
    ("gather_range", lambda m: m.ones(3, 4).gather(1, m.tensor([[0], [1], [7]])), RuntimeError,
     "out of bounds"),
    ("gather_negative", lambda m: m.ones(3, 4).gather(1, m.tensor([[-1]])), RuntimeError,
     "out of bounds"),
    ("gather_dims", lambda m: m.ones(3, 4).gather(1, m.tensor([0, 1])), RuntimeError, "dim"),
    ("gather_too_big", lambda m: m.ones(3, 4).gather(1, m.tensor([[0]] * 4)), RuntimeError,
     "larger"),
    ("scatter_dtype", lambda m: m.ones(3, 4).scatter(1, m.tensor([[0]]), m.ones(1, 1).double()),
     RuntimeError, "dtype"),
    ("scatter_src_small", lambda m: m.ones(3, 4).scatter(1, m.tensor([[0], [1], [2]]),
                                                         m.ones(2, 1)), RuntimeError, "src"),
    ("masked_select_float", lambda m: m.ones(3).masked_select(m.ones(3)), RuntimeError, "mask"),
    ("masked_select_shape", lambda m: m.ones(3, 4).masked_select(m.ones(3) > 0), RuntimeError,
     "broadcast"),
    ("index_fill_1d_value", lambda m: m.ones(3).index_fill(0, m.tensor([0]), m.ones(1)),
     RuntimeError, "0-d"),
    ("index_add_shape", lambda m: m.ones(3, 4).index_add(1, m.tensor([0]), m.ones(3, 2)),
     RuntimeError, "index_add"),
    ("index_add_range", lambda m: m.ones(3, 4).index_add(1, m.tensor([4]), m.ones(3, 1)),
     RuntimeError, "out of bounds"),
    ("take_along_dim_dims", lambda m: m.ones(3, 4).take_along_dim(m.tensor([0]), dim=1),
     RuntimeError, "take_along_dim"),
]


@pytest.mark.parametrize("name, call, error, words", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_are_torchs_exception_types_in_one_line(name, call, error, words):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=words) as info:
        call(ts)
    assert "\n" not in str(info.value)


# ---- grad modes and Variable (as torch's) -------------------------------------------------------
@pytest.mark.parametrize("lib", [ts, torch], ids=["tinyseq", "torch"])
def test_set_grad_enabled_is_a_setting_a_context_and_a_decorator(lib):
    x = lib.ones(2, requires_grad=True)
    with lib.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad and lib.is_grad_enabled()
    lib.set_grad_enabled(False)
    try:
        assert not lib.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        lib.set_grad_enabled(True)

    @lib.set_grad_enabled(False)
    def double(t):
        return t * 2

    assert lib.is_grad_enabled()  # decorating sets nothing
    assert not double(x).requires_grad and lib.is_grad_enabled()

    @lib.no_grad
    def triple(t):
        return t * 3

    assert not triple(x).requires_grad and lib.is_grad_enabled()


@pytest.mark.parametrize("lib", [ts, torch], ids=["tinyseq", "torch"])
def test_variable_returns_the_tensor_detached_with_the_flag_asked(lib):
    w = lib.ones(2, requires_grad=True)
    v = lib.autograd.Variable(w * 2)
    assert v.requires_grad is False and v.grad_fn is None and v.tolist() == [2.0, 2.0]
    u = lib.autograd.Variable(lib.zeros(2), requires_grad=True)
    (u * 3).sum().backward()
    assert u.grad.tolist() == [3.0, 3.0] and isinstance(u, lib.autograd.Variable)
    assert u.data.tolist() == [0.0, 0.0]
    with pytest.raises(TypeError):
        lib.autograd.Variable([1.0])
