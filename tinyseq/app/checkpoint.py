"""A language model's checkpoint: one safetensors file holding the weights, the optimiser's state,
the recurrent state carried between windows, the loss history, and (in its JSON header) the
configuration, the vocabulary, the step and the random generator's state. One file, written
atomically, so an interrupted save never leaves a half-written checkpoint.

``load_checkpoint`` checks the whole file once, when it is opened: every header entry, and every
array's presence, shape, dtype and finiteness against the model that the configuration and the
vocabulary build. A damaged file is one ``CheckpointError`` line, before anything is loaded into a
model or an optimiser, so loading is all or nothing.
"""
import json
import math
import re
from pathlib import Path

import numpy as np

from .. import nn
from ..autograd.mode import no_grad
from ..autograd.rng import generator
from ..autograd.tensor import Tensor
from ..data.vocab import Vocab
from ..io import CheckpointError, load_with_metadata, save
from ..models.charlm import CELLS, CharLM

FILE = "checkpoint.safetensors"
KIND = "tinyseq.CharLM/1"
HEADER = ("kind", "config", "step", "vocab", "state", "optim_groups", "rng")
OUTPUTS = ("vocab.json", "loss.csv", "loss.png", "graph.svg")  # a run writes them beside FILE
_NAMES = "|".join(re.escape(name) for name in (FILE, *OUTPUTS))
# The files of a training folder and their temporaries (a folder of only these is tinyseq's)
_OURS = re.compile(rf"{_NAMES}|\.({_NAMES})\..*\.tmp")


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# The config entries that build the model: name -> (what it must be, test).
_MODEL_CONFIG = {
    "hidden": ("an int >= 1", lambda v: _is_int(v) and v >= 1),
    "layers": ("an int >= 1", lambda v: _is_int(v) and v >= 1),
    "cell": (f"one of {', '.join(CELLS)}", lambda v: isinstance(v, str) and v in CELLS),
    "embedding": ("null or an int >= 0", lambda v: v is None or _is_int(v) and v >= 0),
    "dropout": ("a number in [0, 1)", lambda v: _is_number(v) and 0 <= v < 1),
    "tie": ("true or false", lambda v: isinstance(v, bool)),
}


def save_checkpoint(folder, model, config, step, optimizer=None, state=None, losses=(), rng=None):
    """Write ``folder/checkpoint.safetensors`` (and ``vocab.json`` beside it); returns its path.

    ``rng`` is the random generator's state to restore on resume (default: tinyseq's generator
    as it is now)."""
    folder = Path(folder)
    arrays = {f"model/{k}": v.numpy() for k, v in model.state_dict().items()}
    if optimizer is not None:
        opt = optimizer.state_dict()
        for i, s in opt["state"].items():
            arrays.update({f"optim/{i}/{k}": np.asarray(v) for k, v in s.items()})
        groups = [{k: v for k, v in g.items() if k != "params"} for g in opt["param_groups"]]
    for i, a in enumerate(_flatten(state)):
        arrays[f"state/{i}"] = a.numpy()
    arrays["losses"] = np.asarray(losses, dtype=np.float32)
    meta = {"kind": KIND, "config": json.dumps(config), "step": str(step),
            "vocab": json.dumps(model.vocab.to_dict()),
            "state": json.dumps(_structure(state)),
            "optim_groups": json.dumps(groups if optimizer is not None else None),
            "rng": json.dumps(rng if rng is not None else generator().bit_generator.state)}
    path = save(arrays, folder / FILE, metadata=meta)
    model.vocab.save(folder / "vocab.json")
    return path


