"""The HTML self-check (briefgen.selfcheck): what it catches, and that its scanner
agrees with a checker built on the standard library's html.parser (the implementation
it replaced) on real briefings and on hostile markup.

Every test runs twice: with the tokenizer in C (briefgen._htmlscan, where it was built)
and with the regular expressions alone. The C tokenizer must also give exactly the
Python scanner's verdict on generated tag soup, whole and fed in pieces."""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from briefgen import selfcheck
from briefgen.selfcheck import HtmlCheck, html_problems

C_SCANNER = selfcheck._fast


@pytest.fixture(autouse=True, params=["c", "python"])
def scanner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test once per tokenizer (the C one is skipped where it was not built)."""
    if request.param == "c" and C_SCANNER is None:
        pytest.skip("briefgen._htmlscan was not built on this machine")
    if request.param == "python":
        monkeypatch.setattr(selfcheck, "_fast", None)
    return str(request.param)


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


def test_a_stray_tag_before_a_token_at_the_end_of_a_piece_is_kept() -> None:
    """'<a title='x' runs on in the next piece and swallows the '<b>' that ends this one:
    the scan must stop at the stray '<', not at the '<b>' (which dropped the stray)."""
    html = CLEAN.replace("</body>", "<p><a title='x<b>y'>z</a></p></body>")
    whole = html_problems(html)
    assert whole == reference_problems(html) == []
    cut = html.rindex("<b>") + 3
    check = HtmlCheck()
    check.feed(html[:cut])
    check.feed(html[cut:])
    assert check.problems() == whole


# Pieces of tag soup: every shape the C tokenizer handles itself, every one it hands back,
# and the characters where the two could part (case, quotes, entities, whitespace outside
# ASCII, names outside ASCII, unclosed tokens).
SOUP = [
    "<p>",
    "</p>",
    "<div>",
    "</div>",
    "<span>",
    "</span>",
    "<li>",
    "</li>",
    "<br>",
    "<br/>",
    "<img>",
    "</img>",
    "<hr />",
    "<P>",
    "</P >",
    "</p x=1>",
    "<a>",
    "</a>",
    "<ul>",
    "</ul>",
    "<section>",
    "</section>",
    '<p class="x">',
    '<p id="i1">',
    '<p id="i2">',
    '<p id="">',
    '<p ID="i1">',
    '<p id="i1" id="i3">',
    '<a href="#i1">',
    '<a href="#i2">',
    '<a href="#nowhere">',
    '<a HREF="#i1">',
    '<a href="#">',
    '<a href="">',
    '<a href="https://e.org/">',
    '<a href="javascript:x">',
    '<span href="#i1">',
    '<img src="#i1">',
    '<img src="/logo.png">',
    '<img src="x.png">',
    '<p data="#i1">',
    '<p data-x="y">',
    '<p xlink:href="#i2">',
    '<p style="color: red">',
    '<p style="background: URL(x)">',
    '<p style="x: @Import">',
    '<p style="expression(1)">',
    '<p style="u\u0280l(">',
    '<p style="">',
    '<p onclick="x">',
    '<p ONLOAD="x">',
    '<p on="x">',
    '<p o="x">',
    '<p title="a &amp; b">',
    '<p id="a&amp;b">',
    '<a href="#i&#49;">',
    '<p title="a > b">',
    "<p title='x'>",
    '<p title="x"/>',
    '<p title="x" />',
    '<p title="x" / id="s1">',
    '<p title="x"/ >',
    "<p/>",
    '<p id="s2"/>',
    '<p  title="x"  >',
    '<p\ttitle="x">',
    '<p\x0btitle="x">',
    '<p\x1ctitle="x">',
    '<p\u00a0title="x">',
    '<p title="x"class="y">',
    "<p title=x>",
    '<p 1a="x">',
    "<p =x>",
    '<p title="unclosed>',
    "<p title='unclosed>",
    '<p "q">',
    '<p title="x" onclick>',
    "<pé>",
    "</pé>",
    "<\u0130mg>",
    "<p\x00>",
    "<" + "x" * 40 + ">",
    "</" + "x" * 40 + ">",
    "<p " + "a" * 40 + '="x">',
    "<p on" + "a" * 40 + '="x">',
    "<script>",
    "</script>",
    "<style>",
    "</style>",
    "</STYLE >",
    "<iframe>",
    "<form>",
    "<link>",
    "<base>",
    "<embed>",
    "<object>",
    "<!-- c -->",
    "<!-- <p> -->",
    "<!--",
    "-->",
    "--!>",
    "<!DOCTYPE html>",
    "<?pi?>",
    "<!x",
    "< p>",
    "<",
    ">",
    "</>",
    "</ p>",
    "<1>",
    "a",
    "b < c",
    " ",
    "\n",
    "é",
    "€",
    "&lt;p&gt;",
    "'",
    '"',
    "=",
    "/",
]


def soup(rng: random.Random) -> str:
    return "".join(rng.choice(SOUP) for _ in range(rng.randint(1, 40)))


@pytest.mark.skipif(C_SCANNER is None, reason="briefgen._htmlscan was not built on this machine")
def test_the_c_tokenizer_gives_the_python_verdict_on_tag_soup(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    pages = [soup(rng) for _ in range(3000)]
    pages += [CLEAN.replace("</body>", page + "</body>") for page in pages[:500]]
    verdicts = {}
    for impl in (C_SCANNER, None):
        monkeypatch.setattr(selfcheck, "_fast", impl)
        cut = random.Random(5).randint
        verdicts[impl] = [(html_problems(p), streamed(p, functools.partial(cut, 1, 30))) for p in pages]
    differ = [(p, c, py) for p, c, py in zip(pages, verdicts[C_SCANNER], verdicts[None], strict=True) if c != py]
    assert not differ, differ[:3]
    # The soup reaches every kind of verdict (it is not trivially clean).
    kinds = {re.sub(r"[<'#].*", "", v) for whole, _ in verdicts[None] for v in whole}
    assert len(kinds) >= 10, kinds
    # Whole and streamed agree with each other too.
    assert all(whole == pieces for whole, pieces in verdicts[None])


@pytest.mark.skipif(C_SCANNER is None, reason="briefgen._htmlscan was not built on this machine")
def test_the_c_tokenizer_knows_the_python_scanners_names() -> None:
    assert set(C_SCANNER.VOID) == selfcheck.VOID
    assert set(C_SCANNER.PYTHON_TAGS) == set(selfcheck._FORBIDDEN) | set(selfcheck._RAW_END)
    assert set(C_SCANNER.URL_ATTRS) == selfcheck._URL_ATTRS


@pytest.mark.skipif(C_SCANNER is None, reason="briefgen._htmlscan was not built on this machine")
def test_the_c_tokenizer_reads_every_width_of_text() -> None:
    """A str holds 1, 2 or 4 bytes a character, after the widest character in it."""
    for wide in ("", "é", "€", "\U0001f600"):
        html = CLEAN.replace("</body>", f'<p id="w{wide}">{wide}</p><a href="#w{wide}">x</a><div></body>')
        assert html_problems(html) == reference_problems(html) == ["mismatched </body> (open: div)"]


@pytest.mark.skipif(C_SCANNER is None, reason="briefgen._htmlscan was not built on this machine")
def test_the_c_tokenizer_finds_delimiters_among_two_byte_characters() -> None:
    """In two-byte text a delimiter is found by its byte: characters holding that byte
    (U+013C, U+3C00 hold "<"'s; U+2222 '"''s; U+3E3E ">"'s) must not be taken for it."""
    tricky = "\u013c\u3c00\u2222\u3e3e\u223c"
    for i in range(len(tricky)):
        text = tricky[i:] + tricky[:i]
        html = CLEAN.replace(
            "</body>",
            f'<p id="t{text}" class="{text}">{text}<b>{text}</b>{text}</p><a href="#t{text}">{text}</a>'
            f'<a href="#missing{text}">x</a><div></body>',
        )
        expected = [f"link to #missing{text} has no target", "mismatched </body> (open: div)"]
        assert sorted(html_problems(html)) == sorted(reference_problems(html)) == sorted(expected)


def test_the_c_tokenizer_is_built_where_a_compiler_is() -> None:
    import shutil
    import sysconfig

    if not shutil.which(str(sysconfig.get_config_var("CC") or "cc").split()[0]):
        pytest.skip("no C compiler on this machine: the self-check runs in Python")
    assert C_SCANNER is not None, "a C compiler is here but briefgen._htmlscan was not built; reinstall briefgen"


@pytest.mark.skipif(C_SCANNER is None, reason="briefgen._htmlscan was not built on this machine")
def test_the_c_tokenizer_leaks_nothing() -> None:
    import sys

    pages = [CLEAN, CLEAN + "<div><p id='q'>", *(soup(random.Random(i)) for i in range(200))]

    def run() -> None:
        for page in pages:
            html_problems(page)
            streamed(page, lambda: 7)

    run()
    before = sys.getallocatedblocks()
    for _ in range(20):
        run()
    grown = sys.getallocatedblocks() - before
    assert grown < 200, f"{grown} blocks still allocated after 20 rounds"
