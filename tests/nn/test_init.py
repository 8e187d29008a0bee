"""``ts.nn.init`` against ``torch.nn.init``: gains and fans exactly, the deterministic initialisers'
values exactly, the random ones' bounds and statistics (the streams differ), ``orthogonal_``'s
QᵀQ = I, in place and outside the graph, seeded by ``ts.manual_seed``; errors as torch's."""
import math
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import torch

init, tinit = ts.nn.init, torch.nn.init
SHAPES = [(64, 32), (128, 48), (16, 8, 3), (40, 6, 2, 2)]


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv1d", None), ("conv_transpose2d", None), ("sigmoid", None),
    ("tanh", None), ("relu", None), ("selu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
    ("leaky_relu", 3), ("linear", 5)])
def test_calculate_gain_is_torchs(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        tinit.calculate_gain(nonlinearity, param), rel=1e-15)


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_are_torchs(shape):
    assert init._calculate_fan_in_and_fan_out(ts.zeros(*shape)) == \
        tinit._calculate_fan_in_and_fan_out(torch.zeros(*shape))


@pytest.mark.parametrize("name, args", [("constant_", (2.5,)), ("zeros_", ()), ("ones_", ())])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_deterministic_initialisers_give_torchs_values(name, args, dtype):
    ours = getattr(init, name)(ts.nn.Parameter(ts.randn(3, 4, dtype=getattr(ts, dtype))), *args)
    weight = torch.nn.Parameter(torch.randn(3, 4, dtype=getattr(torch, dtype)))
    theirs = getattr(tinit, name)(weight, *args)
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    assert ours.numpy().dtype == theirs.detach().numpy().dtype


def _bound_and_std(name, shape, kwargs):
    """``(bound, std)`` of torch's formula, from torch's fans and gain; U(-b, b) has std b/√3,
    and a normal has no bound (None)."""
    fan_in, fan_out = tinit._calculate_fan_in_and_fan_out(torch.zeros(shape))
    gain = kwargs.get("gain", 1.0)
    if name.startswith("xavier"):
        std = gain * math.sqrt(2 / (fan_in + fan_out))
    else:
        fan = fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out
        std = tinit.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
        std /= math.sqrt(fan)
    return (math.sqrt(3) * std, std) if name.endswith("uniform_") else (None, std)


RANDOM = [("uniform_", {"a": -0.3, "b": 0.7}), ("normal_", {"mean": 0.5, "std": 0.2}),
          ("xavier_uniform_", {}), ("xavier_uniform_", {"gain": 5 / 3}), ("xavier_normal_", {}),
          ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": math.sqrt(5)}),
          ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
          ("kaiming_normal_", {}), ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "tanh"})]


@pytest.mark.parametrize("name, kwargs", RANDOM)
@pytest.mark.parametrize("shape", SHAPES)
def test_random_initialisers_have_torchs_distribution(name, kwargs, shape):
    ours = getattr(init, name)(ts.nn.Parameter(ts.zeros(*shape)), **kwargs).numpy()
    theirs = getattr(tinit, name)(torch.empty(shape), **kwargs).numpy()
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.float32
    if name in ("uniform_", "normal_"):
        low, high = kwargs.get("a"), kwargs.get("b")
        mean, std = (((low + high) / 2, (high - low) / math.sqrt(12)) if name == "uniform_"
                     else (kwargs["mean"], kwargs["std"]))
    else:
        bound, std = _bound_and_std(name, shape, kwargs)
        low, high, mean = (-bound, bound, 0.0) if bound else (None, None, 0.0)
    if low is not None:
        for values in (ours, theirs):
            assert values.min() >= low - 1e-6 and values.max() <= high + 1e-6
    n = ours.size  # means and stds within 5 standard errors, for ours as for torch's
    for values in (ours, theirs):
        assert abs(values.mean() - mean) < 5 * std / math.sqrt(n)
        assert abs(values.std() - std) < 5 * std * math.sqrt(2 / n) + 1e-6


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (6, 2, 3), (1, 7)])
@pytest.mark.parametrize("gain", [1, 0.5])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape, gain):
    w = init.orthogonal_(ts.nn.Parameter(ts.zeros(*shape, dtype=ts.float64)), gain=gain)
    theirs = tinit.orthogonal_(torch.empty(shape, dtype=torch.float64), gain=gain)
    assert w.shape == tuple(theirs.shape)
    for q in (w.numpy().reshape(shape[0], -1), theirs.numpy().reshape(shape[0], -1)):
        small = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
        np.testing.assert_allclose(small, gain ** 2 * np.eye(len(small)), atol=1e-12)


