"""The base class of every optimiser: parameter groups, ``step``, ``zero_grad`` and checkpoints."""
import math
from collections.abc import Mapping

import numpy as np

from ..autograd import Tensor
from ..autograd.mode import enable_grad, no_grad
from ..nn import _checks

_NAMES = {"lr": "learning rate"}


class Optimizer:
    """Updates parameters from their ``.grad``, in place, one ``step()`` at a time.

    ``params`` is an iterable of Tensors, or of dicts (parameter groups: ``{"params": [...]}``
    plus any option that overrides ``defaults`` for that group). Each subclass names the options
    that must be finite numbers >= 0 in ``nonnegative`` (NaN and inf refused: an infinite learning
    rate is a NaN model after one step) and writes ``_update(p, g, state, group)`` on numpy
    arrays: it reads ``p`` (the parameter's values; AdamW decays them in place), changes its state
    arrays in place and returns the step ``d``; ``step()`` writes ``p -= d`` with the parameter's
    ``sub_``, as torch's optimisers write theirs (bumping its version). With a group's
    ``maximize`` the gradient is negated first (ascent), as in torch.

    torch's implementation switches (``implementation``: ``foreach``, ``fused``, ``capturable``,
    ``differentiable``) are checked but not kept in the groups (their None does not fit a
    checkpoint's options): ``foreach`` and ``fused`` change how torch computes a step, not its
    values, and tinyseq has one numpy implementation; ``capturable`` and ``differentiable`` are
    refused when True.
    """

    nonnegative = ("lr",)

    def __init__(self, params, defaults, implementation=None):
        self._check_implementation(implementation or {})
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}  # parameter Tensor -> {name: value}, filled at its first update
        groups = [params] if isinstance(params, Tensor) else list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add ``{"params": [...], **options}``; options it leaves out come from ``defaults``."""
        name = type(self).__name__
        if not isinstance(group, Mapping) or "params" not in group:
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' key, got "
                            f"{group!r:.80}")
        params = group["params"]
        if not isinstance(params, Tensor) and not hasattr(params, "__iter__"):
            raise TypeError(f"{name}: params must be Tensors (or dicts of parameter groups), "
                            f"got {type(params).__name__}")
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, but parameter {i} is a "
                                f"{type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"{name}: parameter {i} (shape {p.shape}) does not require grad, "
                                 f"so it would never get a gradient; make it with "
                                 f"requires_grad=True or leave it out")
            if not p.is_leaf:
                raise ValueError(f"{name}: parameter {i} is not a leaf tensor (it was computed by "
                                 f"{p.grad_fn.name}); optimise the tensor it came from")
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} appears more than once in the "
                                 f"parameter groups")
            seen.add(id(p))
        group = {**self.defaults, **group, "params": params}
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group):
        for key in self.nonnegative:
            self._require(_NAMES.get(key, key), group[key], lambda v: 0 <= v < math.inf,
                          "a finite number >= 0")
        self._check_implementation(group)

    def _check_implementation(self, options):
        """Refuse the implementation switches tinyseq cannot honour (in one line, as torch)."""
        name = type(self).__name__
        if options.get("foreach") and options.get("fused"):
            raise RuntimeError(f"{name}: `fused` and `foreach` cannot be `True` together; "
                               "give at most one")
        if options.get("capturable"):  # torch's AssertionError, on a CPU parameter
            raise AssertionError(f"{name}: capturable=True is for CUDA graphs (parameters on "
                                 "cuda, xpu, ...); tinyseq's are on the cpu, so leave it False")
        if options.get("differentiable"):
            raise RuntimeError(f"{name}: differentiable=True (differentiating through the step) "
                               "is not supported by tinyseq; leave it False")

    def _require(self, what, value, ok, rule):
        """Refuse ``value`` unless ``ok(value)``; a value that is not a number is a TypeError."""
        _checks.number(type(self).__name__, what, value)
        if not ok(value):
            raise ValueError(f"{type(self).__name__}: invalid {what} {value!r}; it must be {rule}")

    def zero_grad(self, set_to_none=True):
        """Forget every gradient: set ``.grad`` to None, or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    with no_grad():
                        p.grad.zero_()

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``; ``closure()``, if given, recomputes the
        loss, which ``step`` returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # a diverging run's inf and NaN go into the weights without numpy warnings, as in torch
        with no_grad(), np.errstate(over="ignore", invalid="ignore"):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        state = self.state.setdefault(p, {})
                        g = -p.grad.numpy() if group.get("maximize") else p.grad.numpy()
                        p.sub_(self._update(p.numpy(), g, state, group))
        return loss

    def _update(self, p, g, state, group):
        raise NotImplementedError

    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [...]}`` with parameters numbered in order,
        as PyTorch does; state arrays are copies."""
        index, groups = {}, []
        for group in self.param_groups:
            saved = {k: v for k, v in group.items() if k != "params"}
            saved["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(saved)
        state = {index[id(p)]: {k: _copy(v) for k, v in s.items()} for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take options and state from ``state_dict()``'s output, matching parameters by index;
        all or nothing: everything is checked before the optimiser changes."""
        name = f"{type(self).__name__}.load_state_dict"
        keys = {"state", "param_groups"}
        if not isinstance(state_dict, Mapping) or not keys <= state_dict.keys():
            got = (f"a dict with keys {sorted(map(str, state_dict))}"
                   if isinstance(state_dict, Mapping) else type(state_dict).__name__)
            raise TypeError(f"{name}: expected a dict with 'state' and 'param_groups' (what "
                            f"state_dict() returns), got {got}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, but the "
                             f"optimizer has {len(self.param_groups)}")
        params, groups = {}, []
        for group, saved in zip(self.param_groups, saved_groups):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict has a parameter group of "
                                 f"{len(saved['params'])} parameters where the optimizer's has "
                                 f"{len(group['params'])}")
            params.update(zip(saved["params"], group["params"]))
            groups.append({**group, **{k: v for k, v in saved.items() if k != "params"}})
            self._validate(groups[-1])
        state = {}
        for i, s in state_dict["state"].items():
            if int(i) not in params:
                raise ValueError(f"{name}: the state names parameter {i}, but the parameter "
                                 f"groups number {len(params)} parameters")
            state[params[int(i)]] = {k: _copy(v, params[int(i)]) for k, v in s.items()}
        for group, new in zip(self.param_groups, groups):
            group.update(new)
        self.state = state


def switches(**flags):
    """The on/off options torch added to its optimisers later (``maximize``, ``amsgrad``, ...),
    kept in the groups only when on: a group without one reads False (``group.get``), so the
    options of a checkpoint saved before them still match an optimiser built without them."""
    return {k: v for k, v in flags.items() if v}


def _copy(value, param=None):
    """A copy of a state value; arrays take ``param``'s dtype and must have its shape."""
    if not isinstance(value, np.ndarray):
        return value
    if param is not None and value.shape != param.shape:
        raise ValueError(f"loaded state has shape {value.shape} for a parameter of shape "
                         f"{param.shape}")
    return np.array(value, dtype=param.numpy().dtype if param is not None else None)
