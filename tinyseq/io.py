"""Checkpoints: ``ts.save(state_dict, f)`` and ``ts.load(f)`` in the safetensors format.

A safetensors file is a JSON header (names, dtypes, shapes, byte offsets) followed by the raw
array bytes, so reading one never runs code: nothing is unpickled. A file that tinyseq saves
loads in PyTorch with ``safetensors.torch.load_file`` and a file saved from PyTorch loads here.
``f`` is a path or a binary file object. ``ts.load`` gives Tensors, as ``torch.load`` of a saved
state_dict does.

Two entries on the same memory (a model's tied weights: ``decoder.weight`` and ``encoder.weight``)
are written as two copies, which safetensors' numpy API allows (its torch API refuses them): the
file then loads anywhere as an ordinary state_dict, and a tied model that loads it stays tied,
since the tie is the model's (one Parameter under two names), not the file's.

Saving to a path is atomic: the bytes go to a temporary file in the same directory, which is
flushed, fsynced and then renamed onto the final name, so a crash mid-save leaves either the old
file or the new one under that name, never a truncated one (and no temporary file).
"""
import errno
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import safetensors
import safetensors.numpy
from safetensors import safe_open

from .autograd.tensor import Tensor

__all__ = ["save", "load", "load_with_metadata", "write_atomic", "CheckpointError"]

# The numpy dtypes that both safetensors and tinyseq's tensors hold (safetensors also knows
# bfloat16 and float8, which numpy lacks, and complex64, which tinyseq's tensors lack).
_DTYPES = frozenset(np.dtype(t) for t in (
    np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
    np.float16, np.float32, np.float64))

# Why a write failed, by errno, in words that say what to do.
_WRITE_CAUSES = {
    errno.ENOSPC: "no space left on the device (free some space or write elsewhere)",
    errno.EDQUOT: "the disk quota is exceeded (free some space or write elsewhere)",
    errno.EROFS: "the file system is read-only (write elsewhere)",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "that is a folder (give a file name inside it)",
    errno.ENAMETOOLONG: "the file name is too long",
}


class CheckpointError(ValueError):
    """A file that is not a valid safetensors checkpoint (truncated, corrupt, or another format)."""


def _as_array(name, value):
    """``value`` (an ndarray, a Tensor, or anything ``np.asarray`` takes) as a C-contiguous
    array."""
    try:
        arr = np.asarray(value)  # a Tensor gives its array (``__array__``)
    except Exception as e:
        raise TypeError(f"ts.save: entry {name!r} ({type(value).__name__}) cannot be made into "
                        f"an array: {e}") from e
    if arr.dtype.newbyteorder("=") not in _DTYPES:
        kept = ", ".join(sorted(str(d) for d in _DTYPES))
        raise TypeError(f"ts.save: entry {name!r} has dtype {arr.dtype}, which a checkpoint "
                        f"cannot store; use one of: {kept}")
    # Not np.ascontiguousarray: it turns a 0-d array into shape (1,).
    return arr if arr.flags.c_contiguous else np.array(arr, order="C")


def _write_all(f, data):
    """Write ``data`` to the open file ``f`` (a seam the tests replace to simulate a crash)."""
    f.write(data)


def save(state_dict, f, metadata=None):
    """Write ``state_dict`` (name -> Tensor or array) to ``f`` as safetensors; return ``f``.

    ``f`` is a path (written atomically: temporary file in the same folder, fsync,
    ``os.replace``) or a binary file object (written at its position). Names must be strings
    and values numeric or bool arrays; ``metadata`` is an optional dict of str -> str stored in
    the header. A failed write raises ``OSError`` naming ``f`` and the cause; an old file there
    is left as it was.

    >>> import os, tempfile, numpy as np, tinyseq as ts
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = ts.save({"w": np.eye(2, dtype=np.float32), "n": ts.tensor([1, 2])},
    ...                 os.path.join(d, "model.safetensors"))
    ...     sd = ts.load(p)
    >>> sorted(sd), type(sd["w"]).__name__, sd["w"].shape, sd["n"].tolist()
    (['n', 'w'], 'Tensor', (2, 2), [1, 2])
    """
    data = _serialize(state_dict, metadata)
    if hasattr(f, "write"):
        try:
            f.write(data)
        except TypeError:  # a text-mode file takes str only
            raise TypeError("ts.save: the file object takes text; open the file in binary mode "
                            "('wb')") from None
        return f
    return write_atomic(f, data, who="ts.save")


