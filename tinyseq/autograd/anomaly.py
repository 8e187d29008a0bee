"""What ``detect_anomaly`` checks: where an op was created, and whether its results are finite."""
import os
import traceback

import numpy as np

_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(RuntimeError):
    """An op produced NaN or Inf while ``ts.autograd.detect_anomaly()`` was active."""


def creation_trace():
    """The stack that is creating an op, without the engine's own frames (most recent last)."""
    frames = traceback.extract_stack()
    return [f for f in frames if not os.path.abspath(f.filename).startswith(_ENGINE_DIR)]


def _bad(a):
    """``"NaN"`` or ``"Inf"`` if the float array ``a`` holds one, else ``None``."""
    if a is None or not np.issubdtype(np.asarray(a).dtype, np.inexact) or np.isfinite(a).all():
        return None
    return "NaN" if np.isnan(a).any() else "Inf"


def _origin(t):
    """Where tensor ``t`` came from, for a message."""
    if t.grad_fn is not None:
        return f"the output of '{t.grad_fn.name}'"
    return "a leaf tensor (made by you, or a parameter)"


def check_forward(op_name, args, outputs):
    """Raise ``AnomalyError`` if an output of ``op_name`` holds NaN/Inf. When an input already
    held one, the message says so and where that input came from, instead of blaming the op."""
    for k, a in enumerate(outputs):
        kind = _bad(a)
        if kind is None:
            continue
        inputs = [(i, t, _bad(t._data)) for i, t in enumerate(args) if hasattr(t, "grad_fn")]
        culprit = next(((i, t, bad) for i, t, bad in inputs if bad), None)
        if culprit is not None:
            i, t, bad = culprit
            raise AnomalyError(
                f"detect_anomaly: forward of '{op_name}' produced {kind} in its output {k}, but "
                f"its input {i} already held {bad} ({_origin(t)}); look there, not at "
                f"'{op_name}'")
        raise AnomalyError(f"detect_anomaly: forward of '{op_name}' produced {kind} in its "
                           f"output {k}.\n{_where(creation_trace())}")


def check_backward(node, grads_in, result):
    """Raise ``AnomalyError`` if a gradient ``node``'s backward returned holds NaN/Inf, saying
    whether the gradient it received or the values its forward saved already held one."""
    for k, a in enumerate(result):
        kind = _bad(a)
        if kind is None:
            continue
        head = (f"detect_anomaly: backward of '{node.name}' produced {kind} in its gradient for "
                f"input {k}")
        came = next((bad for bad in map(_bad, grads_in) if bad), None)
        if came:
            raise AnomalyError(f"{head}, but the gradient it received already held {came} (from "
                               "the root gradient you passed, or a tensor hook)")
        saved = next((bad for bad in map(_bad, node.ctx.saved_tensors) if bad), None)
        if saved:
            raise AnomalyError(f"{head}, but the values its forward saved already held {saved}: "
                               "its forward inputs were not finite (run the forward inside "
                               "detect_anomaly() to find the op that made them)")
        raise AnomalyError(f"{head}.\n{_where(node.trace)}")


def _where(trace):
    """The lines that say where an op was created."""
    if not trace:
        return ("The op was created at: (not recorded: run the forward inside detect_anomaly() "
                "too to see it)")
    return ("The op was created at (most recent call last):\n"
            + "".join(traceback.format_list(trace[-4:])))
