"""Keep the memory a training step frees for the next step (Linux with glibc only).

A step frees the whole graph's arrays (tens of MB) and the next step allocates them again. glibc
returns freed memory at the top of its heap to the system, and serves arrays it judges big with
fresh ``mmap``s, so every step page-faults all of that memory back in: on the benchmark's W2 LSTM
step, about 3,700 page faults and 10 of 85 ms. Two ``mallopt`` settings keep the memory in the
process instead, as the allocators of deep-learning frameworks do: nothing above 512 MiB of free
heap is trimmed, and arrays below 32 MiB come from the heap.

The price: after a large step the process keeps its peak memory (for reuse) until it exits, in the
main heap and in the heap of every thread that allocated. Set glibc's own ``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_MMAP_THRESHOLD_`` or ``GLIBC_TUNABLES=glibc.malloc...`` (or ``TINYSEQ_MALLOC=default``) and
tinyseq leaves malloc alone.
"""
import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
TRIM_THRESHOLD, MMAP_THRESHOLD = 512 << 20, 32 << 20


def keep_freed_memory():
    """Apply the two settings; returns whether they took effect."""
    if (not sys.platform.startswith("linux") or os.environ.get("TINYSEQ_MALLOC") == "default"
            or "MALLOC_TRIM_THRESHOLD_" in os.environ or "MALLOC_MMAP_THRESHOLD_" in os.environ
            or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "")):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc, whose mallopt these constants are for
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    # the mmap setting first: if glibc refuses it, it sets neither
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
