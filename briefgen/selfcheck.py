"""Self-checks on rendered HTML: it parses, every internal link resolves, and nothing
in it could run code or reach outside the file (no script, no event handler, no
external or local URL).

The scanner is a tokenizer built from regular expressions rather than
:class:`html.parser.HTMLParser`: it finds tags the same way (tag and attribute names
lower-cased, attribute values unescaped, ``<script>``/``<style>`` content read as raw
text, comments and declarations skipped) but does its per-tag work only where a tag
has attributes, which makes it about eight times faster on a large briefing. Its
verdicts are compared with an ``html.parser`` reference in ``tests/test_selfcheck.py``.

Where ``briefgen._htmlscan`` was built, it walks the tokens in C and settles the
ordinary ones itself (ten times faster again); every other token comes back to
:meth:`_Scan.token` here, so the verdict is this module's either way.
"""

from __future__ import annotations

import re
from html import unescape

_URL_ATTRS = frozenset({"href", "src", "srcset", "action", "formaction", "poster", "data", "xlink:href"})
_SAFE_LINK = re.compile(r"^(#|https?://|mailto:)", re.I)
_FORBIDDEN = {
    "script": "<script> element present",
    "iframe": "<iframe> element present",
    "object": "<object> element present",
    "embed": "<embed> element present",
    "base": "<base> element present",
    "form": "<form> element present",
    "link": "<link> element present (the HTML must be self-contained)",
}
VOID = frozenset(
    {"meta", "link", "br", "img", "col", "hr", "input", "source", "wbr", "area", "base", "embed", "param", "track"}
)

# (The quantifiers of a tag are possessive: its parts cannot overlap, so giving back
# characters never finds another match, and an unclosed tag fails in linear time rather
# than after trying every way to split its text, which grew as 2^length.)
# Every token from a "<": a comment, a declaration or processing instruction, or a
# start/end tag (attribute values may hold ">" inside quotes), in one pass;
# ``<script>``/``<style>`` content is skipped when their start tag is met (raw text).
_TOKEN = re.compile(
    r"""<(?:
        !--.*?(?:--!?>|\Z)
      | [!?][^>]*>?
      | (/?)([a-zA-Z][^\t\n\r\f />\x00]*+)((?:[^>"']++|"[^"]*+"|'[^']*+')*+)>
    )""",
    re.S | re.X,
)
_RAW_END = {tag: re.compile(rf"</{tag}\s*>", re.I) for tag in ("script", "style")}
# Attributes worth reading: a name that starts a way that matters, after whitespace, a
# quote or "/" (where html.parser starts an attribute name). Other tags (most carry
# only a class) are not parsed further.
_INTERESTING = re.compile(r"""[\s'"/](?:on|id|href|src|action|formaction|poster|data|xlink|style)""", re.I)
_ATTR = re.compile(r"""([^\s/>"'=][^\s/>=]*)(?:\s*=+\s*("[^"]*"|'[^']*'|[^\s>]*))?""")
_STYLE_LOADS = re.compile(r"url\(|@import|expression\(", re.I)
_WAIT = -1

try:  # the common tokens checked in C, where it was built (setup.py)
    from . import _htmlscan as _fast
except ImportError:  # pragma: no cover - a machine without a C compiler
    _fast = None  # type: ignore[assignment]


# The common shape (every attribute double-quoted, no entity in any value), read by one
# findall; any other shape is read attribute by attribute as html.parser would.
_PLAIN_ATTRS = re.compile(r"""(?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*="[^"&]*")+\s*/?""")
_PLAIN_ATTR = re.compile(r'([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"&]*)"')


def _attributes(text: str) -> list[tuple[str, str | None]]:
    if _PLAIN_ATTRS.fullmatch(text):
        return [(name.lower(), value) for name, value in _PLAIN_ATTR.findall(text)]
    attrs: list[tuple[str, str | None]] = []
    for m in _ATTR.finditer(text):
        name, value = m.group(1).lower(), m.group(2)
        if value is not None:
            if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) >= 2:
                value = value[1:-1]
            if "&" in value:
                value = unescape(value)
        attrs.append((name, value))
    return attrs


