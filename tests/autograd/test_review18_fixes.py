"""The review of issue 18 (higher-order and forward-mode autodiff): each defect it found, checked
against PyTorch 2.13 (or by its one-line error), failing before its fix.

1. a loss whose every target is ignored: NaN, with a zero gradient (not NaN) in every order and
   torch's tangent;
2. ``embedding(max_norm=...)`` in forward mode keeps the renormalised rows' tangents;
3. ``embedding(padding_idx=p)`` is a lookup whose gradient skips row p: the tangent at padding
   positions is row p's, the gradient's graph (create_graph) is torch's;
4. ``ts.autograd.functional`` on empty inputs and outputs and on integer outputs of ``jvp``;
5. ``gradcheck`` and ``gradgradcheck`` take torch's keywords, and ``grad_outputs`` is checked as
   torch checks it, in one line naming gradgradcheck.
"""
import importlib

import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import torch

RNG = np.random.default_rng(0)
TORCH_GRADCHECK_ERROR = importlib.import_module("torch.autograd.gradcheck").GradcheckError


def both(array, requires_grad=False):
    """The same float64 array as a tinyseq and a torch tensor."""
    return (ts.tensor(array, dtype=ts.float64, requires_grad=requires_grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad))


def close(mine, theirs):
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-10,
                               atol=1e-12, equal_nan=True)


# ---- 1. every target ignored ---------------------------------------------------------------------

WEIGHT = RNG.uniform(0.5, 2.0, 4)
# name -> (loss of (L, input, target), input shape, target array)
IGNORED = {
    "cross_entropy": (lambda L, x, t: L.nn.functional.cross_entropy(x, t), (3, 4),
                      np.full(3, -100)),
    "nll_loss": (lambda L, x, t: L.nn.functional.nll_loss(x.log_softmax(1), t), (3, 4),
                 np.full(3, -100)),
    "weights": (lambda L, x, t: L.nn.functional.cross_entropy(
        x, t, weight=L.tensor(WEIGHT, dtype=L.float64)), (3, 4), np.full(3, -100)),
    "label_smoothing": (lambda L, x, t: L.nn.functional.cross_entropy(
        x, t, label_smoothing=0.2), (3, 4), np.full(3, -100)),
    "weights_smoothing": (lambda L, x, t: L.nn.functional.cross_entropy(
        x, t, weight=L.tensor(WEIGHT, dtype=L.float64), label_smoothing=0.3), (3, 4),
        np.full(3, -100)),
    "1d": (lambda L, x, t: L.nn.functional.cross_entropy(x, t), (4,), np.array(-100)),
    "nd_ignore_index": (lambda L, x, t: L.nn.functional.cross_entropy(x, t, ignore_index=2),
                        (2, 4, 3), np.full((2, 3), 2)),
    "empty_batch": (lambda L, x, t: L.nn.functional.cross_entropy(x, t), (0, 4),
                    np.zeros(0, np.int64)),
    "empty_probabilities": (lambda L, x, t: L.nn.functional.cross_entropy(
        x, L.zeros(0, 4, dtype=L.float64)), (0, 4), np.zeros(0, np.int64)),
    # some targets ignored, the others weighing 0: torch's NaN reaches only the counted ones
    "zero_weights": (lambda L, x, t: L.nn.functional.cross_entropy(
        x, t, weight=L.tensor([0.0, 1, 1, 1], dtype=L.float64)), (3, 4), np.array([0, -100, 0])),
}


@pytest.mark.parametrize("name", IGNORED)
def test_every_target_ignored_gradients_as_torch(name):
    """The loss is NaN in both; the gradient, its derivative (create_graph) and the tangent are
    torch's: zeros back (NaN where a target counts with weight 0), NaN forward."""
    loss, shape, target = IGNORED[name]
    x = RNG.normal(size=shape)
    results = []
    for L, X in zip((ts, torch), both(x, requires_grad=True)):
        t = L.tensor(target)
        value = loss(L, X, t)
        (g,) = L.autograd.grad(value, X, create_graph=True)
        (h,) = L.autograd.grad((g * L.tensor(np.cos(x), dtype=L.float64)).sum(), X,
                               allow_unused=True) if g.requires_grad else (None,)
        h = L.zeros_like(X) if h is None else h
        fw = L.autograd.forward_ad
        with fw.dual_level():
            dual = fw.make_dual(X.detach(), L.tensor(np.sin(x + 1), dtype=L.float64))
            primal, tangent = fw.unpack_dual(loss(L, dual, t))
            tangent = L.zeros_like(primal) if tangent is None else tangent
        results.append((value, g, h, primal, tangent))
    assert np.isnan(results[0][0].item())
    for mine, theirs in zip(*results):
        close(mine, theirs)


