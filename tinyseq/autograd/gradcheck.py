"""``gradcheck``: the engine's gradients against central differences, element by element."""
import numpy as np

from .engine import grad
from .mode import no_grad
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with the numerical one; the message says where."""


def _as_outputs(out):
    if isinstance(out, Tensor):
        return (out,)
    outs = tuple(out) if isinstance(out, (tuple, list)) else ()
    if not outs or not all(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"gradcheck: fn must return a Tensor or a tuple of Tensors, got "
                        f"{type(out).__name__}")
    return outs


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check ``fn``'s gradients for every input that requires grad; ``True`` or ``GradcheckError``.

    The inputs are copied to float64 (differences of ``eps`` are meaningless in float32). Every
    element of the Jacobian d(output)/d(input) is compared: the engine's, by one backward per output
    element, against ``(f(x + eps) - f(x - eps)) / 2 eps``, within ``atol + rtol * |numerical|``.

    >>> import tinyseq as ts
    >>> x = ts.randn(3, dtype=ts.float64, requires_grad=True)
    >>> ts.autograd.gradcheck(lambda x: (x * x.sigmoid()).sum(), (x,))
    True
    """
    if not (eps > 0 and atol >= 0 and rtol >= 0):
        raise ValueError(f"gradcheck: eps must be positive and atol, rtol not negative; got "
                         f"eps={eps}, atol={atol}, rtol={rtol}")
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    xs = [Tensor(np.array(t._data, dtype=np.float64, order="C"), requires_grad=t.requires_grad)
          if isinstance(t, Tensor) and t._data.dtype.kind == "f" else t for t in inputs]
    wrt = [i for i, t in enumerate(xs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    analytic = _analytic_jacobians(fn, xs, wrt)
    for i in wrt:
        x = xs[i]._data
        for e in range(x.size):
            numerical = _numerical_column(fn, xs, x, e, eps)
            close = np.abs(analytic[i][:, e] - numerical) <= atol + rtol * np.abs(numerical)
            bad = ~close  # NaN is never close
            if bad.any():
                r = int(np.argmax(bad))
                raise GradcheckError(
                    f"gradcheck: gradient of input {i} (shape {x.shape}) at element "
                    f"{tuple(int(k) for k in np.unravel_index(e, x.shape))} disagrees for output element {r}: analytic "
                    f"{analytic[i][r, e]:.8g}, numerical {numerical[r]:.8g} "
                    f"(atol={atol}, rtol={rtol})")
    return True


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
