"""``ts.data``: text in, ids out.

- ``Vocab``: tokens (characters or words) <-> ids, with ``<pad> <unk> <bos> <eos>`` as ids 0-3,
  one-hot vectors and a JSON file format (``vocab.py``).
- ``LMStream``: parallel streams of ids in windows ``(T, B)`` for truncated backpropagation in
  time; ``pad_batch``: sequences padded to ``(T_max, B)`` with their lengths; ``batches``:
  shuffled minibatch indices (``batching.py``).
- ``load_text``: an embedded corpus or a UTF-8 file, ``DataError`` when it cannot be used
  (``text.py``).
- ``corpus``, ``CORPORA``: the embedded public-domain corpora (see PROVENANCE.md beside this file).
"""
from importlib import resources

from .batching import LMStream, batches, pad_batch
from .text import DataError, load_text
from .vocab import Vocab

CORPORA = {"names": "names.txt", "shakespeare": "tinyshakespeare.txt"}

__all__ = ["Vocab", "LMStream", "pad_batch", "batches", "load_text", "DataError", "corpus",
           "CORPORA"]


def corpus(name):
    """The text of an embedded corpus: ``"names"`` (32,033 first names) or ``"shakespeare"``.

    >>> import tinyseq as ts
    >>> ts.data.corpus("names").split()[:3]
    ['emma', 'olivia', 'ava']
    """
    if not isinstance(name, str) or name not in CORPORA:
        raise ValueError(f"corpus: unknown corpus {name!r}; choose one of {sorted(CORPORA)}")
    return resources.files(__name__).joinpath(CORPORA[name]).read_text(encoding="ascii")
