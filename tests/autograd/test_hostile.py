"""Hostile input to the engine and its ops (issue 13): Inf and NaN flow through gradients as in
torch (an op that masks selects, it does not multiply by 0), no numpy warning leaks from any op,
size-0 dims work as in torch, and what cannot work is refused in one line that names the op."""
import re
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import torch

NAN, INF = float("nan"), float("inf")


def _run_both(fn, *arrays):
    """``fn(m, *tensors)`` in tinyseq and torch (float64 leaves), then ``.sum().backward()``;
    returns ``[(tinyseq value, torch value), (tinyseq grad, torch grad) per input...]``."""
    ours = [ts.tensor(a, dtype=ts.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    y, z = fn(ts, *ours), fn(torch, *theirs)
    y.sum().backward()
    z.sum().backward()
    pairs = [(y.numpy(), z.detach().numpy())]
    for t, u in zip(ours, theirs):
        zero = np.zeros(np.shape(t.numpy()))
        pairs.append((zero if t.grad is None else t.grad.numpy(),
                      zero if u.grad is None else u.grad.numpy()))
    return pairs


def _values(r):
    """``r`` or, for torch's (values, indices) of ``max(dim)``, its values."""
    return r if isinstance(r, (ts.Tensor, torch.Tensor)) else r[0]


# Each op gets an Inf gradient from above (sqrt at 0) or NaN in its input, where it masks.
MASKING = {
    "relu": (lambda m, x: x.relu().sqrt(), [-1.0, 4.0, NAN, -0.0, 0.0]),
    "clamp": (lambda m, x: x.clamp(0, 5).sqrt(), [-1.0, 4.0, 9.0, NAN]),
    "clamp_min": (lambda m, x: x.clamp(min=0).sqrt(), [-1.0, 4.0, NAN]),
    "clamp_max": (lambda m, x: (-x.clamp(max=0)).sqrt(), [-4.0, 1.0, NAN]),
    "max_all": (lambda m, x: (x.max() - 4).sqrt(), [0.0, 4.0, 4.0]),
    "min_all": (lambda m, x: (x.min() + 0).sqrt(), [0.0, 4.0, 0.0]),
    "max_all_nan": (lambda m, x: x.max(), [0.0, NAN, 4.0, NAN]),
    "max_dim": (lambda m, x: (_values(x.reshape(2, 3).max(1)) * 0).sqrt(),
                [0.0, 4.0, 4.0, 1.0, -1.0, 1.0]),
    "min_dim_nan": (lambda m, x: _values(x.reshape(2, 2).min(0)),
                    [NAN, 1.0, 2.0, NAN]),
    "max_dims_is_amax": (
        lambda m, x: (x.reshape(2, 2).max((0, 1)) if m is ts else x.reshape(2, 2).amax((0, 1))),
        [1.0, 3.0, 3.0, NAN]),
    "abs": (lambda m, x: x.abs(), [NAN, 0.0, -2.0, 3.0]),
    "where": (lambda m, x: m.where(x > 0, x, 0.0).sqrt(), [-1.0, 4.0, 0.0]),
    "masked_fill": (lambda m, x: x.masked_fill(x < 0, 0.0).sqrt(), [-1.0, 4.0]),
    "index": (lambda m, x: x[[0, 0]].sqrt(), [0.0, 4.0]),
    "div_by_tiny": (lambda m, x: x[:2] / x[2:], [-0.0, 1.0, 5e-324, 2.0]),
    "pow_half_at_minus_zero": (lambda m, x: x ** 0.5, [-0.0, 4.0]),
}


@pytest.mark.parametrize("name", MASKING)
def test_gradients_where_inf_or_nan_flow_equal_torch(name):
    fn, values = MASKING[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for ours, theirs in _run_both(fn, np.array(values)):
            np.testing.assert_array_equal(ours, theirs)  # NaN where torch has NaN, and only there


def test_the_issue_reproducer_relu_then_sqrt():
    x = ts.tensor([-1.0, 4.0], requires_grad=True)
    x.relu().sqrt().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.25])


def test_relu_keeps_negative_zero_and_nan():
    y = ts.tensor([-0.0, -1.0, NAN]).relu().numpy()
    assert np.signbit(y[0]) and not np.signbit(y[1]) and np.isnan(y[2])


EXTREMES = np.array([0.0, -0.0, 1.0, -1.0, INF, -INF, NAN, 1e300, -1e300, 5e-324, 0.5, 2.0])
OPS = {
    "exp": lambda m, a, b: a.exp(), "log": lambda m, a, b: a.log(),
    "sqrt": lambda m, a, b: a.sqrt(), "tanh": lambda m, a, b: a.tanh(),
    "sigmoid": lambda m, a, b: a.sigmoid(), "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b, "mul": lambda m, a, b: a * b, "div": lambda m, a, b: a / b,
    "pow": lambda m, a, b: a ** b, "rpow": lambda m, a, b: 2.0 ** a,
    "square": lambda m, a, b: a ** 2, "reciprocal": lambda m, a, b: a ** -1,
    "mean": lambda m, a, b: a.mean(), "softmax": lambda m, a, b: a.softmax(0),
    "log_softmax": lambda m, a, b: a.log_softmax(0), "logsumexp": lambda m, a, b: a.logsumexp(0),
    "to_float32": lambda m, a, b: a.float(),
}


@pytest.mark.parametrize("name", OPS)
def test_no_numpy_warning_or_error_leaks_and_results_equal_torch(name):
    before = np.geterr()
    rng = np.random.default_rng(7)
    pairs = []
    with warnings.catch_warnings(), np.errstate(all="raise"):  # a user's strictest settings
        warnings.simplefilter("error")
        for _ in range(12):
            pairs += _run_both(OPS[name], rng.choice(EXTREMES, 4), rng.choice(EXTREMES, 4))
        ts.tensor(np.array([1e300, 5e-324]), dtype=ts.float32)  # casts overflow and underflow
        p = ts.tensor([1.0, 0.0])
        p.div_(ts.tensor([0.0, 0.0])).mul_(0.0).add_(INF).sub_(INF)
        p[0] = 1e300
    assert np.geterr() == before
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("shape, dim", [((3, 0), 1), ((0, 3), 0), ((0,), 0), ((0, 3), 1)])
def test_softmax_family_over_size_0_dims_as_torch(op, shape, dim):
    for ours, theirs in _run_both(lambda m, x: getattr(x, op)(dim), np.zeros(shape)):
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("fn", [lambda m, x: x.sum(), lambda m, x: x.mean(),
                                lambda m, x: x.sum(1), lambda m, x: x.mean(0),
                                lambda m, x: _values(x.max(0))])
def test_reductions_of_empty_tensors_as_torch(fn):
    for ours, theirs in _run_both(fn, np.zeros((2, 0))):
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("shape, chunks, dim", [((0,), 3, 0), ((0, 2), 2, 0), ((2, 0), 4, 1),
                                                ((5,), 3, 0), ((1,), 3, 0)])
def test_chunk_gives_torchs_pieces(shape, chunks, dim):
    ours = ts.zeros(*shape).chunk(chunks, dim)
    theirs = torch.zeros(*shape).chunk(chunks, dim)
    assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]


