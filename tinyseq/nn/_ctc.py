"""``F.ctc_loss``: Connectionist Temporal Classification (Graves et al. 2006), the loss of speech
and handwriting models whose T outputs are longer than their S labels and not aligned with them.

The loss is ``-log p(labels | input)``, summed over every alignment: every path of T symbols that
collapses to the labels once repeats are merged and blanks dropped. The forward (alpha) recursion
computes it on the extended labels ``l' = (blank, l1, blank, l2, ..., lS, blank)`` (length
``2S + 1``), in log space, one time step at a time::

    alpha_t(s) = logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), alpha_{t-1}(s-2) if allowed)
                 + log_probs[t, l'_s]

(the jump from s-2 is allowed onto a label that differs from the label two back; never onto a
blank), and ``log p = logsumexp(alpha_{T-1}(2S), alpha_{T-1}(2S - 1))``. The recursion is composed
from autograd ops (indexing, cat, where, stack, logsumexp), so the gradient is the engine's
backward through this dynamic program: no backward is written here.

Shapes: ``log_probs`` ``(T, N, C)`` (or ``(T, C)`` for one sequence), ``L = 2·S_max + 1``.
"""
import numpy as np

from ..autograd.namespace import cat, stack, where
from ..autograd.tensor import Tensor
from . import _checks
from ._nll import _check_reduction, _indices

# log(0) inside the recursion: a finite stand-in for -inf, so that a state no path reaches (all
# three of its predecessors "-inf") has a finite logsumexp and a finite (zero) gradient; a
# log-likelihood below NEG / 2 means that no alignment exists.
NEG = -1e30


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """The CTC loss of ``log_probs`` ``(T, N, C)`` (log-softmax outputs over C classes, ``blank``
    among them) against label sequences: ``targets`` ``(N, S)`` padded, or 1-d, every sequence's
    labels concatenated; ``input_lengths`` and ``target_lengths`` (N ints, Tensors or tuples)
    are each sequence's number of steps and labels.

    ``reduction="mean"`` divides each sequence's loss by its target length (at least 1), then
    averages over the batch, as PyTorch; ``"sum"`` and ``"none"`` ``(N,)`` as usual. A sequence
    with no possible alignment (too few steps for its labels) has an infinite loss, 0 with
    ``zero_infinity=True`` (and then no gradient).
    """
    _check_reduction(reduction, "ctc_loss")
    zero_infinity = _checks.flag("ctc_loss", "zero_infinity", zero_infinity)
    batched = _check_log_probs(log_probs)
    if not batched:  # one sequence: (T, C), targets (S,), lengths as one int
        log_probs, targets = log_probs.unsqueeze(1), _indices(targets, "ctc_loss")[None]
    T, N, C = log_probs.shape
    blank = _blank(blank, C)
    steps = _lengths("input_lengths", input_lengths, N)
    if steps.size and steps.max() > T:
        raise RuntimeError(f"ctc_loss: input_lengths must be at most T={T} (the log_probs' "
                           f"first dim), got {steps.max()}")
    labels = _labels(targets, _lengths("target_lengths", target_lengths, N), C, blank)
    loss = -_log_likelihood(log_probs, labels, steps, blank)
    impossible = Tensor(loss.numpy() >= -NEG / 2)
    loss = where(impossible, 0.0 if zero_infinity else np.inf, loss)
    if reduction == "none":
        return loss if batched else loss.squeeze(0)
    if reduction == "sum":
        return loss.sum()
    counts = np.maximum([len(l) for l in labels], 1).astype(loss.numpy().dtype)
    return (loss / Tensor(counts)).mean()


def _log_likelihood(log_probs, labels, steps, blank):
    """``log p(labels_n | log_probs[:, n])`` for each sequence n, by the alpha recursion over
    its first ``steps[n]`` steps: ``(N,)``."""
    T, N, _ = log_probs.shape
    extended, skip = extended_labels(labels, blank)  # (N, L) ints, (N, L) bools
    rows = np.arange(N)[:, None]
    # log_probs[t, n, l'_s] for every t, n, s in one gather; -inf (a masked class) becomes NEG
    emissions = log_probs[:, rows, extended].clamp(min=NEG).unbind(0)  # T x (N, L)
    # alpha_{-1}: 0 at s = 0 only, so that the first step starts at s = 0 or s = 1
    alpha = Tensor(np.where(np.arange(extended.shape[1]) == 0, 0.0, NEG)
                   .astype(log_probs.numpy().dtype)[None].repeat(N, 0))
    skip = Tensor(skip)
    for t in range(T):
        running = Tensor((t < steps)[:, None])  # a sequence past its end keeps its alpha
        alpha = where(running, alpha_step(alpha, emissions[t], skip), alpha)
    ends = np.array([2 * len(l) for l in labels])  # the last blank; the last label before it
    last = alpha[np.arange(N), ends]
    before = where(Tensor(ends > 0), alpha[np.arange(N), np.maximum(ends - 1, 0)], NEG)
    return stack([last, before], 1).logsumexp(1)


