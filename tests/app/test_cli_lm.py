"""``tinyseq demo``, ``train``, ``sample`` and ``score`` from the command line, and their user
errors: one line, exit status 2."""
import re

import pytest

import tinyseq as ts
from tinyseq.app import cli


def run(capsys, *argv):
    try:
        code = cli.main(list(argv))
    except SystemExit as exit:
        code = exit.code
    printed = capsys.readouterr()
    return code, printed.out, printed.err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm")
    data = folder / "names.txt"
    data.write_text("\n".join(ts.data.corpus("names").split()[:2000]))
    code = cli.main(["train", "--data", str(data), "--hidden", "32", "--layers", "1",
                     "--embedding", "16", "--seq-len", "16", "--batch", "8", "--steps", "60",
                     "--samples", "2", "--out", str(folder / "run")])
    assert code == 0
    return folder


def test_train_writes_checkpoint_vocabulary_loss_curve_and_graph(trained):
    files = {p.name for p in (trained / "run").iterdir()}
    assert {"checkpoint.safetensors", "vocab.json", "loss.csv", "graph.svg"} <= files
    lines = (trained / "run" / "loss.csv").read_text().splitlines()
    assert lines[0] == "step,loss" and len(lines) == 61


def test_a_prime_outside_the_vocabulary_is_read_as_unk_with_a_one_line_warning(trained, capsys):
    code, out, err = run(capsys, "sample", str(trained / "run"), "--n", "1", "--prime", "Zo")
    assert code == 0 and out.startswith("Zo")
    assert err == "tinyseq: warning: CharLM: 'Z' not in the vocabulary: read as <unk>\n"


def test_sample_and_score(trained, capsys):
    code, out, _ = run(capsys, "sample", str(trained / "run"), "--n", "4", "--seed", "1",
                       "--prime", "ma", "--temperature", "0.8")
    assert code == 0 and len(out.splitlines()) == 4
    assert all(line.startswith("ma") for line in out.splitlines())
    code, out, _ = run(capsys, "score", str(trained / "run"), "emma")
    log_p, ppl = map(float, re.findall(r"log P = (\S+) nats .* perplexity (\S+)", out)[0])
    assert code == 0 and log_p < 0 and ppl == pytest.approx(2.718281828 ** (-log_p / 5), rel=1e-3)


@pytest.mark.parametrize("argv, message", [
    (["sample", "{run}", "--temperature", "0"], "--temperature must be > 0 and finite"),
    (["sample", "{run}", "--temperature", "inf"], "--temperature must be > 0 and finite"),
    (["sample", "{run}", "--top-k", "1000"], "--top-k must be between 1 and"),
    (["sample", "{missing}"], "no folder"),
    (["score", "{run}", "  "], "the text is empty"),
    (["train", "--data", "{missing}", "--out", "{new}"], "no such"),
    (["train", "--data", "{run}/vocab.json", "--out", "{new}", "--tie"], "--tie needs"),
    (["train", "--data", "names", "--out", "{run}", "--resume", "--hidden", "64", "--layers",
      "1", "--embedding", "16"], "--resume with different model or data flags"),
])
def test_user_errors_are_one_line_and_exit_2(trained, capsys, argv, message):
    argv = [a.format(run=trained / "run", missing=trained / "missing", new=trained / "new")
            for a in argv]
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("content, message", [
    (b"", "empty"), (b"\x00\x01\x02binary\x00", "binary"), (b"caf\xe9\n", "UTF-8")])
def test_bad_data_files_are_named(tmp_path, capsys, content, message):
    data = tmp_path / "data.txt"
    data.write_bytes(content)
    code, _, err = run(capsys, "train", "--data", str(data), "--out", str(tmp_path / "o"))
    assert code == 2 and message in err and str(data) in err


def test_demo_trains_and_writes_its_folder(tmp_path, capsys):
    code, out, _ = run(capsys, "demo", "--steps", "40", "--samples", "3",
                       "--out", str(tmp_path / "demo"))
    assert code == 0 and "held-out perplexity" in out and "samples:" in out
    assert (tmp_path / "demo" / "checkpoint.safetensors").is_file()


@pytest.mark.parametrize("command", ["demo", "train", "sample", "score"])
def test_every_subcommand_explains_its_flags(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0 and "usage: tinyseq " + command in out


def test_samples_print_one_per_line_unless_they_are_single_words(capsys):
    from tinyseq.app.commands import print_samples

    print_samples(["emma", "ava"])
    print_samples(["To be, or not", "to be:\nthat is"])
    assert capsys.readouterr().out == ("samples: emma, ava\nsamples:\n  To be, or not\n"
                                       "  to be: / that is\n")


def test_score_hints_at_letters_in_the_other_case(trained, capsys):
    code, out, err = run(capsys, "score", str(trained / "run"), "Emma")
    assert code == 0 and "log P" in out
    assert f"hint: some letters are in the vocabulary only in the other case: try tinyseq score " \
           f"{trained / 'run'} 'emma'" in err
    code, _, err = run(capsys, "score", str(trained / "run"), "emma")
    assert code == 0 and "hint" not in err


def test_train_says_it_skipped_the_loss_picture_without_matplotlib(trained, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib (simulated)")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    code, out, _ = run(capsys, "train", "--data", str(trained / "names.txt"), "--hidden", "8",
                       "--layers", "1", "--embedding", "4", "--steps", "2",
                       "--out", str(trained / "bare"))
    assert code == 0 and "skipped loss.png: matplotlib is not installed" in out
    assert not (trained / "bare" / "loss.png").exists()


def test_the_progress_bar_writes_rarely_to_a_file(trained, tmp_path):
    import subprocess
    import sys

    log = tmp_path / "log.txt"
    with open(log, "w") as f:
        subprocess.run([sys.executable, "-m", "tinyseq", "train", "--data",
                        str(trained / "names.txt"), "--hidden", "8", "--layers", "1",
                        "--embedding", "4", "--steps", "300", "--out", str(tmp_path / "o")],
                       stderr=f, stdout=subprocess.DEVNULL, check=True)
    updates = log.read_text().count("\r") + log.read_text().count("\n")
    assert 1 <= updates < 20, updates  # (at 0.1 s a refresh, hundreds)
