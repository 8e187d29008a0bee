"""What ``functional.py``'s six functions share: their arguments and results in PyTorch's
structures (a Tensor or a tuple of Tensors: ``as_tuple``, ``unpack``), fresh tensors to run the
function on and detached results (``prepare``, ``finish``), the vector ``v`` checked against what
it multiplies (``v_or_one``), the function run and its outputs checked (``outputs_of``), strict
mode's checks and messages (``check_requires_grad``, ``zeros_for_missing``: torch's words), and
``grad`` as they call it (``gradients``).
"""
import numpy as np

from .engine import grad
from .tensor import Tensor

# ---- arguments and results ----------------------------------------------------------------------

def as_tuple(value, what, fn):
    """``(was it a tuple, value as a tuple of Tensors)``; a TypeError names ``fn`` and ``what``."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {what}"
            raise TypeError(f"{fn}: the {what} must be either a Tensor or a tuple of Tensors but "
                            f"{where} has type {type(t).__name__}")
    return is_tuple, items


def unpack(result, is_tuple):
    """Undo ``as_tuple``: one Tensor where the caller gave one. ``is_tuple`` may be a pair
    ``(outer, inner)`` for nested results (a Jacobian: per output, per input)."""
    if isinstance(is_tuple, tuple):
        outer, inner = is_tuple
        if not inner:
            result = tuple(row[0] for row in result)
        return result if outer else result[0]
    return result if is_tuple else result[0]


def prepare(tensors, create_graph, need_graph):
    """Fresh tensors to run the function on. With ``create_graph`` an input that requires grad
    becomes a view of itself, so the results' graph leads back to it; any other is detached (and
    requires grad if ``need_graph``). Always new objects: the gradient is then taken with respect
    to the arguments the function got, not to a tensor it also captured from outside."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad
                 else t.detach().requires_grad_(need_graph) for t in tensors)


def finish(results, create_graph):
    """The results as the caller gets them: detached unless ``create_graph`` (nested tuples too)."""
    if isinstance(results[0], Tensor):
        return results if create_graph else tuple(t.detach() for t in results)
    return tuple(finish(r, create_graph) for r in results)


def _check_v(v, like, like_is_tuple, fn):
    """``v`` (a tuple) has one tensor of the right shape for each tensor of ``like``."""
    if len(v) != len(like):
        if like_is_tuple:
            raise RuntimeError(f"{fn}: v is a tuple of invalid length: should be {len(like)} but "
                               f"got {len(v)}")
        raise RuntimeError(f"{fn}: the given v should contain a single Tensor")
    for i, (a, b) in enumerate(zip(v, like)):
        if a.shape != b.shape:
            entry = f"entry {i} in " if like_is_tuple else ""
            raise RuntimeError(f"{fn}: {entry}v has invalid size: should be {b.shape} but got "
                               f"{a.shape}")


def v_or_one(v, like, like_is_tuple, create_graph, fn, of):
    """``v`` checked against ``like`` (prepared as the inputs are); ``None`` is allowed only for
    one one-element tensor (then the product is with 1, as in torch). ``of`` says what ``like``
    is, with its verb: "the user-provided function returns"."""
    if v is not None:
        v = prepare(as_tuple(v, "v", fn)[1], create_graph, need_graph=False)
        _check_v(v, like, like_is_tuple, fn)
        return v
    if len(like) != 1 or like[0].numel() != 1:
        raise RuntimeError(f"{fn}: the vector v can only be None if {of} a single Tensor "
                           "with a single element; give v")
    return None


# ---- strict mode -------------------------------------------------------------------------------

_NO_GRAD = {
    "outputs": "output {i} of the user-provided function does not require gradients. The outputs "
               "must be computed in a differentiable manner from the input when running in "
               "strict mode",
    "grad_inputs": "the gradient with respect to input {i} is independent of the inputs of the "
                   "user-provided function. This is not allowed in strict mode",
    "jacobian": "while computing the hessian, found that the jacobian of the user-provided "
                "function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example)",
    "hessian": "the hessian of the user-provided function with respect to input {i} is "
               "independent of the input. This is not allowed in strict mode. You should ensure "
               "that your function is thrice differentiable and that the hessian depends on the "
               "inputs",
}

_UNUSED = {
    "back": "the output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode",
    "back_trick": "the gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode",
    "double_back": "the jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode",
    "double_back_trick": "the hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode as it prevents "
                         "from using the double backward trick to replace forward mode AD",
}


def check_requires_grad(tensors, kind, strict, fn):
    """In strict mode, each of ``tensors`` (``kind``: what they are) must be there and depend on
    the inputs."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"{fn}: " + _UNUSED["back"].format(i=i))
        if not t.requires_grad:
            raise RuntimeError(f"{fn}: " + _NO_GRAD[kind].format(i=i))


def zeros_for_missing(grads, like, strict, create_graph, stage, fn):
    """``grads`` with zeros for ``None`` (a result independent of an input), or, in strict mode,
    an error saying which (``stage``: which product was being taken)."""
    out = []
    for i, (g, ref) in enumerate(zip(grads, like)):
        if g is None:
            if strict:
                raise RuntimeError(f"{fn}: " + _UNUSED[stage].format(i=i))
            g = Tensor._wrap(np.zeros(ref.shape, ref._data.dtype))
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"{fn}: the {what} of the user-provided function is independent "
                               f"of input {i}. This is not allowed in strict mode when "
                               "create_graph=True")
        out.append(g)
    return tuple(out)


def gradients(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``grad`` that skips outputs needing no gradient (their part is zero) and gives ``None``
    for an input the outputs do not depend on."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs],
                retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


def check_floating(outputs, fn):
    """Every output floating-point: one of integers has no tangent, so ``jvp`` refuses it (as
    torch, whose double backward trick cannot make it require grad)."""
    for i, o in enumerate(outputs):
        if o._data.dtype.kind != "f":
            raise RuntimeError(f"{fn}: output {i} of the user-provided function has dtype "
                               f"{o.dtype}; only floating-point outputs have a Jacobian-vector "
                               "product (as in torch): convert it with .float() or return only "
                               "floating-point outputs")


def outputs_of(func, inputs, fn, strict):
    """``func(*inputs)`` as ``(was it a tuple, outputs as a tuple)``, checked for strict mode."""
    is_tuple, outputs = as_tuple(func(*inputs), "outputs of the user-provided function", fn)
    check_requires_grad(outputs, "outputs", strict, fn)
    return is_tuple, outputs
