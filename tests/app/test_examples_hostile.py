"""The runnable examples (``python -m tinyseq.app.examples.classify`` / ``.dates``) refuse bad
flags, and values the library refuses, in one line with exit status 2, as the ``tinyseq`` command
does: before any training where the value is known to be bad."""
import re

import pytest

from tinyseq.app.examples import classify, dates


def refusal(capsys, main, *argv):
    with pytest.raises(SystemExit) as stop:
        main(list(argv))
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "Traceback" not in err
    assert err.startswith("tinyseq: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("main", [classify.main, dates.main], ids=["classify", "dates"])
@pytest.mark.parametrize("argv, words", [
    (("--steps", "-1"), "argument --steps: must be positive, got -1"),
    (("--hidden", "0"), "argument --hidden: must be positive, got 0"),
    (("--batch", "0"), "argument --batch: must be positive, got 0"),
    (("--lr", "nan"), "argument --lr: must be a finite number > 0, got nan"),
    (("--lr", "inf"), "argument --lr: must be a finite number > 0, got inf"),
    (("--seed", "2e3"), "argument --seed: invalid seed value: '2e3'"),
    (("--cell", "cnn"), "argument --cell: invalid choice: 'cnn'"),
    (("--hidden", "1000000000"), "parameters need .* GiB, more than this machine's"),
    (("--batch", "1000000000"), r"\.train: batch_size must be from 1 to the .* training examples, "
                                "got 1000000000"),
])
def test_bad_values_are_one_line_before_training(capsys, main, argv, words):
    err = refusal(capsys, main, *argv)
    assert re.search(words, err), err
    assert "it/s" not in err  # refused before the first training step


@pytest.mark.parametrize("beam", ["65", "100000", "1000000000"])
def test_a_beam_too_wide_is_refused_before_training(capsys, beam):
    err = refusal(capsys, dates.main, "--beam", beam)
    assert "dates.train: beam_size must be from 1 to 64 (each step decodes" in err
    assert err.rstrip().endswith(f"got {beam}") and "it/s" not in err


def test_a_negative_seed_trains_as_torch_seeds_do(capsys):
    classify.main(["--seed", "-1", "--steps", "1", "--hidden", "4"])
    assert "held-out accuracy" in capsys.readouterr().out
