"""Random op programs over the tensor API that tinyseq shares with PyTorch, run on both, compared.

A program is Python source over a library module ``m`` (``torch`` or ``tinyseq``): leaf inputs
``x0, x1, ...`` (float64, most requiring grad), then one op a line (``v3 = v2.clamp(min=0.0)``).
``generate(seed, family)`` writes one deterministically, running each new line on PyTorch as it
writes it, so that every op is chosen for the shapes it meets; a line PyTorch refuses ends the
program. ``check(program)`` runs it on both libraries, with the backward of a weighted sum of its
unconsumed values, and returns the first ``Discrepancy`` (values, refusals, every gradient, numpy
warnings) or None. ``shrink`` makes a failing program small; ``Program.source()`` is a script that
runs it on both libraries. What is compared, and what is left out on purpose and why (``max(dim)``
values only, compared through ``values(r)`` so that issue 15's ``(values, indices)`` keeps
working), is in README.md next to this file.
"""
import dataclasses
import math
import re
import sys
import traceback
import warnings
import zlib

import numpy as np
import torch

import tinyseq as ts

from . import ops_more
from .draws import broadcasts as _broadcasts, dim as _dim, dims_tuple as _dims_tuple, literal
from .draws import num as _num

NAN, INF = float("nan"), float("inf")
RTOL = ATOL = 1e-10
FAMILIES = ("elementwise", "reduce", "shape", "index", "mixed")
MAX_NUMEL = 256
# ops whose zero results may be -0.0 or +0.0 by the order of a sum or the choice among ties
ACCUMULATE = ("matmul", "sum", "mean", "logsumexp", "softmax", "log_softmax", "max",
              "min") + ops_more.ACCUMULATE
_NAME = re.compile(r"\b[xv]\d+\b")
# ops with a kink: which side of it an input falls on decides the value (compare) or gradient
KINKS = ("clamp", "relu", "abs", "max", "min", "compare", "where", "masked_fill") + ops_more.KINKS
_COMPARISON = re.compile(r"[<>]|[=!]=")
_TS_DIR = str(__import__("pathlib").Path(ts.__file__).parent)


def values(r):
    """The values of ``max(dim)``/``min(dim)``, whether or not it returns (values, indices)."""
    return r[0] if isinstance(r, tuple) else r


# ---- programs -----------------------------------------------------------------------------------
@dataclasses.dataclass
class Program:
    """Leaf inputs (name -> (array, requires_grad)), op lines ``(name, expr, label)``, outputs."""

    seed: int
    family: str
    inputs: dict
    lines: list
    outputs: list = None  # the values the loss weighs; None: every unconsumed one

    def body(self):
        """The source lines: the inputs, then the ops."""
        return ([f"{n} = {literal(a, grad=g)}" for n, (a, g) in self.inputs.items()]
                + [f"{n} = {expr}" for n, expr, _ in self.lines])

    def source(self, note=""):
        """A script that runs this program on PyTorch and tinyseq and prints both results."""
        tail = execute(self.body(), torch, (), lambda ns: loss_lines(self, ns))[1]
        body = "\n".join("    " + line for line in self.body() + tail)
        names = ", ".join(f"{n!r}: {n}" for n, _, _ in self.lines)
        inputs = ", ".join(f"{n!r}: {n}" for n, (_, g) in self.inputs.items() if g)
        return (f"# {note}\n# tests/fuzz: seed {self.seed}, family {self.family!r}\n"
                "import torch\nimport tinyseq as ts\n\n"
                'nan, inf = float("nan"), float("inf")\n\n\n'
                "def values(r):  # max(dim)/min(dim): the values, with or without indices\n"
                "    return r[0] if isinstance(r, tuple) else r\n\n\n"
                f"def program(m):\n{body}\n    return {{{names}}}, {{{inputs}}}\n\n\n"
                "def show(v):\n"
                "    return [show(e) for e in v] if isinstance(v, tuple) else v.tolist()\n\n\n"
                "for m in (torch, ts):\n"
                "    out, leaves = program(m)\n"
                "    print(m.__name__, {k: show(v) for k, v in out.items()})\n"
                "    print('  grads', {k: None if x.grad is None else x.grad.tolist() "
                "for k, x in leaves.items()})\n")


def loss_lines(program, ns):
    """``loss = sum of (output * fixed weights)`` and its backward, or nothing to differentiate."""
    outs = program.outputs if program.outputs is not None else unconsumed(program, ns)
    terms = []
    for expr in outs:
        rng = np.random.default_rng([program.seed, zlib.crc32(expr.encode())])
        shape = tuple(eval(expr, ns).shape)
        w = np.round(rng.uniform(0.1, 2.0, shape) * rng.choice([-1, 1], shape), 2)
        terms.append(f"({expr} * {literal(w)}).sum()")
    return [f"loss = {' + '.join(terms)}", "loss.backward()"] if terms else []


def unconsumed(program, ns):
    """The float values that require grad and that no later line uses (tuple items one by one)."""
    out = []
    for i, (name, _, _) in enumerate(program.lines):
        later = " ".join(e for _, e, _ in program.lines[i + 1:])
        v = ns.get(name)
        items = ([(f"{name}[{k}]", e) for k, e in enumerate(v)] if isinstance(v, tuple)
                 else [(name, v)])
        for expr, t in items:
            used = (expr in later) if "[" in expr else re.search(rf"\b{name}\b", later)
            if isinstance(t, torch.Tensor) and t.requires_grad and not used:
                out.append(expr)
    return out


