"""Run the same thing on tinyseq and on PyTorch and compare everything: outputs, then gradients.

Three helpers, one comparison core (outputs: shape, dtype, ``requires_grad``, values; then the
same random upstream gradient sent back through both; then every gradient: values against
torch's, and tinyseq's of exactly its tensor's shape and dtype):

- ``compare_with_torch(fn, torch_fn, arrays)``: a function of tensors (an op, a loss, a functional);
- ``compare_module_with_torch(make, arrays)``: a module built on both, tinyseq's given PyTorch's
  weights through ``state_dict``; every input's and every parameter's gradient, by name;
- ``compare_optimizer_with_torch(make, init, grads)``: optimiser steps (and a scheduler) on the
  same parameters and gradients; the parameters, learning rates and state after every step.

Importing this module skips the importing test module when PyTorch is not installed.
"""
import contextlib
import warnings

import numpy as np
import pytest

import tinyseq as ts

torch = pytest.importorskip("torch", reason="PyTorch is needed to compare tinyseq with it")

__all__ = ["compare_with_torch", "compare_module_with_torch", "compare_optimizer_with_torch",
           "torch", "to_numpy_dtype", "TOLERANCES"]

# (atol, rtol) by the least precise float dtype taking part
TOLERANCES = {np.dtype(np.float64): (1e-10, 1e-8), np.dtype(np.float32): (1e-6, 1e-5)}


def to_numpy_dtype(torch_dtype):
    """The numpy dtype that a torch dtype corresponds to (``torch.float64`` -> ``float64``)."""
    return torch.empty(0, dtype=torch_dtype).numpy().dtype


# ---- the comparison core ------------------------------------------------------------------------
def _flatten(out):
    """The tensors of an output, in order: a tensor is one, an LSTM's ``(out, (h, c))`` three."""
    if isinstance(out, (tuple, list)):
        return tuple(t for o in out for t in _flatten(o))
    return (out,)


def _tolerances(arrays, atol, rtol):
    kinds = [a.dtype for a in arrays if a.dtype.kind == "f"]
    least = min(kinds, key=lambda d: d.itemsize, default=np.dtype(np.float64))
    d_atol, d_rtol = TOLERANCES.get(least, TOLERANCES[np.dtype(np.float32)])
    return (d_atol if atol is None else atol), (d_rtol if rtol is None else rtol)


