"""The HTML self-check (briefgen.selfcheck) judges the tree a browser would build: what
it catches, including markup that hides live script or outside loads behind the ways
HTML5 tokenizes, and that every rendered briefing passes it."""

from __future__ import annotations

import pytest
from conftest import MINIMAL

from briefgen import load_case
from briefgen.briefing.audiences import load_audiences
from briefgen.briefing.render import render_html
from briefgen.briefing.selfcheck import CSP, css_problem, html_problems
from briefgen.briefing.view import build_view

CLEAN = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    f'<meta http-equiv="Content-Security-Policy" content="{CSP}"><title>t</title>'
    "<style>.a > .b { color: red } p::before { content: '<b>' }</style></head>"
    '<body><!-- a <comment> --><p id="x" title="a > b">one<br>two</p>'
    '<a href="#x">back</a><a href="https://example.org/?a=1&amp;b=2">web</a>'
    '<img src="data:image/png;base64,iVBORw0KGgo=" alt="">'
    "</body></html>"
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
        ('<link rel="stylesheet" href="https://e.org/x.css">', "<link> element present"),
        ("<svg><script>alert(1)</script></svg>", "<script> element present"),
        ('<svg><animate attributeName="href" to="javascript:alert(1)"/></svg>', "<animate> element present"),
        ('<p onclick="x()">a</p>', "event handler attribute onclick on <p>"),
        ("<p ONMOUSEOVER=x>a</p>", "event handler attribute onmouseover on <p>"),
        ('<a HREF="javascript:alert(1)">a</a>', "href='javascript:alert(1)' on <a>"),
        ('<a href="java&#115;cript:alert(1)">a</a>', "href='javascript:alert(1)' on <a>"),
        ('<a href="file:///etc/passwd">a</a>', "on <a> would load or open something outside the page"),
        ('<img src="https://e.org/p.png">', "src='https://e.org/p.png' on <img>"),
        ('<img src="/etc/hostname">', "src='/etc/hostname' on <img>"),
        ('<svg><a xlink:href="javascript:x">a</a></svg>', "xlink:href='javascript:x' on <a>"),
        ('<svg><image href="https://e.org/p.png"/></svg>', "on <image>"),
        ('<a href="#x" ping="https://e.org/">a</a>', "ping='https://e.org/' on <a>"),
        ('<p style="background: url(x)">a</p>', "style attribute on <p> loads a resource"),
        ('<a href="#nowhere">a</a>', "link to #nowhere has no target"),
        ('<p id="x">a</p>', "duplicate id 'x'"),
        ("<style>@import 'https://e.org/x.css';</style>", "the styles load an outside resource"),
        ("<style>p { background: url(file:///etc/passwd) }</style>", "the styles load an outside resource"),
        # What the security review found (issue 21): the browser's reading, not a regex's.
        ("<!--><img src=x onerror=alert(1)> -->", "event handler attribute onerror on <img>"),
        ('<b title=x"y><script>alert(1)</script><b title="z>', "<script> element present"),
        (
            "<style>p { background: image-set('http://127.0.0.1:9/a' 1x) }</style>",
            "the styles load an outside resource",
        ),
        ("<style>p { background: u\\72l(http://127.0.0.1:9/a) }</style>", "the styles load an outside resource"),
        ('<p style="background: \\75 rl(http://127.0.0.1:9/a)">a</p>', "style attribute on <p> loads a resource"),
        ('<table background="http://127.0.0.1:9/a"><tr><td>a</td></tr></table>', "background='http://127.0.0.1:9/a'"),
        ('<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/">', "<meta http-equiv='refresh'> present"),
        ("<p title='x\" onclick=\"y'>a</p>", None),  # an attribute value, not a handler
        ('<p data-x="a > b" class=x>a</p>', None),
        ("<p>a &lt;script&gt; b url(http://x) @import</p>", None),  # escaped text is inert
    ],
)
def test_each_kind_of_problem_is_reported(snippet: str, expected: str | None) -> None:
    problems = html_problems(CLEAN.replace("</body>", snippet + "</body>"))
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_clean_document_passes() -> None:
    assert html_problems(CLEAN) == []


def test_every_page_must_carry_the_content_security_policy() -> None:
    without = CLEAN.replace(f'<meta http-equiv="Content-Security-Policy" content="{CSP}">', "")
    assert any("Content-Security-Policy" in p for p in html_problems(without))
    weaker = CLEAN.replace(CSP, "default-src *")
    assert any("Content-Security-Policy" in p for p in html_problems(weaker))
    twice = CLEAN.replace("<title>", f'<meta http-equiv="Content-Security-Policy" content="{CSP}"><title>')
    assert any("exactly once" in p for p in html_problems(twice))


@pytest.mark.parametrize(
    "css",
    ["url(x)", "URL (x)", "u\\rl(x)", "\\75 rl(x)", "u\\72 l(x)", "/* c */url(x)",
     "image-set('a' 1x)", "@import 'x'", "expression(alert(1))", "-moz-binding: x", "src(x)"],
)  # fmt: skip
def test_css_escapes_and_comments_cannot_hide_a_load(css: str) -> None:
    assert css_problem(f"p {{ background: {css} }}") is not None


def test_plain_css_is_not_flagged() -> None:
    assert css_problem(".a > .b { color: #123; margin: 0 1mm; content: 'x' }") is None


@pytest.mark.parametrize("audience", ["analyst", "executive", "public"])
def test_rendered_briefings_pass(audience: str) -> None:
    html = render_html(build_view(load_case(MINIMAL), load_audiences()[audience]))
    assert html_problems(html) == []
