"""The rest of the tensor API PyTorch programs call (issue 15), each against torch: operator
methods (``a.add(b, alpha=2)``, ``a.eq(b)``, ...) and their ``ts.NAME`` forms, ``bmm``, ``narrow``,
``flip``/``reversed``, ``swapaxes``, ``contiguous``, ``new_*``, ``unsqueeze_``/``squeeze_``, ``.T``,
and the factories ``empty``, ``randint``, ``randperm``, ``multinomial``, ``LongTensor``, ..."""
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tests.torch_compare import compare_with_torch, torch

rng = np.random.default_rng(15)
A, B = rng.standard_normal((2, 3)), rng.uniform(0.5, 2.0, (2, 3))

# ---- operator methods and their ts.NAME functions -----------------------------------------------
BINARY = [
    ("add", lambda m, a, b: a.add(b)), ("add_alpha", lambda m, a, b: a.add(b, alpha=2.5)),
    ("sub", lambda m, a, b: a.sub(b)), ("sub_alpha", lambda m, a, b: m.sub(a, b, alpha=-3)),
    ("add_fn", lambda m, a, b: m.add(a, b, alpha=0.5)), ("add_number", lambda m, a, b: a.add(2, alpha=3)),
    ("mul", lambda m, a, b: a.mul(b)), ("mul_fn", lambda m, a, b: m.mul(a, 3.0)),
    ("div", lambda m, a, b: a.div(b)), ("div_fn", lambda m, a, b: m.div(a, b)),
    ("pow", lambda m, a, b: b.pow(a)), ("pow_fn", lambda m, a, b: m.pow(b, 2)),
    ("neg", lambda m, a, b: a.neg() + m.neg(b)),
    ("matmul", lambda m, a, b: a.matmul(b.t())), ("matmul_fn", lambda m, a, b: m.matmul(a, b.t())),
]


@pytest.mark.parametrize("name, fn", BINARY, ids=[n for n, _ in BINARY])
def test_operator_methods_match_torch(name, fn):
    compare_with_torch(fn, arrays=(A, B))


@pytest.mark.parametrize("name, fn", BINARY, ids=[n for n, _ in BINARY])
def test_operator_methods_gradcheck(name, fn):
    a, b = (ts.tensor(x, dtype=ts.float64, requires_grad=True) for x in (A, B))
    assert ts.autograd.gradcheck(lambda a, b: fn(ts, a, b), (a, b)) is True


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparison_methods_match_torch(op):
    a, b = np.array([1, 2, 3]), np.array([2, 2, 2])
    for x, y in ((a, b), (a, 2)):
        ours = getattr(ts.tensor(x), op)(y if np.isscalar(y) else ts.tensor(y))
        theirs = getattr(torch.tensor(x), op)(y if np.isscalar(y) else torch.tensor(y))
        assert ours.dtype == np.bool_ and ours.tolist() == theirs.tolist()
        assert getattr(ts, op)(ts.tensor(x), ts.tensor(b)).tolist() == \
            getattr(torch, op)(torch.tensor(x), torch.tensor(b)).tolist()


def test_integer_add_with_alpha():
    assert ts.tensor([1, 2]).add(ts.tensor([1, 1]), alpha=2).tolist() == [3, 4]
    with pytest.raises(RuntimeError, match="add: alpha=0.5 is a float but the operands are int"):
        ts.tensor([1, 2]).add(ts.tensor([1, 1]), alpha=0.5)
    with pytest.raises(RuntimeError):  # torch refuses it too
        torch.tensor([1, 2]).add(torch.tensor([1, 1]), alpha=0.5)


# ---- shape methods ------------------------------------------------------------------------------
X = rng.standard_normal((2, 3, 4))
SHAPES = [
    ("bmm", lambda m, x: m.bmm(x, x.transpose(1, 2))),
    ("bmm_method", lambda m, x: x.bmm(x.transpose(1, 2) * 2)),
    ("narrow", lambda m, x: x.narrow(2, 1, 2)), ("narrow_neg", lambda m, x: m.narrow(x, -1, -3, 2)),
    ("narrow_empty", lambda m, x: x.narrow(1, 3, 0)),
    ("flip", lambda m, x: x.flip(0)), ("flip_dims", lambda m, x: m.flip(x, [0, 2])),
    ("flip_ints", lambda m, x: x.flip(-1, 1)), ("reversed", lambda m, x: reversed(x)),
    ("swapaxes", lambda m, x: x.swapaxes(0, 2)), ("swapdims", lambda m, x: m.swapdims(x, 1, -1)),
    ("contiguous", lambda m, x: x.transpose(0, 1).contiguous()),
    ("contiguous_self", lambda m, x: x.contiguous() * 1),
    ("T_2d", lambda m, x: x[0].T),
]


