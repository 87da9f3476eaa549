"""Loading and validating: the minimal case loads; mistakes are located precisely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MINIMAL, MINIMAL_ARCHIVE, ROOT, run_cli

from briefgen import load_case
from briefgen.errors import CaseInvalid


def errors_of(path: Path) -> list[str]:
    with pytest.raises(CaseInvalid) as info:
        load_case(path)
    return [e.format() for e in info.value.errors]


def test_minimal_case_loads() -> None:
    case = load_case(MINIMAL)
    assert case.id == "minimal"
    assert [p.id for p in case.info.parties] == ["north", "south"]
    assert len(case.events) == 3 and len(case.motives) == 2
    assert len(case.fingerprint) == 64
    assert case.index()["m1"].shared == case.index()["m2"].shared == "elections"


def test_fingerprint_follows_content(case_copy: Path) -> None:
    before = load_case(case_copy).fingerprint
    p = case_copy / "events.yaml"
    p.write_text(p.read_text().replace("South responded.", "South responded at once."))
    assert load_case(case_copy).fingerprint != before


def test_wrong_value_is_located_at_the_value(case_copy: Path) -> None:
    p = case_copy / "motives.yaml"
    text = p.read_text().replace("salience: high", "salience: huge", 1)
    p.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "salience: huge" in row)
    errs = errors_of(case_copy)
    assert len(errs) == 1
    assert errs[0].startswith(f"{case_copy / 'motives.yaml'}:{line}:15: 'huge' is not allowed for 'salience'")
    assert "'high', 'medium' or 'low'" in errs[0]


def test_unknown_key_suggests_the_right_one(case_copy: Path) -> None:
    p = case_copy / "events.yaml"
    p.write_text(p.read_text().replace("    location: Border", "    locaton: Border"))
    (err,) = errors_of(case_copy)
    assert "unknown field 'locaton'; did you mean 'location'?" in err
    assert "events.yaml:9:5:" in err


def test_missing_field_and_dangling_reference(case_copy: Path) -> None:
    p = case_copy / "motives.yaml"
    p.write_text(p.read_text().replace("    confidence: low\n", "", 1))
    errs = errors_of(case_copy)
    assert any("required field 'confidence' is missing" in e for e in errs)
    # References are checked once the files validate.
    p.write_text(p.read_text().replace("    salience: medium\n", "    salience: medium\n    confidence: low\n"))
    q = case_copy / "events.yaml"
    q.write_text(q.read_text().replace("parties: [south]", "parties: [sout]"))
    errs = errors_of(case_copy)
    assert len(errs) == 1 and "no party has the id 'sout'; did you mean 'south'?" in errs[0]


def test_a_shared_group_needs_two_parties_each_once(case_copy: Path) -> None:
    p = case_copy / "motives.yaml"
    text = p.read_text()
    p.write_text(text.replace("    party: south\n", "    party: north\n"))
    errs = errors_of(case_copy)
    assert any("'north' already has a motive in the shared group 'elections' (line 10)" in e for e in errs)
    assert any("no other party's motive is in the shared group 'elections'" in e for e in errs)
    p.write_text(text.replace("    shared: elections\n", "    mirror: m2\n", 1))
    err, alone = errors_of(case_copy)
    assert "no other party's motive is in the shared group" in alone
    assert "'mirror' is no longer used: give every motive of a shared group the same 'shared: <name>'" in err


def test_date_precision_must_match_the_date(case_copy: Path) -> None:
    p = case_copy / "events.yaml"
    p.write_text(p.read_text().replace("{date: 2024-01-18, precision: day}", "{date: 2024-01, precision: day}"))
    (err,) = errors_of(case_copy)
    assert "precision 'day' needs a full date YYYY-MM-DD" in err


@pytest.mark.parametrize("written", ["2024", '"2024"', "'2024'"])
def test_a_bare_year_is_a_date_quoted_or_not(case_copy: Path, written: str) -> None:
    p = case_copy / "events.yaml"
    p.write_text(p.read_text().replace("{date: 2024-01-16, precision: day}", f"{{date: {written}, precision: year}}"))
    event = load_case(case_copy).events[0]
    assert event.when.date == "2024" and event.when.precision == "year"


def test_all_errors_of_all_files_in_one_run(case_copy: Path) -> None:
    (case_copy / "events.yaml").write_text(
        (case_copy / "events.yaml").read_text().replace("kind: strike", "kind: bombing", 1)
    )
    (case_copy / "sources.yaml").write_text(
        (case_copy / "sources.yaml").read_text().replace("reliability: B", "reliability: Z")
    )
    errs = errors_of(case_copy)
    assert len(errs) == 2
    assert errs == sorted(errs)


def test_archive_check_finds_every_excerpt_and_flags_an_edited_one(case_copy: Path) -> None:
    ok = run_cli("check", str(MINIMAL), "--archive", str(MINIMAL_ARCHIVE))
    assert ok.returncode == 0, ok.stderr
    assert "every excerpt found in the archive" in ok.stdout
    p = case_copy / "events.yaml"
    p.write_text(p.read_text().replace('excerpt: "South responded"', 'excerpt: "South responded firmly"'))
    bad = run_cli("check", str(case_copy), "--archive", str(MINIMAL_ARCHIVE))
    assert bad.returncode == 1
    assert "excerpt not found in the archived text of 's2'" in bad.stderr
    assert "events.yaml:26:31:" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_archive_check_tolerates_quote_dash_and_space_variants(case_copy: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "s1.txt").write_text(
        "North  and South\nstepped back. North fired missiles and at least two people died."
    )
    (archive / "s2.txt").write_text("South responded in kind. Both sides stepped back on Monday.")
    p = case_copy / "case.yaml"
    p.write_text(p.read_text().replace('excerpt: "stepped back"', 'excerpt: "North and South stepped back"'))
    assert run_cli("check", str(case_copy), "--archive", str(archive)).returncode == 0


def test_check_exit_codes_and_no_weasyprint_import() -> None:
    assert run_cli("check", "no/such/case").returncode == 1
    assert run_cli("check", "--no-such-option").returncode == 2
    code = (
        f"import sys; from briefgen.cli import main; rc = main(['check', {str(MINIMAL)!r}, '-q']);"
        "print(rc, 'weasyprint' in sys.modules, 'jinja2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.split() == ["0", "False", "False"], out.stderr


def test_a_file_is_read_again_for_places_only_when_a_problem_needs_them() -> None:
    from briefgen.facts.yamlread import parse_text

    doc = parse_text("a:\n  - 1\n  - x: two\n", "f.yaml")
    assert doc.data == {"a": [1, {"x": "two"}]}
    assert doc._places is None  # a file without problems is read once, without places
    assert doc.locate(("a", 1, "x")) == (3, 8)
    assert doc.locate(("a", 1, "x"), key=True) == (3, 5)
    with pytest.raises(CaseInvalid) as caught:
        parse_text("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert [(e.line, e.col) for e in caught.value.errors] == [(3, 1)]
    assert "first given at line 1" in caught.value.errors[0].message


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("2024-01-16", "2024-01-16"),
        ("2024", 2024),
        ("-3", -3),
        ("1.5e-3", 0.0015),
        ("-1E-5", -1e-05),
        ("0x1F", 31),
        ("1-2", "1-2"),
        ("null", None),
        ("nothing", "nothing"),
        ("True", True),
        ("tRue", "tRue"),
        ("no", "no"),
        (".inf", float("inf")),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(written: str, read: object) -> None:
    from briefgen.facts.yamlread import parse_text

    value = parse_text(f"v: {written}\n", "f.yaml").data["v"]
    assert value == read and type(value) is type(read)
