"""Learning-rate schedules: call ``scheduler.step()`` once per epoch, after ``optimizer.step()``."""
import math
from collections.abc import Mapping

from ..nn import _checks
from .optimizer import Optimizer


class LRScheduler:
    """Sets each group's ``lr`` to ``lr_at(initial_lr, epoch)``; epoch 0 is set at construction."""

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()

    def lr_at(self, base_lr, epoch):
        raise NotImplementedError

    def step(self):
        self.last_epoch += 1
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base_lr, self.last_epoch)

    def get_last_lr(self):
        """The learning rate of each group, as set by the last ``step()``."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Take the schedule's position and options from ``state_dict()``'s output."""
        own = self.state_dict()
        if not isinstance(state_dict, Mapping) or not state_dict.keys() <= own.keys():
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected a dict with keys "
                             f"from {sorted(own)}, got {state_dict!r:.100}")
        vars(self).update(state_dict)


class StepLR(LRScheduler):
    """``lr = initial_lr * gamma ** (epoch // step_size)``, as torch's ``StepLR``."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.step_size = _checks.size("StepLR", "step_size", step_size, 1)
        self.gamma = _checks.number("StepLR", "gamma", gamma, 0, math.inf, high_open=True)
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``, as
    ``torch.optim.lr_scheduler.CosineAnnealingLR``."""

    def __init__(self, optimizer, T_max, eta_min=0):
        self.T_max = _checks.size("CosineAnnealingLR", "T_max", T_max, 1)
        self.eta_min = _checks.number("CosineAnnealingLR", "eta_min", eta_min, 0, math.inf,
                                      high_open=True)
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (base_lr - self.eta_min) * cosine
