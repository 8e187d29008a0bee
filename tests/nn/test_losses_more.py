"""The losses PyTorch programs use beyond cross-entropy, against PyTorch: values and every
gradient (input, target, weights where PyTorch differentiates them) in float64 and float32 for
each reduction; their modules; PyTorch's signatures (``size_average``/``reduce`` in its
positions, with its warning; ``weight=``, ``pos_weight=``); gradcheck; bad arguments refused with
PyTorch's exception types."""
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn
from tests.torch_compare import compare_with_torch, torch

RNG = np.random.default_rng(5)
X, Y = RNG.standard_normal((3, 4)) * 2, RNG.standard_normal((3, 4)) * 2
W = RNG.random((3, 4)) + 0.5  # element weights, the input's shape
P = RNG.random((3, 4)) * 0.9 + 0.05  # probabilities
CLASS_W = RNG.random(4) + 0.5  # broadcast along the last dim
SIGNS = np.array([1.0, -1.0, 1.0])
COUNTS = np.array([[0.0, 1.0, 2.0, 5.0], [3.0, 0.0, 1.0, 8.0], [1.0, 2.0, 0.0, 4.0]])


def F(m):
    return m.nn.functional


# name -> (fn(m, *tensors, reduction=...), arrays, requires_grad per array)
CASES = {
    "mse": (lambda m, x, y, **k: F(m).mse_loss(x, y, **k), [X, Y], True),
    "mse_weight": (lambda m, x, y, w, **k: F(m).mse_loss(x, y, weight=w, **k), [X, Y, W], True),
    "l1": (lambda m, x, y, **k: F(m).l1_loss(x, y, **k), [X, Y], True),
    "l1_weight": (lambda m, x, y, w, **k: F(m).l1_loss(x, y, weight=w, **k), [X, Y, W], True),
    "smooth_l1": (lambda m, x, y, **k: F(m).smooth_l1_loss(x, y, **k), [X, Y], True),
    "smooth_l1_beta": (lambda m, x, y, **k: F(m).smooth_l1_loss(x, y, beta=2.5, **k), [X, Y],
                       True),
    "smooth_l1_beta0": (lambda m, x, y, **k: F(m).smooth_l1_loss(x, y, beta=0.0, **k), [X, Y],
                        True),
    "huber": (lambda m, x, y, **k: F(m).huber_loss(x, y, **k), [X, Y], True),
    "huber_delta": (lambda m, x, y, **k: F(m).huber_loss(x, y, delta=2.5, **k), [X, Y], True),
    "huber_weight": (lambda m, x, y, w, **k: F(m).huber_loss(x, y, delta=0.5, weight=w, **k),
                     [X, Y, W], True),
    "bce_weight": (lambda m, x, y, w, **k: F(m).binary_cross_entropy(x.sigmoid(), y, w, **k),
                   [X, P, CLASS_W], [True, True, False]),
    "bce_logits_weights": (lambda m, x, y, w, p, **k: F(m).binary_cross_entropy_with_logits(
        x, y, weight=w, pos_weight=p, **k), [X * 5, P, W, CLASS_W * 3], [True, True, False, False]),
    "bce_logits_pos_weight": (lambda m, x, y, p, **k: F(m).binary_cross_entropy_with_logits(
        x, y, pos_weight=p, **k), [X, P, CLASS_W], [True, True, False]),
    "kl_div_log_target": (lambda m, x, y, reduction: F(m).kl_div(  # ("mean" warns: batchmean)
        x.log_softmax(1), y.log_softmax(1), log_target=True,
        reduction="batchmean" if reduction == "mean" else reduction), [X, Y], True),
    "margin_ranking": (lambda m, a, b, y, **k: F(m).margin_ranking_loss(a, b, y, margin=0.3, **k),
                       [X[:, 0], Y[:, 0], SIGNS], [True, True, False]),
    "margin_ranking_2d": (lambda m, a, b, **k: F(m).margin_ranking_loss(
        a, b, -(a - b).sign().detach(), margin=0.5, **k), [X, Y], True),
    "cosine_embedding": (lambda m, a, b, y, **k: F(m).cosine_embedding_loss(a, b, y, margin=0.1,
                                                                            **k),
                         [X, Y, SIGNS], [True, True, False]),
    "cosine_embedding_1d": (lambda m, a, b, y, **k: F(m).cosine_embedding_loss(a, b, y, **k),
                            [X[0], Y[0], np.array(-1.0)], [True, True, False]),
    "poisson_log": (lambda m, x, y, **k: F(m).poisson_nll_loss(x, y, **k), [X / 2, COUNTS],
                    [True, False]),
    "poisson_full": (lambda m, x, y, **k: F(m).poisson_nll_loss(x, y, full=True, **k),
                     [X / 2, COUNTS], [True, False]),
    "poisson_rate": (lambda m, x, y, **k: F(m).poisson_nll_loss(x, y, log_input=False, eps=1e-3,
                                                                **k), [W, COUNTS], [True, False]),
    "gaussian": (lambda m, x, y, v, **k: F(m).gaussian_nll_loss(x, y, v, **k), [X, Y, W], True),
    "gaussian_full_row_var": (lambda m, x, y, v, **k: F(m).gaussian_nll_loss(x, y, v, full=True,
                                                                             **k),
                              [X, Y, W[:, 0]], True),
    "gaussian_shared_var": (lambda m, x, y, v, **k: F(m).gaussian_nll_loss(x, y, v, **k),
                            [X, Y, W[:, :1]], True),
    "gaussian_clamped_var": (lambda m, x, y, v, **k: F(m).gaussian_nll_loss(x, y, v * 0.1,
                                                                            eps=0.06, **k),
                             [X, Y, W], True),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_matches_pytorch(name, reduction, dtype):
    fn, arrays, requires_grad = CASES[name]
    outs, _ = compare_with_torch(lambda m, *t: fn(m, *t, reduction=reduction), None, arrays,
                                 requires_grad=requires_grad, dtype=dtype)
    assert np.isfinite(outs[0].numpy()).all() and outs[0].numpy().dtype == dtype


def test_gradcheck_of_the_new_losses():
    x = ts.from_numpy(X).requires_grad_()
    y = ts.from_numpy(Y).requires_grad_()
    v = ts.from_numpy(W).requires_grad_()
    fns = [lambda a, b: ts.nn.functional.smooth_l1_loss(a, b, beta=0.7),
           lambda a, b: ts.nn.functional.huber_loss(a, b, delta=1.3),
           lambda a, b: ts.nn.functional.cosine_embedding_loss(a, b, ts.from_numpy(SIGNS)),
           lambda a, b: ts.nn.functional.margin_ranking_loss(a, b, -ts.ones_like(a))]
    for fn in fns:
        assert ts.autograd.gradcheck(fn, [x, y])
    assert ts.autograd.gradcheck(
        lambda a, b, s: ts.nn.functional.gaussian_nll_loss(a, b, s, full=True), [x, y, v])
    assert ts.autograd.gradcheck(
        lambda a: ts.nn.functional.binary_cross_entropy_with_logits(
            a, ts.from_numpy(P), pos_weight=ts.from_numpy(CLASS_W)), [x])


MODULES = {
    "L1Loss": (lambda nn: nn.L1Loss(reduction="sum"), 2),
    "SmoothL1Loss": (lambda nn: nn.SmoothL1Loss(beta=0.5), 2),
    "HuberLoss": (lambda nn: nn.HuberLoss(reduction="none", delta=1.5), 2),
    "KLDivLoss": (lambda nn: nn.KLDivLoss(reduction="batchmean", log_target=True), 2),
    "MSELoss": (lambda nn: nn.MSELoss(), 2),
    "MarginRankingLoss": (lambda nn: nn.MarginRankingLoss(margin=0.2), 3),
    "CosineEmbeddingLoss": (lambda nn: nn.CosineEmbeddingLoss(margin=-0.1, reduction="sum"), 3),
    "PoissonNLLLoss": (lambda nn: nn.PoissonNLLLoss(full=True), 2),
    "GaussianNLLLoss": (lambda nn: nn.GaussianNLLLoss(full=True, eps=0.1), 3),
}


@pytest.mark.parametrize("name", list(MODULES))
def test_loss_module_matches_pytorch(name):
    make, arity = MODULES[name]
    arrays = {2: [X, np.abs(Y)], 3: [X, Y, W if "Gaussian" in name else SIGNS]}[arity]
    if name == "MarginRankingLoss":
        arrays = [X[:, 0], Y[:, 0], SIGNS]
    flags = [True, True, "Gaussian" in name][:arity]
    compare_with_torch(lambda m, *t: make(m.nn)(*t), None, arrays, requires_grad=flags)


def test_bce_modules_keep_their_weights_as_buffers():
    weight, pos = ts.from_numpy(W), ts.from_numpy(CLASS_W)
    ours = nn.BCEWithLogitsLoss(weight=weight, pos_weight=pos)
    theirs = torch.nn.BCEWithLogitsLoss(weight=torch.from_numpy(W),
                                        pos_weight=torch.from_numpy(CLASS_W))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "pos_weight"]
    value = ours(ts.from_numpy(X), ts.from_numpy(P)).item()
    assert value == pytest.approx(theirs(torch.from_numpy(X), torch.from_numpy(P)).item(),
                                  rel=1e-12)
    bce = nn.BCELoss(weight=ts.from_numpy(CLASS_W), reduction="sum")
    assert bce(ts.from_numpy(P), ts.from_numpy(P[::-1].copy())).item() == pytest.approx(
        torch.nn.BCELoss(weight=torch.from_numpy(CLASS_W), reduction="sum")(
            torch.from_numpy(P), torch.from_numpy(P[::-1].copy())).item(), rel=1e-12)


