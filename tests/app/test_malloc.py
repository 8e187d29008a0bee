"""glibc's malloc: ``import tinyseq`` leaves it alone; ``keep_freed_memory()``, which the
``tinyseq`` command calls at its start, keeps freed memory for the next training step, so a step
that frees and allocates again the same arrays does not page-fault them back in."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")

STEPS = """
import resource, sys
import numpy as np
import tinyseq
from tinyseq.app import tuning

tuned = tuning.keep_freed_memory() if {call} else None

def step():  # what a training step does to memory: 40 MB of new arrays, then all freed
    arrays = [np.ones(n) for n in [4_000, 30_000, 120_000, 1_000_000] * 4]
    return sum(a.size for a in arrays)

step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(tuned, faults)
"""
PAGES = 5 * 4 * (4_000 + 30_000 + 120_000 + 1_000_000) * 8 // 4096  # touched by the 5 steps


def run(argv, **env):
    out = subprocess.run([sys.executable, *argv], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    tuned, faults = out.stdout.split()
    return {"True": True, "False": False, "None": None}[tuned], int(faults)


def test_freed_arrays_are_reused_without_page_faults():
    tuned, faults = run(["-c", STEPS.format(call=True)])
    if not tuned:
        pytest.skip("not glibc")
    assert faults < PAGES / 1000


def test_import_leaves_malloc_alone():
    _, faults = run(["-c", STEPS.format(call=False)])
    assert faults > PAGES / 10  # glibc alone hands much of it back and faults it in again


def test_the_command_keeps_freed_memory(tmp_path):
    command = tmp_path / "tinyseq"  # a program of that name starts as the console script does
    command.write_text(STEPS.format(call=False))
    _, faults = run([command])
    _, default_faults = run([command], TINYSEQ_MALLOC="default")
    assert faults < PAGES / 1000 < PAGES / 10 < default_faults


@pytest.mark.parametrize("env", [{"MALLOC_TRIM_THRESHOLD_": "131072"},
                                 {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"},
                                 {"TINYSEQ_MALLOC": "default"}])
def test_glibc_settings_of_the_user_win(env):
    tuned, _ = run(["-c", STEPS.format(call=True)], **env)
    assert tuned is False
