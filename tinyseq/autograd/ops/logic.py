"""Logic and tests of values, none of them differentiable: ``~ & | ^`` (bitwise on integers and
bools, as torch), ``logical_not/and/or/xor``, ``isnan``, ``isinf``, ``isfinite``, ``isclose``,
``allclose``, ``equal``, ``any``, ``all``, ``count_nonzero``, ``nonzero`` and ``unique``.

Their results are bool or int64 tensors outside the graph (``Tensor._wrap``), as torch's are;
``unique`` of a float tensor that requires grad is recorded with a backward that refuses, as in
torch. Each function is both ``ts.NAME`` and the method ``t.NAME()``.
"""
import numpy as np

from ..dtypes import data_of, operands, tensor_of
from ..function import Function
from ..tensor import Tensor
from ._util import broadcast_error
from .reduce import reduce_axes


def _integral(op, *xs):
    """The arrays of a bitwise op's operands, which must be integers or bools (torch has no
    bitwise kernel for floats)."""
    for x in xs:
        if x.dtype.kind not in "iub":
            raise NotImplementedError(f"{op}: bitwise ops take integer or bool tensors, got "
                                      f"{x.dtype}; for a float mask compare first (x > 0) or "
                                      "use logical_and/or/xor/not")
    return xs


def _broadcasting(op, ufunc, a, b):
    """``ufunc(a, b)`` as a Tensor outside the graph, naming ``op`` and both shapes if they do
    not broadcast."""
    try:
        return Tensor._wrap(np.asarray(ufunc(a, b)))
    except ValueError:
        raise broadcast_error(op, np.shape(a), np.shape(b)) from None


def _bitwise(op, ufunc, input, other):
    a, b = (np.asarray(data_of(x)) for x in operands(input, other))
    return _broadcasting(op, ufunc, *_integral(op, a, b))


def bitwise_not(input):
    """``~input``: logical not of bools, two's-complement not of integers."""
    (a,) = _integral("bitwise_not", tensor_of(input)._data)
    return Tensor._wrap(np.invert(a))


def invert(self):
    """``~self``: ``bitwise_not``, refusing floats with torch's TypeError (the operator's)."""
    if self._data.dtype.kind not in "iub":
        raise TypeError(f"~ (operator.invert) is only implemented on integer and bool tensors, "
                        f"got {self._data.dtype}; for a float mask use x == 0 or logical_not")
    return bitwise_not(self)


def bitwise_and(input, other):
    return _bitwise("bitwise_and", np.bitwise_and, input, other)


def bitwise_or(input, other):
    return _bitwise("bitwise_or", np.bitwise_or, input, other)


def bitwise_xor(input, other):
    return _bitwise("bitwise_xor", np.bitwise_xor, input, other)


def bitwise_and_reflected(self, other):
    """``other & self`` for a number ``other`` (Python's ``__rand__``)."""
    return bitwise_and(other, self)


def bitwise_or_reflected(self, other):
    return bitwise_or(other, self)


def bitwise_xor_reflected(self, other):
    return bitwise_xor(other, self)


def _truth(x):
    """Any value as its truth (nonzero is True), as the logical ops read their operands."""
    return np.asarray(data_of(x)) != 0


def logical_not(input):
    return Tensor._wrap(~_truth(tensor_of(input)))


def logical_and(input, other):
    return _broadcasting("logical_and", np.logical_and, _truth(input), _truth(other))


def logical_or(input, other):
    return _broadcasting("logical_or", np.logical_or, _truth(input), _truth(other))


def logical_xor(input, other):
    return _broadcasting("logical_xor", np.logical_xor, _truth(input), _truth(other))


def isnan(input):
    return Tensor._wrap(np.isnan(tensor_of(input)._data))


def isinf(input):
    return Tensor._wrap(np.isinf(tensor_of(input)._data))


def isfinite(input):
    return Tensor._wrap(np.isfinite(tensor_of(input)._data))


def isposinf(input):
    return Tensor._wrap(np.isposinf(tensor_of(input)._data))


def isneginf(input):
    return Tensor._wrap(np.isneginf(tensor_of(input)._data))


