"""Loss modules: each calls its ``functional`` form with the options given at construction."""
import math

from . import _checks, functional as F
from ._nll import _legacy_reduction
from .module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        reduction = _legacy_reduction(size_average, reduce, reduction, type(self).__name__)
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class _WeightedLoss(_Loss):
    """A loss with class weights ``weight`` ``(C,)``, kept as a buffer (in the state_dict), as
    torch keeps it."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if weight is not None:
            _checks.tensor(type(self).__name__, "weight", weight)
        self.register_buffer("weight", weight)


class NLLLoss(_WeightedLoss):
    """Log-probabilities ``(N, C)`` or ``(N, C, d1...)`` and int64 targets; ``weight`` ``(C,)``
    weighs each target's class (and the mean divides by the weights' sum)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = _checks.size(type(self).__name__, "ignore_index", ignore_index,
                                         -math.inf)

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Logits ``(N, C)`` or ``(N, C, d1...)`` and int64 targets ``(N)`` or ``(N, d1...)``, or
    class probabilities of the logits' shape; ``weight`` and ``label_smoothing`` as in
    ``F.cross_entropy``."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = _checks.size(type(self).__name__, "ignore_index", ignore_index,
                                         -math.inf)
        self.label_smoothing = _checks.number(type(self).__name__, "label_smoothing",
                                              label_smoothing, 0, 1)

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class BCELoss(_Loss):
    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class MSELoss(_Loss):
    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)
