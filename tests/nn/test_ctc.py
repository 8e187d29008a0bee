"""``F.ctc_loss`` / ``nn.CTCLoss`` against PyTorch: values and gradients (through log_softmax) on
padded and concatenated targets, repeated labels, varying lengths, empty targets, another blank,
one unbatched sequence, impossible alignments (inf, or 0 with ``zero_infinity``); against a brute
force sum over every alignment; gradcheck in float64 of the recursion itself; bad arguments."""
import itertools

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn
from tests.torch_compare import compare_with_torch, torch

RNG = np.random.default_rng(11)
T, N, C = 7, 4, 5
LOGITS = RNG.standard_normal((T, N, C)) * 2
PADDED = np.array([[1, 1, 2, 0], [3, 0, 0, 0], [2, 4, 2, 4], [4, 3, 3, 1]])  # repeats, padding
INPUT_LENGTHS = np.array([7, 3, 6, 7])
TARGET_LENGTHS = np.array([3, 1, 4, 4])


def ctc(m, logits, targets, input_lengths, target_lengths, **options):
    return m.nn.functional.ctc_loss(logits.log_softmax(-1), targets, input_lengths,
                                    target_lengths, **options)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_padded_targets_match_pytorch(reduction, dtype):
    outs, _ = compare_with_torch(
        lambda m, x, *rest: ctc(m, x, *rest, reduction=reduction), None,
        [LOGITS, PADDED, INPUT_LENGTHS, TARGET_LENGTHS], dtype=dtype)
    assert np.isfinite(outs[0].numpy()).all()


def test_concatenated_targets_are_the_padded_ones():
    flat = np.concatenate([row[:n] for row, n in zip(PADDED, TARGET_LENGTHS)])
    ours, _ = compare_with_torch(lambda m, x, *rest: ctc(m, x, *rest, reduction="none"), None,
                                 [LOGITS, flat, INPUT_LENGTHS, TARGET_LENGTHS])
    padded = ctc(ts, ts.from_numpy(LOGITS), ts.tensor(PADDED), ts.tensor(INPUT_LENGTHS),
                 ts.tensor(TARGET_LENGTHS), reduction="none")
    np.testing.assert_allclose(ours[0].numpy(), padded.numpy(), rtol=1e-12)


@pytest.mark.parametrize("case", ["empty_target", "no_steps", "blank_last", "tuples"])
def test_edge_cases_match_pytorch(case):
    targets, input_lengths, target_lengths, options = PADDED, INPUT_LENGTHS, TARGET_LENGTHS, {}
    if case == "empty_target":
        target_lengths = np.array([3, 0, 4, 0])  # only blanks: -Σ_t log p(blank)
    elif case == "no_steps":
        input_lengths, target_lengths = np.array([7, 0, 6, 7]), np.array([3, 0, 4, 4])
    elif case == "blank_last":
        targets, options = PADDED % 4, {"blank": 4}  # labels 0..3, blank 4
    if case == "tuples":  # lengths as tuples of ints, as PyTorch takes them
        fn = (lambda m, x, t: ctc(m, x, t, tuple(INPUT_LENGTHS.tolist()),
                                  tuple(TARGET_LENGTHS.tolist()), reduction="none"))
        compare_with_torch(fn, None, [LOGITS, targets])
        return
    compare_with_torch(lambda m, x, *rest: ctc(m, x, *rest, reduction="none", **options), None,
                       [LOGITS, targets, input_lengths, target_lengths])


def test_one_unbatched_sequence_matches_pytorch():
    for reduction in ("mean", "none"):
        compare_with_torch(
            lambda m, x, t: m.nn.functional.ctc_loss(x.log_softmax(-1), t, (6,), (3,),
                                                     reduction=reduction),
            None, [LOGITS[:, 0], PADDED[0, :3]])


def test_impossible_alignments_are_inf_or_zero_with_zero_infinity():
    too_short = np.array([3, 3, 6, 7])  # [1, 1, 2] needs 4 steps (a blank between the 1s)
    outs, _ = compare_with_torch(lambda m, x, *rest: ctc(m, x, *rest, reduction="none"), None,
                                 [LOGITS, PADDED, too_short, TARGET_LENGTHS],
                                 check_backward=False)
    assert np.isinf(outs[0].numpy()[0]) and np.isfinite(outs[0].numpy()[1:]).all()
    for reduction in ("none", "mean", "sum"):
        outs, _ = compare_with_torch(
            lambda m, x, *rest: ctc(m, x, *rest, reduction=reduction, zero_infinity=True), None,
            [LOGITS, PADDED, too_short, TARGET_LENGTHS])
    x = ts.from_numpy(LOGITS).requires_grad_()
    ctc(ts, x, ts.tensor(PADDED), ts.tensor(too_short), ts.tensor(TARGET_LENGTHS),
        zero_infinity=True).backward()
    assert not x.grad.numpy()[:, 0].any() and x.grad.numpy()[:, 1:].any()


def _brute_force(log_probs, labels, blank):
    """-log Σ over every path of T symbols that collapses to ``labels``."""
    total = 0.0
    for path in itertools.product(range(log_probs.shape[1]), repeat=log_probs.shape[0]):
        merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        if [k for k in merged if k != blank] == list(labels):
            total += np.exp(sum(log_probs[t, k] for t, k in enumerate(path)))
    return -np.log(total)


