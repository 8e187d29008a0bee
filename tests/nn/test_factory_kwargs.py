"""PyTorch's factory arguments ``device=None, dtype=None`` on every layer that PyTorch gives them:
a floating ``dtype`` makes the parameters and floating buffers that dtype from the start (the same
names, shapes and dtypes as PyTorch's), the layer runs in it and its values and gradients match
PyTorch's from the same weights; ``device`` is the CPU (a GPU is refused in one line); a float32
layer's values are the float64 ones rounded (one random stream); ``Module.to``'s keyword forms."""
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn
from tests.torch_compare import compare_module_with_torch, torch

RNG = np.random.default_rng(3)
X3 = RNG.standard_normal((4, 2, 3))  # (T, B, 3)
X4 = RNG.standard_normal((4, 2, 4))
F64_TOLERANCE = dict(atol=1e-10, rtol=1e-8)


@pytest.fixture(autouse=True)
def _torch_generator_untouched():
    """Leave torch's global generator as found: later modules build torch models from it."""
    state = torch.random.get_rng_state()
    yield
    torch.random.set_rng_state(state)


def _f64(lib_nn):
    """float64 in the library whose ``nn`` this is."""
    return torch.float64 if lib_nn is torch.nn else ts.float64


def _double(m, module, *inputs):
    """Run ``module`` on the inputs made float64 (the helper gives float32 ones)."""
    return module(*(x.double() for x in inputs))


# name -> (make(nn) with dtype float64, inputs)
LAYERS = {
    "Linear": (lambda nn: nn.Linear(3, 2, dtype=_f64(nn)), [X3]),
    "Linear-nobias": (lambda nn: nn.Linear(3, 2, bias=False, dtype=_f64(nn)), [X3]),
    "LayerNorm": (lambda nn: nn.LayerNorm(3, dtype=_f64(nn)), [X3]),
    "BatchNorm1d": (lambda nn: nn.BatchNorm1d(2, dtype=_f64(nn)), [X3]),  # (N=4, C=2, L=3)
    "RNN": (lambda nn: nn.RNN(3, 4, 2, dtype=_f64(nn)), [X3]),
    "GRU": (lambda nn: nn.GRU(3, 4, bidirectional=True, dtype=_f64(nn)), [X3]),
    "LSTM": (lambda nn: nn.LSTM(3, 4, proj_size=2, device="cpu", dtype=_f64(nn)), [X3]),
    "RNNCell": (lambda nn: nn.RNNCell(3, 4, nonlinearity="relu", dtype=_f64(nn)), [X3[0]]),
    "GRUCell": (lambda nn: nn.GRUCell(3, 4, dtype=_f64(nn)), [X3[0]]),
    "LSTMCell": (lambda nn: nn.LSTMCell(3, 4, dtype=_f64(nn)), [X3[0]]),
    "MultiheadAttention": (lambda nn: nn.MultiheadAttention(4, 2, kdim=3, vdim=3,
                                                            add_bias_kv=True, dtype=_f64(nn)),
                           [X4, X3, X3]),
    "TransformerEncoderLayer": (lambda nn: nn.TransformerEncoderLayer(
        4, 2, 8, dropout=0.0, dtype=_f64(nn)), [X4]),
    "TransformerDecoderLayer": (lambda nn: nn.TransformerDecoderLayer(
        4, 2, 8, dropout=0.0, norm_first=True, dtype=_f64(nn)), [X4, X4[:3]]),
    "Transformer": (lambda nn: nn.Transformer(4, 2, 1, 1, 8, dropout=0.0, device="cpu",
                                              dtype=_f64(nn)), [X4, X4[:3]]),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_float64_layer_matches_pytorch(name):
    make, inputs = LAYERS[name]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="enable_nested_tensor is True")
        ours, theirs, out, _ = compare_module_with_torch(make, inputs, forward=_double,
                                                         **F64_TOLERANCE)
    expected = {k: v.detach().numpy().dtype for k, v in theirs.state_dict().items()}
    assert {k: v.numpy().dtype for k, v in ours.state_dict().items()} == expected
    assert np.float64 in expected.values()
    assert all(o.numpy().dtype == np.float64 for o in out)


def test_linear_float64_has_float64_parameters_and_runs():
    lin = nn.Linear(3, 2, dtype=ts.float64)
    assert lin.weight.dtype == ts.float64 and lin.bias.dtype == ts.float64
    x = RNG.standard_normal((5, 3))
    y = lin(ts.from_numpy(x))
    y.sum().backward()
    assert y.dtype == ts.float64 and lin.weight.grad.dtype == ts.float64
    np.testing.assert_allclose(y.numpy(), x @ lin.weight.numpy().T + lin.bias.numpy(),
                               rtol=1e-14)
    assert ts.autograd.gradcheck(lambda x: lin(x), [ts.randn(2, 3, dtype=ts.float64,
                                                             requires_grad=True)])


