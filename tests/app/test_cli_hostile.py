"""The command line attacked as a careless or hostile user would (issue 13): every bad input is
refused in one line with exit status 2 and no traceback, signals save like Ctrl-C, and nothing the
user had (a checkpoint, a file) is lost or changed."""
import dataclasses
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinyseq as ts
from tinyseq.app import cli
from tinyseq.autograd import rng
from tinyseq.io import CheckpointError
from tinyseq.app.checkpoint import load_checkpoint, save_checkpoint
from tinyseq.app.training import LMConfig, Trainer, TrainingDiverged

ROOT = Path(__file__).resolve().parents[2]  # the checkout this file is in
TINY = ["--hidden", "8", "--layers", "1", "--embedding", "4", "--batch", "4", "--samples", "0"]


def run(capsys, *argv):
    """``(exit status, stdout, stderr)`` of ``tinyseq argv`` run in this process."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exit:
        code = exit.code
    printed = capsys.readouterr()
    return code, printed.out, printed.err


def refused(capsys, *argv):
    """The one line of a refusal (exit status 2, no traceback)."""
    code, _, err = run(capsys, *argv)
    line = err.splitlines()[-1] + "\n"  # (after the progress bar, if training began)
    assert code == 2 and line.startswith("tinyseq: error: ") and "Traceback" not in err, err
    return line


def spawn(*argv, **kw):
    """``tinyseq argv`` in a subprocess (of this checkout), its output piped."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tinyseq", *map(str, argv)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture(scope="module")
def names(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "names.txt"
    path.write_text("\n".join(ts.data.corpus("names").split()[:300]))
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, names):
    """A folder holding a tiny trained model."""
    out = tmp_path_factory.mktemp("run") / "run"
    assert cli.main(["train", "--data", str(names), *TINY, "--steps", "2", "--out", str(out)]) == 0
    return out


def checkpoint_bytes(folder):
    return (Path(folder) / "checkpoint.safetensors").read_bytes()


# ---- nothing lost ------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["train", "demo"])
def test_a_folder_with_a_checkpoint_is_not_overwritten_without_a_word(capsys, run_dir, names,
                                                                      command):
    before = checkpoint_bytes(run_dir)
    argv = ["train", "--data", names, *TINY] if command == "train" else ["demo"]
    err = refused(capsys, *argv, "--steps", "1", "--out", run_dir)
    assert "already holds a trained model" in err and "--overwrite" in err
    # demo has no --resume: it points to sample instead
    assert ("--resume" in err) == (command == "train") and ("sample" in err) == (command == "demo")
    assert checkpoint_bytes(run_dir) == before


def test_overwrite_replaces_the_old_run(capsys, tmp_path, names):
    out = tmp_path / "run"
    argv = ["train", "--data", names, *TINY, "--out", out]
    assert run(capsys, *argv, "--steps", "2")[0] == 0
    assert run(capsys, *argv, "--steps", "1", "--overwrite")[0] == 0
    assert load_checkpoint(out).step == 1


@pytest.mark.parametrize("out, message", [
    ("", "--out '' is empty"), ("  ", "--out '  ' is empty"),
    ("{file}", "is a file, not a folder"), ("{file}/below", "is below"),
])
def test_out_must_be_a_folder_name(capsys, names, out, message):
    err = refused(capsys, "train", "--data", names, "--out", out.format(file=names))
    assert message in err


@pytest.mark.parametrize("argv, message", [
    (["sample", ""], "sample: DIR is empty ('')"), (["score", " ", "emma"], "score: DIR is empty"),
    (["train", "--data", "", "--out", "o"], "train: --data is empty"),
])
def test_an_empty_folder_or_data_name_is_refused(capsys, argv, message):
    assert message in refused(capsys, *argv)


def test_sigterm_saves_like_ctrl_c_and_exits_143(tmp_path, names):
    out = tmp_path / "run"
    proc = spawn("train", "--data", names, *TINY, "--steps", "100000", "--save-every", "3",
                 "--out", out)
    _wait_for(lambda: (out / "checkpoint.safetensors").exists() or proc.poll() is not None)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "Traceback" not in stderr
    step = load_checkpoint(out).step
    assert f"stopped by SIGTERM at step {step}: saved" in stdout and "--resume" in stdout
    assert step >= 3


