"""max/min(dim), sort, topk, kthvalue, median and mode return PyTorch's ``(values, indices)``;
``max(x, other)`` is ``maximum``. Values, indices, gradients and errors against torch.

Indices are compared only where torch documents them: the first maximal/minimal element for
max/min(dim), stable sorts; elsewhere (ties in topk, kthvalue, median, mode) the inputs are
distinct, or only the values are compared and the indices checked to point at them."""
import pickle

import numpy as np
import pytest

import tinyseq as ts
from tests.strategies import arrays_for
from tests.torch_compare import compare_with_torch, torch

NAN = float("nan")


def run(name, fn, shapes, kind="distinct", torch_fn=None, **kw):
    return compare_with_torch(fn, torch_fn, arrays_for(name, shapes, kind), **kw)


# ---- the named tuple ----------------------------------------------------------------------------
def test_max_dim_is_a_named_tuple_that_unpacks_indexes_and_prints_as_torchs():
    x = ts.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]])
    r = x.max(1)
    assert isinstance(r, tuple) and len(r) == 2 and type(r).__name__ == "max"
    values, indices = r
    assert values is r.values is r[0] and indices is r.indices is r[1] is r[-1]
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]  # the first maximum
    assert indices.dtype == ts.int64 and not indices.requires_grad
    assert repr(r) == f"tinyseq.return_types.max(\nvalues={values!r},\nindices={indices!r})"
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is type(r) and back.indices.tolist() == [1, 0]
    for name in ("min", "sort", "topk", "kthvalue", "median", "mode"):
        r = getattr(x, name)(2 if name in ("topk", "kthvalue") else -1)
        assert repr(r).startswith(f"tinyseq.return_types.{name}(\nvalues=")
        assert r._fields == ("values", "indices")


def test_the_silent_trap_is_gone():
    x = ts.tensor([[1.0, 9.0], [8.0, 2.0]])
    v, i = x.max(1)  # was: the two rows' maxima
    assert v.tolist() == [9.0, 8.0] and i.tolist() == [1, 0]
    assert x.max(1)[1].tolist() == [1, 0]  # was: the second row
    assert x.max(1).indices.tolist() == x.argmax(1).tolist()


def test_methods_and_functions_are_one():
    for name in ("max", "min", "amax", "amin", "maximum", "minimum", "sort", "argsort", "topk",
                 "kthvalue", "median", "mode"):
        assert getattr(ts, name) is getattr(ts.Tensor, name), name


# ---- max / min ----------------------------------------------------------------------------------
MAX_CASES = [
    ("max_dim", lambda m, a: a.max(1), (3, 5), "distinct"),
    ("max_dim_kw_keepdim", lambda m, a: m.max(a, dim=-1, keepdim=True), (2, 3, 4), "distinct"),
    ("max_dim_positional_keepdim", lambda m, a: m.max(a, 0, True), (4, 3), "distinct"),
    ("min_dim", lambda m, a: a.min(0), (5, 2), "distinct"),
    ("min_dim_fn", lambda m, a: m.min(a, -2), (3, 4, 2), "distinct"),
    ("max_0d", lambda m, a: a.max(0), (), "n"),
    ("max_0d_keepdim", lambda m, a: a.max(-1, keepdim=True), (), "n"),
    ("max_empty_other_dim", lambda m, a: a.max(0), (2, 0), "n"),
    # ties: torch documents the first maximal (minimal) element, which gets all of the gradient
    ("max_dim_ties", lambda m, a: a.max(1), (6, 5), "ties"),
    ("min_dim_ties", lambda m, a: a.min(0, keepdim=True), (5, 6), "ties"),
    # no dim: one tensor, the gradient shared between the ties
    ("max_all", lambda m, a: a.max(), (4, 5), "ties"),
    ("min_all_fn", lambda m, a: m.min(a), (3, 3), "ties"),
]


@pytest.mark.parametrize("name, fn, shape, kind", MAX_CASES, ids=[c[0] for c in MAX_CASES])
def test_max_and_min_as_torch(name, fn, shape, kind):
    run(name, fn, [shape], kind)


