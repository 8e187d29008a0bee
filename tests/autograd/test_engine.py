"""The backward walk itself: order, accumulation, freeing, hooks, grad(), modes, scopes, cost."""
import numpy as np
import pytest

import tinyseq as ts
from tests.cost import grad_elements


def test_chain_of_20000_ops_backpropagates_without_recursion():
    x = ts.tensor(1.0, dtype=ts.float64, requires_grad=True)
    h = x
    for _ in range(20_000):
        h = h * 1.0001
    h.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 20_000, rel=1e-9)


def test_diamond_runs_each_node_once_with_the_summed_gradient():
    calls = []

    class Spy(ts.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1.0

        @staticmethod
        def backward(ctx, g):
            calls.append(g.copy())
            return g

    x = ts.tensor([1.0, 2.0], requires_grad=True)
    s = Spy.apply(x)
    y = (s * 3 + s * s).sum()  # dy/ds = 3 + 2s
    y.backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], [5.0, 7.0])
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])


def test_gradients_accumulate_across_backward_calls():
    x = ts.tensor([1.0, -2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0])
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, -8.0])


def test_leaf_grad_is_a_private_writable_copy():
    x = ts.ones(3, requires_grad=True)
    g = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    x.backward(g)
    x.grad.numpy()[...] *= 10  # must not write into the caller's array
    np.testing.assert_allclose(g, [1.0, 2.0, 3.0])
    y = ts.ones(2, 3, requires_grad=True)
    y.sum().backward()  # sum's gradient is a broadcast view: .grad must still be a real array
    assert y.grad.numpy().flags.writeable and y.grad.numpy().shape == (2, 3)


def test_second_backward_through_a_freed_graph_says_retain_graph():
    x = ts.ones(3, requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_saved_arrays_are_freed_after_backward_and_kept_with_retain_graph():
    x = ts.ones(3, requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    y.sum().backward(retain_graph=True)
    assert node.ctx is not None
    y.sum().backward()
    assert node.ctx is None


def test_backward_on_non_scalar_needs_a_gradient():
    x = ts.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar .*gradient="):
        (x * 2).backward()
    (x * 2).backward(ts.ones(2, 3))
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 2.0))


def test_backward_gradient_of_wrong_shape_is_refused():
    x = ts.ones(2, 3, requires_grad=True)
    with pytest.raises(ts.ShapeError, match=r"\(3,\).*\(2, 3\)"):
        (x * 2).backward(ts.ones(3))


def test_backward_on_a_tensor_without_graph_explains():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ts.ones(2).sum().backward()


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    y = x * 3
    (y * y).sum().backward()
    assert y.grad is None  # not retained


def test_hooks_see_and_replace_gradients_and_can_be_removed():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    seen = []
    handle = h.register_hook(lambda g: seen.append(g.numpy().copy()))
    h.register_hook(lambda g: g * 10)
    x.register_hook(lambda g: g + 1)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [21.0, 21.0])  # (1 * 10) * 2 + 1
    handle.remove()
    x.grad = None
    h = x * 2
    h.register_hook(lambda g: seen.append("again"))
    h.sum().backward()
    assert seen[-1] == "again" and len(seen) == 2


def test_autograd_grad_returns_gradients_and_leaves_dot_grad_alone():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    w = ts.tensor([3.0, 4.0], requires_grad=True)
    h = x * w
    y = (h * h).sum()
    gx, gh = ts.autograd.grad(y, [x, h])
    np.testing.assert_allclose(gx.numpy(), 2 * (x.numpy() * w.numpy()) * w.numpy())
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())
    assert x.grad is None and w.grad is None


def test_autograd_grad_unused_input():
    x = ts.ones(2, requires_grad=True)
    z = ts.ones(2, requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        ts.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = ts.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None
    np.testing.assert_allclose(gx.numpy(), [2.0, 2.0])


def test_autograd_grad_with_grad_outputs():
    x = ts.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = ts.autograd.grad(x * x, x, grad_outputs=ts.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(g.numpy(), [2.0, 0.0, 12.0])


def test_no_grad_builds_no_graph_and_enable_grad_restores_it():
    x = ts.ones(2, requires_grad=True)
    with ts.no_grad():
        y = x * 2
        assert not ts.is_grad_enabled()
        with ts.enable_grad():
            z = x * 2
    assert ts.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None and z.requires_grad

    @ts.no_grad()
    def f(t):
        return t * 3

    assert f(x).grad_fn is None


def test_detach_cuts_the_graph_but_shares_data():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert d.grad_fn is None and not d.requires_grad
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])  # d treated as a constant


def test_multiple_roots_including_one_that_feeds_another():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a * a
    ts.autograd.backward([a, b], [ts.ones(2), ts.ones(2)])
    np.testing.assert_allclose(x.grad.numpy(), 2 + 8 * x.numpy())  # d(2x)/dx + d(4x²)/dx