def _wait_for(condition, timeout=60):
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout
        time.sleep(0.02)


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.2])
def test_ctrl_c_while_the_command_starts_is_one_line(tmp_path, delay):
    proc = spawn("graph", "--steps", "30", "--out", tmp_path / "g.dot")
    # from the moment tinyseq's own import began (numpy, which it imports first, is mapped)
    _wait_for(lambda: "numpy" in Path(f"/proc/{proc.pid}/maps").read_text())
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    # (-2: the signal came as the interpreter was exiting, after the command had finished)
    assert (proc.returncode, stderr) in [(130, "tinyseq: interrupted\n"), (0, ""), (-2, "")]


def test_stale_temporaries_of_a_killed_save_are_removed(capsys, tmp_path, names):
    out = tmp_path / "run"
    argv = ["train", "--data", names, *TINY, "--out", out]
    assert run(capsys, *argv, "--steps", "1")[0] == 0
    stale = [out / ".checkpoint.safetensors.k1ll3d.tmp", out / ".vocab.json.k1ll3d.tmp"]
    for path in stale:
        path.write_bytes(b"half")
    assert run(capsys, *argv, "--steps", "2", "--resume")[0] == 0
    assert not any(path.exists() for path in stale)


def test_resume_on_changed_data_is_refused(capsys, tmp_path):
    data, out = tmp_path / "d.txt", tmp_path / "run"
    data.write_text("\n".join(["emma", "olivia", "ava"] * 10))
    argv = ["train", "--data", data, *TINY, "--out", out]
    assert run(capsys, *argv, "--steps", "1")[0] == 0
    before = checkpoint_bytes(out)
    data.write_text("\n".join(["bob", "al", "xi"] * 10))
    err = refused(capsys, *argv, "--steps", "2", "--resume")
    assert "is not the text this checkpoint was trained on" in err
    assert checkpoint_bytes(out) == before


def test_a_checkpoint_without_a_fingerprint_resumes_with_a_warning(capsys, tmp_path, names):
    config = LMConfig(data=str(names), hidden=8, layers=1, embedding=4, batch=4, steps=2)
    old = Trainer(config, tmp_path / "run")  # as a checkpoint made before fingerprints
    save_checkpoint(old.out, old.model, dataclasses.asdict(config), 0, old.optimizer,
                    rng=rng.generator().bit_generator.state)
    code, _, err = run(capsys, "train", "--data", names, *TINY, "--steps", "2", "--resume",
                       "--out", tmp_path / "run")
    assert code == 0 and err.startswith("tinyseq: warning: --resume: this checkpoint does not "
                                        "record which text it was trained on")


# ---- sizes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["train", "--hidden", 10 ** 9], "--hidden (1000000000)"),
    (["train", "--embedding", 10 ** 9], "--embedding (1000000000)"),
    (["train", "--batch", 10 ** 9], "--batch (1000000000)"),
    (["train", "--layers", 10 ** 6], "--layers (1000000)"),
    (["train", "--batching", "stream", "--seq-len", 10 ** 9], "too few for --batch 32 streams"),
    (["train", "--samples", 10 ** 9], "at most 1000 are printed"),
    (["demo", "--samples", 10 ** 9], "at most 1000 are printed"),
    (["gradflow", "--steps", 10 ** 9], "gradflow: --steps 1000000000 with --hidden 32 need"),
    (["gradflow", "--hidden", 10 ** 9], "more than the"),
    (["graph", "--steps", 10 ** 6], "build 11,000,015 ops, more than 200,000"),
    (["graph", "--steps", 10 ** 6, "--collapse", "modules"], "ops, more than 200,000"),
    (["graph", "--layers", 10 ** 6], "--layers 1000000 build"),
])
def test_absurd_sizes_are_refused_before_allocating(capsys, tmp_path, argv, message):
    out = ["--out", tmp_path / "o"] if argv[0] in ("train", "demo") else []
    start = time.perf_counter()
    err = refused(capsys, *argv, *out)
    assert message in err and time.perf_counter() - start < 5
    assert "memory" in err or argv[0] == "graph" or "--samples" in argv or "stream" in argv


def test_sample_streams_any_number_and_a_closed_pipe_ends_it_quietly(run_dir):
    proc = spawn("sample", run_dir, "--n", 10 ** 9, "--max-len", 10 ** 9, "--seed", 1)
    lines = [proc.stdout.readline() for _ in range(250)]
    proc.stdout.close()
    assert proc.wait(timeout=60) == 141 and "Traceback" not in proc.stderr.read()
    assert all(line.endswith("\n") for line in lines)


