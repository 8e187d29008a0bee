"""Run a ported PyTorch program on tinyseq and on PyTorch, with only the import switched.

A ported program is a function ``program(torch, initial)`` written as the original is, against
whatever module it gets as ``torch``. It builds its model, loads ``initial`` weights if given (the
one line a port adds: ``start(model, initial, torch)``), trains, and returns a dict with at least
``"initial"`` (the weights it started from) and ``"losses"``. ``run_both`` runs it on PyTorch first,
when installed, then on tinyseq from the same weights.
"""
import importlib.util

import numpy as np

import tinyseq

HAVE_TORCH = importlib.util.find_spec("torch") is not None


def start(model, initial, torch):
    """Load ``initial`` (name -> array) into ``model`` if given; return the weights it starts from."""
    if initial is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in initial.items()})
    return {k: np.array(v.detach().numpy() if hasattr(v, "detach") else v, copy=True)
            for k, v in model.state_dict().items()}


def run_both(program, **options):
    """``(tinyseq's result, torch's result or None)``: torch's run (when installed) first, then
    tinyseq's from the weights torch's started from."""
    if not HAVE_TORCH:
        return program(tinyseq, None, **options), None
    import torch

    torch.set_num_threads(1)  # (tiny ops: threads only cost time on a shared machine)
    theirs = program(torch, None, **options)
    return program(tinyseq, theirs["initial"], **options), theirs