def test_a_nan_gradient_of_the_loss_does_not_reach_ignored_targets_as_torch():
    """The ignored targets' gradient is 0, not 0 · NaN, whatever arrives from above."""
    grads = []
    for L, X in zip((ts, torch), both(RNG.normal(size=(3, 4)), requires_grad=True)):
        loss = L.nn.functional.cross_entropy(X, L.tensor([-100, -100, -100]))
        (loss * float("nan")).backward()
        grads.append(X.grad)
    close(*grads)
    assert not grads[0].numpy().any()


def test_an_all_padding_batch_keeps_the_parameters_finite():
    """A step on a batch of padding only (every target ignore_index) leaves the weights as they
    were, as in torch (the loss is NaN; its gradient is zero)."""
    model = ts.nn.Sequential(ts.nn.Embedding(5, 3), ts.nn.Linear(3, 4))
    before = [p.detach().clone() for p in model.parameters()]
    opt = ts.optim.SGD(model.parameters(), lr=0.1)
    logits = model(ts.tensor([[1, 2], [3, 4]]))
    loss = ts.nn.functional.cross_entropy(logits.reshape(-1, 4), ts.full((4,), -100))
    loss.backward()
    opt.step()
    assert np.isnan(loss.item())
    for p, old in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.detach().numpy(), old.numpy())


# ---- 2. max_norm in forward mode -----------------------------------------------------------------

def test_embedding_max_norm_keeps_the_tangent_as_torch():
    """The rows renormalised in place keep their tangent (torch's embedding_renorm_ changes the
    data only); the weight is renormalised and its version counted once, as in torch."""
    w, v = RNG.normal(size=(5, 3)) * 2, RNG.normal(size=(5, 3))
    results = []
    for L, W in zip((ts, torch), both(w)):
        fw = L.autograd.forward_ad
        with fw.dual_level():
            dual = fw.make_dual(W, L.tensor(v, dtype=L.float64))
            before = W._version if L is torch else W._version.value
            primal, tangent = fw.unpack_dual(
                L.nn.functional.embedding(L.tensor([1, 3, 1, 0]), dual, max_norm=1.0))
            after = W._version if L is torch else W._version.value
            results.append((primal, tangent, W, fw.unpack_dual(dual).tangent))
        assert after == before + 1
    np.testing.assert_allclose(results[0][1].numpy(), v[[1, 3, 1, 0]])  # (rows 1, 3, 0 renormed)
    assert not np.allclose(results[0][2].numpy(), w)
    for mine, theirs in zip(*results):
        close(mine, theirs)


