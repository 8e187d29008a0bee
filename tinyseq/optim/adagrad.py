"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients."""
import numpy as np

from .optimizer import Optimizer


class Adagrad(Optimizer):
    r"""As ``torch.optim.Adagrad``: with ``g = grad + weight_decay * p`` and step ``t``,

    ``sum += g²``, ``p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)``;
    ``maximize`` ascends. torch makes each parameter's state when it builds the optimiser;
    tinyseq at its first step (``eager_state``: ``state_dict()`` shows the initial one, as torch).
    """

    nonnegative = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))

    eager_state = True

    def initial_state(self, p, group):
        return dict(step=0, sum=np.full_like(p, group["initial_accumulator_value"]))

    def _update(self, p, g, state, group):
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        state["sum"] += g * g
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        return clr * (g / (np.sqrt(state["sum"]) + group["eps"]))
