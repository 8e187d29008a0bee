"""``CharLM``: the course's character-level language model, ŷ⟨t⟩ = softmax(W_ya a⟨t⟩ + b_y) on top
of an RNN, GRU or LSTM, with the notes' sampling of novel sequences and the chain rule's
P(y⟨1⟩) P(y⟨2⟩ | y⟨1⟩) ... as ``log_prob``.

Every line of text (a name, a line of verse) is one sequence ``<bos> c1 c2 ... <eos>``: the model
learns P(c1 | <bos>), P(c2 | <bos> c1), ... and P(<eos> | the line), so sampling starts from
``<bos>`` and stops at ``<eos>``.
"""
import math
import warnings

import numpy as np

from .. import nn
from ..autograd.mode import no_grad
from ..autograd.rng import generator
from ..autograd.tensor import Tensor
from ..data.vocab import Vocab

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}  # the layer for each cell="..."


class CharLM(nn.Module):
    """A language model over ``vocab``'s tokens (characters or words).

    ``embedding_dim=None`` feeds one-hot vectors x⟨t⟩ (as the notes do); an int learns an
    embedding of that size. ``tie_weights`` shares the embedding with the output layer (it needs
    ``embedding_dim == hidden_size``). ``forward(ids (T, B), state=None)`` returns logits
    ``(T, B, len(vocab))`` and the recurrent state to carry into the next window.
    """

    def __init__(self, vocab, hidden_size, num_layers=1, cell="lstm", embedding_dim=None,
                 dropout=0.0, tie_weights=False):
        super().__init__()
        if not isinstance(vocab, Vocab):
            raise TypeError(f"CharLM: vocab must be a ts.data.Vocab, got {type(vocab).__name__}")
        if cell not in CELLS:
            raise ValueError(f"CharLM: cell must be one of {', '.join(CELLS)}, got {cell!r}")
        if tie_weights and embedding_dim != hidden_size:
            raise ValueError(f"CharLM: tie_weights needs embedding_dim == hidden_size, got "
                             f"{embedding_dim} and {hidden_size}")
        self.vocab = vocab
        self.config = dict(hidden_size=hidden_size, num_layers=num_layers, cell=cell,
                           embedding_dim=embedding_dim, dropout=dropout, tie_weights=tie_weights)
        n = len(vocab)
        self.embedding = nn.Embedding(n, embedding_dim) if embedding_dim else None
        self.rnn = CELLS[cell](embedding_dim or n, hidden_size, num_layers, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, n)
        if tie_weights:
            self.head.weight = self.embedding.weight

    def forward(self, ids, state=None):
        """``ids`` ``(T, B)`` int64 -> logits ``(T, B, V)`` (the scores of ŷ⟨t⟩), new state."""
        ids = ids.numpy() if isinstance(ids, Tensor) else np.asarray(ids)
        x = self.embedding(ids) if self.embedding is not None else self.vocab.one_hot(ids)
        a, state = self.rnn(self.drop(x), state)  # a⟨t⟩ for every t
        return self.head(self.drop(a)), state

    # ---- the chain rule -------------------------------------------------------------------------
    def log_prob(self, text):
        """log P(text) in nats: Σ over lines of log P(<eos> and every token | what came before)."""
        return sum(self._line_log_probs(text))

    def perplexity(self, text):
        """exp(-log P(text) / N), N the predicted tokens (each line's tokens and its <eos>)."""
        lines = self._lines(text)
        nll = -self.log_prob(text) / sum(len(ids) - 1 for ids in lines)
        return _exp(nll)

    def _lines(self, text):
        lines = [[self.vocab.bos_id, *self._encode(line), self.vocab.eos_id]
                 for line in text.splitlines() if line]
        if not lines:
            raise ValueError("CharLM: no text to score (it is empty)")
        return lines

    def _line_log_probs(self, text):
        with no_grad(), nn.evaluating(self):
            for ids in self._lines(text):
                ids = np.asarray(ids, dtype=np.int64)[:, None]  # (T + 1, 1)
                logits, _ = self(ids[:-1])
                logp = logits.log_softmax(-1).numpy()[:, 0]  # (T, V)
                yield float(logp[np.arange(len(logp)), ids[1:, 0]].sum())

    def _encode(self, text):
        unknown = self.vocab.unknown(text)
        if unknown:
            listed = ("" if self.vocab.level == "char" else ", ").join(sorted(unknown))
            warnings.warn(f"CharLM: {listed!r} not in the vocabulary: read as <unk>", stacklevel=3)
        return self.vocab.encode(text)

    # ---- sampling novel sequences ---------------------------------------------------------------
    def sample(self, n=1, prime="", temperature=1.0, top_k=None, max_len=None):
        """``n`` sequences drawn one token at a time from ŷ⟨t⟩, each fed back as x⟨t+1⟩, from
        ``<bos>`` and ``prime`` until ``<eos>`` (or ``max_len`` new tokens, default 200).

        ``temperature`` divides the logits (below 1: safer, towards 0: greedy; above 1: wilder);
        ``top_k`` keeps only the k likeliest tokens; ``<pad>``, ``<bos>`` and ``<unk>`` are never
        drawn. Returns the texts, each starting with ``prime``. Characters of ``prime`` outside
        the vocabulary are read as ``<unk>`` with a warning. Uses the random generator that
        ``ts.manual_seed`` sets.
        """
        if not 0 < temperature < math.inf:
            raise ValueError(f"sample: temperature must be > 0 and finite, got {temperature} "
                             "(small values sample greedily)")
        if top_k is not None and not (isinstance(top_k, int) and 1 <= top_k <= len(self.vocab)):
            raise ValueError(f"sample: top_k must be an int between 1 and {len(self.vocab)}, got "
                             f"{top_k}")
        max_len = 200 if max_len is None else max_len
        if not (isinstance(n, int) and n >= 0 and isinstance(max_len, int) and max_len >= 1):
            raise ValueError(f"sample: n must be an int >= 0 and max_len >= 1, got n={n}, "
                             f"max_len={max_len}")
        if n == 0:
            return []
        start = np.asarray([self.vocab.bos_id, *self._encode(prime)])
        rows, done = [], np.zeros(n, dtype=bool)
        never = [self.vocab.pad_id, self.vocab.bos_id, self.vocab.unk_id]  # not text to write
        with no_grad(), nn.evaluating(self):
            logits, state = self._read(start, n)
            for _ in range(max_len):
                scores = logits.numpy()[-1].copy()
                scores[:, never] = -np.inf
                token = _draw(scores, temperature, top_k)  # (n,)
                rows.append(np.where(done, self.vocab.pad_id, token))
                done |= token == self.vocab.eos_id
                if done.all():
                    break
                logits, state = self(token[None, :], state)
        out = np.stack(rows)
        space = " " if self.vocab.level == "word" and prime.strip() else ""
        return [prime + (space + text if text else "")
                for text in (self.vocab.decode(col) for col in out.T)]

    def _read(self, ids, n, window=256):
        """The logits of the last of ``ids`` and the state after them, for ``n`` copies; read
        ``window`` tokens at a time, so a long prime never holds all its logits at once."""
        state = None
        for i in range(0, len(ids), window):
            logits, state = self(np.repeat(ids[i:i + window, None], n, axis=1), state)
        return logits, state


def _draw(logits, temperature, top_k):
    """One token per row of ``logits`` ``(n, V)``, from softmax(logits / temperature)."""
    z = logits.astype(np.float64)
    with np.errstate(over="ignore"):  # a tiny temperature sends all but the best to -inf: greedy
        z = (z - z.max(axis=1, keepdims=True)) / temperature
    if top_k is not None:
        kth = np.sort(z, axis=1)[:, -top_k][:, None]
        z = np.where(z < kth, -np.inf, z)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    u = generator().random((len(p), 1))
    return np.minimum((p.cumsum(axis=1) < u).sum(axis=1), p.shape[1] - 1)


def _exp(x):
    """``math.exp``, but ``inf`` instead of an OverflowError (and NaN stays NaN)."""
    return math.exp(x) if x < 709 else (math.inf if x == x else x)
