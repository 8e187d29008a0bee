"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""
import math

import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    r"""As ``torch.optim.SGD``: with ``g = grad + weight_decay * p``,

    ``b = momentum * b + (1 - dampening) * g`` (``b = g`` at the first step), then
    ``p -= lr * (g + momentum * b)`` with ``nesterov``, else ``p -= lr * b``
    (``p -= lr * g`` without momentum). ``maximize`` ascends; ``foreach``/``fused`` are accepted.
    """

    nonnegative = ("lr", "momentum", "weight_decay")
    flags = ("nesterov", "maximize")

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _validate(self, group):
        super()._validate(group)
        self._require("dampening", group["dampening"], math.isfinite, "a finite number")
        if group["nesterov"] and not (group["momentum"] > 0 and group["dampening"] == 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, p, g, state, group):
        momentum, wd = group["momentum"], group["weight_decay"]
        if wd:
            g = g + wd * p
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                # an array, not g.copy(): numpy's arithmetic makes a 0-d parameter's g a scalar,
                # which the in-place updates below would rebind instead of changing
                buf = state["momentum_buffer"] = np.array(g)
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        return group["lr"] * g
