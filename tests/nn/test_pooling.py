"""The 1-d poolings (``max_pool1d``, ``avg_pool1d``, ``adaptive_max_pool1d``,
``adaptive_avg_pool1d`` and their modules) against PyTorch: values, indices and gradients over a
grid of kernel, stride, padding, dilation, ceil_mode and count_include_pad, and drawn by
hypothesis; torch's choice of maximum among ties, NaN and -inf; gradcheck; repr; bad arguments
refused with torch's exception type."""
import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinyseq as ts
from tinyseq.autograd.ops import pool
from tests.strategies import FEW
from tests.torch_compare import compare_module_with_torch, compare_with_torch, torch


def F(m):
    return m.nn.functional


def _distinct(seed, shape):
    """Values with no ties (the maximum, and its gradient, is then one element)."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 - 3.0


def _fits(length, kernel, padding, dilation=1):
    return 2 * padding <= kernel and length + 2 * padding >= dilation * (kernel - 1) + 1


# (kernel, stride, padding, dilation, ceil_mode) on inputs of length 7 and 10
MAX_GRID = [(k, s, p, d, c) for k, s, p, d, c in itertools.product(
    [1, 2, 3, 4], [None, 1, 2, 3], [0, 1, 2], [1, 2], [False, True]) if _fits(7, k, p, d)]


@pytest.mark.parametrize("length", [7, 10])
@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", MAX_GRID)
def test_max_pool1d_values_indices_and_gradient_match_torch(kernel, stride, padding, dilation,
                                                            ceil_mode, length):
    def fn(m, x):
        return F(m).max_pool1d(x, kernel, stride, padding, dilation, ceil_mode=ceil_mode,
                               return_indices=True)

    compare_with_torch(fn, arrays=[_distinct(0, (2, 3, length))])


AVG_GRID = [(k, s, p, c, i) for k, s, p, c, i in itertools.product(
    [1, 2, 3, 4], [None, 1, 2, 3], [0, 1, 2], [False, True], [True, False]) if _fits(7, k, p)]


@pytest.mark.parametrize("length", [7, 10])
@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, count_include_pad", AVG_GRID)
def test_avg_pool1d_matches_torch(kernel, stride, padding, ceil_mode, count_include_pad, length):
    def fn(m, x):
        return F(m).avg_pool1d(x, kernel, stride, padding, ceil_mode, count_include_pad)

    compare_with_torch(fn, arrays=[np.random.default_rng(1).standard_normal((2, 3, length))])


@pytest.mark.parametrize("length, size", list(itertools.product([1, 3, 5, 7, 10],
                                                                [1, 2, 3, 4, 7, 12])))
def test_adaptive_pools_match_torch(length, size):
    """Windows that overlap, that are empty of overlap, and more outputs than inputs."""
    x = _distinct(2, (2, 3, length))
    compare_with_torch(lambda m, t: F(m).adaptive_avg_pool1d(t, size), arrays=[x])
    compare_with_torch(lambda m, t: F(m).adaptive_max_pool1d(t, size, return_indices=True),
                       arrays=[x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", [
    lambda m, x: F(m).max_pool1d(x, (3,), stride=[2], padding=1),
    lambda m, x: F(m).avg_pool1d(x, 3, 1, 1, count_include_pad=False),
    lambda m, x: F(m).adaptive_avg_pool1d(x, (4,)),
    lambda m, x: F(m).adaptive_max_pool1d(x, 4),
], ids=["max", "avg", "adaptive_avg", "adaptive_max"])
def test_unbatched_tuples_and_float32_match_torch(fn, dtype):
    compare_with_torch(fn, arrays=[_distinct(3, (4, 9))], dtype=dtype)
    compare_with_torch(fn, arrays=[_distinct(3, (0, 4, 9))], dtype=dtype)  # an empty batch


@st.composite
def pool_cases(draw):
    kernel, dilation = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    padding = draw(st.integers(0, kernel // 2))
    stride = draw(st.one_of(st.none(), st.integers(1, 4)))
    reach = dilation * (kernel - 1) + 1
    length = draw(st.integers(max(reach - 2 * padding, 1), reach + 12))
    return (draw(st.integers(1, 3)), draw(st.integers(1, 3)), length), dict(
        kernel_size=kernel, stride=stride, padding=padding, ceil_mode=draw(st.booleans())), \
        dilation


@FEW
@given(pool_cases(), st.booleans(), st.integers(0, 2 ** 16))
def test_drawn_poolings_match_torch(case, count_include_pad, seed):
    shape, kwargs, dilation = case
    x = _distinct(seed, shape)
    # A window of padding alone (dilation can make one): torch sends its gradient to an element
    # of another channel (its flat index), tinyseq sends none; values and indices still agree.
    count = F(ts).max_pool1d(ts.tensor(x), dilation=dilation, **kwargs).shape[-1]
    _, valid = pool.strided_table(shape[2], count, kwargs["kernel_size"],
                                  kwargs["stride"] or kwargs["kernel_size"], kwargs["padding"],
                                  dilation)
    compare_with_torch(lambda m, t: F(m).max_pool1d(t, dilation=dilation, return_indices=True,
                                                    **kwargs), arrays=[x],
                       requires_grad=bool(valid.any(-1).all()))
    if 2 * kwargs["padding"] <= kwargs["kernel_size"] and shape[2] + 2 * kwargs["padding"] >= \
            kwargs["kernel_size"]:
        compare_with_torch(lambda m, t: F(m).avg_pool1d(
            t, count_include_pad=count_include_pad, **kwargs), arrays=[x])


@pytest.mark.parametrize("values, kwargs", [
    ([3.0, 3.0, 1.0, 3.0], dict(kernel_size=2, stride=1)),          # ties: the first
    ([np.nan, 1.0, np.nan, 2.0], dict(kernel_size=4)),                # NaN: the last one
    ([-np.inf, -np.inf, -np.inf], dict(kernel_size=2, stride=1, padding=1)),  # never the padding
    ([-np.inf, -np.inf, 1.0, 2.0], dict(kernel_size=2, padding=1)),
    ([5.0], dict(kernel_size=2, stride=1, padding=1, dilation=2)),  # a window of padding alone
])
def test_max_pool1d_picks_the_element_torch_picks(values, kwargs):
    x = np.array([[values]])
    compare_with_torch(lambda m, t: F(m).max_pool1d(t, return_indices=True, **kwargs),
                       arrays=[x], requires_grad=False)
    compare_with_torch(lambda m, t: F(m).adaptive_max_pool1d(t, 2, return_indices=True),
                       arrays=[x], requires_grad=False)


def test_max_pool1d_gradient_of_overlapping_windows_sums_on_the_shared_maximum():
    x = ts.tensor([[[0.0, 5.0, 1.0, 2.0]]], requires_grad=True)
    ts.nn.functional.max_pool1d(x, 3, stride=1).sum().backward()  # both windows pick the 5
    assert x.grad.tolist() == [[[0.0, 2.0, 0.0, 0.0]]]


@pytest.mark.parametrize("fn", [
    lambda x: ts.max_pool1d(x, 3, 2, 1, 2, ceil_mode=True),
    lambda x: ts.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: ts.adaptive_avg_pool1d(x, 4),
    lambda x: ts.adaptive_max_pool1d(x, 4),
], ids=["max", "avg", "adaptive_avg", "adaptive_max"])
def test_gradcheck(fn):
    x = ts.tensor(_distinct(4, (2, 3, 9)), dtype=ts.float64, requires_grad=True)
    assert ts.autograd.gradcheck(fn, [x]) is True


@pytest.mark.parametrize("make", [
    lambda nn: nn.MaxPool1d(3), lambda nn: nn.MaxPool1d(3, 2, 1, 2, True, True),
    lambda nn: nn.AvgPool1d(3), lambda nn: nn.AvgPool1d(4, 2, 2, True, False),
    lambda nn: nn.AdaptiveAvgPool1d(5), lambda nn: nn.AdaptiveMaxPool1d(3, return_indices=True),
])
def test_modules_match_torch_with_its_repr(make):
    assert repr(make(ts.nn)) == repr(make(torch.nn))
    compare_module_with_torch(make, arrays=[_distinct(5, (2, 3, 11))])


def test_a_conv_pool_stack_matches_torch():
    """A character CNN's usual block: Conv1d, ReLU, MaxPool1d, then a global pool."""
    def make(nn):
        return nn.Sequential(nn.Conv1d(4, 6, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
                             nn.Conv1d(6, 5, 3), nn.AdaptiveMaxPool1d(1), nn.Flatten())

    compare_module_with_torch(make, arrays=[np.random.default_rng(6).standard_normal((3, 4, 12))])


X = np.ones((2, 4, 10))
BAD_CALLS = [
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x, 0)),
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x, 2, 0)),
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x, 3, padding=2)),
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x, 3, padding=-1)),
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x, 3, dilation=0)),
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x, 11)),
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x[None], 2)),
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x[0, 0], 2)),
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x[:, :, :0], 1)),
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x.long(), 2)),
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x, 2.0)),
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x, (2, 2))),
    ("avg_pool1d", lambda m, x: F(m).avg_pool1d(x, 0)),
    ("avg_pool1d", lambda m, x: F(m).avg_pool1d(x, 2, 0)),
    ("avg_pool1d", lambda m, x: F(m).avg_pool1d(x, 3, padding=2)),
    ("avg_pool1d", lambda m, x: F(m).avg_pool1d(x, 3, padding=-1)),
    ("avg_pool1d", lambda m, x: F(m).avg_pool1d(x, 11)),
    ("avg_pool1d", lambda m, x: F(m).avg_pool1d(x[None], 2)),
    ("avg_pool1d", lambda m, x: F(m).avg_pool1d(x, 2.0)),
    ("adaptive_avg_pool1d", lambda m, x: F(m).adaptive_avg_pool1d(x, -1)),
    ("adaptive_avg_pool1d", lambda m, x: F(m).adaptive_avg_pool1d(x, None)),
    ("adaptive_avg_pool1d", lambda m, x: F(m).adaptive_avg_pool1d(x[None], 2)),
    ("adaptive_avg_pool1d", lambda m, x: F(m).adaptive_avg_pool1d(x[:, :, :0], 2)),
    ("adaptive_max_pool1d", lambda m, x: F(m).adaptive_max_pool1d(x[None], 2)),
    ("adaptive_max_pool1d", lambda m, x: F(m).adaptive_max_pool1d(x.long(), 2)),
    ("max_pool1d", lambda m, x: m.nn.MaxPool1d(0)(x)),
    ("avg_pool1d", lambda m, x: m.nn.AvgPool1d(3, padding=2)(x)),
]


@pytest.mark.parametrize("name, call", BAD_CALLS)
def test_bad_arguments_raise_torchs_exception_type_in_one_line(name, call):
    with pytest.raises(Exception) as theirs:
        call(torch, torch.tensor(X, dtype=torch.float32))
    with pytest.raises(type(theirs.value)) as ours:
        call(ts, ts.tensor(X))
    message = str(ours.value)
    assert message.startswith(f"{name}:") and "\n" not in message, message


def test_avg_pool1d_of_integers_is_refused_where_torch_truncates():
    """(A known difference: torch averages int64 inputs in integers; tinyseq asks for floats.)"""
    with pytest.raises(NotImplementedError, match=r"avg_pool1d: .*\.float\(\)"):
        ts.nn.functional.avg_pool1d(ts.ones(1, 2, 4, dtype=ts.int64), 2)