LEGACY = [
    ("mse_loss", lambda f, x, y: f.mse_loss(x, y, False), "sum"),
    ("mse_loss", lambda f, x, y: f.mse_loss(x, y, None, None, "sum"), None),
    ("l1_loss", lambda f, x, y: f.l1_loss(x, y, True, False), "none"),
    ("smooth_l1_loss", lambda f, x, y: f.smooth_l1_loss(x, y, None, False), "none"),
    ("kl_div", lambda f, x, y: f.kl_div(x, y.softmax(1), False), "sum"),
    ("binary_cross_entropy", lambda f, x, y: f.binary_cross_entropy(x.sigmoid(), y.sigmoid(),
                                                                     None, False), "sum"),
    ("binary_cross_entropy_with_logits", lambda f, x, y: f.binary_cross_entropy_with_logits(
        x, y.sigmoid(), None, None, False), "none"),
    ("margin_ranking_loss", lambda f, x, y: f.margin_ranking_loss(x, y, -x.sign(), 0.1, False),
     "sum"),
    ("poisson_nll_loss", lambda f, x, y: f.poisson_nll_loss(x, y.abs(), True, False, False),
     "sum"),
]


@pytest.mark.parametrize("name, call, reduction", LEGACY, ids=[f"{c[0]}-{c[2]}" for c in LEGACY])
def test_legacy_arguments_in_pytorchs_positions_with_its_warning(name, call, reduction):
    x, y = ts.from_numpy(X), ts.from_numpy(Y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = call(ts.nn.functional, x, y)
    with warnings.catch_warnings(record=True) as theirs_caught:
        warnings.simplefilter("always")
        theirs = call(torch.nn.functional, torch.from_numpy(X), torch.from_numpy(Y))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    ours_said = [str(w.message) for w in caught if "deprecated" in str(w.message)]
    theirs_said = [str(w.message) for w in theirs_caught if "deprecated" in str(w.message)]
    assert len(ours_said) == len(theirs_said) == (reduction is not None)
    if reduction:
        assert ours_said[0] == f"{name}: {theirs_said[0]}"
        assert f"reduction='{reduction}'" in ours_said[0]


def test_loss_modules_take_the_legacy_arguments():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        loss = nn.L1Loss(size_average=False)
    assert loss.reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.KLDivLoss(reduce=False).reduction == "none"


ERRORS = {
    "mse weight shape": (lambda f, m: f.mse_loss(m.ones(3, 4), m.ones(3, 4), weight=m.ones(4)),
                         ValueError, "mse_loss: weight of shape"),
    "smooth_l1 beta": (lambda f, m: f.smooth_l1_loss(m.ones(2), m.ones(2), beta=-1.0),
                       RuntimeError, "smooth_l1_loss: beta must not be negative"),
    "huber delta": (lambda f, m: f.huber_loss(m.ones(2), m.ones(2), delta=0.0), RuntimeError,
                    "huber_loss: delta must be positive"),
    "HuberLoss delta": (lambda f, m: m.nn.HuberLoss(delta=0.0)(m.ones(2), m.ones(2)),
                        RuntimeError, "HuberLoss: delta must be positive"),
    "gaussian var negative": (lambda f, m: f.gaussian_nll_loss(m.ones(2), m.ones(2),
                                                               -m.ones(2)),
                              ValueError, "gaussian_nll_loss: var has negative entries"),
    "gaussian var shape": (lambda f, m: f.gaussian_nll_loss(m.ones(3, 4), m.ones(3, 4),
                                                            m.ones(2)),
                           ValueError, r"gaussian_nll_loss: var of shape \(2,\) is of incorrect"),
    "margin dims": (lambda f, m: f.margin_ranking_loss(m.ones(3, 4), m.ones(3, 4), m.ones(3)),
                    RuntimeError, "margin_ranking_loss: all input tensors should have the same"),
    "cosine target": (lambda f, m: f.cosine_embedding_loss(m.ones(3, 4), m.ones(3, 4),
                                                           m.ones(4)),
                      RuntimeError, r"cosine_embedding_loss: expected inputs \(N, D\)"),
    "bce weight": (lambda f, m: f.binary_cross_entropy(m.ones(3, 4) / 2, m.ones(3, 4),
                                                       weight=m.ones(5)),
                   RuntimeError, r"binary_cross_entropy: weight of shape \(5,\) does not"),
    "bce pos_weight grad": (lambda f, m: f.binary_cross_entropy_with_logits(
        m.ones(3, 4), m.ones(3, 4), pos_weight=m.ones(4, requires_grad=True)).backward(),
        RuntimeError, "with respect to pos_weight"),
    "poisson reduction": (lambda f, m: f.poisson_nll_loss(m.ones(2), m.ones(2), reduction="avg"),
                          ValueError, "poisson_nll_loss: reduction must be one of"),
    "kl_div reduction": (lambda f, m: f.kl_div(m.ones(2), m.ones(2), reduction="avg"),
                         ValueError, "kl_div: reduction must be one of"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_bad_arguments_refused_as_pytorch_refuses_them(name):
    call, error, message = ERRORS[name]
    with pytest.raises(error):
        call(torch.nn.functional, torch)
    with pytest.raises(error, match=message) as caught:
        call(ts.nn.functional, ts)
    assert "\n" not in str(caught.value)


def test_kl_div_module_allows_batchmean_and_the_others_refuse_it():
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    with pytest.raises(ValueError, match=r"L1Loss: reduction must be one of \('mean', 'sum', "
                                         r"'none'\), got 'batchmean'"):
        nn.L1Loss(reduction="batchmean")
