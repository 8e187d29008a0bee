"""Batches of ids: ``LMStream`` (parallel streams for a language model trained by truncated
backpropagation through time), ``pad_batch`` (sequences of different lengths in one array) and
``batches`` (shuffled minibatch indices). Arrays are time-major, ``(T, B)``, as ``ts.nn.RNN``
takes them.
"""
import operator

import numpy as np

from ..autograd.rng import generator
from .vocab import _int_array as _ids


class LMStream:
    """The id sequence ``ids`` (length ``N``) cut into ``batch_size`` parallel streams, read in
    windows of ``seq_len`` steps (char-rnn's batching, for truncated backpropagation in time).

    Each stream has ``L = (N - 1) // batch_size`` inputs (the tail that does not fit is dropped):
    stream ``b`` is ``ids[b*L : b*L + L + 1]`` (column ``b`` of ``streams``, int64 ``(L + 1, B)``),
    and its targets are its inputs shifted by one.
    Window ``k`` is ``x, y``, two int64 arrays ``(T, B)`` with ``T = seq_len`` (the last window
    of an epoch may be shorter): ``x[:, b] = stream_b[k*T : k*T + T]`` and ``y[:, b]`` the next
    ``T`` ids, ``stream_b[k*T + 1 : k*T + T + 1]``.

    Window ``k + 1`` continues window ``k`` in every column, so a model can carry its hidden
    state ``(num_layers, B, H)`` from one window into the next, detached from the graph:
    gradients flow back ``T`` steps while the state remembers the whole stream.

    >>> stream = LMStream(np.arange(11), batch_size=2, seq_len=3)
    >>> len(stream), stream.stream_len
    (2, 5)
    >>> x, y = stream.window(0)
    >>> x.T.tolist(), y.T.tolist()
    ([[0, 1, 2], [5, 6, 7]], [[1, 2, 3], [6, 7, 8]])
    >>> [x.T.tolist() for x, y in stream][1]
    [[3, 4], [8, 9]]
    """

    def __init__(self, ids, batch_size, seq_len):
        ids = _int_array(ids, "LMStream")
        self.batch_size = _positive(batch_size, "LMStream: batch_size")
        self.seq_len = _positive(seq_len, "LMStream: seq_len")
        self.stream_len = (len(ids) - 1) // self.batch_size
        if self.stream_len < self.seq_len:
            need = self.batch_size * self.seq_len + 1
            raise ValueError(f"LMStream: {len(ids)} ids are too few for {self.batch_size} streams "
                             f"of seq_len={self.seq_len}: need at least batch_size * seq_len + 1 "
                             f"= {need} ids; use more text or a smaller batch_size or seq_len")
        starts = np.arange(self.batch_size) * self.stream_len
        self.streams = ids[np.arange(self.stream_len + 1)[:, None] + starts]  # (L + 1, B)

    def __len__(self):
        """Windows per epoch: ``ceil(L / seq_len)``."""
        return -(-self.stream_len // self.seq_len)

    @property
    def tokens_per_window(self):
        """Targets in a full window: ``seq_len * batch_size``."""
        return self.seq_len * self.batch_size

    def window(self, k):
        """Window ``k`` (modulo ``len(self)``, so epochs wrap): ``x, y`` int64 ``(T, B)``."""
        start = _int(k, "LMStream.window: k") % len(self) * self.seq_len
        end = min(start + self.seq_len, self.stream_len)
        return self.streams[start:end].copy(), self.streams[start + 1:end + 1].copy()

    def __iter__(self):
        """The windows of one epoch, in order."""
        return (self.window(k) for k in range(len(self)))

    def __repr__(self):
        return (f"LMStream(batch_size={self.batch_size}, seq_len={self.seq_len}, "
                f"stream_len={self.stream_len}, windows={len(self)})")


def pad_batch(sequences, pad_id=0):
    """Sequences of ids of different lengths as one int64 array ``(T_max, B)`` filled out with
    ``pad_id``, and their lengths, int64 ``(B,)`` (the ``lengths`` that ``ts.nn.RNN`` takes).

    >>> ids, lengths = pad_batch([[5, 6, 7], [8]])
    >>> ids.T.tolist(), lengths.tolist()
    ([[5, 6, 7], [8, 0, 0]], [3, 1])
    """
    if isinstance(sequences, str) or not hasattr(sequences, "__iter__"):
        raise TypeError(f"pad_batch: sequences must be a list of id sequences, got "
                        f"{type(sequences).__name__}")
    sequences = [_int_array(seq, f"pad_batch: sequence {b}") for b, seq in enumerate(sequences)]
    if not sequences:
        raise ValueError("pad_batch: no sequences given")
    pad_id = _int(pad_id, "pad_batch: pad_id")
    if not np.iinfo(np.int64).min <= pad_id <= np.iinfo(np.int64).max:
        raise ValueError(f"pad_batch: pad_id {pad_id} does not fit in int64")
    lengths = np.array([len(seq) for seq in sequences], dtype=np.int64)
    if not lengths.all():
        raise ValueError(f"pad_batch: sequence {int(np.argmin(lengths))} is empty; every "
                         "sequence needs at least one id")
    try:
        ids = np.full((lengths.max(), len(sequences)), pad_id, dtype=np.int64)
    except MemoryError:
        need = lengths.max() * len(sequences) * 8 / 2 ** 30
        raise MemoryError(f"pad_batch: {len(sequences)} sequences padded to the longest, "
                          f"{lengths.max()} ids, need {need:.3g} GiB, more memory than there is; "
                          "batch sequences of similar lengths") from None
    for b, seq in enumerate(sequences):
        ids[:len(seq), b] = seq
    return ids, lengths


def batches(n, batch_size, rng=None):
    """One epoch of minibatches of ``range(n)``: int64 index arrays ``(batch_size,)`` (the last
    may be smaller) in a new random order each call. ``rng`` is a ``numpy.random.Generator``;
    None uses tinyseq's (``ts.manual_seed`` makes it reproducible).

    >>> sorted(np.concatenate(list(batches(5, 2))).tolist())
    [0, 1, 2, 3, 4]
    >>> [len(b) for b in batches(5, 2)]
    [2, 2, 1]
    """
    step = _positive(batch_size, "batches: batch_size")
    n = _int(n, "batches: n")
    if n < 0:
        raise ValueError(f"batches: n must be at least 0, got {n}")
    if not (rng is None or hasattr(rng, "permutation")):
        raise TypeError(f"batches: rng must be a numpy.random.Generator or None, got "
                        f"{type(rng).__name__}; e.g. numpy.random.default_rng(seed)")
    try:
        order = (generator() if rng is None else rng).permutation(n)
    except MemoryError:
        raise MemoryError(f"batches: n={n} indices need {8 * n / 2 ** 30:.3g} GiB, more "
                          "memory than there is") from None
    return (order[i:i + step] for i in range(0, n, step))


def _int_array(ids, where):
    """``ids`` (a list, numpy array or Tensor) as a 1-D int64 array."""
    arr = _ids(ids, where)
    if arr.ndim != 1:
        raise ValueError(f"{where}: expected a 1-D sequence of ids, got shape {arr.shape}")
    return arr.astype(np.int64, copy=False)


def _int(n, name):
    """``n`` as an int (numpy ints too, not bools); TypeError naming ``name`` otherwise."""
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise TypeError(f"{name} must be an int, got {type(n).__name__} {n!r:.20}")
    return operator.index(n)


def _positive(n, name):
    """``n`` as an int, ValueError unless it is at least 1."""
    n = _int(n, name)
    if n < 1:
        raise ValueError(f"{name} must be at least 1, got {n}")
    return n