@pytest.mark.parametrize("make, kind, words", [
    (lambda: ts.zeros(2, 0).max(1), IndexError,
     r"max: dim 1 of a tensor of shape \(2, 0\) has size 0"),
    (lambda: ts.zeros(2, 0).min(-1), IndexError, r"min: dim 1 .*\(2, 0\)"),
    (lambda: ts.zeros(0).max(), RuntimeError,
     r"max: a tensor of shape \(0,\) has no elements.*dim="),
    (lambda: ts.zeros(2, 0).max((0, 1)), IndexError, r"max: dim 1 .*size 0"),
    (lambda: ts.ones(2).sum(2), IndexError, r"sum: dim 2 is out of range .*1 dim.*\[-1, 0\]"),
    (lambda: ts.ones(2).argmax(2), IndexError, r"argmax: dim 2 is out of range"),
    (lambda: ts.tensor(1.0).mean(1), IndexError, r"mean: dim 1 is out of range .*0 dim"),
    (lambda: ts.ones(2, 3).sum(1.0), TypeError, r"sum: dim must be an int, got float 1.0"),
    (lambda: ts.ones(2, 3).softmax(None), TypeError, r"softmax: dim must be an int, got NoneType"),
    (lambda: ts.ones(2, 3).sum((0, 0)), ValueError,
     r"sum: dim \(0, 0\) names a dim more than once"),
    (lambda: ts.ones(3).chunk(2.5), ValueError, r"chunk: chunks must be a positive int, got 2.5"),
    (lambda: ts.ones(4).split([5, -1]), ValueError, r"split: size -1 at position 1 .* is negative"),
    (lambda: ts.ones(4).split(2.0), TypeError, r"split: split_size_or_sections must be an int"),
])
def test_reductions_and_splits_refuse_in_one_line(make, kind, words):
    with pytest.raises(kind, match=words):
        make()


