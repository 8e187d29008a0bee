"""The Tensor as an object: factories, dtypes, attributes, conversions, repr, in-place updates."""
import numpy as np
import pytest

import tinyseq as ts


def test_tensor_makes_floats_float32_and_keeps_ints_and_bools():
    assert ts.tensor([1.5, 2]).dtype == ts.float32
    assert ts.tensor(np.array([1.5], dtype=np.float64)).dtype == ts.float32
    assert ts.tensor([1.5], dtype=ts.float64).dtype == ts.float64
    assert ts.tensor([1, 2]).dtype == ts.int64
    assert ts.tensor([True, False]).dtype == ts.bool
    a = np.arange(3.0)
    assert ts.from_numpy(a).dtype == ts.float64


def test_tensor_copies_and_from_numpy_shares():
    a = np.zeros(3, dtype=np.float32)
    t, s = ts.tensor(a), ts.from_numpy(a)
    a[0] = 7
    assert t.numpy()[0] == 0 and s.numpy()[0] == 7


@pytest.mark.parametrize("factory", [ts.zeros, ts.ones, ts.randn, ts.rand])
def test_factories_take_sizes_dtype_and_requires_grad(factory):
    t = factory(2, 3)
    assert t.shape == (2, 3) and t.dtype == ts.float32 and not t.requires_grad
    assert factory((2, 3)).shape == (2, 3)
    t = factory(4, dtype=ts.float64, requires_grad=True)
    assert t.dtype == ts.float64 and t.requires_grad and t.is_leaf


def test_full_arange_and_likes():
    assert ts.full((2, 2), 3.0).tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert ts.full((2,), 3.0).dtype == ts.float32 and ts.full((2,), 3).dtype == ts.int64
    assert ts.arange(4).tolist() == [0, 1, 2, 3] and ts.arange(4).dtype == ts.int64
    assert ts.arange(0, 1, 0.25).dtype == ts.float32
    x = ts.randn(2, 3, dtype=ts.float64)
    z, o = ts.zeros_like(x), ts.ones_like(x, requires_grad=True)
    assert z.shape == o.shape == (2, 3) and z.dtype == ts.float64 and o.requires_grad
    assert z.numpy().sum() == 0 and o.numpy().sum() == 6


def test_manual_seed_makes_random_draws_reproducible():
    ts.manual_seed(123)
    a, b = ts.randn(5), ts.rand(5)
    ts.manual_seed(123)
    assert np.array_equal(a, ts.randn(5)) and np.array_equal(b, ts.rand(5))
    assert not np.array_equal(a.numpy(), ts.randn(5).numpy())


def test_python_scalars_never_upcast_float32():
    x = ts.ones(2)
    for y in (x + 1, x * 2.5, 2.5 - x, x / 3, x ** 2, 2 ** x, x + np.float64(1.0),
              x * np.array(2.0)):
        assert y.dtype == ts.float32
    assert (ts.ones(2, dtype=ts.float64) * 2.5).dtype == ts.float64
    assert (ts.tensor([1, 2]) * 2.5).dtype == ts.float32
    assert (ts.tensor([1, 2]) * 2).dtype == ts.int64


def test_attributes_and_conversions():
    x = ts.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.shape == (2, 2) and x.ndim == 2 and x.is_leaf and x.grad_fn is None
    assert isinstance(x.numpy(), np.ndarray) and np.asarray(x) is x.numpy()
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert x[1, 0].item() == 3.0 and x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert len(x) == 2 and [r.tolist() for r in x] == [[1.0, 2.0], [3.0, 4.0]]
    assert float(x[0, 1]) == 2.0 and int(x[1, 1]) == 4
    assert x.T.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name == "mul" and y.requires_grad


def test_iterating_gives_rows_that_backpropagate():
    x = ts.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    total = sum((row * (i + 1)).sum() for i, row in enumerate(x))
    total.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1, 1], [2, 2]])


def test_numpy_array_on_the_left_defers_to_the_tensor():
    x = ts.ones(3, requires_grad=True)
    y = np.arange(3.0) * x
    assert isinstance(y, ts.Tensor) and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 1, 2])


def test_comparisons_and_argmax_are_outside_the_graph():
    x = ts.tensor([1.0, 3.0, 2.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == ts.bool and m.grad_fn is None and m.tolist() == [False, True, True]
    assert x.argmax().item() == 1 and x.argmax(0).dtype == ts.int64
    assert x.argmin(dim=0, keepdim=True).tolist() == [0]


def test_repr_reads_like_pytorch():
    assert repr(ts.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ts.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(ts.tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert repr(ts.tensor([1.0], dtype=ts.float64)) == "tensor([1.], dtype=tinyseq.float64)"


def test_in_place_updates_under_no_grad_and_version_counter():
    p = ts.tensor([1.0, 2.0], requires_grad=True)
    v = p._version.value
    with ts.no_grad():
        p -= ts.tensor([0.5, 0.5])
        p.mul_(2).add_(1, alpha=2)
        p[0] = 10.0
    assert p.tolist() == [10.0, 5.0] and p.is_leaf and p.requires_grad
    assert p._version.value == v + 4
    q = ts.zeros(3)
    q.fill_(2.0)
    q.copy_(np.array([1.0, 2.0, 3.0]))
    q.clamp_(max=2.5)
    assert q.tolist() == [1.0, 2.0, 2.5] and q.zero_().tolist() == [0.0, 0.0, 0.0]


def test_detach_and_requires_grad_():
    x = ts.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
    d = x.detach()
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.numpy())


def test_to_float_double_long_cast_and_carry_gradients_back():
    x = ts.tensor([1.5, 2.5], requires_grad=True)
    y = x.double()
    assert y.dtype == ts.float64 and x.long().tolist() == [1, 2] and x.float() is x
    (y * y).sum().backward()
    assert x.grad.dtype == ts.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0])


def test_stack_copies_even_one_tensor_and_unbind_gives_views_as_in_pytorch():
    x = ts.zeros(2)
    y = ts.stack([x])
    y[0, 0] = 5.0
    assert x.tolist() == [0.0, 0.0]  # torch.stack always copies
    u = ts.zeros(1, 3)
    (row,) = u.unbind(0)  # a size-1 dim too: one view
    row[1] = 7.0
    assert u.tolist() == [[0.0, 7.0, 0.0]]


@pytest.mark.parametrize("ids", [np.frombuffer(b"hello", np.uint8).copy(), np.array([7, 100, 7], np.int8),
                                 np.zeros((0, 5), np.int64)], ids=["uint8", "int8", "empty"])
def test_embedding_gradient_for_any_integer_ids(ids):
    table = ts.randn(256, 3, requires_grad=True)
    g = np.random.default_rng(0).standard_normal((*ids.shape, 3)).astype(np.float32)
    ts.nn.functional.embedding(ts.tensor(ids), table).backward(g)
    expected = np.zeros((256, 3), np.float32)
    np.add.at(expected, ids.astype(np.int64), g)
    np.testing.assert_allclose(table.grad.numpy(), expected, rtol=1e-6)
