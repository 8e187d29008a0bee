"""What ``import tinyseq`` does to the process: BLAS runs single-threaded unless you say otherwise."""
import os
import subprocess
import sys

CODE = "import tinyseq, os; print(os.environ['OPENBLAS_NUM_THREADS'])"


def test_blas_is_single_threaded_unless_set():
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "1"
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "2"