def test_masked_fill_with_a_tensor_value_sends_it_its_gradient_as_torch():
    mask = np.array([True, False, True])
    value = ts.tensor(3.0, dtype=ts.float64, requires_grad=True)
    x = ts.ones(3, dtype=ts.float64)
    y = x.masked_fill(ts.tensor(mask), value)
    assert y.requires_grad  # only the value requires grad
    (y * ts.tensor([1.0, 2.0, 4.0], dtype=ts.float64)).sum().backward()
    v = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    z = torch.ones(3, dtype=torch.float64).masked_fill(torch.tensor(mask), v)
    (z * torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(y.numpy(), z.detach().numpy())
    assert value.grad.item() == v.grad.item() == 5.0


def test_masked_fill_keeps_self_dtype_and_broadcasts_as_torch():
    y = ts.ones(3).masked_fill(ts.tensor(True), ts.tensor(2.0, dtype=ts.float64))
    assert y.dtype == ts.float32
    assert ts.tensor([1, 2]).masked_fill(ts.tensor(True), 2.5).tolist() == [2, 2]
    assert ts.ones(3).masked_fill(ts.ones(2, 3) > 0, 1.0).shape == (2, 3)


@pytest.mark.parametrize("make, words", [
    (lambda: ts.ones(2).masked_fill(ts.ones(3) > 0, 1.0),
     r"masked_fill: shapes \(3,\) and \(2,\) cannot be broadcast"),
    (lambda: ts.ones(2).masked_fill(ts.tensor([1, 0]), 1.0), r"masked_fill: the mask must be bool"),
    (lambda: ts.ones(2).masked_fill(ts.ones(2) > 0, ts.ones(2)),
     r"masked_fill: value must be a number or a 0-d tensor, got a tensor of shape \(2,\)"),
    (lambda: ts.where(ts.tensor([1.0, 0.0]), 1.0, 0.0), r"where: the mask must be bool"),
    (lambda: ts.ones(2).masked_fill(ts.ones(2) > 0, "a"), r"masked_fill: value must be a number"),
    (lambda: ts.tensor([1, 2]).masked_fill(ts.tensor(True), NAN),
     r"masked_fill: nan cannot be put in a int64 tensor"),
])
def test_masked_fill_and_where_refuse_bad_masks_and_values(make, words):
    with pytest.raises((RuntimeError, ValueError, TypeError), match=words):
        make()


@pytest.mark.parametrize("fn", [
    lambda m, x, y: m.where(x > 0, x, 0.5),
    lambda m, x, y: m.where(x > 0, 2.0, y),
    lambda m, x, y: m.where(x > y, x, y * 3),
    lambda m, x, y: m.where(x > 0, x.reshape(2, 1), y),
])
def test_where_with_tensors_and_scalars_as_torch(fn):
    x, y = np.array([-1.0, 2.0]), np.array([3.0, -4.0])
    for ours, theirs in _run_both(fn, x, y):
        np.testing.assert_array_equal(ours, theirs)
    cond = ts.tensor([True, False])
    assert ts.where(cond, ts.tensor([1, 2]), 0.5).dtype == ts.float32
    assert ts.where(cond, 1.0, 0).dtype == ts.float32


@pytest.mark.parametrize("fn", [lambda m, x, lo, hi: x.clamp(lo, hi),
                                lambda m, x, lo, hi: x.clamp(min=lo),
                                lambda m, x, lo, hi: x.clamp(max=hi.reshape(5, 1)),
                                lambda m, x, lo, hi: x.clamp(hi, lo)])  # min > max: all max
def test_clamp_with_tensor_bounds_sends_them_their_gradient_as_torch(fn):
    x = np.array([-1.0, 0.5, 2.0, NAN, 0.3])
    lo, hi = np.array([0.0, 0.5, 0.0, 0.0, 0.9]), np.array([0.8, 0.8, 3.0, 1.0, 0.1])
    for ours, theirs in _run_both(fn, x, lo, hi):
        np.testing.assert_array_equal(ours, theirs)


# ---- detect_anomaly: blame the op only when its inputs were finite ----------------------------
def test_anomaly_says_the_input_was_already_nan_from_a_leaf():
    x = ts.tensor([NAN, 1.0], requires_grad=True)
    with ts.autograd.detect_anomaly():
        with pytest.raises(ts.autograd.AnomalyError,
                           match=r"forward of 'mul' produced NaN in its output 0, but its input 0 "
                                 r"already held NaN \(a leaf tensor"):
            x * 2


def test_anomaly_names_the_op_that_made_the_non_finite_input():
    y = ts.tensor([-1.0, 1.0], requires_grad=True).log()  # NaN, made outside detect_anomaly
    with ts.autograd.detect_anomaly():
        with pytest.raises(ts.autograd.AnomalyError,
                           match=r"already held NaN \(the output of 'log'\); look there"):
            y * 2


def test_anomaly_in_backward_says_when_the_nan_came_from_above_or_from_the_forward():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with ts.autograd.detect_anomaly():
        with pytest.raises(ts.autograd.AnomalyError,
                           match=r"backward of 'mul' .* but the gradient it received already "
                                 r"held NaN"):
            y.backward(gradient=ts.tensor([NAN, 1.0]))
    x = ts.tensor([NAN, 2.0], requires_grad=True)
    y = (x * x).sum()
    with ts.autograd.detect_anomaly():
        with pytest.raises(ts.autograd.AnomalyError,
                           match=r"backward of 'mul' .* values its forward saved already held NaN"):
            y.backward()


# ---- custom Functions that return the wrong thing ---------------------------------------------
def _function(backward, forward=lambda ctx, a, b: a * b):
    return type("Odd", (ts.autograd.Function,), {"forward": staticmethod(forward),
                                                  "backward": staticmethod(backward)})


def test_a_backward_returning_a_list_is_read_like_a_tuple():
    a, b = ts.ones(2, requires_grad=True), ts.ones(2, requires_grad=True)
    _function(lambda ctx, g: [g, 2 * g]).apply(a, b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 2.0])


