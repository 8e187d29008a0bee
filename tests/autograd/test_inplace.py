"""In-place ops recorded in the graph as in PyTorch: the values and every leaf's gradient against
torch's, the programs' patterns (a decoder loop writing ``outputs[t]``, ``loss += step_loss``),
writes through views, and each refusal at the line that causes it, as torch raises it."""
import numpy as np
import pytest

import tinyseq as ts
from tests.strategies import positive
from tests.torch_compare import compare_with_torch, torch

RNG = np.random.default_rng(15)


def _arrays(*shapes):
    return [RNG.standard_normal(s) for s in shapes]


# ---- every in-place op, on an intermediate, against torch --------------------------------------
UNARY = ["relu_", "sigmoid_", "tanh_", "exp_", "neg_", "abs_", "sqrt_", "log_", "zero_"]


@pytest.mark.parametrize("op", UNARY)
def test_unary_in_place_ops_rebase_the_tensor_as_torch(op):
    def fn(m, x):
        y = x * 1.5
        out = getattr(y, op)()
        assert out is y
        return y * x
    compare_with_torch(fn, arrays=[positive(RNG, (2, 3))])


BINARY = {
    "add_": lambda y, w: y.add_(w), "add_ alpha": lambda y, w: y.add_(w, alpha=-2.0),
    "sub_": lambda y, w: y.sub_(w), "sub_ alpha": lambda y, w: y.sub_(w, alpha=0.5),
    "mul_": lambda y, w: y.mul_(w), "div_": lambda y, w: y.div_(w), "pow_": lambda y, w: y.pow_(w),
    "copy_": lambda y, w: y.copy_(w), "fill_": lambda y, w: y.fill_(w.sum()),
    "clamp_": lambda y, w: y.clamp_(min=w), "clamp_ max": lambda y, w: y.clamp_(max=w * 2),
    "masked_fill_": lambda y, w: y.masked_fill_(w[0] > 1.0, w.sum()),
    "+=": lambda y, w: y.__iadd__(w), "-=": lambda y, w: y.__isub__(w),
    "*=": lambda y, w: y.__imul__(w), "/=": lambda y, w: y.__itruediv__(w),
    "+= number": lambda y, w: y.__iadd__(2.0), "mul_ number": lambda y, w: y.mul_(3.0),
    "pow_ number": lambda y, w: y.pow_(2),
}


@pytest.mark.parametrize("op", BINARY)
def test_binary_in_place_ops_send_gradients_to_both_sides_as_torch(op):
    def fn(m, x, w):
        y = x * 1.0
        assert BINARY[op](y, w) is y
        return y * x
    compare_with_torch(fn, arrays=[positive(RNG, (2, 3)), positive(RNG, (3,))])


@pytest.mark.parametrize("op", ["add_", "mul_", "div_", "copy_", "clamp_", "sigmoid_", "pow_"])
def test_in_place_gradients_pass_gradcheck(op):
    x = ts.tensor(positive(RNG, (2, 3)), requires_grad=True)
    w = ts.tensor(positive(RNG, (3,)), requires_grad=True)

    def fn(x, w):
        y = x * 1.0
        if op == "sigmoid_":
            y.sigmoid_()
        else:
            BINARY[op](y, w)
        return (y * y).sum()
    assert ts.autograd.gradcheck(fn, (x, w))


def test_a_value_that_does_not_require_grad_makes_a_plain_tensor_require_it_as_torch():
    def fn(m, x):
        t = m.zeros(2, 3, dtype=m.float64)
        t.add_(x)
        assert not t.is_leaf and t.requires_grad
        return t
    compare_with_torch(fn, arrays=_arrays((2, 3)))


def test_a_wider_value_is_cast_into_the_tensor_and_its_gradient_back_as_torch():
    def fn(m, w):
        t = m.zeros(3)  # float32, w float64
        t.add_(w).mul_(w)
        return t
    ours, _ = compare_with_torch(fn, arrays=_arrays((3,)), atol=1e-6, rtol=1e-5)
    assert ours[0].dtype == ts.float32


# ---- setitem ------------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [0, (slice(None), 1), (1, slice(0, 2)), ([0, 1], [2, 0]),
                                   (Ellipsis, None, 2)], ids=str)
def test_setitem_gives_the_old_tensor_its_gradient_outside_the_region_and_the_value_inside(index):
    def fn(m, x, v):
        t = x * 2
        value = v[: np.zeros((3, 4))[index].size].reshape(np.zeros((3, 4))[index].shape)
        t[index] = value
        return t * x
    compare_with_torch(fn, arrays=_arrays((3, 4), (12,)))


def test_setitem_with_a_mask_and_a_broadcast_value_as_torch():
    def fn(m, x, v):
        t = x * 1
        t[x > 0] = v.sum()
        t[:, 1:] = v  # (3,) into (3, 3)
        return t
    compare_with_torch(fn, arrays=_arrays((3, 4), (3,)))


