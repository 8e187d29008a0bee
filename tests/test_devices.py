"""Devices, dtype names and grad modes that PyTorch programs use, against PyTorch: ``ts.device``,
``t.to(...)`` in all its forms, ``device=`` on the factories, ``ts.cuda`` and ``ts.backends`` as on
a machine without a GPU, ``t.int()``/``t.bool()``/``t.type()``, ``ts.inference_mode``."""
import pickle
import subprocess
import sys

import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import compare_with_torch, to_numpy_dtype, torch

GPU = r"tinyseq runs on the CPU only.*switching `import tinyseq as torch` back to `import torch`"


# ---- ts.device -----------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [("cpu",), ("cpu", 0), ("cpu:0",), ("cpu:1",), ("cpu", 3)])
def test_device_is_torchs(args):
    ours, theirs = ts.device(*args), torch.device(*args)
    assert (str(ours), repr(ours), ours.type, ours.index) == (
        str(theirs), repr(theirs), theirs.type, theirs.index)
    assert ts.device(ours) == ours and hash(ts.device(str(ours))) == hash(ours)


def test_device_equality_and_pickling_as_torch():
    cpu, cpu0 = torch.device("cpu"), torch.device("cpu", 0)
    assert (ts.device("cpu") == ts.device("cpu", 0)) == (cpu == cpu0)  # (False in both)
    assert (ts.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")  # (False in both)
    assert pickle.loads(pickle.dumps(ts.device("cpu:0"))) == ts.device("cpu:0")
    with pytest.raises(AttributeError, match="immutable"):
        ts.device("cpu").type = "cuda"


@pytest.mark.parametrize("name", ["cuda", "cuda:0", "mps", "xpu"])
def test_a_gpu_is_refused_in_one_line_saying_how_to_move_to_pytorch(name):
    with pytest.raises(RuntimeError, match=f"ts.device: '{name}' is a GPU.*{GPU}"):
        ts.device(name)
    with pytest.raises(RuntimeError, match=f"to: '{name}' is a GPU"):
        ts.ones(2).to(name)
    with pytest.raises(RuntimeError, match=f"zeros: '{name}' is a GPU"):
        ts.zeros(2, device=name)
    with pytest.raises(RuntimeError, match=f"set_default_device: '{name}' is a GPU"):
        ts.set_default_device(name)


@pytest.mark.parametrize("bad, error, message", [
    ("banana", RuntimeError, "unknown device 'banana'"), ("cpu:x", RuntimeError, "invalid device"),
    (("cpu", -1), RuntimeError, "must not be negative"), (0, RuntimeError, "device 0 is a GPU's"),
    (1.5, TypeError, "expected a device name"), (("cpu", "0"), TypeError, "index must be an int")])
def test_bad_devices_raise_torchs_exception_type(bad, error, message):
    args = bad if isinstance(bad, tuple) else (bad,)
    with pytest.raises(error):
        torch.device(*args)
    with pytest.raises(error, match=message):
        ts.device(*args)


# ---- t.device, t.to, .cpu() ----------------------------------------------------------------------
def test_a_tensor_is_on_the_cpu():
    t = ts.ones(2)
    assert t.device == ts.device("cpu") and repr(t.device) == repr(torch.ones(2).device)
    assert t.cpu() is t and not t.is_cuda
    with pytest.raises(RuntimeError, match=f"cuda: 'cuda' is a GPU.*{GPU}"):
        t.cuda()


TO_FORMS = [((), {}), (("cpu",), {}), ((None,), {}), (("DEVICE",), {}), (("float64",), {}),
            (("int64",), {}), (("cpu", "float64"), {}), (("DEVICE", "int32"), {}),
            ((), {"dtype": "float64"}), ((), {"device": "cpu"}),
            ((), {"device": "cpu", "dtype": "bool"}), (("cpu",), {"dtype": "int64"}),
            (("float32",), {"copy": True}), (("float64", False, True), {}),
            (("OTHER",), {}), ((), {"non_blocking": True}), ((int,), {}), ((float,), {})]


def _to_args(lib, args, kwargs):
    """A form of ``to(...)`` spelled for ``lib``: dtype names and the device become its own."""
    def spell(a):
        if a == "DEVICE":
            return lib.device("cpu")
        if a == "OTHER":
            return lib.zeros(1, dtype=lib.float64)
        return getattr(lib, a) if a in ("float64", "float32", "int64", "int32", "bool") else a
    return [spell(a) for a in args], {k: spell(v) for k, v in kwargs.items()}


@pytest.mark.parametrize("args, kwargs", TO_FORMS)
def test_to_takes_every_form_torch_takes(args, kwargs):
    def fn(lib, x):
        a, k = _to_args(lib, args, kwargs)
        y = x.to(*a, **k)
        return y * 1 if y.dtype in (lib.float32, lib.float64) else y.detach()

    compare_with_torch(fn, arrays=[np.arange(6.0).reshape(2, 3)], dtype=np.float32)


@pytest.mark.parametrize("args, kwargs", TO_FORMS)
def test_to_returns_the_tensor_itself_exactly_when_torch_does(args, kwargs):
    x, y = ts.ones(2), torch.ones(2)
    (a, k), (b, j) = _to_args(ts, args, kwargs), _to_args(torch, args, kwargs)
    ours, theirs = x.to(*a, **k), y.to(*b, **j)
    assert (ours is x) == (theirs is y)
    assert ours.numpy().dtype == to_numpy_dtype(theirs.dtype)


@pytest.mark.parametrize("args", [("float64", "float32"), ("float32", 1), ("cpu", "cpu")])
def test_to_refuses_what_torch_refuses(args):
    with pytest.raises(TypeError):
        torch.ones(2).to(*_to_args(torch, args, {})[0])
    with pytest.raises(TypeError, match=r"to: expected \(device=None, dtype=None"):
        ts.ones(2).to(*_to_args(ts, args, {})[0])
    with pytest.raises(TypeError, match="unexpected keyword argument 'devise'"):
        ts.ones(2).to(devise="cpu")


def test_to_dtype_is_differentiable_and_gradchecks():
    x = ts.randn(3, dtype=ts.float64, requires_grad=True)
    assert ts.autograd.gradcheck(lambda t: t.to("cpu", ts.float64) * t.to(copy=True) ** 2, [x])
    y = x.to(ts.float32)  # (a float32 round trip is too coarse for central differences)
    y.sum().backward()
    assert x.grad.numpy().dtype == np.float64 and np.all(x.grad.numpy() == 1)


# ---- factories -----------------------------------------------------------------------------------
FACTORIES = [lambda m, d: m.zeros(2, 3, device=d), lambda m, d: m.ones(2, device=d),
             lambda m, d: m.full((2,), 7.0, device=d), lambda m, d: m.arange(4, device=d),
             lambda m, d: m.tensor([1, 2], device=d),
             lambda m, d: m.zeros_like(m.ones(2), device=d),
             lambda m, d: m.ones_like(m.ones(2), device=d),
             lambda m, d: m.randn(2, device=d).shape, lambda m, d: m.rand(2, device=d).shape]


@pytest.mark.parametrize("make", FACTORIES)
@pytest.mark.parametrize("device", ["cpu", "DEVICE", None])
def test_factories_take_device_as_torch(make, device):
    ours = make(ts, ts.device("cpu") if device == "DEVICE" else device)
    theirs = make(torch, torch.device("cpu") if device == "DEVICE" else device)
    if isinstance(theirs, torch.Size):
        assert ours == tuple(theirs)
    else:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.device == ts.device("cpu") and ours.numpy().dtype == theirs.numpy().dtype


# ---- ts.cuda and ts.backends: a machine without a GPU --------------------------------------------
def test_cuda_is_absent_as_in_torch_without_a_gpu():
    assert ts.cuda.is_available() is torch.cuda.is_available() is False
    assert ts.cuda.device_count() == torch.cuda.device_count() == 0
    assert ts.cuda.manual_seed(1) is None and ts.cuda.manual_seed_all(2) is None
    with pytest.raises(ValueError):  # (torch's int() of the seed)
        ts.cuda.manual_seed("x")
    assert ts.backends.mps.is_available() is False


def test_a_typical_device_line_runs():
    """The line every PyTorch example opens with."""
    device = ts.device("cuda" if ts.cuda.is_available() else "cpu")
    model = ts.nn.Linear(3, 2).to(device)
    assert model(ts.randn(4, 3, device=device).to(device)).device == device


def test_cudnn_flags_are_settable_attributes_with_torchs_defaults():
    cudnn = ts.backends.cudnn
    for flag in ("enabled", "benchmark", "deterministic"):
        assert getattr(cudnn, flag) == getattr(torch.backends.cudnn, flag)
    cudnn.deterministic, cudnn.benchmark = True, False
    assert ts.backends.cudnn.deterministic is True
    cudnn.deterministic = False


def test_cuda_and_backends_import_as_modules():
    code = ("import tinyseq.backends.cudnn as cudnn, tinyseq.cuda\n"
            "from tinyseq.cuda import is_available\n"
            "print(cudnn.enabled, is_available(), tinyseq.cuda.device_count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "0"]


def test_default_device_and_dtype():
    ts.set_default_device("cpu")
    ts.set_default_device(None)
    assert str(ts.get_default_device()) == str(torch.get_default_device())
    assert ts.get_default_dtype() is ts.float32
    ts.set_default_dtype(ts.float32)
    with pytest.raises(TypeError, match="only floating dtypes"):
        ts.set_default_dtype(ts.int64)
    with pytest.raises(NotImplementedError, match="dtype=ts.float64.*model.double"):
        ts.set_default_dtype(ts.float64)


# ---- dtype names and conversions -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["float", "double", "long", "int", "int32", "int64", "float32",
                                  "float64", "bool"])