@pytest.mark.parametrize("slicer", ["unbind", "split", "chunk"])
def test_backward_through_t_slices_costs_order_t(slicer, monkeypatch):
    def run(T):
        x = ts.randn(T, 4, requires_grad=True)
        if slicer == "unbind":
            steps = x.unbind(0)
        elif slicer == "split":
            steps = x.split(1, 0)
        else:
            steps = x.chunk(T, 0)
        h = ts.zeros(4)
        outs = []
        for s in steps:  # an RNN-like chain through every slice, then a stack of all steps
            h = (h + s.reshape(4)).tanh()
            outs.append(h)
        ts.stack(outs).sum().backward()
        return x.grad.numpy()

    small = grad_elements(lambda: run(50), monkeypatch)
    large = grad_elements(lambda: run(400), monkeypatch)
    ratio = large / small
    # linear cost gives a ratio near 8; a full-size zero gradient per slice would give about 64
    assert ratio < 9.5, ratio


def test_cat_of_t_pieces_is_one_node_with_t_inputs():
    pieces = [ts.randn(2, requires_grad=True) for _ in range(5)]
    y = ts.cat(pieces)
    assert y.grad_fn.name == "cat" and len(y.grad_fn.next_edges) == 6  # dim + 5 tensors
    (y * ts.arange(10).float()).sum().backward()
    np.testing.assert_allclose(pieces[3].grad.numpy(), [6.0, 7.0])


def test_unbind_is_one_node_and_unused_outputs_get_zero_gradient():
    x = ts.randn(3, 2, requires_grad=True)
    a, b, c = x.unbind(0)
    assert a.grad_fn is b.grad_fn is c.grad_fn
    (b * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0], [2, 2], [0, 0]])


def test_scope_is_recorded_on_nodes():
    x = ts.ones(2, requires_grad=True)
    with ts.autograd.scope("rnn"):
        with ts.autograd.scope("t=0"):
            y = x.tanh()
        z = y * 2
    w = z + 1
    assert y.grad_fn.scope == ("rnn", "t=0")
    assert z.grad_fn.scope == ("rnn",)
    assert w.grad_fn.scope == ()


def test_scope_entries_of_one_name_are_told_apart_by_identity():
    x = ts.ones(2, requires_grad=True)
    ys = []
    for _ in range(2):
        with ts.autograd.scope("cell"):
            ys.append(x * 2)
    a, b = ys[0].grad_fn.scope, ys[1].grad_fn.scope
    assert a == b == ("cell",) and a[0] is not b[0]


def test_a_node_hook_sees_the_gradient_summed_over_every_consumer():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    seen = []
    handle = h.grad_fn.register_hook(lambda g: seen.append(g.numpy().copy()))
    (h * 3 + h).sum().backward(retain_graph=True)
    np.testing.assert_allclose(seen[0], [4.0, 4.0])
    handle.remove()
    (h * 3).sum().backward()
    assert len(seen) == 1


def test_detect_anomaly_names_the_op_in_forward_and_where_it_was_made():
    x = ts.tensor([0.0, 1.0], requires_grad=True)
    with ts.autograd.detect_anomaly():
        with pytest.raises(ts.autograd.AnomalyError, match=r"forward of 'log'.*Inf") as info:
            x.log()
    assert "test_engine.py" in str(info.value)


def test_detect_anomaly_names_the_op_whose_backward_made_nan():
    x = ts.tensor([0.0, 4.0], requires_grad=True)
    with ts.autograd.detect_anomaly():
        y = x.sqrt() * 0  # forward finite; backward of sqrt at 0 gives 0 * inf = nan
        with pytest.raises(ts.autograd.AnomalyError, match=r"backward of '(mul|sqrt)'"):
            y.sum().backward()
    y = x.sqrt() * 0  # without anomaly detection the NaN goes through silently
    y.sum().backward()
    assert np.isnan(x.grad.numpy()[0])


def test_in_place_change_of_a_saved_array_is_caught_at_backward():
    x = ts.ones(3, requires_grad=True)
    w = ts.ones(3)
    y = (x * w).sum()
    w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_in_place_change_through_a_view_is_caught():
    x = ts.ones(3, requires_grad=True)
    w = ts.ones(2, 3)
    y = (x * w).sum()
    row = w[0]  # a view of w's data
    row.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_in_place_on_tensor_requiring_grad_is_refused_outside_no_grad():
    p = ts.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        p.add_(1)
    with ts.no_grad():
        p.add_(1).mul_(2)
    np.testing.assert_allclose(p.numpy(), [4.0, 4.0, 4.0])


def test_custom_function_backward_with_wrong_shape_is_named():
    class Bad(ts.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.sum()

        @staticmethod
        def backward(ctx, g):
            return np.ones(5)

    x = ts.ones(3, requires_grad=True)
    with pytest.raises(ts.ShapeError,
                       match=r"Bad.backward returned a gradient of shape \(5,\).*\(3,\)"):
        Bad.apply(x).backward()


def test_custom_function_with_non_tensor_arguments_and_needs_input_grad():
    class Scale(ts.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, factor):
            ctx.save_for_backward(a, b)
            ctx.factor = factor
            return a * b * factor

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False, False)
            return g * b * ctx.factor, None, None

    x = ts.tensor([1.0, 2.0], requires_grad=True)
    y = Scale.apply(x, ts.tensor([3.0, 4.0]), 10.0)
    assert y.grad_fn.name == "scale"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 40.0])


