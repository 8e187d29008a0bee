"""Turning a drawing into a file: the system's ``dot`` when it is on PATH, else the graphviz layout
engine bundled in the ``pygraphviz`` wheel, so that ``pip install tinyseq`` is enough.
"""
import contextlib
import os
import shutil
import subprocess
import tempfile
import threading

import graphviz

from ..io import checked_path, write_atomic

FORMATS = ("svg", "png", "pdf", "dot")


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` that shows itself in Jupyter with or without a system graphviz."""

    def _repr_image_svg_xml(self):
        return layout(self.source, "svg").decode("utf-8")


def render(graph, path):
    """Write ``graph`` (a ``graphviz.Digraph`` or dot source) to ``path`` as ``.svg``, ``.png``,
    ``.pdf`` or ``.dot``, chosen by the suffix; returns the path.

    The file appears whole or not at all (``ts.io.write_atomic``).
    """
    if not isinstance(graph, (graphviz.Digraph, str)):
        raise TypeError(f"render: graph must be a graphviz.Digraph (from ts.viz.draw_graph) or "
                        f"dot source text, got {type(graph).__name__}")
    path, fmt = target(path, FORMATS, "render")
    source = graph.source if isinstance(graph, graphviz.Digraph) else graph
    data = source.encode("utf-8") if fmt == "dot" else layout(source, fmt)
    return write_atomic(path, data, who="render")


def target(path, formats, where):
    """``(Path, format)`` of a file to write: a str or os.PathLike whose suffix is one of
    ``formats``, in a folder that exists; TypeError, ValueError or OSError naming ``where``."""
    path = checked_path(path, where)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in formats:
        raise ValueError(f"{where}: cannot write {str(path)!r}: the suffix must be one of "
                         + ", ".join("." + f for f in formats))
    if not path.parent.exists():
        raise FileNotFoundError(f"{where}: the folder {str(path.parent)!r} does not exist")
    if not path.parent.is_dir():
        raise NotADirectoryError(f"{where}: cannot write {str(path)!r}: {str(path.parent)!r} is "
                                 "a file, not a folder")
    if path.is_dir():
        raise IsADirectoryError(f"{where}: cannot write {str(path)!r}: it is a folder")
    return path, fmt


def layout(source, fmt):
    """The bytes of dot ``source`` laid out and rendered as ``fmt`` (svg, png or pdf)."""
    dot = shutil.which("dot")
    if dot is not None:
        run = subprocess.run([dot, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True)
        if run.returncode != 0:
            raise RuntimeError(f"render: graphviz failed: {run.stderr.decode(errors='replace')}")
        return run.stdout
    import pygraphviz  # the bundled engine: only needed when there is no system graphviz

    try:
        with _captured_stderr() as printed:
            drawn = pygraphviz.AGraph(string=source).draw(format=fmt, prog="dot")
    except (ValueError, OSError) as error:  # pygraphviz's DotError is a ValueError
        told = "".join(printed).strip()
        raise RuntimeError(f"render: graphviz failed: {told or error}") from None
    if not drawn:
        raise RuntimeError(f"render: graphviz produced no {fmt}: {''.join(printed).strip()}")
    return drawn


_STDERR = threading.Lock()  # file descriptor 2 belongs to the whole process: one swap at a time


@contextlib.contextmanager
def _captured_stderr():
    """Catch what the C library prints on stderr (the bundled fontconfig warns about the system's
    newer configuration files on every run), so that it reaches the user only in an error."""
    with _STDERR, tempfile.TemporaryFile("w+") as file:
        printed, saved = [], os.dup(2)
        os.dup2(file.fileno(), 2)
        try:
            yield printed
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            file.seek(0)
            printed.append(file.read())
