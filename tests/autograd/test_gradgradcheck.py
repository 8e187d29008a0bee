"""``ts.autograd.gradgradcheck``: second derivatives against central differences of the first.
It passes on the ops whose gradients are graphs, agrees with torch's on the same functions, and
rejects (naming the input and the worst entry) a ``graph_backward`` that is wrong while the
first derivative is right."""
import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import torch
from tinyseq.nn import functional as F

RNG = np.random.default_rng(0)


def arrays(*shapes, low=0.3, high=1.5):
    return [RNG.uniform(low, high, s) for s in shapes]


# name -> (function of (L, *inputs), input arrays): every op with graph_backward on this branch
CASES = {
    "add_broadcast": (lambda L, a, b: (a + b) * a, arrays((2, 3), (3,))),
    "sub": (lambda L, a, b: (a - b) * b, arrays((3,), (3,))),
    "mul_broadcast": (lambda L, a, b: a * b * a, arrays((2, 1), (1, 3))),
    "div": (lambda L, a, b: a / b, arrays((3,), (3,))),
    "neg_exp": (lambda L, a: (-a).exp() * a, arrays((4,))),
    "log": (lambda L, a: a.log() * a, arrays((4,))),
    "tanh": (lambda L, a: (a * a).tanh(), arrays((2, 2))),
    "sigmoid": (lambda L, a: (a * a).sigmoid(), arrays((3,))),
    "sum_dim": (lambda L, a: (a * a).sum(1) * a.sum(), arrays((2, 3))),
    "mean_keepdim": (lambda L, a: (a * a).mean(0, keepdim=True) * a, arrays((2, 3))),
    "matmul": (lambda L, a, b: (a @ b) * (a @ b), arrays((2, 3), (3, 2))),
    "linear": (lambda L, x, w, b: L.nn.functional.linear(x, w, b).tanh(),
               arrays((2, 3), (4, 3), (4,))),
}


def inputs_of(lib, arrs):
    return tuple(lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrs)


@pytest.mark.parametrize("name", CASES)
def test_gradgradcheck_passes_as_torchs(name):
    fn, arrs = CASES[name]
    assert ts.autograd.gradgradcheck(lambda *xs: fn(ts, *xs), inputs_of(ts, arrs)) is True
    assert torch.autograd.gradgradcheck(lambda *xs: fn(torch, *xs), inputs_of(torch, arrs))


def test_given_grad_outputs_and_float32_inputs():
    """``grad_outputs`` given (float32, copied to float64 as the inputs are)."""
    x = ts.tensor([0.4, -0.3, 1.1], requires_grad=True)  # float32
    u = ts.tensor([1.0, -2.0, 0.5], requires_grad=True)
    assert ts.autograd.gradgradcheck(lambda t: (t * t).tanh(), (x,), (u,)) is True
    assert x.dtype == ts.float32


class Square(ts.autograd.Function):
    """x²: backward 2 x g; graph_backward the same values, but with a broken graph if ``broken``
    says so: "x" takes x as a constant (its derivative in x is lost: the silent mistake of a
    graph_backward using an array forward computed), "g" detaches g (the one in g is lost)."""
    broken = None

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g

    @staticmethod
    def graph_backward(ctx, g):
        (x,) = ctx.saved_tensors
        if Square.broken == "x":
            return g * ts.tensor(2 * x.numpy(), dtype=ts.float64)
        return 2 * x * (g.detach() if Square.broken == "g" else g)


@pytest.fixture
def square():
    yield Square
    Square.broken = None


def test_gradgradcheck_rejects_a_wrong_graph_backward_and_says_where(square):
    x = ts.tensor([0.5, -1.5, 2.0], dtype=ts.float64, requires_grad=True)
    u = ts.tensor([1.0, 3.0, -0.5], dtype=ts.float64, requires_grad=True)
    assert ts.autograd.gradgradcheck(lambda t: square.apply(t), (x,), (u,)) is True
    square.broken = "x"
    assert ts.autograd.gradcheck(lambda t: square.apply(t), (x,)) is True  # first order is right
    with pytest.raises(ts.autograd.GradcheckError) as info:
        ts.autograd.gradgradcheck(lambda t: square.apply(t), (x,), (u,))
    msg = str(info.value)
    assert msg.startswith("gradgradcheck: the derivative of the gradients with respect to "
                          "input 0"), msg
    # d(2 x u)/dx = 2 u, found 0: the worst entry is u = 3 (element 1)
    assert "at element (1,)" in msg and "output element 1" in msg, msg
    assert "analytic 0," in msg and "numerical 6," in msg and "a difference of 6," in msg, msg
    assert "the largest of 3 mismatched entries" in msg, msg


def test_a_wrong_derivative_with_respect_to_the_grad_outputs_is_named(square):
    square.broken = "g"
    x = ts.tensor([0.5, -1.5], dtype=ts.float64, requires_grad=True)
    u = ts.tensor([1.0, 2.0], dtype=ts.float64, requires_grad=True)
    with pytest.raises(ts.autograd.GradcheckError, match=r"with respect to grad_outputs\[0\] "
                       r"\(shape \(2,\)\) at element \(1,\).*analytic 0, numerical -3,"):
        ts.autograd.gradgradcheck(lambda t: square.apply(t), (x,), (u,))


def test_gradcheck_reports_the_largest_difference():
    """Two wrong entries: the message names the worse one."""
    class Off(ts.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, g):
            return g * np.array([3.0, 3.5, 3.1])

    x = ts.tensor([1.0, 2.0, 3.0], dtype=ts.float64, requires_grad=True)
    with pytest.raises(ts.autograd.GradcheckError, match=r"at element \(1,\).*analytic 3.5, "
                       r"numerical 3,.*largest of 2 mismatched"):
        ts.autograd.gradcheck(lambda t: Off.apply(t), (x,))


def test_gradgradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="gradgradcheck: no input requires grad"):
        ts.autograd.gradgradcheck(lambda t: t * t, (ts.ones(2, dtype=ts.float64),))


def test_default_grad_outputs_follow_the_seed():
    """Random grad_outputs come from ts's generator: the same seed, the same check."""
    seen = []

    def spy(t):
        out = F.linear(t, ts.ones(2, 3, dtype=ts.float64)).tanh()
        return out

    x = ts.tensor([[0.2, -0.4, 0.9]], dtype=ts.float64, requires_grad=True)
    for _ in range(2):
        ts.manual_seed(3)
        assert ts.autograd.gradgradcheck(spy, (x,)) is True
        seen.append(ts.rand(1).item())  # the stream continues from the same place
    assert seen[0] == seen[1]
