"""Indexing against PyTorch: every mix of ints, slices, None, ``...``, int lists and tensors,
bool masks and bools, drawn by hypothesis. Values, shapes and gradients must equal torch's, and an
index torch refuses must be refused with an ``IndexError`` that starts with ``index:``."""
import re

import numpy as np
import pytest
from hypothesis import given

import tinyseq as ts
from tests.strategies import MANY, shapes_and_indices
from tests.torch_compare import torch


def _out_of_range(shape, index):
    """Whether an int or int array of ``index`` reaches outside its dim (the test's own reading:
    ``None``, bools and ``...`` take no dim, a bool mask as many as it has, the rest one)."""
    def is_mask(i):
        return isinstance(i, np.ndarray) and i.dtype == np.bool_

    def span(i):
        if i is None or i is Ellipsis or isinstance(i, bool):
            return 0
        return i.ndim if is_mask(i) else 1

    dim = 0
    for i in index:
        if i is Ellipsis:
            dim += max(len(shape) - sum(map(span, index)), 0)
            continue
        if span(i) and not (isinstance(i, slice) or is_mask(i)) and dim < len(shape):
            ids = np.asarray(i)
            if ids.size and not -shape[dim] <= ids.min() <= ids.max() < shape[dim]:
                return True
        dim += span(i)
    return False


def _torch_index(index):
    return tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i for i in index)


def _run_torch(x, index):
    """torch's result (and the gradient of ``sum(result * w)``), or the exception it raised."""
    t = torch.from_numpy(x).requires_grad_()
    try:
        y = t[_torch_index(index)]
    except (IndexError, RuntimeError, ValueError) as e:
        return e, None, None
    w = np.random.default_rng(0).standard_normal(tuple(y.shape))
    (y * torch.from_numpy(w)).sum().backward()
    return y.detach().numpy(), w, t.grad.numpy()


@MANY
@given(shapes_and_indices())
def test_getitem_matches_torch_values_shapes_and_gradients(case):
    shape, index = case
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    want, w, want_grad = _run_torch(x, index)
    t = ts.tensor(x, dtype=ts.float64, requires_grad=True)
    if isinstance(want, Exception):
        with pytest.raises(IndexError, match=r"^index: "):
            t[index]
        return
    if want.size == 0 and _out_of_range(shape, index):
        # torch checks index values only while reading them, and an empty result reads none:
        # tinyseq refuses the index in one line, or (next to a False mask, which numpy reads
        # first) gives torch's empty result
        try:
            y = t[index]
        except IndexError as error:
            assert re.match(r"index: index -?\d+ is out of range", str(error)), str(error)
            return
        assert y.shape == want.shape, f"{index}: shape {y.shape}, torch {want.shape}"
        return
    y = t[index]
    assert y.shape == want.shape, f"{index}: shape {y.shape}, torch {want.shape}"
    np.testing.assert_array_equal(y.numpy(), want)
    (y * ts.tensor(w, dtype=ts.float64)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), want_grad, rtol=1e-12, atol=1e-12)


@MANY
@given(shapes_and_indices())
def test_setitem_writes_where_getitem_reads(case):
    shape, index = case
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    t, u = ts.tensor(x, dtype=ts.float64), torch.from_numpy(x.copy())
    try:
        u[_torch_index(index)] = -1.0
    except (IndexError, RuntimeError, ValueError):
        with pytest.raises(IndexError, match=r"^index: "):
            t[index] = -1.0
        return
    try:
        t[index] = -1.0
    except IndexError as e:  # allowed only where getitem refuses too: see the test above
        assert u[_torch_index(index)].numel() == 0 and _out_of_range(shape, index), e
    np.testing.assert_array_equal(t.numpy(), u.numpy())


