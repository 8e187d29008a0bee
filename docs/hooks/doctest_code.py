"""Show the docs' doctests on the site as code that runs when pasted.

Every example in docs/ and README.md is a doctest (``>>>`` lines and their output), which the test
suite runs (pytest's ``--doctest-glob``). Pasted as it is, a doctest is a SyntaxError in ``python``,
and in IPython a printed output line breaks what follows. This hook rewrites each ```` ```python ````
block holding ``>>>`` lines, on the site only: the prompts ``>>> `` and ``... `` go, and each output
line becomes a ``#> `` comment under the statement that printed it (pytest-examples' convention);
an expected exception shows as its last line (no traceback), ``#> ValueError: ...``. A compound statement (``def``,
``for``, ...) is followed by a blank line, which ends it when pasted into the interactive prompt.

Why a hook and not a package: pytest-examples reformats printed tensors with black (what it shows
is not what print shows), phmdoctest is unmaintained since 2022, Sybil has no code+output form, and
Material's copy button cannot strip prompts (squidfunk/mkdocs-material#3647).
"""

import doctest
import re

# a fenced block, possibly indented (inside an admonition): its indent, its language, its body
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>\w*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                   re.MULTILINE | re.DOTALL)
COMPOUND = re.compile(r"(def|class|for|while|if|with|try|async|@)\b")
PARSER = doctest.DocTestParser()


def plain_code(doctest_text):
    """The code of one doctest block without prompts, its outputs as ``#> `` comments."""
    lines = []
    examples = [part for part in PARSER.parse(doctest_text) if isinstance(part, doctest.Example)]
    for i, example in enumerate(examples):
        lines += example.source.rstrip("\n").split("\n")
        output = (example.exc_msg or example.want).splitlines()    # exc_msg: "ValueError: ..."
        lines += [f"#> {line}".rstrip() for line in output]
        if COMPOUND.match(example.source) and i < len(examples) - 1:
            lines.append("")
    return "\n".join(lines) + "\n"


def doctest_blocks(markdown):
    """Each ```python block of a page that holds ``>>>`` lines: (match, its body dedented)."""
    for match in FENCE.finditer(markdown):
        body = match["body"]
        if match["lang"] == "python" and re.search(r"^\s*>>>", body, re.MULTILINE):
            indent = len(match["indent"])
            yield match, "".join(line[indent:] for line in body.splitlines(keepends=True))


def on_page_markdown(markdown, **kwargs):
    """The page's doctest blocks, each as plain code in the same fence and indent."""
    pieces, end = [], 0
    for match, body in doctest_blocks(markdown):
        indent = match["indent"]
        code = "".join(indent + line if line.strip() else line
                       for line in plain_code(body).splitlines(keepends=True))
        pieces += [markdown[end:match.start()], f"{indent}```python\n{code}{indent}```"]
        end = match.end()
    return "".join(pieces) + markdown[end:]
