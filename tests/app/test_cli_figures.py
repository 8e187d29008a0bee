"""``tinyseq graph`` and ``tinyseq gradflow``: they write the pictures; user errors are one line and
exit status 2, before any work."""
import re

import pytest

from tinyseq.app import cli


def run(capsys, *argv):
    with pytest.raises(SystemExit) as info:
        cli.main(list(argv))
    printed = capsys.readouterr()
    return info.value.code, printed.out, printed.err


def test_graph_writes_a_4_step_lstm_with_every_step_and_gradient(tmp_path, no_dot, capsys):
    out = tmp_path / "g.svg"
    assert cli.main(["graph", "--cell", "lstm", "--steps", "4", "--out", str(out)]) == 0
    svg = out.read_text()
    assert all(f">t={t}<" in svg for t in range(4)) and ">t=4<" not in svg
    assert "lstm.weight_hh_l0" in svg and "‖grad‖" in svg
    assert f"wrote {out}" in capsys.readouterr().out


def test_graph_collapsed_steps_draws_one_box_per_step(tmp_path, no_dot):
    out = tmp_path / "g.dot"
    cli.main(["graph", "--cell", "gru", "--steps", "12", "--layers", "2", "--collapse", "steps",
              "--out", str(out)])
    steps = re.findall(r"label=<<b>(\d+)</b>", out.read_text())
    assert sorted(map(int, steps)) == sorted(list(range(12)) * 2)


def test_gradflow_writes_the_plot_and_prints_the_ends_of_each_curve(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="gradflow plots with matplotlib (the plot extra)")
    out = tmp_path / "flow.png"
    cli.main(["gradflow", "--cells", "rnn,lstm", "--steps", "20", "--hidden", "8",
              "--out", str(out)])
    assert out.read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    first, last = re.findall(r"rnn: ‖∂L/∂h⟨t⟩‖ = (\S+) at t=19, (\S+) at t=0", printed)[0]
    assert float(last) < float(first) * 1e-2  # the plain RNN's gradient vanishes back in time
    assert "lstm:" in printed and "gru:" not in printed


@pytest.mark.parametrize("argv, message", [
    (["graph", "--out", "g.jpeg"], "suffix must be one of .svg, .png, .pdf, .dot"),
    (["graph", "--steps", "0"], "argument --steps: must be positive, got 0"),
    (["graph", "--cell", "transformer"], "invalid choice: 'transformer'"),
    (["graph", "--out", "no/such/folder/g.svg"], "does not exist"),
    (["graph", "--steps", "200", "--out", "g.dot"], "more than 2000 can be read: add --collapse steps"),
    (["graph", "--steps", "1500", "--layers", "2", "--collapse", "steps", "--out", "g.dot"],
     "folded by --collapse steps make"),
    (["gradflow", "--cells", "rnn,cnn"], "comma-separated list of rnn, gru, lstm"),
    (["gradflow", "--out", "flow.dot"], "suffix must be one of .png, .svg, .pdf"),
])
def test_user_errors_are_one_line_and_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ["graph", "gradflow"])
def test_every_subcommand_has_help(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0 and "--out" in out and "--steps" in out