@pytest.mark.parametrize("name, fn", SHAPES, ids=[n for n, _ in SHAPES])
def test_shape_methods_match_torch(name, fn):
    compare_with_torch(fn, arrays=(X,))


@pytest.mark.parametrize("name, fn", SHAPES, ids=[n for n, _ in SHAPES])
def test_shape_methods_gradcheck(name, fn):
    x = ts.tensor(X, dtype=ts.float64, requires_grad=True)
    assert ts.autograd.gradcheck(lambda x: fn(ts, x), (x,)) is True


def test_T_reverses_all_dims_with_torchs_warning():
    for shape in [(), (3,), (2, 3, 4)]:
        with pytest.warns(UserWarning, match="deprecated"):
            ours = ts.ones(shape).T
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert ours.shape == torch.ones(shape).T.shape
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ts.ones(2, 3).T.shape == (3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_with_torch(lambda m, x: x.T * 2, arrays=(X,), strict=False)


def test_contiguous_and_is_contiguous_follow_torch():
    for fn in (lambda x: x, lambda x: x.transpose(0, 1), lambda x: x.flip(0), lambda x: x[:, 1],
               lambda x: x.transpose(0, 1).contiguous(), lambda x: x.narrow(0, 0, 1)):
        assert fn(ts.tensor(X)).is_contiguous() == fn(torch.tensor(X)).is_contiguous()
    x = ts.tensor(X, requires_grad=True)
    assert x.contiguous() is x
    assert x.transpose(0, 1).contiguous().grad_fn.name == "clone"


def test_reversed_of_a_0d_tensor_is_itself():
    x = ts.tensor(3)
    assert reversed(x) is x
    assert [int(v) for v in reversed(ts.arange(3))] == [2, 1, 0]


SHAPE_ERRORS = [
    (lambda m: m.bmm(m.ones(2, 3), m.ones(2, 3, 4)), RuntimeError, "bmm: input must be a 3-D"),
    (lambda m: m.bmm(m.ones(2, 3, 4), m.ones(3, 4, 4)), RuntimeError, r"bmm: shapes .* do not match"),
    (lambda m: m.bmm(m.ones(2, 3, 4), m.ones(2, 3, 4)), RuntimeError, r"bmm: shapes .* do not match"),
    (lambda m: m.ones(5).narrow(0, 6, 1), IndexError, r"narrow: start 6 is out of range"),
    (lambda m: m.ones(5).narrow(0, 2, 5), RuntimeError, r"narrow: start \(2\) \+ length \(5\)"),
    (lambda m: m.ones(5).narrow(1, 0, 1), IndexError, "narrow: dim 1 is out of range"),
    (lambda m: m.ones(3).flip(3), IndexError, "flip: dim 3 is out of range"),
    (lambda m: m.ones(3).flip(0, 0), RuntimeError, "flip: dims .* more than once"),
]


# ---- in-place shape changes ---------------------------------------------------------------------
def test_unsqueeze_and_squeeze_in_place_outside_a_graph():
    for lib in (ts, torch):
        x = lib.ones(3)
        assert x.unsqueeze_(0) is x and tuple(x.shape) == (1, 3)
        x.squeeze_()
        assert tuple(x.shape) == (3,)
        x.unsqueeze_(-1).squeeze_(1)
        assert tuple(x.shape) == (3,)


def test_unsqueeze_in_place_in_a_graph_rebases_as_torch():
    def fn(m, a):
        y = a * 2
        y.unsqueeze_(0)
        y.squeeze_(0).unsqueeze_(1)
        return y * a[:, None]
    compare_with_torch(fn, arrays=(A[0],))
    a = ts.tensor(A[0], dtype=ts.float64, requires_grad=True)
    assert ts.autograd.gradcheck(lambda a: fn(ts, a), (a,)) is True


def test_unsqueeze_in_place_on_a_leaf_that_requires_grad_raises():
    for lib in (ts, torch):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            x.unsqueeze_(0)
        with lib.no_grad():
            x.unsqueeze_(0)
        assert tuple(x.shape) == (1, 3)


# ---- new_* --------------------------------------------------------------------------------------
NEW = [
    lambda x: x.new_zeros(2, 3), lambda x: x.new_zeros((2,)), lambda x: x.new_ones(2, 1),
    lambda x: x.new_full((2, 2), 1.5), lambda x: x.new_tensor([1, 2]),
    lambda x: x.new_tensor([[1.5]]), lambda x: x.new_ones(2, dtype=x.new_zeros(0).dtype),
    lambda x: x.new_empty(3).shape,
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("k", range(len(NEW)))
def test_new_tensors_take_this_tensors_dtype(k, dtype):
    ours, theirs = NEW[k](ts.ones(2, dtype=getattr(ts, dtype))), \
        NEW[k](torch.ones(2, dtype=getattr(torch, dtype)))
    if isinstance(theirs, torch.Size):
        assert ours == tuple(theirs)
        return
    assert ours.dtype == getattr(ts, dtype) and ours.tolist() == theirs.tolist()
    assert not ours.requires_grad and ours.grad_fn is None


def test_new_tensor_requires_grad_and_device():
    x = ts.ones(2, requires_grad=True)
    assert x.new_zeros(2, requires_grad=True).requires_grad
    assert not x.new_tensor([1.0]).requires_grad
    assert x.new_ones(1, device="cpu").tolist() == [1.0]
    with pytest.raises(RuntimeError, match="cuda"):
        x.new_ones(1, device="cuda")


# ---- factories ----------------------------------------------------------------------------------
def test_empty_randint_randperm():
    assert ts.empty(2, 3).shape == (2, 3) and ts.empty((2,)).dtype == ts.float32
    assert ts.empty(2, dtype=ts.int64).dtype == torch.empty(2, dtype=torch.int64).numpy().dtype
    ts.manual_seed(0)
    r = ts.randint(3, 7, (1000,))
    assert r.dtype == ts.int64 and r.shape == (1000,) and set(r.tolist()) == {3, 4, 5, 6}
    assert set(ts.randint(2, (50,)).tolist()) == {0, 1}
    assert ts.randint(0, 5, size=(2, 2)).shape == (2, 2)
    assert ts.randint(0, 5, (3,), dtype=ts.float32).dtype == ts.float32
    p = ts.randperm(10)
    assert p.dtype == ts.int64 and sorted(p.tolist()) == list(range(10))
    assert ts.randperm(0).shape == (0,)
    ts.manual_seed(1)
    first = ts.randperm(20).tolist(), ts.randint(100, (5,)).tolist()
    ts.manual_seed(1)
    assert (ts.randperm(20).tolist(), ts.randint(100, (5,)).tolist()) == first


FACTORY_ERRORS = [
    (lambda m: m.randint(5, 2, (3,)), RuntimeError, r"randint: low \(5\) must be less"),
    (lambda m: m.multinomial(m.tensor([1.0, 1.0]), 3), RuntimeError, "without replacement"),
    (lambda m: m.multinomial(m.tensor([-1.0, 1.0]), 1), RuntimeError, "< 0"),
    (lambda m: m.multinomial(m.tensor([0.0, 0.0]), 1), RuntimeError, "sum to 0"),
    (lambda m: m.multinomial(m.tensor([[[1.0]]]), 1), RuntimeError, "1 or 2 dims"),
]


@pytest.mark.parametrize("make, kind, pattern", SHAPE_ERRORS + FACTORY_ERRORS)
def test_errors_as_torch(make, kind, pattern):
    with pytest.raises(kind, match=pattern):
        make(ts)
    with pytest.raises(kind):
        make(torch)


def test_randint_needs_a_size():
    with pytest.raises(TypeError, match="randint: give"):
        ts.randint(5)


def test_multinomial_draws_as_torch_in_distribution():
    ts.manual_seed(0)
    probs = ts.tensor([0.1, 0.0, 0.6, 0.3])
    draws = ts.multinomial(probs, 20000, replacement=True)
    assert draws.dtype == ts.int64 and draws.shape == (20000,)
    freq = np.bincount(draws.numpy(), minlength=4) / 20000
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.6, 0.3], atol=0.02)
    rows = probs.expand(5, 4).multinomial(3)  # the method, 2-D, without replacement
    assert rows.shape == (5, 3) and all(len(set(r)) == 3 and 1 not in r for r in rows.tolist())
    assert ts.multinomial(ts.tensor([1.0, 0.0]), 2).tolist() == [0, 1]  # zero weights last
    unnormalised = ts.tensor([[0.0, 5.0], [2.0, 0.0]])
    assert ts.multinomial(unnormalised, 1).tolist() == \
        torch.multinomial(torch.tensor([[0.0, 5.0], [2.0, 0.0]]), 1).tolist() == [[1], [0]]


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
                                  "BoolTensor"])
