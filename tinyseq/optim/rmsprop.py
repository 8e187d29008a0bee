"""RMSprop: steps divided by a running root-mean-square of the gradient."""
import numpy as np

from .optimizer import Optimizer


class RMSprop(Optimizer):
    r"""As ``torch.optim.RMSprop``: with ``g = grad + weight_decay * p``,

    ``square_avg = alpha square_avg + (1 - alpha) g²``, ``p -= lr * g / (sqrt(square_avg) + eps)``;
    ``centered`` subtracts the squared running mean of g under the root, ``momentum`` keeps
    ``b = momentum b + g / (...)`` and steps ``p -= lr * b``; ``maximize`` ascends.
    """

    nonnegative = ("lr", "alpha", "eps", "weight_decay", "momentum")
    flags = ("centered", "maximize")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _validate(self, group):
        super()._validate(group)
        self._require("alpha", group["alpha"], lambda a: a <= 1, "in [0, 1]")

    def initial_state(self, p, group):
        state = dict(step=0, square_avg=np.zeros_like(p))
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(p)
        return state

    def _update(self, p, g, state, group):
        alpha, momentum = group["alpha"], group["momentum"]
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - alpha) * (g - grad_avg)
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = np.sqrt(square_avg) + group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += g / avg
            return group["lr"] * buf
        else:
            return group["lr"] * (g / avg)