def test_a_broadcast_gradient_is_summed_back_and_none_means_no_gradient_as_in_torch():
    a, b = ts.ones(2, requires_grad=True), ts.ones(2, requires_grad=True)
    _function(lambda ctx, g: (np.ones((3, 2)), None)).apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])
    assert b.grad is None


@pytest.mark.parametrize("backward, kind, words", [
    (lambda ctx, g: g, RuntimeError,
     r"Odd.backward returned 1 gradient\(s\), but Odd.forward took 2 argument\(s\)"),
    (lambda ctx, g: (g, g, g), RuntimeError, r"Odd.backward returned 3 gradient"),
    (lambda ctx, g: (g[:1], g), ts.ShapeError,
     r"Odd.backward returned a gradient of shape \(1,\) for its input 0, which has shape \(2,\)"),
    (lambda ctx, g: (np.float64(1.0), g), ts.ShapeError,
     r"Odd.backward .* shape \(\) for its input 0"),
    (lambda ctx, g: ("one", g), TypeError, r"Odd.backward returned str .* for its input 0"),
    (lambda ctx, g: (g, g * 1j), TypeError, r"Odd.backward returned ndarray \(dtype complex64\)"
                                            r" as the gradient for its input 1"),
])
def test_a_backward_returning_the_wrong_thing_is_named(backward, kind, words):
    a, b = ts.ones(2, requires_grad=True), ts.ones(2, requires_grad=True)
    with pytest.raises(kind, match=words):
        _function(backward).apply(a, b).sum().backward()


