"""F.scaled_dot_product_attention and nn.MultiheadAttention against PyTorch: values and every
gradient (inputs and parameters by name, from torch's weights), over masks of each kind and
convention, batch_first both ways, self- and cross-attention, need_weights variants; gradcheck in
float64; PyTorch's initialisation; bad arguments refused with PyTorch's exception types."""
import contextlib
import itertools
import math

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn
from tests.torch_compare import compare_module_with_torch, compare_with_torch, torch

RNG = np.random.default_rng(0)

pytestmark = pytest.mark.usefixtures("torch_generator_untouched")  # (tests/nn/conftest.py)

Q, K, V = (RNG.standard_normal(s) for s in ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 3)))
BOOL_MASK = RNG.random((5, 6)) > 0.4
BOOL_MASK[:, 0] = True  # (every row sees something: no row is masked everywhere)


def sdpa(**options):
    return lambda m, *t: m.nn.functional.scaled_dot_product_attention(*t, **options)


# ---- scaled_dot_product_attention -------------------------------------------------------------
@pytest.mark.parametrize("options", [{}, dict(is_causal=True), dict(scale=0.3),
                                     dict(scale=0.3, is_causal=True)], ids=str)
def test_sdpa_matches_pytorch(options):
    compare_with_torch(sdpa(**options), arrays=[Q, K, V])


@pytest.mark.parametrize("shape", [(5, 6), (3, 5, 6), (2, 1, 5, 6), (1, 6)], ids=str)
def test_sdpa_bool_mask_takes_part_where_true_and_broadcasts(shape):
    mask = RNG.random(shape) > 0.3
    mask[..., 0] = True
    compare_with_torch(lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=m.from_numpy(mask)), arrays=[Q, K, V])


def test_sdpa_float_mask_is_added_and_gets_its_gradient():
    float_mask = RNG.standard_normal((3, 5, 6))
    compare_with_torch(lambda m, q, k, v, f: m.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=f), arrays=[Q, K, V, float_mask])


def test_sdpa_bool_mask_is_the_float_mask_of_minus_inf():
    q, k, v = (ts.tensor(a, dtype=ts.float64) for a in (Q, K, V))
    F = ts.nn.functional
    as_float = ts.tensor(np.where(BOOL_MASK, 0.0, -np.inf), dtype=ts.float64)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, ts.tensor(BOOL_MASK)),
                               F.scaled_dot_product_attention(q, k, v, as_float), atol=1e-12)


@pytest.mark.parametrize("dtype", ["bool", "float"])
def test_sdpa_a_row_masked_everywhere_gives_zeros_and_no_gradient(dtype):
    mask = BOOL_MASK.copy()
    mask[2] = False
    attn = mask if dtype == "bool" else np.where(mask, 0.0, -np.inf)
    ours, _ = compare_with_torch(lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=m.from_numpy(attn)), arrays=[Q, K, V])
    assert not np.any(ours[0].numpy()[..., 2, :])


def test_sdpa_causal_with_more_keys_is_the_top_left_triangle():
    ours, _ = compare_with_torch(sdpa(is_causal=True), arrays=[Q, K, V])
    q, k, v = (ts.tensor(a, dtype=ts.float64) for a in (Q, K, V))
    top_left = ts.tensor(np.tril(np.ones((5, 6), bool)))
    np.testing.assert_allclose(
        ours[0].numpy(), ts.nn.functional.scaled_dot_product_attention(q, k, v, top_left))


def test_sdpa_grouped_query_attention_shares_key_heads():
    q, kv = RNG.standard_normal((2, 4, 3, 2)), RNG.standard_normal((2, 2, 5, 2))
    compare_with_torch(sdpa(enable_gqa=True), arrays=[q, kv, kv])


def test_sdpa_unbatched_and_float32():
    compare_with_torch(sdpa(), arrays=[Q[0, 0], K[0, 0], V[0, 0]], dtype=np.float32)


def test_sdpa_drops_weights_whatever_the_mode():
    q, k, v = (ts.tensor(a, dtype=ts.float64) for a in (Q, K, V))
    F = ts.nn.functional
    assert not np.any(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy())
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert not np.allclose(dropped.numpy(), F.scaled_dot_product_attention(q, k, v).numpy())


