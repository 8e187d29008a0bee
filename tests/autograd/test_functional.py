"""``ts.autograd.functional`` (vjp, jvp, jacobian, hessian, vhp, hvp) against
``torch.autograd.functional`` on the same functions and points: values, shapes, the structure of
the result (Tensor, tuple or, for torch's forward-mode Jacobian, list), ``requires_grad``; the
errors of strict mode and of the strategies; and the identities between them (a Hessian is
symmetric, hvp = vhp, the Jacobian by rows = by columns)."""
import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import torch
from tinyseq.autograd import functional as AF

TF = torch.autograd.functional

# Third derivatives pass through the ops a gradient's graph is made of (a view of each input,
# the reshapes and expands of sum and broadcasting); those ops get graph_backward on another
# branch (shape ops). Until they have it, the tests that need them are skipped, saying so.
def libs(fn):
    """``fn(L, *xs)`` written once for both libraries: ``L`` is ``ts`` or ``torch``."""
    return {"ts": lambda *xs: fn(ts, *xs), "torch": lambda *xs: fn(torch, *xs)}


# name -> (function of (L, *inputs), input shapes, True if inputs is a tuple)
MANY_OUT = {
    "tanh_square": (lambda L, x: (x * x).tanh(), [(3,)], False),
    "two_outputs": (lambda L, x, y: ((x * y).exp(), (x - y).sum()), [(3,), (2, 3)], True),
    "linear": (lambda L, x, w, b: L.nn.functional.linear(x, w, b).sigmoid(),
               [(2, 3), (4, 3), (4,)], True),
    "matmul": (lambda L, a, b: (a @ b).tanh() * b.mean(),
               [(2, 3), (3, 2)], True),
}
# functions with one output of one element (for hessian, vhp, hvp)
ONE_OUT = {
    "cubic_mean": (lambda L, x: (x * x * x).tanh().mean(), [(3,)], False),
    "0d": (lambda L, x: (x * x).sigmoid() * x, [()], False),
    "product_mean": (lambda L, x, y: (x * y).exp().mean() - (y / (1 + x * x)).mean(),
                     [(3,), (3,)], True),
}
ONE_OUT_BROADCAST = {
    "broadcast": (lambda L, x, y: (x * y).exp().mean(), [(3,), (2, 3)], True),
    "sum": (lambda L, x: (x * x * x).tanh().sum(), [(3,)], False),
}


def points(shapes, is_tuple, seed=0):
    """The same float64 point for both libraries: ``(ts inputs, torch inputs)``."""
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(0.2, 1.2, s) for s in shapes]
    mine = tuple(ts.tensor(a, dtype=ts.float64) for a in arrays)
    theirs = tuple(torch.tensor(a, dtype=torch.float64) for a in arrays)
    return (mine, theirs) if is_tuple else (mine[0], theirs[0])


def like(tensors, seed=1):
    """A random ``v`` shaped as ``tensors`` (a tuple or one Tensor), for both libraries."""
    rng = np.random.default_rng(seed)
    many = isinstance(tensors, tuple)
    arrays = [rng.standard_normal(tuple(t.shape)) for t in (tensors if many else (tensors,))]
    mine = tuple(ts.tensor(a, dtype=ts.float64) for a in arrays)
    theirs = tuple(torch.tensor(a, dtype=torch.float64) for a in arrays)
    return (mine, theirs) if many else (mine[0], theirs[0])


def same(ours, theirs, where="result", graphs=True):
    """Same structure (Tensor, tuple or list, nested), shapes, values and (if ``graphs``)
    ``requires_grad``."""
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), \
            f"{where}: {type(ours).__name__} vs torch's {type(theirs).__name__} of {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            same(a, b, f"{where}[{i}]", graphs)
        return
    assert isinstance(ours, ts.Tensor), f"{where}: {type(ours).__name__}, torch has a Tensor"
    assert ours.shape == tuple(theirs.shape), where
    assert not graphs or ours.requires_grad == theirs.requires_grad, where
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-9, atol=1e-12,
                               err_msg=where)


