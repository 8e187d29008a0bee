"""``F.conv1d``, ``F.conv_transpose1d``, ``nn.Conv1d`` and ``nn.ConvTranspose1d`` against PyTorch
(outputs, then the input's, weight's and bias's gradients) over a grid of stride, padding,
dilation, groups, bias, padding mode and shapes, and drawn by hypothesis; gradcheck in float64;
the causal-convolution idiom; initialisation, dtype, device and repr; bad arguments refused with
torch's exception type."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinyseq as ts
from tests.strategies import FEW
from tests.torch_compare import compare_module_with_torch, compare_with_torch, torch


def F(m):
    return m.nn.functional


def _arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


# ---- conv1d: a grid ------------------------------------------------------------------------------
# (stride, padding, dilation, groups, bias): every value of each, crossed where they interact
CONV_GRID = [(s, p, d, g, b) for s, p, d, g, b in itertools.product(
    [1, 2, 3], [0, 1, 2, "valid", "same"], [1, 2], [1, 2], [True, False])
    if not (p == "same" and s != 1)]


@pytest.mark.parametrize("stride, padding, dilation, groups, bias", CONV_GRID)
def test_conv1d_matches_torch_over_the_grid(stride, padding, dilation, groups, bias):
    shapes = [(2, 4, 11), (6, 4 // groups, 3)] + ([(6,)] if bias else [])

    def fn(m, x, w, b=None):
        return F(m).conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation,
                           groups=groups)

    compare_with_torch(fn, arrays=_arrays(0, *shapes))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # (torch's)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel, padding, dilation", [
    (4, "same", 1), (4, "same", 3), (2, "same", 2), (5, "same", 2), (1, 0, 1), (11, 0, 1),
    (3, 4, 1)])
def test_conv1d_kernel_shapes_and_same_padding_match_torch(kernel, padding, dilation, dtype):
    """Even kernels with 'same' put the extra zero on the right, as torch; a kernel as long as
    the input; padding wider than the kernel."""
    compare_with_torch(lambda m, x, w, b: F(m).conv1d(x, w, b, padding=padding,
                                                      dilation=dilation),
                       arrays=_arrays(1, (3, 2, 11), (5, 2, kernel), (5,)), dtype=dtype)


@pytest.mark.parametrize("shapes, kwargs", [
    (((3, 9), (4, 3, 2), (4,)), {"stride": 2}),                 # unbatched (C, L)
    (((0, 3, 9), (4, 3, 2), (4,)), {}),                         # an empty batch
    (((2, 6, 7), (6, 1, 3), (6,)), {"groups": 6}),             # depthwise
    (((2, 4, 7), (2, 2, 3), (2,)), {"groups": 2, "padding": (1,), "stride": [2]}),  # 1-tuples
])
def test_conv1d_unbatched_empty_depthwise_and_tuples_match_torch(shapes, kwargs):
    compare_with_torch(lambda m, x, w, b: F(m).conv1d(x, w, b, **kwargs),
                       arrays=_arrays(2, *shapes))


@st.composite
def conv_cases(draw):
    """A conv1d's arguments: shapes that fit, any stride, padding and dilation."""
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    padding = draw(st.one_of(st.integers(0, 3), st.sampled_from(["same", "valid"])))
    stride = 1 if padding == "same" else draw(st.integers(1, 4))
    reach = dilation * (kernel - 1) + 1
    length = draw(st.integers(max(reach - 2 * (padding if isinstance(padding, int) else 0), 1),
                              reach + 12))
    shapes = [(draw(st.integers(1, 3)), c_in, length), (c_out, c_in // groups, kernel)]
    if draw(st.booleans()):
        shapes.append((c_out,))
    return shapes, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@FEW
@given(conv_cases(), st.integers(0, 2 ** 16))
def test_conv1d_drawn_cases_match_torch(case, seed):
    shapes, kwargs = case
    compare_with_torch(lambda m, x, w, *b: F(m).conv1d(x, w, *b, **kwargs),
                       arrays=_arrays(seed, *shapes))


# ---- conv_transpose1d ----------------------------------------------------------------------------
TRANSPOSE_GRID = [(s, p, op, d, g) for s, p, op, d, g in itertools.product(
    [1, 2, 3], [0, 1, 2], [0, 1, 2], [1, 2], [1, 2]) if op < max(s, d)]


@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups", TRANSPOSE_GRID)
def test_conv_transpose1d_matches_torch_over_the_grid(stride, padding, output_padding, dilation,
                                                      groups):
    def fn(m, x, w, b):
        return F(m).conv_transpose1d(x, w, b, stride=stride, padding=padding,
                                     output_padding=output_padding, groups=groups,
                                     dilation=dilation)

    compare_with_torch(fn, arrays=_arrays(3, (2, 4, 6), (4, 6 // groups, 3), (6,)))


def test_conv_transpose1d_unbatched_without_bias_matches_torch():
    compare_with_torch(lambda m, x, w: F(m).conv_transpose1d(x, w, stride=2),
                       arrays=_arrays(4, (3, 5), (3, 2, 4)), dtype=np.float32)


# ---- gradcheck -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, shapes", [
    (lambda x, w, b: ts.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2),
     [(2, 4, 9), (4, 2, 3), (4,)]),
    (lambda x, w, b: ts.conv1d(x, w, b, padding="same"), [(3, 6), (2, 3, 4), (2,)]),
    (lambda x, w, b: ts.conv_transpose1d(x, w, b, stride=3, padding=1, output_padding=2,
                                         groups=2, dilation=2), [(2, 4, 5), (4, 1, 3), (2,)]),
], ids=["conv1d", "conv1d_same_unbatched", "conv_transpose1d"])
def test_gradcheck(fn, shapes):
    xs = [ts.tensor(a, dtype=ts.float64, requires_grad=True) for a in _arrays(5, *shapes)]
    assert ts.autograd.gradcheck(fn, xs) is True


# ---- the modules ---------------------------------------------------------------------------------
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("kwargs", [
    dict(padding=2), dict(padding="same", dilation=2), dict(padding="same", kernel_size=4),
    dict(padding=1, stride=2, groups=2, bias=False), dict(padding="valid", dilation=3)],
    ids=["pad2", "same_dilated", "same_even", "strided_groups_nobias", "valid"])
def test_conv1d_module_matches_torch(kwargs, padding_mode):
    kwargs = {"kernel_size": 3, **kwargs}
    make = lambda nn: nn.Conv1d(4, 6, padding_mode=padding_mode, **kwargs)  # noqa: E731
    compare_module_with_torch(make, arrays=_arrays(6, (2, 4, 10)))
    compare_module_with_torch(make, arrays=_arrays(7, (4, 10)))  # unbatched


@pytest.mark.parametrize("kwargs, output_size", [
    (dict(stride=2, padding=1, output_padding=1), None), (dict(groups=2, dilation=2), None),
    (dict(stride=3, bias=False), [21]), (dict(stride=3), [22]), (dict(stride=2), (2, 6, 16))])
def test_conv_transpose1d_module_matches_torch(kwargs, output_size):
    extra = () if output_size is None else (output_size,)
    compare_module_with_torch(lambda nn: nn.ConvTranspose1d(4, 6, 3, **kwargs),
                              arrays=_arrays(8, (2, 4, 7)),
                              forward=lambda m, module, x: module(x, *extra))


@pytest.mark.parametrize("make", [
    lambda nn: nn.Conv1d(4, 6, 3),
    lambda nn: nn.Conv1d(4, 6, (3,), stride=(2,)),
    lambda nn: nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, bias=False,
                         padding_mode="reflect"),
    lambda nn: nn.Conv1d(4, 6, 5, padding="same"),
    lambda nn: nn.ConvTranspose1d(4, 6, 3, stride=2, output_padding=1),
    lambda nn: nn.ConvTranspose1d(4, 6, 3, 2, 1, 1, 2, False, 2),
])
def test_conv_repr_parameters_and_attributes_are_torchs(make):
    ours, theirs = make(ts.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                 "transposed", "output_padding", "groups", "padding_mode"):
        assert getattr(ours, name) == getattr(theirs, name), name


@pytest.mark.parametrize("make, fan_in", [
    (lambda nn, **kw: nn.Conv1d(8, 6, 5, **kw), 40),
    (lambda nn, **kw: nn.Conv1d(8, 4, 3, groups=4, **kw), 6),
    (lambda nn, **kw: nn.ConvTranspose1d(8, 6, 3, groups=2, **kw), 9)])
def test_default_init_is_torchs_uniform_of_bound_one_over_root_fan_in(make, fan_in):
    """kaiming_uniform_(a=√5) is U(-1/√fan_in, 1/√fan_in): the weights fill that range (as
    torch's do) and the bias draws from the same bound."""
    ts.manual_seed(0)
    bound = 1 / math.sqrt(fan_in)
    ws = np.concatenate([make(ts.nn).weight.numpy().ravel() for _ in range(30)])
    bs = np.concatenate([make(ts.nn).bias.numpy().ravel() for _ in range(30)])
    theirs = np.concatenate([make(torch.nn).weight.detach().numpy().ravel() for _ in range(30)])
    for values in (ws, bs, theirs):
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.95 * bound
        assert abs(values.mean()) < 0.1 * bound
    assert abs(ws.std() - theirs.std()) < 0.1 * bound  # the same spread: bound / √3


def test_dtype_and_device_arguments_are_torchs():
    for nn in (ts.nn, torch.nn):
        lib = ts if nn is ts.nn else torch
        m = nn.Conv1d(3, 4, 2, dtype=lib.float64, device="cpu")
        assert m.weight.dtype == m.bias.dtype == lib.float64
        t = nn.ConvTranspose1d(3, 4, 2, dtype=lib.float64, device=lib.device("cpu"))
        assert t.weight.dtype == lib.float64
    out = ts.nn.Conv1d(3, 4, 2, dtype=ts.float64)(ts.ones(1, 3, 5, dtype=ts.float64))
    assert out.dtype == ts.float64
    with pytest.raises(RuntimeError, match="Conv1d: 'cuda' is a GPU"):
        ts.nn.Conv1d(3, 4, 2, device="cuda")
    with pytest.raises(RuntimeError, match="Conv1d: dtype=int64 cannot hold parameters"):
        ts.nn.Conv1d(3, 4, 2, dtype=ts.int64)


# ---- the causal convolution idiom (TCNs, WaveNet) ------------------------------------------------
def test_causal_convolution_by_left_padding_matches_torch_and_never_looks_ahead():
    """``F.pad(x, ((k - 1) d, 0))`` then ``conv1d``: output t sees inputs up to t only."""
    k, d = 3, 2

    def causal(m, x, w, b):
        return F(m).conv1d(F(m).pad(x, ((k - 1) * d, 0)), w, b, dilation=d)

    arrays = _arrays(9, (2, 3, 12), (4, 3, k), (4,))
    (out,), _ = compare_with_torch(causal, arrays=arrays)
    assert out.shape == (2, 4, 12)
    x = ts.tensor(arrays[0], dtype=ts.float64, requires_grad=True)
    w, b = (ts.tensor(a, dtype=ts.float64) for a in arrays[1:])
    for t in (0, 5, 11):
        x.grad = None
        causal(ts, x, w, b)[..., t].sum().backward()
        grad = np.abs(x.grad.numpy()).sum((0, 1))
        assert not grad[t + 1:].any() and grad[t] > 0


def test_a_small_tcn_block_matches_torch():
    """Two dilated causal convolutions with a residual, as a TCN stacks them."""
    def make(nn):
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv1d(3, 5, 2, dilation=1)
                self.conv2 = nn.Conv1d(5, 3, 2, dilation=2)

            def forward(self, x):
                F_ = nn.functional
                h = F_.relu(self.conv1(F_.pad(x, (1, 0))))
                return F_.relu(self.conv2(F_.pad(h, (2, 0))) + x)

        return Block()

    compare_module_with_torch(make, arrays=_arrays(10, (2, 3, 9)))


# ---- bad arguments -------------------------------------------------------------------------------
X, W = np.ones((2, 4, 10)), np.ones((6, 4, 3))
BAD_CALLS = [
    ("conv1d", lambda m, x, w: F(m).conv1d(x, m.ones(6, 3, 3))),           # channels
    ("conv1d", lambda m, x, w: F(m).conv1d(x[None], w)),                   # 4-d input
    ("conv1d", lambda m, x, w: F(m).conv1d(x[0, 0], w)),                   # 1-d input
    ("conv1d", lambda m, x, w: F(m).conv1d(x, w[:, :, 0])),                # 2-d weight
    ("conv1d", lambda m, x, w: F(m).conv1d(x, m.ones(6, 4, 11))),          # kernel too long
    ("conv1d", lambda m, x, w: F(m).conv1d(x[:, :, :2], w)),               # input too short
    ("conv1d", lambda m, x, w: F(m).conv1d(x, w, stride=0)),
    ("conv1d", lambda m, x, w: F(m).conv1d(x, w, padding=-1)),
    ("conv1d", lambda m, x, w: F(m).conv1d(x, w, dilation=0)),
    ("conv1d", lambda m, x, w: F(m).conv1d(x, w, groups=0)),
    ("conv1d", lambda m, x, w: F(m).conv1d(x, w, groups=3)),
    ("conv1d", lambda m, x, w: F(m).conv1d(x, m.ones(6, 1, 3), groups=4)),
    ("conv1d", lambda m, x, w: F(m).conv1d(x, w, m.ones(5))),              # bias size
    ("conv1d", lambda m, x, w: F(m).conv1d(x, w, stride=2, padding="same")),
    ("conv1d", lambda m, x, w: F(m).conv1d(x, w, padding="full")),
    ("conv1d", lambda m, x, w: F(m).conv1d(x, w, stride=1.5)),
    ("conv1d", lambda m, x, w: F(m).conv1d(x, w, stride=(1, 1))),
    ("conv1d", lambda m, x, w: F(m).conv1d(x.long(), w)),                  # int input
    ("conv1d", lambda m, x, w: F(m).conv1d(x.double(), w.float())),        # mixed dtypes
    ("conv1d", lambda m, x, w: F(m).conv1d(x.numpy(), w)),                 # not a tensor
    ("conv_transpose1d", lambda m, x, w: F(m).conv_transpose1d(x, m.ones(4, 3, 3), stride=2,
                                                               output_padding=2)),
    ("conv_transpose1d", lambda m, x, w: F(m).conv_transpose1d(x, m.ones(4, 3, 3), groups=3)),
    ("conv_transpose1d", lambda m, x, w: F(m).conv_transpose1d(x, m.ones(5, 3, 3))),
    ("conv_transpose1d", lambda m, x, w: F(m).conv_transpose1d(x, m.ones(4, 3, 3),
                                                               padding="same")),
    ("conv_transpose1d", lambda m, x, w: F(m).conv_transpose1d(x[None], m.ones(4, 3, 3))),
    ("conv_transpose1d", lambda m, x, w: F(m).conv_transpose1d(x, m.ones(4, 3, 3), m.ones(4))),
    ("Conv1d", lambda m, x, w: m.nn.Conv1d(4, 6, 3, groups=4)),
    ("Conv1d", lambda m, x, w: m.nn.Conv1d(4, 6, 3, groups=3)),
    ("Conv1d", lambda m, x, w: m.nn.Conv1d(4, 6, 3, groups=0)),
    ("Conv1d", lambda m, x, w: m.nn.Conv1d(4, 6, 3, padding_mode="foo")),
    ("Conv1d", lambda m, x, w: m.nn.Conv1d(4, 6, 3, padding="same", stride=2)),
    ("Conv1d", lambda m, x, w: m.nn.Conv1d(4, 6, 3, padding="full")),
    ("Conv1d", lambda m, x, w: m.nn.Conv1d(4, 6, -1)),
    ("Conv1d", lambda m, x, w: m.nn.Conv1d(4, 6, 2.5)),
    ("conv1d", lambda m, x, w: m.nn.Conv1d(3, 6, 3)(x)),
    ("conv1d", lambda m, x, w: m.nn.Conv1d(4, 6, 3, stride=0)(x)),
    ("pad", lambda m, x, w: m.nn.Conv1d(4, 6, 3, padding=10, padding_mode="reflect")(x)),
    ("ConvTranspose1d", lambda m, x, w: m.nn.ConvTranspose1d(4, 6, 3, padding_mode="reflect")),
    ("ConvTranspose1d", lambda m, x, w: m.nn.ConvTranspose1d(4, 6, 3, stride=2)(x, [25])),
    ("ConvTranspose1d", lambda m, x, w: m.nn.ConvTranspose1d(4, 6, 3, stride=2)(x, 21)),
]


@pytest.mark.parametrize("name, call", BAD_CALLS)
def test_bad_arguments_raise_torchs_exception_type_in_one_line(name, call):
    with pytest.raises(Exception) as theirs:
        call(torch, torch.tensor(X, dtype=torch.float32), torch.tensor(W, dtype=torch.float32))
    with pytest.raises(type(theirs.value)) as ours:
        call(ts, ts.tensor(X), ts.tensor(W))
    message = str(ours.value)
    assert message.startswith(f"{name}:") and "\n" not in message, message
