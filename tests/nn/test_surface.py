"""The small module API PyTorch programs call, against PyTorch: ``Module.to``/``cpu``/``float``/
``double``/``requires_grad_``, ``nn.Softmax``/``nn.LogSoftmax`` and ``flatten_parameters``."""
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import compare_module_with_torch, compare_with_torch, torch


def _both(make):
    """The same model on both libraries, tinyseq's with PyTorch's weights."""
    torch.manual_seed(0)
    theirs = make(torch.nn)
    ours = make(ts.nn)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("args, kwargs", [
    (("float64",), {}), (("cpu", "float64"), {}), (("DEVICE",), {}), ((), {"dtype": "float64"}),
    ((), {"device": "cpu", "dtype": "float64"}), (("OTHER",), {}), (("cpu",), {}), ((), {})])
def test_module_to_is_torchs_and_keeps_the_parameters(args, kwargs):
    def spell(lib, a):
        if a == "DEVICE":
            return lib.device("cpu")
        if a == "OTHER":
            return lib.zeros(1, dtype=lib.float64)
        return getattr(lib, a) if a == "float64" else a

    ours, theirs = _both(lambda nn: nn.GRU(3, 4, num_layers=2))
    before = list(ours.parameters())
    for lib, model in ((ts, ours), (torch, theirs)):
        assert model.to(*[spell(lib, a) for a in args],
                        **{k: spell(lib, v) for k, v in kwargs.items()}) is model
    assert [p is q for p, q in zip(ours.parameters(), before)] == [True] * len(before)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p.numpy().dtype == q.detach().numpy().dtype, name
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    dtype = before[0].numpy().dtype
    out, h = ours(ts.tensor(x, dtype=dtype))
    out_t, h_t = theirs(torch.tensor(x, dtype=theirs.weight_ih_l0.dtype))
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_module_double_then_float_converts_gradients_as_torch():
    ours, theirs = _both(lambda nn: nn.Linear(3, 2))
    for lib, model in ((ts, ours), (torch, theirs)):
        model(lib.ones(4, 3)).sum().backward()
        model.double()
        assert model.weight.grad.dtype == lib.float64
        model.float()
        assert model.weight.dtype == model.weight.grad.dtype == lib.float32
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy())


def test_module_to_refuses_what_torch_refuses():
    for lib in (torch, ts):
        with pytest.raises(TypeError, match="floating"):
            lib.nn.Linear(2, 2).to(lib.int64)
    with pytest.raises(TypeError, match=r"Linear.to: only floating dtypes .* got int64"):
        ts.nn.Linear(2, 2).to(ts.int64)
    with pytest.raises(RuntimeError, match=r"Linear.to: 'cuda:0' is a GPU.*import torch"):
        ts.nn.Linear(2, 2).to("cuda:0")
    with pytest.raises(RuntimeError, match=r"LSTM.cuda: 'cuda' is a GPU.*import torch"):
        ts.nn.LSTM(2, 2).cuda()
    with pytest.raises(TypeError, match="unexpected keyword argument 'copy'"):
        ts.nn.Linear(2, 2).to(ts.float64, copy=True)


def test_module_cpu_is_itself():
    model = ts.nn.Linear(2, 2)
    assert model.cpu() is model and model.weight.device == ts.device("cpu")


def test_requires_grad_freezes_as_torch():
    ours, theirs = _both(lambda nn: nn.Sequential(nn.Embedding(5, 3), nn.Linear(3, 2)))
    for lib, model in ((ts, ours), (torch, theirs)):
        assert model[0].requires_grad_(False) is model[0]
        model(lib.tensor([[1, 2]])).sum().backward()
        assert model[0].weight.grad is None and model[1].weight.grad is not None
        assert model.requires_grad_() is model and model[0].weight.requires_grad
    np.testing.assert_allclose(ours[1].weight.grad.numpy(), theirs[1].weight.grad.numpy(),
                               rtol=1e-5)


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_softmax_modules_are_torchs(name, dim):
    shape = (3, 4, 5)
    arrays = [np.random.default_rng(1).standard_normal(shape)]
    compare_module_with_torch(lambda nn: getattr(nn, name)(dim), arrays)
    compare_module_with_torch(lambda nn: getattr(nn, name)(dim=dim), arrays)
    compare_with_torch(lambda m, x: getattr(m.nn, name)(dim)(x), arrays=arrays)
    assert repr(getattr(ts.nn, name)(dim)) == repr(getattr(torch.nn, name)(dim))


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_without_dim_chooses_and_warns_as_torch(name, shape):
    arrays = [np.random.default_rng(2).standard_normal(shape)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_module_with_torch(lambda nn: getattr(nn, name)(), arrays, strict=False)
    ours = [w for w in caught if "tinyseq" in str(w.filename) or name in str(w.message)]
    assert any(issubclass(w.category, UserWarning) and "give the dim" in str(w.message)
               for w in ours)
    assert repr(getattr(ts.nn, name)()) == repr(getattr(torch.nn, name)())


def test_softmax_refuses_a_non_tensor_in_one_line():
    with pytest.raises(TypeError, match="Softmax: input must be a Tensor, got list"):
        ts.nn.Softmax()([1.0, 2.0])


def test_a_classifier_with_log_softmax_and_nll_matches_torch():
    """The char-RNN tutorial's head: Linear, then LogSoftmax(dim=1), then NLLLoss."""
    targets = np.array([0, 2, 1])
    compare_module_with_torch(
        lambda nn: nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax(dim=1)),
        [np.random.default_rng(3).standard_normal((3, 4))],
        forward=lambda m, module, x: m.nn.NLLLoss()(module(x), m.tensor(targets)))


@pytest.mark.parametrize("layer", ["RNN", "GRU", "LSTM"])
def test_flatten_parameters_is_a_no_op_as_on_cpu(layer):
    ours, theirs = _both(lambda nn: getattr(nn, layer)(3, 4, num_layers=2, bidirectional=True))
    before = {k: v.clone() for k, v in ours.state_dict().items()}
    assert ours.flatten_parameters() is None and theirs.flatten_parameters() is None
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
