"""The fast paths of recording an op (issue 17's per-op cost) keep every behaviour of the slow ones:
numpy's error state around a forward, the leaves' accumulators, the version counters of saved
arrays, the dtypes of binary ops, modules' scopes and attribute lookups, ``F.linear``'s checks.
(Behaviour only: the times are measured by hand, never asserted.)"""
import math
import sys
import types

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.autograd.errors import DTypeError, ShapeError
from tinyseq.autograd.node import AccumulateGrad

F = ts.nn.functional


# ---- numpy's error state around a forward ------------------------------------------------------
class Seen(ts.autograd.Function):
    """Returns ``x / 0`` and keeps numpy's error state as its forward saw it."""

    state = None

    @staticmethod
    def forward(ctx, x):
        Seen.state = np.geterr()
        return x / 0

    @staticmethod
    def backward(ctx, g):
        return g


class Fails(ts.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        raise ValueError("forward failed")

    @staticmethod
    def backward(ctx, g):
        return g


@pytest.mark.parametrize("grad", [True, False])
def test_a_forward_runs_with_numpy_warnings_off_and_the_users_settings_come_back(grad):
    x = ts.tensor([1.0, -1.0, 0.0], requires_grad=True)
    with np.errstate(all="raise", under="warn"), ts.set_grad_enabled(grad):
        y = Seen.apply(x)  # no FloatingPointError
        after = np.geterr()
    assert Seen.state == {"divide": "ignore", "over": "ignore", "under": "ignore",
                          "invalid": "ignore"}
    assert after == {"divide": "raise", "over": "raise", "under": "warn", "invalid": "raise"}
    np.testing.assert_array_equal(y.numpy(), [np.inf, -np.inf, np.nan])
    assert (y.grad_fn is not None) == grad


def test_the_users_error_state_comes_back_when_a_forward_raises():
    with np.errstate(all="raise"):
        with pytest.raises(ValueError, match="forward failed"):
            Fails.apply(ts.ones(2, requires_grad=True))
        assert np.geterr()["divide"] == "raise"
        with pytest.raises(FloatingPointError):
            np.ones(1) / 0


def test_without_numpy_2s_error_state_variable_forwards_are_quiet_through_errstate(monkeypatch):
    from tinyseq.autograd.ops import _util
    monkeypatch.setitem(sys.modules, "numpy._core._ufunc_config", types.ModuleType("moved"))
    quiet = _util._quiet_caller()  # (what a numpy without the variable gets)
    with np.errstate(all="raise"):
        y = quiet(Seen.forward, None, [np.array([1.0])])
        assert np.geterr()["divide"] == "raise"
    assert Seen.state["divide"] == "ignore" and y.tolist() == [np.inf]


# ---- the leaves' accumulators --------------------------------------------------------------------
def test_a_leaf_has_one_accumulator_per_graph_named_as_torch_names_it():
    x, w = ts.ones(2, requires_grad=True), ts.ones(2, requires_grad=True)
    y = x * w + x
    first = y.grad_fn.next_edges[0][0].next_edges[0][0]  # mul's x
    second = y.grad_fn.next_edges[1][0]  # add's x
    assert first is second and type(first) is AccumulateGrad and first.leaf is x
    other = y.grad_fn.next_edges[0][0].next_edges[1][0]
    assert other is not first and other.leaf is w
    assert (first.name, first.name(), first.scope, first.next_edges) == (
        "accumulate_grad", "torch::autograd::AccumulateGrad", (), ())
    assert first.out_meta == (((2,), np.dtype(np.float32)),)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])  # both uses summed in one .grad


