"""briefgen diff: what changed between two versions of a case, in the terminal, as JSON,
between git revisions, and in the briefing's "What changed since edition N" section."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import MINIMAL, run_cli

from briefgen.briefing.changes import change_lines
from briefgen.editing.revisions import CaseSpec, load_spec, parse_spec
from briefgen.errors import CaseInvalid, UsageError
from briefgen.facts.diff import diff_cases, human_path, render_text, short_pair
from briefgen.facts.loader import load_case

NEW_EVENT = """  - id: e4
    when: {date: 2024-01-25, precision: day}
    title: North strikes again
    summary: North fired again.
    kind: strike
    parties: [north]
    citations:
      - {source: s1, excerpt: "North fired missiles", credibility: 2}
    verification: {status: unverified}
"""


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def make_three_changes(case: Path) -> None:
    """One changed casualty figure, one new event, one judgment moved from likely to very likely."""
    replace_once(case / "events.yaml", "        best: 2\n", "        best: 3\n        high: 3\n")
    with (case / "events.yaml").open("a", encoding="utf-8") as fh:
        fh.write(NEW_EVENT)
    replace_once(case / "judgments.yaml", "    likelihood: likely\n", "    likelihood: very likely\n")


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """(old, new): two copies of the minimal case, the new one with the three changes."""
    old = tmp_path / "old" / "demo"
    new = tmp_path / "new" / "demo"
    shutil.copytree(MINIMAL, old)
    shutil.copytree(MINIMAL, new)
    make_three_changes(new)
    return old, new


# ---------------------------------------------------------------- library


def test_diff_cases_reports_exactly_the_three_changes(pair: tuple[Path, Path]) -> None:
    old, new = pair
    diff = diff_cases(load_case(old), load_case(new))
    got = [(c.kind, c.id, c.status, [(f.path, f.old, f.new) for f in c.fields]) for c in diff.changes]
    assert got == [
        ("judgment", "kj-hold", "changed", [("likelihood", "likely", "very likely")]),
        ("event", "e1", "changed", [("casualties.killed.best", 2, 3), ("casualties.killed.high", None, 3)]),
        ("event", "e4", "added", []),
    ]
    assert (diff.count("added"), diff.count("removed"), diff.count("changed")) == (1, 0, 2)


def test_identical_cases_have_no_changes(pair: tuple[Path, Path]) -> None:
    old, _ = pair
    diff = diff_cases(load_case(old), load_case(MINIMAL))
    assert not diff
    assert render_text(diff) == ["no changes (edition 2)"]
    assert change_lines(diff) == []


def test_removed_items_and_front_matter(case_copy: Path) -> None:
    old = load_case(MINIMAL)
    replace_once(case_copy / "case.yaml", "edition: 2", "edition: 3")
    replace_once(
        case_copy / "case.yaml",
        "  - text: North and South **stepped back** after two strikes.",
        "  - text: North and South **stepped back** after two strikes, for now.",
    )
    replace_once(case_copy / "case.yaml", "label: Killed in the first strike", "label: Killed in the opening strike")
    # Remove the motive m2 (and m1's share in their group, which needs two parties).
    motives = (case_copy / "motives.yaml").read_text(encoding="utf-8")
    motives = motives.replace("    shared: elections\n", "")
    motives = motives[: motives.index("  - id: m2")]
    (case_copy / "motives.yaml").write_text(motives, encoding="utf-8")
    diff = diff_cases(old, load_case(case_copy))
    summary = [(c.kind, c.id, c.status, [f.path for f in c.fields]) for c in diff.changes]
    assert summary == [
        ("case", "demo", "changed", ["edition", "bluf[1].text"]),
        ("key figure", "kf-killed", "changed", ["label"]),
        ("motive", "m1", "changed", ["shared"]),
        ("motive", "m2", "removed", []),
    ]
    rows = change_lines(diff)
    # The edition is the section's heading, not a row; the bottom line is.
    assert rows[0].what == "Case: Demo crisis"
    assert "edition" not in rows[0].detail.lower()
    assert rows[0].detail.startswith("Bottom line paragraph 1: ")
    assert [r.kind for r in rows] == ["changed", "changed", "changed", "removed"]
    assert rows[-1].detail == "Removed since edition 2."


def test_verification_churn_is_ignored_unless_asked(case_copy: Path) -> None:
    replace_once(case_copy / "events.yaml", "checked_on: 2024-02-01", "checked_on: 2024-02-05")
    old, new = load_case(MINIMAL), load_case(case_copy)
    assert not diff_cases(old, new)
    full = diff_cases(old, new, include_verification=True)
    assert [(c.id, [(f.path, f.old, f.new) for f in c.fields]) for c in full.changes] == [
        ("e1", [("verification.checked_on", "2024-02-01", "2024-02-05")])
    ]
    # A real verification change is not churn.
    replace_once(
        case_copy / "events.yaml",
        "    verification: {status: unverified}\n  - id: e3",
        "    verification: {status: disputed, checked_by: X, checked_on: 2024-02-05}\n  - id: e3",
    )
    paths = [f.path for c in diff_cases(old, load_case(case_copy)).changes for f in c.fields]
    assert paths == ["verification.status"]


def test_change_lines_wording(pair: tuple[Path, Path]) -> None:
    old, new = pair
    rows = change_lines(diff_cases(load_case(old), load_case(new)))
    assert [(r.kind, r.what) for r in rows] == [
        ("changed", "Judgment: The calm will likely hold for weeks."),
        ("changed", "Event: North strikes South"),
        ("added", "Event: North strikes again"),
    ]
    assert rows[0].detail == "Likelihood: likely → very likely."
    assert rows[1].detail == "Killed (best): 2 → 3; killed (high): none → 3."
    assert rows[2].detail == "New event (dated 2024-01-25)."


def test_change_lines_leave_out_items_above_the_marking(case_copy: Path) -> None:
    replace_once(case_copy / "judgments.yaml", "likelihood: roughly even chance", "likelihood: unlikely")
    diff = diff_cases(load_case(MINIMAL), load_case(case_copy))
    assert [c.marking for c in diff.changes] == ["AMBER"]
    assert len(change_lines(diff)) == 1
    assert change_lines(diff, max_marking="GREEN") == []


def test_casualty_reports_are_compared_per_source(case_copy: Path) -> None:
    replace_once(case_copy / "events.yaml", 'figure: "at least two"', 'figure: "at least three"')
    diff = diff_cases(load_case(MINIMAL), load_case(case_copy))
    (change,) = diff.changes
    assert [(f.path, f.old, f.new) for f in change.fields] == [
        ("casualties.killed.reports[s1].figure", "at least two", "at least three")
    ]
    assert change_lines(diff)[0].detail == "Killed as reported by s1 (figure): at least two → at least three."


def test_human_paths_and_shortening() -> None:
    assert human_path("casualties.injured.low") == "injured (low)"
    assert human_path("when.date") == "date"
    assert human_path("citations[s2].excerpt") == "citation of s2 (excerpt)"
    assert human_path("overview[2].text") == "overview paragraph 2"
    base = "word " * 30
    old, new = short_pair(base + "hold for weeks. " + base, base + "hold for months. " + base, 40)
    assert "weeks" in old and "months" in new and old.startswith("…") and len(old) <= 42


# ---------------------------------------------------------------- command line


def test_cli_diff_lists_the_three_changes(pair: tuple[Path, Path]) -> None:
    old, new = pair
    r = run_cli("diff", str(old), str(new))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "~ judgment kj-hold: likelihood likely → very likely",
        "~ event e1: casualties.killed.best 2 → 3",
        "~ event e1: casualties.killed.high none → 3",
        '+ event e4 "North strikes again"',
        "3 items differ: 1 added, 0 removed, 2 changed (edition 2)",
    ]


def test_cli_diff_json(pair: tuple[Path, Path]) -> None:
    old, new = pair
    r = run_cli("diff", str(old), str(new), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["counts"] == {"added": 1, "removed": 0, "changed": 2}
    assert [(c["kind"], c["id"], c["status"]) for c in data["changes"]] == [
        ("judgment", "kj-hold", "changed"),
        ("event", "e1", "changed"),
        ("event", "e4", "added"),
    ]
    assert data["changes"][0]["fields"] == [{"path": "likelihood", "old": "likely", "new": "very likely"}]
    # Same inputs, same bytes.
    assert run_cli("diff", str(old), str(new), "--json").stdout == r.stdout


def test_cli_diff_invalid_side_exits_1_with_located_errors(pair: tuple[Path, Path]) -> None:
    old, new = pair
    replace_once(new / "judgments.yaml", "    likelihood: very likely\n", "    likelihood: probable\n")
    r = run_cli("diff", str(old), str(new))
    assert r.returncode == 1
    assert r.stdout == ""
    assert re.search(r"judgments\.yaml:\d+:\d+: 'probable' is not allowed for 'likelihood'", r.stderr), r.stderr


def test_cli_diff_usage_errors_exit_2(pair: tuple[Path, Path]) -> None:
    old, _ = pair
    assert run_cli("diff", str(old)).returncode == 2
    r = run_cli("diff", str(old), ":nothing")
    assert r.returncode == 2 and "REV:PATH" in r.stderr


def test_build_with_previous_shows_the_changes_section(pair: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = pair
    out = tmp_path / "out"
    r = run_cli(
        "build", str(new), "--previous", str(old), "--audience", "analyst", "--format", "html", "--out", str(out)
    )
    assert r.returncode == 0, r.stderr
    page = (out / "demo" / "analyst.html").read_text(encoding="utf-8")
    section = _section(page, "section-changes")
    assert section["heading"].endswith("What changed since edition 2")
    assert section["rows"] == [
        ["Changed", "Judgment: The calm will likely hold for weeks.", "Likelihood: likely → very likely."],
        ["Changed", "Event: North strikes South", "Killed (best): 2 → 3; killed (high): none → 3."],
        ["Added", "Event: North strikes again", "New event (dated 2024-01-25)."],
    ]
    # Without --previous there is no such section.
    r = run_cli("build", str(new), "--audience", "analyst", "--format", "html", "--out", str(tmp_path / "out2"))
    assert r.returncode == 0, r.stderr
    assert "section-changes" not in (tmp_path / "out2" / "demo" / "analyst.html").read_text(encoding="utf-8")


class _SectionParser(HTMLParser):
    """Collects the heading text and table rows of one <section class="... NAME">."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.depth = 0
        self.heading = ""
        self.rows: list[list[str]] = []
        self.in_h2 = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class") or ""
        if tag == "section" and (self.depth or self.name in cls.split()):
            self.depth += 1
        if not self.depth:
            return
        if tag == "h2":
            self.in_h2 = True
        elif tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if not self.depth:
            return
        if tag == "section":
            self.depth -= 1
        elif tag == "h2":
            self.in_h2 = False
        elif tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.in_h2:
            self.heading += data
        elif self.cell is not None:
            self.cell.append(data)