@pytest.mark.parametrize("options", [{}, dict(is_causal=True), dict(mask=True)], ids=str)
def test_sdpa_gradcheck(options):
    mask = ts.tensor(BOOL_MASK[:3, :4]) if options.pop("mask", False) else None
    inputs = [ts.tensor(a[0, 0, :n], dtype=ts.float64, requires_grad=True)
              for a, n in ((Q, 3), (K, 4), (V, 4))]
    assert ts.autograd.gradcheck(
        lambda q, k, v: ts.nn.functional.scaled_dot_product_attention(q, k, v, mask, **options),
        inputs)


BAD_SDPA = {
    "mask and is_causal": (lambda m, q, k, v: dict(attn_mask=m.ones(5, 6, dtype=m.bool),
                                                    is_causal=True)),
    "int mask": lambda m, q, k, v: dict(attn_mask=m.ones(5, 6, dtype=m.int64)),
    "dropout 1.5": lambda m, q, k, v: dict(dropout_p=1.5),
}


@pytest.mark.parametrize("case", BAD_SDPA)
def test_sdpa_bad_arguments_raise_pytorchs_exception(case):
    def call(m):
        q, k, v = (m.from_numpy(a) for a in (Q, K, V))
        return m.nn.functional.scaled_dot_product_attention(q, k, v, **BAD_SDPA[case](m, q, k, v))
    _same_refusal(call)


@pytest.mark.parametrize("case", ["E differs", "S differs", "dtypes differ", "1-D",
                                  "gqa heads do not divide"])
def test_sdpa_bad_shapes_raise_pytorchs_exception(case):
    def call(m):
        q, k, v = (m.from_numpy(a) for a in (Q, K, V))
        if case == "E differs":
            k = k[..., :3]
        elif case == "S differs":
            v = v[..., :4, :]
        elif case == "dtypes differ":
            k = k.float()
        elif case == "1-D":
            q, k, v = q[0, 0, 0], k[0, 0, 0], v[0, 0, 0]
        else:
            q = m.from_numpy(np.zeros((2, 5, 5, 4)))
            return m.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)
        return m.nn.functional.scaled_dot_product_attention(q, k, v)
    _same_refusal(call)


def _same_refusal(call):
    """``call(torch)`` raises; ``call(ts)`` raises an exception of the same type, one line."""
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(theirs.type) as ours:
        call(ts)
    assert "\n" not in str(ours.value), str(ours.value)


# ---- MultiheadAttention --------------------------------------------------------------------------
X, MEMORY = RNG.standard_normal((5, 2, 8)), RNG.standard_normal((6, 2, 8))
PADDING = np.zeros((2, 6), bool)
PADDING[1, 4:] = True
CAUSAL = np.triu(np.ones((5, 6), bool), 1)
MHA_GRID = list(itertools.product([True, False], [True, False], [False, True], ["self", "cross"],
                                  ["none", "padding", "attn", "both", "float", "causal"]))


def _masks(m, kind, cross):
    """The keyword masks of ``kind`` (MultiheadAttention's convention: True masks out)."""
    s = 6 if cross else 5
    padding, causal = m.from_numpy(PADDING[:, :s]), m.from_numpy(CAUSAL[:, :s])
    if kind == "float":  # both as float masks, and one of them 3-D (N·H, L, S)
        float_causal = m.zeros(5, s).masked_fill(causal, float("-inf"))
        return dict(key_padding_mask=m.zeros(2, s).masked_fill(padding, -1e9),
                    attn_mask=float_causal.expand(4, 5, s))
    return {"none": {}, "padding": dict(key_padding_mask=padding),
            "attn": dict(attn_mask=causal), "causal": dict(attn_mask=causal, is_causal=True),
            "both": dict(key_padding_mask=padding, attn_mask=causal)}[kind]


@pytest.mark.parametrize("need_weights,average,batch_first,attention,masks", MHA_GRID,
                         ids=["-".join(map(str, c)) for c in MHA_GRID])
