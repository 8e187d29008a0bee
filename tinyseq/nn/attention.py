"""Attention as in PyTorch: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``,
composed from autograd ops (matmul, softmax, where, linear): no backward is written here.

Shapes: ``L`` target (query) length, ``S`` source (key) length, ``N`` batch, ``H`` heads, ``E``
embedding size, ``D = E / H`` per head.

Masks follow PyTorch, whose two conventions are opposite for boolean masks:

- ``scaled_dot_product_attention``: a bool mask says which positions *take part* (True = attend);
- ``MultiheadAttention`` (and the Transformer layers): a bool mask says which are *masked out*
  (True = ignore); ``key_padding_mask`` ``(N, S)`` is True at padding.

A float mask is added to the scores in both (``-inf`` masks out). A query row that can attend
nowhere gives zeros in ``scaled_dot_product_attention`` (PyTorch's "safe softmax") but NaN in
``MultiheadAttention(need_weights=True)``, which uses the plain softmax, as PyTorch does.
"""
import math
import warnings

import numpy as np

from ..autograd.errors import ShapeError
from ..autograd.namespace import cat as cat_op, where
from ..autograd.tensor import Tensor
from . import _checks, init
from .functional import dropout, linear, pad
from .layers import Linear
from .module import Module, Parameter

_NEG_INF = float("-inf")


# ---- scaled dot-product attention ----------------------------------------------------------------
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(q kᵀ · scale + mask) v``: query ``(..., L, E)``, key ``(..., S, E)``, value
    ``(..., S, Ev)`` -> ``(..., L, Ev)``; leading dims broadcast.

    ``attn_mask`` broadcasts to ``(..., L, S)``: bool (True = take part) or float (added).
    ``is_causal`` lets query i see keys 0..i (the top-left triangle) and excludes ``attn_mask``.
    ``scale`` defaults to ``1/√E``. ``dropout_p`` drops attention weights whatever the mode (as
    in PyTorch: pass ``dropout_p=p if self.training else 0``). ``enable_gqa`` lets the key and
    value have fewer heads (dim -3) than the query, each shared by a group of query heads.
    """
    _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal)
    if enable_gqa:
        key, value = _share_heads(query, key), _share_heads(query, value)
    length, source = query.shape[-2], key.shape[-2]
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        attn_mask = Tensor(np.tril(np.ones((length, source), bool)))
    if attn_mask is not None:
        scores = (where(attn_mask, scores, _NEG_INF) if attn_mask.dtype == np.bool_
                  else scores + attn_mask)
    weights = _safe_softmax(scores)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, True)
    return weights @ value


def _safe_softmax(scores):
    """Softmax along the last dim, with 0 (and no gradient) for a row that is all ``-inf``."""
    dead = (scores == _NEG_INF).all(-1, keepdim=True)
    return where(dead, 0.0, where(dead, 0.0, scores).softmax(-1))


def _share_heads(query, kv):
    """``kv`` ``(..., Hk, S, E)`` with each head repeated for its group of the query's ``Hq``
    heads (``repeat_interleave`` along dim -3)."""
    if query.ndim < 3 or kv.ndim < 3 or query.shape[-3] % kv.shape[-3]:
        raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa the number of heads "
                           f"(dim -3) of key and value must divide the query's, got query "
                           f"{query.shape} and key/value {kv.shape}")
    groups = query.shape[-3] // kv.shape[-3]
    shape = kv.shape
    grown = kv.unsqueeze(-3).expand(*shape[:-2], groups, *shape[-2:])
    return grown.reshape(*shape[:-3], shape[-3] * groups, *shape[-2:])


def _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal):
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        _checks.floating(op, t, name)
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"{op}: query, key and value must be at least 2-D (..., L, E), got "
                           f"{query.ndim}-D, {key.ndim}-D and {value.ndim}-D")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"{op}: query, key and value must have the same dtype, got "
                           f"{np.dtype(query.dtype)}, {np.dtype(key.dtype)} and "
                           f"{np.dtype(value.dtype)}; convert them with .to(query.dtype)")
    if key.shape[-1] != query.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"{op}: query (..., L, E) {query.shape}, key (..., S, E) {key.shape} and "
                         f"value (..., S, Ev) {value.shape} do not fit")
    if isinstance(dropout_p, bool) or not 0 <= dropout_p <= 1:
        raise RuntimeError(f"{op}: dropout probability has to be between 0 and 1, got "
                           f"{dropout_p!r}")
    if attn_mask is not None:
        _checks.tensor(op, "attn_mask", attn_mask)
        if attn_mask.dtype != np.bool_ and attn_mask.dtype != query.dtype:
            raise RuntimeError(f"{op}: attn_mask must be bool or of the query's dtype "
                               f"{np.dtype(query.dtype)}, got {np.dtype(attn_mask.dtype)}")
        if is_causal:
            raise RuntimeError(f"{op}: an explicit attn_mask should not be set when "
                               "is_causal=True (is_causal builds the causal mask itself)")


# ---- multi-head attention ------------------------------------------------------------------------
class NonDynamicallyQuantizableLinear(Linear):
    """PyTorch's name for ``MultiheadAttention.out_proj``: a plain ``Linear``."""


