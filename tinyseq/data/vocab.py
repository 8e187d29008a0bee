"""``Vocab``: the course's "representing words": build a vocabulary, give every token an id, map
tokens it never saw to ``<unk>``, and one-hot encode the ids.

Ids 0-3 are the special tokens ``<pad> <unk> <bos> <eos>``; the text's own tokens follow from id 4,
most frequent first. A newline is never a token: it ends a line, and ``encode_lines`` writes that
as ``<eos>``.
"""
import json
import operator
from collections import Counter
from pathlib import Path

import numpy as np

from ..autograd.factories import from_numpy
from ..io import checked_path, write_atomic

LEVELS = ("char", "word")
FORMAT = 1


class Vocab:
    """Tokens (characters or words) <-> int ids.

    ``tokens`` are the non-special tokens in id order (ids 4, 5, ...); ``Vocab.build`` makes them
    from a text.

    >>> v = Vocab.build("abba\\ncab")
    >>> v.tokens
    ['<pad>', '<unk>', '<bos>', '<eos>', 'a', 'b', 'c']
    >>> v.encode("cab!")
    [6, 4, 5, 1]
    >>> v.decode([2, 6, 4, 5, 1, 3])
    'cab<unk>'
    >>> Vocab.build("the cat the dog", level="word")
    Vocab(level='word', size=7)
    """

    PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
    SPECIALS = (PAD, UNK, BOS, EOS)
    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    def __init__(self, tokens, level="char"):
        _check_level(level)
        if isinstance(tokens, str) and level == "word" or not hasattr(tokens, "__iter__"):
            raise TypeError(f"Vocab: tokens must be a list of str, got {type(tokens).__name__}; "
                            "to make the vocabulary of a text use Vocab.build(text)")
        tokens = list(tokens)
        _check_tokens(tokens, level)
        self.level = level
        self._tokens = [*self.SPECIALS, *tokens]
        self._ids = {token: i for i, token in enumerate(self._tokens)}

    @classmethod
    def build(cls, text, level="char", max_size=None, min_freq=1):
        """The vocabulary of ``text``: every token seen at least ``min_freq`` times, the most
        frequent first (ties in token order, so the result never depends on chance), at most
        ``max_size`` of them besides the four specials (None: all).

        Char level counts every character but ``"\\n"``; word level counts ``text.split()``
        (a word spelled like a special token, e.g. ``<unk>`` in a prepared corpus, is that token).

        >>> Vocab.build("a b b c c c", level="word", max_size=2).tokens[4:]
        ['c', 'b']
        """
        _check_level(level)
        if max_size is not None:
            max_size = _count(max_size, "max_size", 0)
        min_freq = _count(min_freq, "min_freq", 1)
        _check_text(text, "Vocab.build")
        counts = Counter(text.replace("\n", "") if level == "char" else text.split())
        for special in cls.SPECIALS:
            counts.pop(special, None)
        if not counts:
            blank = "newlines" if level == "char" else "whitespace"
            raise ValueError(f"Vocab.build: no {level}s to build a vocabulary from: the text is "
                             f"empty or only {blank}")
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = [token for token, count in ranked if count >= min_freq]
        return cls(kept[:max_size], level)

    # ---- tokens and ids ---------------------------------------------------------------------
    def __len__(self):
        return len(self._tokens)

    def __getitem__(self, token):
        """The id of ``token`` (a str); ``unk_id`` if the vocabulary does not have it."""
        if not isinstance(token, str):
            raise TypeError(f"Vocab[token]: a token is a str, got {type(token).__name__} "
                            f"{token!r:.40}; the token of an id is vocab.id_to_token(id)")
        return self._ids.get(token, self.unk_id)

    def __contains__(self, token):
        return isinstance(token, str) and token in self._ids

    @property
    def tokens(self):
        """All tokens in id order, the four specials first (a new list)."""
        return list(self._tokens)

    def id_to_token(self, i):
        """The token of id ``i``; ValueError if there is no such id."""
        try:
            i = operator.index(i)
        except TypeError:
            raise TypeError(f"Vocab.id_to_token: an id is an int, got {type(i).__name__} "
                            f"{i!r:.40}") from None
        _check_range(np.array(i), len(self), "Vocab.id_to_token")
        return self._tokens[i]

    def split(self, text):
        """``text`` cut into this vocabulary's tokens: its characters, or ``text.split()``."""
        _check_text(text, "Vocab")
        return list(text) if self.level == "char" else text.split()

    def unknown(self, text):
        """The set of tokens of ``text`` that encode would read as ``<unk>``.

        >>> sorted(Vocab.build("hello").unknown("hello, world"))
        [' ', ',', 'd', 'r', 'w']
        """
        return {token for token in self.split(text) if token not in self._ids}

    # ---- encoding -----------------------------------------------------------------------------
    def encode(self, text, add_bos=False, add_eos=False):
        """The ids of ``text``'s tokens, unknown ones as ``unk_id`` (at char level that includes
        ``"\\n"``: use ``encode_lines`` for text of many lines).

        >>> Vocab.build("ab").encode("ba", add_bos=True, add_eos=True)
        [2, 5, 4, 3]
        """
        _check_text(text, "Vocab.encode")
        if add_bos not in (0, 1) or add_eos not in (0, 1):
            raise TypeError(f"Vocab.encode: add_bos and add_eos must be True or False, got "
                            f"add_bos={add_bos!r:.20}, add_eos={add_eos!r:.20}")
        ids = [self._ids.get(token, self.unk_id) for token in self.split(text)]
        return [self.bos_id] * int(add_bos) + ids + [self.eos_id] * int(add_eos)

    def encode_lines(self, text):
        """The language-model stream of ``text``: ``[bos] + encode(line) + [eos]`` for every
        line that is not empty, one after the other.

        >>> v = Vocab.build("emma\\nava\\n")
        >>> v.tokens[4:]
        ['a', 'm', 'e', 'v']
        >>> v.encode_lines("emma\\n\\nava\\n")
        [2, 6, 5, 5, 4, 3, 2, 4, 7, 4, 3]
        """
        _check_text(text, "Vocab.encode_lines")
        ids = []
        for line in text.split("\n"):
            if line:
                ids += self.encode(line, add_bos=True, add_eos=True)
        return ids

    def decode(self, ids, skip_special=True):
        """The text of ``ids`` (a list, a numpy array, a Tensor or one int): characters joined
        with ``""``, words with ``" "``.

        ``skip_special`` drops ``<pad>``, ``<bos>`` and ``<eos>`` but keeps ``<unk>``, written
        ``"<unk>"``, so that a token the vocabulary lacked stays visible in the text.

        >>> v = Vocab.build("to be or not", level="word")
        >>> v.decode([2, *v.encode("to be or die"), 3, 0])
        'to be or <unk>'
        >>> v.decode([2, 1, 3], skip_special=False)
        '<bos> <unk> <eos>'
        """
        ids = _int_array(ids, "Vocab.decode")
        if ids.ndim > 1:
            raise ValueError(f"Vocab.decode: expected one sequence of ids, got shape {ids.shape}")
        _check_range(ids, len(self), "Vocab.decode")
        skip = {self.pad_id, self.bos_id, self.eos_id} if skip_special else set()
        tokens = [self._tokens[i] for i in ids.reshape(-1).tolist() if i not in skip]
        return ("" if self.level == "char" else " ").join(tokens)

    def one_hot(self, ids):
        """float32 one-hot vectors of ``ids`` (any shape ``S``): a Tensor ``(*S, len(self))``.

        >>> Vocab.build("ab").one_hot([[4], [5]]).shape
        tinyseq.Size([2, 1, 6])
        >>> Vocab.build("ab").one_hot(5).tolist()
        [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
        """
        ids = _int_array(ids, "Vocab.one_hot")
        _check_range(ids, len(self), "Vocab.one_hot")
        try:
            out = np.zeros((*ids.shape, len(self)), dtype=np.float32)
        except MemoryError:
            raise MemoryError(f"Vocab.one_hot: {ids.size} one-hot vectors of {len(self)} floats "
                              f"need {ids.size * len(self) * 4 / 2 ** 30:.3g} GiB, more memory "
                              "than there is; one-hot fewer ids at a time (or use an Embedding)"
                              ) from None
        np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
        return from_numpy(out)

    # ---- comparing and printing ---------------------------------------------------------------
    def __eq__(self, other):
        if not isinstance(other, Vocab):
            return NotImplemented
        return self.level == other.level and self._tokens == other._tokens

    def __hash__(self):
        return hash((self.level, tuple(self._tokens)))

    def __repr__(self):
        return f"Vocab(level={self.level!r}, size={len(self)})"

    # ---- files ----------------------------------------------------------------------------------
    def to_dict(self):
        """A JSON-able description: ``{"format": 1, "level": ..., "tokens": [non-special...]}``."""
        return {"format": FORMAT, "level": self.level, "tokens": self._tokens[len(self.SPECIALS):]}

    @classmethod
    def from_dict(cls, d):
        """The vocabulary that ``to_dict`` described; ValueError naming what is wrong.

        >>> v = Vocab.build("hello")
        >>> Vocab.from_dict(v.to_dict()) == v
        True
        """
        if not isinstance(d, dict):
            raise ValueError(f"Vocab.from_dict: expected a dict, got {type(d).__name__}")
        if d.get("format") != FORMAT:
            raise ValueError(f"Vocab.from_dict: 'format' must be {FORMAT}, got {d.get('format')!r}")
        tokens = d.get("tokens")
        if not isinstance(tokens, list):
            raise ValueError(f"Vocab.from_dict: 'tokens' must be a list, got {tokens!r:.40}")
        return cls(tokens, d.get("level"))

    def save(self, path):
        """Write the vocabulary as UTF-8 JSON to ``path`` atomically (a temporary file beside it,
        then a rename: a crash never leaves half a file). Returns the path."""
        path = checked_path(path, "Vocab.save")
        try:
            data = json.dumps(self.to_dict(), ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (text read with surrogateescape): \u escapes
            data = json.dumps(self.to_dict()).encode("ascii")
        return Path(write_atomic(path, data, who="Vocab.save"))

    @classmethod
    def load(cls, path):
        """The vocabulary that ``save`` wrote to ``path``.

        FileNotFoundError if there is no such file; ValueError if it is not a vocabulary file.
        """
        path = checked_path(path, "Vocab.load")
        if not path.exists():
            raise FileNotFoundError(f"Vocab.load: {path} does not exist")
        if not path.is_file():
            raise ValueError(f"Vocab.load: {path} is not a tinyseq vocabulary file: it is a "
                             "folder, pipe or device; give the .json file that Vocab.save wrote")
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except RecursionError:
            raise ValueError(f"Vocab.load: {path} is not a tinyseq vocabulary file (written by "
                             "Vocab.save): its JSON is nested too deeply") from None
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise ValueError(f"Vocab.load: {path} is not a tinyseq vocabulary file "
                             f"(written by Vocab.save): {e}") from e


def _int_array(ids, where):
    """``ids`` (ints, a list, a numpy array or a Tensor) as an integer array of the same shape,
    every id within int64."""
    if isinstance(ids, str):
        raise TypeError(f"{where}: ids must be integers, got the str {ids!r:.40}; the ids of a "
                        "text are vocab.encode(text)")
    try:
        arr = np.asarray(ids)
    except ValueError:  # a ragged nested list
        raise ValueError(f"{where}: ids must be a flat sequence of ints, got a ragged nested "
                         "list") from None
    if arr.size and arr.dtype.kind not in "iu":
        what = " (None, ints beyond int64 or other objects)" * (arr.dtype == object)
        raise TypeError(f"{where}: ids must be integers, got dtype {arr.dtype}{what}")
    if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{where}: id {arr.max()} is out of range (beyond int64)")
    return arr if arr.size else arr.astype(np.int64)


def _check_range(ids, size, where):
    """ValueError naming the first id of ``ids`` outside ``[0, size)``."""
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        bad = ids.min() if ids.min() < 0 else ids.max()
        raise ValueError(f"{where}: id {bad} is out of range: this vocabulary has ids 0 to "
                         f"{size - 1}")


def _check_text(text, where):
    if not isinstance(text, str):
        raise TypeError(f"{where}: text must be a str, got {type(text).__name__}")


def _count(n, name, least):
    """``n`` (an int, not a bool) as an int of at least ``least``, for ``Vocab.build``."""
    if isinstance(n, bool) or not hasattr(n, "__index__") or operator.index(n) < least:
        raise ValueError(f"Vocab.build: {name} must be an int >= {least}"
                         + " or None" * (name == "max_size") + f", got {n!r}")
    return operator.index(n)


def _check_level(level):
    if level not in LEVELS:
        raise ValueError(f"Vocab: level must be 'char' or 'word', got {level!r}")


def _check_tokens(tokens, level):
    """Non-special tokens must be distinct non-empty strings (single characters at char level)."""
    for token in tokens:
        if not isinstance(token, str) or not token:
            raise ValueError(f"Vocab: tokens must be non-empty strings, got {token!r}")
        if level == "char" and len(token) != 1:
            raise ValueError(f"Vocab: a char-level token must be one character, got {token!r}")
        if level == "word" and any(ch.isspace() for ch in token):
            raise ValueError(f"Vocab: a word-level token cannot contain whitespace, got {token!r}")
        if token in Vocab.SPECIALS:
            raise ValueError(f"Vocab: {token!r} is a special token; give only the others")
    if len(set(tokens)) != len(tokens):
        twice = sorted(t for t, n in Counter(tokens).items() if n > 1)
        raise ValueError(f"Vocab: tokens must be distinct; repeated: {twice[:5]}")
