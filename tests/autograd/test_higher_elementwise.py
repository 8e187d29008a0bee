"""Higher-order gradients and forward mode of the elementwise ops (``elementwise.py``,
``activations.py``, ``selection.py``, ``unary.py``, ``special.py``, ``rounding.py``) and of the
activations built from them.

One table drives every check. Each row is an op (or an argument variant: broadcasting, 0-d,
number or Tensor operands) as a function of the module (``ts`` or ``torch``) and its inputs:

- double backward against PyTorch: ``g = grad((f(x) * u).sum(), x, create_graph=True)``, then
  ``grad((g * w).sum(), (x, u))``; ``u`` requires grad too, so that the gradient of a linear op
  (which does not depend on ``x``) is still a graph;
- the same second derivatives numerically (``gradcheck`` of the first gradients: gradgradcheck);
- forward mode against PyTorch's ``forward_ad``: primal and tangent;
- ``<J v, u> == <v, Jᵀ u>``: the tangent agrees with the gradient;
- third order for a few ops, and a hypothesis test of the binary ops over broadcast shapes.
"""
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyseq as ts
import tinyseq.autograd.forward_ad as fwAD
from tests.strategies import FEW, arrays_for, pairs, seeds
from tests.torch_compare import torch

torch_fwAD = torch.autograd.forward_ad

F64 = {"atol": 1e-10, "rtol": 1e-8}
F32_TOL = {"atol": 1e-6, "rtol": 1e-5}  # (for results that pass through float32)


def row(name, fn, shapes=((3, 4),), kind="n", numeric=True, tol=F64):
    """One op of the table: ``fn(module, *tensors)``, the inputs' shapes and data kind (see
    ``tests/strategies.py``); ``numeric=False`` where central differences cannot be trusted
    (a float32 step), ``tol`` for results that pass through float32."""
    return pytest.param(fn, list(shapes), kind, numeric, tol, id=name)