def test_grad_runs_only_the_part_of_the_graph_above_its_inputs():
    x = ts.ones(2, requires_grad=True)
    h = x.exp()
    y = (h * h).sum()
    (gh,) = ts.autograd.grad(y, [h])
    np.testing.assert_allclose(gh.numpy(), 2 * np.exp(1.0) * np.ones(2), rtol=1e-6)
    h.sum().backward()  # the part below h was not run, so it was not freed
    np.testing.assert_allclose(x.grad.numpy(), np.exp(1.0) * np.ones(2), rtol=1e-6)


def test_grad_needs_one_grad_output_per_output():
    x = ts.ones(2, requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(ValueError, match="2 outputs but 1 grad_outputs"):
        ts.autograd.grad([y, y], x, [None])
    (g,) = ts.autograd.grad(x * 3, [x], [ts.ones(2)])
    np.testing.assert_allclose(g.numpy(), [3.0, 3.0])


@pytest.mark.parametrize("change", ["logsumexp", "where", "masked_fill"])
def test_in_place_change_of_a_saved_view_or_condition_is_caught(change):
    x = ts.tensor([1.0, -1.0], requires_grad=True)
    if change == "logsumexp":  # saves its keepdim result; the output is a squeezed view of it
        y = x.reshape(1, 2).logsumexp(1)
        changed = y
    else:
        m = x.detach() > 0
        y = ts.where(m, x, x * 0) if change == "where" else x.masked_fill(m, 0.0)
        changed = m
    with ts.no_grad():
        changed[...] = 1 if change != "logsumexp" else 100.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_a_hook_returning_the_wrong_shape_is_refused():
    x = ts.ones(2, requires_grad=True)
    x.register_hook(lambda g: ts.ones(5))
    with pytest.raises(ts.ShapeError, match=r"hook returned a gradient of shape \(5,\)"):
        (x * 2).sum().backward()


def test_power_zero_has_zero_gradient_at_zero_and_np_array_copies():
    x = ts.tensor(0.0, requires_grad=True)
    (x ** 0).backward()
    assert x.grad.item() == 0.0
    t = ts.ones(2)
    a = np.array(t)
    a[0] = 5
    assert t.tolist() == [1.0, 1.0]


def test_float_ops_on_integer_tensors_give_float32():
    i = ts.tensor([1, 2])
    for y in (i.exp(), i.sigmoid(), i.softmax(0), i.mean(dtype=ts.float32),
              ts.where(i > 1, 1.0, 0.0)):
        assert y.dtype == ts.float32
    with pytest.raises(RuntimeError, match="mean: the input is tinyseq.int64"):
        i.mean()  # (torch: "could not infer output dtype")


def test_no_grad_results_are_plain_tensors_and_views_still_share_versions():
    x = ts.ones(2, 3, requires_grad=True)
    with ts.no_grad():
        row = x[0]  # a view into x
        a, b = x.split(1, dim=0)  # a multi-output op
        y = (x * 2).sum()
    assert row.grad_fn is None and not row.requires_grad and y.item() == 12.0
    assert row._version is x._version  # an in-place change through one is seen through the other
    assert a.shape == b.shape == (1, 3) and a.grad_fn is None


def test_scope_is_a_decorator_and_one_instance_can_be_entered_twice():
    x = ts.ones(2, requires_grad=True)
    enc = ts.autograd.scope("enc")

    @ts.autograd.scope("step")
    def step(v):
        return v * 2

    with enc:
        with enc:
            y = step(x)
    assert y.grad_fn.scope == ("enc", "enc", "step")
    assert (x * 1).grad_fn.scope == ()  # left as it was


def test_a_view_shares_the_version_of_the_argument_it_looks_into():
    class Second(ts.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return b[:]

        @staticmethod
        def backward(ctx, g):
            return None, g

    base = np.zeros(4)
    a, b = ts.from_numpy(base[:2]), ts.from_numpy(base[2:])  # two views of one array
    out = Second.apply(a, b)
    out.add_(1)
    assert (a._version.value, b._version.value) == (0, 1)


def test_unbind_of_a_0d_tensor_says_why():
    with pytest.raises(IndexError, match="0-d tensor has no dim"):
        ts.tensor(1.0).unbind()


def test_copy_casts_into_the_tensors_dtype_as_torch():
    a = ts.zeros(3, dtype=ts.int64)
    a.copy_(ts.tensor([1.7, -2.5, 3.0]))
    assert a.tolist() == [1, -2, 3] and a.dtype == ts.int64  # torch truncates the same way


def test_grad_with_no_inputs_is_refused_as_torch():
    loss = ts.ones(1, requires_grad=True).sum()
    with pytest.raises(RuntimeError, match=r"^grad: inputs is empty"):
        ts.autograd.grad(loss, [])
