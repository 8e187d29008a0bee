"""``gradcheck`` and ``gradgradcheck``: the engine's first and second derivatives against central
differences, element by element."""
import numpy as np

from .engine import grad
from .factories import rand
from .mode import enable_grad, no_grad
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with the numerical one; the message says where."""


def _as_outputs(out, fn="gradcheck"):
    if isinstance(out, Tensor):
        return (out,)
    outs = tuple(out) if isinstance(out, (tuple, list)) else ()
    if not outs or not all(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"{fn}: fn must return a Tensor or a tuple of Tensors, got "
                        f"{type(out).__name__}")
    return outs


def _float64(tensors):
    """Copies of the floating-point tensors in float64 (differences of ``eps`` are meaningless in
    float32), each keeping ``requires_grad``; anything else as it is."""
    return [Tensor(np.array(t._data, dtype=np.float64, order="C"), requires_grad=t.requires_grad)
            if isinstance(t, Tensor) and t._data.dtype.kind == "f" else t for t in tensors]


def _prepare(fn, inputs, eps, atol, rtol):
    """The checked tolerances; the inputs in float64 and the indices of those requiring grad."""
    if not (eps > 0 and atol >= 0 and rtol >= 0):
        raise ValueError(f"{fn}: eps must be positive and atol, rtol not negative; got "
                         f"eps={eps}, atol={atol}, rtol={rtol}")
    xs = _float64((inputs,) if isinstance(inputs, Tensor) else tuple(inputs))
    wrt = [i for i, t in enumerate(xs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError(f"{fn}: no input requires grad, so there is nothing to check")
    return xs, wrt


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check ``fn``'s gradients for every input that requires grad; ``True`` or ``GradcheckError``.

    The inputs are copied to float64. Every element of the Jacobian d(output)/d(input) is
    compared: the engine's, by one backward per output element, against
    ``(f(x + eps) - f(x - eps)) / 2 eps``, within ``atol + rtol * |numerical|``. The error names
    the input and the entry with the largest difference.

    >>> import tinyseq as ts
    >>> x = ts.randn(3, dtype=ts.float64, requires_grad=True)
    >>> ts.autograd.gradcheck(lambda x: (x * x.sigmoid()).sum(), (x,))
    True
    """
    xs, wrt = _prepare("gradcheck", inputs, eps, atol, rtol)
    _compare(fn, xs, wrt, eps, atol, rtol, lambda i: f"gradcheck: gradient of input {i}")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check ``func``'s second derivatives, as ``torch.autograd.gradgradcheck``; ``True`` or
    ``GradcheckError``.

    It is ``gradcheck`` of the function ``(inputs, u) -> uᵀ J`` (the gradients of ``func``'s
    outputs weighted by ``u``, made with ``create_graph=True``), so it checks every op's
    ``graph_backward``: their derivatives with respect to the inputs (second derivatives) and to
    ``u``. ``grad_outputs`` is ``u``; by default random in [-1, 1), one per output needing a
    gradient. Inputs and ``u`` are copied to float64.

    >>> import tinyseq as ts
    >>> x = ts.randn(3, dtype=ts.float64, requires_grad=True)
    >>> ts.autograd.gradgradcheck(lambda x: (x * x).tanh(), (x,))
    True
    """
    xs, wrt = _prepare("gradgradcheck", inputs, eps, atol, rtol)
    if grad_outputs is None:
        outs = [o for o in _as_outputs(func(*xs), "gradgradcheck") if o.requires_grad]
        us = [(rand(*o.shape, dtype=np.float64) * 2 - 1).requires_grad_() for o in outs]
    else:
        us = _float64((grad_outputs,) if isinstance(grad_outputs, Tensor) else grad_outputs)
    n = len(xs)

    def weighted_gradients(*args):
        """``uᵀ J`` with respect to each input requiring grad, as a graph."""
        with enable_grad():  # (the numerical pass runs fn under no_grad)
            outs = [o for o in _as_outputs(func(*args[:n]), "gradgradcheck") if o.requires_grad]
            gs = grad(outs, [args[i] for i in wrt], list(args[n:]), create_graph=True,
                      allow_unused=True)
        return tuple(g for g in gs if g is not None)

    def name(i):
        which = f"input {i}" if i < n else f"grad_outputs[{i - n}]"
        return f"gradgradcheck: the derivative of the gradients with respect to {which}"

    uwrt = [n + k for k, u in enumerate(us) if isinstance(u, Tensor) and u.requires_grad]
    _compare(weighted_gradients, xs + us, wrt + uwrt, eps, atol, rtol, name)
    return True


def _compare(fn, xs, wrt, eps, atol, rtol, name):
    """Raise ``GradcheckError`` (its message starts with ``name(i)``) at the first input ``i``
    whose analytic and numerical Jacobians of ``fn`` differ."""
    analytic = _analytic_jacobians(fn, xs, wrt)
    for i in wrt:
        x = xs[i]._data
        numerical = np.zeros(analytic[i].shape)
        for e in range(x.size):
            numerical[:, e] = _numerical_column(fn, xs, x, e, eps)
        _raise_if_far(analytic[i], numerical, x.shape, atol, rtol, name(i))


def _raise_if_far(analytic, numerical, shape, atol, rtol, name):
    """Compare two ``(output elements, input elements)`` Jacobians; name the worst entry (NaN
    first, then the largest difference)."""
    diff = np.abs(analytic - numerical)
    bad = ~(diff <= atol + rtol * np.abs(numerical))  # NaN is never close
    if not bad.any():
        return
    r, e = np.unravel_index(np.argmax(np.where(bad, np.nan_to_num(diff, nan=np.inf), -1.0)),
                            bad.shape)
    element = tuple(int(k) for k in np.unravel_index(e, shape))
    raise GradcheckError(
        f"{name} (shape {shape}) at element {element} disagrees for output element {r}: "
        f"analytic {analytic[r, e]:.8g}, numerical {numerical[r, e]:.8g}, a difference of "
        f"{diff[r, e]:.3g}, the largest of {int(bad.sum())} mismatched entries (atol={atol}, "
        f"rtol={rtol})")


def _analytic_jacobians(fn, xs, wrt):
    """``{input index: (total output elements, input elements)}`` from one backward per row."""
    outs = _as_outputs(fn(*xs))
    rows = {i: [] for i in wrt}
    for out in outs:
        for j in range(out._data.size):
            seed = np.zeros(out.shape, dtype=out._data.dtype)
            seed.flat[j] = 1
            if out.requires_grad:
                gs = grad(out, [xs[i] for i in wrt], seed, retain_graph=True, allow_unused=True)
            else:
                gs = [None] * len(wrt)
            for i, g in zip(wrt, gs):
                rows[i].append(np.zeros(xs[i]._data.size) if g is None else g._data.ravel())
    return {i: np.array(r).reshape(-1, xs[i]._data.size) for i, r in rows.items()}


def _numerical_column(fn, xs, x, e, eps):
    """d(all outputs, flattened)/d x.flat[e] by central differences."""
    flat = x.reshape(-1)  # a view: writing into it perturbs the input tensor
    old = flat[e]
    with no_grad():
        flat[e] = old + eps
        plus = np.concatenate([o._data.ravel() for o in _as_outputs(fn(*xs))])
        flat[e] = old - eps
        minus = np.concatenate([o._data.ravel() for o in _as_outputs(fn(*xs))])
    flat[e] = old
    return (plus.astype(np.float64) - minus) / (2 * eps)
