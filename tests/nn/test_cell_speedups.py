"""The cheaper backward of the cells' activations (issue 17): ``sigmoid`` and ``tanh`` compute their
derivative in one new array rewritten in place. The gradient keeps every bit of the plain formula
(torch's order of products), leaves what it was given untouched and keeps 0-d tensors working; the
cells built on them still match torch (``test_recurrent*.py`` compare every layer)."""
import numpy as np
import pytest

import tinyseq as ts
from tinyseq.autograd.ops.elementwise import Sigmoid, Tanh
from tests.torch_compare import torch

# (op, torch's backward kernel, the formula in plain numpy: torch's order of products)
KERNELS = [(Sigmoid, "sigmoid_backward", lambda g, y: g * (1 - y) * y),
           (Tanh, "tanh_backward", lambda g, y: g * (1 - y * y))]


class _Saved:
    """A backward's context holding the forward's output ``y``."""

    def __init__(self, y):
        self.saved_tensors = (y,)


@pytest.mark.parametrize("op, aten, formula", KERNELS, ids=["sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_is_the_formula_to_the_bit_and_torchs_kernel(op, aten, formula, dtype):
    """The same bits as the plain formula; torch's vectorised kernel equals it for σ and is within
    an ulp of 1 in (1 - tanh²) for tanh (its fused multiply-add rounds once where numpy rounds
    twice, as the old code did too)."""
    rng = np.random.default_rng(1)
    y = rng.uniform(-1, 1, (32, 256)).astype(dtype)
    if op is Sigmoid:
        y = np.abs(y)  # an output of σ lies in [0, 1]
    g = rng.standard_normal((32, 256)).astype(dtype)
    got = op.backward(_Saved(y), g)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, formula(g, y))
    expected = getattr(torch.ops.aten, aten)(torch.from_numpy(g), torch.from_numpy(y)).numpy()
    if op is Sigmoid:
        np.testing.assert_array_equal(got, expected)
    else:
        # (1 - y²) rounded once or twice: apart by at most an ulp of 1, times g
        assert np.all(np.abs(got - expected) <= np.finfo(dtype).eps * np.abs(g))


@pytest.mark.parametrize("op", [Sigmoid, Tanh], ids=["sigmoid", "tanh"])
def test_backward_leaves_its_inputs_alone(op):
    """The engine may hand one gradient array to several nodes: it must not change."""
    y, g = np.full((2, 3), 0.25, np.float32), np.full((2, 3), 2.0, np.float32)
    got = op.backward(_Saved(y), g)
    assert got is not g and got is not y
    np.testing.assert_array_equal(y, np.full((2, 3), 0.25, np.float32))
    np.testing.assert_array_equal(g, np.full((2, 3), 2.0, np.float32))


@pytest.mark.parametrize("fn", ["sigmoid", "tanh"])
def test_a_0d_tensor_gets_its_gradient(fn):
    x = ts.tensor(0.5, requires_grad=True)
    getattr(x, fn)().backward()
    y = {"sigmoid": 1 / (1 + np.exp(-0.5)), "tanh": np.tanh(0.5)}[fn]
    slope = y * (1 - y) if fn == "sigmoid" else 1 - y * y
    assert x.grad.shape == ()
    np.testing.assert_allclose(x.grad.numpy(), slope, rtol=1e-6)


def test_gradcheck_through_both_activations():
    x = ts.randn(3, 4, dtype=ts.float64, requires_grad=True)
    assert ts.autograd.gradcheck(lambda x: (x.sigmoid() * x.tanh()).sum(), (x,))