# ---- data ----------------------------------------------------------------------------------
def test_data_that_is_not_a_regular_file_is_refused(capsys, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", fifo):
        err = refused(capsys, "train", "--data", path, "--out", tmp_path / "o")
        assert "is not a regular file (a device, pipe or socket)" in err
    assert "is a directory" in refused(capsys, "train", "--data", tmp_path, "--out", tmp_path)


def test_a_file_too_large_for_memory_is_refused_without_reading_it(capsys, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr("tinyseq.data.text.available_memory", lambda: 4 * 2 ** 30)
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(300 * 2 ** 20)  # sparse: no disk used; 16 bytes a character need 4.7 GiB
    assert "has 300 MB: too large to train on in this machine's free memory" in refused(
        capsys, "train", "--data", huge, "--out", tmp_path / "o")


def test_a_very_long_line_is_refused_for_lines_and_trains_as_a_stream(capsys, tmp_path):
    data = tmp_path / "long.txt"
    data.write_text("abc de " * 3000 + "\n")
    err = refused(capsys, "train", "--data", data, "--out", tmp_path / "o")
    assert "line 1 has 21,000 characters, more than 1,000" in err and "--batching stream" in err
    code, out, _ = run(capsys, "train", "--data", data, *TINY, "--batching", "stream",
                       "--seq-len", "8", "--steps", "2", "--out", tmp_path / "o")
    assert code == 0 and "held-out perplexity" in out


# ---- numbers -------------------------------------------------------------------------------
@pytest.mark.parametrize("flag, value, message", [
    ("--lr", "inf", "--lr: must be a finite number > 0, got inf"),
    ("--lr", "nan", "--lr: must be a finite number > 0, got nan"),
    ("--clip", "inf", "--clip: must be a finite number > 0"),
    ("--clip", "-1", "--clip: must be a finite number > 0"),
    ("--time-limit", "inf", "--time-limit: must be a finite number > 0"),
    ("--dropout", "nan", "--dropout: must be a number, got nan"),
    ("--dropout", "inf", "--dropout must be in [0, 1)"),
    ("--seed", str(2 ** 64), "--seed: must be an integer from -2**63 to 2**64 - 1"),
    ("--seed", "1.5", "--seed: invalid seed value"),
])
def test_non_finite_or_out_of_range_numbers_are_refused(capsys, names, tmp_path, flag, value,
                                                        message):
    err = refused(capsys, "train", "--data", names, flag, value, "--out", tmp_path / "o")
    assert message in err


def test_temperature_nan_and_seed_out_of_range_for_sample(capsys, run_dir):
    assert "--temperature: must be a number" in refused(capsys, "sample", run_dir,
                                                        "--temperature", "nan")
    err = refused(capsys, "sample", run_dir, "--seed", -2 ** 63 - 1)
    assert "--seed: must be an integer" in err


def test_negative_seeds_work_as_in_torch(capsys, run_dir):
    minus_one = run(capsys, "sample", run_dir, "--n", 3, "--seed", -1)
    assert minus_one[0] == 0 and minus_one == run(capsys, "sample", run_dir, "--n", 3, "--seed",
                                                  2 ** 64 - 1)


def test_manual_seed_accepts_what_torch_accepts():
    torch = pytest.importorskip("torch", reason="the reference for which seeds are valid")
    for seed in (-1, -2 ** 63, 2 ** 64 - 1, 0, 1.5, "3", True):
        torch.manual_seed(seed)
        ts.manual_seed(seed)
        assert rng.generator().random() == np.random.default_rng(torch.initial_seed()).random()
    for seed in (-2 ** 63 - 1, 2 ** 64, "a", float("nan"), None):
        with pytest.raises((ValueError, TypeError, OverflowError)):
            torch.manual_seed(seed)
        with pytest.raises((ValueError, TypeError), match="manual_seed: the seed must be"):
            ts.manual_seed(seed)


# ---- divergence ----------------------------------------------------------------------------
def test_a_diverging_run_stops_and_keeps_the_last_good_checkpoint(capsys, tmp_path, names):
    out = tmp_path / "run"
    argv = ["train", "--data", names, *TINY, "--save-every", "1", "--lr", "1e37", "--out", out]
    assert run(capsys, *argv, "--steps", "1")[0] == 0  # weights of 1e37: still finite
    before = checkpoint_bytes(out)
    err = refused(capsys, *argv, "--steps", "5", "--resume")
    assert "training diverged at step 2: the loss is inf (--lr 1e+37, --clip 5.0)" in err
    assert "the checkpoint of step 1" in err and "lower --lr" in err
    assert checkpoint_bytes(out) == before


def test_weights_that_are_no_longer_finite_are_never_saved(capsys, tmp_path, names):
    err = refused(capsys, "train", "--data", names, *TINY, "--lr", "1e38", "--save-every", "1",
                  "--out", tmp_path)
    assert "diverged at step 1: the weights are no longer finite" in err
    assert not (tmp_path / "checkpoint.safetensors").exists()


def test_a_run_diverging_before_its_first_checkpoint_says_so(tmp_path, names):
    config = LMConfig(data=str(names), hidden=8, layers=1, embedding=4, batch=4, steps=5,
                      lr=1e38)
    with pytest.raises(TrainingDiverged, match="no checkpoint was written"):
        Trainer(config, tmp_path / "run").run(progress=False)


def test_a_model_with_huge_weights_scores_inf_not_a_crash(capsys, tmp_path, names):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", "--data", names, *TINY, "--steps", "3", "--lr", "1e30",
                       "--out", out)
    assert code == 0 and "Traceback" not in err
    code, out_text, _ = run(capsys, "score", out, "emma")
    assert code == 0 and out_text.endswith("perplexity inf\n")


def test_perplexity_overflow_is_inf():
    vocab = ts.data.Vocab.build("ab\n")
    ts.manual_seed(0)
    model = ts.models.CharLM(vocab, 4, embedding_dim=3)
    with ts.no_grad():
        model.head.bias.data[:] = [0, 0, 0, 0, 0, -1e30]  # 'b' impossible
    assert model.perplexity("ab") == math.inf


# ---- the file system -----------------------------------------------------------------------
@pytest.fixture
def tmpfs(tmp_path):
    """A mount point for a small tmpfs, unmounted after the test (skips where one cannot mount)."""
    point = tmp_path / "mnt"
    point.mkdir()
    mounted = []

    def mount(*options):
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs",
                                 str(point)], capture_output=True)
        if result.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for _ in mounted:
        subprocess.run(["umount", str(point)], check=False)