@pytest.mark.parametrize("args", [([1, 0, 2],), ([[1.0], [0.0]],), (2, 3), ()])
def test_legacy_typed_constructors_match_torch(name, args):
    ours, theirs = getattr(ts, name)(*args), getattr(torch, name)(*args)
    assert ours.shape == tuple(theirs.shape)
    assert np.dtype(ours.dtype) == theirs.numpy().dtype
    if args and not isinstance(args[0], int):
        assert ours.tolist() == theirs.tolist()


def test_Tensor_of_a_list_is_float32_and_still_the_class():
    for data in ([0], [[1, 2]], (True, False), [1.5]):
        ours = ts.Tensor(data)
        assert ours.dtype == ts.float32 == torch.Tensor(data).numpy().dtype
        assert ours.tolist() == torch.Tensor(data).tolist()
    assert ts.Tensor(np.arange(3)).dtype == ts.int64  # an array keeps its dtype, inside tinyseq
    assert isinstance(ts.tensor([1]), ts.Tensor) and isinstance(ts.LongTensor([1]), ts.Tensor)
    loss = ts.Tensor([0])
    loss += ts.tensor([2.0], requires_grad=True) * 3  # the tutorials' loss accumulator
    loss.backward()


def test_review_mends_new_tensor_randint_narrow_and_set_default_dtype():
    x64 = ts.zeros(1, dtype=ts.float64)
    assert x64.new_tensor([0.1]).tolist() == torch.zeros(1, dtype=torch.float64).new_tensor(
        [0.1]).tolist()  # not rounded through float32 first
    with pytest.raises(TypeError, match=r"^randint: give \(high, size\)"):
        ts.randint(3, 10)  # torch: size must be a tuple; never 10 draws from [0, 3)
    with pytest.raises(TypeError, match=r"^narrow: start and length must be ints, got 1.7"):
        ts.ones(5).narrow(0, 1.7, 2)
    ts.set_default_dtype(np.dtype("float32"))  # a dtype object, as well as ts.float32
    with pytest.raises(TypeError, match="only floating dtypes"):
        ts.set_default_dtype("float32")


