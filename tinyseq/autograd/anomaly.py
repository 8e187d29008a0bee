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


def check_finite(arrays, op_name, phase, where_made):
    """Raise ``AnomalyError`` if any float array in ``arrays`` holds NaN or Inf.

    ``phase`` says what produced them ("forward" or "backward"); ``where_made()`` gives the stack
    where the op was made, asked for only when there is something to report.
    """
    for k, a in enumerate(arrays):
        if a is None or not np.issubdtype(np.asarray(a).dtype, np.inexact):
            continue
        if not np.isfinite(a).all():
            what = "output" if phase == "forward" else "gradient for input"
            kind = "NaN" if np.isnan(a).any() else "Inf"
            trace = where_made()
            where = "".join(traceback.format_list(trace[-4:])) if trace else (
                "  (not recorded: run the forward inside detect_anomaly() too to see it)\n")
            raise AnomalyError(
                f"detect_anomaly: {phase} of '{op_name}' produced {kind} in its {what} {k}.\n"
                f"The op was created at (most recent call last):\n{where}"
            )
