"""Checkpoints: ``ts.save(state_dict, path)`` and ``ts.load(path)`` in the safetensors format.

A safetensors file is a JSON header (names, dtypes, shapes, byte offsets) followed by the raw
array bytes, so reading one never runs code: nothing is unpickled. A file that tinyseq saves
loads in PyTorch with ``safetensors.torch.load_file`` and a file saved from PyTorch loads here.

Saving is atomic: the bytes go to a temporary file in the same directory, which is flushed,
fsynced and then renamed onto the final name, so a crash mid-save leaves either the old file
or the new one under that name, never a truncated one.
"""
import os
import tempfile

import numpy as np
import safetensors
import safetensors.numpy

__all__ = ["save", "load", "write_atomic", "CheckpointError"]

# The numpy dtypes that safetensors stores (it also knows bfloat16 and float8, which numpy lacks).
_DTYPES = frozenset(np.dtype(t) for t in (
    np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
    np.float16, np.float32, np.float64, np.complex64))


class CheckpointError(ValueError):
    """A file that is not a valid safetensors checkpoint (truncated, corrupt, or another format)."""


def _as_array(name, value):
    """``value`` (an ndarray, a Tensor, or anything ``np.asarray`` takes) as a C-contiguous array."""
    data = value
    if not isinstance(value, np.ndarray) and isinstance(getattr(value, "data", None), np.ndarray):
        data = value.data  # a Tensor (an ndarray's own ``.data`` is a memoryview: not this)
    try:
        arr = np.asarray(data)
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


def save(state_dict, path, metadata=None):
    """Write ``state_dict`` (name -> array or Tensor) to ``path`` as safetensors; return ``path``.

    Names must be strings and values numeric or bool arrays; the write is atomic (temporary file
    in the same directory, fsync, ``os.replace``). ``metadata`` is an optional dict of str -> str
    stored in the header.

    >>> import os, tempfile, numpy as np, tinyseq as ts
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = ts.save({"w": np.eye(2, dtype=np.float32), "n": ts.tensor([1, 2])},
    ...                 os.path.join(d, "model.safetensors"))
    ...     sd = ts.load(p)
    >>> sorted(sd), sd["w"].dtype, sd["n"].tolist()
    (['n', 'w'], dtype('float32'), [1, 2])
    """
    if not hasattr(state_dict, "items"):
        raise TypeError(f"ts.save: expected a dict of name -> array, got "
                        f"{type(state_dict).__name__}")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"ts.save: key {name!r} is a {type(name).__name__}; "
                            f"checkpoint names must be strings")
        arrays[name] = _as_array(name, value)
    if metadata is not None:
        bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise TypeError(f"ts.save: metadata must map str -> str; bad entry {bad[0]!r}")
        metadata = dict(metadata)
    data = safetensors.numpy.save(arrays, metadata=metadata)

    write_atomic(path, data)
    return path


def write_atomic(path, data):
    """Write ``data`` (bytes) to ``path`` as a whole or not at all: a temporary file in the same
    folder, flushed and fsynced, then renamed onto ``path`` (an old file survives a failure).
    The file gets the usual permissions (those ``open`` would give under the umask)."""
    final = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(final))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(final) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private
        os.replace(tmp, final)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load(path):
    """Read the safetensors file at ``path`` into a dict of name -> numpy array.

    Nothing is unpickled. A missing file raises ``FileNotFoundError``; a truncated, corrupt or
    non-safetensors file raises :class:`CheckpointError` (a ``ValueError``) naming the file.

    >>> import os, tempfile, numpy as np, tinyseq as ts
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "x.safetensors")
    ...     _ = ts.save({"x": np.arange(3)}, p)
    ...     ts.load(p)["x"].tolist()
    [0, 1, 2]
    """
    name = os.fspath(path)
    if not os.path.exists(name):
        raise FileNotFoundError(2, f"ts.load: no checkpoint file {name!r}", name)
    try:
        return dict(safetensors.numpy.load_file(name))
    except safetensors.SafetensorError as e:
        raise CheckpointError(f"ts.load: {name!r} is not a valid safetensors checkpoint "
                              f"(truncated, corrupt, or another format): {e}") from None
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        # The header parsed but describes something numpy cannot build (e.g. bfloat16).
        raise CheckpointError(f"ts.load: {name!r} is not a valid safetensors checkpoint "
                              f"that tinyseq can read: {e}") from None
