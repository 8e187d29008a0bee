"""The Transformer layers against PyTorch from the same weights (dropout 0, and in eval mode):
values and every gradient over batch_first, norm_first, activations, bias and masks of each kind;
parameter names; deep-copied layers; causal masks; PyTorch's inference path with padding;
gradcheck; bad arguments with PyTorch's exception types."""
import itertools
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import nn
from tests.torch_compare import compare_module_with_torch, torch

RNG = np.random.default_rng(1)

pytestmark = pytest.mark.usefixtures("torch_generator_untouched")  # (tests/nn/conftest.py)

SRC, TGT = RNG.standard_normal((5, 2, 8)), RNG.standard_normal((4, 2, 8))
SRC_PADDING = np.zeros((2, 5), bool)
SRC_PADDING[1, 3:] = True
TGT_PADDING = np.zeros((2, 4), bool)
TGT_PADDING[0, 3:] = True


@pytest.fixture(autouse=True)
def _quiet():
    """(torch warns that its nested-tensor inference path is off for most layers here)"""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="enable_nested_tensor is True")
        warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors")
        yield


def _first(batch_first, *arrays):
    return [a.transpose(1, 0, 2) if batch_first else a for a in arrays]


ENCODER_GRID = list(itertools.product([False, True], [False, True], ["relu", "gelu"],
                                      ["none", "padding", "causal", "both", "float"]))


@pytest.mark.parametrize("batch_first,norm_first,activation,masks", ENCODER_GRID,
                         ids=["-".join(map(str, c)) for c in ENCODER_GRID])
def test_encoder_matches_pytorch(batch_first, norm_first, activation, masks):
    def make(nn):
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=activation,
                                           batch_first=batch_first, norm_first=norm_first)
        return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))

    def forward(m, encoder, src):
        padding = m.from_numpy(SRC_PADDING)
        causal = m.nn.Transformer.generate_square_subsequent_mask(5)
        kw = {"none": {}, "padding": dict(src_key_padding_mask=padding),
              "causal": dict(mask=causal, is_causal=True),
              "both": dict(mask=causal.isinf(), src_key_padding_mask=padding),
              "float": dict(mask=causal, src_key_padding_mask=m.zeros(2, 5).masked_fill(
                  padding, float("-inf")))}[masks]
        return encoder(src, **kw)

    ours, theirs, *_ = compare_module_with_torch(make, _first(batch_first, SRC), forward=forward)
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("options", [dict(bias=False), dict(activation=torch.nn.functional.silu),
                                     dict(layer_norm_eps=1e-2, dim_feedforward=4)], ids=str)
def test_encoder_layer_options_match_pytorch(options):
    def make(nn):
        opts = dict(options)
        if "activation" in opts:  # the same callable on each side
            opts["activation"] = nn.functional.silu
        return nn.TransformerEncoderLayer(8, 4, dropout=0.0, **{"dim_feedforward": 16, **opts})
    compare_module_with_torch(make, [SRC], forward=lambda m, layer, x: layer(
        x, src_key_padding_mask=m.from_numpy(SRC_PADDING)))


def test_unbatched_encoder_layer_matches_pytorch():
    compare_module_with_torch(lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
                              [SRC[:, 0]])


@pytest.mark.parametrize("batch_first,norm_first", itertools.product([False, True], repeat=2))
def test_decoder_and_transformer_match_pytorch(batch_first, norm_first):
    def forward(m, model, src, tgt):
        padding = m.from_numpy(SRC_PADDING)
        # (a bool causal mask, as the bool padding)
        causal = m.nn.Transformer.generate_square_subsequent_mask(4).isinf()
        return model(src, tgt, tgt_mask=causal,
                     src_key_padding_mask=padding, memory_key_padding_mask=padding,
                     tgt_key_padding_mask=m.from_numpy(TGT_PADDING))

    ours, theirs, *_ = compare_module_with_torch(
        lambda nn: nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, batch_first=batch_first,
                                  norm_first=norm_first),
        _first(batch_first, SRC, TGT), forward=forward)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_decoder_alone_with_a_memory_mask_matches_pytorch():
    def make(nn):
        return nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2)

    def forward(m, decoder, tgt, memory):
        return decoder(tgt, memory, memory_mask=m.from_numpy(np.triu(np.ones((4, 5), bool), 2)),
                       tgt_is_causal=True,
                       tgt_mask=m.nn.Transformer.generate_square_subsequent_mask(4))
    compare_module_with_torch(make, [TGT, SRC], forward=forward)


