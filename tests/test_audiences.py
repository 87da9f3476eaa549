"""Audience profiles and user templates."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
from conftest import MINIMAL, run_cli

from briefgen import load_case
from briefgen.briefing.audiences import load_audiences
from briefgen.briefing.render import render_html
from briefgen.briefing.view import build_view
from briefgen.errors import CaseInvalid


def test_audiences_command_lists_the_built_in_profiles() -> None:
    result = run_cli("audiences")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == ["analyst", "dossier", "executive", "public"]
    assert "TLP:CLEAR" in result.stdout


def test_overriding_one_block_changes_only_that_block(tmp_path: Path) -> None:
    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "bluf.html.j2").write_text(
        '{% extends "builtin/sections/bluf.html.j2" %}'
        '{% block heading %}<h2 id="{{ section.anchor }}">The short of it</h2>{% endblock %}'
    )
    case = load_case(MINIMAL)
    aud = load_audiences()["analyst"]
    before = render_html(build_view(case, aud))
    after = render_html(build_view(case, aud), [tmp_path])

    def tags(html: str) -> list[str]:
        return [t for t in re.split(r"\s*(<[^>]+>)\s*", html) if t.strip()]

    changed = [
        line
        for line in difflib.unified_diff(tags(before), tags(after), lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == [
        '-<span class="secno">',
        "-1",
        "-</span>",
        "-Bottom line",
        "+The short of it",
    ]


def test_a_profile_may_not_reach_outside_its_folder(tmp_path: Path) -> None:
    (tmp_path / "leaky.yaml").write_text(
        "name: leaky\ndescription: tries to read a file elsewhere\nsections: [cover]\nmarking: CLEAR\n"
        "branding:\n  logo: ../../../../etc/passwd\n"
    )
    with pytest.raises(CaseInvalid) as info:
        load_audiences([tmp_path])
    (err,) = info.value.errors
    assert err.path.endswith("leaky.yaml") and err.line == 6
    assert "inside the profile's folder" in err.message


def test_user_profile_builds_letter_pages_with_footnotes(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "desk.yaml").write_text(
        "name: desk\ndescription: a desk officer's copy\nsections: [cover, bluf, timeline, endnotes]\n"
        "marking: GREEN\npage_size: Letter\ncitations: footnotes\n"
        "branding:\n  organisation: Example Desk\n  accent: '#7a1f5c'\n"
    )
    out = tmp_path / "out"
    result = run_cli("build", str(MINIMAL), "--audiences", str(profiles), "--audience", "desk", "--out", str(out))
    assert result.returncode == 0, result.stderr
    html = (out / "minimal" / "desk.html").read_text()
    assert "size: Letter" in html and "Example Desk" in html and 'class="fn"' in html
    import pypdf

    page = pypdf.PdfReader(out / "minimal" / "desk.pdf").pages[0]
    assert round(float(page.mediabox.width)) == 612  # US Letter, 8.5 in
    assert re.search(r"TLP:GREEN", page.extract_text() or "")