def run_both(name, table, call, graphs=True):
    """``call(F, fn, inputs, v-maker)`` on tinyseq and on torch, compared."""
    fn, shapes, is_tuple = table[name]
    fns = libs(fn)
    mine, theirs = points(shapes, is_tuple)
    same(call(AF, fns["ts"], mine, 0), call(TF, fns["torch"], theirs, 1), graphs=graphs)


def pick(pair, which):
    return pair[which]


@pytest.mark.parametrize("name", MANY_OUT)
def test_vjp(name):
    def call(F, fn, x, which):
        out = fn(*x) if isinstance(x, tuple) else fn(x)
        return F.vjp(fn, x, pick(like(out), which))
    run_both(name, MANY_OUT, call)


@pytest.mark.parametrize("name", MANY_OUT)
def test_jvp(name):
    run_both(name, MANY_OUT, lambda F, fn, x, which: F.jvp(fn, x, pick(like(x), which)))


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
@pytest.mark.parametrize("name", MANY_OUT)
def test_jacobian(name, strategy):
    run_both(name, MANY_OUT, lambda F, fn, x, _: F.jacobian(fn, x, vectorize=True,
                                                            strategy=strategy))


@pytest.mark.parametrize("name", ONE_OUT)
def test_hessian(name):
    run_both(name, ONE_OUT, lambda F, fn, x, _: F.hessian(fn, x))


@pytest.mark.parametrize("name", ONE_OUT)
@pytest.mark.parametrize("product", ["vhp", "hvp"])
def test_hessian_vector_products(name, product):
    run_both(name, ONE_OUT, lambda F, fn, x, which: getattr(F, product)(fn, x,
                                                                         pick(like(x), which)))


# torch's forward-mode Hessian (vmap over forward-over-reverse) hands back tensors that require
# grad even without create_graph; tinyseq's do not, as every other result without create_graph:
# those two tests compare values only.
@pytest.mark.parametrize("name", ONE_OUT_BROADCAST)
def test_third_order_through_views_sums_and_broadcasting(name):
    """hvp and the forward-mode Hessian differentiate a gradient's graph once more."""
    run_both(name, ONE_OUT_BROADCAST, lambda F, fn, x, which: (
        F.hvp(fn, x, pick(like(x), which)),
        F.hessian(fn, x, vectorize=True, outer_jacobian_strategy="forward-mode")), graphs=False)


@pytest.mark.parametrize("name", ONE_OUT)
def test_forward_mode_hessian_matches_torch(name):
    """Its columns are jvps of the gradient by the double backward trick: third derivatives."""
    run_both(name, ONE_OUT, lambda F, fn, x, _: F.hessian(
        fn, x, vectorize=True, outer_jacobian_strategy="forward-mode"), graphs=False)


def test_reverse_mode_vectorize_is_accepted_with_the_same_results():
    fn, shapes, _ = MANY_OUT["two_outputs"]
    x, _ = points(shapes, True)
    same(AF.jacobian(libs(fn)["ts"], x, vectorize=True), AF.jacobian(libs(fn)["ts"], x))


# ---- create_graph -------------------------------------------------------------------------------

@pytest.mark.parametrize("product", ["vjp", "jvp", "vhp", "hvp"])
def test_create_graph_results_are_graphs(product):
    """With inputs that need no gradient the results still require grad (a graph of their own),
    as torch's; without create_graph they never do."""
    table = MANY_OUT if product in ("vjp", "jvp") else ONE_OUT
    fn = libs(table["tanh_square" if product in ("vjp", "jvp") else "cubic_mean"][0])
    mine, theirs = points([(3,)], False)
    v = like(mine)
    for create_graph in (True, False):
        same(getattr(AF, product)(fn["ts"], mine, v[0], create_graph=create_graph),
             getattr(TF, product)(fn["torch"], theirs, v[1], create_graph=create_graph))


