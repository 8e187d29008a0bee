"""Checkpoints: ``ts.save(obj, f)`` and ``ts.load(f)`` in the safetensors format, never pickled.

``obj`` is what PyTorch programs give ``torch.save``: a state_dict, a single Tensor, a dict
mixing Tensors and plain values (``{"epoch": 3, "model": model.state_dict(), "optimizer":
opt.state_dict()}``), lists and tuples, nested. A safetensors file is a JSON header (names,
dtypes, shapes, byte offsets) followed by the raw array bytes: each Tensor or numpy array is an
entry named by its key path (``model/encoder.weight``), and the rest of ``obj`` (which entry goes
where, containers, plain values, int keys, tuples, ``requires_grad``) is JSON in the header's
metadata (``structures``). Reading one never runs code: nothing is unpickled. ``ts.load`` gives
back the same structure, as ``torch.load`` does; a file without that JSON (one that PyTorch's
``safetensors.torch.save_file`` wrote, or tinyseq before it saved structures) loads as a dict of
name -> Tensor. A file that tinyseq saves loads with ``safetensors.torch.load_file`` too, as a
flat dict of its entries (a state_dict saved alone keeps its names).

Two entries on the same memory (a model's tied weights: ``decoder.weight`` and ``encoder.weight``)
are written as two copies, which safetensors' numpy API allows (its torch API refuses them): the
file then loads anywhere as an ordinary state_dict, and a tied model that loads it stays tied,
since the tie is the model's (one Parameter under two names), not the file's.

Saving to a path is atomic: the bytes go to a temporary file in the same directory, which is
flushed, fsynced and then renamed onto the final name, so a crash mid-save leaves either the old
file or the new one under that name, never a truncated one (and no temporary file).
"""
import errno
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import safetensors
import safetensors.numpy

from ..autograd.device import device, device_arg
from ..autograd.tensor import Tensor
from . import structures
from .reading import CheckpointError, name_of, read

__all__ = ["save", "load", "load_with_metadata", "write_atomic", "CheckpointError"]

# The metadata entry that holds the JSON description of what was saved.
STRUCTURE = "tinyseq.structure"

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


def _write_all(f, data):
    """Write ``data`` to the open file ``f`` (a seam the tests replace to simulate a crash)."""
    f.write(data)


def save(obj, f, metadata=None):
    """Write ``obj`` to ``f`` as safetensors; return ``f``.

    ``obj`` holds Tensors, numpy arrays (of bool, int, uint or float dtypes), numpy scalars,
    ints, floats, bools, None and strings, in dicts (keys: str, int, float, bool, None or
    tuples of them), lists and tuples, nested up to 100 deep. ``f`` is a path (written
    atomically: temporary file in the same folder, fsync, ``os.replace``) or a binary file
    object (written at its position). ``metadata`` is an optional dict of str -> str stored in
    the header. A failed write raises ``OSError`` naming ``f`` and the cause; an old file there
    is left as it was.

    >>> import io, tinyseq as ts
    >>> buffer = io.BytesIO()
    >>> _ = ts.save({"epoch": 3, "w": ts.ones(2), "sizes": (4, 8)}, buffer)
    >>> _ = buffer.seek(0)
    >>> ts.load(buffer)
    {'epoch': 3, 'w': tensor([1., 1.]), 'sizes': (4, 8)}
    """
    data = _serialize(obj, metadata)
    if hasattr(f, "write"):
        try:
            f.write(data)
        except TypeError:  # a text-mode file takes str only
            raise TypeError("ts.save: the file object takes text; open the file in binary mode "
                            "('wb')") from None
        return f
    return write_atomic(f, data, who="ts.save")


