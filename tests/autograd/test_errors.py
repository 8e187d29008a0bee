"""Bad input gets an error that names the op, the shapes and the fix."""
import numpy as np
import pytest

import tinyseq as ts


@pytest.mark.parametrize("make, pattern", [
    (lambda: ts.ones(2, 3) @ ts.ones(4, 5), r"matmul: shapes \(2, 3\) and \(4, 5\).*\(3\).*\(4\)"),
    (lambda: ts.ones(3) @ ts.ones(4), r"matmul: shapes \(3,\) and \(4,\)"),
    (lambda: ts.tensor(2.0) @ ts.ones(3), r"matmul: .*at least 1 dim.*use \*"),
    (lambda: ts.ones(2, 3) + ts.ones(4), r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: ts.ones(2, 3) * ts.ones(3, 2), r"mul: shapes \(2, 3\) and \(3, 2\)"),
    (lambda: ts.ones(2) < ts.ones(3), r"lt: shapes \(2,\) and \(3,\)"),
    (lambda: ts.where(ts.ones(2) > 0, ts.ones(3), 0.0), r"where: shapes"),
    (lambda: ts.cat([ts.ones(2, 3), ts.ones(2, 4)]),
     r"cat: tensor 1 has shape \(2, 4\) but tensor 0 has shape \(2, 3\)"),
    (lambda: ts.cat([ts.ones(2, 3), ts.ones(3)], dim=1), r"cat: tensor 1 has shape \(3,\)"),
    (lambda: ts.stack([ts.ones(2), ts.ones(3)]),
     r"stack: tensor 1 has shape \(3,\) but tensor 0 has shape \(2,\)"),
    (lambda: ts.ones(2, 3).reshape(4, 2),
     r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into shape \(4, 2\)"),
    (lambda: ts.ones(2, 3).view(5), r"view: cannot reshape .*\(2, 3\)"),
    (lambda: ts.ones(3, 2).expand(3, 4), r"expand: cannot expand shape \(3, 2\) to \(3, 4\)"),
    (lambda: ts.ones(5).split([2, 2]), r"split: sizes \[2, 2\] add up to 4.*size 5"),
    (lambda: ts.ones(2, 3).split(3, dim=1) + ts.ones(2, 3).split([1, 1], 1), r"split: sizes"),
])
def test_shape_errors_name_the_op_and_shapes(make, pattern):
    with pytest.raises(ts.ShapeError, match=pattern):
        make()


def test_shape_error_is_both_value_error_and_runtime_error():
    for kind in (ValueError, RuntimeError):
        with pytest.raises(kind):
            ts.ones(2) + ts.ones(3)


@pytest.mark.parametrize("make, kind, pattern", [
    (lambda: ts.ones(2, 3).sum(dim=2), IndexError, r"sum: dim 2 is out of range .*2 dim"),
    (lambda: ts.ones(2, 3).softmax(-3), IndexError, r"softmax: dim -3 is out of range"),
    (lambda: ts.ones(2, 3).permute(0, 0), ValueError, r"permute: \(0, 0\) is not a permutation"),
    (lambda: ts.ones(2, 3, 4).t(), ValueError, r"t\(\): .*at most 2 dims.*permute"),
    (lambda: ts.ones(3).clamp(), ValueError, r"clamp: give at least one of min and max"),
    (lambda: ts.ones(3).split(0), ValueError, r"split_size must be positive"),
    (lambda: ts.ones(3).chunk(0), ValueError, r"chunk: chunks must be a positive int, got 0"),
    (lambda: ts.cat([]), ValueError, r"cat: expects a non-empty sequence"),
    (lambda: ts.ones(3).item(), ValueError, r"item\(\): only a tensor with one element.*\(3,\)"),
    (lambda: bool(ts.ones(3)), RuntimeError, r"truth value of a tensor of shape \(3,\)"),
    (lambda: ts.tensor(["a", "b"]), TypeError, r"ts.tensor: cannot make a tensor"),
    (lambda: ts.from_numpy([1, 2]), TypeError, r"from_numpy: expected a numpy.ndarray"),
    (lambda: len(ts.tensor(1.0)), TypeError, r"len\(\) of a 0-d tensor"),
])
def test_bad_arguments_are_explained(make, kind, pattern):
    with pytest.raises(kind, match=pattern):
        make()


def test_requires_grad_on_an_integer_tensor_says_only_floats():
    for make in (lambda: ts.tensor([1, 2], requires_grad=True),
                 lambda: ts.arange(3).requires_grad_(),
                 lambda: ts.zeros(2, dtype=ts.int64, requires_grad=True)):
        with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
            make()


def test_requires_grad_cannot_be_switched_off_on_a_non_leaf():
    y = ts.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad = False


def test_hooks_and_retain_grad_need_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="register_hook"):
        ts.ones(2).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="retain_grad"):
        ts.ones(2).retain_grad()


def test_custom_backward_returning_too_few_gradients_is_named():
    class Two(ts.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g

    x = ts.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Two.backward returned 1 gradient.*Two.forward took 2"):
        Two.apply(x, x).sum().backward()


def test_failed_op_leaves_the_inputs_untouched():
    x = ts.ones(2, 3, requires_grad=True)
    with pytest.raises(ts.ShapeError):
        x @ ts.ones(4, 1)
    y = (x * 2).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 2.0))


def test_the_error_classes_are_public_and_one_each():
    from tinyseq.autograd import errors

    assert ts.ShapeError is ts.autograd.ShapeError is errors.ShapeError
    assert ts.DTypeError is ts.nn.DTypeError is errors.DTypeError
    assert ts.OutOfRangeError is ts.nn.OutOfRangeError is errors.OutOfRangeError
    for error, bases in [(ts.ShapeError, (ValueError, RuntimeError)),
                         (ts.DTypeError, (TypeError, RuntimeError)),
                         (ts.OutOfRangeError, (IndexError, ValueError))]:
        assert issubclass(error, bases) and error.__module__ == "tinyseq"

