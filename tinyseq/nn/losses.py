"""Loss modules: each calls its ``functional`` form with the options given at construction."""
import math

from . import _checks, functional as F
from ._nll import REDUCTIONS, _legacy_reduction
from .module import Module


class _Loss(Module):
    reductions = REDUCTIONS  # what ``reduction`` may be

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        name = type(self).__name__
        reduction = _legacy_reduction(size_average, reduce, reduction, name)
        if reduction not in self.reductions:
            raise ValueError(f"{name}: reduction must be one of {self.reductions}, got "
                             f"{reduction!r}")
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


class BCELoss(_WeightedLoss):
    """Probabilities and targets in [0, 1] of the same shape; ``weight`` broadcast to them."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Logits and targets in [0, 1] of the same shape; ``weight`` and ``pos_weight`` (the
    positive term's weight per class, ``(C,)``), kept as buffers, as in ``F``."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(weight, size_average, reduce, reduction)
        if pos_weight is not None:
            _checks.tensor(type(self).__name__, "pos_weight", pos_weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class MSELoss(_Loss):
    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """``F.smooth_l1_loss``: quadratic below ``beta``, linear above."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = _checks.number(type(self).__name__, "beta", beta, 0)

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """``F.huber_loss``: quadratic below ``delta``, linear (slope ``delta``) above."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = _checks.number(type(self).__name__, "delta", delta)
        if self.delta <= 0:
            raise RuntimeError(f"HuberLoss: delta must be positive, got {self.delta}")

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """``F.kl_div``: log-probabilities against probabilities (log-probabilities with
    ``log_target``); ``reduction="batchmean"`` is the KL divergence."""

    reductions = REDUCTIONS + ("batchmean",)

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = _checks.flag(type(self).__name__, "log_target", log_target)

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_Loss):
    """``F.margin_ranking_loss``: ``max(0, -y (x1 - x2) + margin)``."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = _checks.number(type(self).__name__, "margin", margin)

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class CosineEmbeddingLoss(MarginRankingLoss):
    """``F.cosine_embedding_loss``: ``1 - cos`` for similar pairs (y = 1), ``max(0, cos -
    margin)`` for dissimilar ones (y = -1)."""

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """``F.poisson_nll_loss``: counts under Poisson(λ), the input being log λ (or λ)."""

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        name = type(self).__name__
        self.log_input = _checks.flag(name, "log_input", log_input)
        self.full = _checks.flag(name, "full", full)
        self.eps = _checks.number(name, "eps", eps)

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """``F.gaussian_nll_loss``: ``forward(input, target, var)``, the targets under
    N(input, var)."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full = _checks.flag(type(self).__name__, "full", full)
        self.eps = _checks.number(type(self).__name__, "eps", eps)

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class CTCLoss(_Loss):
    """``F.ctc_loss``: ``forward(log_probs, targets, input_lengths, target_lengths)``, log-probs
    ``(T, N, C)`` against unaligned label sequences (see ``F.ctc_loss``)."""

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank = _checks.size(type(self).__name__, "blank", blank)
        self.zero_infinity = _checks.flag(type(self).__name__, "zero_infinity", zero_infinity)

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)
