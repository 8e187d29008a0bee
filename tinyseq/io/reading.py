"""Reading a safetensors file: its arrays and its metadata, with one clear error for a file that
is missing, a folder, damaged or of another format. Reading never runs code: nothing is
unpickled."""
import errno
import json
import os
import stat

import safetensors
import safetensors.numpy
from safetensors import safe_open


class CheckpointError(ValueError):
    """A file that is not a valid safetensors checkpoint (truncated, corrupt, or another format)."""


def read(f, who="ts.load"):
    """``(arrays, metadata)`` of the safetensors file ``f`` (a path or a binary file object): its
    entries as numpy arrays and the header's str -> str metadata (``{}`` when it has none).
    ``who`` names the caller in errors."""
    if hasattr(f, "read"):
        return _parse(_read_object(f, who), name_of(f), who)
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
        raise _not_safetensors(name, size, e, who, _head(name)) from None
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


def name_of(f):
    """A file object's name for messages (``<file object>`` when it has none)."""
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else "<file object>"


def _parse(data, name, who):
    """``(arrays, metadata)`` from the bytes of a safetensors file (the header checked first)."""
    try:
        arrays = safetensors.numpy.load(data)
    except safetensors.SafetensorError as e:
        raise _not_safetensors(name, len(data), e, who, bytes(data[:4])) from None
    except KeyError as e:  # safetensors.numpy has no numpy dtype for it (e.g. BF16)
        raise _unreadable(name, f"data type {e} not understood", who) from None
    except (ValueError, TypeError, OverflowError) as e:
        raise _unreadable(name, e, who) from None
    # safetensors accepted the header: 8-byte little-endian length, then that much JSON.
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    return arrays, header.get("__metadata__") or {}


def _head(name):
    """A file's first bytes (to tell a PyTorch checkpoint from a damaged safetensors file)."""
    try:
        with open(name, "rb") as f:
            return f.read(4)
    except OSError:
        return b""


def _not_safetensors(name, size, error, who, head=b""):
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\x80"):  # torch.save's zip / pickle
        return CheckpointError(
            f"{who}: {name!r} is a PyTorch checkpoint (torch.save's pickle), which tinyseq "
            "cannot read: it never unpickles; in PyTorch, save the state_dict with "
            "safetensors.torch.save_file(model.state_dict(), path) and load that file")
    why = "it is empty" if size == 0 else "truncated, corrupt, or another format"
    return CheckpointError(f"{who}: {name!r} is not a valid safetensors checkpoint ({why}): "
                           f"{error}")


def _unreadable(name, error, who):
    """The header parsed but describes something numpy cannot build (e.g. bfloat16)."""
    return CheckpointError(f"{who}: {name!r} is not a valid safetensors checkpoint that "
                           f"tinyseq can read: {error} (numpy has no bfloat16 or float8: "
                           f"convert such tensors to float32 before saving)")
