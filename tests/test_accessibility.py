"""Accessibility, as assistive technology meets the editions.

* HTML: axe-core (from the npm registry, tests/a11y/package.json) run in Debian's
  chromium through Playwright, over every edition of the default case, the three-party
  case and a case whose parties have light colours; with the evidence pop-ups closed and
  again with every one open. Rule sets wcag2a, wcag2aa, wcag21a, wcag21aa and
  best-practice: zero violations. A keyboard walk: Tab reaches every control in
  reading order and each shows a focus ring; Enter opens the evidence.
* PDF: the structure tree walked with pypdf, one named rule at a time (language, the
  title shown, one H1, headings without skipped levels, header cells with a scope,
  list structure, the figure's alternate text, link descriptions).

The browser tests skip only where chromium or node is missing; `make test` installs
axe-core with npm, and .ci/run installs chromium.
"""

from __future__ import annotations

import html as html_lib
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CHROMIUM, CHROMIUM_FLAGS, DATA, DEFAULT_CASE, ROOT
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
from selectolax.lexbor import LexborHTMLParser

from briefgen import load_case
from briefgen.briefing.audiences import load_audiences
from briefgen.briefing.render import render_html
from briefgen.briefing.view import WASH, build_view, contrast
from briefgen.facts.models.common import MARKING_COLOURS
from briefgen.output.pdf import render_pdf

THREE_PARTY = DATA / "three-party"
EDITIONS = ["executive", "analyst", "public", "dossier"]
CASES = {"default": DEFAULT_CASE, "three-party": THREE_PARTY}
LIGHT_COLOURS = ["#ffd700", "#7fffd4", "#ffb6c1"]  # gold, aquamarine, light pink: unreadable as text on white

AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
NODE = shutil.which("node")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def light_case(tmp_path: Path) -> Path:
    """The three-party case with each party's colour replaced by a light one."""
    dest = tmp_path / "light-colours"
    shutil.copytree(THREE_PARTY, dest)
    case_file = dest / "case.yaml"
    text = case_file.read_text(encoding="utf-8")
    for old, new in zip(re.findall(r'colour: "(#[0-9a-fA-F]{6})"', text), LIGHT_COLOURS, strict=False):
        text = text.replace(f'colour: "{old}"', f'colour: "{new}"')
    assert all(c in text for c in LIGHT_COLOURS)
    case_file.write_text(text, encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every edition's HTML, written to files, for the default, three-party and light-colour cases."""
    out = tmp_path_factory.mktemp("a11y")
    audiences = load_audiences()
    found = {}
    for name, folder in {**CASES, "light-colours": light_case(out)}.items():
        case = load_case(folder)
        for edition in EDITIONS:
            path = out / f"{name}-{edition}.html"
            path.write_text(render_html(build_view(case, audiences[edition])), encoding="utf-8")
            found[(name, edition)] = path
    return found


# ---------------------------------------------------------------- HTML in the browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None or NODE is None:
        pytest.skip("Debian's chromium and node are needed (.ci/run installs chromium; make test installs axe-core)")
    assert AXE.is_file(), "axe-core is not installed: run `make test` (npm ci --prefix tests/a11y)"
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
        )
        yield b
        b.close()


def open_page(browser: Any, path: Path, width: int = 1280) -> Any:
    # The page forbids every script (strict CSP); axe is injected by the test harness,
    # which only a context that bypasses the page's CSP may do. The product is unchanged.
    context = browser.new_context(bypass_csp=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(path.as_uri())
    return page


def axe_violations(page: Any) -> list[str]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}; e.g. {v['nodes'][0]['target']}"
        for v in result["violations"]
    ]


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("case", [*CASES, "light-colours"])
def test_axe_finds_no_violation(browser: Any, pages: dict[tuple[str, str], Path], case: str, edition: str) -> None:
    page = open_page(browser, pages[(case, edition)])
    try:
        closed = axe_violations(page)
        opened = page.evaluate(
            "() => { const d = document.querySelectorAll('details'); d.forEach(x => x.open = true); return d.length }"
        )
        with_evidence_open = axe_violations(page) if opened else []
    finally:
        page.context.close()
    assert closed == [], "\n".join(closed)
    assert with_evidence_open == [], "with every evidence pop-up open:\n" + "\n".join(with_evidence_open)


