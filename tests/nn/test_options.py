"""The options PyTorch programs pass to tinyseq's layers and losses (issue 15), against torch:
values, gradients (and gradcheck), defaults and refusals."""
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn
from tinyseq.nn import functional as F
from tests.torch_compare import compare_module_with_torch, compare_with_torch, torch

RNG = np.random.default_rng(0)
# torch's own notice when it runs an LSTM with projections on the CPU
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")


# ---- cross_entropy / nll_loss: weight, label_smoothing, probability targets ---------------------
def _class_case(shape):
    """Logits of ``shape`` (N, C, d1...), int targets with one ignored, class weights (C,)."""
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape)
    y = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    y.flat[0] = -100
    return x, y, rng.uniform(0.2, 3.0, shape[1])


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_weight_and_smoothing_match_torch(shape, reduction, label_smoothing,
                                                         weighted):
    x, y, w = _class_case(shape)

    def loss(m, x, y, w):
        return m.nn.functional.cross_entropy(x, y, weight=w if weighted else None,
                                             reduction=reduction, label_smoothing=label_smoothing)

    compare_with_torch(loss, None, [x, y, w], requires_grad=[True, False, False])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_nll_loss_weight_matches_torch(reduction, ignore_index):
    x, y, w = _class_case((7, 3))
    y[0] = ignore_index
    compare_with_torch(
        lambda m, x, y, w: m.nn.functional.nll_loss(x.log_softmax(1), y, w,
                                                    ignore_index=ignore_index, reduction=reduction),
        None, [x, y, w], requires_grad=[True, False, False])


def test_weighted_mean_divides_by_the_weights_of_the_targets():
    x, y, w = _class_case((6, 4))
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    kept = y != -100
    expected = -(w[y[kept]] * logp[kept, y[kept]]).sum() / w[y[kept]].sum()
    got = F.cross_entropy(ts.tensor(x, dtype=ts.float64), ts.tensor(y),
                          weight=ts.tensor(w, dtype=ts.float64))
    assert got.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_probability_targets_match_torch_with_their_gradient(shape, reduction, label_smoothing):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    C = shape[1 if len(shape) > 1 else 0]
    p = rng.dirichlet(np.ones(C), size=shape[:1] + shape[2:] if len(shape) > 1 else None)
    p = np.ascontiguousarray(np.moveaxis(p, -1, 1) if len(shape) > 1 else p)
    w = rng.uniform(0.5, 2.0, C)
    for weight in (None, w):
        compare_with_torch(
            lambda m, x, p, w: m.nn.functional.cross_entropy(
                x, p, weight=None if weight is None else w, reduction=reduction,
                label_smoothing=label_smoothing),
            None, [x, p, w], requires_grad=[True, True, False])  # the target's gradient too


def test_unbatched_input_with_weight_and_smoothing_matches_torch():
    x, w = RNG.standard_normal(5), RNG.uniform(0.5, 2, 5)
    compare_with_torch(lambda m, x, w: m.nn.functional.cross_entropy(
        x, m.tensor(3), weight=w, label_smoothing=0.1), None, [x, w], requires_grad=[True, False])


def test_every_target_ignored_is_nan_as_in_torch():
    x, w = ts.randn(3, 4), ts.rand(4) + 0.5
    y = ts.tensor([-100, -100, -100])
    for eps in (0.0, 0.2):
        assert np.isnan(F.cross_entropy(x, y, weight=w, label_smoothing=eps).item())
        assert torch.isnan(torch.nn.functional.cross_entropy(
            torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy()),
            weight=torch.from_numpy(w.numpy()), label_smoothing=eps))


@pytest.mark.parametrize("probabilities", [False, True])
def test_cross_entropy_options_pass_gradcheck(probabilities):
    x, y, w = _class_case((4, 3, 2))
    p = np.random.default_rng(1).dirichlet(np.ones(3), (4, 2)).transpose(0, 2, 1)
    target = (ts.tensor(np.ascontiguousarray(p), dtype=ts.float64, requires_grad=True)
              if probabilities else ts.tensor(y))
    weight = ts.tensor(w, dtype=ts.float64)
    inputs = [ts.tensor(x, dtype=ts.float64, requires_grad=True)]
    if probabilities:
        inputs.append(target)

    def loss(x, t=target):
        return F.cross_entropy(x, t, weight=weight, label_smoothing=0.15)

    assert ts.autograd.gradcheck(loss, inputs)