class _Scan:
    def __init__(self) -> None:
        self.ids: set[str] = set()
        # Link targets not yet seen as ids, each once, in the order first linked (a large
        # page links the same note hundreds of thousands of times, mostly backwards).
        self.links: dict[str, None] = {}
        self.problems: list[str] = []
        self.stack: list[str] = []
        self.styles: list[str] = []

    def start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        problem = _FORBIDDEN.get(tag)
        if problem:
            self.problems.append(problem)
        for name, value in attrs:
            if name == "class":
                continue
            if name.startswith("on"):
                self.problems.append(f"event handler attribute {name} on <{tag}>")
            if name == "id" and value:
                if value in self.ids:
                    self.problems.append(f"duplicate id '{value}'")
                self.ids.add(value)
            if name in _URL_ATTRS and value is not None:
                if tag == "img" and name == "src" and value.startswith("/"):
                    continue  # a profile's logo, read through the restricted fetcher
                if not _SAFE_LINK.match(value.strip()):
                    self.problems.append(f"{name}={value[:60]!r} on <{tag}> is neither an internal link nor a web link")
                elif tag != "a" and not value.startswith("#"):
                    self.problems.append(f"<{tag} {name}> loads {value[:60]!r} from outside the file")
                if value.startswith("#"):
                    target = value[1:]
                    if target not in self.ids:
                        self.links[target] = None
            if name == "style" and value and _STYLE_LOADS.search(value):
                self.problems.append(f"style attribute on <{tag}> loads a resource")

    def mismatch(self, tag: str) -> None:
        stack = self.stack
        self.problems.append(f"mismatched </{tag}> (open: {stack[-1] if stack else 'none'})")
        if tag in stack:
            while stack and stack.pop() != tag:
                pass

    def scan(self, html: str, final: bool = True) -> int:
        """Check the tokens of ``html``; return how much of it was taken. With ``final``
        False, ``html`` is the page so far: the scan stops before anything that more text
        could change (a ``<`` that starts no token yet, a token running to the end, raw
        text whose closing tag is still to come), and the caller gives the rest again
        with the text that follows, so the verdict is the one on the whole page."""
        if _fast is not None:
            return self._scan_c(html, final)
        end = len(html)
        pos: int | None = 0
        last = 0
        while pos is not None:
            resume = None
            # One match at a time (a large page's tags would fill memory), over the page
            # itself (no copy is made of it).
            for m in _TOKEN.finditer(html, pos):
                if not final:
                    stray = html.find("<", last, m.start())
                    if stray != -1:
                        return stray
                    if m.end() == end:
                        return m.start()
                last = m.end()
                slash, name, rest = m.groups()
                if not name:  # comment, declaration, processing instruction
                    continue
                after = self.token(html, m.start(), m.end(), bool(slash), name, rest or "", final)
                if after == _WAIT:
                    return m.start()
                if after != m.end():
                    resume = last = after
                    break
            pos = resume
        if final:
            return end
        stray = html.find("<", last)
        return end if stray == -1 else stray

    def _scan_c(self, html: str, final: bool) -> int:
        """:meth:`scan` through :mod:`briefgen._htmlscan`, which does the common tokens
        itself and hands every other one to :meth:`token`."""
        pos = 0
        while True:
            step = _fast.scan(html, pos, final, self.stack, self.ids, self.links)
            if len(step) == 2:
                return step[1]
            _, begin, stop, slash, name_end = step
            after = self.token(
                html, begin, stop, bool(slash), html[begin + 1 + slash : name_end], html[name_end : stop - 1], final
            )
            if after == _WAIT:
                return begin
            pos = after

    def token(self, html: str, begin: int, stop: int, slash: bool, name: str, rest: str, final: bool) -> int:
        """Check the tag from ``begin`` to ``stop``; return where scanning goes on (past its
        raw text for a script or style), or ``_WAIT`` when that raw text has no end yet."""
        stack = self.stack
        tag = name.lower()
        if slash:
            if tag not in VOID:
                if stack and stack[-1] == tag:
                    stack.pop()
                else:
                    self.mismatch(tag)
            return stop
        opens = tag not in VOID and not rest.endswith("/")
        close = None
        if opens and tag in _RAW_END:
            # Raw text up to the closing tag (to the end if there is none, as in
            # html.parser); a style's content is kept for the style checks.
            close = _RAW_END[tag].search(html, stop)
            if close is None and not final:
                return _WAIT
        if rest and _INTERESTING.search(rest):
            self.start(tag, _attributes(rest))
        elif tag in _FORBIDDEN:
            self.start(tag, [])
        if not opens:
            return stop
        stack.append(tag)
        if tag not in _RAW_END:
            return stop
        resume = close.start() if close else len(html)
        if tag == "style":
            self.styles.append(html[stop:resume])
        return resume

    def verdict(self) -> list[str]:
        """The problems found in everything scanned."""
        problems = list(dict.fromkeys(self.problems))
        for target in self.links:
            if target and target not in self.ids:
                problems.append(f"link to #{target} has no target")
        # Only the text of <style> elements: the same words in escaped fact text are inert.
        styles = "\n".join(self.styles)
        if re.search(r"file:", styles, re.I):
            problems.append("a file: URL appears in the styles")
        if re.search(r"@import|url\(\s*['\"]?(?!#)", styles, re.I):
            problems.append("the styles load an outside resource")
        if self.stack:
            problems.append(f"unclosed elements: {', '.join(self.stack[-3:])}")
        return list(dict.fromkeys(problems))


class HtmlCheck:
    """The same checks on HTML that arrives in pieces (as a template renders it):
    :meth:`feed` each piece in order, then :meth:`problems` gives exactly what
    :func:`html_problems` gives on the whole page, without the page ever being held."""

    def __init__(self) -> None:
        self._scan = _Scan()
        self._pending = ""

    def feed(self, piece: str) -> None:
        text = self._pending + piece if self._pending else piece
        self._pending = text[self._scan.scan(text, final=False) :]

    def problems(self) -> list[str]:
        self._scan.scan(self._pending, final=True)
        self._pending = ""
        return self._scan.verdict()


def html_problems(html: str) -> list[str]:
    """Problems found in the HTML (empty when it is sound)."""
    scan = _Scan()
    scan.scan(html)
    return scan.verdict()