def test_multihead_attention_matches_pytorch(need_weights, average, batch_first, attention,
                                             masks):
    cross = attention == "cross"
    arrays = [X, MEMORY] if cross else [X]
    if batch_first:
        arrays = [a.transpose(1, 0, 2) for a in arrays]

    def forward(m, module, query, memory=None):
        key = query if memory is None else memory  # self-attention: the same tensor three times
        out, weights = module(query, key, key, need_weights=need_weights,
                              average_attn_weights=average, **_masks(m, masks, cross))
        assert (weights is None) != need_weights
        return (out, weights) if need_weights else out

    _, _, ours, _ = compare_module_with_torch(
        lambda nn: nn.MultiheadAttention(8, 2, batch_first=batch_first), arrays, forward=forward)
    if need_weights:
        assert ours[1].shape == ((2, 5, 6 if cross else 5) if average else
                                 (2, 2, 5, 6 if cross else 5))


@pytest.mark.parametrize("options", [dict(kdim=3, vdim=5), dict(bias=False),
                                     dict(add_bias_kv=True), dict(add_zero_attn=True),
                                     dict(add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=5)],
                         ids=str)
@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_variants_match_pytorch(options, need_weights):
    key = RNG.standard_normal((6, 2, options.get("kdim", 8)))
    value = RNG.standard_normal((6, 2, options.get("vdim", 8)))

    def forward(m, module, q, k, v):
        out, weights = module(q, k, v, need_weights=need_weights, **_masks(m, "both", True))
        return (out, weights) if need_weights else out
    compare_module_with_torch(lambda nn: nn.MultiheadAttention(8, 2, **options), [X, key, value],
                              forward=forward)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_unbatched(need_weights):
    def forward(m, module, q, k):
        out, weights = module(q, k, k, key_padding_mask=m.from_numpy(PADDING[1]),
                              attn_mask=m.from_numpy(CAUSAL), need_weights=need_weights,
                              average_attn_weights=False)
        return (out, weights) if need_weights else out
    compare_module_with_torch(lambda nn: nn.MultiheadAttention(8, 4), [X[:, 0], MEMORY[:, 1]],
                              forward=forward)


def test_multihead_attention_in_eval_mode_does_not_drop():
    def forward(m, module, x):
        return module.eval()(x, x, x)
    compare_module_with_torch(lambda nn: nn.MultiheadAttention(8, 2, dropout=0.5), [X],
                              forward=forward)


def test_a_batch_padded_everywhere_gives_the_bias_without_weights():
    """scaled_dot_product_attention's zeros: the output is out_proj's bias, no NaN anywhere."""
    padded = np.zeros((2, 5), bool)
    padded[0] = True

    def forward(m, module, x):
        return module(x, x, x, key_padding_mask=m.from_numpy(padded), need_weights=False)[0]
    ours, _, out, _ = compare_module_with_torch(lambda nn: nn.MultiheadAttention(8, 2), [X],
                                                forward=forward)
    np.testing.assert_array_equal(out[0].numpy()[:, 0], np.broadcast_to(
        ours.out_proj.bias.numpy(), (5, 8)))


def test_a_batch_padded_everywhere_is_nan_with_weights_as_in_pytorch():
    padded = np.zeros((2, 5), bool)
    padded[0] = True
    torch.manual_seed(0)
    theirs, ours = torch.nn.MultiheadAttention(8, 2), nn.MultiheadAttention(8, 2)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = X.astype(np.float32)
    with np.errstate(invalid="ignore"):
        out, weights = ours(*[ts.tensor(x)] * 3, key_padding_mask=ts.tensor(padded))
    ref, ref_weights = theirs(*[torch.from_numpy(x)] * 3, key_padding_mask=torch.from_numpy(padded))
    assert np.isnan(out.numpy()[:, 0]).all() and np.isnan(weights.numpy()[0]).all()
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights.numpy(), ref_weights.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_parameters_names_shapes_and_initialisation_are_pytorchs():
    torch.manual_seed(0)
    for options in ({}, dict(kdim=3, vdim=5), dict(bias=False), dict(add_bias_kv=True)):
        ours, theirs = nn.MultiheadAttention(64, 4, **options), torch.nn.MultiheadAttention(
            64, 4, **options)
        assert [(k, p.shape) for k, p in ours.named_parameters()] == [
            (k, tuple(p.shape)) for k, p in theirs.named_parameters()]
        assert repr(ours).replace(", inplace=False", "") == repr(theirs)
    m = nn.MultiheadAttention(64, 4)
    bound = math.sqrt(6 / (64 + 3 * 64))  # Xavier-uniform on (3E, E)
    w = m.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert not np.any(m.in_proj_bias.numpy()) and not np.any(m.out_proj.bias.numpy())
    assert np.abs(m.out_proj.weight.numpy()).max() <= 1 / 8  # Linear's U(-1/√E, 1/√E)


