"""How the ops are laid out: one function per op next to its Function, which is both ``ts.NAME``
and the method ``Tensor.NAME``; aliases under their own names; no generated names."""
import ast
import pathlib

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.autograd import Function, namespace
from tinyseq.autograd.ops import (activations, elementwise, extrema, index, linalg, logic, norms,
                                  order, reduce, rounding, sample, scan, selection, shape, stats,
                                  unary)  # (einsum: no method)

AUTOGRAD = pathlib.Path(ts.autograd.__file__).parent
OPS = (elementwise, activations, selection, index, linalg, extrema, order, reduce, shape, unary,
       rounding, logic, scan, stats, norms, sample)


@pytest.mark.parametrize("module", OPS, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_every_method_an_ops_module_lists_is_that_function_on_tensor(module):
    for name, method in module.TENSOR_METHODS.items():
        assert getattr(ts.Tensor, name) is method, name
        if not isinstance(method, property):
            assert method.__module__ == module.__name__, name


def test_ts_functions_are_the_tensor_methods_themselves():
    for name in namespace.METHODS:
        if name == "detach":  # the autograd API: Tensor.detach, ts.detach takes any data
            continue
        assert getattr(ts, name) is getattr(ts.Tensor, name), name
        assert getattr(ts, name).__name__ == name


def test_ts_functions_take_lists_and_arrays_as_the_tensor_methods_do():
    assert ts.exp([0.0, 1.0]).tolist() == pytest.approx([1.0, np.e])
    assert ts.exp([0, 1]).dtype is ts.float32  # int data: a float32 result
    assert ts.sum(np.arange(6).reshape(2, 3), dim=1).tolist() == [3, 12]
    assert ts.reshape([[1, 2], [3, 4]], -1).tolist() == [1, 2, 3, 4]
    assert ts.max([3, 1, 2]).item() == 3
    assert ts.detach([1.5]).tolist() == [1.5]
    assert [p.tolist() for p in ts.chunk([1, 2, 3], 2)] == [[1, 2], [3]]


def test_each_public_name_is_a_def_a_reader_can_grep():
    source = "".join(p.read_text() for p in AUTOGRAD.rglob("*.py"))
    assert "globals()" not in source
    for name in namespace.__all__:
        assert f"\ndef {name}(" in source, name


def test_no_single_letter_import_aliases_in_autograd():
    for path in AUTOGRAD.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                short = [a.asname for a in node.names if a.asname and len(a.asname) == 1]
                assert not short, f"{path.name}: import ... as {short[0]}"


@pytest.mark.parametrize("make, name", [
    (lambda t: t.view(6), "view"),
    (lambda t: t.flatten(), "flatten"),
    (lambda t: t.unsqueeze(0), "unsqueeze"),
    (lambda t: t.reshape(1, 2, 3).squeeze(0), "squeeze"),
    (lambda t: t.transpose(0, 1), "transpose"),
    (lambda t: t.min(), "min"),
    (lambda t: t.masked_fill(ts.tensor([True, False, True]), 0.0), "masked_fill"),
])
def test_an_alias_names_its_nodes_and_computes_as_its_op(make, name):
    x = ts.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = make(x)
    assert y.grad_fn.name == name
    y.sum().backward()
    assert x.grad.shape == (2, 3)


def test_an_alias_of_a_users_function_keeps_its_forward_and_backward():
    class Cube(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 3 * a ** 2 * g

    Third = Cube.alias("third_power")
    assert Third.__name__ == "ThirdPower" and Third.name == "third_power"
    assert Cube.name == "cube"  # the original keeps its own name
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    y = Third.apply(x)
    assert y.grad_fn.name == "third_power" and y.tolist() == [1.0, 8.0]
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]


def test_the_min_alias_names_itself_in_its_errors():
    with pytest.raises(RuntimeError, match="min: a tensor of shape \\(0,\\) has no elements"):
        ts.zeros(0).min()


def test_linear_is_public_and_matches_matmul_plus_bias():
    rng = np.random.default_rng(0)
    x, w, b = (ts.tensor(rng.standard_normal(s), requires_grad=True) for s in [(4, 3), (5, 3), (5,)])
    y = namespace.linear(x, w, b)
    assert y.grad_fn.name == "linear"
    np.testing.assert_allclose(y.numpy(), x.numpy() @ w.numpy().T + b.numpy(), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((4, 5)) @ w.numpy(), rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), np.ones((4, 5)).T @ x.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), np.full(5, 4.0))
    assert namespace.linear(x, w).shape == (4, 5)  # no bias
    assert "linear" not in ts.__all__ and not hasattr(ts, "linear")  # as torch: not a ts name


def test_nothing_outside_autograd_imports_its_ops():
    package = AUTOGRAD.parent
    for path in package.rglob("*.py"):
        if AUTOGRAD in path.parents:
            continue
        assert "autograd.ops" not in path.read_text(), path
