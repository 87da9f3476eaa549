"""Issue 19's engine items, on a three-party case written from scratch (tests/data/three-party).

Shared motives of three parties, "Rests on" lists that name parties, event actors,
de-duplicated note markers, timeline lanes and date labels, the upcoming-event warning,
the closest passage of a mistyped excerpt, and `briefgen cite`.
"""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from selectolax.lexbor import LexborHTMLParser

from briefgen.briefing.audiences import load_audiences
from briefgen.facts.loader import check_case, load_case
from briefgen.output.build import render_edition

CASE = ROOT / "tests" / "data" / "three-party"
ARCHIVE = ROOT / "tests" / "data" / "three-party-archive"


@cache
def page(audience: str) -> LexborHTMLParser:
    html = render_edition(load_case(CASE), load_audiences()[audience]).html
    tree = LexborHTMLParser(html)
    for pop in tree.css("details.ev"):  # the evidence that opens in place: not the statement
        pop.decompose()
    return tree


@pytest.fixture
def case_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "three-party"
    shutil.copytree(CASE, dest)
    return dest


def test_a_motive_shared_by_three_parties_shows_each_party_once() -> None:
    case = load_case(CASE)
    parties = [p.short_name for p in case.info.parties]
    for audience in ("analyst", "dossier"):
        rows = page(audience).css("tr.row-shared")
        cells = {
            row.css_first("td").text(strip=True)[:40]: [td.text(strip=True) for td in row.css("td")] for row in rows
        }
        summit = next(v for v in cells.values() if all("A successful summit" in c for c in v))
        assert len(summit) == len(parties) == 3, audience
        flow = next(v for v in cells.values() if any("minimum flow" in c for c in v))
        assert flow[0] == "not shared" and all("minimum flow" in c for c in flow[1:]), audience
    lists = page("public").css_first(".section-matrix").text(separator=" ", strip=True)
    assert "Shared by several" in lists
    for name in parties:  # the list names the parties holding each shared motive
        assert name in lists


def test_rests_on_lists_name_the_party_of_each_motive() -> None:
    text = page("dossier").body.text(separator=" ", strip=True)
    rests = re.findall(r"Rests on: (.*?)(?:Rests on:|$)", text)
    assert rests, "no 'Rests on' list in the evidence record"
    summit = next(r for r in rests if "A successful summit" in r)
    for party in ("Kestria: A successful summit", "Vey: A successful summit"):
        assert party in summit
    assert "Lower Saddan Delta Provinces: A successful summit" in summit


def test_event_actors_are_shown() -> None:
    case = load_case(CASE)
    actors = {a.id: a.name for a in case.actors}
    with_actors = [e for e in case.events if e.actors]
    assert with_actors
    shown = {
        row.attributes["id"]: row.css_first(".event-actors").text(strip=True)
        for row in page("dossier").css("tr.event")
        if row.css_first(".event-actors") is not None
    }
    for event in with_actors:
        for actor in event.actors:
            assert actors[actor] in shown[f"ev-{event.id}"], event.id


@pytest.mark.parametrize("audience", ["analyst", "dossier"])
def test_note_markers_are_unique_and_ascending_per_statement(audience: str) -> None:
    runs = [[int(a.text()) for a in s.css("a.cite")] for s in page(audience).css("span.cites")]
    assert runs
    for run in runs:
        assert run == sorted(set(run)), run


def test_lane_labels_are_never_cut_and_date_labels_never_overlap() -> None:
    case = load_case(CASE)
    svg = page("analyst").css_first("svg.timeline-graphic")
    labels = [t for t in svg.css("text") if t.attributes.get("text-anchor") == "end"]
    shown = [" ".join(s.text() for s in t.css("tspan")) for t in labels]
    for party in case.info.parties:  # each lane label holds the whole short name, wrapped if long
        assert party.short_name in shown, shown
    assert any(len(t.css("tspan")) > 1 for t in labels), "the 28-character name should wrap"
    ticks = sorted(
        (float(t.attributes["x"]), float(t.attributes.get("font-size") or 12), t.text())
        for t in svg.css("text")
        if t.attributes.get("text-anchor") == "middle" and t.attributes.get("y") == "20"
    )
    assert len(ticks) >= 3
    for (x1, size1, text1), (x2, size2, text2) in zip(ticks, ticks[1:], strict=False):
        # Wide glyphs are about 0.6 em: half of each label must fit between their centres.
        assert x2 - x1 >= 0.3 * (size1 * len(text1) + size2 * len(text2)), (text1, text2)


def test_an_upcoming_event_dated_before_the_as_of_date_is_a_located_warning(case_copy: Path) -> None:
    f = case_copy / "events.yaml"
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace("when: {date: 2031-06-03, precision: day}", "when: {date: 2031-05-18, precision: day}"))
    rows = f.read_text(encoding="utf-8").splitlines()
    dated = next(n for n, row in enumerate(rows, 1) if "2031-05-18" in row)
    flag = next(n for n, row in enumerate(rows, 1) if n > dated and "upcoming: true" in row)
    warnings = check_case(case_copy).warnings
    assert [(w.path, w.line) for w in warnings] == [(str(f), flag)]
    assert "marked upcoming but dated 2031-05-18" in warnings[0].message
    result = run_cli("check", str(case_copy))
    assert result.returncode == 0 and "warning: marked upcoming" in result.stdout + result.stderr