FOCUSABLE = """() => [...document.querySelectorAll('a[href], summary, button, input, select, textarea, [tabindex]')]
  .filter(e => e.tabIndex >= 0 && e.checkVisibility())"""


@pytest.mark.parametrize("edition", ["executive", "analyst", "public"])
def test_tab_reaches_every_control_in_order_with_a_visible_focus_ring(
    browser: Any, pages: dict[tuple[str, str], Path], edition: str
) -> None:
    page = open_page(browser, pages[("default", edition)])
    try:
        expected = page.evaluate(f"() => ({FOCUSABLE})().length")
        page.evaluate(f"() => {{ window._stops = ({FOCUSABLE})(); }}")
        walk = []
        for _ in range(expected):
            page.keyboard.press("Tab")
            walk.append(
                page.evaluate(
                    """() => { const e = document.activeElement, s = getComputedStyle(e);
                    return {index: window._stops.indexOf(e), ring: s.outlineStyle !== 'none' ? parseFloat(s.outlineWidth) : 0,
                            visible: e.matches(':focus-visible')}; }"""
                )
            )
        assert expected > 0
        assert [w["index"] for w in walk] == list(range(expected)), "Tab skipped a control or left reading order"
        assert all(w["visible"] and w["ring"] >= 2 for w in walk), [w for w in walk if w["ring"] < 2][:3]
        if edition != "executive":
            # A marker is announced as what it is, not as a bare "1,2,3".
            tree = page.locator("main").aria_snapshot()
            named = re.findall(r'group: "Evidence: (?:notes \d+(?:, \d+)+|note \d+|sources)"', tree)
            assert len(named) == page.locator("details.ev").count() > 0
            # Enter on an evidence marker opens it; a source link inside becomes the next stop.
            marker = "details.ev:has(.ev-body a) > summary" if edition == "analyst" else "details.ev > summary"
            page.evaluate(f"() => document.querySelector('{marker}').focus()")
            page.keyboard.press("Enter")
            assert page.evaluate(f"() => document.querySelector('{marker}').parentElement.open")
            if edition == "analyst":
                page.keyboard.press("Tab")
                assert page.evaluate("() => document.activeElement.closest('.ev-body') !== null")
    finally:
        page.context.close()


@pytest.mark.parametrize("edition", ["analyst", "dossier"])
def test_what_a_screen_reader_hears_is_the_words_as_written(
    browser: Any, pages: dict[tuple[str, str], Path], edition: str
) -> None:
    """No accessible name upper-cased by CSS (Chromium passes text-transform into names);
    the timeline figure's colour keys are not read out."""
    page = open_page(browser, pages[("default", edition)])
    try:
        shouting = page.evaluate(
            """() => [...document.querySelectorAll('body *')].filter(e => getComputedStyle(e).textTransform === 'uppercase'
                 && e.textContent !== e.textContent.toUpperCase()).map(e => e.className)"""
        )
        figure = page.locator("figure.timeline-figure").aria_snapshot()
    finally:
        page.context.close()
    assert shouting == []
    assert "Announced, not yet happened" not in figure and "img" in figure


def test_light_party_colours_are_darkened_until_they_read(pages: dict[tuple[str, str], Path]) -> None:
    """A party's own colour is kept where it only marks; text in it, and white text on it,
    reach 4.5:1, in the HTML and in the timeline graphic."""
    html = pages[("light-colours", "analyst")].read_text(encoding="utf-8")
    tree = LexborHTMLParser(html)
    inks = {m for m in re.findall(r"(?:color|background):(#[0-9a-f]{6})", html)}
    assert inks, "no party colour in the page"
    for ink in inks:
        assert contrast(ink, WASH) >= 4.5 and contrast(ink, "#ffffff") >= 4.5, ink
    svg = tree.css_first("svg.timeline-graphic")
    assert svg is not None
    for marker in svg.css("g.tl-marker"):
        circle, number = marker.css_first("circle"), marker.css_first("text")
        assert circle is not None and number is not None
        assert contrast(circle.attributes["fill"] or "", number.attributes["fill"] or "") >= 4.5
    for label in svg.css('text[text-anchor="end"]'):
        assert contrast(label.attributes["fill"] or "", "#f7f8fa") >= 4.5


