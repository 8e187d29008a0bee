"""The docs site (issue 16): code copied from it runs as pasted, as a script and at the ``python``
prompt, its math is MathML made at build time, and the built HTML loads no script, stylesheet or
font from the network."""
import ast
import code
import contextlib
import importlib.util
import io
import itertools
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
    page = ("```python\nx = 1  # >>> in a comment\n```\n\n```text\n>>> not python\n```\n\n"
            "````markdown\n```python\n>>> 'a block shown as Markdown'\n```\n````\n")
    assert doctest_code.on_page_markdown(page) == page


def test_a_blank_line_in_a_block_goes_but_not_one_in_a_string():
    shown = doctest_code.plain_code(
        '>>> class A:\n...     def f(self):\n...         return 1\n...\n...     def g(self):\n'
        '...         return """a\n...\n... b"""\n>>> A().g()\n\'a\\n\\nb\'\n')
    assert shown == ('class A:\n    def f(self):\n        return 1\n    def g(self):\n'
                     '        return """a\n\nb"""\n\nA().g()\n#> \'a\\n\\nb\'\n')


def test_directives_blank_lines_fence_options_and_other_languages():
    page = ('```python title="x.py" hl_lines="2"\n>>> print("a\\n\\nb")  # doctest: +NORMALIZE_WHITESPACE\n'
            'a\n<BLANKLINE>\nb\n>>> list(range(30))  # all  # doctest: +ELLIPSIS\n[0, 1, ..., 29]\n```\n'
            '~~~py\n>>> if True:\n...     1\n1\n>>> 2\n2\n~~~\n```pycon\n>>> 3\n3\n```\n')
    assert doctest_code.on_page_markdown(page) == (
        '```python title="x.py" hl_lines="2"\nprint("a\\n\\nb")\n#> a\n#>\n#> b\n'
        'list(range(30))  # all\n#> [0, 1, ..., 29]\n```\n'
        '~~~py\nif True:\n    1\n#> 1\n\n2\n#> 2\n~~~\n```python\n3\n#> 3\n```\n')


def test_a_skipped_example_is_shown_and_marked():
    shown = doctest_code.shown_examples(">>> import nothing_here  # doctest: +SKIP\n>>> 1\n1\n")
    assert shown == [("import nothing_here\n", True), ("1\n#> 1\n", False)]
    assert _runnable(">>> import nothing_here  # doctest: +SKIP\n>>> 1\n1\n") == "1\n#> 1\n"


def test_a_plain_line_among_doctest_lines_fails_naming_the_page():
    with pytest.raises(ValueError, match=r"plain line 'x = 1' .* not run by the doctest"):
        doctest_code.plain_code("x = 1\n>>> x\n1\n")
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("the build's error needs mkdocs: pip install -e '.[docs]'")
    from mkdocs.exceptions import PluginError
    page = type("Page", (), {"file": type("File", (), {"src_path": "guide.md"})})
    with pytest.raises(PluginError, match=r"^guide.md: the plain line 'x = 1'"):
        doctest_code.on_page_markdown("```python\n>>> y = 2\n\nx = 1\n>>> x\n```\n", page=page)


def _runnable(body):
    """A doctest block's shown code without the examples doctest skips."""
    return "".join(example.code for example in doctest_code.shown_examples(body) if not example.skip)


def _page_blocks(page):
    """The shown code of each doctest block of a page (skipped examples left out), or a skip."""
    markdown = page.read_text(encoding="utf-8")
    blocks = [_runnable(block.body) for block in doctest_code.doctest_blocks(markdown)]
    if not blocks:
        pytest.skip(f"{page.relative_to(ROOT)} has no doctest")
    return blocks


def _statements(code):
    """The top-level statements of a block, each with the first ``#> `` line under it (or None)."""
    lines = code.splitlines()
    for statement in ast.parse(code).body:
        below = lines[statement.end_lineno:statement.end_lineno + 1]
        yield statement, below[0] if below and below[0].startswith("#> ") else None


def _announces(output, error):
    """Whether one of the ``#> `` lines shows ``error`` as the page announces it: ``#> Name: ...``."""
    names = [re.match(r"#> ([\w.]+)(:|$)", line) for line in output]
    return any(name and name[1].split(".")[-1] == type(error).__name__ for name in names)


