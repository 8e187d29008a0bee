"""benchmarks/profile_ops.py, the profile behind docs/performance.md, runs and reports what it says:
the phases of a step, an op table whose linear calls match the model, the split of the step and
the fixed cost measured on tiny arrays (with the timers taken off again)."""
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "profile_ops.py"


def test_profile_of_w1_names_its_parts_and_the_fixed_cost():
    out = subprocess.run([sys.executable, str(SCRIPT), "W1", "--steps", "2"], capture_output=True,
                         text=True, timeout=300, check=True).stdout
    step = re.search(r"W1: ([\d.]+) ms per step: forward ([\d.]+) ms, backward ([\d.]+) ms, "
                     r"optimiser ([\d.]+) ms", out)
    assert step, out
    total, *phases = map(float, step.groups())
    assert abs(sum(phases) - total) < 0.15  # the phases add up to the step (rounded to 0.1)
    # W1's RNN: the input projection of all steps, one linear in each of 25 steps, the output layer
    assert re.search(r"forward\s+linear\s+27\s", out), out
    fixed = re.search(r"the same step with H=4, B=1 \(the same 25 time steps and ops, arrays too "
                      r"small to cost anything\): ([\d.]+) ms of ([\d.]+) ms \((\d+)%\)", out)
    assert fixed, out
    tiny, full, share = float(fixed[1]), float(fixed[2]), int(fixed[3])
    # (times are not compared: tests never assert wall-clock; the share is the printed ratio)
    assert tiny > 0 and full > 0 and abs(share - 100 * tiny / full) < 10  # (ms rounded to 0.1)
