"""Learning-rate schedules: call ``scheduler.step()`` once per epoch (or batch), after
``optimizer.step()``; ``get_last_lr()`` gives the learning rates it set.

Each schedule here is a closed form of its group's ``initial_lr`` and the epoch (``lr_at``), the
value torch's recursive updates compute (to rounding) when nothing else changes the learning
rate; ``MultiplicativeLR``, a product of the factors so far, multiplies the current one, as torch.
``ReduceLROnPlateau`` (``lr_plateau.py``) and ``OneCycleLR`` (``lr_one_cycle.py``) are here too.
"""
import bisect
import math
import types
import warnings
from collections import Counter
from collections.abc import Mapping

from ..nn import _checks
from .optimizer import Optimizer


class LRScheduler:
    """Sets each group's ``lr`` to ``lr_at(initial_lr, epoch)``; epoch 0 (or ``last_epoch + 1``
    when resuming with the optimizer's ``initial_lr`` in place) is set at construction."""

    def __init__(self, optimizer, last_epoch=-1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an optimizer, got {type(optimizer).__name__}")
        last_epoch = _checks.size(name, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{name}: param 'initial_lr' is not in param_groups[{i}] when "
                               f"resuming with last_epoch={last_epoch}; load the optimizer's "
                               "state_dict first, or start with last_epoch=-1")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def lr_at(self, base_lr, epoch):
        """The learning rate of a group that started at ``base_lr``, at ``epoch``."""
        raise NotImplementedError

    def next_lrs(self):
        """The learning rates at ``self.last_epoch``, one per group."""
        return [self.lr_at(base_lr, self.last_epoch) for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """Move to the next epoch (or, deprecated as in torch, to ``epoch``) and set its rates."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
        else:
            warnings.warn(f"{type(self).__name__}.step(epoch) is deprecated in torch; call "
                          "step() once per epoch", UserWarning, stacklevel=2)
            self.last_epoch = _checks.size(type(self).__name__, "epoch", epoch)
        for group, lr in zip(self.optimizer.param_groups, self.next_lrs()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rate of each group, as set by the last ``step()``."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer (as torch): the position and the options."""
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Take the schedule's position and options from ``state_dict()``'s output."""
        own = self.state_dict()
        if not isinstance(state_dict, Mapping) or not state_dict.keys() <= own.keys():
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected a dict with keys "
                             f"from {sorted(own)}, got {state_dict!r:.100}")
        vars(self).update(state_dict)


class _LambdaScheduler(LRScheduler):
    """A schedule of one function of the epoch per group (or one for all); ``state_dict`` keeps
    the functions' own attributes when they are callable objects (not plain functions), as torch."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        name = type(self).__name__
        groups = getattr(optimizer, "param_groups", [])
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(groups):
                raise ValueError(f"{name}: expected {len(groups)} lr_lambdas (one per parameter "
                                 f"group), got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"{name}: lr_lambda must be a function of the epoch, got "
                                f"{type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        state = super().state_dict()
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(vars(fn))
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                vars(fn).update(attributes)


class LambdaLR(_LambdaScheduler):
    """``lr = initial_lr * lr_lambda(epoch)``."""

    def next_lrs(self):
        return [base * fn(self.last_epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class MultiplicativeLR(_LambdaScheduler):
    """``lr = lr * lr_lambda(epoch)`` at each step after the first (the current rate, as torch)."""

    def next_lrs(self):
        groups = self.optimizer.param_groups
        if self._step_count == 1:  # construction: the rates as they are
            return [group["lr"] for group in groups]
        return [group["lr"] * fn(self.last_epoch) for group, fn in zip(groups, self.lr_lambdas)]


class StepLR(LRScheduler):
    """``lr = initial_lr * gamma ** (epoch // step_size)``."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        # (a float is taken as torch takes it: PyTorch's tutorial passes 1.0)
        if _checks.number("StepLR", "step_size", step_size, 0) == 0:
            raise ValueError("StepLR: step_size must be positive, got 0")
        self.step_size = step_size
        self.gamma = _gamma("StepLR", gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """``lr = initial_lr * gamma ** (number of milestones reached)``; a milestone given twice
    counts twice, as torch's."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        given = list(milestones) if isinstance(milestones, (list, tuple, set, range)) else None
        if given is None or not all(isinstance(m, int) and not isinstance(m, bool)
                                    for m in given):
            raise TypeError(f"MultiStepLR: milestones must be a list of epochs (ints), got "
                            f"{milestones!r}")
        self.milestones = Counter(given)
        self.gamma = _gamma("MultiStepLR", gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        reached = bisect.bisect_right(sorted(self.milestones.elements()), epoch)
        return base_lr * self.gamma ** reached

    def load_state_dict(self, state_dict):
        """As the base's; the milestones come back a Counter (a file keeps them as a dict)."""
        super().load_state_dict(state_dict)
        self.milestones = Counter(self.milestones)


class ExponentialLR(LRScheduler):
    """``lr = initial_lr * gamma ** epoch``."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = _gamma("ExponentialLR", gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``: down to
    ``eta_min`` in ``T_max`` epochs, then back up (a period of ``2 T_max``)."""

    def __init__(self, optimizer, T_max, eta_min=0, last_epoch=-1):
        self.T_max = _checks.size("CosineAnnealingLR", "T_max", T_max, 1)
        self.eta_min = _checks.number("CosineAnnealingLR", "eta_min", eta_min, 0, math.inf,
                                      high_open=True)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (base_lr - self.eta_min) * cosine


def _gamma(owner, gamma):
    """A decay factor: a finite number >= 0."""
    return _checks.number(owner, "gamma", gamma, 0, math.inf, high_open=True)


from .lr_one_cycle import OneCycleLR  # noqa: E402,F401  (they subclass LRScheduler, above)
from .lr_plateau import ReduceLROnPlateau  # noqa: E402,F401

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR",
           "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau", "OneCycleLR"]