def test_setitem_of_the_same_element_twice_gives_both_values_its_gradient_as_torch():
    def fn(m, x, w):
        t = m.zeros(2, 3, dtype=m.float64)
        t[[0, 0]] = m.stack([x, w])
        return t
    compare_with_torch(fn, arrays=_arrays((3,), (3,)))


# ---- the programs' patterns ---------------------------------------------------------------------
def test_a_decoder_loop_writing_outputs_t_as_torch():
    def fn(m, h0, w, emb):
        outputs = m.zeros(4, 2, 3, dtype=m.float64)
        h = h0
        for t in range(4):
            h = (h @ w + emb[t]).tanh()
            outputs[t] = h.log_softmax(1)
        return outputs
    compare_with_torch(fn, arrays=_arrays((2, 3), (3, 3), (4, 3)))


@pytest.mark.parametrize("start", ["zeros(1)", "Tensor([0])", "tensor(0.)"])
def test_loss_plus_equals_step_loss_as_torch(start):
    def fn(m, x, w):
        loss = {"zeros(1)": lambda: m.zeros(1, dtype=m.float64),
                "Tensor([0])": lambda: m.tensor([0.0], dtype=m.float64),
                "tensor(0.)": lambda: m.tensor(0.0, dtype=m.float64)}[start]()
        for t in range(3):
            loss += ((x[t] * w) ** 2).mean()
        return loss
    compare_with_torch(fn, arrays=_arrays((3, 4), (4,)))


def test_in_place_and_out_of_place_sums_mixed_and_the_model_reached_twice_as_torch():
    def fn(m, x, w):
        loss = m.zeros(1, dtype=m.float64)
        loss = loss + (w * w).sum()  # reaches w another way too
        for t in range(3):
            step = (x[t] * w).sigmoid().sum()
            loss += step
            loss = loss * 0.5
        loss -= w.sum()
        return loss
    compare_with_torch(fn, arrays=_arrays((3, 4), (4,)))


def test_an_intermediate_changed_in_place_then_used_twice_as_torch():
    def fn(m, x, w):
        y = x * 2
        a = y.sum()  # uses y before: its gradient goes to the old y
        y.add_(w)
        y.relu_()
        return y * 3 + a, y.sum()
    compare_with_torch(fn, arrays=_arrays((2, 3), (3,)))


def test_retain_grad_before_an_in_place_op_gives_the_new_values_gradient_as_torch():
    grads = []
    for m in (ts, torch):
        x = m.ones(3, dtype=m.float64, requires_grad=True)
        t = x * 1
        t.retain_grad()
        t.mul_(2)
        (t * t).sum().backward()
        grads.append((np.asarray(t.grad.tolist()), np.asarray(x.grad.tolist())))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b)


def test_a_parameter_changed_under_no_grad_then_backward_as_torch():
    results = []
    for m in (ts, torch):
        p = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = (p + 2).sum() * 2  # saves nothing of p
        with m.no_grad():
            p.add_(1)
            p[0] = 10.0
        y.backward()
        results.append((p.tolist(), p.grad.tolist(), p.is_leaf))
        z = (p * p).sum()
        with m.no_grad():
            p.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            z.backward()
    assert results[0] == results[1]


# ---- views --------------------------------------------------------------------------------------
VIEWS = {
    "t[0].add_(w)": lambda t, w: t[0].add_(w),
    "t[:, 1] = w": lambda t, w: t.__setitem__((slice(None), 1), w[:2]),
    "t[1][0:2] = w": lambda t, w: t[1].__setitem__(slice(0, 2), w[:2]),
    "t.T[2].mul_(w)": lambda t, w: t.T[2].mul_(w[:2]),
    "t.view(6)[1::2].sigmoid_()": lambda t, w: t.view(6)[1::2].sigmoid_(),
    "t[0][1].add_(w[0])": lambda t, w: t[0][1].add_(w[0]),
}


@pytest.mark.parametrize("case", VIEWS)
def test_writing_through_a_view_rebases_its_base_as_torch(case):
    def fn(m, x, w):
        t = x * 1
        VIEWS[case](t, w)
        return t * x
    compare_with_torch(fn, arrays=_arrays((2, 3), (3,)))


def test_the_written_view_itself_reads_the_new_values_gradient_as_torch():
    def fn(m, x, w):
        t = x * 1
        row = t[0]
        row.mul_(w)
        return row * 2, t
    compare_with_torch(fn, arrays=_arrays((2, 3), (3,)))


def test_a_view_made_before_its_base_changed_in_place_follows_it_as_torch():
    def fn(m, x, w):
        t = x * 1
        v = t[0:1]
        t.mul_(w)  # v is stale: its gradient must go through the mul
        return v * 2
    compare_with_torch(fn, arrays=_arrays((2, 3), (3,)))


def test_a_view_of_a_plain_tensor_requires_grad_once_its_base_takes_a_value_that_does():
    def fn(m, x):
        t = m.zeros(3, dtype=m.float64)
        v = t[0:2]
        t[1:] = x[1:] * 1
        return v.sum()
    ours, _ = compare_with_torch(fn, arrays=_arrays((3,)))
    assert ours[0].requires_grad


