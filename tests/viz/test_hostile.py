"""ts.viz under careless or hostile input: one clear line naming the function, the value and the
fix; nothing half-written (issue 13)."""
import sys
import warnings

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import viz


@pytest.fixture(scope="module")
def loss():
    ts.manual_seed(0)
    out, _ = ts.nn.RNN(3, 4)(ts.randn(2, 1, 3))
    return out.sum()


@pytest.mark.parametrize("roots, name", [(None, "NoneType"), (3, "int"), ("abc", "str"),
                                         (np.ones(3), "ndarray"), ({"a": 1}, "dict")])
def test_draw_graph_of_what_is_not_a_tensor(roots, name):
    with pytest.raises(TypeError, match="draw_graph: roots must be a Tensor or a list of Tensors, "
                                        f"got {name}$"):
        viz.draw_graph(roots)
    with pytest.raises(TypeError, match="got RNN"):
        viz.draw_graph(ts.nn.RNN(3, 4))


@pytest.mark.parametrize("max_nodes, error, words", [
    (None, TypeError, "max_nodes must be an int, got NoneType"),
    ("5", TypeError, "max_nodes must be an int, got str"),
    (1.5, TypeError, "max_nodes must be an int, got float"),
    (0, ValueError, "max_nodes must be at least 1, got 0"),
    (-1, ValueError, "max_nodes must be at least 1, got -1"),
])
def test_draw_graph_max_nodes(loss, max_nodes, error, words):
    with pytest.raises(error, match="draw_graph: " + words):
        viz.draw_graph(loss, max_nodes=max_nodes)


def test_draw_graph_shows_nan_and_inf_gradient_norms():
    # a NaN norm used to crash the colour scale ("cannot convert float NaN to integer")
    class Pair(ts.nn.Module):  # (a leaf is drawn as a parameter, with its norm, in its module)
        def __init__(self):
            super().__init__()
            self.x, self.w = ts.nn.Parameter(ts.randn(6)), ts.nn.Parameter(ts.randn(6))

        def forward(self):
            return (self.x * float("nan")).sum() + (self.w * 2).sum()

    loss = Pair()()
    with ts.viz.record_grad_norms():
        loss.backward(retain_graph=True)
    source = viz.draw_graph(loss, show_grads=True).source
    assert "‖grad‖ nan" in source and "#7a0177" in source  # NaN: off the scale, purple
    assert "‖grad‖ 4.9" in source  # the finite ones keep their scale: ‖(2, 2, 2, 2, 2, 2)‖


def test_render_refuses_bad_graphs_and_paths(loss, tmp_path):
    graph = viz.draw_graph(loss)
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder.dot").mkdir()
    for bad, name in [(None, "NoneType"), (5, "int"), (loss, "Tensor")]:
        with pytest.raises(TypeError, match="render: graph must be a graphviz.Digraph .* or dot "
                                            f"source text, got {name}$"):
            viz.render(bad, tmp_path / "g.dot")
    cases = [(None, TypeError, "path must be a str or a pathlib.Path, got NoneType"),
             (b"g.dot", TypeError, "got bytes"),
             ("", ValueError, "the path is empty"),
             (tmp_path / "file" / "g.dot", NotADirectoryError, "file' is a file, not a folder"),
             (tmp_path / "folder.dot", IsADirectoryError, "folder.dot': it is a folder")]
    for path, error, words in cases:
        with pytest.raises(error, match="render: .*" + words) as e:
            viz.render(graph, path)
        assert ".tmp" not in str(e.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder.dot"]


def test_render_tells_an_os_error_in_one_line(loss, tmp_path, monkeypatch):
    def full(f, data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("tinyseq.io._write_all", full)
    with pytest.raises(OSError, match=r"render: cannot write .*g.dot.: no space left on the device"):
        viz.render(viz.draw_graph(loss), tmp_path / "g.dot")


def test_gradient_flow_refuses_cells_classes_and_empty_inputs():
    x = ts.randn(5, 2, 3)
    with pytest.raises(TypeError, match="gradient_flow: expected a recurrent layer .*got the cell "
                                        "RNNCell, which runs one step"):
        viz.gradient_flow(ts.nn.RNNCell(3, 4), x)  # used to fail inside linear
    with pytest.raises(TypeError, match="got the class RNN$"):
        viz.gradient_flow(ts.nn.RNN, x)
    with pytest.raises(TypeError, match="gradient_flow: loss_fn must be None or a function"):
        viz.gradient_flow(ts.nn.RNN(3, 4), x, loss_fn=5)
    with pytest.raises(ValueError, match=r"gradient_flow: x of shape \(0, 2, 3\) has T=0 steps"):
        viz.gradient_flow(ts.nn.RNN(3, 4), ts.randn(0, 2, 3))
    with pytest.raises(ValueError, match=r"x of shape \(2, 0, 3\) has T=0 steps and B=2"):
        viz.gradient_flow(ts.nn.RNN(3, 4, batch_first=True), ts.randn(2, 0, 3))
    with pytest.raises(ValueError, match=r"x of shape \(5, 0, 3\) has T=5 steps and B=0"):
        viz.gradient_flow(ts.nn.RNN(3, 4), ts.randn(5, 0, 3))


@pytest.mark.parametrize("curve, error, words", [
    ([np.nan, 1.0], ValueError, "curve 'a' has nan at step 0: a gradient norm is finite and >= 0; "
                                "NaN or Inf means the gradients diverged"),
    ([1.0, np.inf, np.inf], ValueError, "curve 'a' has inf at step 1 and 1 more steps"),
    ([-1.0], ValueError, "curve 'a' has -1.0 at step 0"),
    (["x"], TypeError, r"curve 'a' must be an array of real numbers, got \['x'\]"),
    ([1j], TypeError, "curve 'a' must be an array of real numbers"),
    ([], ValueError, r"curve 'a' must be a non-empty 1-d array .*got shape \(0,\)"),
])
def test_plot_gradient_flow_refuses_curves_that_are_not_norms(tmp_path, curve, error, words):
    # NaN, Inf and negative values used to be dropped from the plot without a word
    with pytest.raises(error, match="plot_gradient_flow: " + words):
        viz.plot_gradient_flow({"a": curve}, tmp_path / "p.svg")
    assert list(tmp_path.iterdir()) == []


def test_plot_gradient_flow_paths_and_labels(tmp_path):
    pytest.importorskip("matplotlib", reason="plot_gradient_flow draws with matplotlib")
    (tmp_path / "dir.svg").mkdir()
    with pytest.raises(IsADirectoryError, match="plot_gradient_flow: cannot write .*dir.svg'"):
        viz.plot_gradient_flow({"a": [1.0]}, tmp_path / "dir.svg")
    with pytest.raises(TypeError, match="plot_gradient_flow: path must be a str"):
        viz.plot_gradient_flow({"a": [1.0]}, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib used to warn and drop a label "_..."
        path = viz.plot_gradient_flow({"_hidden": [1.0, 0.5]}, tmp_path / "p.svg")
    assert "_hidden" in path.read_text()
