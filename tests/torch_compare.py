"""Run one function on tinyseq and on PyTorch and compare everything: outputs, then gradients.

``compare_with_torch(fn, torch_fn, arrays)`` builds tinyseq and torch tensors from the same numpy
arrays, runs both functions, checks that every output has the same shape, dtype and values, then
sends the same random upstream gradient back through both and checks every input's gradient: its
values against torch's, and that tinyseq's has exactly the input's shape and dtype.

Importing this module skips the importing test module when PyTorch is not installed.
"""
import contextlib
import warnings

import numpy as np
import pytest

import tinyseq as ts

torch = pytest.importorskip("torch", reason="PyTorch is needed to compare tinyseq's ops with it")

__all__ = ["compare_with_torch", "torch", "to_numpy_dtype", "TOLERANCES"]

# (atol, rtol) by the least precise float dtype taking part
TOLERANCES = {np.dtype(np.float64): (1e-10, 1e-8), np.dtype(np.float32): (1e-5, 1e-4)}


def to_numpy_dtype(torch_dtype):
    """The numpy dtype that a torch dtype corresponds to (``torch.float64`` -> ``float64``)."""
    return torch.empty(0, dtype=torch_dtype).numpy().dtype


def _as_tuple(out):
    if isinstance(out, (tuple, list)):
        return tuple(out)
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
    arrays = [np.asarray(a) for a in arrays]
    arrays = [a.astype(dtype) if dtype is not None and a.dtype.kind == "f" else a for a in arrays]
    flags = ([requires_grad] * len(arrays) if isinstance(requires_grad, bool)
             else list(requires_grad))
    assert len(flags) == len(arrays), "give one requires_grad flag per input array"
    flags = [f and a.dtype.kind == "f" for f, a in zip(flags, arrays)]
    atol, rtol = _tolerances(arrays, atol, rtol)
    originals = [a.copy() for a in arrays]

    ts_in = [ts.from_numpy(a.copy()).requires_grad_(f) if f else ts.from_numpy(a.copy())
             for a, f in zip(arrays, flags)]
    th_in = [torch.from_numpy(a.copy()).requires_grad_(f) for a, f in zip(arrays, flags)]

    with _strict_numpy(strict):
        ts_out = _as_tuple(fn(ts, *ts_in))
    th_out = _as_tuple(torch_fn(torch, *th_in))

    # ---- forward -----------------------------------------------------------------------------
    assert len(ts_out) == len(th_out), (
        f"tinyseq returned {len(ts_out)} outputs, torch {len(th_out)}")
    for k, (a, b) in enumerate(zip(ts_out, th_out)):
        assert isinstance(a, ts.Tensor), f"output {k} is a {type(a).__name__}, not a ts.Tensor"
        ref = b.detach().numpy()
        assert a.shape == tuple(b.shape), (
            f"output {k}: tinyseq shape {a.shape}, torch shape {tuple(b.shape)}")
        assert a.data.dtype == ref.dtype, (
            f"output {k}: tinyseq dtype {a.data.dtype}, torch dtype {ref.dtype}")
        assert a.requires_grad == b.requires_grad, (
            f"output {k}: tinyseq requires_grad={a.requires_grad}, torch {b.requires_grad}")
        if ref.dtype.kind == "f":
            np.testing.assert_allclose(a.data, ref, atol=atol, rtol=rtol,
                                       err_msg=f"forward output {k}")
        else:
            np.testing.assert_array_equal(a.data, ref, err_msg=f"forward output {k}")
    for i, (t, a) in enumerate(zip(ts_in, originals)):
        np.testing.assert_array_equal(t.data, a, err_msg=f"forward changed input {i} in place")

    # ---- backward ----------------------------------------------------------------------------
    live = [k for k, b in enumerate(th_out) if b.requires_grad]
    if not check_backward or not live:
        return ts_out, th_out
    rng = np.random.default_rng(seed)
    seeds = [rng.standard_normal(th_out[k].shape).astype(ts_out[k].data.dtype) for k in live]
    with _strict_numpy(strict):
        ts.autograd.backward([ts_out[k] for k in live], list(seeds))
    torch.autograd.backward([th_out[k] for k in live], [torch.from_numpy(s) for s in seeds])

    for i, (t, u, a, f) in enumerate(zip(ts_in, th_in, arrays, flags)):
        if not f:
            assert t.grad is None, f"input {i} does not require grad but got one"
            continue
        if u.grad is None:
            assert t.grad is None or not np.any(t.grad.data), (
                f"input {i}: torch has no gradient (unused input) but tinyseq has a nonzero one")
            continue
        assert t.grad is not None, f"input {i}: torch has a gradient, tinyseq has none"
        g = t.grad.data
        assert isinstance(g, np.ndarray), f"input {i}: .grad.data is a {type(g).__name__}"
        assert g.shape == a.shape, f"input {i}: gradient shape {g.shape}, input shape {a.shape}"
        assert g.dtype == a.dtype, f"input {i}: gradient dtype {g.dtype}, input dtype {a.dtype}"
        np.testing.assert_allclose(g, u.grad.numpy(), atol=atol, rtol=rtol,
                                   err_msg=f"gradient of input {i}")
        assert np.all(np.isfinite(g)), f"input {i}: gradient is not finite"
    return ts_out, th_out