class MultiheadAttention(Module):
    """``H`` heads of scaled dot-product attention over learned projections of query, key and
    value, concatenated and projected (Vaswani et al. 2017), with PyTorch's parameters:
    ``in_proj_weight`` ``(3E, E)`` (or ``q_proj_weight`` ``(E, E)``, ``k_proj_weight``
    ``(E, kdim)``, ``v_proj_weight`` ``(E, vdim)`` when kdim or vdim differ from E),
    ``in_proj_bias`` ``(3E,)``, ``out_proj`` (Linear E -> E), and with ``add_bias_kv`` the
    learned key and value ``bias_k``, ``bias_v`` ``(1, 1, E)`` appended to every sequence;
    ``add_zero_attn`` appends a zero key and value. Initialised as PyTorch: Xavier-uniform
    projections, zero biases, Xavier-normal ``bias_k``/``bias_v``.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` -> ``(output, weights)``: query ``(L, N, E)``
    (``(N, L, E)`` with ``batch_first``; ``(L, E)`` unbatched), key/value ``(S, N, kdim/vdim)``;
    output like the query; weights ``(N, L, S)`` averaged over heads, ``(N, H, L, S)`` with
    ``average_attn_weights=False``, or None with ``need_weights=False``.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        dtype = _checks.factory_dtype("MultiheadAttention", device, dtype)
        embed_dim = _checks.size("MultiheadAttention", "embed_dim", embed_dim)
        num_heads = _checks.size("MultiheadAttention", "num_heads", num_heads)
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than "
                             f"0, got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:  # (PyTorch's exception type)
            raise AssertionError(f"MultiheadAttention: embed_dim must be divisible by num_heads, "
                                 f"got embed_dim={embed_dim} and num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.kdim, self.vdim = (embed_dim if d is None else
                                _checks.size("MultiheadAttention", name, d, 1)
                                for name, d in (("kdim", kdim), ("vdim", vdim)))
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout = _checks.number("MultiheadAttention", "dropout", dropout, 0, 1)
        self.batch_first = _checks.flag("MultiheadAttention", "batch_first", batch_first)
        self.add_zero_attn = bool(add_zero_attn)
        self._make_parameters(bool(bias), bool(add_bias_kv), dtype)
        self._reset_parameters()

    def _make_parameters(self, bias, add_bias_kv, dtype):
        """PyTorch's parameters in PyTorch's order (so that named_parameters() matches), of
        ``dtype``."""
        e = self.embed_dim

        def empty(*shape):  # (initialised by _reset_parameters)
            return Parameter(np.zeros(shape, dtype))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty(3 * e, e)
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.q_proj_weight = empty(e, e)
            self.k_proj_weight = empty(e, self.kdim)
            self.v_proj_weight = empty(e, self.vdim)
            self.in_proj_weight = None
        self.in_proj_bias = empty(3 * e) if bias else None
        self.out_proj = NonDynamicallyQuantizableLinear(e, e, bias=bias, dtype=dtype)
        self.bias_k = empty(1, 1, e) if add_bias_kv else None
        self.bias_v = empty(1, 1, e) if add_bias_kv else None

    def _reset_parameters(self):
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight,
                  self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        for name, t in (("query", query), ("key", key), ("value", value)):
            _checks.tensor("MultiheadAttention", name, t)
        batched = query.ndim == 3
        if self.batch_first and batched:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        output, weights = _multi_head_attention(
            self, query, key, value, key_padding_mask, need_weights, attn_mask,
            average_attn_weights, is_causal)
        if self.batch_first and batched:
            output = output.transpose(0, 1)
        return output, weights


def canonical_mask(mask, mask_name, other=None, other_name="", dtype=np.float32):
    """A bool or float mask as a float mask (True -> ``-inf``, False -> 0), as PyTorch's
    ``_canonical_mask``; warns as PyTorch does when ``other`` (a mask used with it) is of
    another dtype."""
    if mask is None:
        return None
    _checks.tensor("MultiheadAttention", mask_name, mask)
    if mask.dtype != np.bool_ and np.dtype(mask.dtype).kind != "f":
        raise AssertionError(f"MultiheadAttention: only bool and floating types of {mask_name} "
                             f"are supported, got {np.dtype(mask.dtype)}")
    if other is not None and other.dtype != mask.dtype:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", UserWarning, stacklevel=3)
    if mask.dtype != np.bool_:
        return mask
    return Tensor(np.where(mask.numpy(), np.array(_NEG_INF, dtype), np.array(0, dtype)))


# ---- the steps of MultiheadAttention.forward (PyTorch's multi_head_attention_forward) ------------
def _multi_head_attention(m, query, key, value, key_padding_mask, need_weights, attn_mask,
                          average_weights, is_causal):
    """``m``'s attention on sequence-first inputs: query ``(L, N, E)`` or ``(L, E)``; returns
    ``(output like the query, weights or None)``."""
    batched = _check_shapes(m, query, key, value, key_padding_mask, attn_mask)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    length, batch, source = query.shape[0], query.shape[1], key.shape[0]
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", attn_mask,
                                      "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("MultiheadAttention: is_causal needs attn_mask (it is a hint that "
                           "attn_mask is causal); make one with "
                           "nn.Transformer.generate_square_subsequent_mask(L)")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint alone: scaled_dot_product_attention builds the mask
    else:
        attn_mask = _mask_3d(canonical_mask(attn_mask, "attn_mask", dtype=query.dtype),
                             m.num_heads, batch, length, source)
        is_causal = is_causal and key_padding_mask is None
    q, k, v = _project(m, query, key, value)
    if m.bias_k is not None:
        k = cat_op([k, m.bias_k.expand(1, batch, m.embed_dim)])
        v = cat_op([v, m.bias_v.expand(1, batch, m.embed_dim)])
        attn_mask, key_padding_mask = _one_more_key(attn_mask, key_padding_mask)
    q, k, v = (_split_heads(t, m.num_heads, m.head_dim) for t in (q, k, v))
    if m.add_zero_attn:
        zeros = Tensor(np.zeros((k.shape[0], 1, m.head_dim), k.dtype))
        k, v = cat_op([k, zeros], 1), cat_op([v, zeros], 1)
        attn_mask, key_padding_mask = _one_more_key(attn_mask, key_padding_mask)
    source = k.shape[1]
    if key_padding_mask is not None:
        attn_mask = _with_padding(attn_mask, key_padding_mask, m.num_heads, batch, source)
    p = m.dropout if m.training else 0.0
    if need_weights:
        output, weights = _attend_with_weights(q, k, v, attn_mask, p)
        weights = weights.view(batch, m.num_heads, length, source)
        weights = weights.mean(1) if average_weights else weights
    else:
        if attn_mask is not None:
            attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1
                         else attn_mask.view(batch, m.num_heads, -1, source))
        q, k, v = (t.view(batch, m.num_heads, -1, m.head_dim) for t in (q, k, v))
        output = scaled_dot_product_attention(q, k, v, attn_mask, p, is_causal)
        output, weights = output.permute(2, 0, 1, 3), None  # (L, N, H, D)
    output = m.out_proj(output.reshape(length, batch, m.embed_dim))
    if not batched:
        output = output.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return output, weights


def _attend_with_weights(q, k, v, attn_mask, p):
    """PyTorch's path when the weights are returned: ``(N·H, L, D)`` heads -> the output
    ``(L, N·H, D)`` and the weights ``(N·H, L, S)``, with the plain softmax (NaN for a row
    masked everywhere, as in PyTorch)."""
    scores = (q * math.sqrt(1.0 / q.shape[-1])) @ k.transpose(-2, -1)
    weights = (scores if attn_mask is None else scores + attn_mask).softmax(-1)
    if p > 0:
        weights = dropout(weights, p, True)
    return (weights @ v).transpose(0, 1), weights


def _project(m, query, key, value):
    """The three input projections, each ``(*, E)``."""
    if m._qkv_same_embed_dim:
        w_q, w_k, w_v = m.in_proj_weight.chunk(3)
    else:
        w_q, w_k, w_v = m.q_proj_weight, m.k_proj_weight, m.v_proj_weight
    b_q = b_k = b_v = None
    if m.in_proj_bias is not None:
        b_q, b_k, b_v = m.in_proj_bias.chunk(3)
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def _split_heads(t, heads, head_dim):
    """``(S, N, E)`` -> ``(N·H, S, D)``, the batch's heads side by side."""
    return t.reshape(t.shape[0], t.shape[1] * heads, head_dim).transpose(0, 1)