class Checkpoint:
    """What ``load_checkpoint`` read and checked: ``config``, ``vocab``, ``step``, ``losses``,
    ``rng`` and the arrays to hand to a model (``load_model``, or ``model()`` to build one), an
    optimiser (``load_optimizer``) and the carried recurrent state (``state()``)."""

    def __init__(self, path, arrays, meta, config, vocab, step, rng, groups):
        self.path, self.arrays, self.meta = path, arrays, meta
        self.config, self.vocab, self.step, self.rng = config, vocab, step, rng
        self.losses = arrays["losses"].tolist()
        self._groups = groups

    def model(self):
        """A new ``CharLM`` built from the config and vocabulary, holding the saved weights."""
        return self.load_model(_build(self.vocab, self.config))

    def load_model(self, model):
        """Load the saved weights into ``model``; a tied weight that a checkpoint written before
        tinyseq listed it under both names holds once is loaded from the name it has."""
        weights = {k[len("model/"):]: v for k, v in self.arrays.items() if k.startswith("model/")}
        for alias, first in _tied_names(model).items():
            weights.setdefault(alias, weights[first])
        model.load_state_dict(weights)
        return model

    def load_optimizer(self, optimizer):
        """Give ``optimizer`` the saved options and state (its parameters numbered as the
        model's ``parameters()``); a ``CheckpointError`` if they do not fit that optimiser."""
        groups = self._groups
        if groups is None:
            raise CheckpointError(f"checkpoint {str(self.path)!r} holds no optimiser state "
                                  f"(it was saved without an optimiser)")
        _check_groups(self.path, groups, optimizer)
        state = {}
        for key, value in self.arrays.items():
            if key.startswith("optim/"):
                _, i, name = key.split("/")
                state.setdefault(int(i), {})[name] = value  # the step: an int64 or float32 0-d
        params = optimizer.state_dict()["param_groups"]
        try:
            optimizer.load_state_dict({"state": state, "param_groups": [
                {**g, "params": p["params"]} for g, p in zip(groups, params)]})
        except (ValueError, TypeError) as e:
            raise CheckpointError(f"checkpoint {str(self.path)!r} does not fit this "
                                  f"{type(optimizer).__name__}: {e}") from None
        return optimizer

    def state(self):
        """The recurrent state the run carried into its next window (``None``: a fresh start)."""
        arrays = [Tensor(self.arrays[f"state/{i}"]) for i in range(_count(self.arrays))]
        return _rebuild(json.loads(self.meta["state"]), iter(arrays))


def load_checkpoint(folder):
    """Read and check ``folder``'s checkpoint. A missing, foreign or damaged one is a
    ``CheckpointError`` saying what is wrong and what to do."""
    path = _checkpoint_path(folder)
    arrays, meta = load_with_metadata(path, who="checkpoint")  # a broken envelope fails here
    if meta.get("kind") != KIND:
        raise CheckpointError(f"{str(path)!r} is not a tinyseq language-model checkpoint "
                              f"(kind {meta.get('kind')!r:.60}, expected {KIND!r})")
    return _Checker(path, arrays, meta).checkpoint()


def _checkpoint_path(folder):
    """``folder/checkpoint.safetensors``, or a ``CheckpointError`` saying why there is none."""
    if isinstance(folder, str) and not folder:
        raise CheckpointError("the checkpoint folder name is empty; name the folder that "
                              "tinyseq train --out wrote")
    folder = Path(folder)
    path = folder / FILE
    if not folder.exists():
        raise CheckpointError(f"no folder {str(folder)!r}: train a model into it first "
                              f"(tinyseq train --out {folder})")
    if not folder.is_dir():
        hint = f"give the folder that holds it ({folder.parent})" if folder.name == FILE else \
            "give the folder that tinyseq train --out wrote"
        raise CheckpointError(f"{str(folder)!r} is a file, not a training folder: {hint}")
    if path.is_file():
        return path
    if path.exists():
        raise CheckpointError(f"{str(path)!r} is not a file: move it away and train again "
                              f"(tinyseq train --out {folder})")
    if all(_OURS.fullmatch(p.name) for p in folder.iterdir()):
        raise CheckpointError(f"{str(folder)!r} has no {FILE} yet: the run into it probably "
                              f"stopped before saving its first checkpoint; start a fresh run "
                              f"(tinyseq train --out {folder}, without --resume)")
    raise CheckpointError(f"{str(folder)!r} has no {FILE}: it is not a tinyseq training "
                          f"folder (tinyseq train --out {folder} makes one)")


