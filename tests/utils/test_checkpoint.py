"""``ts.utils.checkpoint.checkpoint`` against ``torch.utils.checkpoint`` and against no checkpoint:
values and gradients (inputs, parameters used inside, keyword arguments), the random state
replayed for dropout, outputs that are tuples, dicts or not tensors, inputs without gradients,
nesting, in-place ops, the errors PyTorch raises, gradcheck. ``checkpoint_sequential``, the
recurrent recipe and the memory saved: ``test_checkpoint_segments.py``."""
import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import torch
from tinyseq.autograd.toposort import toposort
from tinyseq.utils.checkpoint import CheckpointError, checkpoint

MODES = [False, True]  # use_reentrant


def pair_of_linears(dtype=np.float32):
    """A tinyseq Linear(4, 3) and torch's with the same weights."""
    lin = ts.nn.Linear(4, 3).to(dtype)
    tlin = torch.nn.Linear(4, 3).to(torch.float64 if dtype == np.float64 else torch.float32)
    tlin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lin.state_dict().items()})
    return lin, tlin


def block(lin, lib):
    """A function closing over a parameterised layer: tanh(lin(x)) * sigmoid(x[:, :3])."""
    return lambda x: lib.tanh(lin(x)) * lib.sigmoid(x[:, :3])


def both(x):
    return ts.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


@pytest.mark.parametrize("reentrant", MODES)
def test_values_and_gradients_match_torch_and_no_checkpoint(reentrant):
    lin, tlin = pair_of_linears()
    x, tx = both(np.random.randn(5, 4).astype(np.float32))
    y = checkpoint(block(lin, ts), x, use_reentrant=reentrant)
    ty = torch.utils.checkpoint.checkpoint(block(tlin, torch), tx, use_reentrant=reentrant)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-7)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    for name, p in lin.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), getattr(tlin, name).grad.numpy(), rtol=1e-5,
                                   atol=1e-6)
    grads = [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in lin.parameters()]
    x.grad = None
    lin.zero_grad()
    plain = block(lin, ts)(x)
    (plain * plain).sum().backward()
    np.testing.assert_array_equal(plain.numpy(), y.numpy())
    for g, p in zip(grads, [x] + list(lin.parameters())):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_non_reentrant_graph_is_the_plain_graph_without_its_saved_arrays():
    lin, _ = pair_of_linears()
    x = ts.randn(5, 4, requires_grad=True)
    y = checkpoint(block(lin, ts), x, use_reentrant=False)
    plain = block(lin, ts)(x)
    assert type(y.grad_fn).__name__ == type(plain.grad_fn).__name__ == "MulBackward0"
    assert [n.name for n in toposort([y.grad_fn])] == [n.name for n in toposort([plain.grad_fn])]
    assert saved_bytes(y) == 0 < saved_bytes(plain)


def test_reentrant_output_is_one_checkpoint_node_as_torch():
    x, tx = both(np.ones((2, 4), np.float32))
    lin, tlin = pair_of_linears()
    y = checkpoint(block(lin, ts), x, use_reentrant=True)
    ty = torch.utils.checkpoint.checkpoint(block(tlin, torch), tx, use_reentrant=True)
    assert type(y.grad_fn).__name__ == type(ty.grad_fn).__name__ == "CheckpointFunctionBackward"


def test_grad_reaches_parameters_and_keyword_arguments_through_autograd_grad():
    lin, tlin = pair_of_linears()
    x, tx = both(np.random.randn(5, 4).astype(np.float32))
    s, ts_ = both(np.array([0.5, -2.0, 3.0], np.float32))

    def f(lib, layer):
        return lambda x, scale: lib.tanh(layer(x)) * scale

    y = checkpoint(f(ts, lin), x, scale=s, use_reentrant=False)
    ty = torch.utils.checkpoint.checkpoint(f(torch, tlin), tx, scale=ts_, use_reentrant=False)
    got = ts.autograd.grad(y.sum(), [lin.weight, s])
    want = torch.autograd.grad(ty.sum(), [tlin.weight, ts_])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-6)


def test_inputs_without_grad_still_give_the_parameters_theirs_without_reentrant():
    lin, tlin = pair_of_linears()
    x = np.random.randn(5, 4).astype(np.float32)
    y = checkpoint(lin, ts.tensor(x), use_reentrant=False)
    ty = torch.utils.checkpoint.checkpoint(tlin, torch.tensor(x), use_reentrant=False)
    assert y.requires_grad and ty.requires_grad
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), tlin.weight.grad.numpy(), rtol=1e-6)


def test_inputs_without_grad_warn_and_give_none_with_reentrant_as_torch():
    lin, tlin = pair_of_linears()
    x = np.random.randn(5, 4).astype(np.float32)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        y = checkpoint(lin, ts.tensor(x), use_reentrant=True)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        ty = torch.utils.checkpoint.checkpoint(tlin, torch.tensor(x), use_reentrant=True)
    assert y.requires_grad is ty.requires_grad is False