def _one_more_key(attn_mask, key_padding_mask):
    """Both masks with a last key that every query may see (``bias_k`` or the zero key)."""
    grow = (lambda mask: None if mask is None else pad(mask, (0, 1)))
    return grow(attn_mask), grow(key_padding_mask)


def _with_padding(attn_mask, key_padding_mask, heads, batch, source):
    """``attn_mask`` plus the float ``key_padding_mask`` ``(N, S)`` repeated for every head:
    ``(N·H, L or 1, S)``."""
    if key_padding_mask.shape != (batch, source):
        raise AssertionError(f"MultiheadAttention: key_padding_mask must have shape (N, S) = "
                             f"{(batch, source)}, got {key_padding_mask.shape}")
    padding = key_padding_mask.view(batch, 1, 1, source).expand(-1, heads, -1, -1)
    padding = padding.reshape(batch * heads, 1, source)
    return padding if attn_mask is None else attn_mask + padding


def _mask_3d(attn_mask, heads, batch, length, source):
    """``attn_mask`` ``(L, S)`` or ``(N·H, L, S)`` as a 3-D mask, its shape checked."""
    if attn_mask is None:
        return None
    if attn_mask.ndim == 2:
        if attn_mask.shape != (length, source):
            raise RuntimeError(f"MultiheadAttention: the 2D attn_mask has shape "
                               f"{attn_mask.shape}, but should be (L, S) = {(length, source)}")
        return attn_mask.unsqueeze(0)
    if attn_mask.shape != (batch * heads, length, source):
        raise RuntimeError(f"MultiheadAttention: the 3D attn_mask has shape {attn_mask.shape}, "
                           f"but should be (N*num_heads, L, S) = {(batch * heads, length, source)}")
    return attn_mask


