"""Render the docs' TeX to MathML at build time, so that the site shows its math with no network.

pymdownx.arithmatex (``generic: true``) finds the math in the Markdown, skipping code, and leaves
``<span class="arithmatex">\\(...\\)</span>`` (inline) or ``<div class="arithmatex">\\[...\\]</div>``
(display) in the page; this hook replaces each with the MathML that latex2mathml makes, which
browsers draw natively. Why latex2mathml: it is pure Python (the docs extra installs it with pip, no
node, no binary, no font or stylesheet to fetch), where markdown-katex runs a bundled KaTeX binary and
needs KaTeX's CSS and fonts, and mkdocs-katex-ssr needs node. MathJax itself needs a CDN or a
vendored copy of its scripts.

latex2mathml writes what it does not understand into the MathML as it is (``\\foo`` becomes the
text ``\\foo``; ``\\frac{a`` a fraction with one part), so every result is checked and the build
fails naming the page and the TeX.
"""

import html
import re
import xml.etree.ElementTree as ET

MATH = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.DOTALL)
TOC_MATH = re.compile(r"\\\((.+?)\\\)")    # a heading's math, as the table of contents keeps it
# MathML elements and how many children each must have
ARITY = {"mfrac": 2, "msub": 2, "msup": 2, "msubsup": 3, "mover": 2, "munder": 2,
         "munderover": 3, "mroot": 2}
NS = "{http://www.w3.org/1998/Math/MathML}"


def tex_to_mathml(tex, display):
    """One TeX formula (no delimiters) as a <math> element; ValueError saying why if it is not
    converted whole."""
    if tex.count("{") - tex.count("\\{") != tex.count("}") - tex.count("\\}"):
        raise ValueError("unbalanced braces")
    # latex2mathml knows align* (a table of right- and left-aligned columns) but not MathJax's
    # aligned, the same thing inside a formula
    tex = tex.replace("{aligned}", "{align*}")
    # imported here: pytest imports this file (--doctest-modules) without the docs extra installed
    from latex2mathml.converter import convert
    mathml = convert(tex, display="block" if display else "inline")
    for element in ET.fromstring(mathml).iter():
        tag = element.tag.removeprefix(NS)
        if "\\" in (element.text or ""):
            raise ValueError(f"latex2mathml does not know {element.text!r}")
        if tag in ARITY and len(element) != ARITY[tag]:
            raise ValueError(f"<{tag}> with {len(element)} parts instead of {ARITY[tag]}")
    return mathml


def _convert(tex, page, display):
    """One formula as MathML, or the build stops naming the page and the formula."""
    from mkdocs.exceptions import PluginError

    try:
        return tex_to_mathml(tex, display)
    except Exception as error:  # latex2mathml's own errors have no common base class
        raise PluginError(f"{page.file.src_path}: math not converted ({error}): {tex}") from error


def _convert_toc(items, page):
    """The math of headings ($T_x$ in a title) in the table of contents, which keeps their text."""
    for item in items:
        item.title = TOC_MATH.sub(lambda match: _convert(html.unescape(match[1]), page, False),
                                  item.title)
        _convert_toc(item.children, page)


def on_page_content(html_text, page, **kwargs):
    """Every arithmatex span/div of the page, and the headings' math in its table of contents,
    becomes MathML."""
    _convert_toc(page.toc.items, page)
    return MATH.sub(lambda match: _convert(html.unescape(match[2])[2:-2].strip(), page,  # no \( \)
                                           display=match[1] == "div"), html_text)