def _serialize(obj, metadata):
    """The safetensors bytes of ``obj`` and ``metadata``, after checking both."""
    if hasattr(obj, "state_dict") and hasattr(obj, "parameters"):  # a Module
        raise TypeError(f"ts.save: a whole {type(obj).__name__} module cannot be saved "
                        "(safetensors files hold arrays, never pickled code); save its weights "
                        "with ts.save(model.state_dict(), f) and load them into a new model with "
                        "model.load_state_dict(ts.load(f))")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"ts.save: metadata must be a dict of str -> str, got "
                            f"{type(metadata).__name__}")
        bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise TypeError(f"ts.save: metadata must map str -> str; bad entry {bad[0]!r}")
        if STRUCTURE in metadata:
            raise ValueError(f"ts.save: the metadata entry {STRUCTURE!r} is tinyseq's own (it "
                             f"describes what was saved); rename that entry")
    arrays, description = structures.encode(obj)
    try:
        return safetensors.numpy.save(arrays, metadata={**(metadata or {}),
                                                        STRUCTURE: description})
    except safetensors.SafetensorError as e:  # e.g. a header over safetensors' 100 MB limit
        raise ValueError(f"ts.save: safetensors cannot store this object ({e}); "
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


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None):
    """Read what ``ts.save`` wrote to ``f`` (a path or a binary file object), as ``torch.load``
    does: the same structure, Tensors as Tensors (``requires_grad`` kept, as PyTorch keeps it),
    numpy arrays as numpy arrays, plain values and int keys as they were. A safetensors file
    from elsewhere loads as a dict of name -> Tensor.

    Nothing is unpickled, so ``weights_only`` (``True``, ``False`` or ``None``) and
    ``pickle_module`` change nothing. ``map_location`` is ``None``, ``"cpu"``, a device, a dict
    of location -> location or a function ``(tensor, "cpu") -> tensor or None`` as in PyTorch;
    every tensor was saved from the CPU and stays there (a GPU is refused). ``mmap`` is accepted
    (a path only, as in PyTorch); the arrays are read into memory either way.

    A missing file raises ``FileNotFoundError``, a folder ``IsADirectoryError``; an empty,
    truncated, corrupt or non-safetensors file, or damaged metadata, raises
    :class:`CheckpointError` (a ``ValueError``) naming it, and so does an entry that a tinyseq
    tensor cannot hold (complex).

    >>> import os, tempfile, tinyseq as ts
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = ts.save({0: {"step": 2, "avg": ts.zeros(3)}}, os.path.join(d, "x.safetensors"))
    ...     ts.load(p, map_location="cpu", weights_only=True)
    {0: {'step': 2, 'avg': tensor([0., 0., 0.])}}
    """
    place = _placement(map_location)
    if not (weights_only is None or isinstance(weights_only, bool)):  # (None: torch's default)
        raise TypeError(f"ts.load: weights_only must be None or a bool, got {weights_only!r}")
    if not (mmap is None or isinstance(mmap, bool)):
        raise TypeError(f"ts.load: mmap must be None or a bool, got {mmap!r}")
    if mmap and hasattr(f, "read"):
        raise ValueError("ts.load: f must be a file path in order to use the mmap argument "
                         "(got a file object)")
    arrays, meta = read(f)
    where = name_of(f) if hasattr(f, "read") else os.fspath(f)
    for name, a in arrays.items():
        if a.dtype.newbyteorder("=") not in structures.DTYPES:
            raise CheckpointError(f"ts.load: entry {name!r} of {where!r} is {a.dtype}, "
                                  f"which tinyseq tensors cannot hold; read it with "
                                  f"safetensors.numpy.load_file instead")
    if STRUCTURE not in meta:  # a plain safetensors state_dict: its names in order
        return {name: place(Tensor(arrays[name])) for name in sorted(arrays)}
    try:
        return structures.decode(meta[STRUCTURE], arrays, place)
    except ValueError as e:
        raise CheckpointError(f"ts.load: {where!r} is damaged: its metadata {STRUCTURE!r}, "
                              f"which says what was saved, is not valid: {e}") from None


def _placement(map_location):
    """The function that gives each loaded Tensor its place, from ``map_location`` (checked)."""
    if callable(map_location):
        return lambda tensor: _placed(map_location(tensor, "cpu"), tensor)
    target = map_location.get("cpu") if isinstance(map_location, Mapping) else map_location
    if target is not None:
        if not isinstance(target, (str, device)) and type(target).__name__ != "device":
            raise TypeError(f"ts.load: map_location must be None, a device name such as "
                            f"'cpu', a device, a dict or a function, got {target!r}")
        device_arg("ts.load: map_location", str(target))  # a GPU's one-line refusal
    return lambda tensor: tensor


def _placed(result, tensor):
    """What a ``map_location`` function gave for ``tensor``: None keeps it."""
    if result is None:
        return tensor
    if not isinstance(result, Tensor):
        raise TypeError(f"ts.load: the map_location function returned a "
                        f"{type(result).__name__}; it must return the tensor it was given "
                        f"(or None)")
    return result


def load_with_metadata(f, who="ts.load"):
    """``(arrays, metadata)`` of the safetensors file ``f`` (a path or a binary file object):
    its entries as numpy arrays, by name, and the metadata given to ``ts.save`` (``{}`` when it
    has none). ``who`` names the caller in errors."""
    arrays, meta = read(f, who)
    return arrays, {k: v for k, v in meta.items() if k != STRUCTURE}