def test_a_forward_returning_none_is_named():
    with pytest.raises(TypeError, match=r"Odd.forward returned NoneType \(dtype object\)"):
        _function(lambda ctx, g: g, forward=lambda ctx, a, b: None).apply(ts.ones(1), 1)


# ---- making tensors ----------------------------------------------------------------------------
@pytest.mark.parametrize("make, kind, words", [
    (lambda: ts.tensor([[1, 2], [3]]), ValueError, r"ts.tensor: the nested lists are ragged"),
    (lambda: ts.tensor("1", dtype=ts.float32), TypeError,
     r"ts.tensor: cannot make a tensor from str"),
    (lambda: ts.tensor([1, None]), TypeError, r"ts.tensor: cannot make a tensor from list"),
    (lambda: ts.zeros(10**12), MemoryError,
     r"zeros: .*shape \(1000000000000,\) and dtype float32.*GiB"),
    (lambda: ts.randn(10**6, 10**6), MemoryError, r"randn: .*\(1000000, 1000000\)"),
    (lambda: ts.full((10**12,), 1.0), MemoryError, r"full: "),
    (lambda: ts.arange(10**13), MemoryError, r"arange: .*int64"),
    (lambda: ts.ones(2).new_zeros(10**6, 10**6), MemoryError, r"new_zeros: .*needs 3,725.3 GiB"),
    (lambda: ts.ones(2).new_full((10**12,), 1.0), MemoryError, r"new_full: .*float32"),
    (lambda: ts.zeros(-1), ValueError, r"zeros: size -1 at position 0 of \(-1,\) is negative"),
    (lambda: ts.ones(2, 2.5), TypeError, r"ones: sizes must be ints, got float 2.5 at position 1"),
    (lambda: ts.zeros("3"), TypeError, r"zeros: sizes must be ints, got str"),
    (lambda: ts.randn(2, dtype=ts.int64), TypeError, r"randn: dtype must be float32 or float64"),
    (lambda: ts.zeros(2, dtype=np.complex64), TypeError, r"zeros: tensors hold floats, ints or"),
    (lambda: ts.rand(2, dtype="banana"), TypeError, r"rand: 'banana' is not a dtype"),
    (lambda: ts.arange(0, 5, 0), ValueError, r"arange: step must not be 0"),
    (lambda: ts.arange(0, INF), ValueError, r"arange: end must be a finite number, got inf"),
    (lambda: ts.arange(5, 0), ValueError, r"arange: from 5 to 0 by steps of 1 never gets there"),
    (lambda: ts.ones(6).reshape(-1, -1), ValueError, r"reshape: only one size can be -1"),
    (lambda: ts.ones(6).reshape(-2, 3), ValueError, r"reshape: size -2 .* only -1 is allowed"),
    (lambda: ts.ones(6).view(2, 3.0), TypeError, r"view: sizes must be ints, got float 3.0"),
    (lambda: ts.ones(3).expand(-1, 3), ValueError,
     r"expand: -1 \(keep the size\) in a new leading"),
    (lambda: ts.ones(2, 3).expand(3), ValueError, r"expand: 1 sizes \(3,\) for a tensor of shape"),
    (lambda: ts.ones(3).expand(-2, 3), ValueError, r"expand: size -2"),
    (lambda: ts.ones(2, 3).permute(0, 1.0), TypeError, r"permute: dim must be an int"),
    (lambda: ts.ones(2, 3).transpose(0, 2), IndexError, r"transpose: dim 2 is out of range"),
    (lambda: ts.ones(2, 3, 4).flatten(2, 0), ValueError,
     r"flatten: start_dim 2 comes after end_dim 0"),
    (lambda: ts.cat([ts.tensor(1.0), ts.tensor(2.0)]), ValueError, r"cat: tensor 0 is 0-d.*stack"),
    (lambda: ts.Tensor(np.array(["a"])), TypeError, r"cannot make a tensor from ndarray .*<U1"),
    (lambda: ts.from_numpy(np.array([1j])), TypeError, r"cannot make a tensor .*complex128"),
    (lambda: ts.ones(2).to("banana"), RuntimeError, r"to: unknown device 'banana'"),  # as torch
    (lambda: ts.ones(2).to(np.complex64), TypeError, r"to: tensors hold floats, ints or bools"),
    (lambda: ts.tensor([1.0], dtype="banana"), TypeError, r"ts.tensor: 'banana' is not a dtype"),
    (lambda: ts.ones(2).clamp(min="a"), TypeError, r"clamp: min must be a number or a Tensor"),
    (lambda: ts.ones(2).clamp(min=ts.zeros(3)), ValueError, r"clamp: shapes \(2,\) and \(3,\)"),
])
def test_making_and_reshaping_tensors_refuse_in_one_line(make, kind, words):
    with pytest.raises(kind, match=words) as info:
        make()
    assert "\n" not in str(info.value)