def test_multihead_attention_gradcheck_in_float64():
    """Inputs and every parameter, through both paths (with and without weights) and a mask."""
    m = nn.MultiheadAttention(4, 2, kdim=3, vdim=2).double()
    names = [k for k, _ in m.named_parameters()]
    x, k, v = (ts.tensor(RNG.standard_normal(s), dtype=ts.float64, requires_grad=True)
               for s in ((3, 1, 4), (2, 1, 3), (2, 1, 2)))
    mask = ts.tensor([[False, True], [False, False], [True, False]])

    def attend(x, k, v, *params, need_weights=True):
        with _parameters(m, dict(zip(names, params))):
            out, weights = m(x, k, v, attn_mask=mask, need_weights=need_weights)
        return (out, weights) if need_weights else out
    params = [ts.tensor(p.numpy(), requires_grad=True) for p in m.parameters()]
    assert ts.autograd.gradcheck(attend, [x, k, v, *params])
    assert ts.autograd.gradcheck(lambda *a: attend(*a, need_weights=False), [x, k, v, *params])


@contextlib.contextmanager
def _parameters(module, values):
    """``module`` computing with ``values`` (dotted name -> Tensor) in place of its parameters
    (as torch.func.functional_call), so that gradcheck can vary them."""
    owners = dict(module.named_modules())
    slots = [(owners[k.rpartition(".")[0]], k.rpartition(".")[2], v) for k, v in values.items()]
    saved = [(owner, name, owner._parameters[name]) for owner, name, _ in slots]
    for owner, name, value in slots:
        owner._parameters[name] = value
    try:
        yield
    finally:
        for owner, name, value in saved:
            owner._parameters[name] = value


BAD_MHA = {
    "heads do not divide": lambda m: m.nn.MultiheadAttention(6, 4),
    "zero heads": lambda m: m.nn.MultiheadAttention(6, 0),
    "4-D query": lambda m: _mha(m)(m.zeros(1, 5, 2, 8), m.zeros(1, 5, 2, 8), m.zeros(1, 5, 2, 8)),
    "2-D key for 3-D query": lambda m: _mha(m)(m.zeros(5, 2, 8), m.zeros(5, 8), m.zeros(5, 8)),
    "wrong embed dim": lambda m: _mha(m)(m.zeros(5, 2, 6), m.zeros(5, 2, 6), m.zeros(5, 2, 6)),
    "key and value differ": lambda m: _mha(m)(m.zeros(5, 2, 8), m.zeros(5, 2, 8),
                                              m.zeros(4, 2, 8)),
    "int mask": lambda m: _mha(m)(*[m.zeros(5, 2, 8)] * 3, attn_mask=m.zeros(5, 5).long()),
    "2-D mask of the wrong shape": lambda m: _mha(m)(*[m.zeros(5, 2, 8)] * 3,
                                                     attn_mask=m.zeros(4, 5)),
    "3-D mask of the wrong shape": lambda m: _mha(m)(*[m.zeros(5, 2, 8)] * 3,
                                                     attn_mask=m.zeros(2, 5, 5)),
    "padding of the wrong shape": lambda m: _mha(m)(*[m.zeros(5, 2, 8)] * 3,
                                                    key_padding_mask=m.zeros(2, 4).bool()),
    "is_causal without a mask": lambda m: _mha(m)(*[m.zeros(5, 2, 8)] * 3, is_causal=True),
}


def _mha(m):
    return m.nn.MultiheadAttention(8, 2)


@pytest.mark.parametrize("case", BAD_MHA)
def test_multihead_attention_bad_arguments_raise_pytorchs_exception(case):
    _same_refusal(BAD_MHA[case])


def test_mismatched_mask_types_warn_as_pytorch():
    m, x = nn.MultiheadAttention(8, 2), ts.tensor(X, dtype=ts.float32)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        m(x, x, x, key_padding_mask=ts.tensor(PADDING[:, :5]), attn_mask=ts.zeros(5, 5))