def test_max_dim_picks_the_first_nan_as_torch():
    x = np.array([[1.0, NAN, 3.0, NAN], [2.0, 0.0, 2.0, -1.0]])
    compare_with_torch(lambda m, a: a.max(1), arrays=[x], strict=False)
    compare_with_torch(lambda m, a: a.min(1), arrays=[x], strict=False)


def test_max_of_integers_and_bools():
    for data in ([[3, 1, 3], [0, 5, 2]], [[True, False], [False, False]]):
        compare_with_torch(lambda m, a: a.max(1), arrays=[np.array(data)])
        compare_with_torch(lambda m, a: a.min(0), arrays=[np.array(data)])


def test_max_dim_gradcheck():
    for fn in (lambda a: a.max(1).values, lambda a: a.min(-1, keepdim=True)[0],
               lambda a: a.max(0).values):
        x = ts.tensor(arrays_for("gc_max", [(3, 4)], "distinct")[0], requires_grad=True)
        assert ts.autograd.gradcheck(fn, (x,))


# ---- maximum / minimum and max(x, other) --------------------------------------------------------
ELEMENTWISE = [
    ("maximum", lambda m, a, b: m.maximum(a, b), [(3, 4), (3, 4)], "n"),
    ("minimum_broadcast", lambda m, a, b: m.minimum(a, b), [(3, 1), (4,)], "n"),
    ("max_other", lambda m, a, b: m.max(a, b), [(2, 3), (2, 3)], "n"),
    ("max_other_method", lambda m, a, b: a.max(b), [(2, 3), (3,)], "n"),
    ("min_other_kw", lambda m, a, b: m.min(a, other=b), [(2, 3), (1, 3)], "n"),
    ("maximum_ties", lambda m, a, b: a.maximum(b), [(4, 5), (4, 5)], "ties"),  # half each
    ("minimum_ties", lambda m, a, b: a.minimum(b), [(4, 5), (5,)], "ties"),
]


