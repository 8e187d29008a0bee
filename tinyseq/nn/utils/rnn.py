"""Padding variable-length sequences into one batch."""
from ...autograd.factories import full
from ...autograd.functional import cat, stack


def pad_sequence(sequences, batch_first=False, padding_value=0.0):
    """Sequences ``(L_i, *)`` padded with ``padding_value`` to ``(max L, B, *)`` (or ``(B, max L, *)``).

    Differentiable: each sequence's gradient comes back through the padding.
    """
    if not sequences:
        raise ValueError("pad_sequence: expects a non-empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = [s if s.shape[0] == longest else cat(
        [s, full((longest - s.shape[0],) + s.shape[1:], padding_value, dtype=s.data.dtype)])
        for s in sequences]
    return stack(padded, 1 if not batch_first else 0)
