"""Self-checks on rendered HTML, on the tree a browser would build from it.

The page is parsed by an HTML5 parser (selectolax, on the Lexbor engine, which follows
the WHATWG parsing rules: ``<!-->`` ends a comment, a quote inside an unquoted attribute
is part of its value), so what is checked is what a browser would run and load:

* no element that runs code or pulls in a document (script, iframe, object, embed,
  form, base, link, SVG animation and foreign objects) and no event-handler attribute;
* no attribute that loads anything: links may point inside the page (``#id``) or, on
  ``<a>`` only, to ``http(s):`` and ``mailto:`` addresses; an image may only be embedded
  (``data:image/...``); no ``meta`` refresh or other ``http-equiv`` but the page's own
  Content-Security-Policy, which every page must carry;
* no style (element or attribute) that loads anything, once CSS escapes are read;
* ids unique, and every internal link has a target.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
)
"""The Content-Security-Policy every page carries in a ``<meta http-equiv>``: no script,
nothing loaded from anywhere (defence in depth, behind the checks below)."""

FORBIDDEN = frozenset(
    {
        "script",
        "noscript",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "portal",
        "base",
        "form",
        "link",
        "foreignobject",
        "animate",
        "set",
        "animatemotion",
        "animatetransform",
        "handler",
        "listener",
    }
)
"""Elements that run code, embed another document, or change where the page's links go."""

LOADING = frozenset(
    {
        "src",
        "srcset",
        "href",
        "xlink:href",
        "action",
        "formaction",
        "poster",
        "data",
        "background",
        "lowsrc",
        "dynsrc",
        "cite",
        "longdesc",
        "usemap",
        "ping",
        "manifest",
        "codebase",
        "archive",
        "classid",
        "profile",
        "icon",
        "xml:base",
        "imagesrcset",
    }
)
"""Attributes whose value is an address."""

_WEB_LINK = re.compile(r"^(https?://|mailto:)", re.I)
_EMBEDDED_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|svg\+xml)[;,]", re.I)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(.))", re.S)
_CSS_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.S)
_CSS_LOADS = re.compile(
    r"url\s*\(|image-set\s*\(|image\s*\(|cross-fade\s*\(|element\s*\(|src\s*\(|@import|expression\s*\(|"
    r"behavior\s*:|-moz-binding|file:|https?:",
    re.I,
)


def _css_unescaped(css: str) -> str:
    """CSS as a browser reads it: comments gone, escapes (``u\\72l``, ``\\75 rl``) read."""

    def char(m: re.Match[str]) -> str:
        if m.group(1):
            code = int(m.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        return m.group(2)

    return _CSS_ESCAPE.sub(char, _CSS_COMMENT.sub(" ", css))


def css_problem(css: str) -> str | None:
    """What in a piece of CSS would load something, or None."""
    m = _CSS_LOADS.search(_css_unescaped(css))
    return None if m is None else f"{m.group(0).strip()!r}"


def _address_problem(tag: str, name: str, value: str) -> str | None:
    value = value.strip()
    if value.startswith("#"):
        return None
    if tag == "a" and name in ("href", "xlink:href") and _WEB_LINK.match(value):
        return None
    if tag == "img" and name == "src" and _EMBEDDED_IMAGE.match(value):
        return None
    return f"{name}={value[:60]!r} on <{tag}> would load or open something outside the page"


def html_problems(html: str) -> list[str]:
    """Problems found in the page (empty when it is sound)."""
    tree = LexborHTMLParser(html)
    problems: list[str] = []
    ids: set[str] = set()
    links: list[str] = []
    csp = 0
    for node in tree.root.traverse(include_text=False) if tree.root is not None else ():
        tag = (node.tag or "").lower()
        if tag.startswith("-"):  # comments and the doctype
            continue
        if tag in FORBIDDEN:
            problems.append(f"<{tag}> element present")
        attrs = node.attributes
        if tag == "meta" and "http-equiv" in attrs:
            equiv = (attrs.get("http-equiv") or "").strip().lower()
            if equiv == "content-security-policy" and (attrs.get("content") or "").strip() == CSP:
                csp += 1
            else:
                problems.append(
                    f"<meta http-equiv={equiv!r}> present (only briefgen's Content-Security-Policy is allowed)"
                )
        if tag == "style":
            found = css_problem(node.text(deep=True) or "")
            if found:
                problems.append(f"the styles load an outside resource ({found})")
        for name, value in attrs.items():
            name = name.lower()
            if name.startswith("on"):
                problems.append(f"event handler attribute {name} on <{tag}>")
            elif name == "id" and value:
                if value in ids:
                    problems.append(f"duplicate id '{value}'")
                ids.add(value)
            elif name == "style" and value:
                found = css_problem(value)
                if found:
                    problems.append(f"style attribute on <{tag}> loads a resource ({found})")
            elif (name in LOADING or name.endswith(":href")) and value is not None:
                problem = _address_problem(tag, name, value)
                if problem:
                    problems.append(problem)
                elif value.strip().startswith("#"):
                    links.append(value.strip()[1:])
    problems += [f"link to #{t} has no target" for t in dict.fromkeys(links) if t and t not in ids]
    if csp != 1:
        problems.append("the page must carry briefgen's Content-Security-Policy <meta> exactly once (in its <head>)")
    return list(dict.fromkeys(problems))


def section_words(html: str) -> dict[str, int]:
    """Words a reader reads in each section of the page (``sec-<id>`` → count): the text as
    printed, without the excerpts that open under the evidence markers, a graphic's
    text alternative, or what is there for screen readers only."""
    tree = LexborHTMLParser(html)
    for hidden in tree.css("details.ev, style, script, svg title, svg desc, .visually-hidden"):
        hidden.decompose()
    out: dict[str, int] = {}
    for node in tree.css("section, nav"):
        name = node.attributes.get("aria-labelledby") or node.attributes.get("id") or ""
        if name.startswith("sec-"):
            sid = name.removeprefix("sec-").removesuffix("-h")
            out[sid] = out.get(sid, 0) + len(node.text(separator=" ").split())
    return out