@pytest.mark.parametrize("preserve", [True, False])
def test_dropout_draws_the_same_mask_in_the_rerun_when_the_state_is_preserved(preserve):
    def f(x):
        return ts.nn.functional.dropout(x * 1.0, p=0.5, training=True)

    x = ts.ones(400, requires_grad=True)
    ts.manual_seed(3)
    y = checkpoint(f, x, use_reentrant=False, preserve_rng_state=preserve)
    after_forward = ts.rand(1).item()
    y.sum().backward()
    kept = y.numpy() != 0
    assert kept.sum() not in (0, 400)
    same = np.array_equal(x.grad.numpy() != 0, kept)
    assert same is preserve  # the rerun's mask is the forward's only with its state replayed
    ts.manual_seed(3)
    f(x)
    assert ts.rand(1).item() == after_forward  # the forward drew what a plain call draws


def test_backward_leaves_the_random_stream_where_it_was():
    x = ts.ones(10, requires_grad=True)
    y = checkpoint(lambda x: ts.nn.functional.dropout(x * 2.0, 0.5, True), x, use_reentrant=False)
    state = ts.get_rng_state()
    y.sum().backward()
    np.testing.assert_array_equal(ts.get_rng_state().numpy(), state.numpy())


def test_outputs_of_any_structure_without_reentrant_as_torch():
    x, tx = both(np.arange(1.0, 4.0, dtype=np.float32))

    def f(lib):
        return lambda x: {"h": (x * x, "label"), "n": 3, "c": lib.exp(x)}

    out = checkpoint(f(ts), x, use_reentrant=False)
    tout = torch.utils.checkpoint.checkpoint(f(torch), tx, use_reentrant=False)
    assert out["n"] == tout["n"] == 3 and out["h"][1] == "label"
    (out["h"][0].sum() + out["c"].sum()).backward()
    (tout["h"][0].sum() + tout["c"].sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_tuple_outputs_with_other_values_with_reentrant_as_torch():
    x, tx = both(np.arange(1.0, 4.0, dtype=np.float32))
    a, n, b = checkpoint(lambda x: (x * x, 7, x.exp()), x, use_reentrant=True)
    ta, tn, tb = torch.utils.checkpoint.checkpoint(lambda x: (x * x, 7, x.exp()), tx,
                                                   use_reentrant=True)
    assert n == tn == 7
    (a.sum() + 2 * b.sum()).backward()
    (ta.sum() + 2 * tb.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    one = checkpoint(lambda x: (x * 2,), x, use_reentrant=True)
    assert isinstance(one, tuple) and len(one) == 1


@pytest.mark.parametrize("reentrant", MODES)
def test_gradcheck_float64(reentrant):
    lin, _ = pair_of_linears(np.float64)
    x = ts.randn(3, 4, dtype=ts.float64, requires_grad=True)
    w = ts.randn(3, dtype=ts.float64, requires_grad=True)
    fn = block(lin, ts)
    assert ts.autograd.gradcheck(
        lambda x, w: checkpoint(lambda x, w: fn(x) * w, x, w, use_reentrant=reentrant), (x, w))


def test_nested_checkpoints_give_the_plain_gradients():
    lin, _ = pair_of_linears()
    x = ts.randn(5, 4, requires_grad=True)

    def inner(h):
        return ts.tanh(h) * h

    def outer(x):
        return checkpoint(inner, lin(x), use_reentrant=False).exp()

    checkpoint(outer, x, use_reentrant=False).sum().backward()
    got = [x.grad.numpy().copy(), lin.weight.grad.numpy().copy()]
    x.grad = None
    lin.zero_grad()
    outer(x).sum().backward()
    np.testing.assert_allclose(got[0], x.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(got[1], lin.weight.grad.numpy(), rtol=1e-6)


def test_second_backward_needs_retain_graph_as_torch():
    for lib, cp in ((ts, checkpoint), (torch, torch.utils.checkpoint.checkpoint)):
        x = lib.ones(3, requires_grad=True)
        y = cp(lambda x: (x * x).sum(), x, use_reentrant=False)
        y.backward(retain_graph=True)
        y.backward()
        np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0, 4.0])
        z = cp(lambda x: (x * x).sum(), x, use_reentrant=False)
        z.backward()
        with pytest.raises(RuntimeError, match="second time"):
            z.backward()


def test_an_input_changed_in_place_before_backward_is_caught_as_torch():
    for lib, cp in ((ts, checkpoint), (torch, torch.utils.checkpoint.checkpoint)):
        a = lib.ones(3, requires_grad=True) * 1.0
        y = cp(lambda a: a.sin(), a, use_reentrant=False)
        a.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an in.?place operation"):
            y.sum().backward()


def test_in_place_ops_inside_give_the_plain_gradients():
    def f(x):
        y = x * 1.0
        y[0] = x[1] * 3
        y.mul_(2.0)
        return y.exp() * y

    x = ts.randn(3, 2, requires_grad=True)
    f(x).sum().backward()
    plain, x.grad = x.grad.numpy().copy(), None
    checkpoint(f, x, use_reentrant=False).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), plain)


