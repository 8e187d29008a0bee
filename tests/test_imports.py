"""The layering (docs: DESIGN's arrows), checked from the real imports: every ``import`` of every
``tinyseq/**/*.py``, those inside functions included, mapped to the part of tinyseq it points at.
And ``import tinyseq.autograd`` loads the engine without the rest (``tinyseq/__init__.py``)."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tinyseq"

# part -> the other parts it may import. A part is a subpackage or a top-level module.
ARROWS = {
    "autograd": set(),  # the engine knows nothing of layers, drawings or the command line
    "io": {"autograd"},  # safetensors files and atomic writes; ts.load gives Tensors, as torch
    "nn": {"autograd"},
    # optim <- nn: it updates nn's Parameters, and takes nn._checks, the argument checks the whole
    # library shares (one message for a bad lr and a bad dropout), private to tinyseq, not to nn
    "optim": {"autograd", "nn"},
    "data": {"autograd", "io"},
    "utils": {"autograd"},  # ts.utils.data: PyTorch's datasets and loaders, on the engine alone
    "models": {"autograd", "nn", "data", "io"},
    "viz": {"autograd", "io"},  # viz reads the graph (and writes files), never nn's layers
    "course": {"autograd"},
    "app": {"autograd", "io", "nn", "optim", "data", "models", "viz", "course"},
    # the package itself: the engine's names as ts.*, every subpackage lazily (PEP 562), and the
    # command's start (app.tuning) before numpy loads; __main__ is ``python -m tinyseq``
    "tinyseq": {"autograd", "io", "nn", "optim", "data", "utils", "models", "viz", "course",
                "app"},
}
# private modules or names of another part that a part may import, and why
PRIVATE = {("optim", "tinyseq.nn._checks"): "the argument checks the whole library shares"}


def module_name(path):
    """``tinyseq/nn/layers.py`` -> ``tinyseq.nn.layers``; a package's ``__init__`` is itself."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part(module):
    """``tinyseq.nn.layers`` -> ``nn``; ``tinyseq`` and ``tinyseq.__main__`` -> ``tinyseq``."""
    name = module.split(".")[1] if module.count(".") else "tinyseq"
    return "tinyseq" if name == "__main__" else name


def is_module(name):
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path):
    """``(line, module imported, names taken from it)`` for every import of tinyseq in ``path``;
    ``from . import nn`` imports the module ``tinyseq.nn``, ``from .mode import no_grad`` takes
    the name ``no_grad`` from ``tinyseq.autograd.mode``."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                if is_module(f"{base}.{alias.name}"):
                    yield node.lineno, f"{base}.{alias.name}", ()
                else:
                    yield node.lineno, base, (alias.name,)


def is_private(module, names):
    """A module or name whose name starts with ``_``, or autograd's op classes (``autograd.ops``:
    the rest of tinyseq uses the functions and Tensor methods built on them)."""
    inside = module.split(".")[1:]
    return (any(piece.startswith("_") for piece in inside + list(names))
            or inside[:2] == ["autograd", "ops"])


def violations():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = part(module_name(path))
        where = path.relative_to(PACKAGE.parent)
        if source not in ARROWS:
            found.append(f"{where}: the part {source!r} is not in ARROWS; add its arrows")
            continue
        for line, module, names in imports(path):
            target = part(module) if module.split(".")[0] == "tinyseq" else None
            if target is None or target == source:
                continue
            if target not in ARROWS[source]:
                found.append(f"{where}:{line}: {source} -> {target} ({module})")
            elif source != "app" and is_private(module, names) and (source, module) not in PRIVATE:
                found.append(f"{where}:{line}: {source} -> {module} {', '.join(names)}: not "
                             f"{target}'s public API")
    return found


def test_every_import_follows_the_arrows():
    found = violations()
    assert not found, "imports against the arrows:\n" + "\n".join(found)


def test_the_check_sees_imports_in_functions_and_relative_ones():
    """The walk itself: ``cli.py``'s imports inside functions and two levels up are found."""
    found = {module for _, module, _ in imports(PACKAGE / "app" / "cli.py")}
    assert {"tinyseq.app.commands", "tinyseq.data", "tinyseq.io", "tinyseq.autograd.rng",
            "tinyseq.models.charlm"} <= found
    fit = PACKAGE / "app" / "examples" / "fit.py"
    found = {(module, names) for _, module, names in imports(fit)}
    assert {("tinyseq.nn", ()), ("tinyseq.app.cli", ("Parser",))} <= found
    assert is_private("tinyseq.autograd.ops.linalg", ("Linear",))
    assert is_private("tinyseq.nn._checks", ())
    assert not is_private("tinyseq.autograd.tensor", ("Tensor",))


LOADED = """
import sys
import {module}
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in ("tinyseq", "graphviz"))))
"""


@pytest.mark.parametrize("module", ["tinyseq.autograd", "tinyseq"])
def test_the_engine_loads_without_layers_drawings_models_or_the_command(module):
    out = subprocess.run([sys.executable, "-c", LOADED.format(module=module)], check=True,
                         capture_output=True, text=True).stdout.split()
    assert "tinyseq.autograd.engine" in out
    for heavy in ("graphviz", "tinyseq.nn", "tinyseq.optim", "tinyseq.viz", "tinyseq.models",
                  "tinyseq.data", "tinyseq.course", "tinyseq.app", "tinyseq.utils"):
        assert heavy not in out, f"import {module} loaded {heavy}"
