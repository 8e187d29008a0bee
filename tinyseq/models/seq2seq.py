"""``Seq2Seq``: the course's basic encoder-decoder for T_x ≠ T_y (e.g. machine translation).

An encoder RNN reads the source x⟨1⟩ ... x⟨T_x⟩; its final state, the whole source in one vector,
is the decoder's a⟨0⟩. The decoder is a language model of the target conditioned on that state:
ŷ⟨t⟩ = P(y⟨t⟩ | x, y⟨1⟩ ... y⟨t-1⟩). Training feeds it the true previous token (teacher forcing);
generation feeds back its own choice, greedily or by beam search, until it writes ``<eos>``.
There is no attention: everything the decoder knows of the source is in the encoder's last state.
"""
import math
import warnings

import numpy as np

from .. import nn
from ..autograd.factories import from_numpy
from ..autograd.memory import gib, physical_memory
from ..autograd.mode import no_grad
from ..data import Vocab, pad_batch
from .classifier import check_cell, check_ids, check_int, check_sizes

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}


class Seq2Seq(nn.Module):
    """Encoder-decoder from ``src_vocab``'s tokens to ``tgt_vocab``'s (two ``ts.data.Vocab``).

    Shapes: S source steps, T target steps, B sequences, V = ``len(tgt_vocab)``.
    ``forward(src (S, B), src_lengths (B,), tgt_in (T, B)) -> logits (T, B, V)``, where
    ``tgt_in`` is ``<bos>`` + target and the loss targets are target + ``<eos>`` (``batch`` makes
    all four arrays and ``loss`` the mean cross-entropy, padding ignored). Padding after a
    target's end needs no mask: the decoder runs forward in time, so it cannot change what came
    before, and the loss ignores it. ``dropout`` acts on the embeddings, between stacked layers and
    before the head.

    Decoding (``greedy``, ``beam_search``, ``translate``) runs without a graph and without dropout,
    never proposes ``<pad>`` or ``<bos>``, and stops at ``<eos>`` or after ``max_len`` tokens.
    """

    def __init__(self, src_vocab, tgt_vocab, embedding_dim=32, hidden_size=128, cell="lstm",
                 num_layers=1, dropout=0.0):
        super().__init__()
        for name, vocab in (("src_vocab", src_vocab), ("tgt_vocab", tgt_vocab)):
            if not isinstance(vocab, Vocab):
                raise TypeError(f"Seq2Seq: {name} must be a ts.data.Vocab, got "
                                f"{type(vocab).__name__}; make one with Vocab.build(text)")
        check_sizes("Seq2Seq", embedding_dim=embedding_dim, hidden_size=hidden_size,
                    num_layers=num_layers)
        check_cell("Seq2Seq", cell, CELLS)
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.src_embedding = nn.Embedding(len(src_vocab), embedding_dim, src_vocab.pad_id)
        self.tgt_embedding = nn.Embedding(len(tgt_vocab), embedding_dim, tgt_vocab.pad_id)
        self.encoder = CELLS[cell](embedding_dim, hidden_size, num_layers, dropout=dropout)
        self.decoder = CELLS[cell](embedding_dim, hidden_size, num_layers, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, len(tgt_vocab))

    # ---- teacher forcing ------------------------------------------------------------------------
    def encode(self, src, src_lengths=None):
        """``src`` ``(S, B)`` -> the encoder's state at each source's own last step, the decoder's
        a⟨0⟩: ``(num_layers, B, H)`` (LSTM: the pair ``(h, c)``)."""
        return self._encode(check_ids(src, len(self.src_vocab), "Seq2Seq: src"), src_lengths)

    def decode(self, tgt_in, state):
        """``tgt_in`` ``(T, B)`` from ``state`` -> logits ``(T, B, V)`` and the new state."""
        return self._decode(check_ids(tgt_in, len(self.tgt_vocab), "Seq2Seq: tgt_in"), state)

    def _encode(self, src, src_lengths=None):  # encode, for ids known to be good
        _, state = self.encoder(self.drop(self.src_embedding(src)), lengths=src_lengths)
        return state

    def _decode(self, tgt_in, state):  # decode, for ids known to be good
        out, state = self.decoder(self.drop(self.tgt_embedding(tgt_in)), state)
        return self.head(self.drop(out)), state  # ŷ⟨t⟩ = softmax(W_ya a⟨t⟩ + b_y)

    def forward(self, src, src_lengths, tgt_in):
        """Teacher forcing: logits ``(T, B, V)`` of y⟨t⟩ given the source and ``tgt_in[:t+1]``."""
        src = check_ids(src, len(self.src_vocab), "Seq2Seq: src")
        tgt_in = check_ids(tgt_in, len(self.tgt_vocab), "Seq2Seq: tgt_in")
        if src.shape[1] != tgt_in.shape[1]:
            raise ValueError(f"Seq2Seq: src (S, B) has B={src.shape[1]} sequences but tgt_in "
                             f"(T, B) has B={tgt_in.shape[1]}; give one target per source")
        return self._decode(tgt_in, self._encode(src, src_lengths))[0]

    def batch(self, pairs):
        """``(source, target)`` texts -> ``src (S, B)``, ``src_lengths (B,)``, ``tgt_in (T, B)``
        (``<bos>`` + target) and ``tgt_out (T, B)`` (target + ``<eos>``), padded with pad ids."""
        pairs = _pairs(pairs)
        src, src_lengths = pad_batch([self._source(s, "Seq2Seq.batch", b, warn=False)
                                      for b, (s, _) in enumerate(pairs)], self.src_vocab.pad_id)
        targets = [self.tgt_vocab.encode(t) for _, t in pairs]
        v = self.tgt_vocab
        tgt_in, _ = pad_batch([[v.bos_id, *t] for t in targets], v.pad_id)
        tgt_out, _ = pad_batch([[*t, v.eos_id] for t in targets], v.pad_id)
        return src, src_lengths, tgt_in, tgt_out

    def loss(self, pairs):
        """Mean cross-entropy over every target token and ``<eos>`` of ``pairs`` (a scalar)."""
        src, src_lengths, tgt_in, tgt_out = self.batch(pairs)
        logits = self(src, src_lengths, tgt_in)  # (T, B, V)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           from_numpy(tgt_out.ravel()),
                                           ignore_index=self.tgt_vocab.pad_id)

    def log_prob(self, src, tgt):
        """log P(tgt, ``<eos>`` | src) in nats: Σ_t log ŷ⟨t⟩[y⟨t⟩] (texts or lists of ids)."""
        src = self._source(src, "Seq2Seq.log_prob")
        if isinstance(tgt, str):
            _warn_unknown(self.tgt_vocab, tgt, "Seq2Seq.log_prob: target", stacklevel=2)
        tgt = self._ids(tgt, self.tgt_vocab, "Seq2Seq.log_prob: tgt") + [self.tgt_vocab.eos_id]
        tgt_in = np.array([self.tgt_vocab.bos_id, *tgt[:-1]])[:, None]
        with no_grad(), nn.evaluating(self):
            logits = self._decode(tgt_in, self._encode(np.array(src)[:, None]))[0]  # ids checked
        logp = logits.log_softmax(-1).numpy()[:, 0].astype(np.float64)  # (T, V)
        return float(logp[np.arange(len(tgt)), tgt].sum())

    # ---- generation -----------------------------------------------------------------------------
    def greedy(self, src, max_len=50):
        """The output that takes the likeliest token at every step: a text."""
        src, max_len = self._source(src, "greedy"), check_int("greedy", "max_len", max_len, 0)
        _check_fits("greedy", f"max_len={max_len}", 8 * max_len)
        with no_grad(), nn.evaluating(self):
            return self.tgt_vocab.decode(self._greedy([src], max_len)[:, 0])

    def beam_search(self, src, beam_size=4, max_len=50, length_penalty=0.0):
        """The best output found by a beam search of width ``beam_size``: a text.

        Every step extends each hypothesis in the beam by every token and keeps the
        ``beam_size`` best by summed log-probability Σ log ŷ⟨t⟩. A kept hypothesis that ends in
        ``<eos>`` is finished and leaves the beam, which narrows by one; the search ends when all
        ``beam_size`` have finished, or after ``max_len`` steps. The answer is the finished
        hypothesis with the best score / T_y^α, α = ``length_penalty`` (T_y counts ``<eos>``):
        α = 0 is the plain probability, which favours short outputs; α = 1 the mean per token;
        0.7 is a common compromise. Hypotheses still open after ``max_len`` steps compete too, cut
        there (as greedy decoding returns them), but with α > 0 only if none finished.
        ``beam_size=1`` is greedy decoding.
        """
        beam_size = check_int("beam_search", "beam_size", beam_size, 1)
        max_len = check_int("beam_search", "max_len", max_len, 0)
        vocab = len(self.tgt_vocab)  # a hypothesis: its ids and a row of scores, (V,) float64
        # hypotheses in the beam at once, at most: beam_size, or every output of max_len tokens
        grows = max_len * math.log(vocab) >= math.log(beam_size)
        width = beam_size if grows else vocab ** max_len
        _check_fits("beam_search", f"beam_size={beam_size} with max_len={max_len}",
                    8 * width * (vocab + max_len))
        if isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float)):
            raise TypeError(f"beam_search: length_penalty must be a number (0: none, 0.7: "
                            f"common), got {type(length_penalty).__name__}")
        if not math.isfinite(length_penalty):
            raise ValueError(f"beam_search: length_penalty must be finite, got {length_penalty}")
        with no_grad(), nn.evaluating(self):
            ids = self._beam(self._source(src, "beam_search"), beam_size, max_len,
                             length_penalty)
        return self.tgt_vocab.decode(ids)

    def translate(self, texts, beam_size=1, max_len=50, length_penalty=0.0):
        """Outputs for a list of sources: greedy (batched) for ``beam_size=1``, else one beam
        search per source."""
        if isinstance(texts, str) or not hasattr(texts, "__iter__"):
            raise TypeError(f"translate: texts must be a list of sources, got "
                            f"{type(texts).__name__}; for one text use greedy(text) or "
                            "translate([text])")
        texts = list(texts)
        if check_int("translate", "beam_size", beam_size, 1) != 1:
            return [self.beam_search(t, beam_size, max_len, length_penalty) for t in texts]
        max_len = check_int("translate", "max_len", max_len, 0)
        _check_fits("translate", f"max_len={max_len}", 8 * max_len * len(texts))
        if not texts:
            return []
        sources = []
        for b, text in enumerate(texts):  # a loop, not a comprehension: warnings name the caller
            sources.append(self._source(text, "translate", b))
        with no_grad(), nn.evaluating(self):
            out = self._greedy(sources, max_len)
        return [self.tgt_vocab.decode(col) for col in out.T]

    def _greedy(self, sources, max_len):
        """Token ids ``(max_len, B)``, pad after each ``<eos>``."""
        v = self.tgt_vocab
        src, src_lengths = pad_batch(sources, self.src_vocab.pad_id)
        state = self._encode(src, src_lengths)
        token = np.full(len(sources), v.bos_id)
        out = []  # grows a row a step: a generous max_len costs nothing until it is used
        done = np.zeros(len(sources), dtype=bool)
        for _ in range(max_len):
            logits, state = self._decode(token[None, :], state)
            token = self._log_probs(logits).argmax(-1)  # y⟨t⟩ fed back as y⟨t+1⟩'s input
            out.append(np.where(done, v.pad_id, token))
            done |= token == v.eos_id
            if done.all():
                break
        return np.array(out, dtype=np.int64).reshape(-1, len(sources))

    def _beam(self, source, beam_size, max_len, alpha):
        """The ids of the best hypothesis (without ``<eos>``) for one source."""
        eos = self.tgt_vocab.eos_id
        state = self._encode(np.array(source)[:, None])  # one hypothesis: batch of 1
        hyps, scores, finished = [[]], np.zeros(1), []  # finished: (ids, Σ log ŷ, T_y)
        for t in range(max_len):
            last = [hyp[-1] if hyp else self.tgt_vocab.bos_id for hyp in hyps]
            logits, state = self._decode(np.array(last)[None, :], state)
            total = scores[:, None] + self._log_probs(logits)  # (k, V): every extension
            order = np.argsort(-total, axis=None, kind="stable")[:beam_size - len(finished)]
            order = order[np.isfinite(total.flat[order])]  # a beam wider than the vocabulary
            parents, tokens = np.unravel_index(order, total.shape)
            finished += [(hyps[p], total[p, eos], t + 1) for p in parents[tokens == eos]]
            keep = tokens != eos
            hyps = [hyps[p] + [tok] for p, tok in zip(parents[keep], tokens[keep])]
            scores = total[parents[keep], tokens[keep]]
            if not hyps:
                break
            state = _select(state, parents[keep])
        cut = [(hyp, score, max_len) for hyp, score in zip(hyps, scores)]  # open at max_len
        # (cut ones never paid for <eos>: length-normalised, they would beat finished ones unfairly)
        candidates = finished + cut if alpha == 0 or not finished else finished
        ids, _, _ = max(candidates, key=lambda c: c[1] / c[2] ** alpha)
        return ids

    def _log_probs(self, logits):
        """log ŷ ``(B, V)`` (float64) of one decoding step ``(1, B, V)``; -inf for ``<pad>`` and
        ``<bos>``, which are never outputs."""
        logp = logits[0].log_softmax(-1).numpy().astype(np.float64)
        logp[:, [self.tgt_vocab.pad_id, self.tgt_vocab.bos_id]] = -np.inf
        return logp

    def _source(self, seq, where, b=None, warn=True):
        """A source text or ids as a list of ids, at least one (the encoder needs a step);
        ``warn``: a UserWarning names the tokens of a text that the vocabulary lacks."""
        name = f"{where}: source" + f" {b}" * (b is not None)
        if warn and isinstance(seq, str):
            _warn_unknown(self.src_vocab, seq, name, stacklevel=3)
        ids = self._ids(seq, self.src_vocab, name)
        if not ids:
            raise ValueError(f"{name} {seq!r:.30} has no tokens; every source needs at least one")
        return ids

    @staticmethod
    def _ids(seq, vocab, where):
        """A text (encoded with ``vocab``) or a sequence of ids, as a list of ints."""
        if isinstance(seq, str):
            return vocab.encode(seq)
        if not hasattr(seq, "__iter__"):
            raise TypeError(f"{where} must be a text or a sequence of ids, got "
                            f"{type(seq).__name__}")
        if not hasattr(seq, "__len__") or len(seq) > 0:  # empty: no tokens, refused by _source
            return check_ids(seq, len(vocab), where, ndim=1).tolist()
        return []


