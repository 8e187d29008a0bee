"""``load_text``: the training text, from an embedded corpus or a UTF-8 file, with one-line errors
that say what is wrong with the file and how to fix it."""
import codecs
from pathlib import Path

from ..autograd.memory import available_memory

SAMPLE = 8192  # bytes looked at to tell text from binary
BYTES_PER_CHAR = 16  # memory a character of training text takes (its id, the lines, the str)
CONTROL = bytes(b for b in range(32) if chr(b) not in "\t\n\v\f\r\x1b") + b"\x7f"


class DataError(ValueError):
    """The text cannot be used; the message names the file and says how to fix it."""


def load_text(source):
    """``(name, text)`` of ``source``: an embedded corpus name (``"names"``, ``"shakespeare"``)
    or the path of a UTF-8 text file (``name`` is then the file's name).

    A corpus name wins over a file of the same name (write ``./names`` for the file). Line ends
    ``\\r\\n`` and ``\\r`` become ``\\n``; a UTF-8 byte-order mark is dropped.

    >>> name, text = load_text("names")
    >>> name, text.split()[:2]
    ('names', ['emma', 'olivia'])
    """
    from . import CORPORA, corpus  # here, not at the top: the package imports this module

    if isinstance(source, str) and source in CORPORA:
        return source, corpus(source)
    path = Path(source)
    if not path.exists():
        raise DataError(f"no such file or embedded corpus: {source} (the embedded corpora are "
                        f"{', '.join(CORPORA)}); give a corpus name or the path of a text file")
    if path.is_dir():
        raise DataError(f"{path} is a directory; give the path of a text file inside it")
    if not path.is_file():  # opening a pipe waits for a writer; /dev/zero never ends
        raise DataError(f"{path} is not a regular file (a device, pipe or socket); save the "
                        "text to a file and give its path")
    return path.name, _decode(path, _read(path))


def _read(path):
    try:
        size = path.stat().st_size
        if size * BYTES_PER_CHAR > available_memory():
            raise DataError(f"{path} has {size / 2 ** 20:,.0f} MB: too large to train on in "
                            f"this machine's free memory (tinyseq holds the text in memory, "
                            f"about {BYTES_PER_CHAR} bytes per character); use a part of it")
        return path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}; check that it is a readable file")


def _decode(path, data):
    """The text of ``data``, read from ``path``; DataError if binary, not UTF-8 or empty."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError(f"{path} is UTF-16, not UTF-8; re-encode it to UTF-8 "
                        f"(iconv -f utf-16 -t utf-8 {path} > {_fixed(path)})")
    if b"\0" in data or _mostly_control(data[:SAMPLE]):
        raise DataError(f"{path} looks like a binary file, not text; give a UTF-8 text file")
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(_not_utf8(path, data, bom + e.start)) from None
    if not text.strip():
        raise DataError(f"{path} is empty (or only whitespace); give a file with some text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _not_utf8(path, data, offset):
    """The message for ``data`` that is not UTF-8 from byte ``offset`` on."""
    line = data.count(b"\n", 0, offset) + 1
    return (f"{path} is not UTF-8: byte {data[offset]:#04x} at offset {offset} (line {line}) "
            f"cannot be decoded; re-encode the file to UTF-8 (from Latin-1: "
            f"iconv -f latin1 -t utf-8 {path} > {_fixed(path)})")


def _fixed(path):
    """Where to write a re-encoded copy of ``path``."""
    return path.with_name(f"{path.stem}-utf8{path.suffix}")


def _mostly_control(sample):
    """More than a tenth of ``sample``'s bytes are control characters no text file uses."""
    return len(sample) - len(sample.translate(None, CONTROL)) > len(sample) / 10
