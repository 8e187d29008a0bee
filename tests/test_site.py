"""The docs site (issue 16): code copied from it runs as pasted, its math is MathML made at build
time, and the built HTML loads no script, stylesheet or font from the network."""
import ast
import contextlib
import importlib.util
import io
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]


def _load(name):
    """A hook of docs/hooks/ as a module (they are files mkdocs loads, not a package)."""
    spec = importlib.util.spec_from_file_location(f"hook_{name}", ROOT / "docs" / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


doctest_code = _load("doctest_code")

SAMPLE = '''Text.

```python
>>> x = [1,
...      2]
>>> for v in x:
...     print(v)
1
2
>>> int("a")
Traceback (most recent call last):
    ...
ValueError: invalid literal for int() with base 10: 'a'
>>> len(x)
2

```

    ```python
    >>> x
    [1, 2]

    ```
'''

SAMPLE_ON_SITE = '''Text.

```python
x = [1,
     2]
for v in x:
    print(v)
#> 1
#> 2

int("a")
#> ValueError: invalid literal for int() with base 10: 'a'
len(x)
#> 2
```

    ```python
    x
    #> [1, 2]
    ```
'''


def test_the_hook_shows_doctests_as_plain_code_with_outputs_as_comments():
    assert doctest_code.on_page_markdown(SAMPLE) == SAMPLE_ON_SITE


def test_the_hook_leaves_other_blocks_alone():
    page = "```python\nx = 1  # >>> in a comment\n```\n\n```text\n>>> not python\n```\n"
    assert doctest_code.on_page_markdown(page) == page


def _statements(code):
    """The top-level statements of a block, each with the first ``#> `` line under it (or None)."""
    lines = code.splitlines()
    for statement in ast.parse(code).body:
        below = lines[statement.end_lineno:statement.end_lineno + 1]
        yield statement, below[0] if below and below[0].startswith("#> ") else None


def _run(code, namespace, where):
    """Run a block as a script would, statement by statement, in ``namespace``; a statement may
    raise only the exception that the ``#> Name: ...`` comment under it announces."""
    for statement, first_output in _statements(code):
        try:
            exec(compile(ast.Module([statement], []), where, "exec"), namespace)
        except Exception as error:
            announced = first_output and re.match(r"#> ([\w.]+): ", first_output)
            if not announced or announced[1].split(".")[-1] != type(error).__name__:
                raise AssertionError(f"{where}: line {statement.lineno} raised {error!r}, "
                                     f"and the page does not show it") from error


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_code_copied_from_a_page_runs_as_pasted(page, tmp_path, monkeypatch):
    """Every doctest block of the page, as the site shows it, run in order in one namespace."""
    monkeypatch.chdir(tmp_path)                     # pages that write files write them here
    blocks = [doctest_code.plain_code(body)
              for _, body in doctest_code.doctest_blocks(page.read_text(encoding="utf-8"))]
    if not blocks:
        pytest.skip(f"{page.relative_to(ROOT)} has no doctest")
    namespace = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for i, code in enumerate(blocks):
            assert ">>>" not in code
            _run(code, namespace, f"{page.name}, block {i + 1}")


def test_a_statement_that_raises_unannounced_fails_the_run():
    with pytest.raises(AssertionError, match="raised ValueError"):
        _run('int("a")\n#> 0\n', {}, "sample")
    with pytest.raises(AssertionError, match="raised ZeroDivisionError"):
        _run("1 / 0\n#> ValueError: no\n", {}, "sample")
    _run("1 / 0\n#> ZeroDivisionError: division by zero\n", {}, "sample")


# --- the built site (needs the docs extra) ---

def _docs_extra():
    missing = [m for m in ("mkdocs", "material", "latex2mathml", "mkdocs_glightbox")
               if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the site needs {', '.join(missing)}: pip install -e '.[docs]'")


def test_the_math_hook_converts_and_refuses_what_it_cannot():
    _docs_extra()
    mathml = _load("mathml")
    out = mathml.tex_to_mathml(r"\frac{a}{b^{\langle t\rangle}}", display=True)
    assert out.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">')
    assert "<mfrac>" in out and "&#x027E8;" in out          # the fraction, the ⟨
    aligned = mathml.tex_to_mathml(r"\begin{aligned} a &= b \\ c &= d \end{aligned}", display=True)
    assert aligned.count("<mtr>") == 2
    for tex, why in [(r"\foo x", "does not know"), (r"\frac{a}", "parts instead of 2"),
                     (r"\frac{a", "unbalanced"), (r"\Big\| x \Big\|", "does not know")]:
        with pytest.raises(ValueError, match=why):
            mathml.tex_to_mathml(tex, display=False)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Page(HTMLParser):
    """What of a built page matters here: the URLs it loads, its inline styles, its text outside
    code, its <pre> blocks, and the display attribute of each <math> element."""

    def __init__(self):
        super().__init__()
        self.loads, self.styles, self.text, self.pre, self.maths = [], [], [], [], []
        self._open = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.loads.append(attrs["src"])
        if tag == "link" and attrs.get("rel") not in ("prev", "next", "canonical"):
            self.loads.append(attrs.get("href", ""))
        if tag in ("img", "source", "iframe") and attrs.get("src"):
            self.loads.append(attrs["src"])
        if attrs.get("style"):
            self.styles.append(attrs["style"])
        if tag == "math":
            self.maths.append(attrs.get("display"))
        if tag == "pre":
            self.pre.append("")
        if tag not in VOID:
            self._open.append(tag)

    def handle_endtag(self, tag):
        while self._open and self._open.pop() != tag:
            pass

    def handle_data(self, data):
        if "style" in self._open:
            self.styles.append(data)
        elif "pre" in self._open:
            self.pre[-1] += data
        elif not {"code", "script"} & set(self._open):
            self.text.append(data)


NETWORK = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
CSS_NETWORK = re.compile(r"(@import\s+(url\()?|url\()\s*['\"]?\s*(https?:)?//", re.IGNORECASE)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built strictly, as CI builds it: {page path: parsed page}, and the folder."""
    _docs_extra()
    out = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                    "--site-dir", str(out)], cwd=ROOT, check=True,
                   env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    pages = {}
    for path in out.rglob("*.html"):
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        pages[path.relative_to(out).as_posix()] = page
    return pages, out


def test_the_site_loads_nothing_from_the_network(site):
    pages, out = site
    assert len(pages) > 20
    for name, page in pages.items():
        assert not [url for url in page.loads if NETWORK.match(url)], name
        assert not [css for css in page.styles if CSS_NETWORK.search(css)], name
    for css in out.rglob("*.css"):
        assert not CSS_NETWORK.search(css.read_text(encoding="utf-8")), css.name
    for js in out.rglob("*.js"):        # the scripts do not add Google Fonts or a CDN themselves
        assert "fonts.googleapis" not in js.read_text(encoding="utf-8"), js.name


def test_the_network_checks_see_what_they_must():
    page = _Page()
    page.feed('<link rel="stylesheet" href="https://fonts.googleapis.com/css">'
              '<script src="//cdn.example/x.js"></script><style>@import url("http://a/b.css")</style>')
    assert [url for url in page.loads if NETWORK.match(url)] == [
        "https://fonts.googleapis.com/css", "//cdn.example/x.js"]
    assert CSS_NETWORK.search(page.styles[0])
    assert not CSS_NETWORK.search("url(\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>\")")


def test_the_math_is_mathml_and_no_tex_is_left(site):
    pages, _ = site
    bptt = pages["course/04-bptt/index.html"]
    displayed = (ROOT / "docs" / "course" / "04-bptt.md").read_text(encoding="utf-8").count("$$") // 2
    assert bptt.maths.count("block") == displayed >= 2 and bptt.maths.count("inline") > 20
    for name, page in pages.items():
        text = "".join(page.text)
        assert not re.search(r"\\\(|\\\[|\$\$|\\frac|\\langle", text), name


def test_code_blocks_on_the_site_have_no_prompts(site):
    pages, _ = site
    gradients = pages["course/07-gradients/index.html"]
    assert any("#> 22.63" in pre for pre in gradients.pre)
    for name, page in pages.items():
        assert not [pre for pre in page.pre if re.search(r"^(>>>|\.\.\.) ", pre, re.MULTILINE)], name


def test_drawings_open_in_a_local_lightbox(site):
    _, out = site
    html = (out / "visualization" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<a class="glightbox"[^>]*href="\.\./img/lstm-4-steps\.svg"', html)
    assert (out / "assets" / "javascripts" / "glightbox.min.js").stat().st_size > 10_000
