"""The backward walk's fast paths (issue 17's per-op cost) keep every behaviour of the slow ones:
numpy's error state inside ``@quiet`` (the walk's and the ops'), the shapes a ``backward`` may
return its gradients in, zeros for an output that got no gradient, what the walk frees, and scope
entries. (Behaviour only: the times are measured by hand, never asserted.)"""
import sys
import types

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.autograd.mode import Scope
from tinyseq.autograd.ops import _util

QUIET = {"divide": "ignore", "over": "ignore", "under": "ignore", "invalid": "ignore"}


def divide_by_zero(x):
    """``x / 0`` and numpy's error state as this call saw it."""
    return x / 0, np.geterr()


# ---- numpy's error state inside @quiet ------------------------------------------------------------
@pytest.mark.parametrize("make_quiet", ["this numpy's", "errstate's"])
def test_quiet_turns_warnings_off_inside_and_gives_the_users_state_back(make_quiet, monkeypatch):
    if make_quiet == "errstate's":  # what a numpy without numpy 2's error-state variable gets
        monkeypatch.setitem(sys.modules, "numpy._core._ufunc_config", types.ModuleType("moved"))
    quiet = _util._quiet_decorator()
    with np.errstate(all="raise", under="warn"):
        y, seen = quiet(divide_by_zero)(np.array([1.0, -1.0, 0.0]))
        after = np.geterr()
    assert seen == QUIET
    assert after == {"divide": "raise", "over": "raise", "under": "warn", "invalid": "raise"}
    np.testing.assert_array_equal(y, [np.inf, -np.inf, np.nan])


def test_quiet_nests_and_gives_the_state_back_when_the_function_raises():
    @_util.quiet
    def outer():
        inner_seen = _util.quiet(np.geterr)()
        return inner_seen, np.geterr()

    @_util.quiet
    def fails():
        raise ValueError("failed inside")

    with np.errstate(all="raise"):
        assert outer() == (QUIET, QUIET)
        with pytest.raises(ValueError, match="failed inside"):
            fails()
        assert np.geterr()["divide"] == "raise"
        with pytest.raises(FloatingPointError):
            np.ones(1) / 0


def test_quiet_keeps_the_functions_name_and_docstring():
    wrapped = _util.quiet(divide_by_zero)
    assert (wrapped.__name__, wrapped.__doc__) == ("divide_by_zero", divide_by_zero.__doc__)


def test_backward_to_infinite_gradients_runs_under_a_users_raise_setting():
    x = ts.tensor([0.0, 2.0], requires_grad=True)
    with np.errstate(all="raise"):
        x.sqrt().sum().backward()  # d sqrt(x)/dx = 1 / (2 sqrt(x)): inf at 0, no error
        assert np.geterr()["divide"] == "raise"
    np.testing.assert_allclose(x.grad.numpy(), [np.inf, 0.5 / np.sqrt(2.0)])


# ---- what a backward may return ----------------------------------------------------------------
def scale(returns):
    """A Function ``2 * a + 3 * b`` whose backward returns its two gradients as ``returns`` says."""
    class Scale(ts.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return 2 * a + 3 * b

        @staticmethod
        def backward(ctx, g):
            return returns([2 * g, 3 * g])
    return Scale


@pytest.mark.parametrize("returns", [tuple, list])
def test_a_backward_may_return_its_gradients_as_a_tuple_or_a_list(returns):
    a, b = ts.ones(2, requires_grad=True), ts.ones(2, requires_grad=True)
    scale(returns).apply(a, b).sum().backward()
    assert a.grad.tolist() == [2.0, 2.0] and b.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("given", [lambda g: 5 * g, lambda g: (5 * g,), lambda g: [5 * g]])
def test_a_one_input_backward_may_return_an_array_or_a_sequence_of_one(given):
    class Five(ts.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return 5 * a

        @staticmethod
        def backward(ctx, g):
            return given(g)

    a = ts.tensor([1.0, 2.0], requires_grad=True)
    (Five.apply(a) * ts.tensor([1.0, 2.0])).sum().backward()
    assert a.grad.tolist() == [5.0, 10.0]


def test_a_0d_gradient_that_numpy_made_a_scalar_is_summed_as_an_array():
    x, w = ts.tensor(0.5, requires_grad=True), ts.tensor(3.0, requires_grad=True)
    y = x * w * w + x  # (0-d numpy products are numpy scalars, not arrays)
    y.backward()
    assert type(x.grad.numpy()) is np.ndarray and x.grad.item() == 10.0
    assert w.grad.item() == 3.0


# ---- outputs without a gradient, and freeing ---------------------------------------------------------
def halves(materialize):
    """A two-output Function (the two halves of a vector) that keeps what its backward was given."""
    class Halves(ts.autograd.Function):
        materialize_grads = materialize
        given = None

        @staticmethod
        def forward(ctx, x):
            return x[:2].copy(), x[2:].copy()

        @staticmethod
        def backward(ctx, g1, g2):
            Halves.given = (g1, g2)
            g2 = np.zeros(2, np.float32) if g2 is None else g2
            return np.concatenate([g1, g2])
    return Halves


@pytest.mark.parametrize("materialize", [True, False])
def test_an_output_that_got_no_gradient_is_zeros_or_none_as_the_function_asks(materialize):
    Halves = halves(materialize)
    x = ts.ones(4, requires_grad=True)
    first, _ = Halves.apply(x)
    (first * 3).sum().backward()
    g1, g2 = Halves.given
    assert g1.tolist() == [3.0, 3.0]
    assert (g2 is None) if not materialize else (g2.tolist() == [0.0, 0.0])
    assert x.grad.tolist() == [3.0, 3.0, 0.0, 0.0]


def test_backward_frees_what_every_node_saved_and_retain_graph_keeps_it():
    x = ts.tensor([0.25, 0.5, 1.0], requires_grad=True)
    y = (x.exp() * x).tanh().sum()
    nodes, stack = [], [y.grad_fn]
    while stack:
        node = stack.pop()
        if hasattr(node, "ctx"):  # (a leaf's accumulator saves nothing)
            nodes.append(node)
            stack.extend(edge[0] for edge in node.next_edges if edge is not None)
    assert sorted(node.name for node in nodes) == ["exp", "mul", "sum", "tanh"]
    y.backward(retain_graph=True)
    assert all(node.ctx is not None for node in nodes)
    y.backward()
    assert all(node.ctx is None for node in nodes)
    a = np.array([0.25, 0.5, 1.0])
    once = (1 - np.tanh(a * np.exp(a)) ** 2) * (np.exp(a) + a * np.exp(a))
    np.testing.assert_allclose(x.grad.numpy(), 2 * once, rtol=1e-5)


# ---- scope entries ---------------------------------------------------------------------------------
def test_a_scope_entry_has_its_owner_or_none():
    owner = object()
    plain, owned = Scope("t=3"), Scope("lstm", owner)
    assert (plain, plain.owner) == ("t=3", None)
    assert (owned, owned.owner) == ("lstm", owner)
    assert type(plain) is Scope and isinstance(plain, str)
    with ts.autograd.scope("t=0"):
        entry = ts.ones(2, requires_grad=True).mul(2).grad_fn.scope[-1]
    assert (entry, entry.owner) == ("t=0", None)
