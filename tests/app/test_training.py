"""Training a language model: it learns (perplexity well below the unigram baseline), Ctrl-C saves,
and a resumed run ends with exactly the weights of an uninterrupted one."""
import os
import signal

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.io import CheckpointError
from tinyseq.app.checkpoint import load_checkpoint
from tinyseq.app.training import LMConfig, Trainer, split


@pytest.fixture
def names(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(ts.data.corpus("names").split()[:3000]))
    return str(path)


def small(data, **kw):
    base = dict(data=data, hidden=48, layers=1, embedding=16, seq_len=16, batch=16, steps=200,
                lr=1e-2, save_every=1000)
    return LMConfig(**{**base, **kw})


@pytest.mark.parametrize("batching", ["lines", "stream"])
def test_a_short_run_beats_the_unigram_baseline_by_far(names, tmp_path, batching):
    trainer = Trainer(small(names, batching=batching), tmp_path / "run")
    result = trainer.run(progress=False)
    assert np.mean(result.losses[-20:]) < np.mean(result.losses[:20]) - 0.5
    assert result.valid_perplexity < 0.75 * result.unigram_perplexity
    assert result.step == 200 and not result.interrupted
    # the held-out number is what tinyseq score computes, line by line from the zero state
    assert result.valid_perplexity == pytest.approx(result.model.perplexity(trainer.valid_text),
                                                    rel=1e-4)


@pytest.mark.parametrize("batching", ["lines", "stream"])
def test_ctrl_c_saves_and_a_resumed_run_ends_with_the_same_weights(names, tmp_path, batching):
    config = small(names, steps=14, dropout=0.2, layers=2, batching=batching)
    straight = Trainer(config, tmp_path / "straight").run(progress=False)

    def interrupt(step):
        if step == 6:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, caught by the trainer

    stopped = Trainer(config, tmp_path / "cut").run(progress=False, on_step=interrupt)
    assert stopped.interrupted and stopped.step == 6
    assert load_checkpoint(tmp_path / "cut").step == 6
    resumed = Trainer(config, tmp_path / "cut", resume=True).run(progress=False)
    assert resumed.step == 14 and resumed.losses == straight.losses
    for (name, a), b in zip(straight.model.state_dict().items(),
                            resumed.model.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_resume_with_other_model_flags_says_which(names, tmp_path):
    Trainer(small(names, steps=2), tmp_path / "run").run(progress=False)
    with pytest.raises(CheckpointError, match=r"--hidden 48 -> 64.*--cell lstm -> gru|"
                                              r"--cell lstm -> gru.*--hidden 48 -> 64"):
        Trainer(small(names, steps=4, hidden=64, cell="gru"), tmp_path / "run", resume=True)


def test_data_too_small_for_the_run_says_so(tmp_path):
    few = tmp_path / "few.txt"
    few.write_text("emma\nava\n")
    with pytest.raises(ts.data.DataError, match="too few: every tenth line is held out"):
        Trainer(small(str(few)), tmp_path / "run")
    some = tmp_path / "some.txt"
    some.write_text("\n".join(["emma"] * 30))
    with pytest.raises(ts.data.DataError, match="too few for --batch 16 streams of --seq-len 16"):
        Trainer(small(str(some), batching="stream"), tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing made before the data is known to be fine


def test_checkpoint_folder_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no folder"):
        load_checkpoint(tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match="has no checkpoint.safetensors"):
        load_checkpoint(tmp_path)
    ts.save({"w": np.ones(2)}, tmp_path / "checkpoint.safetensors")
    with pytest.raises(CheckpointError, match="not a tinyseq language-model checkpoint"):
        load_checkpoint(tmp_path)


def test_every_tenth_line_is_held_out():
    train, valid = split("\n".join(f"w{i}" for i in range(30)))
    assert valid.split() == ["w9", "w19", "w29"]
    assert len(train.split()) == 27 and "w9" not in train.split()


def test_sigterm_stops_after_the_step_and_saves_like_ctrl_c(names, tmp_path):
    def terminate(step):
        if step == 3:
            os.kill(os.getpid(), signal.SIGTERM)  # what kill, timeout and schedulers send

    result = Trainer(small(names, steps=10), tmp_path / "run").run(progress=False,
                                                                   on_step=terminate)
    assert result.interrupted and result.signal == signal.SIGTERM and result.step == 3
    assert load_checkpoint(tmp_path / "run").step == 3
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # put back after the run


def test_a_trained_folder_is_kept_unless_resumed_or_overwritten(names, tmp_path):
    Trainer(small(names, steps=1), tmp_path / "run").run(progress=False)
    with pytest.raises(CheckpointError, match="already holds a trained model: add --resume"):
        Trainer(small(names, steps=2), tmp_path / "run")
    assert Trainer(small(names, steps=2), tmp_path / "run", overwrite=True).step == 0
