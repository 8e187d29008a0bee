"""The base class of every optimiser: parameter groups, ``step``, ``zero_grad`` and checkpoints."""
import math
from collections.abc import Mapping

import numpy as np

from ..autograd import Tensor
from ..autograd.mode import enable_grad, no_grad
from ..nn import _checks
from . import state

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

    ``defaults`` holds every option torch's optimiser of that name keeps, in torch's order, the
    implementation switches (``foreach``, ``fused``, ``capturable``, ``differentiable``) too, so
    that ``state_dict()`` is torch's (``state.py``): ``foreach`` and ``fused`` change how torch
    computes a step, not its values, and tinyseq has one numpy implementation; ``capturable`` and
    ``differentiable`` are refused when True. ``flags`` names the options that must be bools.
    State is kept as numpy arrays (and a Python int ``step``) in ``self.state``; ``state_dict()``
    shows it as torch does (Tensors, a float32 ``step``), copied.
    """

    nonnegative = ("lr",)
    flags = ("maximize",)
    eager_state = False  # True: torch makes the state at construction (``initial_state``)

    def __init__(self, params, defaults):
        self._check_implementation(defaults)
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
        for key in self.flags:
            _checks.flag(type(self).__name__, key, group[key])
        self._check_implementation(group)

    def _check_implementation(self, options):
        """Refuse the implementation switches tinyseq cannot honour (in one line, as torch)."""
        name = type(self).__name__
        for key in ("foreach", "fused", "capturable", "differentiable"):
            if options.get(key) not in (None, True, False):
                raise TypeError(f"{name}: {key} must be None, True or False, got "
                                f"{options[key]!r:.60}")
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
                        if p not in self.state:
                            self.state[p] = self.initial_state(p.numpy(), group)
                        state = self.state[p]
                        g = -p.grad.numpy() if group.get("maximize") else p.grad.numpy()
                        p.sub_(self._update(p.numpy(), g, state, group))
        return loss

    def _update(self, p, g, state, group):
        raise NotImplementedError

    def initial_state(self, p, group):
        """The state a parameter starts with (numpy ``p``); empty unless the optimiser says."""
        return {}

    def state_dict(self):
        """As torch's: ``{"state": {index: {"step": float32 Tensor, name: Tensor}},
        "param_groups": [{option: value, ..., "params": [indices]}]}``, parameters numbered in
        order; the state is a copy (torch's shares its tensors)."""
        return state.pack(self)

    def load_state_dict(self, state_dict):
        """Take options and state from ``state_dict()``'s output, a torch optimiser's (torch
        Tensors) or an older tinyseq's (numpy arrays, an int step), matching parameters by index;
        all or nothing: everything is checked before the optimiser changes."""
        groups, loaded = state.unpack(self, state_dict)
        for group, new in zip(self.param_groups, groups):
            group.update(new)
        self.state = loaded