@pytest.mark.parametrize("name, fn, shapes, kind", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_maximum_and_minimum_as_torch(name, fn, shapes, kind):
    run(name, fn, shapes, kind)


def test_maximum_nan_and_dtypes_as_torch():
    """(Which of -0.0 and 0.0 is the maximum, torch leaves to its scalar or vector kernel.)"""
    a = np.array([1.0, 2.0, 3.0, NAN, NAN, 1.0])
    b = np.array([2.0, 2.0, 1.0, 1.0, NAN, NAN])
    for fn in (lambda m, x, y: m.maximum(x, y), lambda m, x, y: m.minimum(x, y)):
        compare_with_torch(fn, arrays=[a, b], strict=False)
    ints, floats = np.array([1, 5, -2]), np.array([2.5, 1.0, -2.0], dtype=np.float32)
    compare_with_torch(lambda m, x, y: m.maximum(x, y), arrays=[ints, floats], dtype=None)
    compare_with_torch(lambda m, x, y: m.minimum(x, y), arrays=[ints, ints[::-1].copy()])


def test_maximum_gradcheck():
    a, b = arrays_for("gc_maximum", [(3, 4), (4,)], "distinct")
    x, y = ts.tensor(a, requires_grad=True), ts.tensor(b, requires_grad=True)
    assert ts.autograd.gradcheck(lambda x, y: ts.maximum(x, y), (x, y))
    assert ts.autograd.gradcheck(lambda x, y: x.min(y), (x, y))


@pytest.mark.parametrize("fn, words", [
    (lambda m, x: m.maximum(x, 2.0), r"maximum.*Tensor.*float 2\.0.*clamp"),
    (lambda m, x: m.max(x, m.ones(3), keepdim=True), r"max.*elementwise.*keepdim"),
    (lambda m, x: m.max(x, 2), r"max.*dim 2.*range"),
    (lambda m, x: m.zeros(2, 0).max(1), r"max.*size 0"),
    (lambda m, x: m.zeros(0).min(), r"min.*no elements"),
])
def test_max_errors_name_the_op_and_match_torchs_types(fn, words):
    with pytest.raises(Exception) as theirs:
        fn(torch, torch.ones(2, 3))
    with pytest.raises(theirs.type, match=words):
        fn(ts, ts.ones(2, 3))


def test_amax_and_amin_share_ties_as_torch():
    run("amax", lambda m, a: m.amax(a, (0, 2)), [(3, 4, 2)], "ties")
    run("amin", lambda m, a: a.amin(-1, keepdim=True), [(3, 4)], "ties")
    run("amax_all", lambda m, a: a.amax(), [(3, 4)], "ties")


# ---- sort / argsort / topk ----------------------------------------------------------------------
SORTS = [
    ("sort", lambda m, a: a.sort(), (3, 5), "distinct"),
    ("sort_dim0_desc", lambda m, a: m.sort(a, 0, descending=True), (4, 3), "distinct"),
    ("sort_stable_ties", lambda m, a: m.sort(a, dim=1, stable=True), (5, 7), "ties"),
    ("sort_stable_ties_desc", lambda m, a: a.sort(dim=-1, descending=True, stable=True), (5, 7), "ties"),
    ("sort_0d", lambda m, a: a.sort(), (), "n"),
    ("sort_empty", lambda m, a: a.sort(1), (2, 0), "n"),
    ("sort_ints", lambda m, a: a.sort(stable=True), (3, 6), "int"),
    ("argsort", lambda m, a: a.argsort(1), (3, 5), "distinct"),
    ("argsort_desc_stable", lambda m, a: m.argsort(a, dim=0, descending=True, stable=True), (6, 3),
     "ties"),
    ("topk", lambda m, a: a.topk(2), (3, 5), "distinct"),
    ("topk_smallest_dim0", lambda m, a: m.topk(a, 3, dim=0, largest=False), (4, 2), "distinct"),
    ("topk_all", lambda m, a: a.topk(4, 1), (2, 4, 3), "distinct"),
    ("topk_zero", lambda m, a: a.topk(0), (3, 4), "distinct"),
    ("topk_0d", lambda m, a: a.topk(1), (), "n"),
]


@pytest.mark.parametrize("name, fn, shape, kind", SORTS, ids=[c[0] for c in SORTS])
def test_sort_argsort_topk_as_torch(name, fn, shape, kind):
    run(name, fn, [shape], kind)


def test_sort_puts_nan_last_and_first_when_descending_as_torch():
    x = np.array([[3.0, NAN, 1.0, NAN, 2.0], [NAN, 1.0, 1.0, -0.0, 0.0]])
    for fn in (lambda m, a: a.sort(stable=True), lambda m, a: a.sort(descending=True, stable=True),
               lambda m, a: a.argsort(dim=-1, descending=True, stable=True)):
        compare_with_torch(fn, arrays=[x], strict=False)
    compare_with_torch(lambda m, a: a.topk(2), arrays=[x[:1]], strict=False)


def test_topk_values_with_ties_are_torchs():
    x = arrays_for("topk_ties", [(5, 6)], "ties")[0]
    t = ts.tensor(x)
    for largest in (True, False):
        ours, theirs = t.topk(3, largest=largest), torch.from_numpy(x).topk(3, largest=largest)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(np.take_along_axis(x, ours.indices.numpy(), 1), ours.values)


def test_sort_and_topk_gradcheck():
    x = ts.tensor(arrays_for("gc_sort", [(3, 4)], "distinct")[0], requires_grad=True)
    for fn in (lambda a: a.sort(0).values, lambda a: a.sort(descending=True)[0],
               lambda a: a.topk(2).values, lambda a: a.topk(2, 0, largest=False).values):
        assert ts.autograd.gradcheck(fn, (x,))


# ---- kthvalue / median / mode -------------------------------------------------------------------
STATS = [
    ("kthvalue", lambda m, a: a.kthvalue(2), (3, 5), "distinct"),
    ("kthvalue_dim0_keepdim", lambda m, a: m.kthvalue(a, 4, 0, keepdim=True), (4, 3), "distinct"),
    ("kthvalue_0d", lambda m, a: a.kthvalue(1), (), "n"),
    ("median_dim_odd", lambda m, a: a.median(1), (3, 5), "distinct"),
    ("median_dim_even_lower", lambda m, a: m.median(a, 0, keepdim=True), (4, 3), "distinct"),
    ("median_dim_empty_other", lambda m, a: a.median(0), (3, 0), "n"),
    ("median_all", lambda m, a: a.median(), (4, 5), "ties"),  # the gradient shared by the ties
    ("median_all_even", lambda m, a: m.median(a), (2, 3), "distinct"),
    ("mode_distinct", lambda m, a: a.mode(1), (3, 4), "int"),
]


@pytest.mark.parametrize("name, fn, shape, kind", STATS, ids=[c[0] for c in STATS])
def test_kthvalue_median_mode_as_torch(name, fn, shape, kind):
    run(name, fn, [shape], kind)


def test_mode_is_the_smallest_most_frequent_value_at_its_last_occurrence():
    x = np.array([[2.0, 1.0, 2.0, 1.0, 3.0], [5.0, 4.0, 5.0, 0.0, 5.0], [1.0, 2.0, 3.0, 4.0, 0.0]])
    compare_with_torch(lambda m, a: a.mode(), arrays=[x])
    compare_with_torch(lambda m, a: a.mode(0), arrays=[x.T.copy()])
    x = arrays_for("mode_ties", [(6, 7)], "ties")[0]
    ours, theirs = ts.tensor(x).mode(1), torch.from_numpy(x).mode(1)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(np.take_along_axis(x, ours.indices.numpy()[:, None], 1)[:, 0],
                                  ours.values.numpy())


def test_median_and_kthvalue_with_nan_as_torch():
    x = np.array([[1.0, NAN, 2.0, NAN], [2.0, 1.0, 3.0, 0.0], [NAN, 1.0, 2.0, 3.0]])
    compare_with_torch(lambda m, a: a.median(1), arrays=[x], strict=False)  # the first NaN
    compare_with_torch(lambda m, a: a.median(), arrays=[x], strict=False)  # shared by the NaNs
    ours, theirs = ts.tensor(x).kthvalue(2), torch.from_numpy(x).kthvalue(2)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())


