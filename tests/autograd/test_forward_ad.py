"""Forward mode (autograd/forward_ad.py): the dual-tensor API as torch.autograd.forward_ad's, and
tangents that agree with torch and with reverse mode. The ops' own tangent rules are tested op by
op in test_higher_*.py."""
import numpy as np
import pytest

import tinyseq as ts
import tinyseq.autograd.forward_ad as fwAD
from tests.autograd.cube import Cube, ForwardCube
from tests.torch_compare import torch
from tinyseq.autograd.errors import ShapeError

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the reference")
X, V = [0.3, -1.2, 2.0], [1.0, 0.5, -2.0]


def f(x, W):
    return (W @ (x * x).tanh()).sigmoid() * 2 - (x.sum() * 0.5).exp()


def tensors(lib, *values):
    return [lib.tensor(np.asarray(v), dtype=lib.float64) for v in values]


@needs_torch
def test_tangent_matches_torch_forward_ad():
    W = np.random.default_rng(0).standard_normal((4, 3))
    out = {}
    for lib, ad in ((ts, fwAD), (torch, torch.autograd.forward_ad)):
        x, v, w = tensors(lib, X, V, W)
        with ad.dual_level():
            primal, tangent = ad.unpack_dual(f(ad.make_dual(x, v), w))
            out[lib] = primal.numpy().copy(), tangent.numpy().copy()
    for mine, theirs in zip(out[ts], out[torch]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_forward_and_reverse_mode_agree():
    """<J v, u> = <v, Jᵀ u>: one forward pass and one backward walk see the same Jacobian."""
    rng = np.random.default_rng(1)
    W, u = rng.standard_normal((4, 3)), rng.standard_normal(4)
    x, v, w, uu = tensors(ts, X, V, W, u)
    with fwAD.dual_level():
        jv = fwAD.unpack_dual(f(fwAD.make_dual(x, v), w)).tangent
    x.requires_grad_()
    (jtu,) = ts.autograd.grad(f(x, w), x, grad_outputs=uu)
    np.testing.assert_allclose((jv * uu).sum().item(), (jtu * v).sum().item(), rtol=1e-12)


def test_the_jacobian_column_by_column_equals_the_one_by_rows():
    W = np.random.default_rng(2).standard_normal((4, 3))
    x, w = tensors(ts, X, W)
    columns = []
    for j in range(3):
        with fwAD.dual_level():
            e = ts.zeros(3, dtype=ts.float64)
            e[j] = 1.0
            columns.append(fwAD.unpack_dual(f(fwAD.make_dual(x, e), w)).tangent.numpy())
    x.requires_grad_()
    y = f(x, w)
    rows = [ts.autograd.grad(y[i], x, retain_graph=True)[0].numpy() for i in range(4)]
    np.testing.assert_allclose(np.stack(columns, 1), np.stack(rows), rtol=1e-12)


def test_no_graph_is_needed_and_grad_mode_does_not_matter():
    x, v = tensors(ts, X, V)
    with ts.no_grad(), fwAD.dual_level():
        y = (fwAD.make_dual(x, v) * 3).exp()
        assert y.grad_fn is None
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(),
                                   3 * np.exp(3 * np.array(X)) * V)


def test_a_dual_tensor_can_also_be_differentiated_backwards():
    x, v = tensors(ts, X, V)
    x.requires_grad_()
    with fwAD.dual_level():
        y = (fwAD.make_dual(x, v) * fwAD.make_dual(x, v)).sum()
        assert fwAD.unpack_dual(y).tangent.item() == pytest.approx(2 * np.dot(X, V))
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array(X))


def test_tangents_go_with_their_level():
    x, v = tensors(ts, X, V)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, v)
        y = dual * 2
    assert fwAD.unpack_dual(y).tangent is None
    with fwAD.dual_level():
        assert fwAD.unpack_dual(dual).tangent is None
        assert fwAD.unpack_dual(x).primal is x


def test_unpack_dual_gives_a_primal_without_tangent_that_shares_the_values():
    x, v = tensors(ts, X, V)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, v)
        primal, tangent = fwAD.unpack_dual(dual)
        assert fwAD.unpack_dual(primal).tangent is None
        np.testing.assert_array_equal(primal.numpy(), X)
        np.testing.assert_array_equal(tangent.numpy(), V)
        x.data[0] = 7.0  # a view: it sees the change, as torch's
        assert primal[0].item() == 7.0 and dual[0].item() == 7.0