def test_embedding_max_norm_after_a_graph_saved_the_weight_refuses_its_backward():
    """The renormalisation is an in-place change: a graph that saved the old weight refuses."""
    W = (ts.ones(4, 3, dtype=ts.float64) * 3).requires_grad_()
    y = (W * W).sum()
    ts.nn.functional.embedding(ts.tensor([1, 2]), W, max_norm=1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


# ---- 3. padding_idx changes the gradient only ----------------------------------------------------

IDS = [[1, 3, 1], [0, 1, 4]]


@pytest.mark.parametrize("options", [dict(padding_idx=1), dict(padding_idx=-1),
                                     dict(padding_idx=1, scale_grad_by_freq=True),
                                     dict(padding_idx=1, max_norm=1.5)])
def test_embedding_padding_tangent_as_torch(options):
    """Forward mode: the padding positions' tangent is row p's tangent, as torch's."""
    w, v = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    results = []
    for L, W in zip((ts, torch), both(w)):
        fw = L.autograd.forward_ad
        with fw.dual_level():
            dual = fw.make_dual(W, L.tensor(v, dtype=L.float64))
            results.append(fw.unpack_dual(L.nn.functional.embedding(L.tensor(IDS), dual,
                                                                    **options)))
    for mine, theirs in zip(*results):
        close(mine, theirs)
    assert np.abs(results[0].tangent.numpy()[0, 0]).sum() > 0  # (row 1's tangent, not zeros)


@pytest.mark.parametrize("options", [dict(padding_idx=1), dict(padding_idx=1,
                                                                scale_grad_by_freq=True)])
def test_embedding_padding_first_order_as_torch(options):
    """The gradient: none into row p (and divided by the counts with scale_grad_by_freq)."""
    w, u = RNG.normal(size=(5, 3)), RNG.normal(size=(2, 3, 3))
    grads = []
    for L, W in zip((ts, torch), both(w, requires_grad=True)):
        out = L.nn.functional.embedding(L.tensor(IDS), W, **options)
        (out * L.tensor(u, dtype=L.float64)).sum().backward()
        grads.append(W.grad)
    close(*grads)
    assert not grads[0].numpy()[1].any()


@pytest.mark.parametrize("by_count", [False, True])
def test_embedding_padding_row_gets_no_nan_gradient_as_torch(by_count):
    """A NaN or Inf gradient at a padding position does not reach row p (0, not 0 · NaN)."""
    u = RNG.normal(size=(2, 3, 3))
    u[0, 0, 0], u[0, 2, 1] = np.nan, np.inf  # (both at id 1, the padding)
    grads = []
    for L, W in zip((ts, torch), both(RNG.normal(size=(5, 3)), requires_grad=True)):
        out = L.nn.functional.embedding(L.tensor(IDS), W, padding_idx=1,
                                        scale_grad_by_freq=by_count)
        out.backward(L.tensor(u, dtype=L.float64))
        grads.append(W.grad)
    close(*grads)
    assert not grads[0].numpy()[1].any() and np.isfinite(grads[0].numpy()).all()


def test_embedding_padding_double_backward_as_torch():
    """create_graph through the padded lookup: the gradient's graph and its derivative."""
    w, u = RNG.normal(size=(5, 3)), RNG.normal(size=(2, 3, 3))
    results = []
    for L, W in zip((ts, torch), both(w, requires_grad=True)):
        out = L.nn.functional.embedding(L.tensor(IDS), W, padding_idx=1)
        (g,) = L.autograd.grad((out.tanh() * L.tensor(u, dtype=L.float64)).sum(), W,
                               create_graph=True)
        (h,) = L.autograd.grad((g * g).sum(), W)
        results.append((g, h))
    for mine, theirs in zip(*results):
        close(mine, theirs)


def test_embedding_scale_grad_by_freq_refuses_create_graph_in_one_line():
    W = ts.tensor(RNG.normal(size=(5, 3)), dtype=ts.float64, requires_grad=True)
    out = ts.nn.functional.embedding(ts.tensor(IDS), W, padding_idx=1, scale_grad_by_freq=True)
    with pytest.raises(RuntimeError, match=r"^embedding\(scale_grad_by_freq=True\).*"
                                           r"use scale_grad_by_freq=False[^\n]*$"):
        ts.autograd.grad(out.tanh().sum(), W, create_graph=True)


# ---- 4. functional: empty Jacobians, integer outputs of jvp --------------------------------------

def on_both(fn, *shapes):
    """``fn(L, *inputs)`` on both libraries at the same float64 point: ``(mine, torch's)``."""
    arrays = [RNG.uniform(0.5, 1.5, s) for s in shapes]
    return [fn(L, *(L.tensor(a, dtype=L.float64) for a in arrays)) for L in (ts, torch)]


def flat(result):
    """A (nested) result as a list of tensors."""
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in flat(r)]
    return [result]


def assert_same(mine, theirs):
    assert type(mine).__name__ == type(theirs).__name__  # (tuple, list or a tensor)
    for a, b in zip(flat(mine), flat(theirs), strict=True):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype)[8:] == str(b.dtype)[6:]
        np.testing.assert_allclose(a.numpy(), b.numpy())