@pytest.mark.parametrize("product", ["vjp", "jvp", "vhp", "hvp", "jacobian", "hessian"])
def test_create_graph_leads_back_to_the_inputs(product):
    """With create_graph=True and inputs that require grad, the result is differentiable with
    respect to them: its gradient matches torch's."""
    fn = libs(ONE_OUT["product_mean"][0])
    mine, theirs = points([(3,), (3,)], True)
    mine = tuple(t.requires_grad_() for t in mine)
    theirs = tuple(t.requires_grad_() for t in theirs)
    v = like(mine)
    if product == "vjp":  # v is shaped as the output (one element)
        v = (ts.tensor(0.7, dtype=ts.float64), torch.tensor(0.7, dtype=torch.float64))
    extra = () if product in ("jacobian", "hessian") else (v,)

    def result(F, fn, x, which):
        out = getattr(F, product)(fn, x, *(pick(e, which) for e in extra), create_graph=True)
        flat = out if product in ("jacobian", "hessian") else out[1]
        flat = [flat] if not isinstance(flat, (tuple, list)) else list(flat)
        while isinstance(flat[0], (tuple, list)):
            flat = [t for row in flat for t in row]
        total = sum((t * t).sum() for t in flat)
        return (ts if F is AF else torch).autograd.grad(total, x)
    same(result(AF, fn["ts"], mine, 0), result(TF, fn["torch"], theirs, 1))


# ---- strict mode and the errors -----------------------------------------------------------------

def uses_only_x(L, x, y):
    return (x * x).exp(), (x * 2).sum()


def errors_alike(call, match):
    """The same exception type from tinyseq and torch, tinyseq's message matching ``match``."""
    with pytest.raises(Exception) as theirs:
        call(TF, libs(uses_only_x)["torch"], torch)
    with pytest.raises(type(theirs.value), match=match):
        call(AF, libs(uses_only_x)["ts"], ts)


def two(L):
    return L.ones(3, dtype=L.float64), L.ones(3, dtype=L.float64)


@pytest.mark.parametrize("call, match", [
    (lambda F, fn, L: F.vjp(fn, two(L), (L.ones(3, dtype=L.float64),
                                         L.tensor(1.0, dtype=L.float64)), strict=True),
     "vjp: the output of the user-provided function is independent of input 1"),
    (lambda F, fn, L: F.jvp(fn, two(L), two(L), strict=True),
     "jvp: the output of the user-provided function is independent of input 1"),
    (lambda F, fn, L: F.jacobian(fn, two(L), strict=True),
     "jacobian: output 0 of the user-provided function is independent of input 1"),
    (lambda F, fn, L: F.hessian(lambda x, y: (x * x).sum(), two(L), strict=True),
     "jacobian of the user-provided function with respect to input 1 is independent"),
    (lambda F, fn, L: F.hessian(lambda x: (x * 3).sum(), two(L)[0], strict=True),
     "jacobian of the user-provided function with respect to input 0 is independent"),
    (lambda F, fn, L: F.vhp(lambda x, y: (x * x).sum(), two(L), two(L), strict=True),
     "vhp: the output of the user-provided function is independent of input 1"),
    (lambda F, fn, L: F.hvp(lambda x: (x * 3).sum(), two(L)[0], two(L)[0], strict=True),
     "hvp: while computing the hessian, found that the jacobian"),
    (lambda F, fn, L: F.vjp(lambda x: L.ones(3, dtype=L.float64), two(L)[0], two(L)[0],
                            strict=True),
     "output 0 of the user-provided function does not require gradients"),
    (lambda F, fn, L: F.jacobian(fn, two(L), vectorize=True, strategy="forward-mode",
                                 strict=True), "strict=True and strategy=\"forward-mode\""),
    (lambda F, fn, L: F.jacobian(fn, two(L), strategy="forward-mode"), "vectorize=True"),
    (lambda F, fn, L: F.jacobian(fn, two(L), strategy="forward-mode", create_graph=True),
     "create_graph=True and strategy=\"forward-mode\""),
    (lambda F, fn, L: F.jacobian(fn, two(L), vectorize=True, strict=True),
     "strict=True and vectorize=True"),
    (lambda F, fn, L: F.jacobian(fn, two(L), strategy="sideways"), "sideways"),
    (lambda F, fn, L: F.hessian(fn, two(L), outer_jacobian_strategy="up"), "up"),
    (lambda F, fn, L: F.hessian(lambda x: x * x, two(L)[0]), "should contain a single element"),
    (lambda F, fn, L: F.hessian(lambda x: (x.sum(), x.sum()), two(L)[0]),
     "should return a single Tensor"),
    (lambda F, fn, L: F.vjp(fn, [L.ones(2)]), "inputs must be either a Tensor or a tuple"),
    (lambda F, fn, L: F.jvp(fn, two(L), (L.ones(3),)), "v is a tuple of invalid length"),
    (lambda F, fn, L: F.jvp(fn, two(L), (L.ones(3), L.ones(4))), "entry 1 in v has invalid size"),
    (lambda F, fn, L: F.vjp(fn, two(L)), "the vector v can only be None"),
])
def test_errors_as_torch(call, match):
    errors_alike(call, match)


