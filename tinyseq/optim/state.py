"""An optimiser's ``state_dict`` as torch 2.13 writes it, and loading one back.

``pack`` writes ``{"state": {index: {"step": tensor(float32 0-d), name: Tensor}}, "param_groups":
[{every option, in torch's order, "params": [indices]}]}``: the keys, value types and key order of
torch's optimiser of the same name. ``unpack`` reads that, a torch optimiser's own state_dict (torch
Tensors: anything ``np.asarray`` reads) and an older tinyseq's (numpy arrays, an int ``step``,
groups without the options added since), and checks it all before anything changes.

>>> import tinyseq as ts
>>> w = ts.zeros(2, requires_grad=True)
>>> opt = ts.optim.Adam([w], lr=0.1)
>>> w.grad = ts.ones(2)
>>> opt.step()
>>> sd = opt.state_dict()
>>> sd["state"][0]["step"], list(sd["state"][0])
(tensor(1.), ['step', 'exp_avg', 'exp_avg_sq'])
>>> list(sd["param_groups"][0])[-3:]
['fused', 'decoupled_weight_decay', 'params']
"""
import math
from collections.abc import Mapping

import numpy as np

from ..autograd.tensor import Tensor

STEP = "step"  # a count, kept as a Python int inside; torch writes it as a float32 0-d tensor
RENAMED = {"state_sum": "sum"}  # state names of older tinyseq versions -> torch's names


def pack(opt):
    """``opt``'s state_dict: its groups' options (shallow copies) and a copy of its state."""
    index, groups = {}, []
    for group in opt.param_groups:
        saved = {k: v for k, v in group.items() if k != "params"}
        saved["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
        groups.append(saved)
    held = opt.state
    if opt.eager_state:  # torch made every parameter's state when the optimiser was built
        held = {p: opt.state.get(p) or opt.initial_state(p.numpy(), group)
                for group in opt.param_groups for p in group["params"]}
    state = {index[id(p)]: {k: _shown(v) for k, v in s.items()} for p, s in held.items() if s}
    return {"state": state, "param_groups": groups}


def _shown(value):
    """A state value as torch shows it: the step a float32 0-d Tensor, an array a Tensor (a copy)."""
    if isinstance(value, int):
        return Tensor(np.array(value, dtype=np.float32))
    return Tensor(np.array(value)) if isinstance(value, np.ndarray) else value


def unpack(opt, state_dict):
    """``(groups, state)`` for ``opt`` from ``state_dict``: each group's options (the saved ones
    over ``opt``'s, validated) and the state by parameter, numpy arrays of the parameter's dtype.
    Anything wrong is one error line naming ``Class.load_state_dict``; nothing is changed."""
    name = f"{type(opt).__name__}.load_state_dict"
    if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= state_dict.keys():
        got = (f"a dict with keys {sorted(map(str, state_dict))}"
               if isinstance(state_dict, Mapping) else type(state_dict).__name__)
        raise TypeError(f"{name}: expected a dict with 'state' and 'param_groups' (what "
                        f"state_dict() returns), got {got}")
    groups, params = _groups(opt, name, state_dict["param_groups"])
    state = {}
    for i, saved in _items(name, state_dict["state"]):
        if _index(name, i) not in params:
            raise ValueError(f"{name}: the state names parameter {i}, but the parameter "
                             f"groups number {len(params)} parameters")
        p, group = params[_index(name, i)]
        state[p] = _entries(opt, name, i, saved, p, group)
    return groups, state


def _groups(opt, name, saved_groups):
    """The new options of each group, and ``{index: (parameter, its new options)}``."""
    if not isinstance(saved_groups, (list, tuple)) or not all(
            isinstance(g, Mapping) and isinstance(g.get("params"), (list, tuple))
            for g in saved_groups):
        raise TypeError(f"{name}: param_groups must be a list of dicts, each with a 'params' "
                        f"list of indices, got {saved_groups!r:.80}")
    if len(saved_groups) != len(opt.param_groups):
        raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, but the "
                         f"optimizer has {len(opt.param_groups)}")
    groups, params = [], {}
    for group, saved in zip(opt.param_groups, saved_groups):
        if len(group["params"]) != len(saved["params"]):
            raise ValueError(f"loaded state dict has a parameter group of "
                             f"{len(saved['params'])} parameters where the optimizer's has "
                             f"{len(group['params'])}")
        # options a saved group lacks (added to torch or tinyseq since) keep the group's values
        new = {**group, **{k: v for k, v in saved.items() if k != "params"}}
        opt._validate(new)
        groups.append(new)
        params.update((_index(name, i), (p, new)) for i, p in zip(saved["params"], group["params"]))
    return groups, params


def _items(name, state):
    if not isinstance(state, Mapping) or not all(isinstance(s, Mapping) for s in state.values()):
        raise TypeError(f"{name}: state must be a dict of parameter index -> dict of state "
                        f"values, got {state!r:.80}")
    return state.items()


def _index(name, i):
    """A parameter index: an int, or its text (a JSON key)."""
    try:
        return int(i)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: parameter index {i!r:.40} is not a whole number") from None


def _entries(opt, name, i, saved, p, group):
    """One parameter's state: the step an int, arrays of ``p``'s shape in ``p``'s dtype, every
    entry its first step makes present (``initial_state``)."""
    out = {}
    for key, value in saved.items():
        key = RENAMED.get(key, key)
        if value is None:  # torch's "no buffer yet" (SGD's momentum_buffer before torch 2.1)
            continue
        out[key] = _step(name, i, value) if key == STEP else _array(name, i, key, value, p)
    missing = [k for k in opt.initial_state(p.numpy(), group) if k not in out]
    if missing:
        raise ValueError(f"{name}: the state of parameter {i} has no {', '.join(missing)} (it "
                         f"has {', '.join(out) or 'nothing'}); load the state_dict of a "
                         f"{type(opt).__name__} with the same options")
    return out


def _numbers(name, i, key, value):
    """``value`` (a Tensor of either library, an array, a number) as a numpy array of numbers."""
    try:
        a = np.asarray(value.detach() if hasattr(value, "detach") else value)
    except Exception as e:  # noqa: BLE001  (a torch bfloat16 tensor, say: numpy has no such type)
        raise TypeError(f"{name}: state {key!r} of parameter {i} ({type(value).__name__}) is "
                        f"not readable by numpy ({e}); give a float32/float64 tensor") from None
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{name}: state {key!r} of parameter {i} is {value!r:.60}; it must be "
                        f"a tensor or array of numbers")
    return a


def _step(name, i, value):
    a = _numbers(name, i, STEP, value)
    v = float(a) if a.shape == () else math.nan
    if not (math.isfinite(v) and v >= 0 and v == int(v)):
        raise ValueError(f"{name}: the step of parameter {i} is {value!r:.60}; it must be a "
                         f"whole number >= 0 (the count of steps taken)")
    return int(v)


def _array(name, i, key, value, p):
    a = _numbers(name, i, key, value)
    if a.shape != tuple(p.shape):
        raise ValueError(f"{name}: loaded state has shape {a.shape} for a parameter of shape "
                         f"{tuple(p.shape)} (state {key!r} of parameter {i}); load the "
                         f"state_dict of an optimizer over the same parameters, in order")
    return np.array(a, dtype=p.numpy().dtype)
