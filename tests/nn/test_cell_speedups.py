"""The cheaper backward of the cells' gates (issue 17): ``sigmoid``'s backward computes
g (1 - σ) σ in one new array rewritten in place. The gradient keeps every bit of the plain formula
and of torch's kernel, leaves what it was given untouched and keeps 0-d tensors working; the cells
built on it still match torch (``test_recurrent*.py`` compare every layer)."""
import numpy as np
import pytest

import tinyseq as ts
from tinyseq.autograd.ops.activations import Sigmoid
from tests.torch_compare import torch


class _Saved:
    """A backward's context holding the forward's output ``y``."""

    def __init__(self, y):
        self.saved_tensors = (y,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_is_the_formula_and_torchs_kernel_to_the_bit(dtype):
    rng = np.random.default_rng(1)
    y = rng.uniform(0, 1, (32, 256)).astype(dtype)  # an output of σ lies in [0, 1]
    g = rng.standard_normal((32, 256)).astype(dtype)
    got = Sigmoid.backward(_Saved(y), g)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, g * (1 - y) * y)
    expected = torch.ops.aten.sigmoid_backward(torch.from_numpy(g), torch.from_numpy(y))
    np.testing.assert_array_equal(got, expected.numpy())


def test_backward_leaves_its_inputs_alone():
    """The engine may hand one gradient array to several nodes: it must not change."""
    y, g = np.full((2, 3), 0.25, np.float32), np.full((2, 3), 2.0, np.float32)
    got = Sigmoid.backward(_Saved(y), g)
    assert got is not g and got is not y
    np.testing.assert_array_equal(got, np.full((2, 3), 0.375, np.float32))
    np.testing.assert_array_equal(y, np.full((2, 3), 0.25, np.float32))
    np.testing.assert_array_equal(g, np.full((2, 3), 2.0, np.float32))


def test_a_0d_tensor_gets_its_gradient():
    x = ts.tensor(0.5, requires_grad=True)
    x.sigmoid().backward()
    y = 1 / (1 + np.exp(-0.5))
    assert x.grad.shape == ()
    np.testing.assert_allclose(x.grad.numpy(), y * (1 - y), rtol=1e-6)


def test_gradcheck_through_the_gates_of_a_cell():
    x = ts.randn(3, 8, dtype=ts.float64, requires_grad=True)
    assert ts.autograd.gradcheck(lambda x: (x[:, :4].sigmoid() * x[:, 4:].tanh()).sum(), (x,))
