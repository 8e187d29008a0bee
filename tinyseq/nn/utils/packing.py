"""PyTorch's packed sequences: a batch of sequences of different lengths stored without padding.

A ``PackedSequence`` keeps the steps of B sequences, sorted longest first, time step by time step:
``data`` ``(sum of lengths, *)`` holds step 0 of every sequence, then step 1 of those at least two
steps long, ...; ``batch_sizes[t]`` says how many sequences have a step t. ``sorted_indices``
(None when the batch came sorted) gives the original sequence behind each sorted column, and
``unsorted_indices`` is its inverse.

Packing and unpadding are one indexing op each (gathering rows of the padded tensor, or of
``data`` and a padding row), so gradients flow back through them with no backward of their own.
"""
import collections

import numpy as np

from ...autograd.errors import ShapeError
from ...autograd.factories import full
from ...autograd.namespace import cat
from ...autograd.tensor import Tensor
from .. import _checks

_UNSORTED = ("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
             "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
             "sidestep this requirement if you do not need ONNX exportability.")


class PackedSequence(collections.namedtuple(
        "PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)``, as PyTorch's: made by
    ``pack_padded_sequence`` or ``pack_sequence``, read by the recurrent layers and
    ``pad_packed_sequence``. ``batch_sizes`` is an int64 Tensor ``(T,)``; the indices are int64
    Tensors ``(B,)`` or None. Given ``sorted_indices`` alone, ``unsorted_indices`` is its
    inverse."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)), as PyTorch allows
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError("PackedSequence: give data and batch_sizes, or one pair "
                                f"(data, batch_sizes); got {type(data).__name__} alone")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data.to(...)`` in a PackedSequence; itself if ``data`` does not change."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, *self[1:])

    def cpu(self):
        """Itself: tinyseq's tensors are on the CPU."""
        return self

    def cuda(self, *args, **kwargs):
        """Refused as ``Tensor.cuda`` is: tinyseq has no GPU."""
        return self.to(self.data.cuda(*args, **kwargs))

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    is_cuda = property(lambda self: False)


def invert_permutation(permutation):
    """The inverse of a permutation (an int64 Tensor ``(B,)``), or None for None."""
    if permutation is None:
        return None
    p = np.asarray(permutation)
    inverse = np.empty_like(p, dtype=np.int64)
    inverse[p] = np.arange(p.size)
    return Tensor(inverse)


# ---- packing ---------------------------------------------------------------------------------
def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """A padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences ``lengths``
    long (B ints, a list or a 1-d Tensor) -> a ``PackedSequence`` whose ``data`` is
    ``(sum(lengths), *)``. With ``enforce_sorted`` the lengths must not increase; otherwise the
    sequences are sorted by length (a stable sort, as PyTorch's) and ``sorted_indices`` records
    how."""
    _checks.tensor("pack_padded_sequence", "input", input)
    batch_first = _checks.flag("pack_padded_sequence", "batch_first", batch_first)
    enforce_sorted = _checks.flag("pack_padded_sequence", "enforce_sorted", enforce_sorted)
    if input.ndim < 2:
        raise IndexError(f"pack_padded_sequence: input must be (T, B, *) or (B, T, *), got shape "
                         f"{input.shape}; a batch of one sequence is input.unsqueeze(1)")
    B, T = input.shape[:2] if batch_first else input.shape[1::-1]
    lengths = _lengths(lengths, B, T)
    order = np.arange(B) if enforce_sorted else np.argsort(-lengths, kind="stable")
    if lengths[order[-1]] <= 0:
        raise RuntimeError(f"pack_padded_sequence: every length must be >= 1, got "
                           f"{lengths.tolist()}; drop the empty sequences from the batch")
    if enforce_sorted and np.any(np.diff(lengths) > 0):
        raise RuntimeError(f"pack_padded_sequence: got lengths {lengths.tolist()}; " + _UNSORTED)
    batch_sizes = (np.arange(lengths[order[0]])[:, None] < lengths[None, :]).sum(1)
    steps, columns = _packed_positions(batch_sizes, order)
    data = input[columns, steps] if batch_first else input[steps, columns]
    return PackedSequence(data, Tensor(batch_sizes.astype(np.int64)),
                          None if enforce_sorted else Tensor(order.astype(np.int64)))


def _lengths(lengths, B, T):
    """``lengths`` as B ints in 1..T (int64 numpy), or one line saying what is wrong."""
    values = np.asarray(lengths)
    if values.ndim != 1 or values.dtype.kind not in "biuf":
        raise RuntimeError(f"pack_padded_sequence: lengths must be a list or a 1-d Tensor of "
                           f"ints, got {type(lengths).__name__} of shape {values.shape}")
    if values.dtype.kind == "f" and not np.all(values == np.round(values)):
        raise ValueError(f"pack_padded_sequence: lengths must be whole numbers, got "
                         f"{values.tolist()}")
    values = values.astype(np.int64)
    if values.size != B:
        raise RuntimeError(f"pack_padded_sequence: expected `len(lengths)` to be equal to "
                           f"batch_size, but got {values.size} (batch_size={B}); give one length "
                           "per sequence")
    if B == 0:
        raise RuntimeError("pack_padded_sequence: cannot pack empty tensors (the batch has no "
                           "sequence)")
    if values.max() > T:  # (PyTorch reads past the input's end here, without a word)
        raise ShapeError(f"pack_padded_sequence: lengths must be at most T={T} (the input's "
                         f"steps), got {values.max()} in {values.tolist()}")
    return values


def _packed_positions(batch_sizes, columns):
    """Where each row of ``data`` sits in the padded batch: its step t and its batch column,
    ``columns[j]`` for the j-th of the ``batch_sizes[t]`` sequences present at step t."""
    steps = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    starts = np.cumsum(batch_sizes) - batch_sizes
    return steps, columns[np.arange(len(steps)) - starts[steps]]


def pack_like(padded, sequence):
    """The ``(T, B, *)`` ``padded`` (original batch order) packed as ``sequence`` is: the same
    ``batch_sizes`` and order. A recurrent layer packs its output this way."""
    batch_sizes = np.asarray(sequence.batch_sizes)
    order = (np.arange(batch_sizes[0]) if sequence.sorted_indices is None
             else np.asarray(sequence.sorted_indices))
    steps, columns = _packed_positions(batch_sizes, order)
    return PackedSequence(padded[steps, columns], *sequence[1:])


# ---- unpacking -------------------------------------------------------------------------------
def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """A ``PackedSequence`` -> ``(padded, lengths)``: ``padded`` ``(T, B, *)`` (``(B, T, *)`` with
    ``batch_first``) in the original batch order, padded with ``padding_value`` up to
    ``total_length`` steps (default: the longest sequence's), and ``lengths`` an int64 Tensor
    ``(B,)``. The inverse of ``pack_padded_sequence``."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: sequence must be a PackedSequence, got "
                        f"{type(sequence).__name__}; pack it with pack_padded_sequence first")
    data = _checks.tensor("pad_packed_sequence", "sequence.data", sequence.data)
    batch_first = _checks.flag("pad_packed_sequence", "batch_first", batch_first)
    _checks.number("pad_packed_sequence", "padding_value", padding_value)
    batch_sizes = np.asarray(sequence.batch_sizes)
    T = len(batch_sizes)
    if total_length is not None:
        # any int: one below the longest sequence's length gets PyTorch's ValueError below
        total_length = _checks.size("pad_packed_sequence", "total_length", total_length, -2**63)
        if total_length < T:
            raise ValueError(f"pad_packed_sequence: expected total_length to be at least the "
                             f"length of the longest sequence in input, but got total_length="
                             f"{total_length} and max sequence length being {T}")
        T = total_length
    rows, lengths = _padded_rows(batch_sizes, T)
    if sequence.unsorted_indices is not None:  # the columns back in the original order
        unsorted = np.asarray(sequence.unsorted_indices)
        rows, lengths = rows[:, unsorted], lengths[unsorted]
    pad = full((1,) + data.shape[1:], padding_value, dtype=data.dtype)
    padded = cat([data, pad])[rows.T if batch_first else rows]
    return padded, Tensor(lengths)


def _padded_rows(batch_sizes, T):
    """``(rows, lengths)``: ``rows`` ``(T, B)``, the row of ``data`` at each step of each sorted
    sequence, or ``len(data)`` (the padding row) past its end; ``lengths`` int64 ``(B,)``."""
    B, n = batch_sizes[0], batch_sizes.sum()
    starts = np.cumsum(batch_sizes) - batch_sizes
    rows = np.full((T, B), n, dtype=np.int64)
    present = np.arange(B)[None, :] < batch_sizes[:, None]  # (steps, B)
    rows[:len(batch_sizes)][present] = (starts[:, None] + np.arange(B)[None, :])[present]
    return rows, present.sum(0).astype(np.int64)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """A padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) -> the list of its B
    sequences ``(lengths[i], *)``. (PyTorch's transposes its argument in place when not
    ``batch_first``; this one leaves it alone.)"""
    _checks.tensor("unpad_sequence", "padded_sequences", padded_sequences)
    lengths = np.asarray(lengths)
    B = padded_sequences.shape[0 if batch_first else 1]
    if lengths.shape != (B,):
        raise ShapeError(f"unpad_sequence: expected {B} lengths (one per sequence), got shape "
                         f"{lengths.shape}")
    if batch_first:
        return [padded_sequences[i, :n] for i, n in enumerate(lengths.tolist())]
    return [padded_sequences[:n, i] for i, n in enumerate(lengths.tolist())]


def unpack_sequence(packed_sequences):
    """A ``PackedSequence`` -> the list of its sequences ``(L_i, *)``, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
