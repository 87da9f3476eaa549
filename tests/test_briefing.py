"""The default case's briefings, inspected as a recipient would: PDF structure, markings,
sections, metadata, HTML soundness, phone/desktop layout, reproducibility."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pypdf
import pytest
from conftest import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, DEFAULT_CASE, SEEDS, run_cli

from briefgen import load_case
from briefgen.briefing.audiences import load_audiences
from briefgen.briefing.selfcheck import html_problems
from briefgen.briefing.view import build_view
from briefgen.output.build import BuildOptions, build


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    build([DEFAULT_CASE], BuildOptions(out=out))
    return out / DEFAULT_CASE.name


def pdf_text(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in pypdf.PdfReader(path).pages]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_default_case_is_valid_and_every_excerpt_is_verbatim() -> None:
    assert SEEDS.is_dir(), "the source articles are expected in ../shared/seeds"
    result = run_cli("check", str(DEFAULT_CASE), "--archive", str(SEEDS))
    assert result.returncode == 0, result.stderr
    assert "every excerpt found in the archive" in result.stdout


BUDGETS = {"executive": (1, 750), "analyst": (12, 5000), "public": (4, 1800)}
"""Pages and words of the body text each briefing of the default case must fit (issue 18)."""


@pytest.mark.parametrize("audience", ["analyst", "dossier", "executive", "public"])
def test_pdf_structure(built: Path, audience: str) -> None:
    path = built / f"{audience}.pdf"
    reader = pypdf.PdfReader(path)
    pages = pdf_text(path)
    n = len(pages)
    if audience in BUDGETS:
        assert n <= BUDGETS[audience][0], f"{audience}: {n} pages"
    else:
        assert n >= 20  # the evidence record holds everything
    meta = reader.metadata
    assert meta is not None
    assert meta.title and meta.title.startswith(load_case(DEFAULT_CASE).info.title)
    assert meta.author and meta.subject and "TLP:" in meta.subject
    assert meta.get("/CreationDate", "").startswith("D:2024")
    marking = re.search(r"TLP:([A-Z+]+)", meta.subject).group(1)  # type: ignore[union-attr]
    for i, text in enumerate(pages, 1):
        assert text.count(f"TLP:{marking}") >= 2, f"page {i} lacks the marking in header and footer"
        assert f"Page {i} of {n}" in text
    titles = [o.title for o in reader.outline if not isinstance(o, list)]
    for wanted in ("Bottom line", "Key judgments" if audience != "public" else "Timeline"):
        assert any(wanted in t for t in titles), f"no bookmark for {wanted}"


@pytest.mark.parametrize("audience", ["analyst", "executive", "public"])
def test_briefings_fit_their_word_budgets(built: Path, audience: str) -> None:
    from briefgen.briefing.selfcheck import section_words
    from briefgen.output.build import APPARATUS

    words = section_words((built / f"{audience}.html").read_text())
    body = sum(n for sid, n in words.items() if sid not in APPARATUS)
    assert body <= BUDGETS[audience][1], f"{audience}: {body} words ({words})"


def test_the_evidence_record_has_every_section_and_a_toc_with_page_numbers(built: Path) -> None:
    text = flat(" ".join(pdf_text(built / "dossier.pdf")))
    for heading in (
        "Bottom line",
        "Key judgments",
        "Key figures",
        "Situation overview",
        "Timeline",
        "Why each side stepped back",
        "Motives in detail",
        "Why each side struck",
        "Analysts' assessments",
        "International reactions",
        "Contested claims",
        "Outlook",
        "Indicators to watch",
        "Sources",
        "Notes",
        "How to read this briefing",
        "About this edition",
    ):
        assert heading in text, heading
    contents = flat(pdf_text(built / "dossier.pdf")[1])
    assert re.search(r"Key judgments[ .]+\d+", contents), "table of contents without page numbers"


def test_public_release_holds_nothing_above_clear(built: Path) -> None:
    case = load_case(DEFAULT_CASE)
    public = build_view(case, load_audiences()["public"])
    assert public.meta.marking == "CLEAR"
    index = case.index()
    withheld = [
        item
        for item in index.values()
        if getattr(item, "marking", None) not in (None, "CLEAR")
        or (getattr(item, "marking", None) is None and case.info.marking != "CLEAR")
    ]
    text = flat(" ".join(pdf_text(built / "public.pdf")))
    html = (built / "public.html").read_text()
    reader = pypdf.PdfReader(built / "public.pdf")
    assert "TLP:CLEAR" in (reader.metadata.subject or "")
    for item in withheld:
        assert item.id not in public.included_ids
        for attr in ("statement", "note"):
            value = getattr(item, attr, None)
            if value:
                assert value not in html
                assert flat(value)[:60] not in text
    assert 'class="verification' not in html and 'class="internal-note' not in html


def test_html_is_self_contained_and_every_citation_resolves(built: Path) -> None:
    for audience in ("analyst", "dossier", "executive", "public"):
        html = (built / f"{audience}.html").read_text()
        assert html_problems(html) == []
        assert "<script" not in html and "file:" not in html
        # Every statement's evidence opens in place; where there are notes, markers link to them.
        assert html.count('<details class="ev">') >= 10
        for target in re.findall(r'class="cite" href="#([^"]+)"', html):
            assert f'id="{target}"' in html


def test_two_builds_are_byte_identical(built: Path, tmp_path: Path) -> None:
    build([DEFAULT_CASE], BuildOptions(out=tmp_path, audiences=("executive",)))
    for fmt in ("html", "pdf"):
        a = hashlib.sha256((built / f"executive.{fmt}").read_bytes()).hexdigest()
        b = hashlib.sha256((tmp_path / DEFAULT_CASE.name / f"executive.{fmt}").read_bytes()).hexdigest()
        assert a == b


def test_unchanged_inputs_are_not_rebuilt(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    first = build([DEFAULT_CASE], BuildOptions(out=out, audiences=("executive",), formats=("html",)))
    assert len(first.built) == 1
    again = build([DEFAULT_CASE], BuildOptions(out=out, audiences=("executive",), formats=("html",)))
    assert not again.built and len(again.unchanged) == 1


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
@pytest.mark.parametrize("width", [375, 768, 1280])
def test_html_does_not_overflow_horizontally(built: Path, tmp_path: Path, width: int) -> None:
    """Render in headless Chromium; a probe copy (never the product) reports the page width."""
    from briefgen.briefing.selfcheck import CSP

    html = (built / "analyst.html").read_text()
    # The page allows no script; the probe copy drops that rule to measure itself.
    policy = CSP.replace("'", "&#39;")
    probe = html.replace(f'<meta http-equiv="Content-Security-Policy" content="{policy}">', "").replace(
        "</body>",
        "<script>document.title='W'+document.documentElement.scrollWidth+'/'+window.innerWidth;</script></body>",
    )
    page = tmp_path / "probe.html"
    page.write_text(probe)
    flags = [
        "--headless",
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={width},1200",
    ]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r"<title>W(\d+)/(\d+)</title>", dom.stdout)
    assert m, dom.stderr[-500:]
    scroll, inner = int(m.group(1)), int(m.group(2))
    assert scroll <= inner, f"page is {scroll}px wide in a {inner}px window"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"analyst-{width}.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", (built / "analyst.html").as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