# ---- version counters of saved arrays ------------------------------------------------------------
class SavesTranspose(ts.autograd.Function):
    """``x @ x.T`` saving the view ``x.T`` (an array of no tensor, sharing ``x``'s memory)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x.T)
        return x @ x.T

    @staticmethod
    def backward(ctx, g):
        (xt,) = ctx.saved_tensors
        return (g + g.T) @ xt.T


class SavesCopy(ts.autograd.Function):
    """``2 * x`` saving a fresh array of its own, which no in-place op can reach."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(np.full(x.shape, 2.0, x.dtype))
        return 2 * x

    @staticmethod
    def backward(ctx, g):
        (two,) = ctx.saved_tensors
        return g * two


@pytest.mark.parametrize("make, change", [
    (lambda x, w: x * w, lambda x, w, y: w.add_(1)),  # an argument saved
    (lambda x, w: (x * w).exp(), lambda x, w, y: y.mul_(2)),  # the output saved
])
def test_an_array_saved_for_backward_and_changed_in_place_is_caught(make, change):
    x = ts.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = ts.tensor([[0.5, 1.0], [1.5, 2.0]])
    y = make(x, w)
    change(x, w, y)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_a_saved_view_of_an_argument_shares_its_version_counter():
    x = ts.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    h = x * 1
    y = SavesTranspose.apply(h)
    assert y.grad_fn.saved_versions == ((h._version, 0),)
    h.add_(1)  # changes what the saved x.T shows
    with pytest.raises(RuntimeError, match="'savestranspose' saved .* modified"):
        y.sum().backward()


def test_an_array_of_no_tensor_has_no_version_and_its_gradient_flows():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    y = SavesCopy.apply(x)
    assert y.grad_fn.saved_versions == ()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


# ---- dtypes of binary ops: the fast path for two tensors of one dtype ------------------------------
@pytest.mark.parametrize("a, b", [
    ("float32", "float32"), ("float64", "float64"), ("int64", "int64"), ("float32", "float64"),
    ("int64", "float32"), ("float32-0d", "float64"), ("float64-0d", "float32"),
    ("float64-0d", "float32-0d"), ("int64-0d", "float32"), ("float32", "float32-0d"),
])
def test_binary_ops_type_their_operands_as_torch(a, b):
    torch = pytest.importorskip("torch")

    def make(lib, spec, values):
        name, _, zero = spec.partition("-")
        return lib.tensor(values[0] if zero else values, dtype=getattr(lib, name))

    for op in ("mul", "add", "sub", "div"):
        got = getattr(ts, op)(make(ts, a, [3, 5]), make(ts, b, [2, 4]))
        want = getattr(torch, op)(make(torch, a, [3, 5]), make(torch, b, [2, 4]))
        assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1], (op, a, b)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