@pytest.mark.parametrize("marking", list(MARKING_COLOURS))
def test_every_tlp_label_reads_on_its_black_ground(marking: str) -> None:
    """TLP 2.0 labels are coloured capitals on black; axe sees only the markings the
    test cases use, this covers RED and AMBER+STRICT too."""
    assert contrast(MARKING_COLOURS[marking], "#000000") >= 4.5


# ---------------------------------------------------------------- PDF structure tree


@pytest.fixture(scope="module")
def pdfs() -> dict[tuple[str, str], tuple[str, PdfReader]]:
    audiences = load_audiences()
    found = {}
    for name, folder in CASES.items():
        case = load_case(folder)
        for edition in EDITIONS:
            html = render_html(build_view(case, audiences[edition]))
            found[(name, edition)] = (html, PdfReader(io.BytesIO(render_pdf(html))))
    return found


def _get(obj: Any) -> Any:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def struct_elements(reader: PdfReader) -> Iterator[DictionaryObject]:
    """Every structure element, in reading order (depth first)."""
    root = _get(reader.trailer["/Root"]["/StructTreeRoot"])
    stack = [root]
    while stack:
        node = _get(stack.pop())
        if not isinstance(node, DictionaryObject):
            continue  # a marked-content id
        if "/S" in node:
            yield node
        kids = _get(node.get("/K"))
        if isinstance(kids, ArrayObject):
            stack.extend(reversed([k for k in kids if isinstance(_get(k), DictionaryObject)]))
        elif isinstance(kids, DictionaryObject):
            stack.append(kids)


def kids(element: DictionaryObject) -> list[DictionaryObject]:
    k = _get(element.get("/K"))
    items = k if isinstance(k, ArrayObject) else [k]
    return [x for x in map(_get, items) if isinstance(x, DictionaryObject) and "/S" in x]


def html_title(html: str) -> str:
    node = LexborHTMLParser(html).css_first("title")
    return node.text() if node else ""


def rule_language(html: str, reader: PdfReader) -> list[str]:
    lang = reader.trailer["/Root"].get("/Lang")
    want = (LexborHTMLParser(html).css_first("html").attributes.get("lang")) or ""  # type: ignore[union-attr]
    return [] if lang and str(lang) == want else [f"/Lang is {lang!r}, the page says {want!r}"]


def rule_title_shown(html: str, reader: PdfReader) -> list[str]:
    problems = []
    prefs = _get(reader.trailer["/Root"].get("/ViewerPreferences")) or {}
    if prefs.get("/DisplayDocTitle") != True:  # noqa: E712 - a pypdf BooleanObject
        problems.append("ViewerPreferences /DisplayDocTitle is not true: viewers show the file name")
    if not reader.metadata or reader.metadata.title != html_title(html):
        problems.append(f"document title {reader.metadata and reader.metadata.title!r} is not the page's title")
    if _get(reader.trailer["/Root"].get("/MarkInfo", {})).get("/Marked") != True:  # noqa: E712
        problems.append("/MarkInfo /Marked is not true")
    return problems


def headings(reader: PdfReader) -> list[int]:
    return [int(e["/S"][2]) for e in struct_elements(reader) if re.fullmatch(r"/H[1-6]", e["/S"])]


def rule_one_h1(html: str, reader: PdfReader) -> list[str]:
    n = headings(reader).count(1)
    return [] if n == 1 else [f"{n} H1 elements"]


def rule_headings_nest(html: str, reader: PdfReader) -> list[str]:
    levels = headings(reader)
    problems = [] if levels[:1] == [1] else [f"the first heading is H{levels[0] if levels else '-'}"]
    for before, after in zip(levels, levels[1:], strict=False):
        if after > before + 1:
            problems.append(f"H{before} followed by H{after}")
    return problems