@pytest.mark.parametrize("make", [
    lambda nn: nn.CrossEntropyLoss(weight=torch_or_ts(nn).tensor([0.5, 2.0, 1.0, 3.0]),
                                   label_smoothing=0.1, ignore_index=1),
    lambda nn: nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.2),
    lambda nn: nn.NLLLoss(weight=torch_or_ts(nn).tensor([0.5, 2.0, 1.0, 3.0]),
                          reduction="none"),
])
def test_loss_modules_take_the_options_and_keep_weight_as_a_buffer(make):
    x, y, _ = _class_case((5, 4))
    y[0] = 1  # the first module's ignore_index
    ours, theirs = make(nn), make(torch.nn)
    a = ours(ts.tensor(x), ts.tensor(y))
    b = theirs(torch.tensor(x, dtype=torch.float32), torch.tensor(y))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def torch_or_ts(nn_module):
    return torch if nn_module is torch.nn else ts


def test_size_average_and_reduce_map_to_a_reduction_with_torchs_warning():
    x, y, _ = _class_case((5, 4))
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        summed = F.cross_entropy(ts.tensor(x), ts.tensor(y), size_average=False)
    assert summed.item() == pytest.approx(F.cross_entropy(ts.tensor(x), ts.tensor(y),
                                                          reduction="sum").item())
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.NLLLoss(reduce=False).reduction == "none"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.CrossEntropyLoss().reduction == "mean"  # no warning without them


@pytest.mark.parametrize("call, error, match", [
    (lambda x, y: F.cross_entropy(x, y, weight=ts.ones(3)), RuntimeError,
     r"cross_entropy: weight tensor should be defined either for all 4 classes .* \[3\]"),
    (lambda x, y: F.cross_entropy(x, y, weight=ts.ones(4, dtype=ts.float64)), RuntimeError,
     r"cross_entropy: weight has dtype float64 but the input has float32; convert"),
    (lambda x, y: F.nll_loss(x, y, weight=ts.ones(4, requires_grad=True)), RuntimeError,
     r"nll_loss: the loss is not differentiable with respect to weight; pass weight.detach"),
    (lambda x, y: F.cross_entropy(x, y, weight=[1, 1, 1, 1]), TypeError,
     r"cross_entropy: weight must be a Tensor of 4 class weights, got list"),
    (lambda x, y: F.cross_entropy(x, y, label_smoothing=1.5), ValueError,
     r"cross_entropy: label_smoothing must be between 0.0 and 1.0, got 1.5"),
    (lambda x, y: F.cross_entropy(x, x.softmax(1), ignore_index=1), ValueError,
     r"cross_entropy: ignore_index=1 is not supported for probability"),
    (lambda x, y: F.cross_entropy(x, ts.zeros(5, 4, dtype=ts.int64)), RuntimeError,
     r"cross_entropy: a target of the input's shape \(5, 4\) holds class probabilities and "
     r"must be floating-point, got int64"),
    (lambda x, y: nn.CrossEntropyLoss(label_smoothing=-0.1), ValueError,
     r"CrossEntropyLoss: label_smoothing must be in \[0, 1\], got -0.1"),
])
def test_bad_options_are_refused_in_one_line(call, error, match):
    x, y = ts.randn(5, 4), ts.tensor([0, 1, 2, 3, 0])
    with pytest.raises(error, match=match):
        call(x, y)


# ---- Embedding: max_norm, norm_type, scale_grad_by_freq, sparse ---------------------------------
IDS = np.array([[1, 2, 1, 4], [4, 4, 0, 2]])