FWD = dict(vectorize=True, strategy="forward-mode")
# name -> (a call of (L, *inputs), input shapes): torch returns an empty Jacobian (blocks)
EMPTY_RESULTS = {
    "forward_empty_input": (lambda L, x: L.autograd.functional.jacobian(
        lambda x: x.exp(), x, **FWD), [(0,)]),
    "forward_empty_input_of_two": (lambda L, x, y: L.autograd.functional.jacobian(
        lambda x, y: x.exp() * y.sum(), (x, y), **FWD), [(0,), (3,)]),
    "forward_empty_inputs_two_outputs": (lambda L, x, y: L.autograd.functional.jacobian(
        lambda x, y: (x * 2, y * 3), (x, y), **FWD),
        [(0,), (0, 2)]),
    "forward_empty_output": (lambda L, x: L.autograd.functional.jacobian(
        lambda x: x[:0], x, **FWD), [(3,)]),
    "reverse_empty_input": (lambda L, x: L.autograd.functional.jacobian(
        lambda x: x.sum() * L.ones(2, dtype=L.float64), x), [(0,)]),
    "reverse_vectorized_one_empty_output": (lambda L, x: L.autograd.functional.jacobian(
        lambda x: (x[:0], x * x), x, vectorize=True), [(2,)]),
    "hessian_vectorized_one_empty_input": (lambda L, x, y: L.autograd.functional.hessian(
        lambda a, b: (a.sum() + (b * b).sum()) ** 2, (x, y), vectorize=True), [(0,), (2,)]),
}


@pytest.mark.parametrize("name", EMPTY_RESULTS)
def test_empty_jacobians_as_torch(name):
    call, shapes = EMPTY_RESULTS[name]
    assert_same(*on_both(call, *shapes))


# name -> (a call of (L, *inputs), input shapes, tinyseq's message): torch raises RuntimeError
EMPTY_REFUSED = {
    "reverse_empty_output": (lambda L, x: L.autograd.functional.jacobian(lambda x: x[:0], x),
                             [(3,)], r"jacobian: output 0 of the user-provided function has no "
                             r"elements \(shape \(0,\)\).*strategy=\"forward-mode\""),
    "reverse_empty_second_output": (lambda L, x: L.autograd.functional.jacobian(
        lambda x: (x * 2, x[:0].exp()), x), [(3,)], "jacobian: output 1 "),
    "reverse_empty_input": (lambda L, x: L.autograd.functional.jacobian(lambda x: x.exp(), x),
                            [(0,)], "jacobian: output 0 "),
    "hessian_empty_input": (lambda L, x: L.autograd.functional.hessian(
        lambda x: x.sum() ** 2, x), [(0,)],
        r"hessian: input 0 has no elements.*outer_jacobian_strategy=\"forward-mode\""),
}


@pytest.mark.parametrize("name", EMPTY_REFUSED)
def test_empty_reverse_jacobians_refused_as_torch(name):
    call, shapes, message = EMPTY_REFUSED[name]
    for L in (torch, ts):
        xs = [L.ones(*shape, dtype=L.float64) for shape in shapes]
        with pytest.raises(RuntimeError, match="^" + message if L is ts else "") as caught:
            call(L, *xs)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("kwargs", [{}, dict(create_graph=True)])
@pytest.mark.parametrize("outputs", ["one", "second_of_two"])
def test_jvp_of_an_integer_output_refused_as_torch(kwargs, outputs):
    def fn(L):
        def f(x):
            return (x > 1).long() if outputs == "one" else (x * 2, x.long())
        return f
    for L in (torch, ts):
        x = L.ones(3, dtype=L.float64)
        message = rf"^jvp: output {0 if outputs == 'one' else 1} of the user-provided function " \
                  r"has dtype tinyseq.int64; only floating-point outputs" if L is ts else ""
        with pytest.raises(RuntimeError, match=message):
            L.autograd.functional.jvp(fn(L), x, x, **kwargs)


@pytest.mark.parametrize("fn, shape", [("vjp", (3,)), ("jvp", (3,)), ("vhp", (3,)),
                                       ("hvp", (3,))])
def test_v_none_message_is_torchs(fn, shape):
    """The words of torch's message (its typo'd "returns is" fixed), after the function's name."""
    texts = []
    for L in (torch, ts):
        x = L.ones(*shape, dtype=L.float64)
        f = (lambda x: x * 2) if fn in ("vjp", "jvp") else (lambda x: (x ** 3).sum())
        with pytest.raises(RuntimeError) as caught:
            getattr(L.autograd.functional, fn)(f, x)
        texts.append(str(caught.value))
    theirs, mine = texts
    assert mine.startswith(f"{fn}: the vector v can only be None if ")
    assert mine[len(fn) + 6:].split(";")[0] == theirs[4:].rstrip(".")


