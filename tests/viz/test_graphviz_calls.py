"""graphviz's own calls on a drawing (``.render()``, ``.pipe()``, ``.view()``, the Jupyter display)
work with no system graphviz: ``dot`` is hidden from PATH and the bundled engine draws; names,
return values and files are graphviz's."""
import os
import shutil
import xml.etree.ElementTree as ET

import graphviz
import pytest

import tinyseq as ts
from tinyseq.viz.render import Drawing

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def no_dot(tmp_path, monkeypatch):
    """A PATH with no graphviz on it (graphviz's own calls would raise ExecutableNotFound)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def drawing():
    x = ts.tensor(2.0, requires_grad=True).named("x")
    y = (x * 3).tanh().named("y")
    y.backward()
    return ts.viz.draw_graph(y)


def test_a_plain_digraph_cannot_render_here_but_a_drawing_can(no_dot, drawing):
    with pytest.raises(graphviz.ExecutableNotFound):
        graphviz.Digraph(body=["a -> b"]).pipe(format="svg")
    svg = drawing.pipe(format="svg")
    assert ET.fromstring(svg).tag.endswith("svg")  # the SVG parses
    assert drawing.pipe(format="png")[:8] == PNG
    assert drawing.pipe(format="pdf")[:5] == b"%PDF-"
    text = drawing.pipe(format="svg", encoding="utf-8")
    assert isinstance(text, str) and "x" in text and "data 2" in text


def test_render_writes_the_source_and_the_picture_and_returns_the_path_as_graphviz(no_dot,
                                                                                   drawing):
    path = drawing.render("graph", format="png")
    assert path == "graph.png"  # graphviz's rule: the source file name + "." + format
    assert (no_dot / "graph").read_text() == drawing.source
    assert (no_dot / "graph.png").read_bytes()[:8] == PNG
    assert drawing.render(outfile="micrograd.pdf") == "micrograd.pdf"  # format from the suffix
    assert (no_dot / "micrograd.pdf").read_bytes()[:5] == b"%PDF-"
    assert (no_dot / "micrograd.gv").read_text() == drawing.source  # the source beside it
    path = drawing.render("g.gv", directory="out", format="svg")
    assert path == os.path.join("out", "g.gv.svg") and ET.parse(path).getroot().tag.endswith("svg")


def test_render_cleanup_removes_the_source_and_bad_formats_are_refused(no_dot, drawing):
    assert drawing.render("tmp", format="svg", cleanup=True) == "tmp.svg"
    assert sorted(p.name for p in no_dot.iterdir()) == ["bin", "tmp.svg"]
    with pytest.raises(ValueError, match="unknown format: 'bogus'"):
        drawing.render("tmp", format="bogus")
    with pytest.raises(graphviz.FileExistsError, match="tmp.svg"):
        drawing.render("tmp", format="svg", raise_if_result_exists=True)


def test_view_renders_then_opens_the_file_with_the_system_viewer(no_dot, drawing, monkeypatch):
    opened = []
    monkeypatch.setattr(graphviz.backend.viewing, "PLATFORM", "linux")
    monkeypatch.setattr(graphviz.backend.viewing.subprocess, "Popen",
                        lambda cmd, **kw: opened.append(cmd))
    path = drawing.view("seen")
    assert path == "seen.pdf" and opened == [["xdg-open", "seen.pdf"]]
    assert (no_dot / "seen.pdf").read_bytes()[:5] == b"%PDF-"


def test_jupyter_gets_an_svg_and_a_png_and_the_png_format_alone(no_dot, drawing):
    bundle = drawing._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "image/png"}  # the PNG: a notebook not yet trusted
    assert ET.fromstring(bundle["image/svg+xml"].encode()).tag.endswith("svg")
    assert bundle["image/png"][:8] == PNG
    assert list(drawing._repr_mimebundle_(include=["image/svg+xml"])) == ["image/svg+xml"]
    assert drawing._repr_mimebundle_(exclude=["image/png"]).keys() == {"image/svg+xml"}
    graphviz.set_jupyter_format("png")
    try:
        assert list(drawing._repr_mimebundle_()) == ["image/png"]
    finally:
        graphviz.set_jupyter_format("svg")


def test_a_broken_source_says_what_graphviz_said(no_dot):
    broken = Drawing(body=["a -> "])
    with pytest.raises(RuntimeError, match="render: graphviz failed: .*syntax error"):
        broken.pipe(format="svg")