@pytest.mark.parametrize("make", [
    lambda dtype: nn.Linear(4, 3, dtype=dtype),
    lambda dtype: nn.LSTM(3, 4, 2, bidirectional=True, dtype=dtype),
    lambda dtype: nn.GRUCell(3, 4, dtype=dtype),
    lambda dtype: nn.MultiheadAttention(4, 2, add_bias_kv=True, dtype=dtype),
], ids=["Linear", "LSTM", "GRUCell", "MultiheadAttention"])
def test_float32_values_are_the_float64_draws_rounded(make):
    """One random stream: the float64 layer's draws, rounded, are the float32 layer's values."""
    ts.manual_seed(7)
    ours32 = make(None)
    ts.manual_seed(7)
    ours64 = make(ts.float64)
    for (k, p32), (_, p64) in zip(ours32.named_parameters(), ours64.named_parameters()):
        assert p32.dtype == ts.float32 and p64.dtype == ts.float64, k
        np.testing.assert_array_equal(p64.numpy().astype(np.float32), p32.numpy(), err_msg=k)
    assert any(not np.array_equal(p.numpy(), p.numpy().astype(np.float32))
               for p in ours64.parameters())  # (float64 for real, not float32 values widened)


def test_embedding_dtype_and_padding_row():
    emb = nn.Embedding(5, 3, padding_idx=1, dtype=ts.float64)
    assert emb.weight.dtype == ts.float64
    assert emb.weight[1].tolist() == [0.0, 0.0, 0.0] and emb.weight.numpy().std() > 0.1
    theirs = torch.nn.Embedding(5, 3, padding_idx=1, dtype=torch.float64)
    emb.load_state_dict(theirs.state_dict())
    ids = np.array([[0, 1, 4], [1, 2, 2]])
    out, ref = emb(ts.tensor(ids)), theirs(torch.from_numpy(ids))
    assert out.dtype == ts.float64
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy(), theirs.weight.grad.numpy())
    assert nn.Embedding(3, 2, dtype=ts.float16).weight.dtype == ts.float16


def test_embedding_from_pretrained_keeps_the_dtype():
    table = np.arange(6.0).reshape(3, 2) / 7
    ours = nn.Embedding.from_pretrained(ts.from_numpy(table), freeze=False, padding_idx=0)
    theirs = torch.nn.Embedding.from_pretrained(torch.from_numpy(table), freeze=False,
                                                padding_idx=0)
    assert ours.weight.dtype == ts.float64 and theirs.weight.dtype == torch.float64
    ids = np.array([2, 0, 1])
    np.testing.assert_array_equal(ours(ts.tensor(ids)).numpy(),
                                  theirs(torch.from_numpy(ids)).detach().numpy())
    assert ours.weight.requires_grad and theirs.weight.requires_grad


def test_batchnorm_float64_running_stats_follow_pytorch():
    ours, theirs = nn.BatchNorm1d(3, dtype=ts.float64), torch.nn.BatchNorm1d(3,
                                                                            dtype=torch.float64)
    x = RNG.standard_normal((6, 3))
    for _ in range(2):
        ours(ts.from_numpy(x))
        theirs(torch.from_numpy(x))
    for k, v in theirs.state_dict().items():
        assert ours.state_dict()[k].numpy().dtype == v.numpy().dtype, k
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-12, err_msg=k)


@pytest.mark.parametrize("device", ["cpu", "cpu:0", ts.device("cpu"), None])
def test_the_cpu_is_accepted(device):
    assert nn.Linear(2, 2, device=device).weight.dtype == ts.float32
    assert nn.LSTM(2, 3, device=device).weight_hh_l0.device == ts.device("cpu")


@pytest.mark.parametrize("make", [
    lambda **kw: nn.Linear(2, 2, **kw), lambda **kw: nn.Embedding(2, 2, **kw),
    lambda **kw: nn.LayerNorm(2, **kw), lambda **kw: nn.BatchNorm1d(2, **kw),
    lambda **kw: nn.GRU(2, 2, **kw), lambda **kw: nn.LSTMCell(2, 2, **kw),
    lambda **kw: nn.MultiheadAttention(2, 1, **kw),
    lambda **kw: nn.TransformerEncoderLayer(2, 1, 4, **kw),
], ids=["Linear", "Embedding", "LayerNorm", "BatchNorm1d", "GRU", "LSTMCell",
        "MultiheadAttention", "TransformerEncoderLayer"])
def test_a_gpu_and_an_integer_dtype_are_refused_in_one_line(make):
    with pytest.raises(RuntimeError) as gpu:
        make(device="cuda")
    with pytest.raises(RuntimeError) as integer:
        make(dtype=ts.int64)
    for error in (gpu, integer):
        message = str(error.value)
        assert "\n" not in message
    assert "GPU" in str(gpu.value) and "'cpu'" in str(gpu.value)
    assert "int64" in str(integer.value) and "ts.float32" in str(integer.value)
    with pytest.raises(TypeError, match="not a dtype"):
        make(dtype="complex fish")


def test_pytorch_refuses_an_integer_dtype_too():
    with pytest.raises(RuntimeError, match="floating point"):
        torch.nn.Linear(2, 2, dtype=torch.int64)


def test_module_to_keyword_forms():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    assert model.to(device="cpu", dtype=ts.float64) is model
    dtypes = {k: v.numpy().dtype for k, v in model.state_dict().items()}
    assert dtypes == {"0.weight": np.float64, "0.bias": np.float64, "1.weight": np.float64,
                      "1.bias": np.float64, "1.running_mean": np.float64,
                      "1.running_var": np.float64, "1.num_batches_tracked": np.int64}
    model.to(dtype=ts.float32)
    assert model[0].weight.dtype == ts.float32
    model.to("cpu", ts.float64)
    assert model[1].running_var.dtype == ts.float64
    model.to(device=ts.device("cpu"))
    assert model[0].weight.dtype == ts.float64
    with pytest.raises(RuntimeError, match="Sequential.to: 'cuda' is a GPU"):
        model.to(device="cuda", dtype=ts.float32)
