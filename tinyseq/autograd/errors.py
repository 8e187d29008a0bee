"""The errors tinyseq raises besides Python's own, each catchable the way a PyTorch user's code
or a Python user's code would catch it (PyTorch raises RuntimeError for most of them); and
``flag``, the one check of a True/False argument that ops, layers and utilities share."""
import numpy as np


def flag(owner, name, value):
    """``value`` as a bool; anything but True/False (or a numpy bool) is refused in one line
    naming ``owner`` and ``name`` (a truthy ``"False"`` would otherwise mean True)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


class ShapeError(ValueError, RuntimeError):
    """Shapes that an op cannot combine. Catchable as ``ValueError`` or as ``RuntimeError``."""

    __module__ = "tinyseq"  # shown as tinyseq.ShapeError, where users import it from


class DTypeError(TypeError, RuntimeError):
    """A tensor of the wrong dtype (PyTorch raises RuntimeError, Python code expects TypeError)."""

    __module__ = "tinyseq"


class OutOfRangeError(IndexError, ValueError):
    """An id or class index outside its range (PyTorch raises IndexError)."""

    __module__ = "tinyseq"
