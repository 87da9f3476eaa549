"""What each edition gives its reader, for any case: nothing that matters is lost from
the analyst edition, the evidence record holds every item, each briefing fits its
budget, and a build over budget says which sections to cut."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA, DEFAULT_CASE, MINIMAL, run_cli
from markupsafe import escape

from briefgen import load_case
from briefgen.briefing.audiences import load_audiences
from briefgen.briefing.render import render_html
from briefgen.briefing.richtext import md_block
from briefgen.briefing.view import build_view
from briefgen.facts.models import ITEM_KINDS
from briefgen.facts.models.common import MARKING_ORDER

CASES = [MINIMAL, DEFAULT_CASE, *([DATA / "three-party"] if (DATA / "three-party").is_dir() else [])]


def releasable(item: object, case_marking: str, limit: str) -> bool:
    marking = getattr(item, "marking", None) or case_marking
    return MARKING_ORDER[marking] <= MARKING_ORDER[limit]


@pytest.mark.parametrize("case_dir", CASES, ids=lambda p: p.name)
def test_nothing_that_matters_is_lost_from_the_analyst_edition(case_dir: Path) -> None:
    case = load_case(case_dir)
    aud = load_audiences()["analyst"]
    html = render_html(build_view(case, aud))
    limit, default = aud.profile.marking, case.info.marking
    for j in case.judgments:
        if releasable(j, default, limit):
            assert str(escape(j.statement)) in html, j.id
            assert str(md_block(j.reasoning)) in html, f"{j.id}: reasoning"
    for kf in case.info.key_figures:
        if releasable(kf, default, limit):
            assert str(escape(kf.label)) in html, kf.id
    for p in case.info.bluf:
        if releasable(p, default, limit):
            assert str(md_block(p.text)).removesuffix("</p>") in html  # (its marker follows, inside the paragraph)
    for i in case.indicators:
        if releasable(i, default, limit):
            assert str(escape(i.signpost)) in html, i.id
    for party in case.info.parties:
        mine = [m for m in case.motives if m.party == party.id and releasable(m, default, limit)]
        top = [m for m in mine if m.salience == max((x.salience for x in mine), key=["low", "medium", "high"].index)]
        for m in top:
            assert str(escape(m.title)) in html, f"{party.id}: {m.id}"


@pytest.mark.parametrize("case_dir", CASES, ids=lambda p: p.name)
def test_the_evidence_record_holds_every_item(case_dir: Path) -> None:
    case = load_case(case_dir)
    view = build_view(case, load_audiences()["dossier"])
    html = render_html(view)
    for kind in ITEM_KINDS:
        for item in getattr(case, kind):
            if kind == "actors":
                continue  # actors are named where they act, not listed
            assert item.id in view.included_ids, f"{kind}: {item.id}"
    for c in (c for kind in ("events", "motives", "judgments") for item in getattr(case, kind) for c in item.citations):
        assert str(escape(c.excerpt)) in html, c.excerpt[:40]


def test_a_build_over_budget_names_the_sections_to_cut(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (Path(load_audiences()["analyst"].source)).read_text()
    (profiles / "analyst.yaml").write_text(
        text.replace("max_words: 5000", "max_words: 900").replace("max_pages: 12", "max_pages: 2")
    )
    out = tmp_path / "out"
    result = run_cli(
        "build", str(DEFAULT_CASE), "--audiences", str(profiles), "--audience", "analyst", "--out", str(out)
    )
    assert result.returncode == 1
    (line,) = [ln for ln in result.stderr.splitlines() if "analyst.yaml" in ln]
    assert ":8:1: the analyst briefing of iran-pakistan-2024 runs to " in line, line  # at max_pages
    assert "words (max_words 900)" in line and "pages (max_pages 2)" in line
    assert "the sections taking the most space: " in line and "timeline" in line
    assert not out.exists() or not list(out.rglob("*.pdf"))
