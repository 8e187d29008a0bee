"""``SequenceClassifier``: the course's many-to-one RNN (e.g. sentiment classification).

The RNN reads x⟨1⟩ ... x⟨T_x⟩ and only its last state a⟨T_x⟩ is read out: ŷ = W_ya a⟨T_x⟩ + b_y
(logits; softmax lives in the loss). In a padded batch "last" is each sequence's own last step.
"""
import numpy as np

from .. import nn
from ..autograd.mode import no_grad
from ..autograd.tensor import Tensor

CELLS = nn.recurrent.LAYERS


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
    (2, 3)
    >>> model.predict(ids, lengths=[3, 2]).dtype
    dtype('int64')
    """

    def __init__(self, vocab_size, num_classes, embedding_dim=32, hidden_size=64, cell="lstm",
                 num_layers=1, bidirectional=False, dropout=0.0, pad_id=0):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"SequenceClassifier: cell must be one of {', '.join(CELLS)}, "
                             f"got {cell!r}")
        self.directions = 2 if bidirectional else 1
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_id)
        self.rnn = CELLS[cell](embedding_dim, hidden_size, num_layers, dropout=dropout,
                               bidirectional=bidirectional)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(self.directions * hidden_size, num_classes)

    def forward(self, ids, lengths=None):
        """``ids`` ``(T, B)`` int64, ``lengths`` ``(B,)`` (default: all T) -> logits ``(B, C)``."""
        ids = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
        _, state = self.rnn(self.drop(self.embedding(ids)), lengths=lengths)
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM: (h_n, c_n)
        top = h_n[-self.directions:]  # (D, B, H): a⟨T_x⟩ of the top layer, each direction
        features = top[0] if self.directions == 1 else top.permute(1, 0, 2).flatten(1)
        return self.head(self.drop(features))  # ŷ = W_ya a⟨T_x⟩ + b_y

    def predict(self, ids, lengths=None):
        """The most likely class of each sequence, ``(B,)`` int64, without dropout or a graph."""
        with no_grad(), nn.evaluating(self):
            return self(ids, lengths).data.argmax(-1).astype(np.int64)
