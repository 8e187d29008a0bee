"""``gradcheck`` and ``gradgradcheck``: the engine's first and second derivatives against central
differences, element by element, by reverse mode and (on request) by forward mode.

As torch's, the reverse-mode check also runs a backward with zero output gradients, which must
give zero gradients (a backward multiplies by the gradient it receives).

They take torch's keywords. tinyseq does what it can of each: ``raise_exception=False`` returns
False instead of raising; ``check_forward_ad`` (``check_fwd_over_rev``) checks forward mode's
``J v`` too, ``check_backward_ad`` (``check_rev_over_rev``) reverse mode's ``vᵀ J``. Others hold
by construction: ``nondet_tol`` (tinyseq's backward is deterministic), ``check_grad_dtypes`` (the
engine casts each gradient to its input's dtype), ``check_undefined_grad`` (an output without a
gradient gives its node zeros, or None with ``materialize_grads = False``, which the walks from
one output at a time exercise, and the zero-gradient check above covers). ``fast_mode`` runs
the full check (what fast mode approximates); ``masked`` concerns sparse inputs, which tinyseq
does not have. The batched checks need vmap, which tinyseq does not have: True is refused.
"""
import numpy as np

from . import forward_ad as fwAD
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


def _prepare(fn, inputs, eps, atol, rtol, nondet_tol):
    """The checked tolerances; the inputs in float64 and the indices of those requiring grad."""
    if not (eps > 0 and atol >= 0 and rtol >= 0):
        raise ValueError(f"{fn}: eps must be positive and atol, rtol not negative; got "
                         f"eps={eps}, atol={atol}, rtol={rtol}")
    if not nondet_tol >= 0:
        raise ValueError(f"{fn}: nondet_tol must not be negative, got {nondet_tol}")
    xs = _float64((inputs,) if isinstance(inputs, Tensor) else tuple(inputs))
    wrt = [i for i, t in enumerate(xs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError(f"{fn}: no input requires grad, so there is nothing to check")
    return xs, wrt


def _refuse_batched(fn, **flags):
    """The checks that need vmap: a True is refused, saying so."""
    for flag, value in flags.items():
        if value:
            raise NotImplementedError(f"{fn}: {flag}=True checks gradients batched by vmap, which "
                                      f"tinyseq does not have; pass {flag}=False (every row is "
                                      "checked one at a time)")


def _modes(fn, forward, backward, forward_flag, backward_flag, **needs):
    """The modes to check (``"backward"``, ``"forward"``); at least one, and each of ``needs``
    (``flag=(value, its mode's flag)``) True only with its mode, as torch asserts."""
    if not (forward or backward):
        raise AssertionError(f"{fn}: expected at least one of {forward_flag} or {backward_flag} "
                             "to be True")
    on = {forward_flag: forward, backward_flag: backward}
    for flag, (value, mode_flag) in needs.items():
        if value and not on[mode_flag]:
            raise AssertionError(f"{fn}: setting {flag}=True requires {mode_flag} to be True")
    return [m for m, on in (("backward", backward), ("forward", forward)) if on]


def _result(raise_exception, check):
    """``check()``'s True, or False for a ``GradcheckError`` if ``raise_exception`` is False."""
    try:
        check()
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    """Check ``func``'s gradients for every input that requires grad; ``True`` or
    ``GradcheckError`` (False with ``raise_exception=False``). The keywords are torch's (see the
    module's docstring for what each does here); ``eps``, ``atol``, ``rtol`` may also be given by
    position, as tinyseq's contract writes them.

    The inputs are copied to float64. Every element of the Jacobian d(output)/d(input) is
    compared: the engine's, by one backward per output element (and by one forward-mode pass
    per input element with ``check_forward_ad``), against ``(f(x + eps) - f(x - eps)) / 2 eps``,
    within ``atol + rtol * |numerical|``. The error names the input and the entry with the
    largest difference.

    >>> import tinyseq as ts
    >>> x = ts.randn(3, dtype=ts.float64, requires_grad=True)
    >>> ts.autograd.gradcheck(lambda x: (x * x.sigmoid()).sum(), (x,), check_forward_ad=True)
    True
    """
    # (check_undefined_grad, check_grad_dtypes, nondet_tol, fast_mode, masked: held by
    # construction, see the module's docstring)
    modes = _modes("gradcheck", check_forward_ad, check_backward_ad, "check_forward_ad",
                   "check_backward_ad",
                   check_batched_grad=(check_batched_grad, "check_backward_ad"),
                   check_batched_forward_grad=(check_batched_forward_grad, "check_forward_ad"))
    _refuse_batched("gradcheck", check_batched_grad=check_batched_grad,
                    check_batched_forward_grad=check_batched_forward_grad)
    xs, wrt = _prepare("gradcheck", inputs, eps, atol, rtol, nondet_tol)

    def name(i, mode):
        return f"gradcheck: {'forward-mode derivative' if mode == 'forward' else 'gradient'} " \
               f"of input {i}"

    return _result(raise_exception, lambda: _compare(func, xs, wrt, eps, atol, rtol, name, modes))


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Check ``func``'s second derivatives, as ``torch.autograd.gradgradcheck``; ``True`` or
    ``GradcheckError`` (False with ``raise_exception=False``).

    It is ``gradcheck`` of the function ``(inputs, u) -> uᵀ J`` (the gradients of ``func``'s
    outputs weighted by ``u``, made with ``create_graph=True``), so it checks every op's
    ``graph_backward``: their derivatives with respect to the inputs (second derivatives) and to
    ``u``; by reverse mode (``check_rev_over_rev``) and by forward mode through the gradient's
    graph (``check_fwd_over_rev``). ``grad_outputs`` is ``u``, one Tensor per output needing a
    gradient, of its shape (more are ignored, as torch); by default random in [-1, 1)
    (non-contiguous with ``gen_non_contig_grad_outputs``). Inputs and ``u`` are copied to float64.

    >>> import tinyseq as ts
    >>> x = ts.randn(3, dtype=ts.float64, requires_grad=True)
    >>> ts.autograd.gradgradcheck(lambda x: (x * x).tanh(), (x,))
    True
    """
    # (check_undefined_grad, check_grad_dtypes, nondet_tol, fast_mode, masked: as gradcheck's)
    modes = _modes("gradgradcheck", check_fwd_over_rev, check_rev_over_rev, "check_fwd_over_rev",
                   "check_rev_over_rev",
                   check_undefined_grad=(check_undefined_grad, "check_rev_over_rev"),
                   check_batched_grad=(check_batched_grad, "check_rev_over_rev"))
    _refuse_batched("gradgradcheck", check_batched_grad=check_batched_grad)
    xs, wrt = _prepare("gradgradcheck", inputs, eps, atol, rtol, nondet_tol)
    outs = [o for o in _as_outputs(func(*xs), "gradgradcheck") if o.requires_grad]
    us = _grad_outputs(grad_outputs, outs, gen_non_contig_grad_outputs)
    n, used = len(xs), len(outs)

    def weighted_gradients(*args):
        """``uᵀ J`` with respect to each input requiring grad, as a graph."""
        with enable_grad():  # (the numerical pass runs fn under no_grad)
            outs = [o for o in _as_outputs(func(*args[:n]), "gradgradcheck") if o.requires_grad]
            gs = grad(outs, [args[i] for i in wrt], list(args[n:n + used]), create_graph=True,
                      allow_unused=True)
        return tuple(g for g in gs if g is not None)

    def name(i, mode):
        which = f"input {i}" if i < n else f"grad_outputs[{i - n}]"
        kind = "forward-mode derivative" if mode == "forward" else "derivative"
        return f"gradgradcheck: the {kind} of the gradients with respect to {which}"

    uwrt = [n + k for k, u in enumerate(us) if u.requires_grad]
    return _result(raise_exception, lambda: _compare(weighted_gradients, xs + us, wrt + uwrt, eps,
                                                     atol, rtol, name, modes))


def _grad_outputs(given, outs, non_contiguous):
    """``u`` for ``gradgradcheck``'s outputs needing a gradient ``outs``: ``given`` checked (one
    Tensor of each output's shape; more are kept, as torch, and change nothing) and copied to
    float64, or random in [-1, 1) requiring grad."""
    if given is None:
        if non_contiguous:  # every other element of a wider array
            return [(rand(*o.shape, 2, dtype=np.float64) * 2 - 1)[..., 0].requires_grad_()
                    for o in outs]
        return [(rand(*o.shape, dtype=np.float64) * 2 - 1).requires_grad_() for o in outs]
    items = [given] if isinstance(given, Tensor) else list(given) \
        if isinstance(given, (tuple, list)) else [given]
    for k, u in enumerate(items):
        if not isinstance(u, Tensor):
            raise TypeError(f"gradgradcheck: grad_outputs[{k}] is {type(u).__name__}, not a "
                            "Tensor; give one Tensor per output of func that requires grad, of "
                            "its shape (or leave grad_outputs=None for random ones)")
    if len(items) < len(outs):
        raise RuntimeError(f"gradgradcheck: func has {len(outs)} outputs that require grad but "
                           f"grad_outputs has {len(items)} Tensors; give one per output")
    for k, (u, o) in enumerate(zip(items, outs)):
        if u.shape != o.shape:
            raise RuntimeError(f"gradgradcheck: grad_outputs[{k}] has shape {tuple(u.shape)} but "
                               f"output {k} of func has shape {tuple(o.shape)}; give each output "
                               "a grad_outputs of its shape")
    return _float64(items)


def _compare(fn, xs, wrt, eps, atol, rtol, name, modes):
    """Raise ``GradcheckError`` (its message starts with ``name(i, mode)``) at the first input
    ``i`` whose analytic (by each of ``modes``) and numerical Jacobians of ``fn`` differ; then
    (reverse mode) if zero output gradients do not give zero gradients."""
    sizes = [o._data.size for o in _as_outputs(fn(*xs))]
    analytic = {"backward": lambda: _analytic_jacobians(fn, xs, wrt),
                "forward": lambda: _forward_jacobians(fn, xs, wrt, sum(sizes))}
    jacobians = {mode: analytic[mode]() for mode in modes}
    for i in wrt:
        x = xs[i]._data
        numerical = np.zeros((sum(sizes), x.size))
        for e in range(x.size):
            numerical[:, e] = _numerical_column(fn, xs, x, e, eps)
        for mode in modes:
            _raise_if_far(jacobians[mode][i], numerical, x.shape, atol, rtol, name(i, mode))
    if "backward" in modes:
        _check_zero_gradients(fn, xs, wrt, name)


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
    total = sum(o._data.size for o in outs)
    return {i: np.array(r, dtype=np.float64).reshape(total, xs[i]._data.size)
            for i, r in rows.items()}


def _forward_jacobians(fn, xs, wrt, total):
    """``{input index: (total output elements, input elements)}`` by forward mode: column ``e``
    is the outputs' tangent when input ``i`` moves along its ``e``-th element."""
    columns = {}
    for i in wrt:
        size = xs[i]._data.size
        cols = [_forward_column(fn, xs, wrt, i, e) for e in range(size)]
        columns[i] = np.array(cols, dtype=np.float64).reshape(size, total).T
    return columns


def _forward_column(fn, xs, wrt, i, e):
    """d(all outputs, flattened)/d xs[i].flat[e] as forward mode computes it (a tangent of
    one-hot ``e`` on input ``i``, zeros on the others requiring grad)."""
    with fwAD.dual_level():
        args = list(xs)
        for j in wrt:
            tangent = np.zeros(xs[j].shape, xs[j]._data.dtype)
            if j == i:
                tangent.flat[e] = 1
            args[j] = fwAD.make_dual(xs[j], Tensor(tangent))
        with enable_grad():  # (gradgradcheck's function differentiates inside)
            outs = _as_outputs(fn(*args))
        tangents = [fwAD.unpack_dual(o).tangent for o in outs]
    return np.concatenate([np.zeros(o._data.size) if t is None else t._data.ravel()
                           for o, t in zip(outs, tangents)])


def _check_zero_gradients(fn, xs, wrt, name):
    """Zero gradients of the outputs must give zero gradients of the inputs (torch's "backward
    not multiplied by grad_output": a backward is linear in the gradient it receives)."""
    outs = [o for o in _as_outputs(fn(*xs)) if o.requires_grad]
    if not outs:
        return
    zeros = [np.zeros(o.shape, o._data.dtype) for o in outs]
    gs = grad(outs, [xs[i] for i in wrt], zeros, allow_unused=True)
    for i, g in zip(wrt, gs):
        if g is not None and np.any(g._data != 0):
            raise GradcheckError(f"{name(i, 'backward')} is not zero when the outputs' gradients "
                                 "are: backward not multiplied by grad_output (a backward must "
                                 "multiply by the gradient it receives)")


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