def test_an_int_next_to_index_arrays_is_applied_first_as_in_torch():
    x = ts.arange(24).reshape(2, 3, 4)
    assert x[0, :, [0, 1]].shape == (3, 2)  # numpy: (2, 3)
    np.testing.assert_array_equal(x[0, :, [0, 1]].numpy(), [[0, 1], [4, 5], [8, 9]])
    assert x[ts.tensor(1), :, ts.tensor([3, 0])].shape == (3, 2)  # a 0-d tensor is an int
    assert x[:, 1, [0, 1]].shape == (2, 2)
    y = ts.zeros(2, 3, 4)
    y[0, :, [0, 1]] = ts.tensor(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(y.numpy()[0, :, :2], np.arange(6.0).reshape(3, 2))


@pytest.mark.parametrize("index", [(0, slice(None), [0, 2]), (slice(None), 1, [1, 1, 0]),
                                   ([1, 0], slice(1, 3), 2), (Ellipsis, [0, 0], None, 1)])
def test_gradcheck_of_mixed_indices(index):
    x = ts.randn(2, 3, 4, dtype=ts.float64, requires_grad=True)
    assert ts.autograd.gradcheck(lambda a: a[index] ** 2, (x,))


@pytest.mark.parametrize("index, words", [
    ((slice(None), [0, 7]), r"index 7 is out of range for dim 1 of size 3"),
    ((5,), r"index 5 is out of range for dim 0 of size 2"),
    ((Ellipsis, -5), r"index -5 is out of range for dim 2 of size 4"),
    ((0, 0, 0, 0), r"too many indices"),
    ((1.5,), r"only integers"),
    (([0, 1], [0, 1, 2]), r"shape mismatch.*\(2,\) \(3,\)"),
])
def test_bad_indices_are_one_line_index_errors(index, words):
    with pytest.raises(IndexError, match=r"^index: .*" + words + r".*\(2, 3, 4\)"):
        ts.zeros(2, 3, 4)[index]


def test_embedding_style_ids_out_of_range_name_the_row_count():
    table = ts.zeros(10, 4, requires_grad=True)
    with pytest.raises(IndexError, match=r"index 10 is out of range for dim 0 of size 10"):
        table[ts.tensor([[1, 10]])]
    assert table[[]].shape == (0, 4)


def test_setitem_with_a_value_of_the_wrong_shape_names_both_shapes():
    x = ts.zeros(2, 3)
    with pytest.raises(ts.ShapeError, match=r"__setitem__: a value of shape \(2,\) cannot be "
                                            r"broadcast to the shape \(3,\)"):
        x[0] = ts.ones(2)
    with pytest.raises(TypeError, match=r"__setitem__: cannot write <U1 values into a tensor"):
        x[0] = "a"
    assert not x.numpy().any()


@pytest.mark.parametrize("index, words", [
    ((slice(None, None, -1),), r"got -1 \(to reverse a dim of size n, index it with "
                               r"ts.arange\(n - 1, -1, -1\)\)$"),
    ((0, slice(3, 0, -2)), r"got -2 \("),
    ((slice(None, None, 0),), r"got 0$"),
])
def test_slice_steps_below_1_are_refused_as_torch_does(index, words):
    with pytest.raises(ValueError):
        torch.zeros(2, 3)[index]
    x = ts.zeros(2, 3)
    with pytest.raises(ValueError, match=r"^index: a slice step must be greater than zero, "
                                         + words):
        x[index]
    with pytest.raises(ValueError, match=r"^index: a slice step must be greater than zero"):
        x[index] = 1.0
    assert not x.numpy().any()
    assert ts.arange(4)[ts.arange(3, -1, -1)].tolist() == [3, 2, 1, 0]  # what the message offers


@pytest.mark.parametrize("shape, index, words", [
    ((0, 1), (Ellipsis, np.zeros(0, bool)), r"\(0,\) indexes dim 1 of a tensor of shape \(0, 1\), "
                                            r"of sizes \(1,\)"),
    ((2, 1), (np.zeros(0, bool),), r"\(0,\) indexes dim 0 of .* of sizes \(2,\)"),
    ((2, 3), (slice(None), np.zeros(0, bool)), r"\(0,\) indexes dim 1 .* of sizes \(3,\)"),
    ((0, 2), (np.zeros((0, 3), bool),), r"\(0, 3\) indexes dims 0 to 1 .* of sizes \(0, 2\)"),
    ((2, 3), (np.ones(2, bool), np.zeros(0, bool)), r"\(0,\) indexes dim 1 .*"),
])
def test_a_mask_of_the_wrong_shape_is_refused_even_when_something_is_empty(shape, index, words):
    with pytest.raises(IndexError, match="mask"):
        torch.zeros(shape)[_torch_index(index)]
    x = ts.zeros(*shape)
    for write in (False, True):
        with pytest.raises(IndexError, match=r"^index: a bool mask of shape " + words
                                             + r"; a mask must have the shape of the dims"):
            if write:
                x[index] = 1.0
            else:
                x[index]
    assert ts.zeros(0, 1)[np.zeros((0, 1), bool)].shape == (0,)  # the right shape still works


def test_an_integer_tensor_of_one_element_is_an_index_as_in_torch():
    x = ts.arange(6)
    assert x[ts.tensor(1):ts.tensor([5]):ts.tensor(2)].tolist() == [1, 3]
    assert list(range(ts.tensor(3))) == [0, 1, 2] and [7, 8][ts.tensor(1)] == 8
    for bad in (ts.tensor(1.0), ts.tensor([1, 2])):
        with pytest.raises(TypeError, match=r"^index: a slice step must be an integer, got Tensor"):
            x[::bad]
        with pytest.raises(TypeError, match=r"^only an integer tensor of one element can be an "
                                            r"index, not one of dtype"):
            range(bad)
    with pytest.raises(TypeError, match=r"^index: a slice step must be an integer, got str 'a'"):
        x[::"a"]
