"""``import tinyseq`` keeps freed memory for the next training step (glibc): a step that frees and
allocates again the same arrays does not page-fault them back in."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")

STEPS = """
import resource, sys
import numpy as np
import tinyseq
from tinyseq import _malloc

def step():  # what a training step does to memory: 40 MB of new arrays, then all freed
    arrays = [np.ones(n) for n in [4_000, 30_000, 120_000, 1_000_000] * 4]
    return sum(a.size for a in arrays)

step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(_malloc.keep_freed_memory(), faults)
"""


def run(**env):
    out = subprocess.run([sys.executable, "-c", STEPS], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    tuned, faults = out.stdout.split()
    return tuned == "True", int(faults)


def test_freed_arrays_are_reused_without_page_faults():
    tuned, faults = run()
    if not tuned:
        pytest.skip("not glibc")
    _, default_faults = run(TINYSEQ_MALLOC="default")
    pages = 5 * 4 * (4_000 + 30_000 + 120_000 + 1_000_000) * 8 // 4096  # touched by the 5 steps
    assert default_faults > pages / 10  # glibc alone hands much of it back and faults it in again
    assert faults < pages / 1000


def test_glibc_variables_of_the_user_win():
    tuned, _ = run(MALLOC_TRIM_THRESHOLD_="131072")
    assert not tuned


def test_glibc_tunables_of_the_user_win():
    tuned, _ = run(GLIBC_TUNABLES="glibc.malloc.trim_threshold=0")
    assert not tuned
