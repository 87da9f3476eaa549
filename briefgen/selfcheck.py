"""Self-checks on rendered HTML: it parses, every internal link resolves, and nothing
in it could run code or reach outside the file (no script, no event handler, no
external or local URL)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_URL_ATTRS = {"href", "src", "srcset", "action", "formaction", "poster", "data", "xlink:href"}
_SAFE_LINK = re.compile(r"^(#|https?://|mailto:)", re.I)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.problems: list[str] = []
        self.stack: list[str] = []
        self.styles: list[str] = []

    VOID = {"meta", "link", "br", "img", "col", "hr", "input", "source", "wbr", "area", "base", "embed", "param", "track"}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "base", "form"):
            self.problems.append(f"<{tag}> element present")
        if tag == "link":
            self.problems.append("<link> element present (the HTML must be self-contained)")
        for name, value in attrs:
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
                    self.links.append(value[1:])
            if name == "style" and value and re.search(r"url\(|@import|expression\(", value, re.I):
                self.problems.append(f"style attribute on <{tag}> loads a resource")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "style":
            self.styles.append(data)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID and self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"mismatched </{tag}> (open: {self.stack[-1] if self.stack else 'none'})")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()


def html_problems(html: str) -> list[str]:
    """Problems found in the HTML (empty when it is sound)."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    problems = list(dict.fromkeys(checker.problems))
    for target in checker.links:
        if target and target not in checker.ids:
            problems.append(f"link to #{target} has no target")
    # Only the text of <style> elements: the same words in escaped fact text are inert.
    styles = "\n".join(checker.styles)
    if re.search(r"file:", styles, re.I):
        problems.append("a file: URL appears in the styles")
    if re.search(r"@import|url\(\s*['\"]?(?!#)", styles, re.I):
        problems.append("the styles load an outside resource")
    if checker.stack:
        problems.append(f"unclosed elements: {', '.join(checker.stack[-3:])}")
    return list(dict.fromkeys(problems))
