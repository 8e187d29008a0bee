"""Show the docs' doctests on the site as code that runs when pasted.

Every example in docs/ and README.md is a doctest (``>>>`` lines and their output), which the test
suite runs (pytest's ``--doctest-glob``). Pasted as it is, a doctest is a SyntaxError in ``python``,
and in IPython a printed output line breaks what follows. This hook rewrites each ```` ```python ````
(or ``py``, ``pycon``) block holding ``>>>`` lines, on the site only: the prompts ``>>> `` and
``... `` go, and each output line becomes a ``#> `` comment under the statement that printed it
(pytest-examples' convention); an expected exception shows as its last line (no traceback),
``#> ValueError: ...``; ``<BLANKLINE>`` shows as an empty ``#>``; doctest directives
(``# doctest: +SKIP``) go. The interactive prompt ends an indented block at a blank line, so a blank
line inside a ``def`` or ``class`` goes (not one inside a string), and a compound statement (``def``,
``for``, ...) is followed by exactly one blank line, which ends it.

A plain line in a block of ``>>>`` lines is prose to doctest, which does not run it: the build
fails naming the page rather than show code the tests never ran.

Why a hook and not a package: pytest-examples reformats printed tensors with black (what it shows
is not what print shows), phmdoctest is unmaintained since 2022, Sybil has no code+output form, and
Material's copy button cannot strip prompts (squidfunk/mkdocs-material#3647).
"""

import ast
import doctest
import io
import re
import tokenize
from typing import NamedTuple

OPENING = re.compile(r"(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)(?P<options>.*)")
DOCTEST_LANGS = {"python", "py", "pycon"}
DIRECTIVE = re.compile(r"\s*#\s*doctest:.*$")
PARSER = doctest.DocTestParser()


class Block(NamedTuple):
    """A fenced block of a page: its lines ``start:end`` (fences included), its indent (inside an
    admonition), its fence (```` ``` ```` or longer), language, options (``title="x.py"``) and its
    body, dedented."""
    start: int
    end: int
    indent: str
    fence: str
    lang: str
    options: str
    body: str


class Shown(NamedTuple):
    """One example as the site shows it: its code (ending in a newline) and whether doctest skips
    it (``+SKIP``)."""
    code: str
    skip: bool


def fenced_blocks(lines):
    """Each fenced block of a page given as its lines (with their ends), outermost only: a fence
    closes at a line of the same character, at least as long (so ````` ```` ````` can show a
    ```` ``` ```` block)."""
    i = 0
    while i < len(lines):
        opening = OPENING.fullmatch(lines[i].rstrip("\n"))
        if not opening:
            i += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*")
        end = next((j for j in range(i + 1, len(lines)) if closing.fullmatch(lines[j].rstrip("\n"))),
                   len(lines))              # an unclosed fence runs to the end of the page
        indent = len(opening["indent"])
        body = "".join(line[indent:] for line in lines[i + 1:end])
        yield Block(i, end + 1, opening["indent"], fence, opening["lang"], opening["options"], body)
        i = end + 1


def doctest_blocks(markdown):
    """Each ```python (``py``, ``pycon``) block of a page that holds ``>>>`` lines."""
    for block in fenced_blocks(markdown.splitlines(keepends=True)):
        if block.lang in DOCTEST_LANGS and re.search(r"^\s*>>>", block.body, re.MULTILINE):
            yield block


def _source_lines(source):
    """An example's source as pasted code: its doctest directives removed, and its blank lines,
    which would end an indented block at the prompt, except those inside a string."""
    lines = source.rstrip("\n").split("\n")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):     # code a doctest expects not to compile
        return lines
    in_string = set()
    for token in tokens:
        (row, column), (end_row, _) = token.start, token.end
        in_string.update(range(row + 1, end_row + 1))     # the rows a multi-line string continues on
        if token.type == tokenize.COMMENT and DIRECTIVE.search(token.string):
            lines[row - 1] = (lines[row - 1][:column] + DIRECTIVE.sub("", token.string)).rstrip()
    return [line for row, line in enumerate(lines, 1) if line.strip() or row in in_string]


def _is_compound(source):
    """Whether the statement has a block (def, class, for, if, with, try, match, ...), which the
    interactive prompt ends only at a blank line."""
    try:
        statements = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(statements) and bool({"body", "cases"} & set(statements[-1]._fields))


def _refuse_prose(parts):
    """ValueError if doctest read a non-blank line of the block as prose (it does not run it)."""
    for part in parts:
        if isinstance(part, str) and part.strip():
            line = next(line for line in part.splitlines() if line.strip())
            raise ValueError(f"the plain line {line.strip()!r} in a block of >>> lines is not run by "
                             "the doctest: write it as a >>> line, or move it out of the block")


def shown_examples(doctest_text):
    """The examples of one doctest block as the site shows them, in order (see ``Shown``)."""
    parts = PARSER.parse(doctest_text)
    _refuse_prose(parts)
    examples = [part for part in parts if isinstance(part, doctest.Example)]
    shown = []
    for i, example in enumerate(examples):
        lines = _source_lines(example.source)
        output = (example.exc_msg or example.want).splitlines()    # exc_msg: "ValueError: ..."
        lines += [f"#> {'' if line == '<BLANKLINE>' else line}".rstrip() for line in output]
        if _is_compound(example.source) and i < len(examples) - 1:
            lines.append("")
        shown.append(Shown("\n".join(lines) + "\n", bool(example.options.get(doctest.SKIP))))
    return shown


def plain_code(doctest_text):
    """The code of one doctest block without prompts, its outputs as ``#> `` comments."""
    return "".join(example.code for example in shown_examples(doctest_text))


def _site_block(block, page):
    """One doctest block as the site shows it: plain code, in the same fence, indent and options
    (a ``pycon`` block becomes ``python``: it no longer shows a console)."""
    try:
        code = plain_code(block.body)
    except ValueError as error:
        from mkdocs.exceptions import PluginError    # here: pytest imports this file without mkdocs
        raise PluginError(f"{page.file.src_path if page else 'a page'}: {error}") from error
    lang = "python" if block.lang == "pycon" else block.lang
    lines = [f"{block.indent}{block.fence}{lang}{block.options}\n"]
    lines += [block.indent + line if line.strip() else line for line in code.splitlines(keepends=True)]
    return "".join(lines) + f"{block.indent}{block.fence}\n"


def on_page_markdown(markdown, page=None, **kwargs):
    """The page's doctest blocks, each as plain code in the same fence and indent."""
    lines = markdown.splitlines(keepends=True)
    pieces, end = [], 0
    for block in doctest_blocks(markdown):
        pieces += lines[end:block.start] + [_site_block(block, page)]
        end = block.end
    return "".join(pieces + lines[end:])