# ---- modules: scopes around a forward, attribute lookups --------------------------------------------
class Inner(ts.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = ts.nn.Parameter(ts.ones(2))
        self.register_parameter("bias", None)
        self.register_buffer("scale", ts.tensor(3.0))

    def forward(self, x):
        if self.bias is not None:
            raise AssertionError("bias is None")
        return x * self.weight * self.scale


class Outer(ts.nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Inner()

    def forward(self, x, fail=False):
        if fail:
            raise ValueError("forward failed")
        return self.inner(x) + 1


def test_a_module_call_records_the_scope_path_and_restores_it():
    m, x = Outer(), ts.ones(2, requires_grad=True)
    with ts.autograd.scope("run"):
        y = m(x)
        assert ts.autograd.mode.state.scope == ("run",)
    mul = y.grad_fn.next_edges[0][0]
    assert y.grad_fn.scope == ("run", "outer") and mul.scope == ("run", "outer", "inner")
    assert y.grad_fn.scope[1].owner is m and mul.scope[2].owner is m.inner
    with pytest.raises(ValueError, match="forward failed"):
        m(x, fail=True)
    assert ts.autograd.mode.state.scope == ()
    with ts.no_grad():
        assert m(x).grad_fn is None and ts.autograd.mode.state.scope == ()


def test_a_module_call_runs_its_hooks_inside_its_scope():
    m, seen = Inner(), []
    m.register_forward_pre_hook(lambda mod, args: seen.append(ts.autograd.mode.state.scope))
    handle = m.register_forward_hook(lambda mod, args, out: out * 2)
    y = m(ts.ones(2, requires_grad=True))
    np.testing.assert_array_equal(y.numpy(), [6.0, 6.0])
    assert [tuple(s) for s in seen] == [("inner",)]
    handle.remove()
    np.testing.assert_array_equal(m(ts.ones(2)).numpy(), [3.0, 3.0])


def test_module_attributes_are_parameters_buffers_then_modules():
    m = Outer()
    assert m.inner.weight is m.inner._parameters["weight"] and m.inner.bias is None
    assert m.inner.scale is m.inner._buffers["scale"] and m.inner is m._modules["inner"]
    with pytest.raises(AttributeError, match="'Outer' object has no attribute 'nothing'"):
        _ = m.nothing


# ---- F.linear's checks on the quick path ---------------------------------------------------------
def test_linear_refuses_what_it_refused_before():
    w, b = ts.ones(3, 2), ts.ones(3)
    with pytest.raises(TypeError, match="linear: input must be a Tensor, got ndarray"):
        F.linear(np.ones((1, 2)), w, b)
    with pytest.raises(TypeError, match="linear: weight must be a Tensor, got list"):
        F.linear(ts.ones(1, 2), [[1.0, 1.0]], b)
    with pytest.raises(ShapeError, match=r"linear: input \(1, 4\), weight \(3, 2\)"):
        F.linear(ts.ones(1, 4), w, b)
    with pytest.raises(DTypeError, match="linear: input of dtype int64 cannot be multiplied"):
        F.linear(ts.ones(1, 2, dtype=ts.int64), w, b)
    y = F.linear(ts.ones(1, 2), w, np.ones(3, np.float32))  # a bias array, as before
    np.testing.assert_array_equal(y.numpy(), [[3.0, 3.0, 3.0]])


# ---- Adam's step in one scratch array -------------------------------------------------------------
@pytest.mark.parametrize("options", [{}, {"amsgrad": True}, {"weight_decay": 0.1},
                                     {"weight_decay": 0.1, "decoupled_weight_decay": True},
                                     {"maximize": True}])
@pytest.mark.parametrize("dtype, shape", [(np.float32, (3, 4)), (np.float64, (3, 4)),
                                          (np.float32, ())])
def test_adam_steps_are_the_textbook_formulas_bit_for_bit(options, dtype, shape):
    """Adam's update, written out with a new array for each intermediate result (the form
    ``adam.py`` had before it reused one scratch array), gives the same numbers to the last bit."""
    rng = np.random.default_rng(0)
    p0 = np.asarray(rng.standard_normal(shape), dtype)
    p = ts.nn.Parameter(p0.copy())
    opt = ts.optim.Adam([p], lr=0.01, betas=(0.8, 0.9), eps=1e-6, **options)
    want, m, v, vmax = p0.copy(), np.zeros_like(p0), np.zeros_like(p0), np.zeros_like(p0)
    lr, b1, b2, eps, wd = 0.01, 0.8, 0.9, 1e-6, options.get("weight_decay", 0)
    for t in range(1, 5):
        g = np.asarray(rng.standard_normal(shape), dtype)
        p.grad = ts.from_numpy(np.array(g))
        opt.step()
        g = -g if options.get("maximize") else g
        if options.get("decoupled_weight_decay"):
            want = want * (1 - lr * wd)
        elif wd:
            g = g + wd * want
        m = m + (1 - b1) * (g - m)
        v = v * b2 + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        denom = np.sqrt(vmax if options.get("amsgrad") else v) / math.sqrt(1 - b2 ** t) + eps
        want = want - lr / (1 - b1 ** t) * (m / denom)
        np.testing.assert_array_equal(p.numpy(), want)
    assert p.numpy().dtype == dtype
