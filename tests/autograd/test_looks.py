"""PyTorch's looks (issue 15), each against torch: dtypes that print as ``tinyseq.float32`` and still
are numpy's to numpy, ``ts.Size``, the nodes' names in ``repr``, ``view`` that refuses what its
strides do not allow, and ``ts.Tensor(2, 3)``."""
import pickle
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import torch

DTYPES = ["float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"]
ALIASES = ["float", "double", "long", "int", "short"]


# ---- dtypes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DTYPES + ALIASES)
def test_dtypes_print_and_describe_themselves_as_torchs(name):
    ours, theirs = getattr(ts, name), getattr(torch, name)
    assert repr(ours) == str(ours) == repr(theirs).replace("torch.", "tinyseq.")
    for attr in ("is_floating_point", "is_complex", "is_signed", "itemsize"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert ts.zeros(2, dtype=ours).dtype is ours
    assert repr(ts.zeros(2, dtype=ours)) == repr(torch.zeros(2, dtype=theirs)).replace("torch.",
                                                                                      "tinyseq.")


@pytest.mark.parametrize("name", DTYPES)
def test_numpy_takes_a_ts_dtype_where_it_takes_a_dtype(name):
    d, want = getattr(ts, name), np.dtype(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DeprecationWarning from numpy either
        assert np.dtype(d) == want and np.zeros(2, dtype=d).dtype == want
        assert np.ones(3).astype(d).dtype == want and np.asarray([1], d).dtype == want
        assert np.issubdtype(d, np.floating) == (want.kind == "f")
    assert d == want and d == want.type and d == name and want == d and want.type == d
    assert hash(d) == hash(want) and {want: 1}[d] == 1
    assert d != "torch." + name and d != None and d != 3  # noqa: E711
    assert pickle.loads(pickle.dumps(d)) is d


def test_t_dtype_equals_numpys_and_is_taken_everywhere_a_dtype_is():
    t = ts.tensor([1.0, 2.0])
    assert t.dtype == np.float32 and t.dtype != np.float64 and t.dtype in (np.float32, np.float64)
    assert np.zeros(2, t.dtype).dtype == np.float32
    for spelled in (ts.float64, ts.double, np.float64, np.dtype("float64"), float):
        assert ts.zeros(2, dtype=spelled).dtype is ts.float64 and t.to(spelled).dtype is ts.float64
        assert t.new_zeros(1, dtype=spelled).dtype == "f8" and ts.tensor([1], dtype=spelled).dtype
    for spelled in ("float64", "torch.float64", "tinyseq.double"):  # names, numpy's and torch's
        assert ts.zeros(2, dtype=spelled).dtype is ts.float64
    assert ts.tensor([1, 2], dtype="torch.long").dtype is ts.int64
    with pytest.raises(TypeError, match=r"ts.tensor: 'torch.banana' is not a dtype; use ts.float32"):
        ts.tensor([1], dtype="torch.banana")
    assert ts.get_default_dtype() is ts.float32 and ts.set_default_dtype(ts.float32) is None


def test_repr_shows_the_dtype_exactly_where_torch_does():
    for data, name in [([1.0], "float64"), ([1], "int32"), ([1.0], "float32"), ([3], "int64"),
                       ([True, False], "bool"), ([2], "uint8")]:
        ours = ts.tensor(data, dtype=getattr(ts, name))
        theirs = torch.tensor(data, dtype=getattr(torch, name))
        assert repr(ours) == repr(theirs).replace("torch.", "tinyseq."), name


# ---- Size ----------------------------------------------------------------------------------------
def test_size_is_torchs():
    x, y = ts.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    for ours, theirs in [(x.shape, y.shape), (x.size(), y.size()), (x.shape[1:], y.shape[1:]),
                         (x.shape + (5,), y.shape + (5,)), ((5,) + x.shape, (5,) + y.shape),
                         (x.shape * 2, y.shape * 2), (ts.zeros(()).shape, torch.zeros(()).shape)]:
        assert type(ours) is ts.Size and isinstance(ours, tuple)
        assert repr(ours) == str(ours) == repr(theirs).replace("torch.", "tinyseq.")
        assert ours == tuple(theirs) and ours.numel() == theirs.numel()
    assert x.size(1) == 3 and type(x.size(-1)) is int and x.shape[0] == 2
    assert ts.Size([2, 3]) == (2, 3) and hash(ts.Size([2, 3])) == hash((2, 3))
    assert pickle.loads(pickle.dumps(x.shape)) == x.shape
    assert ts.zeros(x.shape).shape == x.shape and ts.Size(iter([1, 2])) == (1, 2)
    with pytest.raises(TypeError, match=r"ts.Size takes an iterable of ints \(item 0 is float\)"):
        ts.Size([2.5])
    with pytest.raises(TypeError):
        torch.Size([2.5])


def test_size_is_a_tuple_in_f_strings_so_messages_keep_one_notation():
    s = ts.zeros(4, 3).shape
    assert f"{s}" == "(4, 3)" and f"{s!s}" == str(s) == "tinyseq.Size([4, 3])"


# ---- the nodes' names ----------------------------------------------------------------------------
NODES = [
    ("add", lambda m, x, y: x + y), ("add_scalar", lambda m, x, y: x + 1),
    ("sub", lambda m, x, y: x - y), ("mul", lambda m, x, y: x * y), ("div", lambda m, x, y: x / 2),
    ("neg", lambda m, x, y: -x), ("pow", lambda m, x, y: x ** 2), ("exp", lambda m, x, y: x.exp()),
    ("log", lambda m, x, y: y.log()), ("tanh", lambda m, x, y: x.tanh()),
    ("sigmoid", lambda m, x, y: x.sigmoid()), ("relu", lambda m, x, y: x.relu()),
    ("mm", lambda m, x, y: x @ y.t()), ("matmul", lambda m, x, y: m.matmul(x, y.t())),
    ("sum", lambda m, x, y: x.sum()), ("mean", lambda m, x, y: x.mean()),
    ("view", lambda m, x, y: x.view(6)), ("reshape", lambda m, x, y: x.reshape(3, 2)),
    ("flatten", lambda m, x, y: x.flatten()), ("transpose", lambda m, x, y: x.transpose(0, 1)),
    ("permute", lambda m, x, y: x.permute(1, 0)), ("T", lambda m, x, y: x.T),
    ("t", lambda m, x, y: x.t()), ("unsqueeze", lambda m, x, y: x.unsqueeze(0)),
    ("squeeze", lambda m, x, y: x[None].squeeze()), ("squeeze_dim", lambda m, x, y: x[None].squeeze(0)),
    ("cat", lambda m, x, y: m.cat([x, y])), ("stack", lambda m, x, y: m.stack([x, y])),
    ("select", lambda m, x, y: x[0]), ("select_last", lambda m, x, y: x[1:, 0]),
    ("slice", lambda m, x, y: x[:, 1:]), ("slice_last", lambda m, x, y: x[0, 1:]),
    ("full_slice", lambda m, x, y: x[:]), ("ellipsis", lambda m, x, y: x[...]),
    ("new_dim", lambda m, x, y: x[0, None]), ("index", lambda m, x, y: x[[0, 1, 0]]),
    ("mask", lambda m, x, y: x[x > 0]), ("narrow", lambda m, x, y: x.narrow(1, 0, 2)),
    ("log_softmax", lambda m, x, y: x.log_softmax(1)), ("softmax", lambda m, x, y: x.softmax(1)),
    ("clone", lambda m, x, y: x.clone()), ("contiguous", lambda m, x, y: x.t().contiguous()),
    ("cast", lambda m, x, y: x.double()), ("clamp", lambda m, x, y: x.clamp(0, 1)),
    ("max", lambda m, x, y: x.max()), ("max_dim", lambda m, x, y: x.max(1)[0]),
    ("amax", lambda m, x, y: x.amax(1)), ("min", lambda m, x, y: x.min()),
    ("median_dim", lambda m, x, y: x.median(1)[0]), ("expand", lambda m, x, y: x[:1].expand(4, 3)),
    ("split", lambda m, x, y: x.split(1)[0]), ("unbind", lambda m, x, y: x.unbind(0)[0]),
    ("masked_fill", lambda m, x, y: x.masked_fill(x > 0, 0.0)),
    ("where", lambda m, x, y: m.where(x > 0, x, y)), ("logsumexp", lambda m, x, y: x.logsumexp(1)),
    ("sqrt", lambda m, x, y: y.sqrt()), ("abs", lambda m, x, y: x.abs()),
]


@pytest.mark.parametrize("name, fn", NODES, ids=[n for n, _ in NODES])
def test_repr_names_the_node_as_torch(name, fn):
    data = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)
    ours = fn(ts, ts.tensor(data, requires_grad=True), ts.tensor(abs(data) + 1, requires_grad=True))
    theirs = fn(torch, torch.tensor(data, requires_grad=True),
                torch.tensor(abs(data) + 1, requires_grad=True))
    label = type(theirs.grad_fn).__name__
    assert type(ours.grad_fn).__name__ == label and ours.grad_fn.name() == theirs.grad_fn.name()
    assert repr(ours).endswith(f"grad_fn=<{label}>)")


def test_a_node_keeps_its_op_name_and_a_custom_function_is_named_as_torch_names_it():
    x = ts.ones(2, requires_grad=True)
    y = x * 2
    assert y.grad_fn.name == "mul" and y.grad_fn.name() == "MulBackward0"
    assert isinstance(y.grad_fn, ts.autograd.Node) and f"{y.grad_fn.name}" == "mul"
    assert pickle.loads(pickle.dumps(y.grad_fn.name)) == "mul"

    class Cube(ts.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a ** 3

        @staticmethod
        def backward(ctx, g):
            return g

    class TorchCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a ** 3

        @staticmethod
        def backward(ctx, g):
            return g

    ours, theirs = Cube.apply(x), TorchCube.apply(torch.ones(2, requires_grad=True))
    assert ours.grad_fn.name == "cube"
    assert type(ours.grad_fn).__name__ == type(theirs.grad_fn).__name__.replace("Torch", "")


# ---- view --------------------------------------------------------------------------------------
VIEWS = [
    ("transposed_flat", lambda x, y: x.t().view(6)),
    ("transposed_split", lambda x, y: x.t().view(3, 2)),
    ("transposed_infer", lambda x, y: x.t().view(-1)),
    ("contiguous_first", lambda x, y: x.t().contiguous().view(6)),
    ("permuted_merge", lambda x, y: y.permute(1, 0, 2).view(3, 8)),
    ("permuted_keep", lambda x, y: y.permute(1, 0, 2).view(3, 2, 4)),
    ("sliced_rows", lambda x, y: y[:, 1:].view(2, -1)),
    ("sliced_inner", lambda x, y: y[:, :, 1:].view(6, 3)),
    ("selected_column", lambda x, y: y[:, 0].view(8)),
    ("strided", lambda x, y: y[:, :, ::2].view(12)),
    ("expanded_merge", lambda x, y: x.expand(4, 2, 3).view(8, 3)),
    ("expanded_keep", lambda x, y: x.expand(4, 2, 3).view(4, 6)),
    ("empty", lambda x, y: x[:0].t().view(0)),
]


@pytest.mark.parametrize("name, fn", VIEWS, ids=[n for n, _ in VIEWS])
def test_view_refuses_exactly_where_torch_does(name, fn):
    x, y = np.arange(6.0).reshape(2, 3), np.arange(24.0).reshape(2, 3, 4)
    try:
        theirs = fn(torch.tensor(x), torch.tensor(y))
    except RuntimeError as e:
        assert "view size is not compatible with input tensor's size and stride" in str(e)
        with pytest.raises(RuntimeError, match=r"^view size is not compatible with input tensor's "
                                               r"size and stride .* Use \.reshape\(\.\.\.\) instead"):
            fn(ts.tensor(x), ts.tensor(y))
        return
    ours = fn(ts.tensor(x), ts.tensor(y))
    assert ours.shape == theirs.shape and ours.tolist() == theirs.tolist()


def test_a_view_shares_memory_and_carries_gradients():
    x = ts.tensor(np.arange(6.0).reshape(2, 3), dtype=ts.float64, requires_grad=True)
    v = x.t().view(3, 2, 1)
    assert np.shares_memory(v.numpy(), x.numpy())
    assert ts.autograd.gradcheck(lambda a: (a.t().view(3, 2, 1) * a.t()[..., None]).sum(), (x,))


# ---- ts.Tensor(sizes) ----------------------------------------------------------------------------
@pytest.mark.parametrize("args", [(2, 3), (4,), (), ([2, 3],), ((2, 3),), ([[1, 2]],)])
@pytest.mark.parametrize("make", ["Tensor", "FloatTensor"])
def test_legacy_constructors_take_sizes_or_data_as_torch(args, make):
    ours, theirs = getattr(ts, make)(*args), getattr(torch, make)(*args)
    assert ours.shape == theirs.shape and ours.dtype == ts.float32
    if args and not all(type(a) is int for a in args):  # data: the same values
        assert ours.tolist() == theirs.tolist()
    assert ts.Tensor(ts.Size([2, 1])).shape == torch.Tensor(torch.Size([2, 1])).shape


def test_legacy_constructor_refuses_what_is_neither_data_nor_sizes():
    assert ts.Tensor(2, True).shape == torch.Tensor(2, True).shape  # (True is 1)
    for bad in [(2, "a"), (2, 3.5)]:
        with pytest.raises(TypeError):
            torch.Tensor(*bad)
        with pytest.raises(TypeError, match="^Tensor\\(\\): give one sequence of data or the sizes "
                                            "as ints, got int, "):
            ts.Tensor(*bad)
