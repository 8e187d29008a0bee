"""Gradients that are graphs (``create_graph=True``, autograd/higher.py): the engine's behaviour
against PyTorch's. The ops' own second derivatives are tested op by op in test_higher_*.py."""
import numpy as np
import pytest

import tinyseq as ts
from tests.autograd.cube import Cube, TwiceCube
from tests.torch_compare import torch

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the reference")
X = [0.3, -1.2, 2.0]


def both(values=X):
    """The same float64 leaf in tinyseq and in torch."""
    return (ts.tensor(values, dtype=ts.float64, requires_grad=True),
            torch.tensor(values, dtype=torch.float64, requires_grad=True))


def expression(lib, x):
    return ((x * x * x).tanh() + (x * 0.5).exp() / (x * x + 1) - (x + 3).log()).sigmoid()


def close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_derivatives_of_any_order_match_torch(order):
    x, xt = both()
    g, gt = expression(ts, x).sum(), expression(torch, xt).sum()
    for k in range(order):
        last = k == order - 1
        (g,) = ts.autograd.grad(g, x, create_graph=not last)
        (gt,) = torch.autograd.grad(gt, xt, create_graph=not last)
        close(g, gt)
        g, gt = g.sum(), gt.sum()


@needs_torch
def test_backward_with_create_graph_leaves_a_grad_that_is_a_graph_and_accumulates_as_torch():
    x, xt = both()
    expression(ts, x).sum().backward(create_graph=True)
    expression(torch, xt).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    close(x.grad, xt.grad)
    x.grad.sum().backward()  # adds the second derivative into the same .grad, as torch
    xt.grad.sum().backward()
    close(x.grad, xt.grad)


@needs_torch
def test_mixed_second_derivatives_through_broadcasting():
    a, at = both([[0.5], [-1.0], [2.0]])
    b, bt = both([[1.5, -0.5, 0.25, 2.0]])
    for lib, p, q, out in ((ts, a, b, []), (torch, at, bt, [])):
        (ga,) = lib.autograd.grad(((p * q).tanh() * q).sum(), p, create_graph=True)
        out += lib.autograd.grad((ga * ga).sum(), (p, q))
        if lib is ts:
            mine = out
        else:
            theirs = out
    for m, t in zip(mine, theirs):
        close(m, t)


def test_retain_graph_defaults_to_create_graph():
    x = ts.tensor(X, dtype=ts.float64, requires_grad=True)
    y = (x * x).tanh().sum()
    (g,) = ts.autograd.grad(y, x, create_graph=True)  # keeps the graph ...
    (again,) = ts.autograd.grad(y, x)  # ... so a second walk works, and frees it
    np.testing.assert_allclose(g.detach().numpy(), again.numpy())
    with pytest.raises(RuntimeError, match="second time"):
        ts.autograd.grad(y, x)
    y = (x * x).sum()
    ts.autograd.grad(y, x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="second time"):
        ts.autograd.grad(y, x)


def test_an_op_without_graph_backward_is_named():
    x = ts.tensor(X, dtype=ts.float64, requires_grad=True)
    y = Cube.apply(x).sum()
    (g,) = ts.autograd.grad(y, x, retain_graph=True)  # first order works as ever
    np.testing.assert_allclose(g.numpy(), 3 * np.array(X) ** 2)
    with pytest.raises(RuntimeError, match=r"gradient of 'cube' \(Cube\) cannot be differentiated"):
        ts.autograd.grad(y, x, create_graph=True)


def test_a_custom_function_with_graph_backward_gives_second_derivatives():
    x = ts.tensor(X, dtype=ts.float64, requires_grad=True)
    (g,) = ts.autograd.grad(TwiceCube.apply(x).sum(), x, create_graph=True)
    (h,) = ts.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * np.array(X))


@needs_torch
def test_grad_outputs_that_require_grad_give_the_double_backward_trick():
    """J v without forward mode: u ↦ Jᵀu is linear in u, so its vjp with v is J v."""
    rng = np.random.default_rng(0)
    v = rng.standard_normal(3)
    x, xt = both()
    u = ts.zeros(3, dtype=ts.float64, requires_grad=True)
    ut = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    (g,) = ts.autograd.grad(expression(ts, x), x, grad_outputs=u, create_graph=True)
    (gt,) = torch.autograd.grad(expression(torch, xt), xt, grad_outputs=ut, create_graph=True)
    (jv,) = ts.autograd.grad(g, u, grad_outputs=ts.tensor(v, dtype=ts.float64))
    (jvt,) = torch.autograd.grad(gt, ut, grad_outputs=torch.tensor(v))
    close(jv, jvt)


@needs_torch
def test_a_hook_sees_the_gradient_tensor_and_its_change_is_differentiated():
    x, xt = both()
    for lib, leaf in ((ts, x), (torch, xt)):
        mid = leaf * leaf
        mid.register_hook(lambda g, mid=mid: g * mid)  # the hook's result is in the graph
        (g,) = lib.autograd.grad(mid.tanh().sum(), leaf, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), leaf)
        if lib is ts:
            mine = (g, h)
        else:
            theirs = (g, h)
    close(mine[0], theirs[0])
    close(mine[1], theirs[1])