OPS = [
    # elementwise.py
    row("add", lambda m, a, b: a + b, [(3, 4), (4,)]),
    row("add-alpha", lambda m, a, b: m.add(a, b, alpha=2.5), [(2, 3), (2, 1)]),
    row("sub", lambda m, a, b: a - b, [(2, 3, 1), (3, 4)]),
    row("rsub-number", lambda m, a: 1.5 - a, [(3,)]),
    row("mul", lambda m, a, b: a * b, [(3, 4), (3, 1)]),
    row("mul-0d", lambda m, a, b: a * b, [(), (2, 3)]),
    row("div", lambda m, a, b: a / b, [(3, 4), (4,)], ("n", "away")),
    row("rdiv-number", lambda m, a: 1.5 / a, [(2, 3)], "away"),
    row("pow", lambda m, a, b: a ** b, [(3, 4), (4,)], ("pos", "n")),
    row("pow-0d-exponent", lambda m, a, b: m.pow(a, b), [(2, 3), ()], ("pos", "n")),
    row("pow-3", lambda m, a: a ** 3, [(3, 4)]),
    row("pow-half", lambda m, a: a ** 0.5, [(5,)], "pos"),
    row("pow-minus-2", lambda m, a: a ** -2, [(5,)], "away"),
    row("pow-2.5", lambda m, a: m.pow(a, 2.5), [(2, 3)], "pos"),
    row("rpow-number", lambda m, a: 2 ** a, [(2, 3)]),
    row("neg", lambda m, a: -a, [(2, 3)]),
    # activations.py
    row("exp", lambda m, a: a.exp(), [(2, 3)]),
    row("log", lambda m, a: m.log(a), [(2, 3)], "pos"),
    row("sqrt", lambda m, a: a.sqrt(), [(2, 3)], "pos"),
    row("abs", lambda m, a: m.abs(a), [(2, 3)], "away"),
    row("tanh", lambda m, a: a.tanh(), [(2, 3)]),
    row("sigmoid", lambda m, a: m.sigmoid(a), [(2, 3)]),
    row("relu", lambda m, a: a.relu(), [(3, 4)], "away"),
    # selection.py
    row("clamp", lambda m, a: a.clamp(-0.5, 0.5), [(3, 4)], "clamp"),
    row("clamp-min", lambda m, a: m.clamp(a, min=-0.3), [(3, 4)], "clamp"),
    row("clamp-max", lambda m, a: a.clamp(max=0.2), [(3, 4)], "clamp"),
    row("clamp-tensors", lambda m, a, lo, hi: m.clamp(a, lo, hi), [(3, 4), (4,), (3, 1)]),
    row("clamp-tensor-min", lambda m, a, lo: m.clamp(a, min=lo), [(3, 4), (4,)]),
    row("clamp-tensor-max", lambda m, a, hi: a.clamp(max=hi), [(3, 4), (3, 1)]),
    row("where", lambda m, a, b: m.where(a > 0, a, b), [(3, 4), (4,)], ("away", "n")),
    row("where-number", lambda m, a: m.where(a > 0, a * a, 2.0), [(3, 4)], "away"),
    row("masked_fill", lambda m, a, v: a.masked_fill(a > 0, v), [(3, 4), ()], ("away", "n")),
    row("index_fill", lambda m, a: a.index_fill(1, m.tensor([0, 2]), 2.0) * a, [(3, 4)]),
    row("cast", lambda m, a: (a * a).to(m.float32), [(3,)], numeric=False, tol=F32_TOL),
    row("clone", lambda m, a: (a * a).clone(), [(2, 3)]),
    # unary.py (the step functions times x: their zero derivative inside a product)
    row("sin", lambda m, a: a.sin(), [(2, 3)]),
    row("cos", lambda m, a: m.cos(a), [(2, 3)]),
    row("rsqrt", lambda m, a: m.rsqrt(a), [(2, 3)], "pos"),
    row("reciprocal", lambda m, a: a.reciprocal(), [(2, 3)], "away"),
    row("square", lambda m, a: m.square(a), [(2, 3)]),
    row("log1p", lambda m, a: a.log1p(), [(2, 3)], "pos"),
    row("expm1", lambda m, a: m.expm1(a), [(2, 3)]),
    row("log2", lambda m, a: a.log2(), [(2, 3)], "pos"),
    row("log10", lambda m, a: m.log10(a), [(2, 3)], "pos"),
    row("floor", lambda m, a: a.floor() * a, [(2, 3)]),
    row("ceil", lambda m, a: m.ceil(a) * a, [(2, 3)]),
    row("trunc", lambda m, a: a.trunc() * a, [(2, 3)]),
    row("round", lambda m, a: m.round(a) * a, [(2, 3)]),
    row("round-decimals", lambda m, a: a.round(decimals=1) * a, [(2, 3)]),
    row("sign", lambda m, a: a.sign() * a, [(2, 3)], "away"),
    # special.py
    row("erf", lambda m, a: m.erf(a), [(2, 3)]),
    row("softplus", lambda m, a: m.nn.functional.softplus(a), [(2, 3)]),
    row("softplus-beta-threshold",
        lambda m, a: m.nn.functional.softplus(a, beta=2.0, threshold=1.0), [(3, 4)], "away"),
    # rounding.py
    row("remainder", lambda m, a, b: a % b, [(3, 4), (4,)], ("n", "away")),
    row("remainder-number", lambda m, a: m.remainder(a, 0.7), [(3, 4)]),
    row("fmod", lambda m, a, b: m.fmod(a, b), [(3, 4), (3, 1)], ("n", "away")),
    row("div-floor", lambda m, a, b: m.div(a, b, rounding_mode="floor") * a, [(3, 4), (4,)],
        ("n", "away")),
    row("div-trunc", lambda m, a, b: a.div(b, rounding_mode="trunc") * b, [(3, 4), (4,)],
        ("n", "away")),
    # torch functions built from these ops
    row("gelu", lambda m, a: m.nn.functional.gelu(a), [(2, 3)]),
    row("gelu-tanh", lambda m, a: m.nn.functional.gelu(a, approximate="tanh"), [(2, 3)]),
    row("silu", lambda m, a: m.nn.functional.silu(a), [(2, 3)]),
    row("elu", lambda m, a: m.nn.functional.elu(a) * a, [(2, 3)], "away"),
    row("leaky_relu", lambda m, a: m.nn.functional.leaky_relu(a, 0.1) * a, [(2, 3)], "away"),
]


# ---- the two libraries, one code ---------------------------------------------------------------
def _tensors(m, arrays):
    return [m.tensor(a, dtype=m.float64, requires_grad=True) for a in arrays]


def _values(grads, like):
    """Gradients as arrays; an unused input's (None) and torch's zero tensors (which refuse
    ``numpy()``) as zeros of the input's shape."""
    return [np.zeros(tuple(x.shape)) if g is None or _is_zero_tensor(g) else g.detach().numpy()
            for g, x in zip(grads, like)]


def _is_zero_tensor(g):
    return isinstance(g, torch.Tensor) and g._is_zerotensor()