def test_a_read_only_folder_is_one_line_and_the_checkpoint_stays(capsys, tmpfs, names):
    out = tmpfs("size=4m") / "run"
    argv = ["train", "--data", names, *TINY, "--out", out]
    assert run(capsys, *argv, "--steps", "1")[0] == 0
    before = checkpoint_bytes(out)
    subprocess.run(["mount", "-o", "remount,ro", str(out.parent)], check=True)
    err = refused(capsys, *argv, "--steps", "2", "--resume")
    assert "Read-only file system" in err and str(out) in err
    assert checkpoint_bytes(out) == before


def test_a_full_disk_is_one_line_and_the_checkpoint_stays(capsys, tmpfs, names):
    point = tmpfs("size=1m")
    first = ["train", "--data", names, *TINY, "--steps", "1", "--out", point / "run"]
    assert run(capsys, *first)[0] == 0
    before = checkpoint_bytes(point / "run")
    free = os.statvfs(point)
    (point / "filler").write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 4096))
    err = refused(capsys, *first[:-4], "--steps", "2", "--resume", "--out", point / "run")
    assert "No space left on device" in err and str(point / "run") in err
    assert checkpoint_bytes(point / "run") == before


def test_files_of_the_users_in_out_are_not_replaced_without_a_word(capsys, tmp_path, names):
    out = tmp_path / "project"
    out.mkdir()
    (out / "loss.csv").write_text("precious\n")
    err = refused(capsys, "train", "--data", names, *TINY, "--steps", "1", "--out", out)
    assert "already holds loss.csv, which this run would replace" in err
    assert (out / "loss.csv").read_text() == "precious\n"
    assert run(capsys, "train", "--data", names, *TINY, "--steps", "1", "--out", out,
               "--overwrite")[0] == 0


def test_resume_and_overwrite_together_are_refused(capsys, run_dir, names):
    before = checkpoint_bytes(run_dir)
    err = refused(capsys, "train", "--data", names, *TINY, "--out", run_dir, "--resume",
                  "--overwrite")
    assert "argument --overwrite: not allowed with argument --resume" in err
    assert checkpoint_bytes(run_dir) == before


def test_every_written_files_stale_temporaries_are_removed(capsys, tmp_path, names):
    out = tmp_path / "run"
    argv = ["train", "--data", names, *TINY, "--out", out]
    assert run(capsys, *argv, "--steps", "1")[0] == 0
    stale = [out / f".{name}.k1ll3d.tmp" for name in ("loss.csv", "loss.png", "graph.svg")]
    for path in stale:
        path.write_bytes(b"half")
    assert run(capsys, *argv, "--steps", "2", "--resume")[0] == 0
    assert not any(path.exists() for path in stale)