def _check_shapes(m, query, key, value, key_padding_mask, attn_mask):
    """PyTorch's checks (AssertionError, as PyTorch raises); returns whether the input is
    batched."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        _checks.floating("MultiheadAttention", t, name)
    for name, t in (("key_padding_mask", key_padding_mask), ("attn_mask", attn_mask)):
        if t is not None:
            _checks.tensor("MultiheadAttention", name, t)
    if query.ndim not in (2, 3):
        raise AssertionError(f"MultiheadAttention: query should be unbatched 2D (L, E) or "
                             f"batched 3D, got a {query.ndim}-D query")
    kind = "batched (3-D)" if query.ndim == 3 else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"MultiheadAttention: for {kind} query, key and value must be "
                             f"{query.ndim}-D, got {key.ndim}-D and {value.ndim}-D")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(f"MultiheadAttention: for {kind} query, key_padding_mask must be "
                             f"None or {query.ndim - 1}-D, got {key_padding_mask.ndim}-D")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise AssertionError(f"MultiheadAttention: attn_mask must be None, 2-D or 3-D, got "
                             f"{attn_mask.ndim}-D")
    if query.shape[-1] != m.embed_dim:
        raise AssertionError(f"MultiheadAttention: expected query of embedding dimension "
                             f"{m.embed_dim}, got {query.shape[-1]}")
    if key.shape[-1] != m.kdim or value.shape[-1] != m.vdim or key.shape[:-1] != value.shape[:-1]:
        raise AssertionError(f"MultiheadAttention: key {key.shape} and value {value.shape} must "
                             f"have the same sequence and batch dims and kdim={m.kdim}, "
                             f"vdim={m.vdim} features")
    if query.ndim == 3 and key.shape[1] != query.shape[1]:
        raise AssertionError(f"MultiheadAttention: query {query.shape} and key {key.shape} "
                             "must have the same batch size")
    return query.ndim == 3
