"""Jacobians and Hessians of a function, as ``torch.autograd.functional``: ``vjp``, ``jvp``,
``jacobian``, ``hessian``, ``vhp``, ``hvp``.

Each takes a function of Tensors and the point ``inputs`` (a Tensor, or a tuple of Tensors) and
returns what PyTorch returns, in the same structure: a Tensor where ``inputs`` (or the function's
output) is one Tensor, a tuple where it is a tuple.

    >>> import tinyseq as ts
    >>> from tinyseq.autograd.functional import jacobian, hessian
    >>> x = ts.tensor([1.0, 2.0])
    >>> jacobian(lambda x: x * x, x)             # d(x²)/dx = diag(2x)
    tensor([[2., 0.],
            [0., 4.]])
    >>> hessian(lambda x: (x * x * x).sum(), x)  # diag(6x)
    tensor([[ 6.,  0.],
            [ 0., 12.]])

How they are computed. Reverse mode gives one row of a Jacobian per backward walk (a
vector-Jacobian product ``vᵀ J``), forward mode one column per forward pass (``J v``, dual
tensors: ``forward_ad.py``). A Hessian is the Jacobian of the gradient: the gradient is made with
``create_graph=True`` so that it can be differentiated again. PyTorch batches the rows (or the
columns) with ``vmap`` when ``vectorize=True``; tinyseq has no ``vmap``, so it accepts
``vectorize`` and computes them one by one, with the same results.

Every function works on fresh tensors, never the caller's (``prepare``): with
``create_graph=False`` the results are detached; with ``create_graph=True`` they stay in a graph
that leads back to the caller's inputs that require grad. What the six share (their arguments'
checks and structures, strict mode's checks, ``grad`` as they call it) is ``_functional_args.py``.
"""
import numpy as np

from . import forward_ad as fwAD
from ._functional_args import (as_tuple, check_floating, check_requires_grad, finish, gradients,
                               outputs_of, prepare, unpack, v_or_one, zeros_for_missing)
from .mode import enable_grad, is_grad_enabled, set_grad_enabled
from .ops.joins import stack
from .tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

STRATEGIES = ("forward-mode", "reverse-mode")


# ---- products with one vector ----------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), vᵀ J)``: the vector-Jacobian product by one backward walk; ``v`` has the
    outputs' shapes, the product the inputs'.

    >>> import tinyseq as ts
    >>> out, g = ts.autograd.functional.vjp(lambda x: x * x, ts.tensor([1.0, 2.0]),
    ...                                     ts.tensor([1.0, 1.0]))
    >>> g
    tensor([2., 4.])
    """
    with enable_grad():
        inputs_tuple, inputs = as_tuple(inputs, "inputs", "vjp")
        inputs = prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = outputs_of(func, inputs, "vjp", strict)
        v = v_or_one(v, outputs, outputs_tuple, create_graph, "vjp",
                      "the user-provided function returns")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = gradients(outputs, inputs, v, create_graph=create_graph)
        result = zeros_for_missing(grads, inputs, strict, create_graph, "back", "vjp")
    return (unpack(finish(outputs, create_graph), outputs_tuple),
            unpack(finish(result, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product; ``v`` has the inputs' shapes, the
    product the outputs'.

    With ``create_graph=False`` and ``strict=False`` it is computed by forward mode (dual
    tensors, one forward pass: ``forward_ad.py``). Otherwise, as in PyTorch, by the double
    backward trick: ``g(u) = uᵀ J`` is linear in ``u``, so the gradient of ``g(u) · v`` with respect
    to ``u`` is ``J v``; that needs ``create_graph`` (every op's ``graph_backward``).

    >>> import tinyseq as ts
    >>> out, jv = ts.autograd.functional.jvp(lambda x: x * x, ts.tensor([1.0, 2.0]),
    ...                                      ts.tensor([1.0, 0.0]))
    >>> jv
    tensor([2., 0.])
    """
    if not create_graph and not strict:
        inputs_tuple, inputs = as_tuple(inputs, "inputs", "jvp")
        v = v_or_one(v, inputs, inputs_tuple, False, "jvp",
                     "the input to the user-provided function is")
        tangents = v if v is not None else tuple(Tensor._wrap(np.ones_like(t._data))
                                                 for t in inputs)
        outputs_tuple, outputs, jv = _forward_mode(func, inputs, tangents)
        check_floating(outputs, "jvp")
        return unpack(outputs, outputs_tuple), unpack(jv, outputs_tuple)
    return _jvp_double_backward(func, inputs, v, create_graph, strict)


