"""The Transformer of PyTorch (Vaswani et al. 2017): ``TransformerEncoderLayer``,
``TransformerEncoder``, ``TransformerDecoderLayer``, ``TransformerDecoder`` and ``Transformer``,
with PyTorch's arguments, parameter names (``layers.0.self_attn.in_proj_weight``, ``linear1``,
``norm1``, ...) and initialisation, composed from ``MultiheadAttention``, ``Linear``, ``LayerNorm``
and ``Dropout``: no backward is written here.

Shapes: ``(S, N, E)`` sequence first, ``(N, S, E)`` with ``batch_first``, ``(S, E)`` unbatched.
Masks are ``MultiheadAttention``'s: bool True (or float ``-inf``) masks a position out;
``src_mask``/``tgt_mask`` ``(S, S)`` or ``(N·nhead, S, S)``, ``*_key_padding_mask`` ``(N, S)``
True at padding. ``Transformer.generate_square_subsequent_mask(sz)`` is the causal float mask.
"""
import copy

import numpy as np

from ..autograd.factories import full
from ..autograd.namespace import triu
from ..autograd.mode import is_grad_enabled
from . import _checks, init
from .activations import GELU, gelu
from .attention import MultiheadAttention, canonical_mask
from .containers import ModuleList
from .functional import relu
from .layers import Dropout, LayerNorm, Linear, ReLU
from .module import Module

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]