def test_retain_grad_keeps_a_gradient_that_is_a_graph():
    x = ts.tensor(X, dtype=ts.float64, requires_grad=True)
    mid = x * x
    mid.retain_grad()
    mid.tanh().sum().backward(create_graph=True)
    assert mid.grad.grad_fn is not None
    np.testing.assert_allclose(mid.grad.detach().numpy(), 1 - np.tanh(np.array(X) ** 2) ** 2)


def test_the_gradients_ops_are_drawn_in_a_backward_pass_box():
    x = ts.tensor(X, dtype=ts.float64, requires_grad=True)
    (g,) = ts.autograd.grad((x * x).tanh().sum(), x, create_graph=True)
    assert list(g.grad_fn.scope) == ["backward pass"]
    dot = ts.viz.draw_graph(g.sum()).source
    assert "backward pass" in dot
    forward_ops = ts.viz.draw_graph((x * x).tanh().sum()).source
    assert "backward pass" not in forward_ops


def test_first_order_backward_is_unchanged_arrays_and_freed():
    x = ts.tensor(X, dtype=ts.float64, requires_grad=True)
    y = x * x
    node = y.grad_fn
    y.sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad
    assert node.ctx is None  # what forward saved went with the walk


def test_create_graph_under_no_grad_still_builds_the_gradient_graph():
    x = ts.tensor(X, dtype=ts.float64, requires_grad=True)
    y = (x * x * x).sum()
    with ts.no_grad():
        (g,) = ts.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad  # as torch: the engine records the gradient's ops with grad mode on
    (h,) = ts.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * np.array(X))


def test_a_gradient_that_does_not_depend_on_the_input_is_a_constant():
    """As in torch: d(2x)/dx = 2 needs no graph, so differentiating it again is an error."""
    x = ts.tensor(X, dtype=ts.float64, requires_grad=True)
    (g,) = ts.autograd.grad((x * 2).sum(), x, create_graph=True)
    assert not g.requires_grad
    np.testing.assert_array_equal(g.numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        ts.autograd.grad(g.sum(), x)


@needs_torch
@pytest.mark.parametrize("create_graph", [False, True])
def test_autograd_backward_takes_torchs_arguments(create_graph):
    """``ts.autograd.backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
    inputs=None)``: one tensor or a list, implied or given gradients, only ``inputs`` filled."""
    for lib in (ts, torch):
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(X[::-1], dtype=lib.float64, requires_grad=True)
        lib.autograd.backward((x * y * x).sum(), create_graph=create_graph)
        lib.autograd.backward([x * y], [lib.ones(3, dtype=lib.float64) * 2], inputs=[y],
                              create_graph=create_graph)
        if lib is ts:
            mine = x.grad, y.grad
        else:
            theirs = x.grad, y.grad
    for m, t in zip(mine, theirs):
        close(m, t)
    x = ts.tensor(X, requires_grad=True)
    with pytest.raises(ValueError, match="backward: 1 tensors but 2 grad_tensors"):
        ts.autograd.backward([x * 2], [ts.ones(3), ts.ones(3)])
    with pytest.raises(TypeError, match=r"backward: inputs must be Tensors, and inputs\[0\] is a list"):
        ts.autograd.backward((x * 2).sum(), inputs=[[1.0]])
    with pytest.raises(TypeError, match=r"tensors\[0\] is a torch.Tensor"):
        ts.autograd.backward(torch.ones(1))
    with pytest.raises(RuntimeError, match="backward: inputs is empty"):
        (x * 2).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match=r"backward: inputs\[0\] does not require grad"):
        (x * 2).sum().backward(inputs=[ts.ones(3)])


@needs_torch
def test_second_derivatives_through_a_checkpoint_match_torch():
    """The non-reentrant checkpoint reruns its function when the gradient's graph is built; the
    reentrant one refuses, naming itself (torch refuses it too)."""
    from tinyseq.utils.checkpoint import checkpoint

    x, xt = both()
    (g,) = ts.autograd.grad(checkpoint(lambda x: expression(ts, x), x, use_reentrant=False).sum(),
                            x, create_graph=True)
    (gt,) = torch.autograd.grad(torch.utils.checkpoint.checkpoint(
        lambda x: expression(torch, x), xt, use_reentrant=False).sum(), xt, create_graph=True)
    close(g, gt)
    close(ts.autograd.grad(g.sum(), x)[0], torch.autograd.grad(gt.sum(), xt)[0])
    y = checkpoint(lambda x: (x * x).tanh(), x, use_reentrant=True).sum()
    with pytest.raises(RuntimeError, match="'checkpoint'"):
        ts.autograd.grad(y, x, create_graph=True)