def test_under_no_grad_it_is_the_function():
    with ts.no_grad():
        y = checkpoint(lambda x: x * 2, ts.ones(2, requires_grad=True), use_reentrant=False)
    assert not y.requires_grad and y.tolist() == [2.0, 2.0]


def test_context_fn_contexts_wrap_the_forward_and_the_rerun():
    seen = []

    class Mark:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            seen.append((self.name, ts.is_grad_enabled()))

        def __exit__(self, *exc):
            pass

    x = ts.ones(2, requires_grad=True)
    y = checkpoint(lambda x: x.exp(), x, use_reentrant=False,
                   context_fn=lambda: (Mark("forward"), Mark("rerun")))
    assert seen == [("forward", True)]
    y.sum().backward()
    assert seen == [("forward", True), ("rerun", True)]


# ---- errors, as PyTorch raises them --------------------------------------------------------
def test_use_reentrant_not_given_warns_and_means_true_as_torch():
    x = ts.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        y = checkpoint(lambda x: x * 2, x)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        ty = torch.utils.checkpoint.checkpoint(lambda x: x * 2, torch.ones(2, requires_grad=True))
    assert type(y.grad_fn).__name__ == type(ty.grad_fn).__name__


@pytest.mark.parametrize("call, error, match", [
    (lambda cp, x: cp(lambda x, s: x * s, x, s=2.0, use_reentrant=True), ValueError,
     "keyword arguments"),
    (lambda cp, x: cp(lambda x: x, x, use_reentrant=True, debug=True), ValueError, "debug"),
    (lambda cp, x: cp(lambda x: x, x, use_reentrant=False, determinism_check="all"), ValueError,
     "determinism_check"),
    (lambda cp, x: cp(5, x, use_reentrant=False), TypeError, "int"),
])
def test_misuse_raises_torchs_exception_type(call, error, match):
    with pytest.raises(error, match=match):
        call(torch.utils.checkpoint.checkpoint, torch.ones(2, requires_grad=True))
    with pytest.raises(error, match=match) as info:
        call(checkpoint, ts.ones(2, requires_grad=True))
    assert str(info.value).startswith("checkpoint: ")


def test_a_rerun_that_records_other_ops_raises_checkpoint_error():
    for lib, cp, kind in ((ts, checkpoint, CheckpointError),
                          (torch, torch.utils.checkpoint.checkpoint,
                           torch.utils.checkpoint.CheckpointError)):
        calls = []

        def fickle(x):
            calls.append(1)
            return x.sin().exp() if len(calls) == 1 else x.sin()

        y = cp(fickle, lib.ones(3, requires_grad=True), use_reentrant=False)
        with pytest.raises(kind):
            y.sum().backward()
    assert issubclass(CheckpointError, RuntimeError)


def test_a_rerun_with_other_shapes_names_the_op():
    calls = []

    def fickle(x):
        calls.append(1)
        return (x[:2] if len(calls) == 1 else x[:1]).exp()

    y = checkpoint(fickle, ts.ones(3, requires_grad=True), use_reentrant=False)
    with pytest.raises(CheckpointError, match=r"op 0 .* when it ran first"):
        y.sum().backward()


def saved_bytes(*roots):
    """The bytes of the distinct arrays that the graph behind ``roots`` keeps for backward (a
    checkpointed node's stand-in keeps none)."""
    arrays = {}
    for node in toposort([r.grad_fn for r in roots]):
        ctx = getattr(node, "ctx", None)
        if isinstance(ctx, ts.autograd.Context):
            for a in ctx.saved_tensors:
                if isinstance(a, np.ndarray):
                    arrays[id(a.base if a.base is not None else a)] = a.nbytes
    return sum(arrays.values())


@pytest.mark.parametrize("flags", [dict(use_reentrant="False"), dict(use_reentrant=False, debug="x"),
                                   dict(use_reentrant=False, early_stop=None),
                                   dict(use_reentrant=False, preserve_rng_state="no")])
def test_a_flag_that_is_not_a_bool_is_refused_in_one_line(flags):
    """(A truthy "False" used to pick the reentrant variant without a word.)"""
    x = ts.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match=r"^checkpoint: \w+ must be True or False, got "):
        checkpoint(lambda t: t * 2, x, **flags)