def _forward_mode(func, inputs, tangents):
    """``(outputs were a tuple, outputs, their tangents)`` of ``func`` at ``inputs`` moving along
    ``tangents``, by one forward pass with dual tensors (an output without a tangent: zeros)."""
    with fwAD.dual_level():
        duals = [fwAD.make_dual(t.detach(), d) for t, d in zip(inputs, tangents)]
        outputs_tuple, outputs = as_tuple(func(*duals), "outputs of the user-provided function",
                                           "jvp")
        unpacked = [fwAD.unpack_dual(o) for o in outputs]
    primals = tuple(p.detach() for p, _ in unpacked)
    jv = tuple(Tensor._wrap(np.zeros(p.shape, p._data.dtype)) if d is None else d
               for p, d in unpacked)
    return outputs_tuple, primals, jv


def _jvp_double_backward(func, inputs, v, create_graph, strict):
    """``jvp`` by the double backward trick, as ``torch.autograd.functional.jvp``."""
    with enable_grad():
        inputs_tuple, inputs = as_tuple(inputs, "inputs", "jvp")
        inputs = prepare(inputs, create_graph, need_graph=True)
        v = v_or_one(v, inputs, inputs_tuple, create_graph, "jvp",
                     "the input to the user-provided function is")
        outputs_tuple, outputs = outputs_of(func, inputs, "jvp", strict)
        check_floating(outputs, "jvp")
        # uᵀ J is linear in u, so u's value never enters J v: zeros will do (no Inf, no NaN)
        u = tuple(Tensor._wrap(np.zeros(o.shape, o._data.dtype)).requires_grad_() for o in outputs)
        grad_inputs = gradients(outputs, inputs, u, create_graph=True)
        check_requires_grad(grad_inputs, "grad_inputs", strict, "jvp")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = gradients(grad_inputs, u, v, create_graph=create_graph)
        result = zeros_for_missing(grads, outputs, strict, create_graph, "back_trick", "jvp")
    return (unpack(finish(outputs, create_graph), outputs_tuple),
            unpack(finish(result, create_graph), outputs_tuple))


# ---- Jacobians and Hessians -------------------------------------------------------------------

def _one_hot(like, k):
    """A tensor of ``like``'s shape and dtype: zeros with 1 at flat position ``k``."""
    e = np.zeros(like.shape, like._data.dtype)
    e.flat[k] = 1
    return Tensor._wrap(e)


