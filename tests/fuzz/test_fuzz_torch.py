"""Differential fuzzing against PyTorch: random op programs, values and every gradient compared.

CI runs 3,000 programs with fixed seeds (600 a family). ``TINYSEQ_FUZZ=200000 python -m pytest
tests/fuzz`` runs that many instead (seeds from ``TINYSEQ_FUZZ_START``, default 0), and
``TINYSEQ_FUZZ_REPORT=path`` writes every distinct discrepancy, with its reproducer, and the pairs
of refusal messages there. See tests/fuzz/README.md.
"""
import contextlib
import io
import os
import re

import numpy as np
import pytest

pytest.importorskip("torch", reason="the fuzzer compares tinyseq with PyTorch")

import tinyseq as ts  # noqa: E402
from tinyseq.autograd import Function  # noqa: E402

from . import programs as P  # noqa: E402

TOTAL = int(os.environ.get("TINYSEQ_FUZZ", "3000"))
START = int(os.environ.get("TINYSEQ_FUZZ_START", "0"))
LONG = "TINYSEQ_FUZZ" in os.environ
PER_FAMILY = max(TOTAL // len(P.FAMILIES), 1)


@pytest.mark.parametrize("family", P.FAMILIES)
def test_programs_agree_with_torch(family):
    seeds = range(START, START + PER_FAMILY)
    groups, refusals, count, explained = P.fuzz(seeds, family, shrink_limit=100 if LONG else 6,
                                                budget=200 if LONG else 80)
    _write_report(family, groups, refusals, count, explained)
    assert count == PER_FAMILY
    assert not groups, (f"{sum(c for c, _, _ in groups.values())} of {count} {family} programs "
                        f"differ from PyTorch, in {len(groups)} ways:\n{P.report(groups)}")


def _write_report(family, groups, refusals, count, explained):
    path = os.environ.get("TINYSEQ_FUZZ_REPORT")
    if not path:
        return
    differ = sum(c for c, _, _ in groups.values())
    with open(path, "a") as f:
        f.write(f"######## {family}: {count} programs, {differ} differ in {len(groups)} ways, "
                f"{len(refusals)} refused by both, {len(explained)} explained\n"
                f"{P.report(groups)}\n")
        for reason, d in explained:
            f.write(f"# explained by {reason}: {d}\n")
        kinds = {}  # one example of each pair of messages, numbers aside
        for line, theirs, ours in refusals:
            kinds.setdefault(re.sub(r"\d+", "N", theirs + ours), (line, theirs, ours))
        for line, theirs, ours in sorted(kinds.values(), key=lambda r: r[2]):
            f.write(f"# refused: {line}\n#   torch:   {theirs}\n#   tinyseq: {ours}\n")


# ---- the fuzzer itself --------------------------------------------------------------------------
def test_programs_are_deterministic():
    for seed in (0, 7, 123):
        assert P.generate(seed).source() == P.generate(seed).source()
    assert P.generate(1).source() != P.generate(2).source()


def test_programs_cover_the_shared_api():
    """The generator reaches every op, size-0 and 0-d tensors, special values and refusals."""
    labels, text = set(), []
    for family in P.FAMILIES:
        for seed in range(150):
            p = P.generate(seed, family)
            labels |= {lab.split("[")[0] for _, _, lab in p.lines}
            text.append("\n".join(p.body()))
    text = "\n".join(text)
    ops = {"exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "neg", "clamp", "pow", "rpow",
           "pow(t,t)", "+", "-", "*", "/", "matmul", "sum", "sum(tuple)", "mean", "max", "min",
           "max(dim)", "min(dim)", "logsumexp", "logsumexp(tuple)", "softmax", "log_softmax",
           "reshape", "view", "transpose", "permute", "T", "unsqueeze", "squeeze",
           "squeeze(tuple)", "expand", "flatten", "split", "split(sizes)", "chunk", "unbind",
           "cat", "stack", "index", "where", "masked_fill", "masked_fill(tensor)", "compare",
           # issue 15's (ops_more.py): all but two of its unary ops (sign, trunc: drawn rarely)
           *(set(P.ops_more.UNARY) - {"sign", "trunc"}), "gelu", "silu", "leaky_relu", "elu",
           "softplus", "remainder", "fmod", "maximum", "minimum", "logical", "prod", "cumsum",
           "cumprod", "var", "std", "norm", "normalize", "cosine_similarity", "amax", "amin",
           "mm", "mv", "outer", "addmm", "bmm", "baddbmm", "einsum", "repeat", "expand_as",
           "unflatten", "tril", "triu", "roll", "movedim", "flip", "pad", "index_select",
           "gather", "take_along_dim", "masked_select", "scatter"}
    assert ops <= labels, ops - labels
    for piece in ("nan", "inf", "-0.0", "m.zeros((0", "dtype=m.float64, requires_grad=True)",
                  "...", "None", "::2", "m.tensor([True", "values("):
        assert piece in text, piece


def _program(lines, **inputs):
    return P.Program(0, "hand", {k: (np.asarray(v, dtype=np.float64), True)
                                 for k, v in inputs.items()},
                     [(f"v{i + 1}", e, lab) for i, (e, lab) in enumerate(lines)])


def test_agreeing_program_passes_and_refusals_are_paired():
    p = _program([("x0.exp().sum(0)", "exp")], x0=[[1.0, -2.0], [0.5, 3.0]])
    assert P.check(p) is None
    refusals = []
    bad = _program([("x0.reshape(3)", "reshape")], x0=[1.0, 2.0])
    assert P.check(bad, refusals) is None
    (line, theirs, ours), = refusals
    assert line == "v1 = x0.reshape(3)" and "RuntimeError" in theirs and "reshape" in ours


class _WrongExpGrad(Function):
    """exp with a backward off by a factor 2: the planted bug the fuzzer must find and shrink."""

    @staticmethod
    def forward(ctx, a):
        ctx.out = np.exp(a)
        return ctx.out

    @staticmethod
    def backward(ctx, g):
        return 2 * g * ctx.out


def test_wrong_gradient_is_found_blamed_and_shrunk(monkeypatch):
    monkeypatch.setattr(ts.Tensor, "exp", lambda self: _WrongExpGrad.apply(self))
    p = _program([("x0 * 2.0", "*"), ("v1.exp()", "exp"), ("v2.sum()", "sum"),
                  ("x1.tanh()", "tanh")], x0=[[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], x1=[1.0, 2.0])
    found = P.check(p)
    assert found is not None and (found.kind, found.label) == ("grad", "exp")
    small, again = P.shrink(p, found)
    assert again.signature == found.signature
    assert [e for _, e, _ in small.lines] == ["x0.exp()"] and list(small.inputs) == ["x0"]
    assert small.inputs["x0"][0].size == 1
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # the reproducer runs and shows both gradients
        exec(compile(small.source(str(again)), "<reproducer>", "exec"), {"__name__": "repro"})
    torch_line, ts_line = [ln for ln in out.getvalue().splitlines() if "grads" in ln]
    assert torch_line != ts_line


def test_wrong_value_silence_and_stray_refusal_are_found(monkeypatch):
    p = _program([("x0.tanh()", "tanh")], x0=[0.5, -1.0])
    monkeypatch.setattr(ts.Tensor, "tanh", lambda self: self.sigmoid())
    assert P.check(p).kind == "value"
    monkeypatch.setattr(ts.Tensor, "tanh", lambda self: self.reshape(5))
    assert P.check(p).kind == "ts-raised"
    bad = _program([("x0.reshape(3)", "reshape")], x0=[1.0, 2.0])
    monkeypatch.setattr(ts.Tensor, "reshape", lambda self, *s: self)
    assert P.check(bad).kind == "ts-silent"


def test_special_values_and_signed_zeros_are_compared():
    same = np.array([0.0, -0.0, np.inf, np.nan])
    assert P.compare_arrays(same, same.copy()) is None
    assert P.compare_arrays(np.array([0.0]), np.array([-0.0]))[0] == "signed-zero"
    assert P.compare_arrays(np.array([np.inf]), np.array([-np.inf]))[0] == "inf"
    assert P.compare_arrays(np.array([np.nan, 1.0]), np.array([1.0, 1.0]))[0] == "nan"
    assert P.compare_arrays(np.array([1.0]), np.array([1.0 + 1e-12])) is None
    assert P.compare_arrays(np.array([1.0]), np.array([1.0 + 1e-8]))[0] == "value"
    assert P.compare_arrays(np.zeros((2, 1)), np.zeros((1, 2)))[0] == "shape"


def test_a_refusal_must_be_tinyseqs_own_one_line_raise():
    with pytest.raises(ts.ShapeError) as own:
        ts.tensor([1.0, 2.0]).reshape(3)
    with pytest.raises(ValueError) as numpys:
        np.zeros(2).reshape(3)
    assert P._clear_refusal(own.value)
    assert not P._clear_refusal(numpys.value)
    assert not P._clear_refusal(ValueError("two\nlines"))


def test_a_gradient_that_differs_by_rounding_at_a_kink_is_let_through_and_counted():
    """numpy's pow and torch's differ in the last bit; the clamp bound is torch's value exactly."""
    p = _program([("x0 ** 2.0 ** 0.42", "pow"), ("v1.clamp(min=1.4762423392800508)", "clamp")],
                 x0=[2.0 ** 0.42])
    x = 2.0 ** 0.42
    assert P._rounded(ts.tensor(x, dtype=ts.float64) ** x,
                      P.torch.tensor(x, dtype=P.torch.float64) ** x)
    explained = []
    assert P.check(p, explained=explained) is None
    ((reason, d),) = explained
    assert reason == "rounding at a kink" and (d.kind, d.label) == ("grad", "clamp")
    assert "grad of v1" in d.detail
    groups, _, count, explained = P.fuzz([2220], "elementwise")
    assert not groups and count == 1 and len(explained) == 1


class _ClampPassingAtTheBound(Function):
    """clamp(min=) whose backward passes no gradient at the bound: a kink bug."""

    @staticmethod
    def forward(ctx, a, lo):
        ctx.a, ctx.lo = a, lo
        return np.maximum(a, lo)

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.a > ctx.lo), None


@pytest.mark.parametrize("lines", [[("x0.clamp(min=2.0)", "clamp")],
                                   [("x0 * 2.0", "*"), ("v1.clamp(min=4.0)", "clamp")]])
def test_a_kink_bug_on_operands_equal_to_torchs_is_caught(monkeypatch, lines):
    monkeypatch.setattr(ts.Tensor, "clamp", lambda self, min=None, max=None:
                        _ClampPassingAtTheBound.apply(self, min))
    found = P.check(_program(lines, x0=[1.0, 2.0, 2.0 ** 0.42]))
    assert found is not None and (found.kind, found.label) == ("grad", "clamp")


def test_rounding_is_not_let_through_at_an_op_without_a_kink(monkeypatch):
    monkeypatch.setattr(ts.Tensor, "exp", lambda self: _WrongExpGrad.apply(self))
    p = _program([("x0 ** 2.0 ** 0.42", "pow"), ("v1.exp()", "exp")], x0=[2.0 ** 0.42])
    found = P.check(p)
    assert found is not None and (found.kind, found.label) == ("grad", "exp")


def test_what_follows_a_signed_zero_of_matmul_is_explained_by_it_alone(monkeypatch):
    """torch's mm keeps the -0.0 of an outer product, numpy adds it to +0.0: 1 / v1 differs."""
    lines = [("m.matmul(x1, x0)", "matmul"), ("(-0.15) / v1", "/")]
    p = _program(lines, x0=[[-2.0, 1.0]], x1=[[-0.0], [-1.0]])
    explained = []
    assert P.check(p, explained=explained) is None
    ((reason, d),) = explained
    assert reason == "a signed zero of matmul" and d.kind == "inf"
    monkeypatch.setattr(ts.Tensor, "__rtruediv__", lambda self, other: self * other)
    found = P.check(p)  # a wrong division is still found: run on torch's v1 it is still wrong
    assert found is not None and (found.kind, found.label) == ("inf", "/ after a signed zero of "
                                                                      "matmul")


def test_an_index_out_of_range_into_an_empty_result_is_explained():
    """torch reads no element of ``x[:0, [5]]``, so it checks no index; tinyseq refuses."""
    explained = []
    assert P.check(_program([("x0[:0, [5]]", "index[adv]")], x0=[[1.0, 2.0]]),
                   explained=explained) is None
    ((reason, d),) = explained
    assert reason == "an index out of range into an empty result" and d.kind == "ts-raised"
    found = P.check(_program([("x0[:1, [5]]", "index[adv]")], x0=[[1.0, 2.0]]))
    assert found is None  # both refuse: not empty
    with pytest.raises(IndexError, match=r"index 5 is out of range"):
        ts.zeros(1, 2)[:0, [5]]
