"""Data makers and hypothesis strategies, shared by the torch, gradcheck and property tests.

Makers: ``maker(rng, shape, dtype)`` -> a numpy array of one kind of values, the domain an op
needs or the awkward values a case is about; ``KINDS`` names them for the op tables, and
``arrays_for(name, shapes, kind)`` draws a row's inputs from a generator seeded by the row's name.
Operands: small numpy constants the op tables use on either side of an op.
Strategies: shapes, broadcastable shapes, dims, shape-op arguments and indices, for hypothesis.
"""
import math
import zlib

import numpy as np
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.extra import numpy as hnp

# ---- makers -------------------------------------------------------------------------------------
CLAMP_BOUNDS = (-0.5, -0.3, 0.2, 0.5)  # every clamp bound the gradcheck table uses


def normal(rng, shape, dtype=np.float64):
    return np.asarray(rng.standard_normal(shape)).astype(dtype)


def positive(rng, shape, dtype=np.float64):
    """x in [0.5, 2]: log, sqrt, fractional powers, bases of ``x ** y``."""
    return np.asarray(rng.uniform(0.5, 2.0, shape)).astype(dtype)


def away(rng, shape, dtype=np.float64):
    """|x| in [0.5, 2]: denominators, abs, relu, masks computed from x (no kink within eps)."""
    return np.asarray(rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)).astype(dtype)


def distinct(rng, shape, dtype=np.float64):
    """Values at least ~0.08 apart: no ties for max/min."""
    n = math.prod(shape)
    values = rng.permutation(n) * 0.1 + rng.uniform(-0.01, 0.01, n) - n * 0.05
    return values.reshape(shape).astype(dtype)


def off_bounds(rng, shape, dtype=np.float64):
    """x in [-1.2, 1.2], at least 0.05 from every one of ``CLAMP_BOUNDS``."""
    x = rng.uniform(-1.2, 1.2, shape)
    for bound in CLAMP_BOUNDS:
        x = np.where(np.abs(x - bound) < 0.05, x + 0.1, x)
    return np.asarray(x).astype(dtype)


def ties(rng, shape, dtype=np.float64):
    """Small integers as floats: many equal values (max/min ties, comparisons)."""
    return np.asarray(rng.integers(-2, 3, shape)).astype(dtype)


def big(rng, shape, dtype=np.float64):
    """Logits of +-1000: softmax and logsumexp must stay finite."""
    return np.asarray(rng.choice([-1000.0, 1000.0], shape) + rng.standard_normal(shape)).astype(
        dtype)


def integers(rng, shape, dtype=np.int64):
    return np.asarray(rng.integers(-3, 4, shape)).astype(dtype)


def positive_integers(rng, shape, dtype=np.int64):
    """Nonzero integers, for integer denominators."""
    return np.asarray(rng.integers(1, 5, shape)).astype(dtype)


KINDS = {"n": normal, "pos": positive, "away": away, "distinct": distinct, "clamp": off_bounds,
         "ties": ties, "big": big, "int": integers, "pint": positive_integers}