class _Checker:
    """Checks one checkpoint's header and arrays; ``checkpoint()`` returns it, or raises a
    ``CheckpointError`` naming the file and the first thing that is wrong."""

    def __init__(self, path, arrays, meta):
        self.path, self.arrays, self.meta = path, arrays, meta

    def fail(self, what):
        raise CheckpointError(f"checkpoint {str(self.path)!r} is damaged: {what}; restore a "
                              f"copy of it or train again") from None

    def checkpoint(self):
        missing = [k for k in HEADER if k not in self.meta]
        if missing:
            self.fail(f"its header has no {', '.join(map(repr, missing))} entry")
        config, vocab = self.config(), self.vocab()
        step, rng = self.step(), self.rng()
        model = self.model(config, vocab)
        self.known_arrays()
        self.weights(model, config)
        groups = self.optimizer(model)
        self.carried_state(model, config)
        self.losses(step)
        return Checkpoint(self.path, self.arrays, self.meta, config, vocab, step, rng, groups)

    def json(self, key):
        try:
            return json.loads(self.meta[key])
        except (ValueError, RecursionError) as e:
            self.fail(f"its {key!r} entry is not JSON ({e}): {self.meta[key]!r:.60}")

    def config(self):
        config = self.json("config")
        if not isinstance(config, dict):
            self.fail(f"its config is a {type(config).__name__}, not a JSON object")
        for key, (rule, ok) in _MODEL_CONFIG.items():
            if key not in config:
                self.fail(f"its config has no {key!r}")
            if not ok(config[key]):
                self.fail(f"config {key!r} is {config[key]!r:.60}; it must be {rule}")
        return config

    def vocab(self):
        described = self.json("vocab")
        try:
            return Vocab.from_dict(described)
        except (ValueError, TypeError) as e:
            self.fail(f"its vocabulary is not valid ({e})")

    def step(self):
        text = self.meta["step"]
        if not re.fullmatch(r"[0-9]{1,18}", text):
            self.fail(f"its step {text!r:.60} is not a whole number >= 0")
        return int(text)

    def rng(self):
        """The random generator's state, checked by giving it to a new bit generator."""
        state, kind = self.json("rng"), type(generator().bit_generator)
        try:
            kind().state = state
        except Exception as e:  # numpy says "not a valid state" in many types
            self.fail(f"its rng is not a state of numpy's {kind.__name__} "
                      f"({type(e).__name__}: {e})")
        return state

    def model(self, config, vocab):
        """The model the config and vocabulary build (its state_dict is what the file must hold);
        sizes are checked against the file first, so a forged config cannot allocate much."""
        if "level" in config and config["level"] != vocab.level:
            self.fail(f"config 'level' is {config['level']!r:.60} but the vocabulary is "
                      f"{vocab.level}-level")
        weights = [a for k, a in self.arrays.items() if k.startswith("model/")]
        held, needs = sum(a.size for a in weights), _least_weights(len(vocab), config)
        if needs > held:
            self.fail(f"its config ({_describe(config)}) and vocabulary ({len(vocab)} tokens) "
                      f"need at least {needs:,} weights, but the file holds {held:,}")
        if config["layers"] > len(weights):
            self.fail(f"its config has {config['layers']} layers, but the file holds only "
                      f"{len(weights)} weight arrays")
        state = generator().bit_generator.state  # building draws initial weights: undo that
        try:
            return _build(vocab, config)
        except (ValueError, TypeError) as e:
            self.fail(f"its config cannot build a model ({e})")
        finally:
            generator().bit_generator.state = state

    def known_arrays(self):
        index = r"(0|[1-9][0-9]{0,8})"  # as str(i) writes it: no sign, no leading zero
        pattern = rf"model/.+|optim/{index}/[^/]+|state/{index}|losses"
        unknown = sorted(k for k in self.arrays if not re.fullmatch(pattern, k))
        if unknown:
            self.fail(f"it holds {len(unknown)} unexpected array(s): {unknown[:3]}")

    def weights(self, model, config):
        """The file's weights are the model's state_dict: every name, or (a checkpoint written
        before tied weights were listed under both names) every name but a tie's second; each
        of the model's shape and dtype, and the two copies of a tied weight equal."""
        expected = {f"model/{k}": v.numpy() for k, v in model.state_dict().items()}
        tied = {f"model/{a}": f"model/{b}" for a, b in _tied_names(model).items()}
        held = {k for k in self.arrays if k.startswith("model/")}
        if held != set(expected) and held != set(expected) - set(tied):
            missing, extra = sorted(set(expected) - held), sorted(held - set(expected))
            self.fail(f"its weights do not fit the model its config describes "
                      f"({_describe(config)}): missing {missing[:3]}, extra {extra[:3]}")
        for key, want in expected.items():
            if key in held:
                self.array(key, want.shape, want.dtype,
                           f"the config ({_describe(config)}) and the vocabulary "
                           f"({len(model.vocab)} tokens) need")
        for alias, first in tied.items():
            if alias in held and not np.array_equal(self.arrays[alias], self.arrays[first]):
                self.fail(f"{alias} and {first} are one tied weight, but the file holds "
                          f"different values for them")

    def array(self, key, shape, dtype, who="it must have"):
        """Check that array ``key`` has ``shape`` and ``dtype`` and (if float) finite values."""
        a = self.arrays[key]
        if a.shape != tuple(shape) or a.dtype != dtype:
            self.fail(f"{key} is {a.dtype} {a.shape}, but {who} {np.dtype(dtype)} {tuple(shape)}")
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            self.fail(f"{key} holds NaN or infinite values")

    def optimizer(self, model):
        """The saved optimiser options (a list of dicts, or None), after checking the state
        arrays against the model's parameters."""
        groups = self.json("optim_groups")
        keys = [k for k in self.arrays if k.startswith("optim/")]
        if groups is None:
            if keys:
                self.fail(f"it holds optimiser state ({keys[0]}) but no optimiser options")
            return None
        if not (isinstance(groups, list) and groups and all(map(_is_options, groups))):
            self.fail(f"its optim_groups {self.meta['optim_groups']!r:.60} is not a list of "
                      f"options (name -> a number >= 0, true/false, null or a list of "
                      f"numbers)")
        params = list(model.parameters())
        names = {}
        for key in keys:
            _, i, name = key.split("/")
            if int(i) >= len(params):
                self.fail(f"{key} is for parameter {int(i)}, but the model has {len(params)}")
            names.setdefault(int(i), set()).add(name)
            a = self.arrays[key]
            if a.ndim == 0:
                self.scalar(key)
            else:
                self.array(key, params[int(i)].shape, params[int(i)].dtype,
                           f"parameter {int(i)} is")
        if len({frozenset(n) for n in names.values()}) > 1:
            self.fail("its optimiser state has different entries for different parameters")
        return [{k: tuple(v) if isinstance(v, list) else v for k, v in g.items()}
                for g in groups]

    def scalar(self, key):
        """A 0-d entry is a step count: an int64 (written before tinyseq kept torch's float32
        step) or a float32, >= 0 and whole."""
        a = self.arrays[key]
        if a.dtype.kind in "iuf" and np.isfinite(a) and a >= 0 and a == np.floor(a):
            return
        self.fail(f"{key} is {a.dtype} {a.item()!r}; it must be a step count: a whole number "
                  f">= 0")

    def carried_state(self, model, config):
        """The carried recurrent state must have the structure of the model's state, and each
        array its shape with one batch size (the config's ``batch`` when it has one)."""
        structure = self.json("state")
        count = _count(self.arrays)
        if structure is None:
            if count:
                self.fail(f"it holds {count} state array(s) but its state entry is null")
            return
        with no_grad(), nn.evaluating(model):
            _, probe = model(np.full((1, 1), model.vocab.bos_id, dtype=np.int64))
        if structure != _structure(probe):
            self.fail(f"its state entry {self.meta['state']!r:.60} is not the structure of a "
                      f"{config['cell']}'s state ({json.dumps(_structure(probe))})")
        leaves = _flatten(probe)  # each (layers, 1, hidden): batch 1
        if {k for k in self.arrays if k.startswith("state/")} != \
                {f"state/{i}" for i in range(len(leaves))}:
            self.fail(f"its state arrays are not state/0 to state/{len(leaves) - 1}")
        batch = config.get("batch")
        if not _is_int(batch):  # no batch in the config: the first array's says it
            first = self.arrays["state/0"]
            batch = first.shape[1] if first.ndim > 1 else 0
        for i, leaf in enumerate(leaves):
            self.array(f"state/{i}", (leaf.shape[0], batch, *leaf.shape[2:]), leaf.dtype)

    def losses(self, step):
        if "losses" not in self.arrays:
            self.fail("it has no 'losses' array")
        losses = self.arrays["losses"]
        if losses.ndim != 1 or losses.dtype.kind != "f" or len(losses) > step:
            self.fail(f"losses is {losses.dtype} {losses.shape}; it must be one float per step "
                      f"(at most {step})")


