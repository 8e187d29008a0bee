"""What the cheaper paths of an op's result keep exactly (issue 17's per-op levers): the version
counter made only when asked for, results built inside ``views.wrap``, ``stack``/``cat`` of one
dtype, ``chunk`` straight to its pieces, an index of plain ints, ``sigmoid`` written in place,
and Embedding's lookup that checks its ids once. Behaviour only, never time: each test would
fail if a fast path answered differently from the general one or from PyTorch."""
import copy

import numpy as np
import pytest

import tinyseq as ts


def _torch_compare():
    from tests import torch_compare  # (skips the calling test when PyTorch is not installed)
    return torch_compare


# ---- the version counter, made when first asked for ---------------------------------------------
def test_a_counter_made_late_is_still_shared_by_the_views_and_bumped_by_in_place_ops():
    with ts.no_grad():
        r = ts.ones(2, 3) * 2  # a result whose counter nobody has asked for
        row = r[0]  # a view: from now on one counter for both
        deeper = row[1:]
        row.add_(1)
        deeper.mul_(2)
    assert r._version is row._version is deeper._version
    assert r._version.value == 2
    assert r.tolist() == [[3.0, 6.0, 6.0], [2.0, 2.0, 2.0]]


def test_a_counter_is_made_once_and_a_detached_tensor_shares_it():
    t = ts.randn(3)
    first = t._version
    assert t._version is first and first.value == 0
    d = t.detach()
    d.zero_()
    assert t._version is d._version and t._version.value == 1
    assert t.data._version is not t._version  # ``.data`` is outside autograd, as in torch


@pytest.mark.parametrize("change", ["result", "view"])
def test_a_saved_result_changed_in_place_is_refused_at_backward(change):
    x = ts.randn(2, 3, requires_grad=True)
    a = x.exp()  # no counter yet when ``a * a`` saves it
    v = a[0] if change == "view" else a
    y = (v * v).sum()
    with ts.no_grad():
        a.add_(1)  # through the base: the view saved by ``v * v`` shares its counter
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_an_unchanged_saved_result_still_backpropagates():
    x = ts.tensor([0.5, -1.0], dtype=ts.float64, requires_grad=True)
    a = x.exp()
    (a[0] * a).sum().backward()
    e = np.exp([0.5, -1.0])
    np.testing.assert_allclose(x.grad.numpy(), [2 * e[0] ** 2 + e[0] * e[1], e[0] * e[1]], rtol=1e-12)


def test_a_copied_parameter_shares_the_memory_but_not_the_counter_as_in_torch():
    torch = _torch_compare().torch
    for lib in (ts, torch):
        p = lib.nn.Parameter(lib.ones(3))
        q = copy.copy(p)
        with lib.no_grad():
            q.add_(1)
        assert p.tolist() == [2.0, 2.0, 2.0]
        assert (p._version, q._version) == (0, 1) if lib is torch else \
            (p._version.value, q._version.value) == (0, 1)


def test_results_and_views_know_their_root():
    x = ts.randn(4, 5)
    y = x * 2
    assert y._base is None and y._counter is None  # a new array: no root, no counter yet
    v = y[1:3]
    w = v[0]
    assert v._base[0] is y and w._base[0] is y  # a view of a view knows the root
    assert np.shares_memory(w.numpy(), y.numpy())


# ---- stack and cat: one dtype needs no joining --------------------------------------------------
@pytest.mark.parametrize("op", ["stack", "cat"])
def test_stack_and_cat_of_one_dtype_or_mixed_match_torch(op):
    torch = _torch_compare().torch
    parts = [np.arange(6.0).reshape(2, 3), np.ones((2, 3)), np.arange(6).reshape(2, 3)]
    for dtypes in [("float32", "float32"), ("float64", "float32"), ("int64", "float32"),
                   ("int32", "int64")]:
        arrays = [p.astype(d) for p, d in zip(parts[1:] if "int" in dtypes[0] else parts, dtypes)]
        mine = getattr(ts, op)([ts.from_numpy(a) for a in arrays], 1)  # (keeps the dtype)
        theirs = getattr(torch, op)([torch.from_numpy(a) for a in arrays], 1)
        assert str(mine.dtype).split(".")[1] == str(theirs.dtype).split(".")[1], dtypes
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


# ---- chunk, straight to split's pieces --------------------------------------------------------
@pytest.mark.parametrize("shape, chunks, dim", [((2, 8), 4, 1), ((2, 7), 3, -1), ((5, 3), 2, 0),
                                                ((3, 2), 5, 1), ((0, 3), 3, 0), ((4,), 1, -1)])
def test_chunk_matches_torch_with_gradients(shape, chunks, dim):
    tc = _torch_compare()
    data = np.arange(float(np.prod(shape))).reshape(shape)
    tc.compare_with_torch(lambda m, a: a.chunk(chunks, dim), arrays=[data],
                          check_backward=data.size > 0)