@pytest.mark.parametrize("options", [
    dict(max_norm=1.0),
    dict(max_norm=0.5, norm_type=1.0, padding_idx=0),
    dict(max_norm=1.2, norm_type=float("inf")),
    dict(scale_grad_by_freq=True),
    dict(scale_grad_by_freq=True, padding_idx=4, max_norm=2.0, norm_type=3.0),
], ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_embedding_options_match_torch_with_the_renormalised_weight(options):
    ours, theirs, *_ = compare_module_with_torch(lambda nn: nn.Embedding(6, 3, **options), [IDS])
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-6)
    if "max_norm" in options:
        norms = np.linalg.norm(ours.weight.numpy()[np.unique(IDS)], ord=options.get(
            "norm_type", 2.0), axis=1)
        assert (norms <= options["max_norm"] * (1 + 1e-6)).all()
        assert not np.allclose(ours.weight.numpy()[3], 0)  # an id not looked up keeps its row
    assert repr(ours) == repr(theirs)


def test_functional_embedding_options_match_torch():
    w = np.random.default_rng(2).standard_normal((5, 4)) * 2

    def lookup(m, w):
        ids = m.tensor([[0, 3, 3], [1, 3, 0]])
        with m.no_grad():
            w2 = w.clone()  # F.embedding renormalises its weight in place: a leaf cannot be
        w2 = w2.requires_grad_()
        out = m.nn.functional.embedding(ids, w2, max_norm=1.5, scale_grad_by_freq=True)
        return out * 1.0, w2.detach()

    compare_with_torch(lookup, None, [w], requires_grad=[False])
    ours = ts.tensor(w, requires_grad=True)
    out = F.embedding(ts.tensor([2, 2, 2, 1]), ours, scale_grad_by_freq=True)
    (out * ts.tensor([[1.0], [2.0], [3.0], [4.0]])).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy()[2], 2.0)  # (1 + 2 + 3) / 3
    np.testing.assert_allclose(ours.grad.numpy()[1], 4.0)
    # (no gradcheck: scale_grad_by_freq is, by design, not the derivative of the lookup)


def test_from_pretrained_passes_the_options():
    w = ts.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    e = nn.Embedding.from_pretrained(w, freeze=False, max_norm=1.0, scale_grad_by_freq=True)
    assert (e.max_norm, e.norm_type, e.scale_grad_by_freq, e.weight.requires_grad) == (
        1.0, 2.0, True, True)
    e(ts.tensor([0, 1]))
    np.testing.assert_allclose(w.numpy(), [[0.6, 0.8], [0.3, 0.4], [6.0, 8.0]], rtol=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda: nn.Embedding(5, 2, sparse=True), r"Embedding: sparse=True needs sparse gradients"),
    (lambda: nn.Embedding.from_pretrained(ts.ones(2, 2), sparse=True), r"Embedding: sparse=True"),
    (lambda: F.embedding(ts.tensor([1]), ts.ones(3, 2), sparse=True),
     r"embedding: sparse=True needs sparse gradients, which tinyseq does not have; use sparse"),
])
def test_sparse_embeddings_are_refused_in_one_line(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---- LSTM(proj_size=): torch's LSTM with projections ---------------------------------------------
PROJ_GRID = [dict(num_layers=L, bidirectional=bi, bias=b, batch_first=bf, hx=h)
             for L in (1, 2) for bi in (False, True) for b in (True, False)
             for bf in (False, True) for h in (False, True) if b or (L == 2 and bi)]


@pytest.mark.parametrize("cfg", PROJ_GRID, ids=["-".join(f"{k}={v}" for k, v in c.items())
                                                for c in PROJ_GRID])
def test_lstm_with_projections_matches_torch(cfg):
    L, D = cfg["num_layers"], 1 + cfg["bidirectional"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5, 3) if cfg["batch_first"] else (5, 4, 3))
    state = [(rng.standard_normal((L * D, 4, 2)), rng.standard_normal((L * D, 4, 6)))]
    options = {k: v for k, v in cfg.items() if k != "hx"}
    ours, _, outs, _ = compare_module_with_torch(
        lambda nn: nn.LSTM(3, 6, proj_size=2, **options), [x, *state][:1 + cfg["hx"]])
    output, h_n, c_n = outs
    assert output.shape[-1] == D * 2 and h_n.shape == (L * D, 4, 2) and c_n.shape == (L * D, 4, 6)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_with_projections_on_packed_input_matches_torch(bidirectional):
    x = np.random.default_rng(1).standard_normal((5, 4, 3))

    def packed(m, layer, x):
        seq = m.nn.utils.rnn.pack_padded_sequence(x, [2, 5, 3, 4], enforce_sorted=False)
        out, (h, c) = layer(seq)
        return out.data, h, c

    compare_module_with_torch(lambda nn: nn.LSTM(3, 5, num_layers=2, proj_size=3,
                                                 bidirectional=bidirectional), [x], forward=packed)


