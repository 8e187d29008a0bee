"""Higher-order gradients and forward mode (issue 18) of the ops that move elements without
changing them: reshapes, permutes, flips, expands, splits and joins, repeat, roll, indexing
(basic, advanced, masks, an embedding's ``weight[ids]``), gather and scatter, pad, triangles and
diagonals, and the in-place writes (``t[i] = v``, ``copy_``, through views).

One table, ``CASES``, drives every check: each row is a name, a function ``fn(m, *xs)`` written
once for both libraries (``m`` is ``tinyseq`` or ``torch``) and the shapes of its float inputs.
For each row:

- second derivatives against PyTorch, by the double-backward trick: ``g = d<f(x)², u>/dx`` with
  ``create_graph=True``, then ``d<g, w>/dx`` and ``d<g, w>/du`` (the latter needs the gradient's own
  graph to be the op again: these ops are linear, so ``d/dx`` alone would see nothing of it);
- gradgradcheck: that first gradient, as a function of ``x`` and ``u``, against central differences;
- forward mode against ``torch.autograd.forward_ad`` (primal and tangent);
- ``<J v, u> == <v, Jᵀ u>``: forward mode and reverse mode are transposes of each other.
A few rows go to third order.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyseq as ts
import tinyseq.autograd.forward_ad as ts_fwAD
from tests.strategies import FEW, nonscalar_shapes, seeds
from tests.torch_compare import torch

ATOL, RTOL = 1e-10, 1e-8
FW_AD = {ts: ts_fwAD, torch: torch.autograd.forward_ad}
MASK = np.array([[True, False, True, True], [False, False, True, False],
                 [True, True, False, True]])


def _ids(m, ids):
    return m.tensor(ids)


def _written(index):
    """``y = x * 1; y[index] = v``: a write into a tensor in the graph, as a function of x, v."""
    def fn(m, x, v):
        y = x * 1
        y[index if not isinstance(index, np.ndarray) else m.tensor(index)] = v
        return y
    return fn


def _write_number(m, x):
    y = x * 1
    y[1, 1:3] = 5  # an int value: a constant
    return y


def _through_view(m, x, v):
    """A write through a view (``CopySlices``), and a view taken before it read after it."""
    y = x * 1
    rest = y[1:]
    y[0].mul_(v)
    return y * rest.sum()


def _copy_into(m, x, v):
    y = x * 1
    y[1:].copy_(v)
    return y


def _fill(m, x, v):
    y = x * 1
    y.fill_(v)
    return y + x


def _view_sees_write(m, x):
    """A view taken before its root is changed in place sees the change (its tangent too)."""
    y = x * 1
    rest = y[1:]
    y.mul_(x)
    return rest * 1


def _write_into_constant(m, x, v):
    """A tensor outside the graph (no tangent) written through a view by one in it."""
    y = x.detach() * 1
    y[0].copy_(v)
    return y


def _chain(m, x, v):
    """Writes and in-place arithmetic one after the other on a tensor in the graph."""
    y = x * 1
    y[0] = v
    y.mul_(x)  # (needs the values y had before)
    y.add_(v, alpha=2.0)
    y.sub_(x * v)
    return y


def _reshaped_in_place(m, x):
    y = x * 1
    y.unsqueeze_(0)
    y.transpose_(0, 2)
    return y


def _embedding(m, w, **options):
    return m.nn.functional.embedding(_ids(m, [[0, 2, 2], [4, 0, 1]]), w, **options)


def _one_hot(m, w):
    """Words as one-hot rows times a matrix: the course's embedding, as a product."""
    return m.nn.functional.one_hot(_ids(m, [2, 0, 2, 4]), 5).to(m.float64) @ w