def _assemble(pieces, shape, dtype):
    """Rows of one Jacobian block joined into ``shape`` (zeros of ``dtype`` for an empty output:
    no rows). A single piece already of that shape (the gradient of a one-element output) is
    kept as it is: no op is added to its graph."""
    if not pieces:
        return Tensor._wrap(np.zeros(shape, dtype))
    if len(pieces) == 1 and pieces[0].shape == shape:
        return pieces[0]
    return stack(pieces).reshape(shape)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for output i and input j a Tensor of shape
    ``output_i.shape + input_j.shape``; a tuple over the inputs if ``inputs`` is a tuple, a
    tuple (over outputs) of those if ``func`` returns a tuple.

    ``strategy="reverse-mode"``: one backward walk per output element (a row). ``"forward-mode"``:
    one forward pass with dual tensors per input element (a column); cheaper when the inputs have
    fewer elements than the outputs. PyTorch allows forward mode only with ``vectorize=True``
    (its vmap); so does tinyseq, which has no vmap and computes rows or columns one at a time
    whatever ``vectorize`` says.

    >>> import tinyseq as ts
    >>> x = ts.tensor([1.0, 2.0])
    >>> ts.autograd.functional.jacobian(lambda x: x.exp(), x, vectorize=True,
    ...                                 strategy="forward-mode")
    tensor([[2.7183, 0.0000],
            [0.0000, 7.3891]])
    """
    if strategy not in STRATEGIES:
        raise AssertionError(f'jacobian: strategy must be "forward-mode" or "reverse-mode", got '
                             f'{strategy!r}. Hint: if your function has more outputs than '
                             'inputs, "forward-mode" tends to be faster; otherwise prefer '
                             '"reverse-mode"')
    if strategy == "forward-mode":
        return _jacobian_by_columns(func, inputs, create_graph, strict, vectorize, _forward_mode)
    return _jacobian_by_rows(func, inputs, create_graph, strict, vectorize, "jacobian")


# torch's reverse-mode Jacobian stacks the rows of each output: it refuses an output without
# elements (without vmap, or with it when no output has one): what was empty and the fix, by caller
_EMPTY = {
    "jacobian": ("output {i} of the user-provided function", 'strategy="forward-mode"'),
    "hessian": ("input {i}", 'outer_jacobian_strategy="forward-mode"'),
}


def _jacobian_by_rows(func, inputs, create_graph, strict, vectorize, fn):
    """``jacobian`` by reverse mode: one backward walk per output element (``_rows``); ``fn``
    (jacobian, or hessian for its outer Jacobian) names the caller in the error of an empty
    output."""
    with enable_grad():
        inputs_tuple, inputs = as_tuple(inputs, "inputs", "jacobian")
        inputs = prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = outputs_of(func, inputs, "jacobian", strict)
        if vectorize and strict:
            raise RuntimeError("jacobian: strict=True and vectorize=True are not supported "
                               "together (as in torch); set strict=False or vectorize=False")
        refuse_empty = not vectorize or all(o.numel() == 0 for o in outputs)
        blocks = []
        for i, out in enumerate(outputs):
            if refuse_empty and out.numel() == 0:
                what, fix = _EMPTY[fn]
                raise RuntimeError(f"{fn}: {what.format(i=i)} has no elements (shape "
                                   f"{tuple(out.shape)}), and a reverse-mode Jacobian has no "
                                   "rows to stack for it (torch refuses it too: stack expects a "
                                   f"non-empty TensorList); pass {fix} with vectorize=True for "
                                   "the empty result")
            blocks.append(_rows(out, i, inputs, create_graph, strict))
    return unpack(finish(tuple(blocks), create_graph), (outputs_tuple, inputs_tuple))


def _rows(out, i, inputs, create_graph, strict):
    """The Jacobian of output ``out`` (number ``i``) with respect to each input, row by row: row
    k is the gradient of ``out.flat[k]``, a backward walk from ``out`` seeded with a one-hot."""
    rows = [[] for _ in inputs]
    for k in range(out.numel()):
        grads = gradients((out,), inputs, (_one_hot(out, k),), create_graph, retain_graph=True)
        for j, (g, x) in enumerate(zip(grads, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"jacobian: output {i} of the user-provided function is "
                                       f"independent of input {j}. This is not allowed in "
                                       "strict mode")
                g = Tensor._wrap(np.zeros(x.shape, x._data.dtype))
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"jacobian: the jacobian of the user-provided function is "
                                   f"independent of input {j}. This is not allowed in strict "
                                   "mode when create_graph=True")
            rows[j].append(g)
    return tuple(_assemble(r, out.shape + x.shape, x._data.dtype) for r, x in zip(rows, inputs))


def _jacobian_by_columns(func, inputs, create_graph, strict, vectorize, column):
    """The Jacobian column by column: ``column(func, inputs, tangents)`` gives ``(outputs were a
    tuple, outputs, J tangents)`` for one-hot ``tangents``. Refuses what torch's forward-mode
    Jacobian refuses, in its order."""
    if create_graph:
        raise NotImplementedError('jacobian: create_graph=True and strategy="forward-mode" are '
                                  'not supported together (as in torch); set create_graph=False '
                                  'or strategy="reverse-mode"')
    if strict:
        raise RuntimeError('jacobian: strict=True and strategy="forward-mode" are not '
                           'supported together (as in torch); set strict=False or '
                           'strategy="reverse-mode"')
    inputs_tuple, inputs = as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError("jacobian: computing a Jacobian by forward mode (or a "
                                  "forward-over-reverse Hessian) is only implemented for "
                                  "vectorize=True, as in torch; pass vectorize=True")
    columns = []  # per input, per element: J e_k, one tensor per output
    for j, x in enumerate(inputs):
        for k in range(x.numel()):
            tangents = [_one_hot(x, k) if i == j else Tensor._wrap(np.zeros_like(t._data))
                        for i, t in enumerate(inputs)]
            outputs_tuple, outputs, jv = column(func, inputs, tangents)
            columns.append((j, jv))
    if not columns:  # no input has an element: one pass for the outputs (an empty Jacobian)
        outputs_tuple, outputs, _ = column(func, inputs, [Tensor._wrap(np.zeros_like(t._data))
                                                          for t in inputs])
    # lists, not tuples, where the inputs or outputs were tuples: torch's forward-mode structure
    blocks = [[_assemble_columns([jv[i] for j2, jv in columns if j2 == j], out.shape + x.shape,
                                 out._data.dtype)
               for j, x in enumerate(inputs)]
              for i, out in enumerate(outputs)]
    return unpack(blocks, (outputs_tuple, inputs_tuple))


def _assemble_columns(columns, shape, dtype):
    """Columns ``J e_k`` (each of the output's shape) as the block ``output.shape + input.shape``
    (zeros of ``dtype`` for an input without elements: no columns)."""
    if not columns:
        return Tensor._wrap(np.zeros(shape, dtype))
    data = np.stack([c._data.reshape(-1) for c in columns], axis=-1)
    return Tensor._wrap(data.reshape(shape))


def _column_double_backward(func, inputs, tangents):
    """One Jacobian column by the double backward trick (see ``jvp``)."""
    outputs, jv = jvp(func, inputs, tuple(tangents), create_graph=True)
    outputs_tuple = isinstance(outputs, tuple)
    outputs, jv = (outputs, jv) if outputs_tuple else ((outputs,), (jv,))
    return outputs_tuple, tuple(o.detach() for o in outputs), tuple(t.detach() for t in jv)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of ``func`` (one output with one element) at ``inputs``: the Jacobian of its
    gradient. For inputs i and j a Tensor of shape ``input_i.shape + input_j.shape``; a tuple of
    tuples if ``inputs`` is a tuple.

    The gradient is taken by reverse mode with ``create_graph=True``; the outer Jacobian by
    ``outer_jacobian_strategy``: "reverse-mode" (rows) or "forward-mode" (columns; needs
    ``vectorize=True``, as in torch). tinyseq's forward mode does not yet carry tangents through
    the tensors a gradient's graph reuses from the forward pass, so a "forward-mode" column is
    computed as a Jacobian-vector product by the double backward trick (``jvp``): the same
    numbers, by reverse-over-reverse.

    >>> import tinyseq as ts
    >>> x = ts.tensor([1.0, 2.0])
    >>> ts.autograd.functional.hessian(lambda x: (x * x).sum() * x.sum(), x)
    tensor([[10.,  6.],
            [ 6., 14.]])
    """
    inputs_tuple, inputs = as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in STRATEGIES:
        raise AssertionError(f'hessian: outer_jacobian_strategy must be "forward-mode" or '
                             f'"reverse-mode", got {outer_jacobian_strategy!r}')

    def one_output(*xs):
        is_tuple, outs = outputs_of(func, xs, "hessian", strict)
        if is_tuple:
            raise RuntimeError("hessian: the function given to hessian should return a single "
                               "Tensor, not a tuple")
        if outs[0].numel() != 1:
            raise RuntimeError(f"hessian: the Tensor returned by the function given to hessian "
                               f"should contain a single element, got shape {outs[0].shape}")
        return outs[0] if outs[0].ndim == 0 else outs[0].reshape(())

    def gradient(*xs):
        g = jacobian(one_output, xs, create_graph=True)
        check_requires_grad(g, "jacobian", strict, "hessian")
        return g

    if outer_jacobian_strategy == "forward-mode":
        result = _jacobian_by_columns(gradient, inputs, create_graph, strict, vectorize,
                                      _column_double_backward)
    else:
        result = _jacobian_by_rows(gradient, inputs, create_graph, strict, vectorize, "hessian")
    return unpack(result, (inputs_tuple, inputs_tuple))


# ---- Hessian-vector products --------------------------------------------------------------------

def _gradient_of_one_output(func, inputs, v, create_graph, strict, fn):
    """What ``vhp`` and ``hvp`` share: the prepared inputs and ``v``, the function's one output
    and its gradient with respect to the inputs, itself a graph (``create_graph=True``)."""
    inputs_tuple, inputs = as_tuple(inputs, "inputs", fn)
    inputs = prepare(inputs, create_graph, need_graph=True)
    v = v_or_one(v, inputs, inputs_tuple, create_graph, fn,
                  "the input to the user-provided function is")
    outputs_tuple, outputs = outputs_of(func, inputs, fn, strict)
    if outputs_tuple:
        raise RuntimeError(f"{fn}: the function given to {fn} should return a single Tensor, "
                           "not a tuple")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"{fn}: the Tensor returned by the function given to {fn} should "
                           f"contain a single element, got shape {outputs[0].shape}")
    g = gradients(outputs, inputs, create_graph=True)
    check_requires_grad(g, "jacobian", strict, fn)
    return inputs_tuple, inputs, v, outputs, g


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), vᵀ H)``: the vector-Hessian product of a function with one output, by a
    backward walk through its gradient (reverse over reverse).

    >>> import tinyseq as ts
    >>> out, vh = ts.autograd.functional.vhp(lambda x: (x * x * x).sum(), ts.tensor([1.0, 2.0]),
    ...                                      ts.tensor([1.0, 1.0]))
    >>> vh                                       # H = diag(6x)
    tensor([ 6., 12.])
    """
    with enable_grad():
        inputs_tuple, inputs, v, outputs, g = _gradient_of_one_output(
            func, inputs, v, create_graph, strict, "vhp")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = gradients(g, inputs, v, create_graph=create_graph)
        result = zeros_for_missing(grads, inputs, strict, create_graph, "double_back", "vhp")
    return (unpack(finish(outputs, create_graph), False),
            unpack(finish(result, create_graph), inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)``: the Hessian-vector product of a function with one output. As in
    PyTorch, by the double backward trick on ``vhp``'s walk (``uᵀ H`` is linear in ``u``); for the
    symmetric Hessian of a twice continuously differentiable function it equals ``vhp``.

    >>> import tinyseq as ts
    >>> out, hv = ts.autograd.functional.hvp(lambda x: (x * x * 3).mean(),
    ...                                      ts.tensor([1.0, 2.0]), ts.tensor([1.0, -1.0]))
    >>> hv                                       # H = 3 I (two elements)
    tensor([ 3., -3.])
    """
    with enable_grad():
        inputs_tuple, inputs, v, outputs, g = _gradient_of_one_output(
            func, inputs, v, create_graph, strict, "hvp")
        u = tuple(Tensor._wrap(np.zeros(x.shape, x._data.dtype)).requires_grad_() for x in inputs)
        double_back = gradients(g, inputs, u, create_graph=True)
        check_requires_grad(g, "hessian", strict, "hvp")  # (torch checks the gradient here too)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = gradients(double_back, u, v, create_graph=create_graph)
        result = zeros_for_missing(grads, inputs, strict, create_graph, "double_back_trick",
                                    "hvp")
    return (unpack(finish(outputs, create_graph), False),
            unpack(finish(result, create_graph), inputs_tuple))