def test_an_argument_without_tangent_counts_as_constant():
    x, v, c = tensors(ts, X, V, [2.0, 3.0, 4.0])
    with fwAD.dual_level():
        y = fwAD.make_dual(x, v) * c + c + 1.5
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(), np.multiply(V, [2, 3, 4]))


@pytest.mark.parametrize("call, error, words", [
    (lambda: fwAD.make_dual(ts.ones(2), ts.ones(2)), RuntimeError, "no dual level is open"),
    (lambda: fwAD.exit_dual_level(), RuntimeError, "no dual level is open to exit"),
])
def test_outside_a_level(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_bad_duals_are_refused_in_one_line():
    with fwAD.dual_level():
        with pytest.raises(ShapeError, match=r"make_dual: the tangent has shape"):
            fwAD.make_dual(ts.ones(2), ts.ones(3))
        with pytest.raises(ValueError, match="floating-point tensors carry tangents, and the "
                                             "primal has dtype"):
            fwAD.make_dual(ts.tensor([1, 2]), ts.ones(2))
        with pytest.raises(ValueError, match="and the tangent has dtype"):
            fwAD.make_dual(ts.ones(2), ts.tensor([1, 2]))
        dual = fwAD.make_dual(ts.ones(2), ts.ones(2))
        with pytest.raises(RuntimeError, match="already carries a tangent at this level"):
            fwAD.make_dual(dual, ts.ones(2))
        with pytest.raises(RuntimeError, match="the tangent requires grad"):
            fwAD.make_dual(ts.ones(2), ts.ones(2, requires_grad=True))
        with pytest.raises(RuntimeError, match="make_dual: level 3 is not open"):
            fwAD.make_dual(ts.ones(2), ts.ones(2), level=3)
        with pytest.raises(TypeError, match="tangent must be a Tensor"):
            fwAD.make_dual(ts.ones(2), [1.0, 1.0])
        with pytest.raises(RuntimeError, match="nested forward-mode levels"):
            fwAD.enter_dual_level()
    fwAD.enter_dual_level()  # the failed nesting left the one level as it was
    fwAD.exit_dual_level()


def test_an_op_without_a_tangent_rule_is_named():
    x, v = tensors(ts, X, V)
    assert Cube.apply(x).shape == (3,)  # without tangents it runs as ever
    with fwAD.dual_level(), pytest.raises(RuntimeError, match=r"'cube' \(Cube\) has no tangent rule"):
        Cube.apply(fwAD.make_dual(x, v))


def test_a_custom_function_with_a_jvp():
    x, v = tensors(ts, X, V)
    with fwAD.dual_level():
        y = ForwardCube.apply(fwAD.make_dual(x, v))
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(),
                                   3 * np.array(X) ** 2 * V)


@needs_torch
def test_forward_over_reverse_gives_hessian_columns_as_torch():
    """A gradient built with create_graph inside a dual level carries the tangent H v: the
    gradient's ops see the tangents of the tensors the forward saved."""
    got = {}
    for lib, ad in ((ts, fwAD), (torch, torch.autograd.forward_ad)):
        x, v, w = tensors(lib, X, V, np.arange(12.0).reshape(4, 3) / 10)
        x.requires_grad_()
        with ad.dual_level():
            xd = ad.make_dual(x, v)
            (g,) = lib.autograd.grad(f(xd, w).sum(), xd, create_graph=True)
            got[lib] = ad.unpack_dual(g).tangent.detach().numpy().copy()
    np.testing.assert_allclose(got[ts], got[torch], rtol=1e-10)


@needs_torch
def test_a_tangent_refuses_reverse_mode_instead_of_a_silently_partial_gradient():
    """torch differentiates a tangent (reverse over forward); tinyseq's tangent rules compute
    values, so a backward walk through a tangent refuses in one line, naming what works instead;
    the primal's own gradient is as torch's."""
    x, v = tensors(ts, [1.0, 2.0], [1.0, -1.0])
    x.requires_grad_()
    with fwAD.dual_level():
        primal, jv = fwAD.unpack_dual((fwAD.make_dual(x, v).exp() * x).sum())
    assert jv.requires_grad  # (as torch's)
    with pytest.raises(RuntimeError, match="cannot be differentiated in reverse mode.*forward "
                                           "over reverse"):
        (primal + jv ** 2).backward()
    primal.backward()
    xt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (xt.exp() * xt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    with fwAD.dual_level():  # without a graph, the tangent is a plain value
        assert not fwAD.unpack_dual(fwAD.make_dual(x.detach(), v) * 2).tangent.requires_grad
