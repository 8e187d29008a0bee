"""Turning a drawing into a file: the system's ``dot`` when it is on PATH, else the graphviz layout
engine bundled in the ``pygraphviz`` wheel, so that installing tinyseq is enough.

``render`` writes a file; the ``Drawing`` that ``draw_graph`` returns also keeps graphviz's own
calls working without a system graphviz: ``.render()``, ``.pipe()``, ``.view()`` and the Jupyter
display go through graphviz's code (its arguments, file names and return values) down to the three
functions that run the engine, ``_render``, ``_pipe_lines`` and ``_pipe_lines_string`` (graphviz
makes them properties for this: to be replaced), which take the bundled engine when the asked-for
one (``dot``) is not on PATH.
"""
import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import graphviz
from graphviz.backend import piping, rendering

from ..io import checked_path, write_atomic

FORMATS = ("svg", "png", "pdf", "dot")
PNG = "image/png"


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` that renders, pipes, opens and shows itself in Jupyter with or
    without a system graphviz; Jupyter gets a PNG beside the SVG (a notebook that is not trusted
    yet shows no SVG, but shows a PNG)."""

    @property
    def _render(self):
        return _render_file

    @property
    def _pipe_lines(self):
        return _pipe_bytes

    @property
    def _pipe_lines_string(self):
        return _pipe_text

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        if include is None:  # (graphviz.set_jupyter_format chooses the first; the PNG is the fallback)
            include = {self._jupyter_mimetype, PNG}
        return super()._repr_mimebundle_(include=include, exclude=exclude)


def _render_file(engine, format=None, filepath=None, renderer=None, formatter=None,
                 neato_no_op=None, quiet=False, *, outfile=None, raise_if_result_exists=False,
                 overwrite_filepath=False):
    """graphviz's ``backend.rendering.render`` (same arguments, returns the path written), with
    the bundled engine when ``engine`` is not on PATH."""
    if shutil.which(engine) is not None:
        return rendering.render(engine, format, filepath, renderer, formatter, neato_no_op, quiet,
                                outfile=outfile, raise_if_result_exists=raise_if_result_exists,
                                overwrite_filepath=overwrite_filepath)
    filepath = Path(filepath)
    if outfile is not None:
        outfile = Path(outfile)
        format = rendering.get_format(outfile, format=format)
        if not overwrite_filepath and outfile.resolve() == filepath.resolve():
            raise ValueError(f"outfile {outfile.name!r} must be different from input file "
                             f"{filepath.name!r} (pass overwrite_filepath=True to override)")
    else:
        outfile = rendering.get_outfile(filepath, format=format, renderer=renderer,
                                        formatter=formatter)
    if raise_if_result_exists and outfile.exists():
        raise graphviz.FileExistsError(f"output file exists: {os.fspath(outfile)!r}")
    source = filepath.read_text(encoding="utf-8")
    write_atomic(outfile, layout(source, _format(format, renderer, formatter), engine,
                                 neato_no_op), who="render")
    return os.fspath(outfile)


def _pipe_bytes(engine, format, input_lines, *, input_encoding, renderer=None, formatter=None,
                neato_no_op=None, quiet=False):
    """graphviz's ``backend.piping.pipe_lines``: the bytes of the source ``input_lines`` drawn
    as ``format``, by the bundled engine when ``engine`` is not on PATH."""
    if shutil.which(engine) is not None:
        return piping.pipe_lines(engine, format, input_lines, input_encoding=input_encoding,
                                 renderer=renderer, formatter=formatter,
                                 neato_no_op=neato_no_op, quiet=quiet)
    return layout("".join(input_lines), _format(format, renderer, formatter), engine, neato_no_op)


def _pipe_text(engine, format, input_lines, *, encoding, renderer=None, formatter=None,
               neato_no_op=None, quiet=False):
    """graphviz's ``backend.piping.pipe_lines_string``: ``_pipe_bytes`` decoded."""
    if shutil.which(engine) is not None:
        return piping.pipe_lines_string(engine, format, input_lines, encoding=encoding,
                                        renderer=renderer, formatter=formatter,
                                        neato_no_op=neato_no_op, quiet=quiet)
    return _pipe_bytes(engine, format, input_lines, input_encoding=encoding, renderer=renderer,
                       formatter=formatter, neato_no_op=neato_no_op).decode(encoding)


def _format(format, renderer, formatter):
    """The ``-T`` argument: ``png``, ``png:cairo``, ``png:cairo:gd``."""
    return ":".join(x for x in (format, renderer, formatter) if x is not None)


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


def layout(source, fmt, engine="dot", neato_no_op=None):
    """The bytes of dot ``source`` laid out by ``engine`` and rendered as ``fmt`` (svg, png,
    pdf, or any graphviz ``-T`` format)."""
    dot = shutil.which(engine)
    if dot is not None:
        run = subprocess.run([dot, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True)
        if run.returncode != 0:
            raise RuntimeError(f"render: graphviz failed: {run.stderr.decode(errors='replace')}")
        return run.stdout
    import pygraphviz  # the bundled engine: only needed when there is no system graphviz

    args = "" if neato_no_op is None else f"-n{int(neato_no_op)}"
    try:
        with _captured_stderr() as printed:
            drawn = pygraphviz.AGraph(string=source).draw(format=fmt, prog=engine, args=args)
    except (ValueError, OSError, TypeError) as error:  # DotError is a ValueError; an unknown
        # format makes pygraphviz fail reading graphviz's message (a TypeError)
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
