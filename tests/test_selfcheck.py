"""The HTML self-check (briefgen.selfcheck): what it catches, and that its regex
scanner agrees with a checker built on the standard library's html.parser (the
implementation it replaced) on real briefings and on hostile markup."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from briefgen.selfcheck import HtmlCheck, html_problems

_URL_ATTRS = {"href", "src", "srcset", "action", "formaction", "poster", "data", "xlink:href"}
_SAFE_LINK = re.compile(r"^(#|https?://|mailto:)", re.I)


class _Reference(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.problems: list[str] = []
        self.stack: list[str] = []
        self.styles: list[str] = []

    VOID = {
        "meta",
        "link",
        "br",
        "img",
        "col",
        "hr",
        "input",
        "source",
        "wbr",
        "area",
        "base",
        "embed",
        "param",
        "track",
    }

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


def reference_problems(html: str) -> list[str]:
    """The verdict of the html.parser-based checker briefgen used before its scanner."""
    checker = _Reference()
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


CLEAN = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
    "<style>.a > .b { color: red } p::before { content: '<b>' }</style></head>"
    '<body><!-- a <comment> --><p id="x" title="a > b">one<br>two</p>'
    '<a href="#x">back</a><a href="https://example.org/?a=1&amp;b=2">web</a>'
    '<img src="data:," alt="">'.replace('src="data:,"', 'src="#x"')
    + "</body></html>"
)


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("<script>alert(1)</script>", "<script> element present"),
        ("<SCRIPT SRC=x></SCRIPT>", "<script> element present"),
        ("<iframe></iframe>", "<iframe> element present"),
        ('<object data="#x"></object>', "<object> element present"),
        ("<embed>", "<embed> element present"),
        ("<form></form>", "<form> element present"),
        ("<base>", "<base> element present"),
        (
            '<link rel="stylesheet" href="https://e.org/x.css">',
            "<link> element present (the HTML must be self-contained)",
        ),
        ('<p onclick="x()">a</p>', "event handler attribute onclick on <p>"),
        ('<p class="x" id="y2" onclick="x()">a</p>', "event handler attribute onclick on <p>"),
        ('<a class="x" HREF="javascript:alert(1)">a</a>', "is neither an internal link nor a web link"),
        ('<a href="java&#115;cript:alert(1)" class="x">a</a>', "is neither an internal link nor a web link"),
        ("<p ONMOUSEOVER=x>a</p>", "event handler attribute onmouseover on <p>"),
        ('<a href="javascript:alert(1)">a</a>', "is neither an internal link nor a web link"),
        ('<a href="&#106;avascript:alert(1)">a</a>', "is neither an internal link nor a web link"),
        ('<a href="file:///etc/passwd">a</a>', "is neither an internal link nor a web link"),
        ('<img src="https://e.org/p.png">', "loads 'https://e.org/p.png' from outside the file"),
        ('<p style="background: url(x)">a</p>', "style attribute on <p> loads a resource"),
        ('<a href="#nowhere">a</a>', "link to #nowhere has no target"),
        ('<p id="x">a</p>', "duplicate id 'x'"),
        ("<style>@import 'https://e.org/x.css';</style>", "the styles load an outside resource"),
        ("<style>p { background: url(file:///etc/passwd) }</style>", "a file: URL appears in the styles"),
        ("<div><p>a</div>", "mismatched </div> (open: p)"),
        ("<div>", "mismatched </body> (open: div)"),
        ("<p title='x\" onclick=\"y'>a</p>", None),  # an attribute value, not a handler
        ('<p data-x="a > b" class=x>a</p>', None),
        ("<p>a &lt;script&gt; b</p>", None),  # escaped text is inert
    ],
)
def test_each_kind_of_problem_is_reported(snippet: str, expected: str | None) -> None:
    html = CLEAN.replace("</body>", snippet + "</body>")
    problems = html_problems(html)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems
    assert problems == reference_problems(html)
    for size in (1, 2, 3, 5, 8, 13, 64):  # fed in pieces, as rendered: the same verdict
        assert streamed(html, lambda size=size: size) == problems, size  # type: ignore[misc]


def streamed(html: str, size: Callable[[], int]) -> list[str]:
    """The verdict of :class:`HtmlCheck` on ``html`` fed in pieces of ``size()`` characters."""
    check = HtmlCheck()
    pos = 0
    while pos < len(html):
        n = size()
        check.feed(html[pos : pos + n])
        pos += n
    return check.problems()


def test_pieces_cut_anywhere_give_the_same_verdict() -> None:
    tricky = [
        CLEAN,
        CLEAN + "<div><section><p>a",
        CLEAN + "<style>p { color: red }",
        CLEAN.replace("</body>", "<!-- <style> --><p onclick=x></p></body>"),
        CLEAN.replace("</body>", "<p>a < b</p><a title='x > y' href=\"#nowhere\">z</a></body>"),
        CLEAN.replace("</body>", "<p title=\"unclosed><a href='javascript:x'>k</a></body>"),
        CLEAN.replace("</body>", "<STYLE>p{}</Style ><!DOCTYPE x><?pi?><!-- c --></body>"),
        CLEAN.replace("</body>", "<script>if (a < b) { x('</p>') }</script></body>"),
    ]
    rng = random.Random(8)
    for html in tricky:
        whole = html_problems(html)
        assert whole == reference_problems(html)
        for _ in range(40):
            assert streamed(html, lambda: rng.randint(1, 40)) == whole


def test_clean_document_passes() -> None:
    assert html_problems(CLEAN) == []


def test_unclosed_elements_are_reported() -> None:
    html = CLEAN + "<div><section><p>a"
    assert html_problems(html) == ["unclosed elements: div, section, p"] == reference_problems(html)
    html = CLEAN + "<style>p { color: red }"
    assert html_problems(html) == reference_problems(html) == ["unclosed elements: style"]


def test_agrees_with_the_reference_on_rendered_briefings(tmp_path: Path) -> None:
    from conftest import DEFAULT_CASE, MINIMAL

    from briefgen.audiences import load_audiences
    from briefgen.loader import load_case
    from briefgen.render import render_html
    from briefgen.view import build_view

    checked = 0
    rng = random.Random(3)
    for case_dir in (DEFAULT_CASE, MINIMAL):
        case = load_case(case_dir)
        for aud in load_audiences().values():
            html = render_html(build_view(case, aud))
            assert html_problems(html) == reference_problems(html) == []
            assert streamed(html, lambda: rng.randint(1, 6000)) == []
            # Break it in several ways; both checkers must agree on every one.
            for bad in (
                html.replace("</body>", '<script src="x"></script></body>', 1),
                html.replace("<p", '<p onload="x"', 3),
                re.sub(r'href="#', 'href="#missing-', html, count=2),
                html.replace("</section>", "", 1),
                html.replace("<style>", "<style>@import url(https://e.org/a.css);", 1),
                # Raw text starts only at a real start tag: not inside a comment.
                html.replace("</body>", "<!-- <style> --><p onclick=x></p></body>", 1),
                html.replace("</body>", "<!-- <script> --><iframe></iframe></body>", 1),
                html.replace("</body>", "<STYLE media=x>p{}</Style >\n<a href='file:x'></a></body>", 1),
            ):
                got = html_problems(bad)
                assert got, "a broken document passed the self-check"
                assert got == reference_problems(bad)
                assert streamed(bad, lambda: rng.randint(1, 6000)) == got
            checked += 1
    assert checked >= 6


def test_an_unclosed_tag_is_checked_in_linear_time() -> None:
    """A template that ends inside a tag ('<a xxxx...' with no '>') once made the tokenizer
    try every way of splitting the tag's text (2^length steps): checking it must finish."""
    import subprocess
    import sys

    short = CLEAN + "<p><a " + "x" * 12
    assert html_problems(short) == reference_problems(short)
    assert streamed(short, lambda: 3) == html_problems(short)
    code = (
        "from briefgen.selfcheck import html_problems, HtmlCheck\n"
        "page = '<p><a ' + 'x' * 200000\n"
        "assert html_problems(page) == ['unclosed elements: p']\n"
        "check = HtmlCheck()\n"
        "for i in range(0, len(page), 4096):\n"
        "    check.feed(page[i : i + 4096])\n"
        "assert check.problems() == ['unclosed elements: p']\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
