"""Padding variable-length sequences into one batch, and PyTorch's packed sequences
(``packing.py``), under PyTorch's names: ``ts.nn.utils.rnn.pack_padded_sequence``, ..."""
from ...autograd.factories import full
from ...autograd.namespace import cat, stack
from ...autograd.errors import ShapeError
from ...autograd.tensor import Tensor
from .. import _checks
from .packing import (PackedSequence, invert_permutation, pack_padded_sequence,
                      pad_packed_sequence, unpack_sequence, unpad_sequence)

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Sequences ``(L_i, *)`` padded with ``padding_value`` to ``(max L, B, *)`` (or ``(B, max L, *)``),
    after each sequence (``padding_side="right"``) or before it (``"left"``).

    The sequences must be Tensors of at least one dimension with the same trailing dims ``*`` and
    dtype. Differentiable: each sequence's gradient comes back through the padding.
    """
    sequences = list(sequences) if not isinstance(sequences, Tensor) else list(sequences.unbind(0))
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    _check_sequences(sequences)
    batch_first = _checks.flag("pad_sequence", "batch_first", batch_first)
    _checks.number("pad_sequence", "padding_value", padding_value)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"pad_sequence: Expected padding_side to be one of left or right, but "
                           f"got {padding_side!r}.")
    longest = max(s.shape[0] for s in sequences)
    padded = [s if s.shape[0] == longest else _pad(s, longest, padding_value, padding_side)
              for s in sequences]
    return stack(padded, 1 if not batch_first else 0)


def _pad(s, longest, padding_value, side):
    """``s`` ``(L, *)`` with ``longest - L`` rows of ``padding_value`` on its ``side``."""
    pad = full((longest - s.shape[0],) + s.shape[1:], padding_value, dtype=s.dtype)
    return cat([s, pad] if side == "right" else [pad, s])


def pack_sequence(sequences, enforce_sorted=True):
    """Sequences ``(L_i, *)`` -> a ``PackedSequence``: ``pad_sequence`` then
    ``pack_padded_sequence``. With ``enforce_sorted`` they must come longest first."""
    sequences = list(sequences.unbind(0)) if isinstance(sequences, Tensor) else list(sequences)
    if not sequences:
        raise RuntimeError("pack_sequence: received an empty list of sequences; give at least "
                           "one (L, *) Tensor")
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def _check_sequences(sequences):
    """Tensors ``(L_i, *)`` with one trailing shape (dtypes are promoted, as in torch)."""
    first = sequences[0]
    for i, s in enumerate(sequences):
        _checks.tensor("pad_sequence", f"sequence {i}", s)
        if s.ndim == 0:
            raise ShapeError(f"pad_sequence: sequence {i} is 0-d; each sequence must be (L, *)")
        if s.shape[1:] != first.shape[1:]:
            raise ShapeError(f"pad_sequence: sequence {i} has shape {s.shape} but sequence 0 has "
                             f"{first.shape}; all must share the trailing dims after the length")