def rule_table_headers(html: str, reader: PdfReader) -> list[str]:
    problems = []
    scopes = {"/Row": 0, "/Column": 0}
    for table in (e for e in struct_elements(reader) if e["/S"] == "/Table"):
        cells = [c for c in _descendants(table) if c["/S"] in ("/TH", "/TD")]
        if not any(c["/S"] == "/TH" for c in cells):
            problems.append("a table without header cells")
        for th in (c for c in cells if c["/S"] == "/TH"):
            scope = _get(th.get("/A", {})).get("/Scope")
            if scope not in scopes:
                problems.append(f"a header cell without /Scope (attributes {dict(_get(th.get('/A', {})))})")
            else:
                scopes[scope] += 1
    tree = LexborHTMLParser(html)
    want = {"/Row": len(tree.css("th[scope=row]")), "/Column": len(tree.css("th[scope=col]"))}
    # (a table's header row is repeated on each page it runs onto, so column headers may recur)
    if not problems and (scopes["/Row"] != want["/Row"] or scopes["/Column"] < want["/Column"]):
        problems.append(f"header scopes {scopes} differ from the page's {want}")
    return problems


def _descendants(element: DictionaryObject) -> Iterator[DictionaryObject]:
    for kid in kids(element):
        yield kid
        yield from _descendants(kid)


def rule_lists(html: str, reader: PdfReader) -> list[str]:
    problems = []
    lists = [e for e in struct_elements(reader) if e["/S"] == "/L"]
    for lst in lists:
        for kid in kids(lst):
            if kid["/S"] not in ("/LI", "/Caption", "/L"):
                problems.append(f"a list holds {kid['/S']}, not list items")
            elif kid["/S"] == "/LI" and not any(k["/S"] == "/LBody" for k in kids(kid)):
                problems.append("a list item without a body (LBody)")
    if not lists and LexborHTMLParser(html).css("main ul, main ol"):
        problems.append("the page has lists, the PDF none")
    return problems


def rule_figure_alt(html: str, reader: PdfReader) -> list[str]:
    figures = [e for e in struct_elements(reader) if e["/S"] == "/Figure"]
    problems = ["a figure without /Alt" for f in figures if not str(f.get("/Alt", "")).strip()]
    if '<svg class="timeline-graphic"' in html and not any(
        str(f.get("/Alt", "")).startswith("Timeline of") for f in figures
    ):
        problems.append("the timeline figure has no alternate text saying what it shows")
    return problems


def printed_link_names(html: str) -> dict[str, set[str]]:
    """Target -> the accessible names of the printed links to it (not those in pop-ups)."""
    found: dict[str, set[str]] = {}
    for a in LexborHTMLParser(html).css("a[href]"):
        if any("ev-body" in (p.attributes.get("class") or "") for p in _ancestors(a)):
            continue
        href = a.attributes.get("href") or ""
        name = a.attributes.get("aria-label") or " ".join(a.text(separator=" ").split())
        found.setdefault(href.removeprefix("#"), set()).add(name)
    return found


def _ancestors(node: Any) -> Iterator[Any]:
    while node.parent is not None:
        node = node.parent
        yield node


def rule_link_descriptions(html: str, reader: PdfReader) -> list[str]:
    problems = []
    names = printed_link_names(html)
    for page in reader.pages:
        for annot in map(_get, page.get("/Annots") or []):
            if annot.get("/Subtype") != "/Link":
                continue
            target = str(annot.get("/Dest") or _get(annot.get("/A", {})).get("/URI") or "")
            contents = str(annot.get("/Contents") or "").strip()
            if not contents or contents == target or contents.isdigit():
                problems.append(f"link to {target!r} described as {contents!r}")
            elif not contents.startswith("Go to: ") and not all(n.startswith(contents) for n in names.get(target, ())):
                # (one description per target: it must not contradict any link's own text)
                problems.append(f"link to {target!r} described as {contents!r}, but links to it read {names[target]}")
            if "/StructParent" not in annot:
                problems.append(f"link to {target!r} is not in the structure tree")
    return sorted(set(problems))[:10]


