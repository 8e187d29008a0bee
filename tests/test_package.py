"""What ``import tinyseq`` does to the process: BLAS runs single-threaded unless you say otherwise."""
import os
import subprocess
import sys

import pytest

import tinyseq as ts

CODE = "import tinyseq, os; print(os.environ['OPENBLAS_NUM_THREADS'])"


def test_blas_is_single_threaded_unless_set():
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "1"
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "2"


def test_subpackages_are_attributes_and_in_dir():
    assert {"nn", "optim", "data", "models", "viz", "course", "app"} <= set(dir(ts))
    assert {"tensor", "no_grad", "exp", "save"} <= set(dir(ts)) and "save" in ts.__all__
    assert ts.viz.draw_graph is ts.viz.draw.draw_graph and ts.nn.Linear.__name__ == "Linear"
    from tinyseq import models

    assert models is ts.models
    with pytest.raises(AttributeError, match="module 'tinyseq' has no attribute 'nope'"):
        ts.nope
