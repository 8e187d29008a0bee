"""A tensor prints as PyTorch's does, digit for digit: the element layout (``autograd/printing.py``)
against ``repr(torch.from_numpy(a))`` over drawn shapes, magnitudes and awkward values."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from tests.strategies import MANY
from tinyseq.autograd import printing

torch = pytest.importorskip("torch", reason="the layouts are compared with PyTorch's")


def layout(a):
    """tinyseq's print of ``a`` with no dtype or grad suffix (float32, int64 and bool have none)."""
    return printing.with_suffixes("tensor(" + printing.array_str(a, 7), [], 7)


@st.composite
def printable(draw):
    """float32 arrays of every notation torch picks (whole, fixed, scientific, with nan/inf/-0.),
    int64 and bool arrays, up to 4-d, some past the 1000-element summarizing threshold."""
    kind = draw(st.sampled_from(["float", "whole", "int", "bool", "big"]))
    if kind == "big":
        shape = draw(st.sampled_from([(1001,), (40, 30), (3, 20, 20), (11, 1, 100)]))
        return np.random.default_rng(draw(st.integers(0, 99))).normal(size=shape).astype(np.float32)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5))
    if kind == "int":
        return draw(hnp.arrays(np.int64, shape, elements=st.integers(-10**6, 10**6)))
    if kind == "bool":
        return draw(hnp.arrays(np.bool_, shape))
    scale = 10.0 ** draw(st.integers(-7, 10))
    values = draw(hnp.arrays(np.float64, shape, elements=st.floats(-1, 1) | st.sampled_from(
        [0.0, -0.0, float("nan"), float("inf"), -float("inf")])))
    values = values * scale
    return (np.round(values) if kind == "whole" else values).astype(np.float32)


@MANY
@given(printable())
def test_elements_print_as_in_pytorch(a):
    a = np.asarray(a)
    assert layout(a) == repr(torch.from_numpy(a.copy()))


@pytest.mark.parametrize("options", [dict(precision=2), dict(sci_mode=True), dict(sci_mode=False),
                                     dict(threshold=5, edgeitems=1), dict(linewidth=30),
                                     dict(profile="short"), dict(profile="full")])
def test_set_printoptions_as_in_pytorch(options):
    a = np.random.default_rng(0).normal(size=(4, 1200)).astype(np.float32) * 100
    try:
        printing.set_printoptions(**options)
        torch.set_printoptions(**options)
        assert layout(a) == repr(torch.from_numpy(a))
        assert layout(a[:2, :3]) == repr(torch.from_numpy(a[:2, :3].copy()))
    finally:
        printing.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_a_suffix_too_long_for_the_line_goes_below():
    a = np.arange(14, dtype=np.float32) + 0.5
    text = printing.with_suffixes("tensor(" + printing.array_str(a, 7), ["requires_grad=True"], 7)
    assert text == repr(torch.tensor(a, requires_grad=True))
    assert text.endswith(",\n       requires_grad=True)")


def test_bad_profile_is_one_line():
    with pytest.raises(ValueError, match=r"set_printoptions\(profile='long'\): the profiles are"):
        printing.set_printoptions(profile="long")


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1.5], dtype=m.float64), lambda m: m.tensor([1, 2], dtype=m.int32),
    lambda m: m.zeros(0, 3), lambda m: m.zeros(0, dtype=m.int64), lambda m: m.zeros(2, 0, 1).long(),
    lambda m: m.tensor([[1.5, -2.25], [3.0, 4.0]], requires_grad=True),
    lambda m: m.tensor([0.5, 2.0], requires_grad=True) * 3,
    lambda m: m.arange(30.0, requires_grad=True).exp(),
    lambda m: m.tensor(4.520721), lambda m: m.tensor([True]), lambda m: m.nn.Parameter(m.ones(2)),
], ids=["float64", "int32", "empty-2d", "empty-int", "empty-3d-long", "leaf", "node", "long-node",
        "scalar", "bool", "parameter"])
def test_tensors_print_as_in_pytorch(make):
    import tinyseq as ts

    assert repr(make(ts)).replace("tinyseq.", "torch.") == repr(make(torch))


@pytest.mark.parametrize("options", [dict(precision=-1), dict(precision=2.5), dict(threshold="x"),
                                     dict(edgeitems=True), dict(linewidth=0), dict(sci_mode="on")])
def test_bad_print_options_are_refused_before_anything_changes(options):
    before = repr(printing.OPTIONS)
    with pytest.raises(ValueError, match=r"^set_printoptions: \w+ must be"):
        printing.set_printoptions(**options)
    assert repr(printing.OPTIONS) == before