def rule_content_in_tree_or_artifact(html: str, reader: PdfReader) -> list[str]:
    """Every marked-content id the parent tree lists belongs to an element reachable from
    the structure root: running heads, page numbers and margin markings are artifacts,
    not spans hanging from the document without being among its children."""
    reachable = {id(e) for e in struct_elements(reader)}
    root = _get(reader.trailer["/Root"]["/StructTreeRoot"])
    nums = _get(_get(root["/ParentTree"])["/Nums"])
    orphans = 0
    for i in range(0, len(nums), 2):
        owners = _get(nums[i + 1])
        for owner in owners if isinstance(owners, ArrayObject) else [owners]:
            owner = _get(owner)
            if isinstance(owner, DictionaryObject) and owner.get("/S") != "/Link" and id(owner) not in reachable:
                orphans += 1
    artifacts = sum(page.get_contents().get_data().count(b"/Artifact") for page in reader.pages)  # type: ignore[union-attr]
    return ([f"{orphans} marked-content items belong to no element of the tree"] if orphans else []) + (
        [] if artifacts else ["no page furniture marked as an artifact"]
    )


def rule_pdfua_identified(html: str, reader: PdfReader) -> list[str]:
    """XMP metadata saying PDF/UA-1 (pdfuaid:part) and the title; tags not marked suspect."""
    problems = []
    metadata = reader.xmp_metadata
    xmp = metadata.stream.get_data().decode("utf-8") if metadata is not None else ""
    if 'pdfuaid:part="1"' not in xmp and "<pdfuaid:part>1</pdfuaid:part>" not in xmp:
        problems.append("no XMP metadata naming PDF/UA-1 (pdfuaid:part)")
    if html_lib.escape(html_title(html), quote=False) not in xmp:
        problems.append("the XMP metadata does not hold the title (dc:title)")
    if _get(reader.trailer["/Root"].get("/MarkInfo", {})).get("/Suspects") == True:  # noqa: E712
        problems.append("/MarkInfo /Suspects is true")  # (absent is right: poppler misreads 'false')
    return problems


def rule_one_element_per_heading_and_paragraph(html: str, reader: PdfReader) -> list[str]:
    """A heading is one H element and a paragraph one P (an inline paragraph or heading is
    tagged once per printed line): as many H as the page has headings, and no more P than
    it has paragraphs (and figure captions, tagged P) plus one a page break."""
    tree = LexborHTMLParser(html)
    tags = [e["/S"] for e in struct_elements(reader)]
    h = sum(1 for t in tags if re.fullmatch(r"/H[1-6]", t))
    p, want_p = tags.count("/P"), len(tree.css("p")) + len(tree.css("figcaption")) + len(reader.pages) - 1
    want_h = len(tree.css("h1, h2, h3, h4, h5, h6"))
    return ([f"{h} H elements for {want_h} headings"] if h != want_h else []) + (
        [f"{p} P elements for {want_p - len(reader.pages) + 1} paragraphs on {len(reader.pages)} pages"]
        if p > want_p
        else []
    )


PDF_RULES = {
    "language set": rule_language,
    "title shown by viewers, tagged": rule_title_shown,
    "exactly one H1": rule_one_h1,
    "headings nested without skipped levels": rule_headings_nest,
    "table header cells (TH) with /Scope": rule_table_headers,
    "lists as L > LI > LBody": rule_lists,
    "figures with alternate text": rule_figure_alt,
    "links with a description": rule_link_descriptions,
    "page furniture as artifacts, content in the tree": rule_content_in_tree_or_artifact,
    "identified as PDF/UA-1 (XMP), tags not suspect": rule_pdfua_identified,
    "one element per heading and paragraph": rule_one_element_per_heading_and_paragraph,
}


@pytest.mark.parametrize("rule", PDF_RULES)
@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("case", CASES)
def test_pdf_structure(pdfs: dict[tuple[str, str], tuple[str, PdfReader]], case: str, edition: str, rule: str) -> None:
    html, reader = pdfs[(case, edition)]
    assert PDF_RULES[rule](html, reader) == []


def test_the_pdf_timeline_is_a_figure_whose_text_is_its_alternative(
    pdfs: dict[tuple[str, str], tuple[str, PdfReader]],
) -> None:
    html, reader = pdfs[("three-party", "analyst")]
    (figure,) = [e for e in struct_elements(reader) if e["/S"] == "/Figure"]
    alt = str(figure["/Alt"])
    title = re.search(r'<title id="tl-title">(.*?)</title>', html)
    assert title and alt == html_lib.unescape(title.group(1))
    assert "one lane each for Kestria, Vey, Lower Saddan Delta Provinces and Others" in alt