def alpha_step(alpha, emission, skip):
    """One step of the recursion: ``alpha`` ``(N, L)`` at t-1 -> at t, ``emission`` ``(N, L)``
    the log-probabilities of the extended labels at t; ``skip`` ``(N, L)`` where the jump from
    s-2 is allowed."""
    N, L = alpha.shape
    padded = cat([Tensor(np.full((N, 2), NEG, alpha.numpy().dtype)), alpha], 1)  # s = -2, -1, ...
    advance = padded[:, 1:L + 1]  # from s-1
    jump = where(skip, padded[:, :L], NEG)  # from s-2
    return stack([alpha, advance, jump], 2).logsumexp(2) + emission


def extended_labels(labels, blank):
    """The labels with a blank around each, padded with blanks to the longest: ``(N, L)``
    ints, and ``(N, L)`` bools, True where the jump from s-2 is allowed (a label that is not the
    one two back)."""
    L = 2 * max((len(l) for l in labels), default=0) + 1
    extended = np.full((len(labels), L), blank, np.int64)
    for n, l in enumerate(labels):
        extended[n, 1:2 * len(l):2] = l
    skip = np.zeros(extended.shape, bool)
    skip[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    return extended, skip


# ---- checks --------------------------------------------------------------------------------------
def _check_log_probs(log_probs):
    """True for a batch ``(T, N, C)``, False for one sequence ``(T, C)``."""
    _checks.floating("ctc_loss", log_probs, "log_probs")
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss: log_probs must be (T, N, C) or (T, C) for one sequence, "
                           f"got shape {log_probs.shape}")
    if log_probs.numel() == 0:  # (as torch refuses it)
        raise RuntimeError(f"ctc_loss: log_probs must not be empty, got shape {log_probs.shape}")
    return log_probs.ndim == 3


def _blank(blank, C):
    blank = _checks.size("ctc_loss", "blank", blank, -np.inf)
    if not 0 <= blank < C:
        raise RuntimeError(f"ctc_loss: blank must be in label range [0, {C}), got {blank}")
    return blank


def _lengths(name, value, N):
    """``value`` (a Tensor or a sequence of ints; one int for one sequence) as ``(N,)`` ints."""
    array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
    if array.size == 0 and not isinstance(value, Tensor):  # ([] for an empty batch: numpy's float)
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss: {name} must be integral, got dtype {array.dtype}; "
                           "convert with .long()")
    array = array.reshape(-1) if array.ndim == 0 else array
    if array.shape != (N,):
        raise RuntimeError(f"ctc_loss: {name} must be of size batch_size N={N}, got shape "
                           f"{array.shape}")
    if array.size and array.min() < 0:
        raise RuntimeError(f"ctc_loss: {name} must not be negative, got {array.min()}")
    return array.astype(np.int64)


def _labels(targets, lengths, C, blank):
    """Each sequence's labels (a list of N int arrays) from padded ``(N, S)`` or concatenated
    1-d ``targets``, checked: classes in ``[0, C)`` other than ``blank``."""
    targets = _indices(targets, "ctc_loss")
    if targets.ndim == 2:
        if targets.shape[0] != len(lengths) or (lengths.size and lengths.max() > targets.shape[1]):
            raise RuntimeError(f"ctc_loss: padded targets (N, S) of shape {targets.shape} do not "
                               f"hold {len(lengths)} sequences of target_lengths up to "
                               f"{lengths.max() if lengths.size else 0}")
        labels = [row[:n] for row, n in zip(targets, lengths)]
    elif targets.ndim == 1:
        if targets.size != lengths.sum():
            raise RuntimeError(f"ctc_loss: concatenated 1-d targets must have sum(target_lengths)"
                               f" = {lengths.sum()} labels, got {targets.size}")
        labels = np.split(targets, np.cumsum(lengths)[:-1])
    else:
        raise RuntimeError(f"ctc_loss: targets must be (N, S) padded or 1-d concatenated, got "
                           f"shape {targets.shape}")
    used = np.concatenate([np.zeros(0, np.int64), *labels])
    if used.size and (used.min() < 0 or used.max() >= C or (used == blank).any()):
        bad = used[(used < 0) | (used >= C) | (used == blank)][0]
        raise RuntimeError(f"ctc_loss: target label {bad} is not a class: labels must be in "
                           f"[0, {C}) and not the blank ({blank})")
    return labels