@pytest.mark.parametrize("labels, blank", [([1, 1], 0), ([2, 1], 0), ([1], 2), ([], 0),
                                           ([0, 1, 0], 2)])
def test_values_are_the_sum_over_every_alignment(labels, blank):
    log_probs = np.log(RNG.dirichlet(np.ones(3), size=5))  # T=5, C=3
    loss = ts.nn.functional.ctc_loss(ts.from_numpy(log_probs), ts.tensor(labels, dtype=ts.int64),
                                     (5,), (len(labels),), blank=blank, reduction="sum")
    assert loss.item() == pytest.approx(_brute_force(log_probs, labels, blank), rel=1e-12)


def test_gradcheck_of_the_recursion():
    log_probs = ts.from_numpy(np.log(RNG.dirichlet(np.ones(4), size=(5, 3)))).requires_grad_()
    targets, lengths = ts.tensor([[1, 1], [2, 3], [3, 0]]), ts.tensor([2, 2, 1])
    assert ts.autograd.gradcheck(
        lambda lp: ts.nn.functional.ctc_loss(lp, targets, ts.tensor([5, 4, 3]), lengths),
        [log_probs])


def test_gradient_on_log_probs_is_the_true_one_pytorchs_adds_their_exp():
    """PyTorch's backward returns exp(log_probs) - posteriors, the gradient on the logits when
    log_probs come from log_softmax; the function's own gradient is -posteriors (gradcheck
    above). Through log_softmax both are the same (the first test)."""
    log_probs = torch.from_numpy(LOGITS).log_softmax(-1).numpy()
    ours = ts.from_numpy(log_probs).requires_grad_()
    theirs = torch.from_numpy(log_probs).requires_grad_()
    args = (PADDED, INPUT_LENGTHS, TARGET_LENGTHS)
    ts.nn.functional.ctc_loss(ours, *map(ts.tensor, args), reduction="sum").backward()
    torch.nn.functional.ctc_loss(theirs, *map(torch.tensor, args), reduction="sum").backward()
    running = (np.arange(T)[:, None] < INPUT_LENGTHS)[..., None]
    np.testing.assert_allclose(theirs.grad.numpy() - ours.grad.numpy(),
                               np.exp(log_probs) * running, atol=1e-12)


def test_module_matches_pytorch():
    def fn(m, x, *rest):
        return m.nn.CTCLoss(blank=4, reduction="sum", zero_infinity=True)(x.log_softmax(2),
                                                                          *rest)
    compare_with_torch(fn, None, [LOGITS, PADDED % 4, INPUT_LENGTHS, TARGET_LENGTHS],
                       dtype=np.float32)
    assert repr(nn.CTCLoss(reduction="sum")) == "CTCLoss(reduction='sum')"


ERRORS = {
    "blank out of range": (dict(blank=5), "blank must be in label range"),
    "input too long": (dict(input_lengths=np.array([8, 3, 6, 7])),
                       "input_lengths must be at most T=7"),
    "target too long": (dict(target_lengths=np.array([5, 1, 4, 4])),
                        r"padded targets \(N, S\) of shape \(4, 4\)"),
    "concatenated count": (dict(targets=np.array([1, 2, 3]),
                                target_lengths=np.array([1, 1, 1, 1])),
                           r"concatenated 1-d targets must have sum\(target_lengths\) = 4 "
                           "labels, got 3"),
    "lengths per batch": (dict(input_lengths=np.array([7, 7])),
                          "input_lengths must be of size batch_size N=4"),
    "float lengths": (dict(input_lengths=np.array([7.0, 3, 6, 7])),
                      "input_lengths must be integral"),
    "reduction": (dict(reduction="avg"), "reduction must be one of"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_bad_arguments_refused_as_pytorch_refuses_them(name):
    changes, message = ERRORS[name]
    args = dict(targets=PADDED, input_lengths=INPUT_LENGTHS, target_lengths=TARGET_LENGTHS)
    args.update(changes)
    options = {k: args.pop(k) for k in ("blank", "reduction") if k in args}
    error = ValueError if "reduction" in options else RuntimeError

    def call(m):
        x = m.from_numpy(LOGITS).log_softmax(2)
        return m.nn.functional.ctc_loss(x, *(m.from_numpy(np.asarray(args[k])) for k in (
            "targets", "input_lengths", "target_lengths")), **options)

    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match="ctc_loss: " + message) as caught:
        call(ts)
    assert "\n" not in str(caught.value)


def test_labels_that_are_not_classes_are_refused():
    """(PyTorch reads past the classes or counts the blank as a label without a word.)"""
    x = ts.randn(5, 2, 4).log_softmax(2)
    for bad in (4, 0):
        with pytest.raises(RuntimeError, match=f"ctc_loss: target label {bad} is not a class"):
            ts.nn.functional.ctc_loss(x, ts.tensor([[1, bad], [2, 3]]), (5, 5), (2, 2))


def test_an_empty_batch_is_refused_as_in_torch():
    empty = np.zeros((5, 0, 3))
    for m in (ts, torch):
        with pytest.raises(RuntimeError, match="must not be empty"):
            m.nn.functional.ctc_loss(m.from_numpy(empty).log_softmax(2),
                                     m.zeros(0, 2, dtype=m.long), [], [])