def _warn_unknown(vocab, text, where, stacklevel):
    """Warn, as CharLM does, when ``text`` holds tokens that ``vocab`` reads as ``<unk>``."""
    unknown = vocab.unknown(text)
    if unknown:
        listed = ("" if vocab.level == "char" else ", ").join(sorted(unknown))
        warnings.warn(f"{where}: {listed!r} not in the vocabulary: read as <unk>",
                      stacklevel=stacklevel + 1)


def _pairs(pairs):
    """``pairs`` checked to be a non-empty list of ``(source, target)`` texts."""
    if isinstance(pairs, str) or not hasattr(pairs, "__iter__"):
        raise TypeError(f"Seq2Seq.batch: pairs must be a list of (source, target) texts, got "
                        f"{type(pairs).__name__}")
    pairs = list(pairs)
    if not pairs:
        raise ValueError("Seq2Seq.batch: no pairs given")
    for b, pair in enumerate(pairs):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2
                and all(isinstance(text, str) for text in pair)):
            raise TypeError(f"Seq2Seq.batch: pair {b} must be a (source, target) pair of texts, "
                            f"got {pair!r:.40}")
    return pairs



def _select(state, rows):
    """The decoder state of the hypotheses ``rows`` (batch entries), for a GRU or an LSTM."""
    if isinstance(state, tuple):
        return tuple(s[:, rows] for s in state)
    return state[:, rows]


def _check_fits(where, what, need):
    """MemoryError unless ``need`` bytes (the output or the beam, at worst) fit in this machine's
    memory: refused at once, rather than after hours of decoding."""
    memory = physical_memory()
    if need > memory:
        raise MemoryError(f"{where}: {what} could need {gib(need)}, more than this machine's "
                          f"{gib(memory)}; use smaller values")