def test_median_of_nothing_is_nan_as_torch():
    assert np.isnan(ts.median(ts.zeros(0)).item()) and np.isnan(torch.zeros(0).median().item())


def test_kthvalue_median_mode_gradcheck():
    x = ts.tensor(arrays_for("gc_stats", [(3, 4)], "distinct")[0], requires_grad=True)
    for fn in (lambda a: a.kthvalue(3).values, lambda a: a.median(0).values, lambda a: a.median(),
               lambda a: a.mode(1).values):
        assert ts.autograd.gradcheck(fn, (x,))


@pytest.mark.parametrize("fn, words", [
    (lambda m, x: x.topk(4), r"topk: k=4 is out of range.*\(2, 3\).*0 <= k <= 3"),
    (lambda m, x: x.topk(-1), r"topk: k=-1"),
    (lambda m, x: x.kthvalue(0), r"kthvalue: k=0 .*1 <= k <= 3"),
    (lambda m, x: x.kthvalue(4, 1), r"kthvalue: k=4"),
    (lambda m, x: x.sort(2), r"sort: dim 2 .*range"),
    (lambda m, x: x.topk(1.5), r"topk: k must be an int, got float"),
    (lambda m, x: x.sort(dim=(0, 1)), r"sort: dim must be an int, got tuple"),
    (lambda m, x: m.zeros(2, 0).median(1), r"median: dim 1 .*size 0"),
    (lambda m, x: m.zeros(2, 0).kthvalue(1, 1), r"kthvalue: dim 1 .*size 0"),
    (lambda m, x: m.zeros(2, 0).mode(1), r"mode: dim 1 .*size 0"),
])
def test_errors_name_the_op_the_value_and_match_torchs_types(fn, words):
    with pytest.raises(Exception) as theirs:
        fn(torch, torch.ones(2, 3))
    with pytest.raises(theirs.type, match=words):
        fn(ts, ts.ones(2, 3))