def test_in_place_outside_the_graph_and_seeded():
    p = ts.nn.Parameter(ts.zeros(4, 3))
    array = p.numpy()
    out = init.xavier_uniform_(p)
    assert out is p and p.numpy() is array and p.is_leaf and p.requires_grad and p.grad_fn is None
    ts.manual_seed(7)
    first = init.kaiming_normal_(ts.zeros(4, 3)).numpy().copy()
    ts.manual_seed(7)
    np.testing.assert_array_equal(init.kaiming_normal_(ts.zeros(4, 3)).numpy(), first)
    g = np.random.default_rng(3)
    a = init.normal_(ts.zeros(5), generator=g).numpy().copy()
    np.testing.assert_array_equal(a, init.normal_(ts.zeros(5),
                                                  generator=np.random.default_rng(3)).numpy())


def test_a_model_initialised_the_pytorch_way_trains():
    """The usual loop over named parameters, then a step of training."""
    model = ts.nn.LSTM(3, 4, num_layers=2)
    for name, p in model.named_parameters():
        (init.orthogonal_ if "weight_hh" in name else
         init.xavier_uniform_ if "weight" in name else init.zeros_)(p)
    out, _ = model(ts.randn(5, 2, 3))
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert not np.any(model.bias_ih_l1.numpy())


def test_empty_tensors_as_torch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert init.kaiming_uniform_(ts.zeros(0, 3)).shape == (0, 3)
    assert "zero-element tensors is a no-op" in str(caught[0].message)
    assert init.orthogonal_(ts.zeros(0, 3)).shape == (0, 3)


@pytest.mark.parametrize("call, ours", [
    (lambda m: m.nn.init.calculate_gain("banana"), "unsupported nonlinearity 'banana'"),
    (lambda m: m.nn.init.calculate_gain("leaky_relu", True), "negative_slope True"),
    (lambda m: m.nn.init.xavier_uniform_(m.zeros(3)), "xavier_uniform_: fan in and fan out"),
    (lambda m: m.nn.init.kaiming_normal_(m.zeros(3, 2), mode="fan"), "mode 'fan' is not"),
    (lambda m: m.nn.init.orthogonal_(m.zeros(3)), "orthogonal_: only tensors of 2 or more"),
])
def test_errors_are_torchs_value_errors(call, ours):
    with pytest.raises(ValueError):
        call(torch)
    with pytest.raises(ValueError, match=ours):
        call(ts)


def test_bad_tensors_are_refused_in_one_line():
    with pytest.raises(TypeError, match="nn.init.uniform_: tensor must be a Tensor, got list"):
        init.uniform_([1.0, 2.0])
    with pytest.raises(TypeError, match="nn.init.normal_: tensor must be floating-point"):
        init.normal_(ts.zeros(2, dtype=ts.int64))
    with pytest.raises(TypeError, match="generator must be None or a numpy.random.Generator"):
        init.uniform_(ts.zeros(2), generator=3)


def test_bad_bounds_and_values_are_one_line_and_leave_the_tensor_alone():
    w = ts.ones(2)
    with pytest.raises(RuntimeError, match=r"^nn.init.uniform_: the range \[a, b\) must have"):
        ts.nn.init.uniform_(w, 2, 1)
    with pytest.raises(ValueError, match=r"^nn.init.normal_: std must be in \[0, inf\], got -1"):
        ts.nn.init.normal_(w, 0, -1)
    with pytest.raises(TypeError, match=r"^nn.init.constant_: val must be a number, got str"):
        ts.nn.init.constant_(w, "a")
    with pytest.raises(TypeError, match=r"^Linear.requires_grad_: requires_grad must be True"):
        ts.nn.Linear(2, 3).requires_grad_("x")
    assert w.tolist() == [1.0, 1.0]
    assert np.isnan(ts.nn.init.constant_(w, float("nan")).numpy()).all()  # as torch