def test_a_hook_returning_something_else_than_a_gradient_is_named():
    x = ts.ones(2, requires_grad=True)
    x.register_hook(lambda g: "twice")
    with pytest.raises(TypeError, match=r"a hook returned str \(dtype <U5\); return a Tensor"):
        (x * 2).sum().backward()


def test_quiet_ops_nest_and_leave_the_users_numpy_settings_alone():
    class ExpInside(ts.autograd.Function):  # an op whose forward runs another op
        @staticmethod
        def forward(ctx, a):
            return ts.tensor(a, dtype=ts.float64).exp().numpy() / 0

        @staticmethod
        def backward(ctx, g):
            return g

    with np.errstate(all="raise"):
        y = ExpInside.apply(ts.tensor([1000.0], dtype=ts.float64, requires_grad=True))
        assert np.geterr()["divide"] == "raise"
    assert np.isinf(y.numpy()).all()


@pytest.mark.parametrize("seed", range(4))
def test_max_and_min_with_ties_and_nan_pick_and_share_as_torch(seed):
    """torch.max(x, dim) gives all of the gradient to the index it picks (the first maximum, or
    the first NaN); torch.max(x) shares it between the ties (the NaNs); amax multiplies."""
    rng = np.random.default_rng(seed)
    for _ in range(15):
        a = rng.integers(0, 3, (3, 5)).astype(float)
        a[rng.random((3, 5)) < 0.1 * seed] = NAN
        for op in ("max", "min"):
            for dim in (0, 1):
                pick = lambda m, x: _values(getattr(x, op)(dim))  # noqa: E731
                for ours, theirs in _run_both(pick, a):
                    np.testing.assert_array_equal(ours, theirs)
                arg = "arg" + op
                np.testing.assert_array_equal(getattr(ts.tensor(a), arg)(dim).numpy(),
                                              getattr(torch.tensor(a), arg)(dim).numpy())
            for ours, theirs in _run_both(lambda m, x: getattr(x, op)(), a):
                np.testing.assert_array_equal(ours, theirs)
        amax = lambda m, x: x.max((0, 1)) if m is ts else x.amax((0, 1))  # noqa: E731
        for ours, theirs in _run_both(amax, a):
            np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("call, kind, words", [
    (lambda x: ts.autograd.gradcheck(lambda t: 1.0, (x,)), TypeError,
     r"gradcheck: fn must return a Tensor or a tuple of Tensors, got float"),
    (lambda x: ts.autograd.gradcheck(lambda t: t.sum(), (x,), eps=0), ValueError,
     r"gradcheck: eps must be positive"),
    (lambda x: ts.autograd.gradcheck(lambda t: t.sum(), (x,), atol=-1), ValueError,
     r"atol, rtol not negative"),
])
def test_gradcheck_refuses_what_it_cannot_check(call, kind, words):
    with pytest.raises(kind, match=words):
        call(ts.ones(2, dtype=ts.float64, requires_grad=True))


@pytest.mark.parametrize("call, kind, words", [
    (lambda x: ts.autograd.grad((x * 2).sum(), [np.ones(2)]), TypeError,
     r"grad: inputs must be Tensors, and inputs\[0\] is a ndarray"),
    (lambda x: ts.autograd.grad([1.0], [x]), TypeError, r"grad: outputs must be Tensors"),
    (lambda x: (x * 2).backward(gradient="a"), TypeError,
     r"backward: gradient must be a Tensor of numbers, got str"),
])
def test_backward_and_grad_refuse_what_is_not_a_tensor(call, kind, words):
    with pytest.raises(kind, match=words):
        call(ts.ones(2, requires_grad=True))


