"""How much memory this machine has: sizes that cannot fit are refused in one line, naming the
argument, before numpy tries (numpy may also "succeed" lazily under Linux's overcommit and fail
only when the pages are touched). One place reads it for the ops, the layers and the command."""
import functools
import math
import os


@functools.cache
def physical_memory():
    """Bytes of RAM in this machine (``math.inf`` where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return math.inf


def available_memory():
    """Bytes a new allocation can get now: Linux's ``MemAvailable`` (else the physical memory),
    or less if a cgroup (a container's limit) allows less."""
    have = _meminfo("/proc/meminfo", "MemAvailable:")
    if have is None:
        have = physical_memory()
    limit, used = (_number("/sys/fs/cgroup/memory." + name) for name in ("max", "current"))
    return min(have, limit - used) if limit is not None and used is not None else have


def check_affordable(op, shape, dtype):
    """The bytes a tensor of ``shape`` and ``dtype`` needs; more than this machine has is refused
    in one line before numpy tries (it may succeed lazily, to fail when the memory is touched)."""
    need, have = math.prod(shape) * dtype.itemsize, physical_memory()
    if need > have:
        raise MemoryError(f"{op}: a tensor of shape {shape} and dtype {dtype} needs {gib(need)}, "
                          f"more than this machine's memory ({gib(have)}); use a smaller size")
    return need

def gib(nbytes, places=1):
    """``nbytes`` in GiB, for messages: ``'1.5 GiB'``."""
    return f"{nbytes / 2**30:,.{places}f} GiB"


def _meminfo(path, key):
    try:
        with open(path) as f:
            return next((int(line.split()[1]) * 1024 for line in f if line.startswith(key)),
                        None)
    except OSError:
        return None


def _number(path):
    """The integer in the file at ``path``; None if there is none (or it says ``max``)."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