def test_chunk_pieces_are_views_and_bad_dims_are_refused_by_name():
    x = ts.zeros(2, 8)
    pieces = x.chunk(4, -1)
    pieces[1].fill_(1)
    assert x.tolist()[0] == [0, 0, 1, 1, 0, 0, 0, 0]
    with pytest.raises(IndexError, match=r"chunk: dim 2 is out of range"):
        x.chunk(2, 2)
    with pytest.raises(ValueError, match="chunk: chunks must be a positive int, got 0"):
        x.chunk(0, 1)


# ---- an index of plain ints ---------------------------------------------------------------
@pytest.mark.parametrize("index", [0, -1, (0, 0), (1, -2), (0, 1, 2)])
def test_an_index_of_ints_matches_torch_with_its_node_and_gradient(index):
    tc = _torch_compare()
    data = np.arange(24.0).reshape(2, 3, 4)
    mine, theirs = tc.compare_with_torch(lambda m, a: a[index], arrays=[data])
    assert mine[0].grad_fn.name() == theirs[0].grad_fn.name() == "SelectBackward0"


def test_an_index_of_ints_is_a_view_and_bools_or_an_empty_tuple_take_the_general_path():
    x = ts.zeros(2, 3)
    x[1, 2].fill_(5)  # a 0-d view: the write lands in x
    assert x.tolist() == [[0, 0, 0], [0, 0, 5]]
    assert x[True].shape == (1, 2, 3)  # True is a new dim, not the int 1
    assert x[()].shape == (2, 3)
    y = ts.zeros(2, requires_grad=True) * 1
    assert y[()].grad_fn.name() == "AliasBackward0"  # as torch names ``t[()]``


@pytest.mark.parametrize("index, message", [
    ((0, 3), r"index 3 is out of range for dim 1 of size 3"),
    (-3, r"index -3 is out of range for dim 0 of size 2"),
    ((0, 0, 0), r"too many indices"),
])
def test_an_int_out_of_range_is_refused_naming_the_dim_and_size(index, message):
    with pytest.raises(IndexError, match=message):
        ts.zeros(2, 3)[index]


def test_an_int_array_index_matches_torch_and_names_a_bad_id():
    tc = _torch_compare()
    ids = np.array([[2, 0], [2, -1]])
    mine, theirs = tc.compare_with_torch(lambda m, a, i: a[i], arrays=[np.arange(12.0).reshape(4, 3),
                                                                       ids])
    assert mine[0].grad_fn.name() == theirs[0].grad_fn.name() == "IndexBackward0"
    with pytest.raises(IndexError, match=r"index 4 is out of range for dim 0 of size 4"):
        ts.zeros(4, 3)[np.array([1, 4])]
    assert ts.arange(4)[np.array(2)].shape == ()  # a 0-d array indexes as an int


# ---- sigmoid in place ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_sigmoid_gives_the_same_bits_as_its_formula(dtype):
    a = np.concatenate([np.random.default_rng(0).standard_normal(50) * 30,
                        [0.0, -0.0, 1000, -1000, np.inf, -np.inf, np.nan]]).astype(dtype)
    with np.errstate(all="ignore"):
        expected = 1 / (1 + np.exp(-a))
    for x in (a, a.reshape(-1, 1)[::2], a[3]):  # 1-d, a strided view, 0-d
        out = ts.from_numpy(np.array(x)).sigmoid().numpy()
        want = expected if x is a else expected.reshape(-1, 1)[::2] if x.ndim else expected[3]
        assert out.dtype == dtype and out.shape == np.shape(x)
        np.testing.assert_array_equal(out, want)


def test_sigmoid_matches_torch_and_leaves_its_input_alone():
    tc = _torch_compare()
    data = np.linspace(-6, 6, 12).reshape(3, 4)
    tc.compare_with_torch(lambda m, a: a.sigmoid(), arrays=[data])
    tc.compare_with_torch(lambda m, a: a.sigmoid(), arrays=[np.array(0.7)])
    tc.compare_with_torch(lambda m, a: a.sigmoid(), arrays=[data], dtype=np.float32)


# ---- Embedding checks its ids once ----------------------------------------------------------------
@pytest.mark.parametrize("ids", [[[3, 1, 3]], [2], 2, [[0], [4]]])
def test_embedding_matches_torch_for_repeated_and_0d_ids(ids):
    tc = _torch_compare()
    torch = tc.torch
    weight = np.arange(15.0).reshape(5, 3)
    tc.compare_with_torch(lambda m, w, i: m.nn.functional.embedding(i, w),
                          arrays=[weight, np.array(ids)])
    mine = ts.nn.functional.embedding(ts.tensor(ids), ts.from_numpy(weight))
    theirs = torch.nn.functional.embedding(torch.tensor(ids), torch.tensor(weight))
    if np.ndim(ids):  # a new tensor, as torch's (a 0-d id still gives a view of the row)
        assert not np.shares_memory(mine.numpy(), weight)
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.parametrize("ids, bad", [([0, 5], 5), ([[-1]], -1)])
def test_embedding_refuses_an_id_out_of_range_naming_it(ids, bad):
    emb = ts.nn.Embedding(5, 3)
    with pytest.raises(IndexError, match=rf"Embedding: id {bad} is out of range for 5 embeddings"):
        emb(ts.tensor(ids))