@pytest.mark.parametrize("update, kind, words", [
    (lambda t: t.add_(ts.ones(3)), ValueError,
     r"add_: a value of shape \(3,\) cannot be broadcast to this tensor's shape \(2,\)"),
    (lambda t: t.mul_(ts.ones(2, 2)), ValueError, r"mul_: a value of shape \(2, 2\)"),
    (lambda t: t.copy_(ts.ones(3)), ValueError, r"copy_: a value of shape \(3,\)"),
    (lambda t: t.long().add_(0.5), TypeError,
     r"add_: the result is float32, which cannot be written into this int64 tensor"),
])
def test_in_place_updates_that_do_not_fit_are_named(update, kind, words):
    t = ts.ones(2)
    with pytest.raises(kind, match=words):
        update(t)
    assert t.tolist() == [1.0, 1.0]


# ---- pow and clamp: torch's kernels, down to the sign of a zero --------------------------------
def _assert_same_bits(ours, theirs):
    """Equal values (to the last bit or two: torch's vectorised ``pow`` is not C's), NaN and
    infinities at the same places and zeros of the same sign."""
    np.testing.assert_allclose(ours, theirs, rtol=4e-16, atol=0)
    assert (np.signbit(ours) == np.signbit(theirs))[~np.isnan(theirs)].all(), (ours, theirs)


SPECIAL = [-0.0, 0.0, -INF, INF, NAN, -2.0, 3.0, 0.7, 1e-160, 1e200]


@pytest.mark.parametrize("exponent", [0, 0.0, "tensor 0", "tensor [0]"])
def test_pow_with_exponent_0_has_gradient_exactly_0_even_from_inf_as_torch(exponent):
    def fn(m, x):
        e = exponent
        if isinstance(e, str):
            e = m.tensor(0.0 if e == "tensor 0" else [0.0], dtype=m.float64)
        return (x ** e) * INF
    for ours, theirs in _run_both(fn, np.array(SPECIAL)):
        _assert_same_bits(ours, theirs)


@pytest.mark.parametrize("exponent", [-0.5, 0.5, 2, 3, -1, -2, 1.5, -3.0,
                                      "tensor 0.5", "tensor -0.5", "tensor 1.5", "full 0.5"])
def test_pow_values_and_gradients_have_torchs_bits_at_zeros_and_infinities(exponent):
    def fn(m, x):
        e = exponent
        if isinstance(e, str):
            kind, value = e.split()
            e = m.tensor(float(value) if kind == "tensor" else [float(value)] * len(SPECIAL),
                         dtype=m.float64)
        return x ** e
    for ours, theirs in _run_both(fn, np.array(SPECIAL)):
        _assert_same_bits(ours, theirs)


@pytest.mark.parametrize("lo, hi", [(0.0, None), (-0.0, None), (None, 0.0), (None, -0.0),
                                    (0.0, -0.0), (-0.0, 0.0), (0, 1), (NAN, None), (-1.0, NAN)])
@pytest.mark.parametrize("form", ["numbers", "tensors", "in place"])
def test_clamp_keeps_its_input_unless_strictly_outside_as_torch(lo, hi, form):
    x = [-0.0, 0.0, NAN, 1.0, -1.0, INF, -INF]

    def clamp(m):
        bounds = [b if b is None or form != "tensors" else m.tensor(b, dtype=m.float64)
                  for b in (lo, hi)]
        t = m.tensor(x, dtype=m.float64)
        return t.clamp_(*bounds) if form == "in place" else t.clamp(*bounds)
    _assert_same_bits(clamp(ts).numpy(), clamp(torch).numpy())


@pytest.mark.parametrize("make", [lambda m: m.arange(3) ** -1, lambda m: m.arange(3) ** -2,
                                  lambda m: m.tensor([True]) ** -1])
def test_integers_to_a_negative_integer_power_are_refused_as_torch(make):
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        make(torch)
    with pytest.raises(RuntimeError, match=r"^pow: integers to negative integer powers are not "
                                           r"allowed \(exponent -\d\); make the base float"):
        make(ts)
    with pytest.raises(RuntimeError, match=r"^pow: integers to negative"):  # torch computes it
        ts.arange(3) ** ts.tensor([-1, 1, 1])


