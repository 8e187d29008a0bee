"""Loss modules: each calls its ``functional`` form with the options given at construction."""
import math

from . import _checks, functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class CrossEntropyLoss(_Loss):
    """Logits ``(N, C)`` or ``(N, C, d1...)`` and int64 targets ``(N)`` or ``(N, d1...)``."""

    def __init__(self, ignore_index=-100, reduction="mean"):
        super().__init__(reduction)
        self.ignore_index = _checks.size(type(self).__name__, "ignore_index", ignore_index,
                                         -math.inf)

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.ignore_index, self.reduction)


class NLLLoss(CrossEntropyLoss):
    """Log-probabilities ``(N, C)`` or ``(N, C, d1...)`` and int64 targets."""

    def forward(self, input, target):
        return F.nll_loss(input, target, self.ignore_index, self.reduction)


class BCELoss(_Loss):
    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class MSELoss(_Loss):
    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)