def generate_square_subsequent_mask(sz, device=None, dtype=None):
    """The causal mask ``(sz, sz)``: 0 on and below the diagonal, ``-inf`` above (position i
    sees 0..i), float32 unless ``dtype`` says otherwise."""
    sz = _checks.size("generate_square_subsequent_mask", "sz", sz)
    return triu(full((sz, sz), float("-inf"), dtype=dtype or np.float32), diagonal=1)


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block ``linear2(dropout(activation(linear1(x))))``, each
    added to its input and layer-normalised: after (``norm_first=False``, the paper's "post-LN")
    or before (``norm_first=True``). ``activation`` is ``"relu"``, ``"gelu"`` or a callable.

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)`` -> like ``src``.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **factory)
        _feed_forward(self, d_model, dim_feedforward, dropout, bias, factory)
        self.norm_first = _checks.flag(type(self).__name__, "norm_first", norm_first)
        self.norm1 = _layer_norm(d_model, layer_norm_eps, bias, factory)
        self.norm2 = _layer_norm(d_model, layer_norm_eps, bias, factory)
        self.dropout1, self.dropout2 = Dropout(dropout), Dropout(dropout)
        self.activation = _activation(activation)
        self.activation_relu_or_gelu = _relu_or_gelu(self.activation)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        src_key_padding_mask = canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                              src_mask, "src_mask", _dtype(src))
        src_mask = canonical_mask(src_mask, "src_mask", dtype=_dtype(src))
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Masked self-attention, attention over the encoder's output (``memory``), then the
    feed-forward block, each with its residual and layer norm (after, or before with
    ``norm_first``).

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)`` -> like ``tgt``.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, **factory)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, **factory)
        _feed_forward(self, d_model, dim_feedforward, dropout, bias, factory)
        self.norm_first = _checks.flag(type(self).__name__, "norm_first", norm_first)
        self.norm1 = _layer_norm(d_model, layer_norm_eps, bias, factory)
        self.norm2 = _layer_norm(d_model, layer_norm_eps, bias, factory)
        self.norm3 = _layer_norm(d_model, layer_norm_eps, bias, factory)
        self.dropout1, self.dropout2, self.dropout3 = (Dropout(dropout) for _ in range(3))
        self.activation = _activation(activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` (``layers.0``, ``layers.1``, ...), each
    with its own parameters, then ``norm`` if given.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``: ``is_causal=None``
    detects a causal ``mask``. ``enable_nested_tensor`` and ``mask_check`` are PyTorch's: in
    evaluation without gradients, PyTorch runs a padded batch as nested tensors and returns
    zeros at the padding (before ``norm``); tinyseq returns the same.
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        _checks.size("TransformerEncoder", "num_layers", num_layers)
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = bool(enable_nested_tensor) and _sparsity_fast_path(encoder_layer)
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        src_key_padding_mask = canonical_mask(src_key_padding_mask, "src_key_padding_mask", mask,
                                              "mask", _dtype(src))
        mask = canonical_mask(mask, "mask", dtype=_dtype(src))
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _detect_is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal,
                           src_key_padding_mask=src_key_padding_mask)
        if self._as_nested(src, mask, src_key_padding_mask):
            output = output.masked_fill((src_key_padding_mask != 0).unsqueeze(-1), 0.0)
        return output if self.norm is None else self.norm(output)

    def _as_nested(self, src, mask, padding):
        """Whether PyTorch would run this call as nested tensors (zeros at the padding)."""
        if not self.use_nested_tensor or self.layers[0].training or src.ndim != 3:
            return False
        if padding is None or mask is not None:
            return False
        if is_grad_enabled() and (src.requires_grad or any(
                p.requires_grad for p in self.layers[0].parameters())):
            return False
        keep = padding.numpy() == 0
        left_aligned = np.all(keep == (np.arange(keep.shape[1]) < keep.sum(1, keepdims=True)))
        return bool(left_aligned) or not self.mask_check


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer``, then ``norm`` if given.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``.
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        _checks.size("TransformerDecoder", "num_layers", num_layers)
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        seq_len = _seq_len(tgt, self.layers[0].self_attn.batch_first)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return output if self.norm is None else self.norm(output)


class Transformer(Module):
    """An encoder of ``num_encoder_layers`` and a decoder of ``num_decoder_layers`` (each ending
    in a LayerNorm), all matrices re-initialised Xavier-uniform as in PyTorch.

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False)`` -> like ``tgt``.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        options = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                   batch_first, norm_first, bias)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(*options, **factory), num_encoder_layers,
            _layer_norm(d_model, layer_norm_eps, bias, factory))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(*options, **factory), num_decoder_layers,
            _layer_norm(d_model, layer_norm_eps, bias, factory))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batch = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch] != tgt.shape[batch]:
            raise RuntimeError(f"Transformer: the batch number of src and tgt must be equal, got "
                               f"src {src.shape} and tgt {tgt.shape} (batch_first="
                               f"{self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src and tgt must be equal "
                               f"to d_model={self.d_model}, got src {src.shape} and tgt "
                               f"{tgt.shape}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)


# ---- the parts -----------------------------------------------------------------------------------
def _feed_forward(layer, d_model, dim_feedforward, dropout, bias, factory):
    """``linear1``, ``dropout``, ``linear2``, registered in PyTorch's order; ``factory`` is
    ``{"device": ..., "dtype": ...}``."""
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)


def _layer_norm(d_model, eps, bias, factory):
    return LayerNorm(d_model, eps, bias=bias, **factory)


def _activation(activation):
    """``"relu"``/``"gelu"`` as the function, or the callable itself."""
    if isinstance(activation, str):
        if activation not in ("relu", "gelu"):
            raise RuntimeError(f"Transformer layer: activation should be 'relu' or 'gelu' (or a "
                               f"callable), not {activation!r}")
        return relu if activation == "relu" else gelu
    if not callable(activation):
        raise TypeError(f"Transformer layer: activation must be 'relu', 'gelu' or a callable, got "
                        f"{type(activation).__name__}")
    return activation


def _relu_or_gelu(activation):
    """PyTorch's ``activation_relu_or_gelu``: 1 for ReLU, 2 for GELU, else 0."""
    if activation is relu or isinstance(activation, ReLU):
        return 1
    return 2 if activation is gelu or isinstance(activation, GELU) else 0


def _sparsity_fast_path(layer):
    """Whether PyTorch's TransformerEncoder may run ``layer``'s copies on nested tensors."""
    if not isinstance(layer, TransformerEncoderLayer) or layer.norm_first:
        return False
    attn = layer.self_attn
    return (attn.batch_first and attn._qkv_same_embed_dim and attn.in_proj_bias is not None
            and bool(layer.activation_relu_or_gelu) and layer.norm1.eps == layer.norm2.eps
            and attn.num_heads % 2 == 0)


def _get_clones(module, n):
    """``n`` deep copies of ``module`` in a ModuleList, as PyTorch's encoder makes them."""
    if not isinstance(module, Module):
        raise TypeError(f"TransformerEncoder/Decoder: the layer must be a ts.nn.Module, got "
                        f"{type(module).__name__}")
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _dtype(t):
    """The floating dtype a bool mask becomes next to ``t`` (float32 if ``t`` is not a tensor)."""
    dtype = getattr(t, "dtype", np.float32)
    return dtype if np.dtype(dtype).kind == "f" else np.float32


def _seq_len(src, batch_first):
    return src.shape[0] if src.ndim == 2 else src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask, is_causal, size):
    """``is_causal`` if given; when it is None, whether ``mask`` is the causal mask."""
    if is_causal is not None or mask is None:
        return is_causal is True
    causal = generate_square_subsequent_mask(size, dtype=mask.dtype)
    return mask.shape == causal.shape and bool((mask == causal).all())
