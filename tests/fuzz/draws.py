"""Small draws and spellings the fuzzer's op writers share (``programs.py``, ``ops_more.py``):
an array as source, a number as an operand, a dim of an n-d tensor (out of range when the op is
made invalid), a tuple of distinct dims, whether two shapes broadcast."""
import math

import numpy as np


def literal(a, grad=False):
    """Source that makes the array ``a`` in library ``m`` (float64 for floats)."""
    rg = ", requires_grad=True" if grad else ""
    if a.dtype == np.bool_:
        return f"m.tensor({a.tolist()})" if a.size else f"m.zeros({a.shape}, dtype=m.bool)"
    if a.dtype.kind in "iu":  # (an empty one by its shape: tolist() of (1, 0, 1) is [[]])
        return f"m.tensor({a.tolist()})" if a.size else f"m.zeros({a.shape}, dtype=m.int64)"
    if a.size == 0:
        return f"m.zeros({a.shape}, dtype=m.float64{rg})"
    return f"m.tensor({a.tolist()}, dtype=m.float64{rg})"


def num(v):
    """A number as an operand; a negative one in parentheses: ``(-1.5) ** x``."""
    return f"({v!r})" if math.copysign(1, v) < 0 else repr(v)


def broadcasts(a, b):
    try:
        np.broadcast_shapes(tuple(a), tuple(b))
        return True
    except ValueError:
        return False


def dim(g, n, extra=0):
    """A dim of an ``n``-d tensor (``extra=1``: of the result of unsqueeze/stack), maybe negative;
    out of range when the op is made invalid."""
    k = n + extra
    if g.invalid:
        return int(g.pick([k, -k - 1]))
    if k == 0:
        return int(g.pick([0, -1]))
    return int(g.rng.integers(-k, k))


def dims_tuple(g, n):
    """A tuple of distinct dims (a repeated one when invalid)."""
    if n == 0:
        return None
    k = int(g.rng.integers(1, n + 1))
    dims = [int(d) for d in g.rng.permutation(n)[:k]]
    dims = [d - n if g.chance(0.3) else d for d in dims]
    if g.invalid:
        dims.append(dims[0])
    return tuple(dims)