def test_backward_from_a_stale_view_goes_through_the_change_as_torch():
    grads = []
    for m in (ts, torch):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        t = x * 1
        v = t[1:]
        t.mul_(3)
        v.sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1] == [0.0, 3.0, 3.0]


# ---- saved tensors: what torch catches, and what works ------------------------------------------
@pytest.mark.parametrize("op", ["sigmoid_", "relu_", "exp_", "tanh_", "sqrt_"])
def test_an_op_that_saved_its_result_is_caught_when_the_result_changes_again_as_torch(op):
    for m in (ts, torch):
        x = m.tensor([0.5, 1.0], requires_grad=True)
        y = x * 1
        getattr(y, op)()
        y.sum().backward(retain_graph=m is torch)  # alone it works
        y = x * 1
        getattr(y, op)()
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            y.sum().backward()


@pytest.mark.parametrize("op", ["mul_", "div_", "clamp_", "log_", "abs_", "neg_", "add_"])
def test_an_op_that_needs_the_old_values_keeps_them_so_a_later_change_works_as_torch(op):
    def fn(m, x):
        y = x * 1
        getattr(y, op)(*([0.7] if op in ("mul_", "div_", "clamp_", "add_") else []))
        y.mul_(2)
        return y
    compare_with_torch(fn, arrays=[positive(RNG, (3,))])


def test_sigmoid_then_mul_in_place_on_its_output_is_caught_as_torch():
    for m in (ts, torch):
        x = m.tensor([0.5, 1.0], requires_grad=True)
        y = x.sigmoid()
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            y.sum().backward()


# ---- refusals, at the offending line ------------------------------------------------------------
REFUSED = {
    "leaf add_": (lambda x: x.add_(1), r"^add_: a leaf tensor that requires grad is being used "
                                       r"in an in-place operation; do it under `with "
                                       r"ts.no_grad\(\):`"),
    "leaf +=": (lambda x: x.__iadd__(1), r"^add_: a leaf tensor"),
    "leaf relu_": (lambda x: x.relu_(), r"^relu_: a leaf tensor"),
    "leaf setitem": (lambda x: x.__setitem__(0, 1.0), r"^__setitem__: a view of a leaf|"
                                                      r"^__setitem__: a leaf tensor"),
    "view of a leaf": (lambda x: x[0].add_(1), r"^add_: a view of a leaf tensor that requires "
                                               r"grad"),
    "no_grad view": (lambda x: _no_grad_view(x).add_(1), r"^add_: this view was made under "
                                                         r"no_grad"),
    "expanded": (lambda x: (x * 1)[:1].expand(3).add_(1), r"^add_: more than one element"),
    "one of unbind's views": (lambda x: (x * 1).view(3, 1).unbind(0)[1].add_(1),
                              r"^add_: this view is one of several that one op \('unbind'\)"),
}


def _no_grad_view(x):
    y = x * 1
    with ts.no_grad() if isinstance(x, ts.Tensor) else torch.no_grad():
        return y[0:2]


@pytest.mark.parametrize("case", REFUSED)
def test_what_torch_refuses_is_refused_at_that_line(case):
    make, words = REFUSED[case]
    with pytest.raises(RuntimeError):
        make(torch.tensor([1.0, 2.0, 3.0], requires_grad=True))
    x = ts.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=words):
        make(x)
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_a_leaf_is_written_under_no_grad_unrecorded_and_stays_a_leaf():
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    v = x._version.value
    with ts.no_grad():
        x.add_(1).relu_()
        x[1] = 0.5
    assert x.is_leaf and x.grad_fn is None and x.tolist() == [2.0, 0.5]
    assert x._version.value == v + 3


def test_an_integer_tensor_takes_a_value_that_requires_grad_without_a_graph_as_torch():
    for m in (ts, torch):
        t = m.zeros(3, dtype=m.int64)
        t[0] = m.tensor(2.5, requires_grad=True)
        assert t.tolist() == [2, 0, 0] and not t.requires_grad
        with pytest.raises(RuntimeError):
            t.add_(m.ones(3, requires_grad=True))


def test_views_share_the_written_memory():
    t = ts.zeros(2, 3)
    row = t[1]
    t.add_(ts.ones(3))
    row.mul_(3)
    assert t.tolist() == [[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]] and np.shares_memory(row, t)


def test_bad_arguments_of_the_in_place_draws_and_alpha_are_one_line_each():
    t = ts.ones(2)
    with pytest.raises(RuntimeError, match=r"^normal_: std must be >= 0, got -1$"):
        t.normal_(0, -1)
    with pytest.raises(RuntimeError, match=r"^uniform_: the range \[a, b\) must have a <= b"):
        t.uniform_(1, 0)
    with pytest.raises(TypeError, match=r"^add_: alpha must be a number, got str 'x'$"):
        t.add_(ts.ones(2), alpha="x")
    with pytest.raises(TypeError, match=r"^requires_grad must be True or False, got int 1$"):
        t.requires_grad_(1)
    assert t.tolist() == [1.0, 1.0]  # nothing was written