@pytest.mark.parametrize("product", ["vjp", "jvp", "jacobian"])
def test_outside_strict_an_unused_input_gets_zeros(product):
    x, y = ts.ones(3, dtype=ts.float64), ts.ones(3, dtype=ts.float64)
    v = {"vjp": ((ts.ones(3, dtype=ts.float64), ts.tensor(1.0, dtype=ts.float64)),),
         "jvp": ((x, y),), "jacobian": ()}[product]
    out = getattr(AF, product)(libs(uses_only_x)["ts"], (x, y), *v)
    if product == "vjp":
        assert np.all(out[1][1].numpy() == 0) and out[1][1].shape == (3,)
    elif product == "jacobian":
        assert np.all(out[0][1].numpy() == 0) and out[0][1].shape == (3, 3)
        assert np.all(out[1][1].numpy() == 0) and out[1][1].shape == (3,)
    else:  # J v with v = (x, y): only x's part, 2 x exp(x²) and 2
        np.testing.assert_allclose(out[1][0].numpy(), 2 * np.e * np.ones(3))
        assert out[1][1].item() == 6.0


# ---- identities ---------------------------------------------------------------------------------

def test_a_hessian_is_symmetric_and_hvp_equals_vhp():
    fn = libs(ONE_OUT["product_mean"][0])["ts"]
    x, _ = points([(3,), (3,)], True)
    h = AF.hessian(fn, x)
    full = np.block([[h[i][j].numpy() for j in range(2)] for i in range(2)])
    assert full.shape == (6, 6) and np.abs(full).max() > 0.1
    np.testing.assert_allclose(full, full.T, atol=1e-12)
    v, _ = like(x)
    hv, vh = AF.hvp(fn, x, v)[1], AF.vhp(fn, x, v)[1]
    for a, b in zip(hv, vh):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)
    flat_v = np.concatenate([t.numpy() for t in v])
    np.testing.assert_allclose(np.concatenate([t.numpy() for t in hv]), full @ flat_v,
                               atol=1e-12)


@pytest.mark.parametrize("name", MANY_OUT)
def test_jacobian_by_rows_equals_by_columns(name):
    fn, shapes, is_tuple = MANY_OUT[name]
    x, _ = points(shapes, is_tuple)
    rows = AF.jacobian(libs(fn)["ts"], x)
    columns = AF.jacobian(libs(fn)["ts"], x, vectorize=True, strategy="forward-mode")
    flat = [rows] if isinstance(rows, ts.Tensor) else list(rows)
    flat_c = [columns] if isinstance(columns, ts.Tensor) else list(columns)
    while isinstance(flat[0], (tuple, list)):
        flat = [t for row in flat for t in row]
        flat_c = [t for row in flat_c for t in row]
    for a, b in zip(flat, flat_c, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)


def test_results_do_not_touch_the_callers_tensors():
    x = ts.tensor([0.5, 1.5], dtype=ts.float64, requires_grad=True)
    out, g = AF.vjp(lambda t: (t * t).sum(), x)
    assert x.grad is None and not g.requires_grad and not out.requires_grad
    np.testing.assert_allclose(g.numpy(), [1.0, 3.0])