# (name, fn(m, *xs), shapes of the float inputs)
CASES = [
    ("reshape", lambda m, x: x.reshape(2, 6), [(3, 4)]),
    ("view", lambda m, x: x.view(-1), [(3, 4)]),
    ("reshape_0d", lambda m, x: x.reshape(1, 1), [()]),
    ("flatten", lambda m, x: x.flatten(1), [(2, 3, 2)]),
    ("squeeze", lambda m, x: x.squeeze(), [(3, 1, 2)]),
    ("squeeze_dim", lambda m, x: x.squeeze(-2), [(3, 1, 2)]),
    ("unsqueeze", lambda m, x: x.unsqueeze(-1), [(3, 2)]),
    ("permute", lambda m, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("transpose", lambda m, x: x.transpose(0, -1), [(2, 3, 4)]),
    ("t", lambda m, x: x.t(), [(3, 4)]),
    ("flip", lambda m, x: x.flip(0, -1), [(3, 4)]),
    ("expand", lambda m, x: x.expand(2, 3, 4), [(3, 1)]),
    ("expand_0d", lambda m, x: x.expand(3), [()]),
    ("split", lambda m, x: x.split(2), [(5, 3)]),
    ("split_sizes", lambda m, x: x.split([1, 2], dim=-1), [(4, 3)]),
    ("split_one_piece", lambda m, x: x.split(2)[1], [(5, 3)]),
    ("chunk", lambda m, x: x.chunk(2, 1)[0], [(3, 4)]),
    ("unbind", lambda m, x: x.unbind(1), [(3, 4)]),
    ("unbind_one", lambda m, x: x.unbind(0)[2], [(3, 4)]),
    ("cat", lambda m, x, y: m.cat([x, y], 1), [(2, 3), (2, 2)]),
    ("cat_same_twice", lambda m, x: m.cat([x, x * x]), [(2, 3)]),
    ("stack", lambda m, x, y: m.stack([x, y], -1), [(2, 3), (2, 3)]),
    ("repeat", lambda m, x: x.repeat(2, 1, 2), [(2, 3)]),
    ("repeat_0d", lambda m, x: x.repeat(3, 2), [()]),
    ("roll", lambda m, x: x.roll(1, 0), [(3, 4)]),
    ("roll_dims", lambda m, x: x.roll((1, -2), (0, 1)), [(3, 4)]),
    ("roll_flat", lambda m, x: x.roll(5), [(3, 4)]),
    ("index_basic", lambda m, x: x[1:, ::2], [(3, 4)]),
    ("index_int", lambda m, x: x[0], [(3, 4)]),
    ("index_none_ellipsis", lambda m, x: x[None, ..., 1], [(3, 4)]),
    ("index_rows", lambda m, x: x[[0, 2, 0]], [(3, 4)]),
    ("index_ids_2d", lambda m, x: x[_ids(m, [[0, 1], [2, 0]])], [(3, 4)]),
    ("index_columns", lambda m, x: x[:, [1, 3, 1]], [(3, 4)]),
    ("index_mixed", lambda m, x: x[0, :, [0, 2]], [(2, 3, 4)]),
    ("index_mask", lambda m, x: x[m.tensor(MASK)], [(3, 4)]),
    ("narrow", lambda m, x: x.narrow(1, 1, 2), [(3, 4)]),
    ("index_select", lambda m, x: x.index_select(1, _ids(m, [3, 0, 3])), [(3, 4)]),
    ("gather", lambda m, x: x.gather(1, _ids(m, [[0, 0], [3, 1], [2, 2]])), [(3, 4)]),
    ("take_along_dim", lambda m, x: m.take_along_dim(x, _ids(m, [[1], [0], [1]]), 1), [(3, 4)]),
    ("masked_select", lambda m, x: x.masked_select(m.tensor(MASK)), [(3, 4)]),
    ("scatter", lambda m, x, s: x.scatter(0, _ids(m, [[2, 0, 1, 0]]), s), [(3, 4), (1, 4)]),
    ("scatter_value", lambda m, x: x.scatter(1, _ids(m, [[1], [3], [0]]), 2.5), [(3, 4)]),
    ("scatter_add", lambda m, x, s: x.scatter_add(1, _ids(m, [[1, 1], [3, 0], [0, 2]]), s),
     [(3, 4), (3, 2)]),
    ("index_add", lambda m, x, s: x.index_add(0, _ids(m, [2, 0, 2]), s, alpha=2.0),
     [(3, 4), (3, 4)]),
    ("pad", lambda m, x: m.nn.functional.pad(x, (1, 2)), [(2, 3)]),
    ("pad_negative", lambda m, x: m.nn.functional.pad(x, (-1, 1, 2, -1), value=0.5), [(3, 4)]),
    ("pad_reflect", lambda m, x: m.nn.functional.pad(x, (2, 1), mode="reflect"), [(1, 2, 4)]),
    ("pad_replicate", lambda m, x: m.nn.functional.pad(x, (1, 2, 0, 1), mode="replicate"),
     [(1, 2, 3)]),
    ("pad_circular", lambda m, x: m.nn.functional.pad(x, (2, 1), mode="circular"), [(1, 2, 3)]),
    ("tril", lambda m, x: x.tril(), [(3, 4)]),
    ("tril_batch", lambda m, x: m.tril(x, -1), [(2, 3, 3)]),
    ("triu", lambda m, x: x.triu(1), [(3, 4)]),
    ("diagonal", lambda m, x: x.diagonal(1), [(3, 4)]),
    ("diagonal_dims", lambda m, x: m.diagonal(x, -1, 0, 2), [(3, 2, 4)]),
    ("diag_embed", lambda m, x: m.diag(x, 1), [(3,)]),
    ("diag", lambda m, x: x.diag(-1), [(3, 4)]),
    ("setitem_basic", _written((0,)), [(3, 4), (4,)]),
    ("setitem_broadcast", _written((slice(None), 1)), [(3, 4), (1,)]),
    ("setitem_rows", _written(([2, 0],)), [(3, 4), (2, 4)]),
    ("setitem_mixed", _written((0, slice(None), [0, 2])), [(2, 3, 4), (3, 2)]),
    ("setitem_mask", _written(MASK), [(3, 4), (7,)]),
    ("setitem_number", _write_number, [(3, 4)]),
    ("inplace_view", _through_view, [(3, 4), (4,)]),
    ("copy_", _copy_into, [(3, 4), (4,)]),
    ("fill_", _fill, [(3, 4), ()]),
    ("view_sees_write", _view_sees_write, [(3, 4)]),
    ("write_into_constant", _write_into_constant, [(3, 4), (4,)]),
    ("inplace_chain", _chain, [(3, 4), (4,)]),
    ("reshaped_in_place", _reshaped_in_place, [(3, 4)]),
    ("embedding", _embedding, [(5, 3)]),
    ("one_hot", _one_hot, [(5, 3)]),
]
IDS = [c[0] for c in CASES]
THIRD = ["reshape", "permute", "index_rows", "split_one_piece", "cat", "setitem_rows", "pad",
         "diagonal", "scatter_add", "inplace_view"]


# ---- running one case on one library ------------------------------------------------------------
def _arrays(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _leaves(m, arrays):
    return [m.tensor(a, dtype=m.float64, requires_grad=True) for a in arrays]


def _outputs(y):
    return tuple(y) if isinstance(y, (tuple, list)) else (y,)


def _numpy(ts_or_torch_tensors, like):
    """Gradients as arrays, zeros for ``None`` (an input the result does not depend on)."""
    return [np.zeros(np.shape(a)) if g is None else g.detach().numpy()
            for g, a in zip(ts_or_torch_tensors, like)]


def _data(fn, shapes):
    """The inputs ``x``, the upstream weights ``u`` (one per output) and ``w`` (one per input)."""
    xs = _arrays(shapes, 1)
    out_shapes = [y.shape for y in _outputs(fn(ts, *_leaves(ts, xs)))]
    return xs, _arrays(out_shapes, 2), _arrays(shapes, 3)


def _first(m, fn, xs, us):
    """``d<f(x)², u>/dx`` with ``create_graph=True``."""
    ys = _outputs(fn(m, *xs))
    loss = sum(((y * y) * u).sum() for y, u in zip(ys, us))
    gs = m.autograd.grad(loss, xs, create_graph=True, allow_unused=True)
    return [m.zeros_like(x) if g is None else g for g, x in zip(gs, xs)]  # (x.detach()-ed)


def _second(m, fn, arrays):
    """``d<g, w>/dx`` and ``d<g, w>/du`` for ``g = _first``, as arrays."""
    x_arrays, u_arrays, w_arrays = arrays
    xs, us = _leaves(m, x_arrays), _leaves(m, u_arrays)
    gs = _first(m, fn, xs, us)
    s = sum((g * m.tensor(w, dtype=m.float64)).sum() for g, w in zip(gs, w_arrays))
    return _numpy(m.autograd.grad(s, xs + us, allow_unused=True), x_arrays + u_arrays)


def _tangents(m, fn, x_arrays, v_arrays):
    """The primal and tangent of each output of ``fn`` with the inputs carrying ``v``."""
    fwAD = FW_AD[m]
    with fwAD.dual_level():
        duals = [fwAD.make_dual(m.tensor(x, dtype=m.float64), m.tensor(v, dtype=m.float64))
                 for x, v in zip(x_arrays, v_arrays)]
        out = []
        for y in _outputs(fn(m, *duals)):
            primal, tangent = fwAD.unpack_dual(y)
            out.append((primal.detach().numpy().copy(),
                        np.zeros(y.shape) if tangent is None else tangent.numpy().copy()))
        return out


def _close(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=RTOL)


# ---- the checks, for every row ------------------------------------------------------------------
@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_second_derivatives_match_torch(name, fn, shapes):
    arrays = _data(fn, shapes)
    _close(_second(ts, fn, arrays), _second(torch, fn, arrays))


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_gradgradcheck(name, fn, shapes):
    x_arrays, u_arrays, _ = _data(fn, shapes)
    n = len(x_arrays)

    def first(*inputs):
        with ts.enable_grad():  # (gradcheck's differences run under no_grad)
            return _first(ts, fn, list(inputs[:n]), list(inputs[n:]))

    assert ts.autograd.gradcheck(first, _leaves(ts, x_arrays + u_arrays))


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_forward_mode_matches_torch(name, fn, shapes):
    x_arrays, _, v_arrays = _data(fn, shapes)
    ours, theirs = _tangents(ts, fn, x_arrays, v_arrays), _tangents(torch, fn, x_arrays, v_arrays)
    assert len(ours) == len(theirs)
    for (p, t), (tp, tt) in zip(ours, theirs):
        _close([p, t], [tp, tt])


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_forward_is_the_transpose_of_reverse(name, fn, shapes):
    """``<J v, u> == <v, Jᵀ u>``, J v by forward mode and Jᵀ u by a backward pass."""
    x_arrays, u_arrays, v_arrays = _data(fn, shapes)
    jv = [t for _, t in _tangents(ts, fn, x_arrays, v_arrays)]
    xs = _leaves(ts, x_arrays)
    ys = _outputs(fn(ts, *xs))
    us = [ts.tensor(u, dtype=ts.float64) for u in u_arrays]
    jtu = _numpy(ts.autograd.grad(ys, xs, us, allow_unused=True), x_arrays)
    forward = sum(float(np.vdot(a, u)) for a, u in zip(jv, u_arrays))
    reverse = sum(float(np.vdot(v, g)) for v, g in zip(v_arrays, jtu))
    assert abs(forward) > 1e-3  # (a real test: something flows)
    np.testing.assert_allclose(forward, reverse, rtol=1e-10)


def _third(m, fn, arrays):
    """``d/dx <d/dx <d<f(x)³, u>/dx, w>, w>``: a third derivative."""
    x_arrays, u_arrays, w_arrays = arrays
    xs, us = _leaves(m, x_arrays), _leaves(m, u_arrays)
    ws = [m.tensor(w, dtype=m.float64) for w in w_arrays]
    loss = sum((y * y * y * u).sum() for y, u in zip(_outputs(fn(m, *xs)), us))
    g1 = m.autograd.grad(loss, xs, create_graph=True)
    g2 = m.autograd.grad(sum((g * w).sum() for g, w in zip(g1, ws)), xs, create_graph=True)
    g3 = m.autograd.grad(sum((g * w * w).sum() for g, w in zip(g2, ws)), xs + us,
                         allow_unused=True)
    return _numpy(g3, x_arrays + u_arrays)


@pytest.mark.parametrize("name,fn,shapes", [c for c in CASES if c[0] in THIRD], ids=THIRD)
def test_third_derivatives_match_torch(name, fn, shapes):
    arrays = _data(fn, shapes)
    ours = _third(ts, fn, arrays)
    assert any(np.abs(a).max() > 1e-3 for a in ours)
    _close(ours, _third(torch, fn, arrays))


def test_scatter_from_a_larger_src_gradgradcheck():
    """``src`` larger than ``index`` (only its corner is scattered), which torch's own backward
    refuses; the rest of ``src`` gets zero gradients, to every order."""
    fn = (lambda m, x, s: x.scatter(0, _ids(m, [[2, 0, 1, 0]]), s))
    x_arrays, u_arrays, w_arrays = _data(fn, [(3, 4), (2, 4)])

    def first(x, s, u):
        with ts.enable_grad():
            return _first(ts, fn, [x, s], [u])

    assert ts.autograd.gradcheck(first, _leaves(ts, x_arrays + u_arrays))
    second = _second(ts, fn, (x_arrays, u_arrays, w_arrays))
    assert np.all(second[1][1] == 0) and np.abs(second[1][0]).max() > 0.1  # (s's second row)


def _embedding_model(m, state=None):
    """``Linear(tanh(Embedding(ids)))``, in float64, with torch's weights in tinyseq's."""
    m.manual_seed(0)
    model = m.nn.Sequential(m.nn.Embedding(5, 3), m.nn.Tanh(), m.nn.Linear(3, 2)).double()
    if state is not None:
        model.load_state_dict(state)
    return model


def _hessian_vector(m, model, ids):
    """``H v`` of ``Σ tanh(model(ids))`` with respect to every parameter, one fixed ``v``."""
    params = list(model.parameters())
    gs = m.autograd.grad(model(m.tensor(ids)).tanh().sum(), params, create_graph=True)
    vs = [m.tensor(np.cos(np.arange(p.numel())).reshape(tuple(p.shape)), dtype=m.float64)
          for p in params]
    return [h.detach().numpy() for h in
            m.autograd.grad(sum((g * v).sum() for g, v in zip(gs, vs)), params)]


def test_embedding_layer_second_derivative_matches_torch():
    """A Hessian-vector product through ``nn.Embedding`` (``weight[ids]``, ids repeated), from
    the same weights as torch's."""
    ids = [[1, 3, 3, 0], [2, 2, 4, 1]]
    reference = _embedding_model(torch)
    state = {k: v.numpy() for k, v in reference.state_dict().items()}
    ours = _hessian_vector(ts, _embedding_model(ts, state), ids)
    assert np.abs(ours[0]).max() > 1e-3
    _close(ours, _hessian_vector(torch, reference, ids))


@st.composite
def _joined(draw):
    """``(fn, shapes)``: ``cat`` (pieces of any size along the dim, empty ones too) or ``stack``
    of 1 to 3 tensors, along a dim of either sign."""
    shape = list(draw(nonscalar_shapes))
    count = draw(st.integers(1, 3))
    if draw(st.booleans()):
        dim = draw(st.integers(-len(shape) - 1, len(shape)))
        return (lambda m, *xs: m.stack(xs, dim)), [tuple(shape)] * count
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    sizes = draw(st.lists(st.integers(0, 3), min_size=count, max_size=count).filter(any))
    shapes = [tuple(shape[:dim % len(shape)] + [n] + shape[dim % len(shape) + 1:])
              for n in sizes]
    return (lambda m, *xs: m.cat(xs, dim)), shapes


@FEW
@given(_joined(), seeds)
def test_joins_of_any_shape_match_torch(case, seed):
    """``cat`` and ``stack`` (the ops of several inputs here): second derivatives with respect to
    every input and forward-mode tangents, against torch."""
    fn, shapes = case
    xs, _, _ = _data(fn, shapes)
    out_shape = _outputs(fn(ts, *_leaves(ts, xs)))[0].shape
    us, ws = _arrays([out_shape], seed), _arrays(shapes, seed + 1)
    _close(_second(ts, fn, (xs, us, ws)), _second(torch, fn, (xs, us, ws)))
    for ours, theirs in zip(_tangents(ts, fn, xs, ws), _tangents(torch, fn, xs, ws)):
        _close(ours, theirs)


@pytest.mark.parametrize("write", [lambda y: y.mul_(y), lambda y: y.div_(y),
                                   lambda y: y.mul_(y.view(3)), lambda y: y.clamp_(max=y)])
def test_a_write_by_its_own_values_refuses_at_backward_as_torch(write):
    """``y.mul_(y)``: the op's gradient needs the ``y`` it read, which the write overwrote; torch
    refuses at backward, and so does tinyseq (it gave a wrong gradient silently)."""
    for m in (ts, torch):
        x = m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
        y = x * 1
        write(y)
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            y.sum().backward()
