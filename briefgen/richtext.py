"""Markdown fields → safe HTML: Python-Markdown, then the nh3 sanitiser with a small allow-list.

Fact text is data: raw HTML in it is escaped by Markdown's own rules where it can be
and stripped by the sanitiser where it cannot; only web and mail links survive, and
they are never fetched (the PDF only holds them as link annotations).
"""

from __future__ import annotations

from functools import lru_cache

import markdown
import nh3
from markupsafe import Markup, escape

ALLOWED_TAGS = {"p", "em", "strong", "ul", "ol", "li", "a", "code", "blockquote", "br", "sub", "sup"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}

_md = markdown.Markdown(extensions=[], output_format="html")


@lru_cache(maxsize=8192)
def md_block(text: str) -> Markup:
    """Markdown paragraphs → sanitised HTML (block level)."""
    _md.reset()
    html = _md.convert(text)
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


def plain(text: str) -> Markup:
    """Escape plain text (for symmetry with the Markdown helpers)."""
    return escape(text)