def test_lstm_with_projections_passes_gradcheck():
    """Through the inputs and both states (the weights' gradients are compared with torch's)."""
    lstm = nn.LSTM(2, 4, num_layers=2, proj_size=2, bidirectional=True).double()
    x = ts.randn(3, 2, 2, dtype=ts.float64, requires_grad=True)
    h0 = ts.randn(4, 2, 2, dtype=ts.float64, requires_grad=True)
    c0 = ts.randn(4, 2, 4, dtype=ts.float64, requires_grad=True)

    def run(x, h0, c0):
        out, (h, c) = lstm(x, (h0, c0), lengths=[3, 2])
        return (out * out).sum() + (h * c.sum(2, keepdim=True)).sum()

    assert ts.autograd.gradcheck(run, (x, h0, c0))


def test_lstm_projections_repr_and_state_dict_are_torchs():
    theirs = torch.nn.LSTM(3, 4, proj_size=2, num_layers=2, batch_first=True)
    ours = nn.LSTM(3, 4, proj_size=2, num_layers=2, batch_first=True)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("call, error, match", [
    (lambda: nn.LSTM(3, 4, proj_size=4), ValueError,
     r"LSTM: proj_size has to be smaller than hidden_size, got proj_size=4, hidden_size=4"),
    (lambda: nn.LSTM(3, 4, proj_size=-1), ValueError, r"LSTM: proj_size must be an int >= 0"),
    (lambda: nn.LSTM(3, 4, proj_size=1.5), TypeError, r"LSTM: proj_size must be an int"),
    (lambda: nn.GRU(3, 4, proj_size=2), ValueError,
     r"GRU: proj_size argument is only supported for LSTM, not RNN or GRU"),
    (lambda: nn.LSTM(3, 4, proj_size=2)(ts.randn(2, 1, 3), (ts.zeros(1, 1, 4), ts.zeros(1, 1, 4))),
     RuntimeError, r"LSTM: h_0 must have shape \(1, 1, 2\) \(num_layers \* directions, batch, "
     r"proj_size\), got \(1, 1, 4\)"),
    (lambda: nn.LSTM(3, 4, proj_size=2)(ts.randn(2, 1, 3), (ts.zeros(1, 1, 2), ts.zeros(1, 1, 2))),
     RuntimeError, r"LSTM: c_0 must have shape \(1, 1, 4\) \(num_layers \* directions, batch, "
     r"hidden_size\)"),
])
def test_bad_projections_are_refused_in_one_line(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---- pad_sequence(padding_side=) ------------------------------------------------------------------
@pytest.mark.parametrize("padding_side", ["left", "right"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_padding_side_matches_torch_with_its_gradient(padding_side, batch_first):
    rng = np.random.default_rng(4)
    seqs = [rng.standard_normal((n, 3)) for n in (2, 4, 1)]
    compare_with_torch(lambda m, *s: m.nn.utils.rnn.pad_sequence(
        list(s), batch_first=batch_first, padding_value=-1.5, padding_side=padding_side),
        None, seqs)


def test_pad_sequence_refuses_another_side():
    with pytest.raises(RuntimeError, match=r"pad_sequence: Expected padding_side to be one of "
                                           r"left or right, but got 'middle'"):
        nn.utils.rnn.pad_sequence([ts.ones(2)], padding_side="middle")


# ---- ts.compile: accepted, compiles nothing ----------------------------------------------------
def test_compile_returns_what_it_is_given_which_computes_the_same():
    model = nn.LSTM(3, 4)
    assert ts.compile(model) is model
    assert ts.compile(model, mode="reduce-overhead", fullgraph=True, dynamic=False) is model

    @ts.compile(mode="max-autotune")
    def double(x):
        return x * 2

    @ts.compile
    def square(x):
        return x * x

    x = ts.tensor([1.0, -3.0], requires_grad=True)
    square(double(x)).sum().backward()
    assert x.grad.tolist() == [8.0, -24.0]  # d(4x²)/dx = 8x


@pytest.mark.parametrize("call, error, match", [
    (lambda: ts.compile(nn.Linear(1, 1), mode="fast"), RuntimeError,
     "Unrecognized mode=fast, should be one of: default, lite, reduce-overhead"),
    (lambda: ts.compile(nn.Linear(1, 1), mode="default", options={}), RuntimeError,
     "Either mode or options can be specified, but both can't be specified at the same time"),
    (lambda: ts.compile(3), AssertionError, "A callable function is expected, but <class 'int'>"),
])
def test_compile_refuses_what_torch_refuses(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---- BatchNorm1d ---------------------------------------------------------------------------------
BN_CASES = [dict(), dict(momentum=None), dict(affine=False), dict(bias=False),
            dict(track_running_stats=False), dict(eps=1e-2, momentum=0.3)]


@pytest.mark.parametrize("options", BN_CASES, ids=lambda o: "-".join(f"{k}={v}" for k, v in
                                                                      o.items()) or "defaults")
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5)])
def test_batchnorm_matches_torch_in_training_then_in_evaluation(options, shape):
    rng = np.random.default_rng(5)
    batches = [rng.standard_normal(shape) * 2 + 1 for _ in range(3)]
    ours, theirs, *_ = compare_module_with_torch(lambda nn: nn.BatchNorm1d(4, **options),
                                                 batches[:1])
    for x in batches[1:]:  # more training steps: the running statistics follow torch's
        a = ours(ts.tensor(x, dtype=ts.float32))
        b = theirs(torch.tensor(x, dtype=torch.float32))
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-5)
    for (name, mine), (_, ref) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(mine.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)
        assert mine.numpy().dtype == ref.numpy().dtype, name
    ours.eval(), theirs.eval()
    ours.zero_grad(), theirs.zero_grad()  # evaluation: the running statistics, and gradients
    compare_module_with_torch(lambda lib: ours if lib is nn else theirs, batches[:1])
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_batchnorm_passes_gradcheck_in_training():
    bn = nn.BatchNorm1d(3).double()
    x = ts.randn(4, 3, 2, dtype=ts.float64, requires_grad=True)
    weight = bn.weight

    def run(x):
        bn.num_batches_tracked.zero_()
        return bn(x) * ts.arange(24, dtype=ts.float64).reshape(4, 3, 2) / 10

    assert ts.autograd.gradcheck(run, [x])
    assert weight is bn.weight