def _serialize(state_dict, metadata):
    """The safetensors bytes of ``state_dict`` and ``metadata``, after checking both."""
    if hasattr(state_dict, "state_dict") and hasattr(state_dict, "parameters"):  # a Module
        raise TypeError(f"ts.save: a whole {type(state_dict).__name__} module cannot be saved "
                        "(safetensors files hold arrays, never pickled code); save its weights "
                        "with ts.save(model.state_dict(), f) and load them into a new model with "
                        "model.load_state_dict(ts.load(f))")
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"ts.save: expected a dict of name -> array, got "
                        f"{type(state_dict).__name__}")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"ts.save: key {name!r} is a {type(name).__name__}; "
                            f"checkpoint names must be strings")
        if name == "__metadata__":
            raise ValueError("ts.save: '__metadata__' is reserved by the safetensors format for "
                             "the header's metadata; rename that entry")
        arrays[name] = _as_array(name, value)
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"ts.save: metadata must be a dict of str -> str, got "
                            f"{type(metadata).__name__}")
        bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise TypeError(f"ts.save: metadata must map str -> str; bad entry {bad[0]!r}")
    try:
        return safetensors.numpy.save(arrays, metadata=metadata)
    except safetensors.SafetensorError as e:  # e.g. a header over safetensors' 100 MB limit
        raise ValueError(f"ts.save: safetensors cannot store this state dict ({e}); "
                         f"use shorter names or less metadata") from None


def checked_path(path, where):
    """``path`` (a str or os.PathLike) as a ``Path``; TypeError or ValueError naming ``where``."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where}: path must be a str or a pathlib.Path, got "
                        f"{type(path).__name__}")
    if not os.fspath(path):
        raise ValueError(f"{where}: the path is empty; give a file name")
    return Path(path)


def write_atomic(path, data, who=None):
    """Write ``data`` (bytes) to ``path`` as a whole or not at all: a temporary file in the same
    folder, flushed and fsynced, then renamed onto ``path`` (an old file survives a failure, and
    the temporary file is removed). The file gets the usual permissions (those ``open`` would give
    under the umask). A failure raises ``OSError`` naming ``path`` and the cause, prefixed with
    ``who`` (the caller's name) when given."""
    final = os.fspath(path)
    prefix = f"{who}: " if who else ""
    if not final or "\0" in final:
        raise FileNotFoundError(errno.ENOENT, f"{prefix}cannot write {final!r}: a path must be "
                                f"non-empty and free of NUL characters")
    directory = os.path.dirname(os.path.abspath(final))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(final) + ".",
                                   suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private
        os.replace(tmp, final)
    except BaseException as e:
        if tmp is not None:
            _remove(tmp)
        if isinstance(e, OSError) and e.errno is not None:
            raise OSError(e.errno, f"{prefix}{_write_failure(final, directory, e)}") from None
        raise
    return path


def _write_failure(final, directory, error):
    """One line: which file could not be written, why, and what became of an old one."""
    if error.errno == errno.ENOENT and not os.path.isdir(directory):
        cause = f"the folder {directory!r} does not exist (create it first)"
    elif error.errno == errno.ENOTDIR:
        cause = f"a part of {directory!r} is a file, not a folder"
    else:
        cause = _WRITE_CAUSES.get(error.errno, error.strerror or str(error))
    kept = "; the existing file is unchanged" if os.path.isfile(final) else ""
    return f"cannot write {final!r}: {cause}{kept}"


def _remove(path):
    """Delete ``path`` if it is there (a failed write's temporary file)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load(f, map_location=None, weights_only=True):
    """Read the safetensors file ``f`` (a path or a binary file object) into a dict of
    name -> Tensor (not requiring grad), as ``torch.load`` of a saved state_dict gives.

    Nothing is unpickled, so ``weights_only`` (accepted for PyTorch's signature) is always true
    in effect; ``map_location`` may be ``None``, ``"cpu"`` or ``ts.device("cpu")`` (tinyseq runs
    on the CPU). A missing file raises ``FileNotFoundError``, a folder ``IsADirectoryError``; an
    empty, truncated, corrupt or non-safetensors file raises :class:`CheckpointError` (a
    ``ValueError``) naming it, and so does an entry that a tinyseq tensor cannot hold (complex).

    >>> import os, tempfile, numpy as np, tinyseq as ts
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "x.safetensors")
    ...     _ = ts.save({"x": np.arange(3)}, p)
    ...     ts.load(p)["x"]
    tensor([0, 1, 2])
    """
    if map_location is not None and str(map_location) != "cpu":
        raise ValueError(f"ts.load: map_location must be None or 'cpu' (tinyseq runs on the "
                         f"CPU), got {map_location!r}")
    if not (weights_only is None or isinstance(weights_only, bool)):  # (None: torch's default)
        raise TypeError(f"ts.load: weights_only must be None or a bool, got {weights_only!r}")
    arrays = load_with_metadata(f)[0]
    for name, a in arrays.items():
        if a.dtype.newbyteorder("=") not in _DTYPES:
            where = _name_of(f) if hasattr(f, "read") else os.fspath(f)
            raise CheckpointError(f"ts.load: entry {name!r} of {where!r} is {a.dtype}, "
                                  f"which tinyseq tensors cannot hold; read it with "
                                  f"safetensors.numpy.load_file instead")
    return {name: Tensor(a) for name, a in arrays.items()}


def load_with_metadata(f, who="ts.load"):
    """``(arrays, metadata)`` of the safetensors file ``f`` (a path or a binary file object):
    ``load``'s entries as numpy arrays and the header's str -> str metadata (``{}`` when it has
    none). ``who`` names the caller in errors."""
    if hasattr(f, "read"):
        return _parse(_read_object(f, who), _name_of(f), who)
    try:
        name = os.fspath(f)
    except TypeError:
        raise TypeError(f"{who}: expected a path or a binary file object, got "
                        f"{type(f).__name__}") from None
    size = _check_file(name, who)
    try:
        with safe_open(name, framework="numpy") as handle:
            return {k: handle.get_tensor(k) for k in handle.keys()}, handle.metadata() or {}
    except safetensors.SafetensorError as e:
        raise _not_safetensors(name, size, e, who) from None
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise _unreadable(name, e, who) from None
    except OSError as e:
        raise OSError(e.errno, f"{who}: cannot read {name!r}: {e.strerror or e}") from None


def _check_file(name, who):
    """``name``'s size in bytes, once it is known to be a regular file (else a clear error)."""
    try:
        st = os.stat(name)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, f"{who}: no checkpoint file {name!r}") from None
    except ValueError:  # os.stat's "embedded null byte"
        raise FileNotFoundError(errno.ENOENT, f"{who}: no checkpoint file {name!r} (a path "
                                f"cannot hold a NUL character)") from None
    except OSError as e:
        raise OSError(e.errno, f"{who}: cannot read {name!r}: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, f"{who}: {name!r} is a folder, not a checkpoint "
                                f"file; give the path of a .safetensors file inside it")
    if not stat.S_ISREG(st.st_mode):
        raise CheckpointError(f"{who}: {name!r} is not a regular file (a device, pipe or "
                              f"socket), so it cannot be a checkpoint")
    return st.st_size


