"""The ops as ``ts.NAME(t, ...)``: each is the function defined next to its Function in ``ops/``
(``ts.exp`` is ``ops.activations.exp``, the same function as the method ``t.exp()``), and takes a
list or an array where a tensor is expected. ``linear`` is here for ``ts.nn.functional``; it is
not a ``ts`` name (as in torch). (``functional.py`` is PyTorch's ``torch.autograd.functional``:
Jacobians and Hessians.)"""
from .dtypes import tensor_of
from .ops.activations import abs, exp, log, relu, sigmoid, sqrt, tanh  # noqa: F401
from .ops.conv import conv1d, conv_transpose1d  # noqa: F401
from .ops.diagonal import diag, diagonal, tril, triu  # noqa: F401
from .ops.einsum import einsum  # noqa: F401
from .ops.elementwise import add, mul, neg, pow, sub, true_divide  # noqa: F401
from .ops.extrema import (amax, amin, argmax, argmin, max, maximum, min,  # noqa: F401
                          minimum)
from .ops.gather import (gather, index_add, index_fill, index_select,  # noqa: F401
                         masked_select, scatter, scatter_add, take_along_dim)
from .ops.layout import moveaxis, movedim, roll, tensor_split, unflatten  # noqa: F401
from .ops.linalg import (addmm, baddbmm, bmm, dot, linear, matmul, mm, mv,  # noqa: F401
                         outer)
from .ops.logic import (all, allclose, any, argwhere, bitwise_and, bitwise_not,  # noqa: F401
                        bitwise_or, bitwise_xor, count_nonzero, equal, is_floating_point,
                        isclose, isfinite, isinf, isnan, isneginf, isposinf, logical_and,
                        logical_not, logical_or, logical_xor, nonzero, unique)
from .ops.norms import norm  # noqa: F401
from .ops.order import argsort, kthvalue, median, mode, sort, topk  # noqa: F401
from .ops.pad import pad  # noqa: F401  (ts.nn.functional.pad, not a ts name, as in torch)
from .ops.pool import (adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d,  # noqa: F401
                       max_pool1d)
from .ops.reduce import log_softmax, logsumexp, mean, softmax, sum  # noqa: F401
from .ops.rounding import div, divide, floor_divide, fmod, remainder  # noqa: F401
from .ops.sample import bernoulli  # noqa: F401
from .ops.scan import cumprod, cumsum, prod  # noqa: F401
from .ops.selection import (clamp, clone, eq, ge, gt, le, lt, masked_fill, ne,  # noqa: F401
                            where)
from .ops.joins import cat, chunk, split, stack, unbind  # noqa: F401
from .ops.shape import (expand, flatten, flip, narrow, permute, reshape,  # noqa: F401
                        squeeze, swapaxes, swapdims, transpose, unsqueeze)
from .ops.special import erf, softplus  # noqa: F401  (softplus: ts.nn.functional's)
from .ops.stats import std, std_mean, var, var_mean  # noqa: F401
from .ops.unary import (ceil, cos, expm1, floor, log1p, log2, log10, reciprocal,  # noqa: F401
                        round, rsqrt, sign, sin, square, trunc)


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
           "swapdims",
           # more math, logic, reductions and products (ops/unary, rounding, logic, scan, stats,
           # norms, linalg, sample)
           "sin", "cos", "rsqrt", "reciprocal", "square", "log1p", "expm1", "log2", "log10",
           "floor", "ceil", "trunc", "round", "sign", "floor_divide", "remainder", "fmod",
           "divide", "true_divide", "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor",
           "logical_not", "logical_and", "logical_or", "logical_xor", "isnan", "isinf", "isfinite", "isposinf",
           "isneginf", "isclose", "allclose", "equal", "any", "all", "count_nonzero", "nonzero",
           "argwhere", "unique", "is_floating_point", "prod", "cumsum", "cumprod", "var", "std",
           "norm", "mm", "mv", "dot", "outer", "addmm", "baddbmm", "bernoulli",
           # shape, matrices and indexing (ops/diagonal, gather, layout, special)
           "tril", "triu", "diag", "diagonal", "index_select", "gather", "scatter",
           "scatter_add", "masked_select", "index_fill", "index_add", "take_along_dim",
           "movedim", "moveaxis", "roll", "tensor_split", "unflatten", "erf")
# not Tensor methods, but ts names as in torch (and ts.nn.functional's)
FUNCTIONS = ("conv1d", "conv_transpose1d", "max_pool1d", "avg_pool1d", "adaptive_max_pool1d",
             "adaptive_avg_pool1d")
__all__ = ["cat", "stack", "where", "matmul", "einsum", "var_mean", "std_mean", *METHODS,
           *FUNCTIONS]
