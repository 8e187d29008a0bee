"""What ``import tinyseq`` does to the process: nothing (no variable set, subpackages loaded when
first used); the ``tinyseq`` command runs BLAS single-threaded unless you say otherwise
(``tinyseq/app/tuning.py``; its malloc setting: ``tests/app/test_malloc.py``)."""
import os
import subprocess
import sys

import pytest

import tinyseq as ts

BLAS = "import os, tinyseq; print(os.environ.get('OPENBLAS_NUM_THREADS'), " \
       "os.environ.get('MKL_NUM_THREADS'))"
VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run(argv, **env):
    """The stdout of ``python argv`` with neither BLAS variable set, unless ``env`` sets one."""
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    return subprocess.run([sys.executable, *argv], env={**clean, **env}, capture_output=True,
                          text=True, check=True).stdout


def test_import_sets_no_variable():
    assert run(["-c", BLAS]).split() == ["None", "None"]


def test_the_command_runs_blas_single_threaded_unless_set(tmp_path):
    command = tmp_path / "tinyseq"  # a program of that name starts as the console script does
    command.write_text(BLAS)
    assert run([command]).split() == ["1", "1"]
    assert run([command], OPENBLAS_NUM_THREADS="2").split() == ["2", "1"]


@pytest.mark.parametrize("module", ["tinyseq", "tinyseq.app.cli"])
def test_python_m_runs_the_command(module):
    assert run(["-m", module, "graph", "--help"]).startswith("usage: tinyseq graph")


def test_the_examples_start_tuned_like_the_command():
    probe = ("import sys; sys.argv[0] = '-m'; "
             "sys.orig_argv = [sys.executable, '-m', 'tinyseq.app.examples.dates']; " + BLAS)
    assert run(["-c", probe]).split() == ["1", "1"]


@pytest.mark.parametrize("argv", ["del sys.argv", "sys.argv = []", "sys.argv = ['-m']; "
                                  "del sys.orig_argv"])
def test_import_never_fails_on_an_odd_argv(argv):
    """Embedded interpreters may have no argv, or an empty one: importing still works."""
    code = f"import sys; {argv}; import tinyseq; print(tinyseq.ones(2).sum().item())"
    assert run(["-c", code]).split() == ["2.0"]


def test_subpackages_are_attributes_and_in_dir():
    assert {"nn", "optim", "data", "models", "viz", "course", "app"} <= set(dir(ts))
    assert {"tensor", "no_grad", "exp", "save"} <= set(dir(ts)) and "save" in ts.__all__
    assert ts.viz.draw_graph is ts.viz.draw.draw_graph and ts.nn.Linear.__name__ == "Linear"
    from tinyseq import models

    assert models is ts.models
    with pytest.raises(AttributeError, match="module 'tinyseq' has no attribute 'nope'"):
        ts.nope