def test_dtype_aliases_are_torchs(name):
    assert np.dtype(getattr(ts, name)) == to_numpy_dtype(getattr(torch, name))
    assert ts.zeros(2, dtype=getattr(ts, name)).numpy().dtype == to_numpy_dtype(
        getattr(torch, name))


@pytest.mark.parametrize("method", ["int", "bool", "long", "float", "double"])
def test_conversion_methods_are_torchs(method):
    compare_with_torch(lambda m, x: getattr(x, method)() * 1 if method in ("float", "double")
                       else getattr(x, method)(),
                       arrays=[np.array([[-1.5, 0.0, 2.7]])], dtype=np.float32)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_type_names_and_casts_as_torch(dtype):
    x, y = ts.zeros(2, dtype=getattr(ts, dtype)), torch.zeros(2, dtype=getattr(torch, dtype))
    assert x.type() == y.type().replace("torch.", "tinyseq.")
    for target in (y.type(), x.type(), "float64"):
        spelled = getattr(ts, target) if target == "float64" else target
        want = y.type(getattr(torch, target) if target == "float64" else y.type())
        assert x.type(spelled).numpy().dtype == want.numpy().dtype
    assert (x.type(x.dtype) is x) == (y.type(y.dtype) is y)
    with pytest.raises(TypeError, match="unknown tensor type 'torch.BananaTensor'"):
        x.type("torch.BananaTensor")


# ---- inference_mode ------------------------------------------------------------------------------
def test_inference_mode_records_no_graph_as_no_grad():
    x = ts.ones(2, requires_grad=True)
    with ts.inference_mode():
        assert not (x * 2).requires_grad
    with ts.no_grad(), ts.inference_mode(False):  # as torch: False turns recording on
        assert (x * 2).requires_grad
    with torch.no_grad(), torch.inference_mode(False):
        assert torch.is_grad_enabled()

    @ts.inference_mode
    def bare(t):
        return t * 2

    @ts.inference_mode()
    def called(t):
        return t * 2

    assert not bare(x).requires_grad and not called(x).requires_grad and ts.is_grad_enabled()