@contextlib.contextmanager
def _strict_numpy(on=True):
    """Within it, any numpy warning (overflow, divide by zero, invalid value) is an error.

    Underflow stays allowed: exp(-2000) = 0 is the right answer, not a problem.
    """
    if not on:
        yield
        return
    with warnings.catch_warnings(), np.errstate(divide="raise", over="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


def _check_outputs(ts_out, th_out, atol, rtol):
    """Forward: as many outputs, each a ts.Tensor with torch's shape, dtype, flag and values."""
    assert len(ts_out) == len(th_out), (
        f"tinyseq returned {len(ts_out)} outputs, torch {len(th_out)}")
    for k, (a, b) in enumerate(zip(ts_out, th_out)):
        assert isinstance(a, ts.Tensor), f"output {k} is a {type(a).__name__}, not a ts.Tensor"
        ref = b.detach().numpy()
        assert a.shape == tuple(b.shape), (
            f"output {k}: tinyseq shape {a.shape}, torch shape {tuple(b.shape)}")
        assert a.numpy().dtype == ref.dtype, (
            f"output {k}: tinyseq dtype {a.numpy().dtype}, torch dtype {ref.dtype}")
        assert a.requires_grad == b.requires_grad, (
            f"output {k}: tinyseq requires_grad={a.requires_grad}, torch {b.requires_grad}")
        if ref.dtype.kind == "f":
            np.testing.assert_allclose(a.numpy(), ref, atol=atol, rtol=rtol,
                                       err_msg=f"forward output {k}")
        else:
            np.testing.assert_array_equal(a.numpy(), ref, err_msg=f"forward output {k}")


def _send_back(ts_out, th_out, seed, strict):
    """The same random upstream gradient through every output that requires grad, on both.
    False when none does (nothing to compare)."""
    live = [k for k, b in enumerate(th_out) if b.requires_grad]
    if not live:
        return False
    rng = np.random.default_rng(seed)
    seeds = [rng.standard_normal(th_out[k].shape).astype(ts_out[k].numpy().dtype) for k in live]
    with _strict_numpy(strict):
        ts.autograd.backward([ts_out[k] for k in live], list(seeds))
    torch.autograd.backward([th_out[k] for k in live], [torch.from_numpy(s) for s in seeds])
    return True


def _check_grad(label, ours, theirs, like, atol, rtol):
    """tinyseq's gradient ``ours`` of ``label`` against torch's ``theirs``; ``like`` is the array
    whose shape and dtype it must have. torch's None (an unused input) allows None or zeros."""
    if theirs is None:
        assert ours is None or not np.any(ours.numpy()), (
            f"{label}: torch has no gradient (unused input) but tinyseq has a nonzero one")
        return
    assert ours is not None, f"{label}: torch has a gradient, tinyseq has none"
    g = ours.numpy()
    assert isinstance(g, np.ndarray), f"{label}: .grad.numpy() is a {type(g).__name__}"
    assert g.shape == like.shape, f"{label}: gradient shape {g.shape}, its shape {like.shape}"
    assert g.dtype == like.dtype, f"{label}: gradient dtype {g.dtype}, its dtype {like.dtype}"
    np.testing.assert_allclose(g, theirs.numpy(), atol=atol, rtol=rtol,
                               err_msg=f"gradient of {label}")
    assert np.all(np.isfinite(g)), f"{label}: gradient is not finite"


def _inputs(arrays, requires_grad, dtype):
    """The arrays (float ones as ``dtype`` unless it is None), and the tinyseq and the torch
    tensors made from copies of them, requiring grad where their array's flag says so. An item may be a tuple of arrays (an LSTM's ``(h0, c0)``): it
    becomes a tuple of tensors, all with that item's flag."""
    def cast(a):
        if isinstance(a, tuple):
            return tuple(cast(b) for b in a)
        a = np.asarray(a)
        return a.astype(dtype) if dtype is not None and a.dtype.kind == "f" else a

    def make(lib, a, flag):
        if isinstance(a, tuple):
            return tuple(make(lib, b, flag) for b in a)
        t = lib.from_numpy(a.copy())
        return t.requires_grad_() if flag and a.dtype.kind == "f" else t

    arrays = [cast(a) for a in arrays]
    flags = ([requires_grad] * len(arrays) if isinstance(requires_grad, bool)
             else list(requires_grad))
    assert len(flags) == len(arrays), "give one requires_grad flag per input array"
    return (arrays, [make(ts, a, f) for a, f in zip(arrays, flags)],
            [make(torch, a, f) for a, f in zip(arrays, flags)])


def _check_input_grads(arrays, ts_in, th_in, atol, rtol):
    """Each input leaf's gradient (``input 1.0``: the first tensor of the tuple that is input 1)."""
    for i, (a, t, u) in enumerate(zip(arrays, ts_in, th_in)):
        leaves = zip(_flatten(a), _flatten(t), _flatten(u))
        for j, (array, ours, theirs) in enumerate(leaves):
            label = f"input {i}" if not isinstance(a, tuple) else f"input {i}.{j}"
            if not theirs.requires_grad:
                assert ours.grad is None, f"{label} does not require grad but got one"
                continue
            _check_grad(label, ours.grad, theirs.grad, array, atol, rtol)


# ---- functions, modules, optimisers --------------------------------------------------------------
def compare_with_torch(fn, torch_fn=None, arrays=(), requires_grad=True, atol=None, rtol=None,
                       dtype=np.float64, seed=0, strict=True, check_backward=True):
    """Run ``fn(ts, *tinyseq_tensors)`` and ``torch_fn(torch, *torch_tensors)``; compare all.

    - ``fn`` and ``torch_fn`` take the library module first (``ts`` or ``torch``) and then one
      tensor per array, so one lambda often serves both (``lambda m, x: m.exp(x).sum(1)``);
      ``torch_fn=None`` means "the same function". Either may return a tensor or a tuple/list.
    - ``arrays``: numpy arrays. Float arrays become ``dtype`` (float64 by default; ``dtype=None``
      keeps each array's own dtype, to test mixed float32/float64 graphs); others keep theirs.
    - ``requires_grad``: a bool for every float input, or one bool per input.
    - The same random upstream gradient (``np.random.default_rng(seed)``) is sent back through
      every output that requires grad; each input's gradient is compared with torch's.
    - ``strict``: tinyseq's forward and backward run with numpy warnings turned into errors.

    Returns ``(tinyseq outputs, torch outputs)`` as tuples.
    """
    torch_fn = fn if torch_fn is None else torch_fn
    arrays, ts_in, th_in = _inputs(arrays, requires_grad, dtype)
    atol, rtol = _tolerances(arrays, atol, rtol)
    with _strict_numpy(strict):
        ts_out = _flatten(fn(ts, *ts_in))
    th_out = _flatten(torch_fn(torch, *th_in))
    _check_outputs(ts_out, th_out, atol, rtol)
    for i, (t, a) in enumerate(zip(ts_in, arrays)):
        np.testing.assert_array_equal(t.numpy(), a, err_msg=f"forward changed input {i} in place")
    if check_backward and _send_back(ts_out, th_out, seed, strict):
        _check_input_grads(arrays, ts_in, th_in, atol, rtol)
    return ts_out, th_out


def compare_module_with_torch(make, arrays=(), forward=None, torch_forward=None,
                              requires_grad=True, atol=None, rtol=None, seed=0, strict=True):
    """Build one module on both libraries, give tinyseq's PyTorch's weights, run both, compare.

    - ``make(nn)`` builds the module from ``torch.nn`` or ``ts.nn`` (one lambda for both:
      ``lambda nn: nn.LSTM(3, 4, num_layers=2)``). torch's is built first, under
      ``torch.manual_seed(seed)``; the parameter names must be the same, in the same order, and
      torch's ``state_dict()`` is loaded into tinyseq's module.
    - ``arrays``: the inputs; float arrays become float32 (the modules' dtype). An item may be a
      tuple of arrays (an LSTM's ``(h0, c0)``), passed as a tuple of tensors.
    - ``forward(m, module, *inputs)`` runs the module, ``m`` being ``ts`` or ``torch`` (default:
      ``module(*inputs)``); ``torch_forward`` where torch spells it differently (packed
      sequences). Outputs may nest (``out, (h, c)``): every tensor in them is compared.
    - The same random upstream gradient goes back through every output; every input's gradient
      and every parameter's (by name) is compared with torch's.

    Returns ``(tinyseq module, torch module, tinyseq outputs, torch outputs)``, outputs flat.
    """
    forward = forward or (lambda m, module, *inputs: module(*inputs))
    torch_forward = torch_forward or forward
    torch.manual_seed(seed)
    theirs, ours = make(torch.nn), make(ts.nn)
    names = [k for k, _ in ours.named_parameters()]
    assert names == [k for k, _ in theirs.named_parameters()], (
        f"parameter names differ: tinyseq {names}, torch "
        f"{[k for k, _ in theirs.named_parameters()]}")
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    arrays, ts_in, th_in = _inputs(arrays, requires_grad, np.float32)
    weights = [p.numpy() for p in ours.parameters()]
    atol, rtol = _tolerances([a for x in arrays for a in _flatten(x)] + weights, atol, rtol)
    with _strict_numpy(strict):
        ts_out = _flatten(forward(ts, ours, *ts_in))
    th_out = _flatten(torch_forward(torch, theirs, *th_in))
    _check_outputs(ts_out, th_out, atol, rtol)
    if _send_back(ts_out, th_out, seed, strict):
        _check_input_grads(arrays, ts_in, th_in, atol, rtol)
        for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            _check_grad(f"parameter {name}", p.grad, tp.grad, p.numpy(), atol, rtol)
    return ours, theirs, ts_out, th_out


def compare_optimizer_with_torch(make, init, grads, schedule=None, atol=None, rtol=None):
    """Step an optimiser on both libraries with the same parameters and gradients; after every
    step compare the parameters, the learning rates and the state.

    - ``make(optim, params)`` builds the optimiser from ``ts.optim`` or ``torch.optim`` (one
      lambda for both; param groups too: ``lambda optim, ps: optim.SGD([{"params": ps}], lr=1)``).
    - ``init``: the parameters' initial arrays (their dtype is the parameters').
    - ``grads``: one list per step, of one array per parameter, or None for "no gradient at this
      step" (the parameter must then stay as it is, on both).
    - ``schedule(lr_scheduler, optimizer)``, optional, builds a scheduler from
      ``ts.optim.lr_scheduler`` or ``torch.optim.lr_scheduler``, stepped after each step.
    - Compared after every step: each parameter (values and dtype); each group's options
      (``lr`` and the others both have); the scheduler's ``get_last_lr()``; and ``state_dict()``:
      the same parameters hold state, and each entry both libraries name alike has equal values.

    Returns the tinyseq optimiser.
    """
    atol, rtol = _tolerances([np.asarray(a) for a in init], atol, rtol)
    ours = [ts.tensor(a.copy(), dtype=a.dtype, requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt, ref = make(ts.optim, ours), make(torch.optim, theirs)
    sched = ref_sched = None
    if schedule is not None:
        sched, ref_sched = schedule(ts.optim.lr_scheduler, opt), schedule(
            torch.optim.lr_scheduler, ref)

    def check(where):
        for i, (p, u) in enumerate(zip(ours, theirs)):
            assert p.numpy().dtype == init[i].dtype, f"{where}: parameter {i} is {p.numpy().dtype}"
            np.testing.assert_allclose(p.numpy(), u.detach().numpy(), atol=atol, rtol=rtol,
                                       err_msg=f"{where}: parameter {i}")
        if sched is not None:
            np.testing.assert_allclose(sched.get_last_lr(), ref_sched.get_last_lr(), rtol=1e-12,
                                       atol=1e-15, err_msg=f"{where}: get_last_lr()")
        _check_optimizer_state(opt.state_dict(), ref.state_dict(), where, atol, rtol)

    check(f"{type(opt).__name__} before the first step")
    for step, step_grads in enumerate(grads, 1):
        for p, u, g in zip(ours, theirs, step_grads):
            p.grad = None if g is None else ts.tensor(g.copy(), dtype=g.dtype)
            u.grad = None if g is None else torch.from_numpy(g.copy())
        opt.step()
        ref.step()
        if sched is not None:
            sched.step()
            ref_sched.step()
        check(f"{type(opt).__name__} after step {step}")
    return opt


def _check_optimizer_state(mine, ref, where, atol, rtol):
    """Groups: the options both have are equal. State: tinyseq holds some only for parameters
    torch holds some for (torch's Adagrad starts its state eagerly, tinyseq at the first gradient;
    entries that hold only None count as none), and the entries both name alike are equal."""
    assert len(mine["param_groups"]) == len(ref["param_groups"]), f"{where}: number of groups"
    for k, (g, h) in enumerate(zip(mine["param_groups"], ref["param_groups"])):
        for key in sorted(g.keys() & h.keys()):
            np.testing.assert_allclose(np.asarray(g[key], dtype=np.float64),
                                       np.asarray(h[key], dtype=np.float64), rtol=1e-12,
                                       err_msg=f"{where}: group {k} option {key!r}")
    held = {i for i, s in ref["state"].items() if any(v is not None for v in s.values())}
    ours = {i for i, s in mine["state"].items() if s}
    assert ours <= held, (
        f"{where}: tinyseq holds state for parameters {sorted(ours - held)}, torch does not")
    for i in ours:
        for key in sorted(mine["state"][i].keys() & ref["state"][i].keys()):
            theirs = ref["state"][i][key]
            theirs = theirs.numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
            np.testing.assert_allclose(np.asarray(mine["state"][i][key]), theirs, atol=atol,
                                       rtol=rtol, err_msg=f"{where}: state[{i}][{key!r}]")