def arrays_for(name, shapes, kind="n"):
    """One array per shape, drawn as ``kind`` (one name, or one per shape), from a generator
    seeded by ``name``: a row of a table gets the same data however the table is run."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    kinds = (kind,) * len(shapes) if isinstance(kind, str) else kind
    return [KINDS[k](rng, s) for s, k in zip(shapes, kinds)]


# ---- operands -----------------------------------------------------------------------------------
_operands = np.random.default_rng(1)
A34 = _operands.standard_normal((3, 4))          # a numpy operand
P34 = _operands.uniform(0.5, 2.0, (3, 4))        # a positive numpy operand
M45 = _operands.standard_normal((4, 5))          # a numpy matrix
MASK34 = np.array([[True, False, False, True], [False, False, False, False], [True] * 4])
MASK31 = np.array([[True], [False], [True]])
ROWS = np.array([True, False, True, True])       # a boolean mask over a first dim of 4

# ---- hypothesis ---------------------------------------------------------------------------------
_COMMON = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
FAST = settings(max_examples=40, **_COMMON)
FEW = settings(max_examples=25, **_COMMON)
MANY = settings(max_examples=300, **_COMMON)

seeds = st.integers(0, 2**32 - 1)
float_dtypes = st.sampled_from([np.float32, np.float64])
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
nonscalar_shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=1,
                                          max_side=4)
pairs_with_empty = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                     min_side=0, max_side=3)
triples = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, min_side=1,
                                            max_side=4)


@st.composite
def shape_and_dims(draw, allow_none=True):
    """A non-scalar shape, and ``dim``: an int, a tuple of distinct dims (either sign), or None."""
    shape = draw(nonscalar_shapes)
    nd = len(shape)
    kinds = ["int", "tuple"] + (["none"] if allow_none else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return shape, None
    sign = st.sampled_from([0, -nd])  # d or d - ndim
    if kind == "int":
        return shape, draw(st.integers(0, nd - 1)) + draw(sign)
    axes = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
    return shape, tuple(d + draw(sign) for d in axes)


def _prime_factors(n):
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


@st.composite
def reshape_targets(draw):
    """(shape, another shape with the same number of elements, maybe with one -1)."""
    shape = draw(shapes)
    primes = draw(st.permutations(_prime_factors(math.prod(shape))))
    nd = draw(st.integers(0 if not primes else 1, 5))
    if nd == 0:
        return shape, ()
    target = [1] * nd
    for p in primes:
        target[draw(st.integers(0, nd - 1))] *= p
    if draw(st.booleans()):
        target[draw(st.integers(0, nd - 1))] = -1
    return shape, tuple(target)


@st.composite
def expand_targets(draw):
    """(shape, a shape it expands to: new dims on the left, size-1 dims grown, -1 to keep)."""
    shape = draw(shapes)
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    rest = []
    for n in shape:
        if n == 1:
            rest.append(draw(st.sampled_from([1, 2, 3, -1])))
        else:
            rest.append(draw(st.sampled_from([n, -1])))
    return shape, tuple(lead) + tuple(rest)


@st.composite
def split_args(draw):
    """(shape, dim, how): ``how`` a piece size (maybe larger than the dim) or sizes adding up to
    the dim, zeros allowed."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    nd = len(shape)
    dim = draw(st.integers(-nd, nd - 1))
    n = shape[dim]
    if draw(st.booleans()):
        how = draw(st.integers(1, n + 1))
    else:
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
        bounds = [0, *cuts, n]
        how = [hi - lo for lo, hi in zip(bounds, bounds[1:])]
    return shape, dim, how


def _positive_steps(index):
    """``index`` with each negative slice step made positive (torch and tinyseq refuse them)."""
    def fix(i):
        return slice(i.start, i.stop, -i.step) if isinstance(i, slice) and (i.step or 1) < 0 else i
    return tuple(fix(i) for i in index) if isinstance(index, tuple) else fix(index)


def basic_indices(shape):
    """numpy's basic indices of ``shape`` (ints, slices, None, ``...``), slice steps positive."""
    return hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True).map(_positive_steps)


@st.composite
def shapes_and_indices(draw):
    """A shape and an index tuple for it mixing ints, slices, None, ``...``, bools, int lists and
    arrays and bool masks; now and then one that torch refuses (out of range, arrays that do not
    broadcast, a mask of the wrong size, too many entries)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    adv = draw(st.sampled_from([(2,), (1,), (3,), (2, 2), (1, 3), (0,)]))
    items, left, ellipsis = [], len(shape), False
    for _ in range(draw(st.integers(1, 5))):
        kinds = ["int", "slice", "none", "bool", "list", "array", "mask"]
        kind = draw(st.sampled_from(kinds + ([] if ellipsis else ["ellipsis"])))
        n = shape[len(shape) - left] if left > 0 else 1
        if kind == "int":
            items.append(draw(st.integers(-n - 1, n)))
        elif kind == "slice":
            bound = st.none() | st.integers(-n - 1, n + 1)
            items.append(slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3]))))
        elif kind == "none":
            items.append(None)
        elif kind == "bool":
            items.append(draw(st.booleans()))
        elif kind == "ellipsis":
            ellipsis = True
            items.append(Ellipsis)
        elif kind in ("list", "array"):
            ids = draw(hnp.arrays(np.int64, adv, elements=st.integers(-n, n - 1)))
            items.append(ids.tolist() if kind == "list" and len(adv) == 1 else ids)
        else:
            dims = shape[len(shape) - left:][:draw(st.integers(1, 2))] or (1,)
            items.append(draw(hnp.arrays(np.bool_, dims)))
        left -= {"int": 1, "slice": 1, "list": 1, "array": 1}.get(kind, 0)
        left -= items[-1].ndim if kind == "mask" else 0
    return shape, tuple(items)