@needs_torch
def test_tensor_backward_fills_only_its_inputs():
    for lib in (ts, torch):
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(X[::-1], dtype=lib.float64, requires_grad=True)
        (x * y).sum().backward(inputs=[y])
        assert x.grad is None
        np.testing.assert_array_equal(y.grad.numpy(), X)


@needs_torch
@pytest.mark.parametrize("f", [lambda x: x.exp(), lambda x: x.tanh(), lambda x: x.sqrt(),
                               lambda x: x ** x, lambda x: x.log() * x.exp(),
                               lambda x: ts.nn.functional.softplus(x) if isinstance(x, ts.Tensor)
                               else torch.nn.functional.softplus(x)],
                         ids=["exp", "tanh", "sqrt", "pow", "log-exp", "softplus"])
def test_second_derivatives_of_0d_tensors(f):
    """numpy gives a scalar, not a 0-d array, for a ufunc of 0-d arrays: an op that saves its
    result saved that scalar, which is still found to be its output (views.versions_of); one it
    computed (softplus's) comes back as a constant tensor (higher.py)."""
    x, xt = both(0.5)
    (g,) = ts.autograd.grad(f(x), x, create_graph=True)
    (gt,) = torch.autograd.grad(f(xt), xt, create_graph=True)
    close(ts.autograd.grad(g, x)[0], torch.autograd.grad(gt, xt)[0])


@pytest.mark.parametrize("call, words", [
    (lambda x: ts.autograd.grad((x * x).sum(), x, create_graph="yes"), "grad: create_graph"),
    (lambda x: ts.autograd.grad((x * x).sum(), x, retain_graph="no"), "grad: retain_graph"),
    (lambda x: ts.autograd.grad((x * x).sum(), x, allow_unused="x"), "grad: allow_unused"),
    (lambda x: (x * x).sum().backward(create_graph="False"), "backward: create_graph"),
    (lambda x: (x * x).sum().backward(retain_graph=[]), "backward: retain_graph"),
])
def test_flags_that_are_not_bools_are_refused_in_one_line(call, words):
    """As torch (which takes 0 and 1 too, and refuses a string): a truthy "False" is no True."""
    x = ts.tensor(X, requires_grad=True)
    with pytest.raises(TypeError, match=f"{words} must be True or False"):
        call(x)
    (g,) = ts.autograd.grad((x * x).sum(), x, create_graph=1)  # an int, as torch takes it
    assert g.requires_grad


@needs_torch
@pytest.mark.parametrize("write", ["setitem", "scatter", "through a view"])
def test_written_positions_get_no_inf_from_above_under_create_graph(write):
    """A select, as torch's: the positions a write replaced get 0, not 0 * inf = NaN."""
    got = {}
    for lib in (ts, torch):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        if write == "scatter":
            y = x.scatter(0, lib.tensor([1]), lib.tensor([7.0], dtype=lib.float64))
        else:
            y = x * 1
            (y[1:2] if write == "through a view" else y)[0 if write == "through a view" else 1] = 7.0
        weights = lib.tensor([np.inf, np.inf, 1.0], dtype=lib.float64)
        (g,) = lib.autograd.grad((y * weights).sum(), x, create_graph=True)
        got[lib] = g.detach().numpy()
    np.testing.assert_array_equal(got[ts], got[torch])  # [inf, 0, 1]


@needs_torch
def test_a_relu_alone_has_a_zero_second_derivative_as_torch():
    """Relu's gradient is an op of the input too (torch's threshold_backward): differentiating
    it again gives zeros, not 'does not require grad'; with other paths, third order as torch."""
    got = {}
    for lib in (ts, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(x.relu().sum(), x, create_graph=True)
        assert g.requires_grad
        (h,) = lib.autograd.grad(g.sum(), x)
        (g3,) = lib.autograd.grad((x.relu() * x * x).sum(), x, create_graph=True)
        (h3,) = lib.autograd.grad(g3.sum(), x, create_graph=True)
        (k3,) = lib.autograd.grad(h3.sum(), x)
        got[lib] = [t.detach().numpy() for t in (h, h3, k3)]
    for mine, theirs in zip(got[ts], got[torch]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    np.testing.assert_array_equal(got[ts][0], [0.0, 0.0, 0.0])


def test_a_grad_output_of_another_dtype_keeps_its_graph():
    """A float64 grad_outputs for a float32 output is cast as an op, so the double-backward trick
    still differentiates through it (it was copied into a constant: 'not used')."""
    x = ts.tensor([0.3, -1.2], requires_grad=True)
    u = ts.zeros(2, dtype=ts.float64, requires_grad=True)
    (g,) = ts.autograd.grad((x * x).tanh(), x, grad_outputs=u, create_graph=True)
    (jv,) = ts.autograd.grad(g, u, grad_outputs=ts.ones(2, dtype=ts.float32))
    xs = np.array([0.3, -1.2])
    np.testing.assert_allclose(jv.numpy(), 2 * xs * (1 - np.tanh(xs ** 2) ** 2), rtol=1e-6)