def _read_object(f, who):
    data = f.read()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{who}: the file object gave {type(data).__name__}, not bytes; open "
                        f"the file in binary mode ('rb')")
    return bytes(data)


def _name_of(f):
    """A file object's name for messages (``<file object>`` when it has none)."""
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else "<file object>"


def _parse(data, name, who):
    """``(arrays, metadata)`` from the bytes of a safetensors file (the header checked first)."""
    try:
        arrays = safetensors.numpy.load(data)
    except safetensors.SafetensorError as e:
        raise _not_safetensors(name, len(data), e, who) from None
    except KeyError as e:  # safetensors.numpy has no numpy dtype for it (e.g. BF16)
        raise _unreadable(name, f"data type {e} not understood", who) from None
    except (ValueError, TypeError, OverflowError) as e:
        raise _unreadable(name, e, who) from None
    # safetensors accepted the header: 8-byte little-endian length, then that much JSON.
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    return arrays, header.get("__metadata__") or {}


def _not_safetensors(name, size, error, who):
    why = "it is empty" if size == 0 else "truncated, corrupt, or another format"
    return CheckpointError(f"{who}: {name!r} is not a valid safetensors checkpoint ({why}): "
                           f"{error}")


def _unreadable(name, error, who):
    """The header parsed but describes something numpy cannot build (e.g. bfloat16)."""
    return CheckpointError(f"{who}: {name!r} is not a valid safetensors checkpoint that "
                           f"tinyseq can read: {error} (numpy has no bfloat16 or float8: "
                           f"convert such tensors to float32 before saving)")
