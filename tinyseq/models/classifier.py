"""``SequenceClassifier``: the course's many-to-one RNN (e.g. sentiment classification).

The RNN reads x⟨1⟩ ... x⟨T_x⟩ and only its last state a⟨T_x⟩ is read out: ŷ = W_ya a⟨T_x⟩ + b_y
(logits; softmax lives in the loss). In a padded batch "last" is each sequence's own last step.
"""
import operator

import numpy as np

from .. import nn
from ..autograd.mode import no_grad
from .charlm import CELLS


class SequenceClassifier(nn.Module):
    """Embedding -> RNN/GRU/LSTM -> the last real step's hidden state -> Linear -> logits.

    Many-to-one: one label ŷ for a whole sequence x⟨1⟩ ... x⟨T_x⟩, read from a⟨T_x⟩. With
    ``bidirectional=True`` the readout is ``h_n`` of the top layer in both directions: the forward
    direction's state after the last real token and the reverse direction's after the first one,
    concatenated ``(B, 2·H)``. ``dropout`` acts on the embeddings, between stacked layers and
    before the head; the ``pad_id`` embedding is zero and never trained.

    ``forward(ids (T, B) int64, lengths (B,)) -> logits (B, num_classes)``.

    >>> import tinyseq as ts
    >>> _ = ts.manual_seed(0)
    >>> model = SequenceClassifier(vocab_size=10, num_classes=3, bidirectional=True)
    >>> ids = np.array([[4, 5], [6, 7], [8, 0]])          # (T=3, B=2), 0 pads the second one
    >>> model(ids, lengths=[3, 2]).shape
    tinyseq.Size([2, 3])
    >>> model.predict(ids, lengths=[3, 2]).dtype
    dtype('int64')
    """

    def __init__(self, vocab_size, num_classes, embedding_dim=32, hidden_size=64, cell="lstm",
                 num_layers=1, bidirectional=False, dropout=0.0, pad_id=0):
        super().__init__()
        check_sizes("SequenceClassifier", vocab_size=vocab_size, num_classes=num_classes,
                    embedding_dim=embedding_dim, hidden_size=hidden_size, num_layers=num_layers)
        check_cell("SequenceClassifier", cell, CELLS)
        self.directions = 2 if bidirectional else 1
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_id)
        self.rnn = CELLS[cell](embedding_dim, hidden_size, num_layers, dropout=dropout,
                               bidirectional=bidirectional)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(self.directions * hidden_size, num_classes)

    def forward(self, ids, lengths=None):
        """``ids`` ``(T, B)`` int64, ``lengths`` ``(B,)`` (default: all T) -> logits ``(B, C)``."""
        ids = check_ids(ids, self.embedding.num_embeddings, "SequenceClassifier: ids")
        _, state = self.rnn(self.drop(self.embedding(ids)), lengths=lengths)
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM: (h_n, c_n)
        top = h_n[-self.directions:]  # (D, B, H): a⟨T_x⟩ of the top layer, each direction
        features = top[0] if self.directions == 1 else top.permute(1, 0, 2).flatten(1)
        return self.head(self.drop(features))  # ŷ = W_ya a⟨T_x⟩ + b_y

    def predict(self, ids, lengths=None):
        """The most likely class of each sequence, ``(B,)`` int64, without dropout or a graph."""
        with no_grad(), nn.evaluating(self):
            return self(ids, lengths).numpy().argmax(-1).astype(np.int64)


def check_sizes(owner, **sizes):
    """Each size an int >= 1; the error names ``owner`` and the size."""
    for name, n in sizes.items():
        check_int(owner, name, n, 1)


def check_int(owner, name, n, least):
    """``n`` as an int (numpy ints too, not bools) of at least ``least``."""
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise TypeError(f"{owner}: {name} must be an int, got {type(n).__name__} {n!r:.20}")
    if n < least:
        raise ValueError(f"{owner}: {name} must be at least {least}, got {n}")
    return operator.index(n)


def check_cell(owner, cell, cells):
    if not isinstance(cell, str) or cell not in cells:
        raise ValueError(f"{owner}: cell must be one of {', '.join(cells)}, got {cell!r}")


def check_ids(ids, vocab_size, where, ndim=2):
    """``ids`` as an int64 array ``(T, B)`` (``(T,)`` for ``ndim=1``) with T >= 1 and every id
    in ``[0, vocab_size)``; the errors name ``where`` (e.g. ``"Seq2Seq: src"``)."""
    if isinstance(ids, str):
        raise TypeError(f"{where} must be integer ids, got the str {ids!r:.30}; encode text with "
                        "the model's vocabulary first")
    try:
        arr = np.asarray(ids)
    except ValueError:
        raise ValueError(f"{where} must be a rectangular array of ids, got a ragged nested "
                         "list; pad it with ts.data.pad_batch") from None
    if arr.ndim != ndim:
        shape = "(T, B) with one column per sequence" if ndim == 2 else "(T,)"
        raise ValueError(f"{where} must be {shape}, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{where} has no steps (T=0): every sequence needs at least one id")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{where} must be integer ids, got dtype {arr.dtype}; convert with "
                        ".astype(np.int64) (a Tensor: .long())")
    if arr.size and (arr.min() < 0 or arr.max() >= vocab_size):
        bad = arr.min() if arr.min() < 0 else arr.max()
        raise IndexError(f"{where}: id {bad} is out of range: the vocabulary has {vocab_size} "
                         f"ids, 0 to {vocab_size - 1}")
    return arr.astype(np.int64, copy=False)