@pytest.mark.parametrize("change", [
    lambda y: y.t_(), lambda y: y.transpose_(0, 1), lambda y: y.t_().transpose_(1, 0).t_(),
], ids=["t_", "transpose_", "chain"])
def test_in_place_transposes_rebase_the_graph_as_torch(change):
    def program(m):
        x = m.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        y = x * 1
        out = change(y)
        assert out is y
        (y * m.tensor(np.arange(6.0).reshape(y.shape[0], y.shape[1]))).sum().backward()
        return y.detach().numpy(), x.grad.numpy()

    for mine, theirs in zip(program(ts), program(torch)):
        np.testing.assert_array_equal(mine, theirs)


def test_half_is_float16_as_in_torch():
    x = ts.ones(3, dtype=ts.float16, requires_grad=True)
    (x * 2).exp().sum().backward()
    assert ts.half is ts.float16 and x.grad.dtype == ts.float16 == np.float16
    assert repr(ts.ones(2).half()) == repr(torch.ones(2).half()).replace("torch", "tinyseq")
    np.testing.assert_array_equal(x.grad.numpy(), torch.full((3,), 2.0).exp().half().mul(2).numpy())


@pytest.mark.parametrize("join", [
    lambda m: m.cat([m.tensor([1, 2]), m.tensor([1.5])]),
    lambda m: m.stack([m.tensor([1]), m.tensor([1.5])]),
    lambda m: m.cat([m.tensor([True]), m.tensor([2], dtype=m.int32)]),
    lambda m: m.cat([m.tensor([1.5]), m.tensor([2.5], dtype=m.float64)]),
    lambda m: m.tensor([1, 2]).clamp(m.tensor([0.5]), None),
    lambda m: m.tensor([1.0, 2.0]).clamp(max=m.tensor([1.5], dtype=m.float64)),
], ids=["cat int+float32", "stack", "cat bool+int32", "cat float32+float64", "clamp int",
        "clamp float64 bound"])
