"""Markdown fields → safe HTML: Python-Markdown, then the nh3 sanitiser with a small allow-list.

Fact text is data: raw HTML in it is escaped by Markdown's own rules where it can be
and stripped by the sanitiser where it cannot; only web and mail links survive, and
they are never fetched (the PDF only holds them as link annotations).

Python-Markdown slows down sharply on some shapes of text (thousands of unclosed
``[`` in a paragraph take minutes; thousands of lines take seconds) and recurses per
level of nested lists and quotes, as does the PDF renderer. So a text past
:data:`MAX_BRACKET_WORK` or :data:`MAX_LINES`, or nested deeper than
:data:`MAX_NESTING`, is shown as plain paragraphs instead: still all there, still
escaped, only without Markdown formatting.
"""

from __future__ import annotations

import re
from functools import lru_cache

import markdown
import nh3
from markupsafe import Markup, escape

ALLOWED_TAGS = {"p", "em", "strong", "ul", "ol", "li", "a", "code", "blockquote", "br", "sub", "sup"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}

MAX_NESTING = 12
"""Deepest nesting of lists and quotes formatted (the PDF renderer fails past about a hundred)."""
MAX_LINES = 2_000
"""Most lines in one text formatted as Markdown."""
MAX_BRACKET_WORK = 2_000_000
"""Budget for '[' and '<' per paragraph, counted as the sum of their squares (about half a second)."""

_md = markdown.Markdown(extensions=[], output_format="html")
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")
_NESTING_TAG = re.compile(r"<(/?)(?:ul|ol|blockquote)\b", re.I)


def _too_costly(text: str) -> bool:
    if text.count("\n") > MAX_LINES:
        return True
    return sum((b.count("[") + b.count("<")) ** 2 for b in _PARAGRAPHS.split(text)) > MAX_BRACKET_WORK


def _too_deep(html: str) -> bool:
    depth = 0
    for m in _NESTING_TAG.finditer(html):
        depth += -1 if m.group(1) else 1
        if depth > MAX_NESTING:
            return True
    return False


def _plain_paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(b.strip())}</p>" for b in _PARAGRAPHS.split(text) if b.strip())


def _markdown(text: str) -> str:
    """Markdown → HTML, or plain paragraphs when the text is too costly or deep to format."""
    if _too_costly(text):
        return _plain_paragraphs(text)
    _md.reset()
    try:
        html = _md.convert(text)
    except RecursionError:  # lists nested a few hundred deep
        return _plain_paragraphs(text)
    return _plain_paragraphs(text) if _too_deep(html) else html


@lru_cache(maxsize=8192)
def md_block(text: str) -> Markup:
    """Markdown paragraphs → sanitised HTML (block level)."""
    html = _markdown(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 - sanitised just above


@lru_cache(maxsize=8192)
def md_inline(text: str) -> Markup:
    """Markdown → sanitised HTML without the surrounding paragraph (for table cells)."""
    html = str(md_block(text))
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)  # noqa: S704 - came from md_block


def within(html: Markup, before: str = "", after: str = "") -> Markup:
    """Rendered paragraphs with ``before`` at the start of the first one and ``after`` at
    the end of the last one (a statement's evidence marker, a party's name), so that each
    paragraph stays one block: one paragraph for a screen reader, in HTML and PDF alike.
    Plain strings are escaped; where the text does not start or end with a paragraph,
    they go outside it."""
    text, head, tail = str(html), str(escape(before)), str(escape(after))
    text = "<p>" + head + text[3:] if text.startswith("<p>") else head + text
    text = text[:-4] + tail + "</p>" if text.endswith("</p>") else text + tail
    return Markup(text)  # noqa: S704 - html is sanitised Markup, the rest escaped above


def plain(text: str) -> Markup:
    """Escape plain text (for symmetry with the Markdown helpers)."""
    return escape(text)