# ---- closeness --------------------------------------------------------------------------------
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``|input - other| <= atol + rtol * |other|`` elementwise (equal infinities are close);
    both tensors of one dtype, as torch requires."""
    a, b = tensor_of(input)._data, tensor_of(other)._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"isclose: the tensors have dtypes {a.dtype} and {b.dtype}; they "
                           "must be the same (convert one with .to(other.dtype))")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not tol >= 0:
            raise RuntimeError(f"isclose: {name} must be greater than or equal to zero, got {tol}")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise broadcast_error("isclose", a.shape, b.shape) from None
    if a.dtype == np.bool_:
        return Tensor._wrap(np.asarray(a == b))
    with np.errstate(all="ignore"):  # (inf - inf: equal infinities are handled by ==)
        return Tensor._wrap(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol,
                                                  equal_nan=equal_nan)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element is ``isclose``: a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):
    """Whether the two tensors have the same shape and the same values: a Python bool."""
    a, b = tensor_of(input)._data, tensor_of(other)._data
    return a.shape == b.shape and bool((a == b).all())


# ---- reductions to truth values and counts ----------------------------------------------------
def _truth_reduction(op, ufunc, input, dim, keepdim):
    """``any``/``all`` over ``dim``: bool, or uint8 for a uint8 input, as torch."""
    x = tensor_of(input)._data
    out = ufunc(x != 0, axis=reduce_axes(dim, x.ndim, op), keepdims=keepdim)
    return Tensor._wrap(np.asarray(out, dtype=np.uint8 if x.dtype == np.uint8 else np.bool_))


def any(input, dim=None, keepdim=False):
    """Whether any element (over ``dim``: an int, a tuple or None for all) is nonzero."""
    return _truth_reduction("any", np.any, input, dim, keepdim)


def all(input, dim=None, keepdim=False):
    """Whether every element (over ``dim``: an int, a tuple or None for all) is nonzero."""
    return _truth_reduction("all", np.all, input, dim, keepdim)


def count_nonzero(input, dim=None):
    """How many elements are nonzero, over ``dim`` (an int, a tuple, or None for all): int64."""
    x = tensor_of(input)._data
    axes = reduce_axes(dim, x.ndim, "count_nonzero")
    return Tensor._wrap(np.asarray(np.count_nonzero(x, axis=axes), dtype=np.int64))


def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements: ``(n, ndim)`` int64 in row-major order, or with
    ``as_tuple`` one ``(n,)`` tensor per dim (a 0-d input counts as 1-d there, as in torch)."""
    x = tensor_of(input)._data
    where = np.nonzero(x.reshape(-1) if x.ndim == 0 else x)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in where)
    columns = where if x.ndim else ()
    return Tensor._wrap(np.stack(columns, axis=1).astype(np.int64) if columns
                        else np.zeros((len(where[0]), 0), np.int64))


def argwhere(input):
    """``nonzero(input)``: the ``(n, ndim)`` indices of the nonzero elements."""
    return nonzero(input)


class Unique(Function):
    """The sorted distinct values (each NaN its own, as torch); no derivative, as in torch."""

    @staticmethod
    def forward(ctx, a):
        values, inverse, counts = np.unique(a.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        return values, inverse.reshape(a.shape).astype(np.int64), counts.astype(np.int64)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("unique: the derivative for unique is not implemented (as in torch);"
                           " compute it from the inverse indices with a gather or a scatter")

    graph_backward = backward  # (the same refusal, at any order)

    @staticmethod
    def jvp(ctx, *tangents):
        raise NotImplementedError("unique: forward-mode AD (a tangent) is not implemented for "
                                  "unique (as in torch); take the unique values of the primal "
                                  "outside the dual level")


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of ``input``, flattened and sorted (always, as torch on the CPU);
    with ``return_inverse`` also where each element went (``input``'s shape), with
    ``return_counts`` how often each value occurs. ``dim`` is not supported."""
    if dim is not None:
        raise NotImplementedError(f"unique: dim={dim} is not supported by tinyseq; unique over "
                                  "the flattened tensor only (dim=None)")
    values, inverse, counts = Unique.apply(tensor_of(input))
    extra = ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return (values, *extra) if extra else values


def is_floating_point(input):
    """Whether ``input`` holds floats: a Python bool."""
    return tensor_of(input)._data.dtype.kind == "f"


# The functions above as Tensor methods (tensor.py attaches them): ``~t``, ``a & b``, ...
TENSOR_METHODS = {
    "bitwise_not": bitwise_not, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or,
    "bitwise_xor": bitwise_xor, "__invert__": invert, "__and__": bitwise_and,
    "__or__": bitwise_or, "__xor__": bitwise_xor, "__rand__": bitwise_and_reflected,
    "__ror__": bitwise_or_reflected, "__rxor__": bitwise_xor_reflected,
    "logical_not": logical_not, "logical_and": logical_and, "logical_or": logical_or,
    "logical_xor": logical_xor, "isnan": isnan, "isinf": isinf, "isfinite": isfinite,
    "isposinf": isposinf, "isneginf": isneginf, "isclose": isclose, "allclose": allclose,
    "equal": equal, "any": any, "all": all, "count_nonzero": count_nonzero,
    "nonzero": nonzero, "argwhere": argwhere, "unique": unique,
    "is_floating_point": is_floating_point,
}