def test_joined_tensors_take_pytorchs_dtype(join):
    ours, theirs = join(ts), join(torch)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_tensor_is_never_equal_to_none_as_in_torch():
    t = ts.tensor([1.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711  (the operators themselves)
    assert (torch.tensor([1.0]) == None) is False  # noqa: E711


@pytest.mark.parametrize("call, error", [
    (lambda m: m.tensor([1, 2]).mean(), RuntimeError),
    (lambda m: m.tensor([[1.0, 5.0]]).max(keepdim=True), TypeError),
], ids=["mean of ints", "max keepdim without dim"])
def test_what_torch_refuses_is_refused_in_one_line(call, error):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error) as info:
        call(ts)
    assert "\n" not in str(info.value)


def test_what_the_fuzzer_found_is_torchs_now():
    """erf and gelu of a 0-d tensor ran into a Python float; elu(-0.0) lost its sign; addmm took an
    input that grows the product's shape; normalize lost a NaN norm; var over an empty dim let
    numpy's warning out."""
    F, tF = ts.nn.functional, torch.nn.functional
    assert ts.tensor(0.5).erf().item() == pytest.approx(torch.tensor(0.5).erf().item())
    assert F.gelu(ts.tensor(0.5)).item() == pytest.approx(tF.gelu(torch.tensor(0.5)).item())
    assert np.signbit(F.elu(ts.tensor([-0.0])).numpy()[0])
    with pytest.raises(RuntimeError, match=r"addmm: input of shape \(1, 1, 1\) does not broadcast"):
        ts.addmm(ts.ones(1, 1, 1), ts.ones(1, 1), ts.ones(1, 1))
    with pytest.raises(RuntimeError):
        torch.addmm(torch.ones(1, 1, 1), torch.ones(1, 1), torch.ones(1, 1))
    rows = [[1.0, float("nan")], [3.0, 4.0]]
    np.testing.assert_array_equal(F.normalize(ts.tensor(rows)).numpy(),
                                  tF.normalize(torch.tensor(rows)).numpy())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert np.isnan(ts.ones(0, 3).var(0).numpy()).all()
    assert [str(w.message)[:5] for w in caught] == ["var()"]


def test_a_zero_dim_tensor_is_typed_like_a_number_next_to_a_dimensioned_one():
    """``loss * scale`` with a float64 ``scale`` stays float32, as in torch (numpy's float64
    would quietly turn the rest of a float32 model's step into float64)."""
    cases = [
        lambda m: m.ones(3) * m.tensor(2.0, dtype=m.float64),
        lambda m: m.ones(3, dtype=m.int32) + m.tensor(1),
        lambda m: m.ones(3, dtype=m.uint8) + m.tensor(300),
        lambda m: m.ones(3, dtype=m.int32) + m.tensor(1.5, dtype=m.float64),  # (higher category)
        lambda m: m.tensor(1.5) + m.tensor(2.5, dtype=m.float64),  # (both 0-d: numpy's rule)
        lambda m: m.where(m.ones(2) > 0, m.ones(2), m.tensor(0.5, dtype=m.float64)),
    ]
    for case in cases:
        ours, theirs = case(ts), case(torch)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    scale = ts.tensor(2.0, dtype=ts.float64, requires_grad=True)
    (ts.ones(3, requires_grad=True) * scale).sum().backward()
    assert scale.grad.item() == 3.0 and scale.grad.dtype == ts.float64


def test_a_zero_dim_tensor_formats_as_its_number_and_size_refuses_as_torch():
    loss = (ts.ones(3, requires_grad=True) * 2).mean()
    assert f"{loss:.4f}" == f"{(torch.ones(3) * 2).mean():.4f}" == "2.0000"
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{ts.ones(2):.2f}"
    with pytest.raises(IndexError, match=r"size: dimension out of range .*\[-2, 1\], but got 5"):
        ts.zeros(2, 3).size(5)
    with pytest.raises(IndexError, match="no dimensions"):
        ts.tensor(1.0).size(0)
    assert ts.zeros(2, 3).size(-2) == 2


def test_matmul_names_the_batch_dims_when_they_are_what_does_not_fit():
    with pytest.raises(ts.ShapeError, match=r"batch dims \(2,\) and \(3,\) do not broadcast"):
        ts.ones(2, 4, 8) @ ts.ones(3, 8, 5)
    with pytest.raises(RuntimeError):
        torch.ones(2, 4, 8) @ torch.ones(3, 8, 5)