# ---- generating ---------------------------------------------------------------------------------
class _Gen:
    """The state of one program being written: its rng, the torch namespace, the pools of values."""

    def __init__(self, seed, family):
        self.rng = np.random.default_rng(seed)
        self.program = Program(seed, family, {}, [])
        self.ns = base_namespace(torch)
        self.special = self.rng.random() < 0.3  # 0, -0.0, +-inf, nan, kinks
        self.ties = self.rng.random() < 0.3  # small integers: max ties, values on kinks
        self.floats, self.masks = [], []  # source expressions of float / bool tensor values
        self.invalid = False

    # -- small random choices
    def pick(self, seq, p=None):
        return seq[self.rng.choice(len(seq), p=p)]

    def chance(self, p):
        return self.rng.random() < p

    def size(self):
        return int(self.pick([0, 1, 2, 3, 4], p=[0.04, 0.26, 0.3, 0.3, 0.1]))

    def shape(self):
        return tuple(self.size() for _ in range(self.pick([0, 1, 2, 3, 4],
                                                           p=[0.1, 0.25, 0.35, 0.2, 0.1])))

    def scalar(self):
        """A Python float, now and then special or on a kink."""
        if self.special and self.chance(0.3):
            return float(self.pick([0.0, -0.0, INF, -INF, NAN, 1.0, -1.0]))
        return float(self.rng.integers(-2, 3)) if self.ties else round(
            float(self.rng.normal(0, 1.5)), 2)

    def array(self, shape):
        if self.ties:
            a = self.rng.integers(-2, 3, shape).astype(np.float64)
        else:
            a = np.array(np.round(self.rng.normal(0, 1.5, shape), 2))
        if self.special:
            hit = self.rng.random(shape) < 0.25
            a[hit] = self.rng.choice([0.0, -0.0, INF, -INF, NAN, 1.0, -1.0], size=shape)[hit]
        return a

    # -- values
    def new_input(self, shape, grad=None, named=False):
        """A new leaf (usually requiring grad) or, half the time when it does not require grad and
        need not be ``named``, a constant written into the line."""
        grad = self.chance(0.75) if grad is None else grad
        a = self.array(shape)
        if not grad and not named and self.chance(0.5):
            return literal(a)
        name = f"x{len(self.program.inputs)}"
        self.program.inputs[name] = (a, grad)
        self.ns[name] = eval(literal(a, grad=grad), self.ns)
        self.floats.append(name)
        return name

    def operand(self):
        """Most often the newest float value (a chain), else any earlier one."""
        return self.floats[-1] if self.chance(0.6) else self.pick(self.floats)

    def t(self, expr):
        return eval(expr, self.ns)

    def pool_value(self, ok):
        """An existing float value whose torch tensor passes ``ok``, or None."""
        found = [e for e in self.floats if ok(self.t(e))]
        return self.pick(found) if found else None

    def partner(self, shape):
        """A float value that broadcasts with ``shape`` (made invalid when ``self.invalid``)."""
        if self.invalid:
            bad = [i for i, n in enumerate(shape) if n != 1]
            if bad:
                s = list(shape)
                s[self.pick(bad)] += 1
                return self.new_input(tuple(s))
        if self.chance(0.4):
            found = self.pool_value(lambda t: _broadcasts(t.shape, shape))
            if found:
                return found
        s = list(shape[self.rng.integers(0, len(shape) + 1):] if self.chance(0.3) else shape)
        s = [1 if self.chance(0.3) else n for n in s]
        if self.chance(0.15):
            s = [self.pick([1, 2])] + s
        return self.new_input(tuple(s))

    def add_line(self, expr, label):
        """Run ``expr`` on PyTorch as a new line; False when PyTorch refuses it (the end)."""
        name = f"v{len(self.program.lines) + 1}"
        self.program.lines.append((name, expr, label))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = eval(expr, self.ns)
        except Exception:  # noqa: BLE001  (any refusal of PyTorch's is a case to compare)
            return False
        self.ns[name] = value
        items = ([(f"{name}[{k}]", e) for k, e in enumerate(value)] if isinstance(value, tuple)
                 else [(name, value)])
        for e, t in items:
            if not isinstance(t, torch.Tensor) or t.numel() > MAX_NUMEL:
                continue
            (self.floats if t.is_floating_point() else self.masks).append(e)
        return True


def base_namespace(lib):
    return {"m": lib, "nan": NAN, "inf": INF, "values": values, "__builtins__": __builtins__}