def _upstream(name, fn, arrays):
    """``u`` (output-shaped), ``w`` (input-shaped, one per input) and ``v`` (tangents), drawn
    from a generator seeded by the row's name."""
    shape = np.shape(fn(ts, *_tensors(ts, arrays)).detach().numpy())
    rng = np.random.default_rng(zlib.crc32(f"upstream {name}".encode()))
    u = rng.standard_normal(shape)
    ws = [rng.standard_normal(np.shape(a)) for a in arrays]
    vs = [rng.standard_normal(np.shape(a)) for a in arrays]
    return u, ws, vs


def double_backward(m, fn, arrays, u, ws):
    """First gradients of ``(f(x) * u).sum()`` and the gradients of ``sum(g * w)`` with respect
    to the inputs and ``u``, as arrays."""
    xs = _tensors(m, arrays)
    ut = m.tensor(u, dtype=m.float64, requires_grad=True)
    gs = m.autograd.grad((fn(m, *xs) * ut).sum(), xs, create_graph=True)
    total = sum((g * m.tensor(w, dtype=m.float64)).sum() for g, w in zip(gs, ws))
    second = m.autograd.grad(total, [*xs, ut], allow_unused=True)
    return _values(gs, xs), _values(second, [*xs, ut])


def forward_mode(m, fw, fn, arrays, vs):
    """``(primal, tangent)`` of ``f`` at the inputs, every input carrying its tangent."""
    with fw.dual_level():
        duals = [fw.make_dual(m.tensor(a, dtype=m.float64), m.tensor(v, dtype=m.float64))
                 for a, v in zip(arrays, vs)]
        primal, tangent = fw.unpack_dual(fn(m, *duals))
        return primal.detach().numpy(), tangent.detach().numpy()


def _case(request_id, fn, shapes, kind):
    arrays = arrays_for(request_id, shapes, kind)
    return arrays, *_upstream(request_id, fn, arrays)


def _assert_all_close(ours, theirs, tol):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, **tol)


# ---- the table's checks -------------------------------------------------------------------------
@pytest.mark.parametrize("fn, shapes, kind, numeric, tol", OPS)
def test_double_backward_matches_torch(request, fn, shapes, kind, numeric, tol):
    arrays, u, ws, _ = _case(request.node.callspec.id, fn, shapes, kind)
    first, second = double_backward(ts, fn, arrays, u, ws)
    t_first, t_second = double_backward(torch, fn, arrays, u, ws)
    _assert_all_close(first, t_first, tol)
    _assert_all_close(second, t_second, tol)
    assert any(np.any(s != 0) for s in second)  # (a check that cannot pass on zeros alone)


@pytest.mark.parametrize("fn, shapes, kind, numeric, tol", OPS)
def test_second_derivatives_numerically(request, fn, shapes, kind, numeric, tol):
    if not numeric:
        pytest.skip("a float32 step: central differences of 1e-6 are meaningless")
    arrays, u, _, _ = _case(request.node.callspec.id, fn, shapes, kind)
    n = len(arrays)

    def first_gradients(*inputs):
        xs, ut = inputs[:n], inputs[n]
        with ts.enable_grad():  # (gradcheck's differences run under no_grad)
            gs = ts.autograd.grad((fn(ts, *xs) * ut).sum(), xs, create_graph=True,
                                  allow_unused=True)
        return tuple(g for g in gs if g is not None)

    inputs = [*_tensors(ts, arrays), ts.tensor(u, dtype=ts.float64, requires_grad=True)]
    assert ts.autograd.gradcheck(first_gradients, inputs)


@pytest.mark.parametrize("fn, shapes, kind, numeric, tol", OPS)
def test_forward_mode_matches_torch(request, fn, shapes, kind, numeric, tol):
    arrays, _, _, vs = _case(request.node.callspec.id, fn, shapes, kind)
    ours = forward_mode(ts, fwAD, fn, arrays, vs)
    theirs = forward_mode(torch, torch_fwAD, fn, arrays, vs)
    _assert_all_close(ours, theirs, tol)


@pytest.mark.parametrize("fn, shapes, kind, numeric, tol", OPS)
def test_tangent_agrees_with_gradient(request, fn, shapes, kind, numeric, tol):
    """``<J v, u> == sum_i <v_i, (Jᵀ u)_i>``: forward and reverse mode are one derivative."""
    arrays, u, _, vs = _case(request.node.callspec.id, fn, shapes, kind)
    _, tangent = forward_mode(ts, fwAD, fn, arrays, vs)
    xs = _tensors(ts, arrays)
    grads = ts.autograd.grad(fn(ts, *xs), xs, ts.tensor(u, dtype=tangent.dtype))
    reverse = sum(float((g.numpy() * v).sum()) for g, v in zip(grads, vs))
    np.testing.assert_allclose(float((tangent * u).sum()), reverse, **tol)


