"""The generated docs page is what its script writes, and the code the docs quote is the code
that runs: nobody edits either by hand out of step."""
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_visualization_page_is_up_to_date():
    run = subprocess.run([sys.executable, str(ROOT / "docs" / "make_visualization.py"), "--check"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_pictures_the_docs_show_exist():
    for page in ("README.md", "docs/visualization.md", *sorted(
            str(p.relative_to(ROOT)) for p in (ROOT / "docs" / "course").glob("*.md"))):
        text = (ROOT / page).read_text(encoding="utf-8")
        folder = (ROOT / page).parent
        for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
            assert (folder / target).is_file(), f"{page} shows {target}, which is missing"


def test_performance_page_carries_the_latest_benchmark_results():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import report
    finally:
        sys.path.pop(0)
    page = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    carried = page.split(report.BEGIN + "\n")[1].split(report.END)[0]
    assert carried == report.body(results)  # run benchmarks/run.py to refresh both
    assert "## Targets (issue 17)" in carried


def test_autograd_page_shows_the_engines_real_walk():
    from tinyseq.autograd import engine, toposort

    page = (ROOT / "docs" / "autograd.md").read_text(encoding="utf-8")
    for function in (toposort.toposort, engine._walk):
        source = inspect.getsource(function)
        assert f"```python\n{source}```" in page, (
            f"docs/autograd.md must show {function.__name__} exactly as it is in "
            f"{inspect.getsourcefile(function)}: paste the function again")


def test_the_forget_bias_code_the_visualization_page_shows_runs_as_pasted(tmp_path, monkeypatch):
    """The page's python block (not a doctest) is the script's FORGET_BIAS: paste it line by line
    at the ``python`` prompt, as a reader would, in a folder of their own (no docs/img there),
    and get the three curves and the picture, with no error."""
    pytest.importorskip("matplotlib", reason="the plot extra draws the picture")
    import runpy

    from tests.test_site import _paste

    script = runpy.run_path(str(ROOT / "docs" / "make_visualization.py"), run_name="docs")
    block = script["FORGET_BIAS"]
    assert f"```python\n{block}```" in (ROOT / "docs" / "visualization.md").read_text(
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    curves = _paste([block], "visualization.md")["curves"]  # (no error, or AssertionError)
    assert sorted(curves) == [f"lstm, forget-gate bias +{b}" for b in (0, 1, 2)]
    first = [curves[f"lstm, forget-gate bias +{b}"][0] for b in (0, 1, 2)]
    assert first[0] < first[1] < first[2]  # a larger forget bias carries more gradient back
    assert (tmp_path / "gradflow-forget-bias.png").stat().st_size > 1000


def test_the_porting_pages_tinyseq_program_runs_on_pytorch():
    """docs/porting.md's "other way" program, with its import switched back, passes on PyTorch too."""
    pytest.importorskip("torch", reason="the program's PyTorch run needs torch")
    import doctest

    page = (ROOT / "docs" / "porting.md").read_text(encoding="utf-8")
    section = page.split("## The other way")[1].split("\n## ")[0]
    assert section.count("import tinyseq as torch") == 1
    program = section.replace("import tinyseq as torch", "import torch")
    test = doctest.DocTestParser().get_doctest(program, {}, "porting-on-torch", "docs/porting.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False) == (0, len(test.examples)) and len(test.examples) > 10
