"""What run.py writes: the targets of issue 17 checked against one run's medians, and the copy of
RESULTS.md that docs/performance.md carries between two markers (a test keeps them equal)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = os.path.join(HERE, "..", "docs", "performance.md")
BEGIN = "<!-- begin benchmarks/RESULTS.md (written by benchmarks/run.py) -->"
END = "<!-- end benchmarks/RESULTS.md -->"

# (what, workload, the tinyseq figure it compares, against which implementations, bound)
SPEED = [(f"{w}: tinyseq ≥ 1.0 × torch-composed", w, "torch-composed", 1.0)
         for w in ("W1", "W2", "W3", "W4", "S1")]
SPEED += [(f"{w}: tinyseq ≥ 0.9 × numpy BPTT", w, "numpy", 0.9) for w in ("W2", "W3", "W4")]
SPEED += [("W2 (moonshot): tinyseq ≥ 0.7 × torch-fused", "W2", "torch-fused", 0.7)]


def targets(medians, memory):
    """Markdown lines: each target, the measured ratio, met or not. ``medians`` and ``memory`` map
    ``(workload, implementation)`` to tokens/s and to peak MiB."""
    lines = ["| target | measured | met |", "|---|---:|:---:|"]
    for what, w, other, bound in SPEED:
        a, b = medians.get((w, "tinyseq")), medians.get((w, other))
        if a and b:
            lines.append(f"| {what} | {a / b:.2f}× | {'yes' if a / b >= bound else 'no'} |")
    torch = [memory[("W2", n)] for n in ("torch-fused", "torch-composed") if memory.get(("W2", n))]
    if memory.get(("W2", "tinyseq")) and torch:
        ratio = memory[("W2", "tinyseq")] / min(torch)
        lines.append(f"| W2: peak memory ≤ 0.5 × PyTorch's (the smaller of fused and composed) | "
                     f"{ratio:.2f}× | {'yes' if ratio <= 0.5 else 'no'} |")
    if memory.get(("W2", "tinyseq-checkpoint")) and torch:
        ratio = memory[("W2", "tinyseq-checkpoint")] / min(torch)
        lines.append(f"| W2 with opt-in recomputation (tinyseq-checkpoint): peak memory ≤ 0.5 × "
                     f"PyTorch's | {ratio:.2f}× | {'yes' if ratio <= 0.5 else 'no'} |")
    lines.append("| time and memory per token flat from T=16 to T=1024 | tested, not timed: "
                 "`tests/test_scaling.py` | yes if the tests pass |")
    return lines


def include_in_page(results, page=PAGE):
    """Put ``results`` (RESULTS.md's text, without its title) between the page's two markers."""
    with open(page, encoding="utf-8") as f:
        text = f.read()
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    with open(page, "w", encoding="utf-8") as f:
        f.write(f"{head}{BEGIN}\n{body(results)}{END}{tail}")


def body(results):
    """RESULTS.md without its first line (the page has its own title)."""
    return results.split("\n", 1)[1].lstrip("\n")
