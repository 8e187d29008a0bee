"""render: every format by its suffix, with no system graphviz (the pygraphviz wheel's engine) and,
where one is installed, with the system's dot."""
import shutil

import pytest

import tinyseq as ts

MAGIC = {"svg": b"<svg", "png": b"\x89PNG", "pdf": b"%PDF", "dot": b"digraph"}


@pytest.fixture
def graph():
    rnn = ts.nn.RNN(2, 3)
    out, _ = rnn(ts.randn(3, 1, 2))
    return ts.viz.draw_graph(out.sum())


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf", "dot"])
def test_every_format_renders_without_a_system_graphviz(graph, no_dot, tmp_path, fmt):
    path = ts.viz.render(graph, tmp_path / f"g.{fmt}")
    data = path.read_bytes()
    assert path == tmp_path / f"g.{fmt}" and MAGIC[fmt] in data[:400]
    if fmt == "svg":
        assert b"rnn.weight_hh_l0" in data and data.count(b'class="cluster"') == 4  # rnn, t=0..2
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"g.{fmt}"]  # no temporary left


@pytest.mark.skipif(shutil.which("dot") is None, reason="no system graphviz: the bundled engine "
                    "is tested above")
def test_the_system_dot_gives_the_same_kinds_of_files(graph, tmp_path):
    for fmt in ("svg", "png", "pdf"):
        assert MAGIC[fmt] in ts.viz.render(graph, tmp_path / f"g.{fmt}").read_bytes()[:400]


def test_dot_source_renders_too(no_dot, tmp_path):
    path = ts.viz.render("digraph { a -> b }", tmp_path / "g.svg")
    assert b"<svg" in path.read_bytes()


def test_an_unknown_suffix_names_the_supported_ones(graph, tmp_path):
    with pytest.raises(ValueError, match=r"suffix must be one of \.svg, \.png, \.pdf, \.dot"):
        ts.viz.render(graph, tmp_path / "g.jpeg")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_an_error_not_a_crash(graph, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ts.viz.render(graph, tmp_path / "nowhere" / "g.svg")


@pytest.mark.parametrize("system_dot", [False, True])
def test_bad_dot_source_is_an_error_and_leaves_no_file(request, tmp_path, system_dot):
    if not system_dot:
        request.getfixturevalue("no_dot")
    elif shutil.which("dot") is None:
        pytest.skip("no system graphviz")
    with pytest.raises(RuntimeError, match="render: graphviz failed: .*syntax error"):
        ts.viz.render("digraph { a -> }", tmp_path / "g.png")
    assert list(tmp_path.iterdir()) == []


def test_the_drawing_shows_itself_in_jupyter_without_a_system_graphviz(graph, no_dot):
    svg = graph._repr_mimebundle_()["image/svg+xml"]
    assert svg.lstrip().startswith("<?xml") and "rnn.weight_ih_l0" in svg