# ---- third order --------------------------------------------------------------------------------
# (same shapes: a broadcast operand's gradient is summed and reshaped, and reshape's own
# gradient is not yet a graph)
THIRD = [
    row("pow", lambda m, a, b: a ** b, [(3, 4), (3, 4)], ("pos", "n")),
    row("div", lambda m, a, b: a / b, [(2, 3), (2, 3)], ("n", "away")),
    row("mul", lambda m, a, b: a * b * a, [(2, 3), (2, 3)]),
    row("pow-2.5", lambda m, a: m.pow(a, 2.5), [(2, 3)], "pos"),
    row("sqrt", lambda m, a: a.sqrt(), [(2, 3)], "pos"),
    row("rsqrt", lambda m, a: m.rsqrt(a), [(2, 3)], "pos"),
    row("tanh", lambda m, a: a.tanh(), [(2, 3)]),
    row("sigmoid", lambda m, a: m.sigmoid(a), [(2, 3)]),
    row("sin", lambda m, a: a.sin(), [(2, 3)]),
    row("erf", lambda m, a: m.erf(a), [(2, 3)]),
    row("softplus", lambda m, a: m.nn.functional.softplus(a), [(2, 3)]),
    row("gelu", lambda m, a: m.nn.functional.gelu(a), [(2, 3)]),
    row("clamp-cubed", lambda m, a: a.clamp(-0.5, 0.5) ** 3, [(3, 4)], "clamp"),
    row("where-cubed", lambda m, a, b: m.where(a > 0, a, b) ** 3, [(3, 4), (3, 4)], "away"),
    row("abs-cubed", lambda m, a: a.abs() ** 3, [(3, 4)], "away"),
    row("relu-cubed", lambda m, a: a.relu() ** 3, [(3, 4)], "away"),
]


def third_order(m, fn, arrays, u, ws):
    """``d/dx <d/dx <d/dx <f(x), u>, w>, w>``: the gradient of a gradient of a gradient."""
    xs = _tensors(m, arrays)
    ut = m.tensor(u, dtype=m.float64)
    wt = [m.tensor(w, dtype=m.float64) for w in ws]
    gs = m.autograd.grad((fn(m, *xs) * ut).sum(), xs, create_graph=True)
    for _ in range(2):
        total = sum((g * w).sum() for g, w in zip(gs, wt))
        gs = m.autograd.grad(total, xs, create_graph=True, allow_unused=True)
        gs = [m.zeros_like(x) if g is None else g for g, x in zip(gs, xs)]
    return _values(gs, xs)


@pytest.mark.parametrize("fn, shapes, kind, numeric, tol", THIRD)
def test_third_order_matches_torch(request, fn, shapes, kind, numeric, tol):
    arrays, u, ws, _ = _case(request.node.callspec.id, fn, shapes, kind)
    ours, theirs = third_order(ts, fn, arrays, u, ws), third_order(torch, fn, arrays, u, ws)
    _assert_all_close(ours, theirs, tol)
    assert any(np.any(g != 0) for g in ours)


# ---- the binary ops over broadcast shapes -------------------------------------------------------
BINARY = {
    "add": (lambda m, a, b: a + b, ("n", "n")),
    "sub": (lambda m, a, b: a - b, ("n", "n")),
    "mul": (lambda m, a, b: a * b, ("n", "n")),
    "div": (lambda m, a, b: a / b, ("n", "away")),
    "pow": (lambda m, a, b: a ** b, ("pos", "n")),
    "where": (lambda m, a, b: m.where(a > 0, a * a, b), ("away", "n")),
    "remainder": (lambda m, a, b: a % b, ("n", "away")),
    "fmod": (lambda m, a, b: m.fmod(a, b), ("n", "away")),
    "clamp-min": (lambda m, a, b: m.clamp(a, min=b), ("n", "n")),
}


@FEW
@given(name=st.sampled_from(sorted(BINARY)), shapes=pairs, seed=seeds)
def test_binary_ops_over_broadcast_shapes(name, shapes, seed):
    """Second derivatives and tangents of each binary op match torch's for any two shapes that
    broadcast (0-d, size-1 and missing dims on either side)."""
    fn, kinds = BINARY[name]
    arrays = arrays_for(f"{name} {seed}", shapes.input_shapes, kinds)
    u, ws, vs = _upstream(f"{name} {seed}", fn, arrays)
    for ours, theirs in zip(double_backward(ts, fn, arrays, u, ws),
                            double_backward(torch, fn, arrays, u, ws)):
        _assert_all_close(ours, theirs, F64)
    _assert_all_close(forward_mode(ts, fwAD, fn, arrays, vs),
                      forward_mode(torch, torch_fwAD, fn, arrays, vs), F64)