# ---- 5. gradcheck and gradgradcheck: torch's keywords, grad_outputs ------------------------------

def tanh_square(L):
    return lambda t: (t * t).tanh()


def point(L):
    return L.tensor([0.5, -1.5, 2.0], dtype=L.float64, requires_grad=True)


GRADCHECK_KEYWORDS = [dict(raise_exception=False), dict(nondet_tol=1e-3),
                      dict(check_undefined_grad=False), dict(check_grad_dtypes=True),
                      dict(check_forward_ad=True), dict(check_forward_ad=True,
                                                        check_backward_ad=False),
                      dict(fast_mode=True), dict(masked=None), dict(check_batched_grad=False)]
GRADGRADCHECK_KEYWORDS = [dict(raise_exception=False), dict(nondet_tol=1e-3),
                          dict(gen_non_contig_grad_outputs=True), dict(check_undefined_grad=False),
                          dict(check_grad_dtypes=True), dict(check_fwd_over_rev=True),
                          dict(check_fwd_over_rev=True, check_rev_over_rev=False,
                               check_undefined_grad=False),
                          dict(fast_mode=True), dict(masked=False), dict(check_batched_grad=False)]


@pytest.mark.parametrize("kwargs", GRADCHECK_KEYWORDS, ids=str)
def test_gradcheck_takes_torchs_keywords(kwargs):
    for L in (torch, ts):
        assert L.autograd.gradcheck(tanh_square(L), (point(L),), **kwargs) is True


@pytest.mark.parametrize("kwargs", GRADGRADCHECK_KEYWORDS, ids=str)
def test_gradgradcheck_takes_torchs_keywords(kwargs):
    for L in (torch, ts):
        assert L.autograd.gradgradcheck(tanh_square(L), (point(L),), **kwargs) is True


