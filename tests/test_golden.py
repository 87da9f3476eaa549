"""Golden tests: the view data each audience gets from the minimal case.

One parametrised runner; `pytest --update-golden` rewrites the expected files after an
intended change (review the diff before committing it).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from conftest import MINIMAL

from briefgen import load_case
from briefgen.briefing.audiences import load_audiences
from briefgen.briefing.render import render_html
from briefgen.briefing.selfcheck import html_problems
from briefgen.briefing.view import build_view

GOLDEN = Path(__file__).parent / "golden"
AUDIENCES = ["analyst", "dossier", "executive", "public"]


def as_seen(value: object) -> object:
    """The view as templates see it: each dataclass's public fields and computed
    properties (a Cite's label), none of its private ones."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: as_seen(getattr(value, f.name)) for f in dataclasses.fields(value) if not f.name.startswith("_")}
        for name, attr in vars(type(value)).items():
            if isinstance(attr, property) and not name.startswith("_"):
                out[name] = as_seen(getattr(value, name))
        return out
    if isinstance(value, (list, tuple)):
        return [as_seen(v) for v in value]
    if isinstance(value, dict):
        return {k: as_seen(v) for k, v in value.items()}
    return value


def view_json(audience: str) -> str:
    view = build_view(load_case(MINIMAL), load_audiences()[audience])
    data = as_seen(view)
    assert isinstance(data, dict)
    data["meta"]["generator"] = "briefgen (version)"
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("audience", AUDIENCES)
def test_view_matches_golden(audience: str, update_golden: bool) -> None:
    expected = GOLDEN / f"minimal-{audience}.view.json"
    actual = view_json(audience)
    if update_golden or not expected.exists():
        expected.write_text(actual, encoding="utf-8")
    assert actual == expected.read_text(encoding="utf-8"), (
        f"view of {audience} changed; rerun with --update-golden if intended"
    )


@pytest.mark.parametrize("audience", AUDIENCES)
def test_html_is_sound_and_stable(audience: str) -> None:
    case = load_case(MINIMAL)
    aud = load_audiences()[audience]
    first = render_html(build_view(case, aud))
    assert html_problems(first) == []
    assert render_html(build_view(load_case(MINIMAL), aud)) == first  # same bytes twice


def test_releasability_by_audience() -> None:
    case = load_case(MINIMAL)
    auds = load_audiences()
    analyst = build_view(case, auds["analyst"])
    public = build_view(case, auds["public"])
    executive = build_view(case, auds["executive"])
    # The analyst sees the AMBER judgment, so the whole briefing is AMBER.
    assert "kj-secret" in analyst.included_ids and analyst.meta.marking == "AMBER"
    # The public sees only CLEAR items: one event, one bluf paragraph, one source.
    assert public.meta.marking == "CLEAR"
    assert public.included_ids == ["e3", "s1"]
    assert [p.html for p in public.bluf] and not public.overview and not public.judgments
    assert "Internal note text" not in render_html(public)
    # The executive limit is AMBER: it shows the AMBER judgment, so it is marked AMBER.
    assert executive.meta.marking == "AMBER"


def test_a_shared_motive_is_shown_once_naming_its_parties() -> None:
    view = build_view(load_case(MINIMAL), load_audiences()["dossier"])
    (shared,) = view.shared
    assert shared.title == "Elections" and [p.short_name for p in shared.parties] == ["North", "South"]
    assert view.matrix == []  # both motives are in the shared row, not repeated in a category row
    north, south = shared.motives
    assert [(o.anchor, o.title, o.party) for o in north.shared] == [("mv-m2", "Elections too", "South")]
    assert [(o.anchor, o.title, o.party) for o in south.shared] == [("mv-m1", "Elections", "North")]


@pytest.mark.parametrize("audience", ["analyst", "dossier"])
def test_notes_link_both_ways(audience: str) -> None:
    view = build_view(load_case(MINIMAL), load_audiences()[audience])
    html = render_html(view)
    assert view.notes
    for note in view.notes:
        assert f'id="{note.anchor}"' in html
        assert f'href="#{note.anchor}"' in html
        for back in note.backrefs:
            assert f'id="{back}"' in html
            # The evidence record links each note back to its statements.
            assert (f'href="#{back}"' in html) == (audience == "dossier")


def test_key_figures_are_computed() -> None:
    view = build_view(load_case(MINIMAL), load_audiences()["analyst"])
    figures = {k.id: k.value for k in view.key_figures}
    assert figures == {"kf-killed": "at least 2", "kf-days": "about 6 days"}
