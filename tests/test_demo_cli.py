"""The README's first command: ``tinyseq demo`` trains and samples; bad flags exit 2."""
import subprocess
import sys

import numpy as np
import pytest

from tinyseq import cli, demo


def test_demo_training_lowers_the_loss_and_samples_names(capsys):
    losses = demo.run(steps=150, hidden=32, samples=3, seed=1)
    assert np.mean(losses[-20:]) < np.mean(losses[:20]) - 0.3
    out = capsys.readouterr().out
    assert "sampled names:" in out and len(out.split("sampled names:")[1].split(",")) == 3


def test_cli_rejects_bad_flags_with_exit_code_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["demo", "--steps", "0"])
    assert info.value.code == 2
    assert "--steps" in capsys.readouterr().err


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "tinyseq.cli", "demo", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--steps" in out and "names" in out