def test_eval_mode_does_not_drop():
    def make(nn):
        return nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5), 2).eval()
    compare_module_with_torch(make, [SRC])


def test_the_inference_path_gives_zeros_at_the_padding_as_pytorch():
    """In eval mode without gradients, PyTorch runs a right-padded batch as nested tensors and
    returns zeros at the padding; with gradients it computes them. tinyseq does the same."""
    torch.manual_seed(0)
    make = (lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, batch_first=True), 2).eval())
    theirs, ours = make(torch.nn), make(nn)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = SRC.transpose(1, 0, 2).astype(np.float32)
    for grad in (False, True):
        with torch.set_grad_enabled(grad), ts.set_grad_enabled(grad):
            ref = theirs(torch.from_numpy(x), src_key_padding_mask=torch.from_numpy(SRC_PADDING))
            out = ours(ts.tensor(x), src_key_padding_mask=ts.tensor(SRC_PADDING))
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
        assert np.all(out.numpy()[1, 3:] == 0) != grad


def test_the_layers_are_deep_copies_with_their_own_parameters():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    encoder = nn.TransformerEncoder(layer, 3)
    params = [dict(m.named_parameters()) for m in encoder.layers]
    for name, p in layer.named_parameters():
        copies = [ps[name] for ps in params]
        assert len({id(c) for c in copies} | {id(p)}) == 4  # four distinct tensors
        assert all(np.array_equal(c.numpy(), p.numpy()) for c in copies)
    with ts.no_grad():
        encoder.layers[0].linear1.weight.add_(1.0)
    assert not np.allclose(encoder.layers[0].linear1.weight.numpy(),
                           encoder.layers[1].linear1.weight.numpy())
    out = encoder(ts.randn(5, 2, 8))
    out.sum().backward()
    assert all(p.grad is not None for p in encoder.parameters())
    assert layer.linear1.weight.grad is None  # the template is not in the encoder


def test_generate_square_subsequent_mask_is_pytorchs():
    for n in (1, 4):
        np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(n).numpy(),
                                      torch.nn.Transformer.generate_square_subsequent_mask(n))
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=ts.float64)
    assert mask.dtype == ts.float64


def test_a_causal_mask_is_detected_and_the_hint_ignores_its_values():
    """With is_causal=None a mask equal to the causal mask sets the hint; with an explicit
    is_causal=True PyTorch trusts the hint over the mask it is given (need_weights=False, no
    padding), and so does tinyseq."""
    def forward(m, encoder, src):
        wrong = m.zeros(5, 5)  # not causal at all, but announced as causal
        return encoder(src, mask=wrong, is_causal=True)
    compare_module_with_torch(lambda nn: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 1), [SRC], forward=forward)


def test_transformer_initialises_every_matrix_xavier_uniform():
    model = nn.Transformer(16, 2, 1, 1, 32)
    w = model.encoder.layers[0].linear1.weight.numpy()
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert [k for k, _ in model.named_parameters()] == [
        k for k, _ in torch.nn.Transformer(16, 2, 1, 1, 32).named_parameters()]


def test_encoder_gradcheck_in_float64():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0), 1).double()
    x = ts.tensor(RNG.standard_normal((3, 1, 4)), dtype=ts.float64, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=ts.float64)
    assert ts.autograd.gradcheck(lambda x: encoder(x, mask=mask), [x])


BAD = {
    "unknown activation": lambda m: m.nn.TransformerEncoderLayer(8, 2, activation="tanh"),
    "heads do not divide": lambda m: m.nn.TransformerEncoderLayer(8, 3),
    "batch sizes differ": lambda m: m.nn.Transformer(8, 2, 1, 1, 16)(m.zeros(5, 2, 8),
                                                                     m.zeros(4, 3, 8)),
    "features differ": lambda m: m.nn.Transformer(8, 2, 1, 1, 16)(m.zeros(5, 2, 8),
                                                                  m.zeros(4, 2, 6)),
    "int mask": lambda m: m.nn.TransformerEncoderLayer(8, 2)(m.zeros(5, 2, 8),
                                                             src_mask=m.zeros(5, 5).long()),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_arguments_raise_pytorchs_exception(case):
    with pytest.raises(Exception) as theirs:
        BAD[case](torch)
    with pytest.raises(theirs.type) as ours:
        BAD[case](ts)
    assert "\n" not in str(ours.value)
