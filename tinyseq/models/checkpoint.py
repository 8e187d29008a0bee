"""A language model's checkpoint: one safetensors file holding the weights, the optimiser's state,
the recurrent state carried between windows, the loss history, and (in its JSON header) the
configuration, the vocabulary, the step and the random generator's state. One file, written
atomically, so an interrupted save never leaves a half-written checkpoint.
"""
import json
from pathlib import Path

import numpy as np
from safetensors import safe_open

from ..autograd.tensor import Tensor
from ..data.vocab import Vocab
from ..io import CheckpointError, load, save

FILE = "checkpoint.safetensors"
KIND = "tinyseq.CharLM/1"


def save_checkpoint(folder, model, config, step, optimizer=None, state=None, losses=(), rng=None):
    """Write ``folder/checkpoint.safetensors`` (and ``vocab.json`` beside it); returns its path."""
    folder = Path(folder)
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    if optimizer is not None:
        opt = optimizer.state_dict()
        for i, s in opt["state"].items():
            arrays.update({f"optim/{i}/{k}": np.asarray(v) for k, v in s.items()})
        groups = [{k: v for k, v in g.items() if k != "params"} for g in opt["param_groups"]]
    for i, a in enumerate(_flatten(state)):
        arrays[f"state/{i}"] = a.data
    arrays["losses"] = np.asarray(losses, dtype=np.float32)
    meta = {"kind": KIND, "config": json.dumps(config), "step": str(step),
            "vocab": json.dumps(model.vocab.to_dict()),
            "state": json.dumps(_structure(state)),
            "optim_groups": json.dumps(groups if optimizer is not None else None),
            "rng": json.dumps(rng)}
    path = save(arrays, folder / FILE, metadata=meta)
    model.vocab.save(folder / "vocab.json")
    return path


class Checkpoint:
    """What ``load_checkpoint`` read: ``config``, ``vocab``, ``step``, ``losses``, ``rng`` and the
    arrays to hand to a model (``load_model``), an optimiser (``load_optimizer``) and the carried
    recurrent state (``state()``)."""

    def __init__(self, path, arrays, meta):
        self.path, self.arrays, self.meta = path, arrays, meta
        self.config = json.loads(meta["config"])
        self.vocab = Vocab.from_dict(json.loads(meta["vocab"]))
        self.step = int(meta["step"])
        self.rng = json.loads(meta["rng"])
        self.losses = arrays["losses"].tolist()

    def load_model(self, model):
        model.load_state_dict({k[len("model/"):]: v for k, v in self.arrays.items()
                               if k.startswith("model/")})
        return model

    def load_optimizer(self, optimizer):
        groups = json.loads(self.meta["optim_groups"])
        state = {}
        for key, value in self.arrays.items():
            if key.startswith("optim/"):
                _, i, name = key.split("/")
                state.setdefault(int(i), {})[name] = int(value) if value.ndim == 0 and \
                    value.dtype.kind == "i" else value
        params = optimizer.state_dict()["param_groups"]
        optimizer.load_state_dict({"state": state, "param_groups": [
            {**g, "params": p["params"]} for g, p in zip(groups, params)]})
        return optimizer

    def state(self):
        """The recurrent state the run carried into its next window (``None``: a fresh start)."""
        arrays = [Tensor(self.arrays[f"state/{i}"]) for i in range(_count(self.arrays))]
        return _rebuild(json.loads(self.meta["state"]), iter(arrays))


def load_checkpoint(folder):
    """Read ``folder``'s checkpoint; a missing or foreign one is a ``CheckpointError`` saying how
    to make one."""
    folder = Path(folder)
    path = folder / FILE
    if not folder.is_dir():
        raise CheckpointError(f"no folder {str(folder)!r}: train a model into it first "
                              f"(tinyseq train --out {folder})")
    if not path.is_file():
        raise CheckpointError(f"{str(folder)!r} has no {FILE}: it is not a tinyseq training "
                              f"folder (tinyseq train --out {folder} makes one)")
    arrays = load(path)  # (a corrupt file is a CheckpointError here, before the header is read)
    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata() or {}
    if meta.get("kind") != KIND:
        raise CheckpointError(f"{str(path)!r} is not a tinyseq language-model checkpoint "
                              f"(kind {meta.get('kind')!r}, expected {KIND!r})")
    return Checkpoint(path, arrays, meta)


def _flatten(state):
    if state is None:
        return []
    return [state] if isinstance(state, Tensor) else [t for s in state for t in _flatten(s)]


def _structure(state):
    """``None``, ``"t"`` for a Tensor, or a list of structures (an LSTM's ``(h, c)``)."""
    if state is None:
        return None
    return "t" if isinstance(state, Tensor) else [_structure(s) for s in state]


def _rebuild(structure, arrays):
    if structure is None:
        return None
    return next(arrays) if structure == "t" else tuple(_rebuild(s, arrays) for s in structure)


def _count(arrays):
    return sum(k.startswith("state/") for k in arrays)