@pytest.mark.parametrize("make", [lambda m: m.tensor([1.0]) + 1e300,
                                  lambda m: m.arange(3) * -1e39,
                                  lambda m: m.tensor([2.0]) ** 1e39])
def test_a_number_too_big_for_float32_is_inf_without_a_warning_as_torch(make):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = make(ts)
    theirs = make(torch)
    assert ours.dtype == ts.float32 and theirs.dtype == torch.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("update, kind, words", [
    (lambda t: t.clamp_(min=ts.zeros(2)), ts.ShapeError,
     r"clamp_: a value of shape \(2,\) cannot be broadcast to this tensor's shape \(3,\)"),
    (lambda t: t.clamp_(min=ts.zeros(2, 3)), RuntimeError,
     r"clamp_: a value of shape \(2, 3\) cannot be broadcast to this tensor's shape \(3,\)"),
    (lambda t: t.clamp_(min="a"), TypeError, r"clamp_: min must be a number or a Tensor, got str"),
    (lambda t: t.clamp_(), ValueError, r"clamp_: give at least one of min and max"),
])
def test_clamp_in_place_refuses_what_does_not_fit_and_leaves_the_tensor_alone(update, kind, words):
    t = ts.tensor([1.0, -2.0, 3.0])
    with pytest.raises(kind, match="^" + words):
        update(t)
    assert t.tolist() == [1.0, -2.0, 3.0] and t._version.value == 0


def test_clamp_of_integers_by_a_float_is_float32_and_in_place_refused_as_torch():
    assert ts.arange(3).clamp(min=0.5).dtype == torch.arange(3).clamp(min=0.5).numpy().dtype
    assert ts.arange(3).clamp(min=0.5).tolist() == [0.5, 1.0, 2.0]
    assert ts.arange(3).clamp(max=ts.tensor(0.5, dtype=ts.float64)).dtype == ts.float64
    t = ts.arange(3)
    with pytest.raises(RuntimeError):
        torch.arange(3).clamp_(min=0.5)
    with pytest.raises(RuntimeError, match=r"^clamp_: the result is float32, which cannot be "
                                           r"written into this int64 tensor"):
        t.clamp_(min=0.5)
    assert t.tolist() == [0, 1, 2]


def test_an_assigned_grad_must_fit_the_tensor_as_in_torch():
    p = ts.ones(2, requires_grad=True)
    for bad, error, words in [(ts.ones(3), RuntimeError, r"shape \(3,\) .* shape \(2,\)"),
                              (ts.ones(2, dtype=ts.float64), RuntimeError, "dtype float64"),
                              (np.ones(2, np.float32), TypeError, "must be a Tensor or None")]:
        with pytest.raises(error, match=words):
            p.grad = bad
        assert p.grad is None  # nothing assigned
    p.grad = ts.full((2,), 0.5)
    ts.optim.SGD([p], lr=1.0).step()
    assert p.tolist() == [0.5, 0.5]
    p.grad = None
    assert p.grad is None


@pytest.mark.parametrize("value, dtype, words", [
    (300, np.uint8, "300 does not fit in uint8 (from 0 to 255)"),
    (2 ** 63, ts.int64, "9223372036854775808 does not fit in int64"),
    (1e10, np.int32, "10000000000.0 does not fit in int32"),
    (float("nan"), ts.int64, "nan does not fit in int64"),
])
def test_a_value_the_dtype_cannot_hold_is_refused_not_wrapped(value, dtype, words):
    with pytest.raises(OverflowError, match=re.escape(f"ts.tensor: {words}")):
        ts.tensor(value, dtype=dtype)


def test_values_the_dtype_holds_are_made_as_torch_makes_them():
    assert ts.tensor([1, 2 ** 64], dtype=ts.float64).tolist() == [1.0, 2.0 ** 64]
    assert ts.tensor([1.5, -2.7], dtype=ts.int64).tolist() == [1, -2]  # truncated, as torch


def test_a_numpy_integer_dim_is_a_dim():
    x = ts.arange(6.0).reshape(2, 3)
    for op in ("sum", "mean", "logsumexp", "max"):
        r = getattr(x, op)(np.int64(1))
        v = r[0] if isinstance(r, tuple) else r
        assert v.shape == (2,), op
