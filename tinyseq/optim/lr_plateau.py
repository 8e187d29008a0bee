"""``ReduceLROnPlateau``: divide the learning rate when a watched metric (the validation loss)
stops improving. Unlike the other schedules it reads a value at each step:
``scheduler.step(val_loss)``."""
import math
from numbers import Real

from ..nn import _checks
from .lr_scheduler import LRScheduler
from .optimizer import Optimizer


class ReduceLROnPlateau(LRScheduler):
    """After more than ``patience`` steps without an improvement of the metric (in ``mode``
    "min", a drop below ``best * (1 - threshold)``, or ``best - threshold`` with
    ``threshold_mode="abs"``; in "max", a rise), each group's ``lr`` becomes
    ``max(lr * factor, min_lr)`` (unless that changes it by less than ``eps``); then ``cooldown``
    steps pass before bad steps count again. As torch's."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an optimizer, got {type(optimizer).__name__}")
        self.factor = _checks.number(name, "factor", factor, 0, 1, high_open=True)
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: mode must be 'min' or 'max' and threshold_mode 'rel' or "
                             f"'abs', got {mode!r} and {threshold_mode!r}")
        groups = optimizer.param_groups
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(groups):
                raise ValueError(f"{name}: expected {len(groups)} min_lrs (one per parameter "
                                 f"group), got {len(min_lr)}")
            self.min_lrs = [_checks.number(name, "min_lr", v, 0) for v in min_lr]
        else:
            self.min_lrs = [_checks.number(name, "min_lr", min_lr, 0)] * len(groups)
        self.optimizer, self.mode, self.threshold_mode = optimizer, mode, threshold_mode
        self.patience = _checks.size(name, "patience", patience)
        self.cooldown = _checks.size(name, "cooldown", cooldown)
        self.threshold = _checks.number(name, "threshold", threshold, 0)
        self.eps = _checks.number(name, "eps", eps, 0)
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in groups]
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = self.num_bad_epochs = 0

    def step(self, metrics):
        """Count this step's ``metrics`` (a number or a 0-d tensor) and reduce if it is time."""
        current = _metric(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad steps in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _is_better(self, current):
        if self.threshold_mode == "rel":
            scale = 1 - self.threshold if self.mode == "min" else 1 + self.threshold
            edge = self.best * scale
        else:
            edge = self.best - self.threshold if self.mode == "min" else \
                self.best + self.threshold
        return current < edge if self.mode == "min" else current > edge

    def _reduce(self):
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            new = max(group["lr"] * self.factor, min_lr)
            if group["lr"] - new > self.eps:
                group["lr"] = new


def _metric(value):
    """The watched value as a float: a number, or a one-element tensor (``val_loss``)."""
    if hasattr(value, "item") and getattr(value, "shape", ()) in ((), (1,)):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number (the value watched, "
                        f"e.g. the validation loss), got {type(value).__name__}")
    return float(value)