def _run(code, namespace, where):
    """Run a block as a script would, statement by statement, in ``namespace``; a statement may
    raise only the exception that the ``#> Name: ...`` comment under it announces."""
    for statement, first_output in _statements(code):
        try:
            exec(compile(ast.Module([statement], []), where, "exec"), namespace)
        except Exception as error:
            if not _announces([first_output or ""], error):
                raise AssertionError(f"{where}: line {statement.lineno} raised {error!r}, "
                                     f"and the page does not show it") from error


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_code_copied_from_a_page_runs_as_a_script(page, tmp_path, monkeypatch):
    """Every doctest block of the page, as the site shows it, run in order in one namespace."""
    monkeypatch.chdir(tmp_path)                     # pages that write files write them here
    namespace = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for i, code in enumerate(_page_blocks(page)):
            assert ">>>" not in code
            _run(code, namespace, f"{page.name}, block {i + 1}")


def test_a_statement_that_raises_unannounced_fails_the_run():
    with pytest.raises(AssertionError, match="raised ValueError"):
        _run('int("a")\n#> 0\n', {}, "sample")
    with pytest.raises(AssertionError, match="raised ZeroDivisionError"):
        _run("1 / 0\n#> ValueError: no\n", {}, "sample")
    _run("1 / 0\n#> ZeroDivisionError: division by zero\n", {}, "sample")


class _Prompt(code.InteractiveConsole):
    """The ``python`` prompt, keeping the errors it would print: (kind, the error)."""

    def __init__(self):
        super().__init__(locals={"__name__": "__console__"})
        self.errors = []

    def showsyntaxerror(self, filename=None, **kwargs):
        self.errors.append(("does not compile", sys.exc_info()[1]))

    def showtraceback(self):
        self.errors.append(("raised", sys.exc_info()[1]))


def _output_of(lines, i):
    """The ``#> `` lines showing what the statement run at line ``i`` printed: those under it, or,
    when a blank line ran a compound statement, those above it."""
    if lines[i].strip():
        return list(itertools.takewhile(lambda line: line.startswith("#>"), lines[i + 1:]))
    return list(itertools.takewhile(lambda line: line.startswith("#>"), lines[i - 1::-1]))


def _paste(blocks, where):
    """Paste the blocks into a fresh prompt one after the other, line by line, pressing Enter after
    each (which ends a compound statement left open); AssertionError at a line that does not
    compile, or that raises what the ``#> `` lines do not show. Returns the prompt's names."""
    lines = [line for code in blocks for line in code.splitlines() + [""]]
    prompt = _Prompt()
    for i, line in enumerate(lines):
        prompt.push(line)
        for kind, error in prompt.errors:
            if kind == "does not compile" or not _announces(_output_of(lines, i), error):
                context = "\n".join(lines[max(i - 3, 0):i + 1])
                raise AssertionError(f"{where}: pasted line {i + 1} {kind}: {error!r}\n{context}")
        prompt.errors.clear()
    return prompt.locals


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_code_copied_from_a_page_runs_pasted_at_the_prompt(page, tmp_path, monkeypatch):
    """Every doctest block of the page, as the site shows it, pasted block after block into the
    interactive prompt: a blank line in an indented block ends it there, a missing one after a
    ``def`` swallows the next line."""
    monkeypatch.chdir(tmp_path)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        _paste(_page_blocks(page), str(page.relative_to(ROOT)))


def test_pasting_fails_where_the_prompt_would():
    class_with_blank = ("class A:\n    def f(self):\n        return 1\n\n"
                        "    def g(self):\n        return 2\n")
    with pytest.raises(AssertionError, match="line 5 does not compile: IndentationError"):
        _paste([class_with_blank], "sample")
    with pytest.raises(AssertionError, match="line 3 does not compile: SyntaxError"):
        _paste(["for i in range(2):\n    i\nx = 1\n"], "sample")
    with pytest.raises(AssertionError, match="line 1 raised: ZeroDivisionError"):
        _paste(["1 / 0\n#> 0\n"], "sample")
    with pytest.raises(AssertionError, match="line 3 raised: ValueError"):
        _paste(["for i in range(2):\n    int('a')\n"], "sample")
    _paste(["1 / 0\n#> ZeroDivisionError: division by zero\n",
            "for i in range(2):\n    int('a')\n#> ValueError: invalid literal\n"], "sample")


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