# Options a group saved by an older tinyseq lacks (it kept them only when on, or not at all): a
# group without one loads with the optimiser's value of it, as torch's load_state_dict does.
LATER_OPTIONS = frozenset({"amsgrad", "maximize", "foreach", "capturable", "differentiable",
                           "fused", "decoupled_weight_decay"})


def _is_options(group):
    """An optimiser's options: name -> number >= 0, bool, None (torch's ``foreach=None``), or a
    list of numbers >= 0."""
    def ok(v):
        return v is None or isinstance(v, bool) or _is_number(v) and v >= 0
    return isinstance(group, dict) and all(
        ok(v) or isinstance(v, list) and all(map(ok, v)) for v in group.values())


def _check_groups(path, groups, optimizer):
    """The saved options must be ``optimizer``'s (same groups; every option it has, but those an
    older tinyseq did not save; valid values). Options it lacks are kept: a newer tinyseq's."""
    name, other = type(optimizer).__name__, "it was saved with another optimiser or is damaged"
    if len(groups) != len(optimizer.param_groups):
        raise CheckpointError(f"checkpoint {str(path)!r} has {len(groups)} optimiser parameter "
                              f"group(s), {name} has {len(optimizer.param_groups)}: {other}")
    for saved, group in zip(groups, optimizer.param_groups):
        missing = sorted(set(group) - {"params"} - LATER_OPTIONS - set(saved))
        if missing:
            raise CheckpointError(f"checkpoint {str(path)!r} holds optimiser options without "
                                  f"{name}'s {missing}: {other}")
        try:
            optimizer._validate({**group, **saved})
        except (ValueError, TypeError) as e:
            raise CheckpointError(f"checkpoint {str(path)!r} is damaged: {e}") from None


def _build(vocab, config):
    return CharLM(vocab, config["hidden"], config["layers"], config["cell"],
                  config["embedding"] or None, config["dropout"], config["tie"])


def _tied_names(model):
    """``{second name: first name}`` of every parameter ``model`` holds under two names."""
    first, names = {}, {}
    for name, p in model.state_dict(keep_vars=True).items():
        if id(p) in first:
            names[name] = first[id(p)]
        else:
            first[id(p)] = name
    return names


def _least_weights(vocab_size, config):
    """A lower bound of the weights of the model ``config`` describes (the output layer, one
    hidden-to-hidden matrix per layer, the embedding), cheap to compute before building it."""
    h, e = config["hidden"], config["embedding"] or 0
    return vocab_size * h + config["layers"] * h * h + (0 if config["tie"] else vocab_size * e)


def _describe(config):
    return ", ".join(f"{k}={config[k]}" for k in ("hidden", "layers", "cell", "embedding"))


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
