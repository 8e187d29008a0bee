"""What the ``tinyseq`` command changes in its own process for speed; ``import tinyseq`` changes
nothing (docs/performance.md, "What import tinyseq changes in your process").

**One BLAS thread.** tinyseq's matrices are small. On an idle 2-core machine OpenBLAS's second
thread makes the benchmark's W2 LSTM step about a quarter faster, but on a busy one (other
programs on the cores) its threads wait for each other and the step gets 3 to 12 times slower;
``tinyseq train`` on the names, 3 to 4 times slower. numpy reads ``OPENBLAS_NUM_THREADS`` once,
when it loads, so the command sets it at its start (``tinyseq/__init__.py``) and a program sets
it in its environment (``OPENBLAS_NUM_THREADS=1 python train.py``).

**Freed memory kept for the next step** (Linux with glibc only). A step frees the whole graph's
arrays (tens of MB) and the next step allocates them again. glibc returns freed memory at the top
of its heap to the system, and serves arrays it judges big with fresh ``mmap``s, so every step
page-faults all of that memory back in: on W2, about 3,500 page faults a step and 7 to 8% of its
time. Two ``mallopt`` settings keep the memory in the process instead, as the allocators of
deep-learning frameworks do: nothing above 512 MiB of free heap is trimmed, and arrays below
32 MiB come from the heap. The price: after a large step the process keeps its peak memory (for
reuse) until it exits, in the main heap and in the heap of every thread that allocated. A program
may call ``keep_freed_memory()`` at any time.

A setting of the user's wins: ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS``, and glibc's own
``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_`` or ``GLIBC_TUNABLES=glibc.malloc...`` (or
``TINYSEQ_MALLOC=default``: leave malloc alone).
"""
import ctypes
import os
import sys

BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
TRIM_THRESHOLD, MMAP_THRESHOLD = 512 << 20, 32 << 20


def single_threaded_blas():
    """One BLAS thread unless the user chose a number; returns whether it can take effect (only
    before numpy loads its BLAS)."""
    if "numpy" in sys.modules:
        return False
    for variable in BLAS_THREADS:
        os.environ.setdefault(variable, "1")
    return True


def keep_freed_memory():
    """Apply the two ``mallopt`` settings; returns whether they took effect."""
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