def _section(page: str, name: str) -> dict[str, object]:
    p = _SectionParser(name)
    p.feed(page)
    return {"heading": " ".join(p.heading.split()), "rows": [r for r in p.rows if r]}


# ---------------------------------------------------------------- git revisions


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent),
    }  # fmt: skip
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding facts/demo (the minimal case) at HEAD, then the three
    changes made in the working tree (not committed)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    shutil.copytree(MINIMAL, root / "facts" / "demo")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "edition 2")
    make_three_changes(root / "facts" / "demo")
    return root


def test_git_revision_against_working_tree(repo: Path) -> None:
    r = run_cli("diff", "HEAD:facts/demo", "facts/demo", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "3 items differ: 1 added, 0 removed, 2 changed (edition 2)"
    assert "~ judgment kj-hold: likelihood likely → very likely" in r.stdout
    # Paths are as typed from the current folder, also inside the repository.
    r = run_cli("diff", "HEAD:demo", "demo", cwd=repo / "facts")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1].startswith("3 items differ")


def test_git_revisions_on_both_sides(repo: Path) -> None:
    _git(repo, "commit", "-q", "-am", "edition 2, revised")
    r = run_cli("diff", "HEAD~1:facts/demo", "HEAD:facts/demo", "--json", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["counts"] == {"added": 1, "removed": 0, "changed": 2}


def test_git_revision_errors(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A broken old revision: located at REV:PATH/file:line:col, exit 1.
    (repo / "facts" / "demo" / "events.yaml").write_text("events: [\n", encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "broken")
    r = run_cli("diff", "HEAD:facts/demo", "HEAD~1:facts/demo", cwd=repo)
    assert r.returncode == 1
    assert re.search(r"^HEAD:facts/demo/events\.yaml:\d+:\d+: ", r.stderr, re.M), r.stderr
    # No such folder at that revision: exit 1; no such revision: exit 2.
    assert run_cli("diff", "HEAD:facts/other", "facts/demo", cwd=repo).returncode == 1
    r = run_cli("diff", "no-such-tag:facts/demo", "facts/demo", cwd=repo)
    assert r.returncode == 2 and "no-such-tag" in r.stderr
    # In-process: the temporary copy is gone afterwards, and an option-like revision is refused.
    monkeypatch.chdir(repo)
    case = load_spec(parse_spec("HEAD~1:facts/demo"))
    assert case.id == "demo" and not case.root.exists()
    with pytest.raises(UsageError):
        parse_spec("--output=x:facts/demo")
    with pytest.raises(CaseInvalid):
        load_spec(CaseSpec(Path("facts/demo"), "HEAD"))
