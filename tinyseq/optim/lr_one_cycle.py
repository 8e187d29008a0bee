"""``OneCycleLR`` (Smith & Topin 2017): the learning rate rises from ``max_lr / div_factor`` to
``max_lr`` over the first ``pct_start`` of the steps, then falls to ``initial_lr /
final_div_factor``; the momentum (SGD's, or Adam's beta1) moves the other way. Stepped once per
batch, ``total_steps`` times in all."""
import math

from ..nn import _checks
from .lr_scheduler import LRScheduler


class OneCycleLR(LRScheduler):
    """torch's ``OneCycleLR``: phases annealed with a cosine (or ``anneal_strategy="linear"``);
    ``three_phase`` comes back down to ``initial_lr`` before the final fall."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        name = "OneCycleLR"
        if total_steps is None and (epochs is None or steps_per_epoch is None):
            raise ValueError(f"{name}: give total_steps, or epochs and steps_per_epoch")
        self.total_steps = (_checks.size(name, "total_steps", total_steps, 1)
                            if total_steps is not None else
                            _checks.size(name, "epochs", epochs, 1)
                            * _checks.size(name, "steps_per_epoch", steps_per_epoch, 1))
        pct_start = _checks.number(name, "pct_start", pct_start, 0, 1)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        self.phases = _phases(pct_start, self.total_steps, three_phase)
        groups = getattr(optimizer, "param_groups", [])
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum and groups and not ({"momentum", "betas"} & groups[0].keys()):
            raise ValueError(f"{name}: cycle_momentum needs an optimizer with momentum or betas "
                             f"(SGD, Adam, ...); got {type(optimizer).__name__}")
        if last_epoch == -1:
            _set_rates(groups, _per_group(name, "max_lr", max_lr, groups), div_factor,
                       final_div_factor)
            if self.cycle_momentum:
                _set_momenta(groups, _per_group(name, "base_momentum", base_momentum, groups),
                             _per_group(name, "max_momentum", max_momentum, groups))
        super().__init__(optimizer, last_epoch)

    def next_lrs(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; total_steps is "
                             f"{self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            (start, end, m_start, m_end), pct = self._phase_at(step)
            lrs.append(self._anneal(group[start], group[end], pct))
            if self.cycle_momentum:
                _set_momentum(group, self._anneal(group[m_start], group[m_end], pct))
        return lrs

    def _phase_at(self, step):
        """The phase holding ``step`` and how far into it (0 to 1) ``step`` is."""
        begin = 0.0
        for k, (end_step, *keys) in enumerate(self.phases):
            if step <= end_step or k == len(self.phases) - 1:
                return keys, (step - begin) / (end_step - begin)
            begin = end_step

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start


def _phases(pct_start, total, three_phase):
    """``(last step, start lr key, end lr key, start momentum key, end momentum key)`` per phase."""
    up = (float(pct_start * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum")
    if three_phase:
        return [up, (float(2 * pct_start * total) - 2, "max_lr", "initial_lr", "base_momentum",
                     "max_momentum"),
                (total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
    return [up, (total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]


def _per_group(owner, name, value, groups):
    """A number, or a list of one number per parameter group, as a list per group."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * len(groups)
    if len(values) != len(groups):
        raise ValueError(f"{owner}: expected {len(groups)} values of {name} (one per parameter "
                         f"group), got {len(values)}")
    return [_checks.number(owner, name, v) for v in values]


def _set_rates(groups, max_lrs, div_factor, final_div_factor):
    for group, max_lr in zip(groups, max_lrs):
        group["initial_lr"] = max_lr / div_factor
        group["max_lr"] = max_lr
        group["min_lr"] = group["initial_lr"] / final_div_factor


def _set_momenta(groups, base, top):
    for group, low, high in zip(groups, base, top):
        _set_momentum(group, high)
        group["max_momentum"], group["base_momentum"] = high, low


def _set_momentum(group, value):
    if "betas" in group:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value