def test_a_single_changed_letter_in_an_excerpt_is_found_and_named(case_copy: Path) -> None:
    f = case_copy / "events.yaml"
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace("under a drought emergency", "under a dr\u043eught emergency", 1), encoding="utf-8")
    line = next(n for n, row in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if "dr\u043eught" in row)
    result = run_cli("check", str(case_copy), "--archive", str(ARCHIVE))
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert f"{f}:{line}:" in out
    assert "closest passage (archive line" in out
    assert "U+043E CYRILLIC SMALL LETTER O" in out and "U+006F LATIN SMALL LETTER O" in out


def test_cite_prints_a_verbatim_sentence_that_check_accepts(case_copy: Path) -> None:
    args = ("--case", str(case_copy), "--archive", str(ARCHIVE))
    result = run_cli("cite", "delta-ministry", "salt water has advanced", *args)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.match(r"# delta-ministry, .*delta-ministry-2031-05-10\.txt line \d+$", lines[0])
    excerpt = re.search(r'excerpt: "(.*)"$', result.stdout, re.M)
    assert excerpt is not None
    sentence = excerpt.group(1)
    archived = (ARCHIVE / "delta-ministry-2031-05-10.txt").read_text(encoding="utf-8")
    assert sentence in archived and sentence.startswith("Since the closure") and sentence.endswith("mouths.")
    # Pasted as printed (with a grade) under an event of the same source, it passes check --archive.
    block = "\n".join("      " + row for row in lines[1:] if not row.startswith("  credibility:"))
    f = case_copy / "events.yaml"
    anchor = 'after the driest winter on record."\n        credibility: 2\n        paragraph: 3\n'
    text = f.read_text(encoding="utf-8")
    assert anchor in text
    f.write_text(text.replace(anchor, anchor + block + "\n        credibility: 2\n", 1), encoding="utf-8")
    loaded = check_case(case_copy, archive=ARCHIVE)
    assert loaded.case is not None
    event = next(e for e in loaded.case.events if e.id == "delta-drought-emergency")
    assert [c.excerpt for c in event.citations][-1] == sentence


def test_cite_says_when_the_words_are_not_there(case_copy: Path) -> None:
    result = run_cli("cite", "delta-ministry", "zebra crossing", "--case", str(case_copy), "--archive", str(ARCHIVE))
    assert result.returncode != 0
    assert "'zebra crossing' is not in" in result.stdout + result.stderr


def test_the_three_party_briefings_fit_the_built_in_budgets(tmp_path: Path) -> None:
    import pypdf

    from briefgen.output.build import BuildOptions, build

    audiences = load_audiences()
    briefings = ("executive", "analyst", "public")
    build([CASE], BuildOptions(out=tmp_path, audiences=briefings, formats=("pdf",), force=True))
    for name in briefings:  # a build over budget fails; the page count is checked here too
        pages = len(pypdf.PdfReader(tmp_path / CASE.name / f"{name}.pdf").pages)
        budget = audiences[name].profile.max_pages
        assert budget is not None and 1 <= pages <= budget, (name, pages)
    assert len(pypdf.PdfReader(tmp_path / CASE.name / "executive.pdf").pages) == 1


def test_check_reports_structure_references_and_excerpts_in_one_sorted_run(case_copy: Path) -> None:
    motives, events = case_copy / "motives.yaml", case_copy / "events.yaml"
    motives.write_text(motives.read_text(encoding="utf-8").replace("salience: high", "salience: huge", 1))
    text = events.read_text(encoding="utf-8")
    text = text.replace("actors: [delta-council]", "actors: [delta-councl]", 1)  # a reference to nothing
    text = text.replace("the driest winter on record", "the dryest winter on record")  # summary and excerpt
    events.write_text(text, encoding="utf-8")
    result = run_cli("check", str(case_copy), "--archive", str(ARCHIVE))
    assert result.returncode == 1
    located = [
        (m.group(1), int(m.group(2)), int(m.group(3)), m.group(4))
        for m in re.finditer(r"^(/\S+?\.yaml):(\d+):(\d+): (.*)$", result.stderr, re.M)
    ]
    kinds = {
        "structure": any(p == str(motives) and "'huge'" in msg for p, _, _, msg in located),
        "reference": any(p == str(events) and "delta-councl" in msg for p, _, _, msg in located),
        "excerpt": any(p == str(events) and "excerpt not found" in msg for p, _, _, msg in located),
    }
    assert all(kinds.values()), (kinds, result.stderr)
    assert [(p, line, col) for p, line, col, _ in located] == sorted((p, line, col) for p, line, col, _ in located)
    assert "3 problems found" in result.stderr
