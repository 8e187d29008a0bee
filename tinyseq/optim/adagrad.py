"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients."""
import numpy as np

from .optimizer import Optimizer, switches


class Adagrad(Optimizer):
    r"""As ``torch.optim.Adagrad``: with ``g = grad + weight_decay * p`` and step ``t``,

    ``state_sum += g²``, ``p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(state_sum) + eps)``;
    ``maximize`` ascends.
    """

    nonnegative = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      **switches(maximize=maximize)),
                         dict(foreach=foreach, differentiable=differentiable, fused=fused))

    def _update(self, p, g, state, group):
        if not state:
            state.update(step=0, state_sum=np.full_like(p, group["initial_accumulator_value"]))
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        state["state_sum"] += g * g
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        return clr * (g / (np.sqrt(state["state_sum"]) + group["eps"]))
