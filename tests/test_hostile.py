"""Hostile input stays inert: fact text, user templates and names cannot run code, read
local files, reach the network or climb out of their folders.

1. Fact text: payloads (HTML, script, event handlers, file: and loopback URLs, CSS
   imports, Jinja syntax) planted in every kind of text field; the HTML and PDF are
   inspected, and a loopback listener proves the network was never touched.
2. User templates run in Jinja's sandbox: known escape payloads are refused with a
   located error.
3. Template, case and audience names cannot reach outside their folders.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any

import jinja2
import pypdf
import pytest
import yaml
from conftest import MINIMAL, ROOT, run_cli
from packaging.version import Version

from briefgen import cli
from briefgen.briefing.richtext import md_block
from briefgen.briefing.selfcheck import html_problems
from briefgen.output import pdf as pdf_module
from briefgen.output.build import BuildOptions, build

PASSWD_MARK = "root:x:0:0"

# ---------------------------------------------------------------- the payloads


def long_payload(port: int) -> str:
    """Every trick at once, for long text and Markdown fields."""
    net = f"http://127.0.0.1:{port}"
    return (
        "<script>alert('xss')</script> <img src=x onerror=alert(1)> <b onmouseover=\"alert(2)\">hover</b>\n"
        '<link rel=attachment href=file:///etc/passwd> <a rel=attachment href="file:///etc/passwd">att</a>\n'
        f'<a rel="attachment" href="{net}/att.txt">att2</a> <link rel=stylesheet href="{net}/l.css">\n'
        f"[local](file:///etc/passwd) [net]({net}/link) ![img](file:///etc/passwd) ![netimg]({net}/img.png)\n"
        f'[js](javascript:alert(1)) <iframe src="file:///etc/passwd"></iframe> <object data="{net}/o"></object>\n'
        f"<style>@import url({net}/imp.css); body {{ background: url(file:///etc/passwd) }}</style>\n"
        f'<div style="background:url({net}/bg.png)">styled</div> <svg><image href="file:///etc/passwd"/></svg>\n'
        "{{ 7*7 }} {{ 'pwn' ~ 'ed' }} {% for x in [1, 2] %}loop{% endfor %} {{ ''.__class__.__mro__ }} {# hidden #}\n"
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}"
    )


def short_payload(port: int) -> str:
    """The same tricks within 400 characters, for short text fields."""
    return (
        "<script>alert(1)</script><img src=x onerror=alert(1)>"
        "<a rel=attachment href=file:///etc/passwd>a</a>![x](file:///etc/passwd)"
        f"<style>@import url(http://127.0.0.1:{port}/s.css)</style>"
        "{{ 7*7 }} {{ 'pwn' ~ 'ed' }} {% for x in [1] %}L{% endfor %} {{ ''.__class__.__mro__ }}"
    )


TINY = "<script>x</script>{{ 7*7 }}"  # within 40 characters, for short names


def hostile_case(folder: Path, port: int) -> Path:
    """A valid case whose every text field carries a payload."""
    L, S = long_payload(port), short_payload(port)
    assert len(S) <= 400
    url = f'http://127.0.0.1:{port}/x"><script>alert(1)</script><a href="file:///etc/passwd'

    def cite(source: str = "s1", excerpt: str = L) -> dict[str, Any]:
        return {"source": source, "excerpt": excerpt, "credibility": 2}

    def verified() -> dict[str, Any]:
        return {"status": "verified", "checked_by": S, "checked_on": "2024-02-01", "note": L}

    base = {"citations": [cite()], "verification": verified(), "note": L}
    files: dict[str, Any] = {
        "case": {
            "title": S,
            "subtitle": S,
            "parties": [
                {"id": "north", "name": S, "short_name": TINY, "colour": "#1f6f8b"},
                {"id": "south", "name": S, "short_name": TINY + "2", "colour": "#b5452b"},
            ],
            "as_of": "2024-02-06",
            "edition": 2,
            "marking": "GREEN",
            "prepared_by": S,
            "prepared_for": S,
            "keywords": [S, "plain"],
            "bluf": [{"text": L, "citations": [cite()]}],
            "overview": [{"text": L, "citations": [cite(), cite("s2")]}],
            "outlook": [{"text": L, "citations": [cite()]}],
            "key_figures": [
                {
                    "id": "kf-killed",
                    "label": S,
                    "compute": "killed",
                    "events": ["e1"],
                    "caption": L,
                    "citations": [cite()],
                },
                {"id": "kf-days", "label": S, "compute": "days_between", "events": ["e1", "e2"], "citations": [cite()]},
                {"id": "kf-stated", "label": S, "compute": "stated", "stated": {"value": S, "citations": [cite()]}},
            ],
            "headings": {"motives": S, "rationales": S},
            "change_note": L,
        },
        "sources": {
            "sources": [
                {
                    "id": "s1",
                    "title": S,
                    "publisher": S,
                    "author": S,
                    "published": "2024-01-23",
                    "date_note": L,
                    "url": url,
                    "kind": "news",
                    "reliability": "B",
                    "reliability_reason": L,
                    "slant": L,
                    "errata": [{"excerpt": L, "problem": L}],
                },
                {
                    "id": "s2",
                    "title": S,
                    "url": f"https://127.0.0.1:{port}/y' onmouseover='alert(1)",
                    "kind": "opinion",
                    "reliability": "C",
                    "reliability_reason": L,
                },
            ]
        },
        "actors": {
            "actors": [
                {"id": "a1", "name": S, "kind": "person", "aliases": [S], "role": L, "party": "north", **base},
                {"id": "a2", "name": S, "kind": "organisation", "role": L, **base},
            ]
        },
        "events": {
            "events": [
                {
                    "id": "e1",
                    "when": {
                        "date": "2024-01-16",
                        "precision": "day",
                        "resolved_from": L,
                        "resolved_from_source": "s1",
                        "resolved_against": "s1",
                        "resolution": L,
                    },
                    "title": S,
                    "summary": L,
                    "kind": "strike",
                    "parties": ["north"],
                    "actors": ["a1"],
                    "location": S,
                    "casualties": {
                        "killed": {
                            "best": 2,
                            "low": 2,
                            "reports": [{"source": "s1", "figure": S, "low": 2, "who": L, "excerpt": L}],
                        }
                    },
                    **base,
                },
                {
                    "id": "e2",
                    "when": {"date": "2024-01-18", "precision": "day"},
                    "title": S,
                    "summary": L,
                    "kind": "other",
                    "location": S,
                    **base,
                },
            ]
        },
        "motives": {
            "motives": [
                {
                    "id": "m1",
                    "party": "north",
                    "title": S,
                    "category": "security",
                    "salience": "high",
                    "salience_reason": L,
                    "description": L,
                    "confidence": "high",
                    "shared": "g1",
                    **base,
                },
                {
                    "id": "m2",
                    "party": "south",
                    "title": S,
                    "category": "security",
                    "salience": "low",
                    "salience_reason": L,
                    "description": L,
                    "confidence": "low",
                    "shared": "g1",
                    **base,
                },
            ]
        },
        "rationales": {
            "rationales": [
                {"id": "r1", "party": "north", "title": S, "description": L, "confidence": "moderate", **base}
            ]
        },
        "judgments": {
            "judgments": [
                {
                    "id": "j1",
                    "statement": L,
                    "time_frame": S,
                    "likelihood": "likely",
                    "confidence": "moderate",
                    "reasoning": L,
                    "rests_on": ["e1", "m1"],
                    **base,
                }
            ]
        },
        "assessments": {
            "assessments": [
                {
                    "id": "as1",
                    "analyst": "a2",
                    "topic": S,
                    "quote": S,
                    "summary": L,
                    "citations": [cite("s1", "They wrote: " + S)],
                    "verification": verified(),
                    "note": L,
                }
            ]
        },
        "reactions": {"reactions": [{"id": "re1", "actor": "a2", "summary": L, **base}]},
        "claims": {
            "claims": [
                {
                    "id": "c1",
                    "question": S,
                    "assessment": L,
                    "positions": [{"claim": L, "citations": [cite()]}, {"claim": L, "citations": [cite("s2")]}],
                    **base,
                }
            ]
        },
        "indicators": {"indicators": [{"id": "i1", "signpost": L, "direction": "either", "meaning": L, **base}]},
    }
    folder.mkdir(parents=True)
    for kind, data in files.items():
        (folder / f"{kind}.yaml").write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return folder


# ---------------------------------------------------------------- fixtures


class Listener:
    """A loopback TCP port that records whether anything connected to it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self) -> int:
        n = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return n
            conn.close()
            n += 1


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    lis = Listener()
    yield lis
    lis.sock.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, listener: Listener) -> dict[str, Any]:
    """Build the hostile case: HTML for every built-in audience, and the analyst PDF."""
    root = tmp_path_factory.mktemp("hostile")
    case = hostile_case(root / "hostile", listener.port)
    out = root / "out"
    pdf_module.refused_urls.clear()
    build([case], BuildOptions(out=out, formats=("html",), force=True))
    build([case], BuildOptions(out=out, audiences=("dossier",), formats=("pdf",), force=True, jobs=1))
    folder = out / "hostile"
    return {
        "case": case,
        "html": {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.html"))},
        "pdf": (folder / "dossier.pdf").read_bytes(),
        "refused": list(pdf_module.refused_urls),
        "connections": listener.connections(),
    }


class Elements(HTMLParser):
    """Every element, attribute and text node of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.text.append(data)


def elements(html: str) -> Elements:
    p = Elements()
    p.feed(html)
    p.close()
    return p


# ---------------------------------------------------------------- fact text is inert


def test_every_audience_was_built(hostile: dict[str, Any]) -> None:
    assert set(hostile["html"]) == {"analyst", "dossier", "executive", "public"}


@pytest.mark.parametrize("audience", ["analyst", "dossier", "executive", "public"])
def test_html_holds_no_active_content(hostile: dict[str, Any], audience: str) -> None:
    html = hostile["html"][audience]
    assert html_problems(html) == []
    page = elements(html)
    names = [t for t, _ in page.tags]
    for forbidden in ("script", "iframe", "object", "embed", "link", "base", "form", "img", "image", "meta http-equiv"):
        assert forbidden not in names, forbidden
    assert names.count("style") == 1  # briefgen's own, in <head>
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if value is None:
                continue
            # Text attributes (title, content, alt, aria-label) may quote the payload: it is
            # escaped there and inert. Attributes that load or link must be clean.
            if name in ("href", "src", "xlink:href", "data", "srcset", "action", "poster", "background"):
                assert tag == "a" and (value.startswith("#") or value.startswith(("http://", "https://", "mailto:"))), (
                    tag,
                    name,
                    value,
                )
                assert "file:" not in value.lower() and "javascript:" not in value.lower(), (tag, name, value)
            if name == "style":
                assert "url(" not in value and "@import" not in value
            if name == "rel":
                assert "attachment" not in value
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "@import" not in style and "file:" not in style and "127.0.0.1" not in style


@pytest.mark.parametrize("audience", ["analyst", "dossier", "executive", "public"])
def test_jinja_in_fact_text_stays_literal(hostile: dict[str, Any], audience: str) -> None:
    html = hostile["html"][audience]
    text = "".join(elements(html).text)
    assert "{{ 7*7 }}" in text
    assert "{{ 'pwn' ~ 'ed' }}" in text
    assert "{% for x in [1] %}L{% endfor %}" in text
    assert "pwned" not in html
    assert "<class" not in html and "&lt;class" not in html
    assert "uid=" not in html  # the os.popen('id') payload never ran


def test_html_in_plain_fields_is_shown_as_text(hostile: dict[str, Any]) -> None:
    """Plain fields keep the payload visible (escaped), so nothing is silently lost."""
    text = "".join(elements(hostile["html"]["dossier"]).text)
    assert "<script>alert(1)</script><img src=x onerror=alert(1)>" in text
    assert "<script>x</script>" in text  # a party's short name


def test_pdf_holds_no_local_file_attachment_or_script(hostile: dict[str, Any]) -> None:
    data = hostile["pdf"]
    reader = pypdf.PdfReader(BytesIO(data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    assert PASSWD_MARK not in text and "root:" not in text
    assert "{{ 7*7 }}" in text.replace("\n", " ") or "7*7" in text
    assert "pwned" not in text

    catalog = reader.trailer["/Root"]
    names = catalog.get("/Names")
    names = names.get_object() if names is not None else {}
    assert "/EmbeddedFiles" not in names
    assert "/JavaScript" not in names
    for key in ("/OpenAction", "/AA", "/AF"):
        assert key not in catalog
    assert not reader.attachments

    for page in reader.pages:
        for annot_ref in page.get("/Annots") or []:
            annot = annot_ref.get_object()
            assert annot.get("/Subtype") != "/FileAttachment"
            action = annot.get("/A")
            if action is not None:
                action = action.get_object()
                assert action.get("/S") in ("/URI", "/GoTo", None), action
                uri = str(action.get("/URI", ""))
                assert not uri.lower().startswith(("file:", "javascript:")), uri
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        for ref in xobjects.get_object().values() if xobjects is not None else []:
            # The built-in profiles bring no logo: no raster image at all is expected.
            assert ref.get_object().get("/Subtype") != "/Image"
    assert b"/EmbeddedFile" not in data and b"/JavaScript" not in data and b"/Launch" not in data


def test_network_never_touched(hostile: dict[str, Any], listener: Listener) -> None:
    assert hostile["connections"] == 0
    # The sanitiser strips every loading element before the PDF renderer sees the HTML,
    # so the fetcher had nothing of the fact text to refuse.
    assert not [u for u in hostile["refused"] if "127.0.0.1" in u or "passwd" in u]


def test_restricted_fetcher_refuses_what_slips_past(tmp_path: Path, listener: Listener) -> None:
    """Defence in depth: HTML that escaped sanitising still cannot read or fetch anything."""
    net = f"http://127.0.0.1:{listener.port}"
    html = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title>
<link rel="stylesheet" href="{net}/sheet.css">
<link rel="attachment" href="file:///etc/passwd">
<style>@import url("{net}/imp.css"); @import url("file:///etc/hosts");
body {{ background: url("file:///etc/passwd"); }} p {{ background: url("{net}/bg.png") }}</style>
</head><body><p>hello</p>
<img src="file:///etc/passwd"><img src="{net}/img.png"><img src="../../../../etc/passwd">
<a rel="attachment" href="file:///etc/passwd">a</a><a rel="attachment" href="{net}/att">b</a>
<object data="file:///etc/passwd"></object><embed src="file:///etc/passwd">
<svg width="10" height="10"><image href="file:///etc/passwd" width="10" height="10"/></svg>
<iframe src="file:///etc/passwd"></iframe>
</body></html>"""
    pdf_module.refused_urls.clear()
    data = pdf_module.render_pdf(html)
    refused = list(pdf_module.refused_urls)
    assert listener.connections() == 0
    assert any(u.startswith(net) for u in refused), refused
    assert "file:///etc/passwd" in refused, refused
    reader = pypdf.PdfReader(BytesIO(data))
    assert not reader.attachments
    text = "".join(p.extract_text() or "" for p in reader.pages)
    assert "hello" in text and "root:" not in text
    for page in reader.pages:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        for ref in xobjects.get_object().values() if xobjects is not None else []:
            assert ref.get_object().get("/Subtype") != "/Image"


PATHOLOGICAL_MARKDOWN = {
    # Python-Markdown needs minutes for this many unclosed brackets in one paragraph.
    ("motives", "Elections are near."): "[a " * 15_000,
    # Nested lists and quotes: Markdown and the PDF renderer recurse once per level.
    ("motives", "Elections are near too."): "".join("  " * i + "- x\n" for i in range(215)),
    ("judgments", "Both sides have reasons to stop."): "".join(">" * i + " q\n" for i in range(1, 170)),
}
SLOW_MARKDOWN = ["<http://" * 5_000, "x\n=\n" * 5_000, "[a](" * 10_000, "![" * 20_000]


def test_pathological_markdown_is_a_located_error(tmp_path: Path) -> None:
    """Markdown that would take minutes to format, or recurse past Python's limit in the PDF
    renderer, is refused by validation: located, exit 1, nothing built. (What it costs is
    measured by bench/run.py, part 7, not asserted here.)"""
    case = tmp_path / "demo"
    shutil.copytree(MINIMAL, case)
    for (kind, old), new in PATHOLOGICAL_MARKDOWN.items():
        f = case / f"{kind}.yaml"
        text = f.read_text(encoding="utf-8")
        assert old in text
        f.write_text(text.replace(old, json.dumps(new), 1), encoding="utf-8")
    for command in (["check", str(case)], ["build", str(case), "--out", str(tmp_path / "out"), "--format", "html"]):
        proc = run_cli(*command)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
        assert f"{case / 'motives.yaml'}:" in proc.stderr and "Markdown markup characters" in proc.stderr
        assert "levels deep" in proc.stderr and f"{case / 'judgments.yaml'}:" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_markdown_past_the_bounds_still_renders_as_plain_text() -> None:
    """Defence in depth behind validation: text that reaches the formatter anyway (from code,
    not from a fact file) is shown as plain, escaped paragraphs, never lost, never a crash."""
    for text in [*PATHOLOGICAL_MARKDOWN.values(), *SLOW_MARKDOWN]:
        md_block.cache_clear()
        html = str(md_block(text))
        assert html.startswith("<p>"), text[:20]
        assert html.count("<ul>") + html.count("<blockquote>") <= 12, text[:20]
    assert "[a " * 1000 in str(md_block("[a " * 15_000))


def test_hostile_case_through_the_command_line(hostile: dict[str, Any], tmp_path: Path) -> None:
    proc = run_cli("check", str(hostile["case"]))
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("build", str(hostile["case"]), "--audience", "public", "--format", "html", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "hostile" / "public.html").read_text(encoding="utf-8") == hostile["html"]["public"]


# ---------------------------------------------------------------- user templates are sandboxed


def test_jinja_has_the_known_sandbox_fixes() -> None:
    # 3.1.5 and 3.1.6 closed sandbox escapes through str.format and the attr filter.
    assert Version(jinja2.__version__) >= Version("3.1.6")


SANDBOX_ESCAPES = {
    "mro": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "cycler-globals": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "joiner-globals": "{{ joiner.__init__.__globals__['os'].system('id') }}",
    "template-context": "{{ self._TemplateReference__context }}",
    "lipsum-globals": "{{ lipsum.__globals__ }}",
    "lipsum-builtins": "{{ lipsum.__globals__['__builtins__']['open']('/etc/passwd').read() }}",
    "namespace-init": "{{ namespace.__init__.__globals__ }}",
    "format": "{{ '{0.__class__}'.format(view) }}",
    "format-globals": "{{ '{0.__init__.__globals__}'.format(cycler) }}",
    "format-map": "{{ '{v.__class__}'.format_map({'v': view}) }}",
    "format-indirect": "{% set f = '{0.__class__.__init__.__globals__}'.format %}{{ f(cycler) }}",
    "format-attr-filter": "{{ ('{0.__class__}'|attr('format'))(view) }}",
    "attr-filter-dunder": "{{ view|attr('__class__') }}",
    "getattr-item": "{{ view['__class__'] }}",
    "mutate-list": "{% set x = view.sections.append(1) %}",
    "mutate-dict": "{% set x = meta.__dict__.update({}) %}",
    "mutate-pop": "{% set x = view.sections.pop() %}",
    "globals-via-range": "{{ range.__self__ }}",
    "func-globals": "{{ view.__init__.__globals__ }}",
}


def override(tmp_path: Path, body: str, name: str = "sections/bluf.html.j2") -> Path:
    folder = tmp_path / "tpl"
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("<section>\nline two\n" + body + "\n</section>\n", encoding="utf-8")
    return folder


def build_with_templates(tmp_path: Path, templates: Path) -> subprocess.CompletedProcess[str]:
    """``briefgen build`` with a template folder, run in this process (many runs: no start-up cost)."""
    args = [
        "build",
        str(MINIMAL),
        "--audience",
        "analyst",
        "--format",
        "html",
        "--quiet",
        "--templates",
        str(templates),
        "--out",
        str(tmp_path / "out"),
    ]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(args)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_a_harmless_override_works(tmp_path: Path) -> None:
    """The control: the override mechanism itself is used, so refusals below mean something."""
    tpl = override(tmp_path, "")
    (tpl / "sections" / "bluf.html.j2").write_text(
        '{% extends "builtin/sections/bluf.html.j2" %}{% block content %}<p>Custom BLUF</p>{{ super() }}{% endblock %}',
        encoding="utf-8",
    )
    proc = build_with_templates(tmp_path, tpl)
    assert proc.returncode == 0, proc.stderr
    assert "Custom BLUF" in (tmp_path / "out" / "minimal" / "analyst.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("payload", list(SANDBOX_ESCAPES.values()), ids=list(SANDBOX_ESCAPES))
def test_sandbox_escape_is_refused(tmp_path: Path, payload: str) -> None:
    tpl = override(tmp_path, payload)
    proc = build_with_templates(tmp_path, tpl)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert f"{tpl / 'sections' / 'bluf.html.j2'}:3:" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()
    for leaked in ("uid=", "root:", "<class", "subprocess", "__builtins__"):
        assert leaked not in proc.stdout + proc.stderr.replace(payload, ""), leaked


RUNAWAY_TEMPLATES = {
    "includes-itself": '{% include "sections/bluf.html.j2" %}',
    "extends-itself": '{% extends "sections/bluf.html.j2" %}',
    "recursive-macro": "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "huge-range": "{% for i in range(10**9) %}{% endfor %}",
    "huge-repeat": '{{ "x" * 10**9 }}',
    "huge-list": "{{ [0] * 10**9 }}",
    "huge-power": "{{ 2 ** 1000000000 }}",
}


@pytest.mark.parametrize("payload", list(RUNAWAY_TEMPLATES.values()), ids=list(RUNAWAY_TEMPLATES))
def test_runaway_template_is_a_located_user_error(tmp_path: Path, payload: str) -> None:
    """A template that never ends or asks for gigabytes is the user's mistake (exit 1), not a bug
    (exit 3), and is stopped before it exhausts the machine."""
    tpl = override(tmp_path, payload)
    proc = build_with_templates(tmp_path, tpl)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert f"{tpl / 'sections' / 'bluf.html.j2'}:3:" in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "name",
    [
        "../../../../../../etc/passwd",
        "/etc/passwd",
        "builtin/../../../../../etc/passwd",
        "sections/../../../../../../etc/passwd",
        "..\\\\..\\\\..\\\\etc\\\\passwd",  # in the template: ..\\..; Jinja reads each pair as one backslash
    ],
)
def test_template_names_cannot_climb_out(tmp_path: Path, name: str) -> None:
    for tag in ("include", "extends", "import"):
        body = f'{{% {tag} "{name}" %}}' + (" as m" if tag == "import" else "")
        body = body.replace("%} as m", " as m %}")
        tpl = override(tmp_path, body)
        proc = build_with_templates(tmp_path, tpl)
        assert proc.returncode == 1, (tag, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert "template not found" in proc.stderr, proc.stderr
        assert "root:" not in proc.stderr + proc.stdout
        assert not (tmp_path / "out").exists()


def test_a_template_folder_override_with_dotdot_stays_inside(tmp_path: Path) -> None:
    """A template folder given as a path with '..' is just a folder; the names in it still cannot climb."""
    (tmp_path / "a").mkdir()
    tpl = override(tmp_path, '{% include "../secret.txt" %}')
    (tpl / "secret.txt").write_text("SECRET-OUTSIDE-SECTIONS", encoding="utf-8")
    proc = build_with_templates(tmp_path, tmp_path / "a" / ".." / "tpl")
    assert proc.returncode == 1
    assert "SECRET-OUTSIDE-SECTIONS" not in proc.stdout + proc.stderr


def test_audience_name_cannot_climb_out(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (ROOT / "templates" / "audiences" / "public.yaml").read_text(encoding="utf-8")
    bad = profiles / "evil.yaml"
    bad.write_text(text.replace("name: public", "name: ../../../evil"), encoding="utf-8")
    out = tmp_path / "deep" / "er" / "out"
    proc = run_cli(
        "build",
        str(MINIMAL),
        "--audience",
        "public",
        "--format",
        "html",
        "--audiences",
        str(profiles),
        "--out",
        str(out),
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{bad}:" in proc.stderr and "'name'" in proc.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["profiles", "evil.yaml"])


def test_audience_name_must_match_its_file(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (ROOT / "templates" / "audiences" / "public.yaml").read_text(encoding="utf-8")
    (profiles / "mine.yaml").write_text(text.replace("name: public", "name: other"), encoding="utf-8")
    proc = run_cli("audiences", "--audiences", str(profiles))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "must match the file name" in proc.stderr


def test_case_folder_name_cannot_become_a_path(tmp_path: Path) -> None:
    """Odd folder names are refused before anything is written; '..' resolves to a real name."""
    weird = tmp_path / "a" / "..."
    shutil.copytree(MINIMAL, weird)
    out = tmp_path / "out"
    proc = run_cli("build", str(weird), "--audience", "public", "--format", "html", "--out", str(out))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert not out.exists()
    # 'x/..' names the folder above: it is built under that folder's own (valid) name.
    inner = tmp_path / "good-case"
    shutil.copytree(MINIMAL, inner)
    (inner / "sub").mkdir()
    proc = run_cli("build", str(inner / "sub" / ".."), "--audience", "public", "--format", "html", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert [p.relative_to(out).as_posix() for p in sorted(out.rglob("*.html"))] == ["good-case/public.html"]
