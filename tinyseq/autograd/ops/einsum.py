"""``ts.einsum(equation, *operands)``: Einstein summation, as ``torch.einsum``.

The equation is normalised first (``...`` spelled out as letters, the implicit output of an
equation without ``->`` made explicit: the letters seen once, in alphabetical order), then one
``Einsum`` op runs ``np.einsum``. The gradient of operand ``i`` is itself an einsum: the output's
gradient contracted with the other operands, onto operand ``i``'s letters; a letter that only
operand ``i`` has (summed away in the forward) is broadcast back, and a dim of size 1 that
broadcast against a larger one is summed back. A letter repeated within one operand (a diagonal,
``'ii->i'``) is refused, as is the sublist form ``einsum(a, [0, 1], ...)``.
"""
import string

import numpy as np

from ..dtypes import tensor_of
from ..function import Function


class Einsum(Function):
    """``np.einsum(f"{inputs}->{output}", *arrays)`` for normalised letters ``inputs`` (a list)
    and ``output`` (a string)."""

    @staticmethod
    def forward(ctx, inputs, output, *arrays):
        ctx.inputs, ctx.output = inputs, output
        ctx.save_for_backward(*arrays)
        spec = ",".join(inputs) + "->" + output
        return np.asarray(np.einsum(spec, *arrays, optimize=len(arrays) > 2))

    @staticmethod
    def backward(ctx, g):
        arrays = ctx.saved_tensors
        grads = [None, None]
        for i, a in enumerate(arrays):
            need = ctx.needs_input_grad[2 + i]
            grads.append(_operand_grad(g, ctx.inputs, ctx.output, arrays, i) if need else None)
        return tuple(grads)

    @staticmethod
    def graph_backward(ctx, g):
        """``backward`` as a graph: each operand's gradient is an ``Einsum`` of ``g`` and the
        other operands (their tensors), summed and broadcast back with Tensor ops."""
        tensors = ctx.saved_tensors
        return (None, None) + tuple(
            _operand_grad_graph(g, ctx.inputs, ctx.output, tensors, i) if need else None
            for i, need in enumerate(ctx.needs_input_grad[2:]))

    @staticmethod
    def jvp(ctx, inputs, output, *tangents):
        """Multilinear: the sum over operands of the einsum with that operand's tangent."""
        arrays, spec = ctx.saved_tensors, ",".join(inputs) + "->" + output
        return sum(np.einsum(spec, *arrays[:i], t, *arrays[i + 1:], optimize=len(arrays) > 2)
                   for i, t in enumerate(tangents))


def _operand_grad(g, inputs, output, arrays, i):
    """The gradient of operand ``i``: ``g`` contracted with the others onto its letters."""
    mine, a = inputs[i], arrays[i]
    others = [(s, x) for k, (s, x) in enumerate(zip(inputs, arrays)) if k != i]
    seen = set(output).union(*[s for s, _ in others])
    kept = "".join(c for c in mine if c in seen)
    spec = ",".join([output] + [s for s, _ in others]) + "->" + kept
    grad = np.einsum(spec, g, *[x for _, x in others], optimize=len(others) > 1)
    for axis, c in enumerate(kept):  # a dim of size 1 broadcast in the forward: summed back
        if a.shape[mine.index(c)] == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    missing = [k for k, c in enumerate(mine) if c not in seen]
    grad = np.expand_dims(grad, missing) if missing else grad
    return np.broadcast_to(grad, a.shape).astype(a.dtype, copy=False)


def _operand_grad_graph(g, inputs, output, tensors, i):
    """``_operand_grad`` on Tensors: ``g`` contracted with the other operands by ``Einsum``,
    onto operand ``i``'s letters."""
    mine, shape = inputs[i], tensors[i].shape
    others = [(s, x) for k, (s, x) in enumerate(zip(inputs, tensors)) if k != i]
    seen = set(output).union(*[s for s, _ in others])
    kept = "".join(c for c in mine if c in seen)
    grad = Einsum.apply([output] + [s for s, _ in others], kept, g, *[x for _, x in others])
    summed = tuple(axis for axis, c in enumerate(kept)
                   if shape[mine.index(c)] == 1 and grad.shape[axis] != 1)
    grad = grad.sum(summed, keepdim=True) if summed else grad
    for k, c in enumerate(mine):  # (ascending: each letter lands at its own place)
        if c not in seen:
            grad = grad.unsqueeze(k)
    return grad.expand(shape)


def _spell_out(equation, ndims):
    """``(inputs, output)``: the letters of each operand and of the result, ``...`` replaced by
    letters the equation does not use (right-aligned, as broadcasting aligns them)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"einsum: the equation {equation!r} has {len(terms)} operand(s) but "
                         f"{len(ndims)} tensor(s) were given")
    spare = [c for c in string.ascii_letters if c not in eq]
    widest = 0
    inputs = []
    for term, nd in zip(terms, ndims):
        _check_letters(equation, term)
        named = len(term.replace("...", ""))
        span = nd - named if "..." in term else 0
        if span < 0 or (not span and "..." not in term and named != nd):
            raise ValueError(f"einsum: the term {term!r} of {equation!r} names {named} dims but "
                             f"its operand has {nd}")
        widest = max(widest, span)
        inputs.append((term, span))
    ell = "".join(spare[:widest])
    spelled = [t.replace("...", ell[widest - span:]) for t, span in inputs]
    if arrow:
        _check_letters(equation, rhs)
        output = rhs.replace("...", ell)
    else:
        counts = "".join(t.replace("...", "") for t, _ in inputs)
        output = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1))
    for term in spelled:
        if len(set(term)) != len(term):
            raise NotImplementedError(f"einsum: {equation!r} repeats a letter within one operand "
                                      "(a diagonal or trace), which tinyseq does not support; "
                                      "take the diagonal with indexing first")
    return spelled, output


def _check_letters(equation, term):
    rest = term.replace("...", "")
    if not all(c in string.ascii_letters for c in rest) or term.count("...") > 1:
        raise ValueError(f"einsum: invalid equation {equation!r}: a term holds letters a-z, A-Z "
                         "and at most one '...'")


def einsum(equation, *operands):
    """Einstein summation over the letters of ``equation`` (``'bij,bjk->bik'``, ``'i,j->ij'``,
    ``'bth,h->bt'``, ``'...ij->...ji'``), as ``torch.einsum``; the operands may also be given as
    one list. All operands must have one dtype."""
    if not isinstance(equation, str):
        raise NotImplementedError("einsum: the sublist form einsum(a, [0, 1], ...) is not "
                                  "supported; give the equation as a string")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [tensor_of(x) for x in operands]
    dtypes = {t._data.dtype for t in tensors}
    if len(dtypes) > 1:
        raise RuntimeError(f"einsum: all operands must have one dtype, got "
                           f"{', '.join(sorted(map(str, dtypes)))}; convert with .to()")
    inputs, output = _spell_out(equation, [t.ndim for t in tensors])
    try:
        return Einsum.apply(inputs, output, *tensors)
    except ValueError as e:
        raise RuntimeError(f"einsum: {equation!r} does not fit the shapes "
                           f"{', '.join(str(tuple(t.shape)) for t in tensors)}: {e}") from None
