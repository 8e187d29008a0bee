"""The ops as ``ts.NAME(t, ...)``: each is the function defined next to its Function in ``ops/``
(``ts.exp`` is ``ops.elementwise.exp``, the same function as the method ``t.exp()``), and takes a
list or an array where a tensor is expected. ``linear`` is here for ``ts.nn.functional``; it is
not a ``ts`` name (as in torch)."""
from .dtypes import tensor_of
from .ops.diagonal import diag, diagonal, tril, triu  # noqa: F401
from .ops.gather import (gather, index_add, index_fill, index_select,  # noqa: F401
                         masked_select, scatter, scatter_add, take_along_dim)
from .ops.pad import pad  # noqa: F401  (ts.nn.functional.pad, not a ts name, as in torch)
from .ops.special import erf, softplus  # noqa: F401  (softplus: ts.nn.functional's)
from .ops.layout import moveaxis, movedim, roll, tensor_split, unflatten  # noqa: F401
from .ops.elementwise import (abs, add, clamp, clone, div, eq, exp, ge, gt, le,  # noqa: F401
                              log, lt, masked_fill, mul, ne, neg, pow, relu, sigmoid, sqrt,
                              sub, tanh, where)
from .ops.linalg import bmm, linear, matmul  # noqa: F401
from .ops.order import (amax, amin, argmax, argmin, argsort, kthvalue, max,  # noqa: F401
                        maximum, median, min, minimum, mode, sort, topk)
from .ops.reduce import log_softmax, logsumexp, mean, softmax, sum  # noqa: F401
from .ops.shape import (cat, chunk, expand, flatten, flip, narrow, permute,  # noqa: F401
                        reshape, split, squeeze, stack, swapaxes, swapdims, transpose, unbind,
                        unsqueeze)


def detach(input):
    """``input``'s data, cut from the graph (``t.detach()``)."""
    return tensor_of(input).detach()


# The ts.NAME forms of Tensor methods (``ts.exp(t)`` is ``t.exp()``).
METHODS = ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sum", "mean", "max", "min",
           "argmax", "argmin", "logsumexp", "softmax", "log_softmax", "clamp", "reshape",
           "transpose", "permute", "unsqueeze", "squeeze", "expand", "flatten", "split", "chunk",
           "unbind", "masked_fill", "clone", "detach", "amax", "amin", "maximum", "minimum", "sort",
           "argsort", "topk", "kthvalue", "median", "mode", "add", "sub", "mul", "div", "pow",
           "neg", "eq", "ne", "lt", "le", "gt", "ge", "bmm", "narrow", "flip", "swapaxes",
           "swapdims", "tril", "triu", "diag", "diagonal", "index_select", "gather", "scatter",
           "scatter_add", "masked_select", "index_fill", "index_add", "take_along_dim",
           "movedim", "moveaxis", "roll", "tensor_split", "unflatten", "erf")
__all__ = ["cat", "stack", "where", "matmul", *METHODS]