# ---- what the table cannot say ------------------------------------------------------------------
STEPS = {
    "floor": lambda m, x: m.floor(x), "ceil": lambda m, x: x.ceil(),
    "trunc": lambda m, x: m.trunc(x), "round": lambda m, x: x.round(),
    "round-decimals": lambda m, x: m.round(x, decimals=1), "sign": lambda m, x: x.sign(),
    "div-floor": lambda m, x: m.div(x, 0.7, rounding_mode="floor"),
    "div-trunc": lambda m, x: x.div(0.7, rounding_mode="trunc"), "pow-0": lambda m, x: x ** 0,
}


@pytest.mark.parametrize("fn", STEPS.values(), ids=STEPS.keys())
def test_zero_derivatives_are_constants_as_in_torch(fn):
    """A step function's gradient is zeros outside any graph (torch's ``zeros_like(grad)``): it
    does not require grad, and its tangent is zeros."""
    x = np.array([0.3, -1.7, 2.25])
    for m, fw in ((ts, fwAD), (torch, torch_fwAD)):
        xt = m.tensor(x, dtype=m.float64, requires_grad=True)
        (g,) = m.autograd.grad(fn(m, xt).sum(), xt, create_graph=True)
        assert not g.requires_grad
        np.testing.assert_array_equal(g.detach().numpy(), np.zeros(3))
        _, tangent = forward_mode(m, fw, fn, [x], [np.ones(3)])
        np.testing.assert_array_equal(tangent, np.zeros(3))


def test_abs_gradient_stays_connected_as_in_torch():
    """``abs``'s gradient is ``g * sign(x)`` with ``sign`` an op (derivative 0), as torch's: its
    derivative is there to be taken, and is 0."""
    x = ts.tensor([0.5, -2.0], dtype=ts.float64, requires_grad=True)
    (g,) = ts.autograd.grad(x.abs().sum(), x, create_graph=True)
    assert g.requires_grad
    (h,) = ts.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(h.numpy(), [0.0, 0.0])


def test_zero_tangent_stays_zero_through_an_infinite_derivative():
    """An argument without a tangent adds nothing, even where its derivative is NaN (``log a``
    of a negative base) or inf: torch's zero tangents, not ``0 * nan``."""
    base, exponent = np.array([-1.5, 2.0]), np.array([2.0, 0.5])
    for fn in (lambda m, a: a ** m.tensor(exponent, dtype=m.float64),
               lambda m, a: a * m.tensor([np.inf, 1.0], dtype=m.float64) + a):
        ours = forward_mode(ts, fwAD, fn, [base], [np.ones(2)])
        theirs = forward_mode(torch, torch_fwAD, fn, [base], [np.ones(2)])
        _assert_all_close(ours, theirs, F64)
    ours = forward_mode(ts, fwAD, lambda m, b: m.tensor(base, dtype=m.float64) ** b, [exponent],
                        [np.ones(2)])[1]
    assert np.isnan(ours[0]) and np.isfinite(ours[1])  # (a real tangent: log(-1.5), as torch)


@pytest.mark.parametrize("fn, op", [
    (lambda m, a: m.floor_divide(a, m.tensor([2.0, 2.0], dtype=m.float64)), "floor_divide"),
    (lambda m, a: 3.0 % a, "remainder")])
def test_ops_without_a_derivative_refuse_forward_mode_as_torch(fn, op):
    x = np.array([1.5, -2.5])
    with pytest.raises(RuntimeError, match=op):
        forward_mode(torch, torch_fwAD, fn, [x], [np.ones(2)])
    with pytest.raises(RuntimeError, match=rf"^{op}: forward-mode AD .*not supported .*\(as in torch\); "):
        forward_mode(ts, fwAD, fn, [x], [np.ones(2)])


def test_softplus_input_changed_in_place_is_caught_as_in_torch():
    """softplus saves its input (its gradient's graph needs it, and torch saves it too): a change
    in place before backward is refused in both."""
    for m in (ts, torch):
        x = m.tensor([0.3, -1.7], dtype=m.float64, requires_grad=True)
        y = x * 1
        z = m.nn.functional.softplus(y)
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            z.sum().backward()