@pytest.mark.parametrize("call, error, match", [
    (lambda: nn.BatchNorm1d(3)(ts.randn(2, 3, 4, 5)), ValueError,
     r"BatchNorm1d: expected 2D or 3D input \(N, C\) or \(N, C, L\) \(got 4D input"),
    (lambda: nn.BatchNorm1d(3)(ts.randn(1, 3)), ValueError,
     r"BatchNorm1d: Expected more than 1 value per channel when training, got input size"),
    (lambda: nn.BatchNorm1d(3)(ts.randn(4, 2)), RuntimeError,
     r"BatchNorm1d: input has 2 channels \(shape \(4, 2\)\), but the layer was built with "
     r"num_features=3"),
    (lambda: nn.BatchNorm1d(0), ValueError, r"BatchNorm1d: num_features must be an int >= 1"),
])
def test_batchnorm_refuses_bad_input_in_one_line(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("options, error, words", [
    (dict(max_norm=-1.0), ValueError, r"embedding: max_norm must be in \[0, inf\], got -1.0"),
    (dict(scale_grad_by_freq="no"), TypeError,
     "embedding: scale_grad_by_freq must be True or False, got 'no'"),
])
def test_embedding_refuses_a_bad_option_in_one_line(options, error, words):
    weight = ts.randn(3, 2)
    before = weight.numpy().copy()
    with pytest.raises(error, match=words):
        ts.nn.functional.embedding(ts.tensor([1, 2]), weight, **options)
    np.testing.assert_array_equal(weight.numpy(), before)  # (no row renormalised on the way)