def wrong(L, what):
    """x³ with a mistake: "backward" (3x instead of 3x²), "jvp" (forward mode's tangent 3x),
    "graph_backward" (tinyseq only: the gradient's graph takes x as a constant)."""
    class Cube(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            if L is torch:
                ctx.save_for_forward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x if what == "backward" else g * 3 * x * x

        @staticmethod
        def jvp(ctx, t):
            x = ctx.saved_tensors[0]
            return t * 3 * x if what == "jvp" else t * 3 * x * x

        if L is ts:
            @staticmethod
            def graph_backward(ctx, g):
                (x,) = ctx.saved_tensors
                if what == "graph_backward":
                    return g * 3 * ts.tensor(x.numpy() ** 2)
                return g * 3 * x * x
    return Cube.apply


@pytest.mark.parametrize("what, kwargs", [("backward", {}),
                                          ("jvp", dict(check_forward_ad=True))])
def test_gradcheck_raise_exception_false_returns_false_as_torch(what, kwargs):
    for L in (torch, ts):
        x = point(L)
        with pytest.raises(TORCH_GRADCHECK_ERROR if L is torch else ts.autograd.GradcheckError):
            L.autograd.gradcheck(wrong(L, what), (x,), **kwargs)
        assert L.autograd.gradcheck(wrong(L, what), (x,), raise_exception=False,
                                    **kwargs) is False


def test_gradcheck_forward_ad_names_a_wrong_tangent():
    """check_forward_ad finds a wrong forward-mode rule that reverse mode cannot see."""
    x = point(ts)
    assert ts.autograd.gradcheck(wrong(ts, "jvp"), (x,)) is True
    with pytest.raises(ts.autograd.GradcheckError,
                       match=r"^gradcheck: forward-mode derivative of input 0 .*at element"):
        ts.autograd.gradcheck(wrong(ts, "jvp"), (x,), check_forward_ad=True)
    assert ts.autograd.gradcheck(wrong(ts, "jvp"), (x,), check_forward_ad=True,
                                 check_backward_ad=False, raise_exception=False) is False


def test_gradgradcheck_fwd_over_rev_names_a_wrong_graph_backward():
    """Forward mode through the gradient's graph finds a graph_backward that lost x."""
    x = point(ts)
    assert ts.autograd.gradcheck(wrong(ts, "graph_backward"), (x,)) is True
    with pytest.raises(ts.autograd.GradcheckError, match=r"^gradgradcheck: the forward-mode "
                       r"derivative of the gradients with respect to input 0"):
        ts.autograd.gradgradcheck(wrong(ts, "graph_backward"), (x,), check_fwd_over_rev=True,
                                  check_rev_over_rev=False, check_undefined_grad=False)
    assert ts.autograd.gradgradcheck(wrong(ts, "graph_backward"), (x,),
                                     raise_exception=False) is False


def test_a_backward_not_multiplied_by_its_gradient_fails_as_torch():
    """Zero output gradients must give zero gradients (torch checks it every time)."""
    for L in (torch, ts):
        class Three(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 3

            @staticmethod
            def backward(ctx, g):
                return L.full_like(g, 3.0) if L is torch else np.full_like(g, 3.0)

        x = point(L)
        error = TORCH_GRADCHECK_ERROR if L is torch else ts.autograd.GradcheckError
        with pytest.raises(error, match="backward not multiplied by grad_output"):
            L.autograd.gradcheck(lambda t: Three.apply(t).sum(), (x,))


@pytest.mark.parametrize("fn, kwargs, kind", [
    ("gradcheck", dict(check_batched_grad=True), NotImplementedError),
    ("gradcheck", dict(check_batched_forward_grad=True, check_forward_ad=True),
     NotImplementedError),
    ("gradgradcheck", dict(check_batched_grad=True), NotImplementedError),
    ("gradcheck", dict(check_backward_ad=False), AssertionError),
    ("gradgradcheck", dict(check_rev_over_rev=False, check_undefined_grad=False),
     AssertionError),
    ("gradgradcheck", dict(check_rev_over_rev=False, check_fwd_over_rev=True), AssertionError),
    ("gradcheck", dict(check_batched_grad=True, check_backward_ad=False,
                       check_forward_ad=True), AssertionError),
    ("gradcheck", dict(nondet_tol=-1.0), ValueError),
])
def test_what_gradcheck_cannot_do_is_refused_in_one_line(fn, kwargs, kind):
    """The batched checks need vmap (torch runs them); no mode at all is torch's AssertionError."""
    with pytest.raises(kind, match=rf"^{fn}: [^\n]*$") as caught:
        getattr(ts.autograd, fn)(tanh_square(ts), (point(ts),), **kwargs)
    flag = next(iter(kwargs))
    assert flag in str(caught.value)
    if kind is AssertionError:
        with pytest.raises(AssertionError):
            getattr(torch.autograd, fn)(tanh_square(torch), (point(torch),), **kwargs)


def grad_outputs_of(L, shapes):
    return [L.tensor(RNG.uniform(-1, 1, s), dtype=L.float64, requires_grad=True) for s in shapes]


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(3,), (2,)], [(3,)]])
def test_gradgradcheck_takes_grad_outputs_as_torch(shapes):
    """One per output, or more (torch ignores the extra ones, whatever their shape)."""
    for L in (torch, ts):
        assert L.autograd.gradgradcheck(tanh_square(L), (point(L),),
                                        grad_outputs_of(L, shapes)) is True


@pytest.mark.parametrize("func, grad_outputs, kind, message", [
    (lambda L: lambda t: t * t, lambda L: [L.ones(2, dtype=L.float64)], RuntimeError,
     r"gradgradcheck: grad_outputs\[0\] has shape \(2,\) but output 0 of func has shape \(3,\)"),
    (lambda L: lambda t: (t * t, t.exp()), lambda L: [L.ones(3, dtype=L.float64)], RuntimeError,
     r"gradgradcheck: func has 2 outputs that require grad but grad_outputs has 1 Tensors"),
    (lambda L: lambda t: t.sum(), lambda L: [1.0, 2.0], (TypeError, AttributeError),
     r"gradgradcheck: grad_outputs\[0\] is float, not a Tensor"),
])
def test_gradgradcheck_refuses_bad_grad_outputs_as_torch(func, grad_outputs, kind, message):
    """torch: RuntimeError for a shape or a count that does not fit; AttributeError (its own
    stumble) for numbers, where tinyseq says TypeError."""
    for L in (torch, ts):
        expected = kind if L is torch else kind[0] if isinstance(kind, tuple) else kind
        with pytest.raises(expected, match="^" + message + "[^\n]*$" if L is ts else ""):
            L.autograd.gradgradcheck(func(L), (point(L),), grad_outputs(L))