# ---- the ops: each returns (expr, label) for the operand x, or None when it does not apply -------
def op_unary(g, x, t):
    name = g.pick(["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "neg"])
    if name == "neg":
        return f"-{x}", "neg"
    return (f"{x}.{name}()" if g.chance(0.7) else f"m.{name}({x})"), name


def op_clamp(g, x, t):
    if g.invalid:
        return f"{x}.clamp()", "clamp"
    flat = t.detach().flatten()

    def bound():
        if flat.numel() and g.chance(0.4):  # exactly on a value: the kink
            return float(flat[int(g.rng.integers(flat.numel()))])
        return g.scalar()
    kind = g.pick(["min", "max", "both", "fn"])
    if kind == "min":
        return f"{x}.clamp(min={bound()!r})", "clamp"
    if kind == "max":
        return f"{x}.clamp(max={bound()!r})", "clamp"
    if kind == "both":
        return f"{x}.clamp({bound()!r}, {bound()!r})", "clamp"
    return f"m.clamp({x}, min={bound()!r}, max={bound()!r})", "clamp"


def op_pow(g, x, t):
    kind = g.pick(["tensor**c", "c**tensor", "tensor**tensor"])
    if kind == "tensor**c":
        p = g.pick([2, 3, 0.5, -1, 0, 1, -0.5, 2.5, -2, 0.0, 2.0])
        return f"{x} ** {_num(p)}" if g.chance(0.8) else f"{x}.pow({p!r})", "pow"
    if kind == "c**tensor":
        return f"{_num(g.pick([2.0, 0.5, 2, 0.0, -1.5, 1.0]))} ** {x}", "rpow"
    return f"{x} ** {g.partner(tuple(t.shape))}", "pow(t,t)"


def op_binary(g, x, t):
    sym = g.pick(["+", "-", "*", "/"])
    kind = g.pick(["tt", "tc", "ct"], p=[0.6, 0.2, 0.2])
    if kind == "tc":
        return f"{x} {sym} {_num(g.scalar())}", sym
    if kind == "ct":
        return f"{_num(g.scalar())} {sym} {x}", sym
    return f"{x} {sym} {g.partner(tuple(t.shape))}", sym


def op_compare(g, x, t):
    sym = g.pick(["<", "<=", ">", ">=", "==", "!="])
    other = g.scalar() if g.chance(0.5) else g.partner(tuple(t.shape))
    return f"({x} {sym} {other})", "compare"


def _matmul_partner(g, k, vec, right):
    """A shape that multiplies with an inner dim ``k``."""
    if g.invalid:
        k += 1
    j = g.size()
    if vec or g.chance(0.2):
        return (k,)
    s = (k, j) if right else (j, k)
    return ((g.pick([1, 2]),) + s) if g.chance(0.25) else s


def op_matmul(g, x, t):
    s = tuple(t.shape)
    if not s:
        return (f"{x} @ {g.new_input((2,))}", "matmul") if g.invalid else None
    right = g.chance(0.7)
    k = s[-1] if right or len(s) == 1 else s[-2]
    shape = _matmul_partner(g, k, False, right)
    found = g.pool_value(lambda u: tuple(u.shape) == shape) if g.chance(0.3) else None
    y = found or g.new_input(shape)
    a, b = (x, y) if right else (y, x)
    return (f"{a} @ {b}" if g.chance(0.7) else f"m.matmul({a}, {b})"), "matmul"


def op_reduce(g, x, t):
    n = t.dim()
    name = g.pick(["sum", "mean", "max", "min", "logsumexp", "softmax", "log_softmax"])
    kd = ", keepdim=True" if g.chance(0.4) else ""
    if name in ("softmax", "log_softmax"):
        d = _dim(g, n)
        return (f"{x}.{name}({d})" if g.chance(0.7) else f"m.{name}({x}, {d})"), name
    if name in ("max", "min"):
        if g.chance(0.35) and not g.invalid:
            return f"{x}.{name}()", name
        d = _dim(g, n)
        return (f"values({x}.{name}({d}{kd}))" if g.chance(0.7)
                else f"values(m.{name}({x}, {d}{kd}))"), f"{name}(dim)"
    if name == "logsumexp" or g.chance(0.7):
        dims = _dims_tuple(g, n) if g.chance(0.4) else None
        dim = dims if dims is not None else _dim(g, n)
        if name != "logsumexp" and not g.invalid and g.chance(0.2):
            return f"{x}.{name}()", name
        return f"{x}.{name}({dim}{kd})", name + ("(tuple)" if isinstance(dim, tuple) else "")
    return f"m.{name}({x}, dim={_dim(g, n)}{kd})", name


def _factor_shape(g, numel, shape):
    """A random shape with ``numel`` elements, maybe with one -1."""
    if numel == 0:
        s = [n for n in shape] or [0]
        s = list(g.rng.permutation(s)) + [1] * int(g.rng.integers(0, 2))
        return tuple(int(n) for n in g.rng.permutation(s))
    factors, n, p = [], numel, 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    dims = [1] * int(g.rng.integers(1, 4))
    for f in factors:
        dims[int(g.rng.integers(len(dims)))] *= f
    if g.chance(0.3):
        dims.insert(int(g.rng.integers(len(dims) + 1)), 1)
    if g.chance(0.3):
        dims[int(g.rng.integers(len(dims)))] = -1
    if g.invalid:
        dims.append(2)
    return tuple(dims)


def op_reshape(g, x, t):
    s = _factor_shape(g, t.numel(), tuple(t.shape))
    args = ", ".join(map(str, s)) if g.chance(0.6) else repr(s)
    if t.is_contiguous() and g.chance(0.3):
        return f"{x}.view({args})", "view"
    if t.numel() > 0 and g.chance(0.1) and not g.invalid:
        return f"{x}.flatten()", "flatten"
    return f"{x}.reshape({args})", "reshape"


def op_transpose(g, x, t):
    n = t.dim()
    kind = g.pick(["transpose", "permute", "T"])
    if kind == "T" and n == 2:
        return f"{x}.T", "T"
    if kind == "permute":
        perm = [int(d) - n if g.chance(0.3) else int(d) for d in g.rng.permutation(n)]
        if g.invalid:
            perm = perm[1:] + [perm[0] if perm else 0]
        args = ", ".join(map(str, perm)) if g.chance(0.6) and perm else repr(tuple(perm))
        return f"{x}.permute({args})", "permute"
    return f"{x}.transpose({_dim(g, n)}, {_dim(g, n)})", "transpose"


def op_squeeze(g, x, t):
    n = t.dim()
    kind = g.pick(["unsqueeze", "squeeze()", "squeeze(d)", "squeeze(t)"], p=[0.4, 0.2, 0.2, 0.2])
    if kind == "unsqueeze":
        return f"{x}.unsqueeze({_dim(g, n, 1)})", "unsqueeze"
    if kind == "squeeze()" or n == 0:
        return f"{x}.squeeze()", "squeeze"
    if kind == "squeeze(d)":
        return f"{x}.squeeze({_dim(g, n)})", "squeeze"
    return f"{x}.squeeze({_dims_tuple(g, n)})", "squeeze(tuple)"


def op_expand(g, x, t):
    s = [int(g.pick([1, 2, 3])) if n == 1 else (-1 if g.chance(0.3) else n) for n in t.shape]
    s = [int(g.pick([1, 2]))] * int(g.pick([0, 0, 1, 2])) + s
    if g.invalid:
        s = [n + 1 if n > 1 else n for n in s] + [2]
    if math.prod(abs(n) for n in s) * max(t.numel(), 1) > MAX_NUMEL:
        return None
    args = ", ".join(map(str, s)) if g.chance(0.6) and s else repr(tuple(s))
    return f"{x}.expand({args})", "expand"


def op_flatten(g, x, t):
    n = t.dim()
    if n == 0:
        return f"{x}.flatten()", "flatten"
    a, b = sorted(int(d) for d in g.rng.integers(0, n, 2))
    a, b = (a - n if g.chance(0.3) else a), (b - n if g.chance(0.3) else b)
    if g.invalid:
        a, b = n, 0
    return f"{x}.flatten({a}, {b})", "flatten"


def op_split(g, x, t):
    n = t.dim()
    if n == 0:
        return f"{x}.unbind(0)", "unbind"
    d = _dim(g, n)
    size = t.shape[d] if -n <= d < n else 2
    kind = g.pick(["split", "sizes", "chunk", "unbind"])
    if kind == "split":
        k = 0 if g.invalid else int(g.rng.integers(1, 4))
        return f"{x}.split({k}, {d})", "split"
    if kind == "sizes":
        cuts = sorted(int(c) for c in g.rng.integers(0, size + 1, int(g.rng.integers(0, 3))))
        sizes = [b - a for a, b in zip([0] + cuts, cuts + [size])]
        if g.invalid:
            sizes.append(1)
        return f"{x}.split({sizes}, {d})", "split(sizes)"
    if kind == "chunk":
        c = 0 if g.invalid else int(g.rng.integers(1, 5))
        return (f"{x}.chunk({c}, {d})" if g.chance(0.7) else f"m.chunk({x}, {c}, dim={d})"), "chunk"
    return (f"{x}.unbind({d})" if g.chance(0.7) else f"m.unbind({x}, {d})"), "unbind"


def op_join(g, x, t):
    """cat (along an existing dim) or stack (a new one) of x and values of a matching shape."""
    s, n = tuple(t.shape), t.dim()
    if g.chance(0.5):
        if n == 0:
            return (f"m.cat([{x}, {x}])", "cat") if g.invalid else None
        d = _dim(g, n)
        ax = d % n if -n <= d < n else 0
        parts = [x]
        for _ in range(int(g.rng.integers(1, 3))):
            if g.chance(0.3):
                parts.append(x)
                continue
            p = list(s)
            p[ax] = int(g.pick([0, 1, 2, 3], p=[0.1, 0.3, 0.4, 0.2]))
            if g.invalid and n > 1:
                p[(ax + 1) % n] += 1
            p = tuple(p)
            parts.append(g.pool_value(lambda u: tuple(u.shape) == p) or g.new_input(p))
        return f"m.cat([{', '.join(parts)}], {d})", "cat"
    d = _dim(g, n, 1)
    parts = [x] + [x if g.chance(0.3) else (g.pool_value(lambda u: tuple(u.shape) == s)
                                              or g.new_input(s))
                   for _ in range(int(g.rng.integers(1, 3)))]
    if g.invalid:
        parts.append(g.new_input(s + (2,)))
    return f"m.stack([{', '.join(parts)}], {d})", "stack"


def _index_array(g, size, length):
    """int ids into a dim of ``size`` (repeats allowed; out of range when invalid)."""
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    hi = size + 1 if g.invalid else size
    return g.rng.integers(-size, hi, length).astype(np.int64)


def op_index(g, x, t):
    s, n = tuple(t.shape), t.dim()
    if g.chance(0.15) and n:
        return _mask_index(g, x, t)
    k = int(g.rng.integers(0, n + 1)) if n else 0
    length = int(g.pick([1, 2, 3, 4]))
    parts, kinds = [], []
    for d in range(k):
        size = s[d]
        kind = g.pick(["int", "slice", "full", "array", "list", "bool"],
                      p=[0.2, 0.25, 0.15, 0.2, 0.1, 0.1])
        if kind == "int" and (size or g.invalid):
            i = size if g.invalid else int(g.rng.integers(-size, size))
            parts.append(str(i))
        elif kind in ("array", "list"):
            ids = _index_array(g, size, length)
            parts.append(literal(ids) if kind == "array" or ids.size == 0 else str(ids.tolist()))
            kind = "array"
        elif kind == "bool":
            parts.append(literal(g.rng.random(size) < 0.5))
        elif kind == "slice":
            parts.append(_slice(g, size))
        else:
            kind = "full"
            parts.append(":")
        kinds.append(kind)
    if g.chance(0.25):  # an Ellipsis somewhere: the remaining dims stay
        at = int(g.rng.integers(0, len(parts) + 1))
        parts.insert(at, "...")
        kinds.insert(at, "...")
    for _ in range(int(g.pick([0, 0, 1, 2]))):
        at = int(g.rng.integers(0, len(parts) + 1))
        parts.insert(at, "None")
        kinds.insert(at, "None")
    if g.invalid and not any(k in ("int", "array") for k in kinds):
        parts, kinds = parts + ["0"] * (n + 1), kinds + ["int"]
    if not parts:
        parts, kinds = ["..."], ["..."]
    return f"{x}[{', '.join(parts)}]", _index_label(kinds)


def _slice(g, size):
    def bound():
        return "" if g.chance(0.4) else str(int(g.rng.integers(-size - 1, size + 2)))
    step = g.pick(["", "", "1", "2", "3"])
    if g.invalid:
        step = "-1"
    return f"{bound()}:{bound()}" + (f":{step}" if step else "")


def _index_label(kinds):
    """index[sep] when advanced indices (int arrays, bool masks, and ints with them) are split
    apart by a slice, None or Ellipsis: numpy then puts the indexed dims first counting the ints
    among them, PyTorch does not count the ints; index[adv] with other advanced indices;
    index[basic] without."""
    adv = [i for i, k in enumerate(kinds) if k in ("int", "array", "bool")]
    if not any(k in ("array", "bool") for k in kinds):
        return "index[basic]"
    if any(kinds[i] not in ("int", "array", "bool") for i in range(adv[0], adv[-1])):
        return "index[sep]"
    return "index[adv]"


def _mask_index(g, x, t):
    """``x[mask]`` with a mask over the whole shape or over its leading dims."""
    s = tuple(t.shape)
    j = len(s) if g.chance(0.6) else int(g.rng.integers(1, len(s) + 1))
    if j == len(s) and g.chance(0.5):
        return f"{x}[{x} > {g.scalar()!r}]", "index[mask]"
    found = [e for e in g.masks if tuple(g.t(e).shape) == s[:j]]
    if found and g.chance(0.5):
        return f"{x}[{g.pick(found)}]", "index[mask]"
    shape = s[:j]
    if g.invalid:
        shape = (s[0] + 1,) + s[1:j]
    return f"{x}[{literal(g.rng.random(shape) < 0.5)}]", "index[mask]"


def _mask_for(g, shape, into):
    """A bool value that broadcasts with ``shape`` (``into``: and keeps that shape)."""
    found = [e for e in g.masks if _broadcasts(g.t(e).shape, shape)
             and (not into or np.broadcast_shapes(tuple(g.t(e).shape), shape) == shape)]
    if found and g.chance(0.4):
        return g.pick(found)
    s = list(shape[g.rng.integers(0, len(shape) + 1):] if g.chance(0.3) else shape)
    s = [1 if g.chance(0.3) else n for n in s]
    if g.invalid:
        s = [n + 1 for n in s] or [2]
    return literal(g.rng.random(tuple(s)) < 0.5)


def op_where(g, x, t):
    s = tuple(t.shape)
    cond = _mask_for(g, s, False) if g.chance(0.5) else f"({x} > {g.scalar()!r})"
    other = g.scalar() if g.chance(0.25) else g.partner(s)
    a, b = (x, other) if g.chance(0.7) else (other, x)
    return f"m.where({cond}, {a}, {b})", "where"


def op_masked_fill(g, x, t):
    s = tuple(t.shape)
    mask = _mask_for(g, s, True) if g.chance(0.7) else f"({x} < {g.scalar()!r})"
    kind = g.pick(["scalar", "leaf", "value"], p=[0.6, 0.25, 0.15])
    if kind == "scalar":
        return f"{x}.masked_fill({mask}, {g.scalar()!r})", "masked_fill"
    if kind == "value":
        v = g.pool_value(lambda u: u.dim() == 0)
        if v:
            return f"{x}.masked_fill({mask}, {v})", "masked_fill(tensor)"
    return f"{x}.masked_fill({mask}, {g.new_input(() if not g.invalid else (2,), True)})", \
        "masked_fill(tensor)"


FAMILY_OPS = {
    "elementwise": [op_unary, op_clamp, op_pow, op_binary, op_where, op_masked_fill, op_compare,
                    *ops_more.ELEMENTWISE],
    "reduce": [op_reduce, op_reduce, op_unary, op_binary, op_matmul, *ops_more.REDUCE],
    "shape": [op_reshape, op_transpose, op_squeeze, op_expand, op_flatten, op_split, op_join,
              op_binary, op_unary, *ops_more.SHAPE],
    "index": [op_index, op_index, op_compare, op_unary, op_where, op_masked_fill,
              *ops_more.INDEX],
}
FAMILY_OPS["mixed"] = sorted({op for ops in FAMILY_OPS.values() for op in ops},
                             key=lambda f: f.__name__)


def generate(seed, family="mixed"):
    """The program of ``seed``: 1 to 3 inputs, then 1 to 6 ops of ``family``."""
    g = _Gen(seed, family)
    for _ in range(int(g.rng.integers(1, 4))):
        g.new_input(g.shape(), grad=g.chance(0.85), named=True)
    for _ in range(int(g.rng.integers(1, 7))):
        for _attempt in range(5):
            g.invalid = g.chance(0.04)
            x = g.operand()
            made = g.pick(FAMILY_OPS[family])(g, x, g.t(x))
            if made:
                break
        else:
            continue
        if not g.add_line(*made):
            break
    return g.program


# ---- running and comparing ----------------------------------------------------------------------
@dataclasses.dataclass
class Run:
    """What one library made of a program: its namespace, and the error (line, exception) if any."""

    ns: dict
    error: tuple = None
    warnings: list = ()


def execute(body, lib, retain=(), tail=()):
    """Run the source lines ``body`` on ``lib``, then (if no error) ``retain_grad`` on the values
    ``retain`` and run the loss lines ``tail`` (a list, or a function of the namespace that makes
    it). Records numpy warnings; returns the Run and the loss lines."""
    ns = base_namespace(lib)
    caught = []
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, category, *args: caught.append(
            _warning_origin(message, category))
        error = _exec(body, ns, 0)
        if error is None:
            _retain(ns, retain)
            tail = tail(ns) if callable(tail) else tail
            error = _exec(tail, ns, len(body))
    found = [w for w in caught if w]
    return Run(ns, error, found), ([] if callable(tail) else tail)


def _warning_origin(message, category):
    """(the tinyseq function that let a numpy RuntimeWarning out, the message), or None."""
    if not issubclass(category, RuntimeWarning):
        return None
    frame = sys._getframe(2)
    while frame and not frame.f_code.co_filename.startswith(_TS_DIR):
        frame = frame.f_back
    where = frame.f_code.co_qualname if frame else "?"
    return where, f"{category.__name__}: {message}"


def _exec(lines, ns, offset):
    """None, or (index of the line that raised, the exception)."""
    try:
        exec(compile("\n".join(lines), "<fuzz>", "exec"), ns)
    except Exception as e:  # noqa: BLE001  (any refusal is a case to compare)
        at = [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "<fuzz>"]
        return offset + (at[0] if at else 1) - 1, e
    return None


def _retain(ns, names):
    """``retain_grad`` on the non-leaf values (tuple items too) that require grad."""
    for v in (ns.get(n) for n in names):
        for t in _items(v):
            if getattr(t, "requires_grad", False) and getattr(t, "grad_fn", None) is not None:
                t.retain_grad()


@dataclasses.dataclass
class Discrepancy:
    kind: str  # what differs: value, nan, inf, signed-zero, shape, dtype, requires_grad, length,
    #            grad, grad-none, ts-raised, ts-silent, unclear-error, warning
    label: str  # the op (line label) it is blamed on
    line: str  # the source line
    detail: str

    @property
    def signature(self):
        return self.kind, self.label

    def __str__(self):
        return f"{self.kind} at `{self.line}` [{self.label}]: {self.detail}"


def _array(v):
    return v.detach().numpy()


def compare_arrays(a, b):
    """What differs between tinyseq's array ``a`` and PyTorch's ``b`` (None: nothing)."""
    if a.shape != b.shape:
        return "shape", f"shape {a.shape}, torch {b.shape}"
    if a.dtype != b.dtype:
        return "dtype", f"dtype {a.dtype}, torch {b.dtype}"
    if a.dtype.kind != "f":
        return None if np.array_equal(a, b) else ("value", f"{a.tolist()}, torch {b.tolist()}")
    na, nb = np.isnan(a), np.isnan(b)
    if not np.array_equal(na, nb):
        return "nan", f"{_show(a)}, torch {_show(b)}"
    ia, ib = np.isinf(a), np.isinf(b)
    if not (np.array_equal(ia, ib) and np.array_equal(a[ia], b[ib])):
        return "inf", f"{_show(a)}, torch {_show(b)}"
    fin = ~(na | ia)
    if not np.allclose(a[fin], b[fin], rtol=RTOL, atol=ATOL):
        err = np.max(np.abs(a[fin] - b[fin]))
        return "value", f"{_show(a)}, torch {_show(b)} (max abs diff {err:.3g})"
    za = (b == 0) & (a == 0)
    if not np.array_equal(np.signbit(a[za]), np.signbit(b[za])):
        return "signed-zero", f"{_show(a)}, torch {_show(b)}"
    return None


def _show(a):
    return np.array2string(a, threshold=20, precision=6).replace("\n", "")


def _items(v):
    return list(v) if isinstance(v, (tuple, list)) else [v]


def _compare_value(vt, vo):
    """tinyseq value ``vt`` against torch's ``vo`` (a tensor, a tuple of them or else)."""
    if isinstance(vo, (tuple, list)):
        if not isinstance(vt, (tuple, list)) or len(vt) != len(vo):
            n = len(vt) if isinstance(vt, (tuple, list)) else type(vt).__name__
            return "length", f"{n} pieces, torch {len(vo)}"
    pairs = list(zip(_items(vt), _items(vo)))
    for t_, o in pairs:
        if not isinstance(o, torch.Tensor):
            continue
        if not isinstance(t_, ts.Tensor):
            return "type", f"{type(t_).__name__}, torch a tensor"
        diff = compare_arrays(_array(t_), _array(o))
        if diff:
            return diff
        if bool(t_.requires_grad) != bool(o.requires_grad):
            return "requires_grad", f"requires_grad {t_.requires_grad}, torch {o.requires_grad}"
    return None


def _clear_refusal(exc):
    """Whether tinyseq refused with a one-line message from a ``raise`` of its own."""
    msg = str(exc)
    if not msg or "\n" in msg:
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    return bool(last and last.filename.startswith(_TS_DIR) and last.line.startswith("raise"))


def check(program, refusals=None, explained=None):
    """The first discrepancy between tinyseq and PyTorch on ``program``, or None.

    ``refusals`` (a list), if given, collects ``(line, torch message, tinyseq message)`` for each
    program that both libraries refuse; ``explained`` the ``(reason, discrepancy)`` let through
    because an operand explains it (``explanation``).
    """
    body = program.body()
    retain = [n for n, _, _ in program.lines]
    ref, tail = execute(body, torch, retain, lambda ns: loss_lines(program, ns))
    got, _ = execute(body, ts, retain, tail)
    d = _first_difference(program, body + tail, ref, got, refusals)
    reason = d and explanation(program, d, ref, got)
    if reason:
        if explained is not None:
            explained.append((reason, d))
        return None
    return d


def explanation(program, d, ref, got):
    """Why the difference ``d`` is no bug of the op it is blamed on, or None:

    - "rounding at a kink": the op has a kink (``KINKS``, or its line compares) and one of its
      operands differs from torch's by rounding alone (within the tolerance, not bitwise equal):
      numpy's and torch's ``pow`` differ in the last bit, say, and a clamp bound sits exactly on
      torch's value, so the gradient goes to the bound in one library and to the input in the
      other;
    - "a signed zero of OP": after the let-through signed zero of OP (a sum, matmul or max/min),
      an operand differs from torch's in the sign of a zero alone (1 / -0.0 is -inf);
    - "an index out of range into an empty result": tinyseq refuses it, torch checks indices
      only while it reads elements, and reads none (``tests/autograd/test_indexing.py`` too);
    - "known: ...": a (kind, op) of ``ops_more.KNOWN`` (a wrong gradient: one of the ops it is
      blamed on), a difference found and reported but not fixed yet (the entry goes when the op
      is fixed).

    A value is explained only if the line, run again by tinyseq on torch's operands, gives
    torch's value; a gradient only by its operands (a bug in the backward of an op whose operand
    differs so can hide, in that program: most programs have operands equal to torch's)."""
    known = [(d.kind, op) for op in d.label.split(",") if (d.kind, op) in ops_more.KNOWN]
    if known:
        return f"known: {ops_more.KNOWN[known[0]]}"
    if d.kind == "ts-raised":
        name = next((n for n, e, _ in program.lines if f"{n} = {e}" == d.line), None)
        empty = isinstance(ref.ns.get(name), torch.Tensor) and ref.ns[name].numel() == 0
        out_of_range = re.search(r"IndexError: index: index -?\d+ is out of range", d.detail)
        return "an index out of range into an empty result" if empty and out_of_range else None
    if d.kind not in ("value", "nan", "inf", "signed-zero", "grad"):
        return None
    if d.kind == "grad":  # the users of the value whose gradient differs
        name = re.match(r"grad of (\w+)", d.detail).group(1)
        users = [(e, lab) for _, e, lab in program.lines if re.search(rf"\b{name}(?!\w)", e)]
    else:  # the line whose value differs
        line = [(n, e, lab) for n, e, lab in program.lines if f"{n} = {e}" == d.line]
        if not line or not _replays_as_torch(*line[0][:2], ref):
            return None
        users = [line[0][1:]]
    pairs = [(got.ns.get(v), ref.ns.get(v), lab.startswith(KINKS) or _COMPARISON.search(e))
             for e, lab in users for v in _NAME.findall(e)]
    if any(kink and _rounded(t_, o) for t_, o, kink in pairs):
        return "rounding at a kink"
    after = re.search(r"after a signed zero of (.*)$", d.label)
    if after and any(_zero_signs(t_, o) for t_, o, _ in pairs):
        return f"a signed zero of {after.group(1)}"
    return None


def _replays_as_torch(name, expr, ref):
    """Whether tinyseq, running ``expr`` on torch's values of its operands, makes torch's
    value of ``name``."""
    ns = base_namespace(ts)
    for v in _NAME.findall(expr):
        o = ref.ns.get(v)
        ns[v] = ts.from_numpy(_array(o).copy()) if isinstance(o, torch.Tensor) else o
    try:
        out = eval(expr, ns)
    except Exception:  # noqa: BLE001  (not explained)
        return False
    return all(isinstance(t_, ts.Tensor) and compare_arrays(_array(t_), _array(o)) is None
               for t_, o in zip(_items(out), _items(ref.ns.get(name))))


def _zero_signs(t_, o):
    """Whether tinyseq's value ``t_`` differs from torch's ``o`` in the sign of a zero alone."""
    if not (isinstance(t_, ts.Tensor) and isinstance(o, torch.Tensor)):
        return False
    d = compare_arrays(_array(t_), _array(o))
    return d is not None and d[0] == "signed-zero"


def _rounded(t_, o):
    """Whether tinyseq's value ``t_`` equals torch's ``o`` within the tolerance but not bitwise."""
    if not (isinstance(t_, ts.Tensor) and isinstance(o, torch.Tensor)):
        return False
    a, b = _array(t_), _array(o)
    return compare_arrays(a, b) is None and not np.array_equal(a, b, equal_nan=True)


def _first_difference(program, lines, ref, got, refusals):
    """Values line by line, then the refusal (if any), then gradients, then warnings.

    A zero whose sign differs after a sum, matmul or max/min is let through (the order of a sum or
    the pick among tied zeros decides it); what differs after it is labelled as following it,
    since 1 / -0.0 and 1 / 0.0 are infinities of opposite signs.
    """
    errors = [e[0] for e in (ref.error, got.error) if e]
    stop = min(errors) if errors else len(lines)
    d, zero_from = _value_difference(program, lines, ref, got, stop)
    if d is None and errors:
        return _refusal_difference(program, lines, ref, got, stop, refusals)
    if d is None:
        d = _compare_grads(program, lines, ref, got)
    if d is None and got.warnings:
        where, message = got.warnings[0]
        d = Discrepancy("warning", where, "(the program)", message)
    if d is not None and zero_from and d.kind in ("value", "nan", "inf", "grad"):
        d.label += f" after a signed zero of {zero_from}"
    return d


def _value_difference(program, lines, ref, got, stop):
    """The first value that differs before line ``stop``, and the op after which zeros' signs
    are no longer compared (or None)."""
    n_in, zero_from = len(program.inputs), None
    for i, (name, _, label) in enumerate(program.lines):
        if n_in + i >= stop:
            break
        diff = _compare_value(got.ns.get(name), ref.ns.get(name))
        if diff and diff[0] == "signed-zero" and (zero_from or label.startswith(ACCUMULATE)):
            zero_from = zero_from or label
        elif diff:
            return Discrepancy(diff[0], label, lines[n_in + i], diff[1]), zero_from
    return None, zero_from


def _refusal_difference(program, lines, ref, got, stop, refusals):
    """Both must refuse at line ``stop``, tinyseq by a clear refusal of its own."""
    n_in = len(program.inputs)
    label = program.lines[stop - n_in][2] if n_in <= stop < n_in + len(program.lines) else "loss"
    where = lines[stop]
    if not got.error or got.error[0] > stop:
        return Discrepancy("ts-silent", label, where,
                           f"torch raised {_msg(ref.error[1])}; tinyseq did not")
    if not ref.error or ref.error[0] > stop:
        return Discrepancy("ts-raised", label, where,
                           f"tinyseq raised {_msg(got.error[1])}; torch did not")
    if not _clear_refusal(got.error[1]):
        label = label.split("[")[0] + ": " + re.sub(r"-?\d+", "N", _msg(got.error[1]))[:50]
        return Discrepancy("unclear-error", label, where,
                           f"tinyseq: {_msg(got.error[1])} (not a one-line refusal of its "
                           f"own); torch: {_msg(ref.error[1])}")
    if refusals is not None:
        refusals.append((where, _msg(ref.error[1]), _msg(got.error[1])))
    return None


def _msg(exc):
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _compare_grads(program, lines, ref, got):
    """Inputs strictly (None where torch has None); intermediates with None equal to zeros. The
    wrong gradient is blamed on the ops that use the latest value whose gradient differs."""
    worst, leaves = None, False
    for name, (_, grad) in program.inputs.items():
        if grad:
            d = _grad_diff(got.ns[name].grad, ref.ns[name].grad, strict=True)
            if d:
                worst, leaves = (name, d), True
    shared = _aliased(ref.ns, program) | _aliased(got.ns, program)
    for name, _, _ in program.lines:
        for k, (t_, o) in enumerate(zip(_items(got.ns.get(name)), _items(ref.ns.get(name)))):
            expr = name if not isinstance(ref.ns[name], tuple) else f"{name}[{k}]"
            if (isinstance(o, torch.Tensor) and o.grad_fn is not None
                    and isinstance(t_, ts.Tensor) and t_.grad_fn is not None
                    and expr not in shared):
                d = _grad_diff(t_.grad, o.grad, strict=False)
                if d:
                    worst = (expr, d)
    if not worst:
        return None
    name, (kind, detail) = worst
    users = [(n, e, lab) for n, e, lab in program.lines
             if re.search(rf"\b{re.escape(name)}(?!\w)", e)]
    label = ",".join(sorted({lab for _, _, lab in users})) or "loss"
    line = f"{users[0][0]} = {users[0][1]}" if users else "loss"
    more = "" if leaves else " (the inputs' gradients agree)"
    return Discrepancy(kind, label, line, f"grad of {name}: {detail}{more}")


def _aliased(ns, program):
    """The value names whose tensor is also another name's (``flatten(1, 1)`` may return its
    input itself): their ``.grad`` is that of the other name too."""
    by_id = {}
    for expr in [*program.inputs, *(n for n, _, _ in program.lines)]:
        v = ns.get(expr)
        for k, t in enumerate(_items(v)):
            by_id.setdefault(id(t), []).append(f"{expr}[{k}]" if isinstance(v, tuple) else expr)
    return {e for names in by_id.values() if len(names) > 1 for e in names}


def _grad_diff(gt, go, strict):
    if go is None and gt is None:
        return None
    if strict and (go is None) != (gt is None):
        return "grad-none", f"{'None' if gt is None else _show(_array(gt))}, torch " \
                            f"{'None' if go is None else _show(_array(go))}"
    a = np.zeros(0) if gt is None else _array(gt)
    b = np.zeros(0) if go is None else _array(go)
    if gt is None:
        a = np.zeros_like(b)
    if go is None:
        b = np.zeros_like(a)
    d = compare_arrays(a, b)
    if d and d[0] == "signed-zero":
        return None  # the sign of a zero gradient is noise (sums in another order)
    return ("grad" if d[0] != "shape" else "grad-shape", d[1]) if d else None


# ---- shrinking ----------------------------------------------------------------------------------
def shrink(program, found, budget=150):
    """A smaller program with the same discrepancy (kind and op), trying at most ``budget``
    candidates: fewer lines, fewer outputs, fewer inputs that require grad, smaller inputs."""
    best, tries = program, 0
    improved = True
    while improved and tries < budget:
        improved = False
        for cand in _candidates(best):
            tries += 1
            try:
                d = check(cand)
            except Exception:  # noqa: BLE001  (a candidate the harness cannot run is no smaller)
                d = None
            if d is not None and _narrower(d, found):
                best, found, improved = cand, d, True
                break
            if tries >= budget:
                break
    return best, found


def _narrower(d, found):
    """The same discrepancy, or a wrong gradient blamed on fewer of the same ops."""
    if d.signature == found.signature:
        return True
    return (d.kind == found.kind and d.kind.startswith("grad")
            and set(d.label.split(",")) < set(found.label.split(",")))


def _candidates(p):
    n = len(p.lines)
    for i in reversed(range(n)):  # drop line i and what uses it
        yield _without(p, i)
    for i in range(n):  # bypass line i: later lines use its operand instead
        name, expr, _ = p.lines[i]
        used = _NAME.findall(expr)
        if len(set(used)) == 1:
            yield _bypass(p, i, used[0])
    outs = p.outputs
    if outs is None:
        run, _ = execute(p.body(), torch)
        outs = [] if run.error else unconsumed(p, run.ns)
    if len(outs) > 1:
        for k in range(len(outs)):
            yield dataclasses.replace(p, outputs=outs[:k] + outs[k + 1:])
    for name, (a, grad) in p.inputs.items():
        if grad:
            yield _with_input(p, name, a, False)
        for d, size in enumerate(a.shape):
            if size > 1:
                yield _with_input(p, name, np.take(a, range(size // 2), axis=d), grad)
                yield _with_input(p, name, np.take(a, range(1, size), axis=d), grad)
        simple = np.where(np.isfinite(a), np.round(a), a)
        if not np.array_equal(simple, a, equal_nan=True):
            yield _with_input(p, name, simple, grad)


def _without(p, i):
    drop = {p.lines[i][0]}
    lines = []
    for k, (name, expr, lab) in enumerate(p.lines):
        if k == i or set(_NAME.findall(expr)) & drop:
            drop.add(name)
            continue
        lines.append((name, expr, lab))
    outs = None if p.outputs is None else [o for o in p.outputs if o.split("[")[0] not in drop]
    return _tidy(dataclasses.replace(p, lines=lines, outputs=outs))


def _bypass(p, i, operand):
    name = p.lines[i][0]
    lines = [(n, re.sub(rf"\b{name}\b", operand, e), lab)
             for n, e, lab in p.lines[:i] + p.lines[i + 1:]]
    outs = None if p.outputs is None else [re.sub(rf"\b{name}\b", operand, o) for o in p.outputs]
    return _tidy(dataclasses.replace(p, lines=lines, outputs=outs))


def _with_input(p, name, a, grad):
    inputs = dict(p.inputs)
    inputs[name] = (a, grad)
    return dataclasses.replace(p, inputs=inputs)


def _tidy(p):
    """Drop inputs that no line uses any more."""
    text = " ".join(e for _, e, _ in p.lines) + " ".join(p.outputs or [])
    inputs = {n: v for n, v in p.inputs.items() if re.search(rf"\b{n}\b", text)}
    return dataclasses.replace(p, inputs=inputs or dict(list(p.inputs.items())[:1]))


def fuzz(seeds, family, shrink_limit=20, budget=150):
    """Check the programs of ``seeds``; group the discrepancies by (kind, op).

    Returns ``(groups, refusals, count, explained)``: ``groups`` maps a signature to ``[count,
    program, discrepancy]`` (the program shrunk for the first ``shrink_limit`` new signatures);
    ``explained`` holds the ``(reason, discrepancy)`` let through (``explanation``).
    """
    groups, refusals, explained, count, alias = {}, [], [], 0, {}
    for seed in seeds:
        p = generate(seed, family)
        count += 1
        d = check(p, refusals, explained)
        if d is None:
            continue
        sig = alias.get(d.signature, d.signature)
        if sig not in groups and len(groups) < shrink_limit:
            p, d = shrink(p, d, budget)
            alias[sig] = sig = alias.get(d.signature, d.signature)
        groups.setdefault(sig, [0, p, d])[0] += 1
    return groups, refusals, count, explained


def report(groups):
    """Each distinct discrepancy with its count and a pasteable reproducer."""
    parts = []
    for (kind, label), (count, p, d) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
        parts.append(f"==== {kind} [{label}]: {count} program(s); seed {p.seed} ({p.family})\n"
                     + p.source(str(d)))
    return "\n".join(parts)


if __name__ == "__main__":  # python -m tests.fuzz.programs SEED [FAMILY]: print that program
    prog = generate(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "mixed")
    print(prog.source(str(check(prog))))
