"""`briefgen new`: the scaffolded case is complete, valid, verifiable against its archive,
builds at once, and odd or hostile party names and occupied folders are handled."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import run_cli

from briefgen import cli
from briefgen.briefing.view import contrast
from briefgen.editing.scaffold import PALETTE, parse_parties, plan_parties, q, scaffold, slugify
from briefgen.errors import UsageError
from briefgen.facts.loader import load_case
from briefgen.facts.models.files import FILE_KINDS
from briefgen.facts.yamlread import parse_text

AS_OF = dt.date(2031, 3, 15)


@pytest.fixture(scope="module")
def new_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scaffolded case, shared by the read-only tests below."""
    folder = tmp_path_factory.mktemp("facts") / "demo-case"
    scaffold(folder, ["Northland", "Southland"], as_of=AS_OF)
    return folder


def test_every_kind_of_file_and_item_is_there(new_case: Path) -> None:
    names = {p.name for p in new_case.glob("*.yaml")}
    assert names == {f"{kind}.yaml" for kind in FILE_KINDS}
    case = load_case(new_case)
    for kind in ("sources", "actors", "events", "motives", "rationales", "judgments",
                 "assessments", "reactions", "claims", "indicators"):  # fmt: skip
        assert getattr(case, kind), f"no example {kind}"
    info = case.info
    assert info.bluf and info.overview and info.outlook
    assert {kf.compute for kf in info.key_figures} == {"stated", "days_between", "killed", "injured"}
    assert any(e.casualties and e.casualties.killed and e.casualties.injured for e in case.events)
    assert any(e.when.resolved_from and e.when.resolved_against and e.when.resolution for e in case.events)
    assert any(e.upcoming for e in case.events)
    assert {m.party for m in case.motives if m.shared == "example-elections"} == {"northland", "southland"}
    assert any(e.key for e in case.events) and all(j.time_frame for j in case.judgments)
    assert any(s.errata for s in case.sources)
    assert {i.marking for i in case.judgments} >= {None, "AMBER"}
    assert [p.id for p in info.parties] == ["northland", "southland"]


def test_every_file_points_at_the_packaged_schema(new_case: Path) -> None:
    for path in new_case.glob("*.yaml"):
        first, second = path.read_text(encoding="utf-8").splitlines()[:2]
        assert first.startswith("# yaml-language-server: $schema=")
        ref = first.split("$schema=", 1)[1]
        assert not ref.startswith("file:"), "a relative path is expected on one drive"
        target = (new_case / ref).resolve()
        assert target.is_file(), target
        assert target.name == f"{path.stem}.schema.json"
        assert "EXAMPLE" in second


def test_fields_are_commented(new_case: Path) -> None:
    """The first time each key appears in the case, a comment explains it (same line or above)."""
    seen: set[str] = set()
    for kind in FILE_KINDS:
        lines = (new_case / f"{kind}.yaml").read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^\s*(?:- )?([a-z_]+):", line)
            if not m or m.group(1) in seen:
                continue
            seen.add(m.group(1))
            assert "  # " in line or lines[i - 1].lstrip().startswith("#"), f"{kind}.yaml:{i + 1}: {line.strip()}"
    assert len(seen) > 60


def test_example_text_says_it_is_an_example(new_case: Path) -> None:
    for path in (new_case / "archive").iterdir():
        assert path.read_text(encoding="utf-8").startswith("EXAMPLE SOURCE TEXT, invented")
    case = load_case(new_case)
    for e in case.events:
        assert e.title.startswith("Example"), e.title
    for j in case.judgments:
        assert j.statement.startswith("Example"), j.statement
    assert case.info.bluf[0].text.startswith("**Example:**")


def test_check_with_archive_passes(new_case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", str(new_case), "--archive", str(new_case / "archive")]) == 0
    assert "ok" in capsys.readouterr().out


def test_html_builds_for_every_audience(new_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli.main(["build", "-q", str(new_case), "--format", "html", "--out", str(out)]) == 0
    built = sorted(p.name for p in (out / new_case.name).glob("*.html"))
    assert built == ["analyst.html", "dossier.html", "executive.html", "public.html"]
    public = (out / new_case.name / "public.html").read_text(encoding="utf-8")
    assert "Example: an internal judgment" not in public  # AMBER: never in the CLEAR release
    analyst = (out / new_case.name / "analyst.html").read_text(encoding="utf-8")
    assert "Example: an internal judgment" in analyst


def test_pdf_builds_for_one_audience(new_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = cli.main(["build", "-q", str(new_case), "--audience", "executive", "--format", "pdf", "--out", str(out)])
    assert code == 0
    pdf = out / new_case.name / "executive.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_cli_creates_the_case_and_says_what_next(tmp_path: Path) -> None:
    target = tmp_path / "facts" / "new-case"
    proc = run_cli("new", str(target), "--parties", "Northland,Southland", "--title", "Border test")
    assert proc.returncode == 0, proc.stderr
    assert "briefgen check" in proc.stdout and "--archive" in proc.stdout
    assert load_case(target).info.title == "Border test"


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", encoding="utf-8")
    proc = run_cli("new", str(target), "--parties", "A,B")
    assert proc.returncode == 2
    assert "not empty" in proc.stderr and "Traceback" not in proc.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert (target / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".briefgen-new")]


def test_an_empty_existing_folder_is_used(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    scaffold(target, ["A", "B"], as_of=AS_OF)
    assert (target / "case.yaml").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--parties", "Northland"], "at least two"),
        (["--parties", "A,,B"], "empty"),
        (["--parties", "A,a"], "given twice"),
        (["--parties", ",".join(f"P{i}" for i in range(9))], "at most 8"),
        (["--parties", "A,B\x07"], "control characters"),
        (["--parties", "A,B\u202eC"], "direction"),
        (["--parties", "A,B\ufffe"], "control characters"),
    ],
)
def test_unusable_parties_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    proc = run_cli("new", str(tmp_path / "c"), *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert not (tmp_path / "c").exists()


def test_a_bad_folder_name_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("new", str(tmp_path / "my case"), "--parties", "A,B")
    assert proc.returncode == 2 and "folder" in proc.stderr


def test_quoted_names_with_commas() -> None:
    assert parse_parties('"A, B",C') == ["A, B", "C"]
    assert parse_parties('"Northland, Inc.", Southland') == ["Northland, Inc.", "Southland"]
    with pytest.raises(UsageError):
        parse_parties('"A,B')


def test_ids_are_derived_safely() -> None:
    parties = plan_parties(["../x", "Северия", "南国", "Ünïcödé Land", "example-party", "x"])
    assert [p.id for p in parties] == ["x", "party-2", "party-3", "unicode-land", "party-example-party", "x-2"]
    assert parties[1].name == "Северия"
    assert slugify("../../etc/passwd") == "etc-passwd"
    # Words and numbers a YAML reader would not take as text get a prefix.
    assert [p.id for p in plan_parties(["true", "123", "No", "2024-01-16"])] == [
        "party-true",
        "party-123",
        "party-no",
        "party-2024-01-16",
    ]
    long = plan_parties(["The Very Long Official Name of the Northern Federation of States", "B"])[0]
    assert len(long.short_name) <= 40 and len(long.id) <= 40


def test_hostile_names_stay_text_and_stay_inside(tmp_path: Path) -> None:
    names = ["../x", 'He said "no": #1 \\ ok', "true", "2024-01-16", "*bold* <b>x</b> & {{ 7*7 }}", "Северия", "null"]
    target = tmp_path / "odd"
    scaffold(target, names, title="Title: with # and 'quotes'", as_of=AS_OF)
    case = load_case(target)
    assert [p.name for p in case.info.parties] == names
    assert case.info.title == "Title: with # and 'quotes'"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd"]  # nothing written outside
    assert cli.main(["check", "-q", str(target), "--archive", str(target / "archive")]) == 0
    out = tmp_path / "out"
    assert cli.main(["build", "-q", str(target), "--audience", "public", "--format", "html", "--out", str(out)]) == 0
    html = (out / "odd" / "public.html").read_text(encoding="utf-8")
    assert "<b>x</b>" not in html  # escaped: names are data
    assert "{{ 7*7 }}" in html  # printed as written: fact text is never run as a template


def test_q_round_trips_through_the_strict_reader() -> None:
    for value in ['a "b" \\ c', "tab\there", "line\u2028sep", "\U0001f600 emoji", "zero\u200bwidth", "#: -"]:
        doc = parse_text(f"key: {q(value)}\n", "t.yaml")
        assert doc.data == {"key": value}


def test_palette_is_accessible_and_distinct() -> None:
    assert len(set(PALETTE)) == len(PALETTE)
    for colour in PALETTE:
        assert contrast(colour, "#ffffff") >= 4.5, colour


def test_same_inputs_give_the_same_files(tmp_path: Path) -> None:
    a, b = tmp_path / "one" / "case", tmp_path / "two" / "case"
    scaffold(a, ["A", "B", "C"], as_of=AS_OF)
    scaffold(b, ["A", "B", "C"], as_of=AS_OF)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes()


def test_every_field_is_shown_at_least_once(new_case: Path) -> None:
    """The scaffold is the example of the whole format: every field of every fact model is
    set somewhere (the fields every item shares, on at least one item)."""
    from pydantic import BaseModel

    from briefgen.docgen import documented_models
    from briefgen.facts.models import ITEM_KINDS, Item

    case = load_case(new_case)
    used: set[tuple[str, str]] = set()

    def walk(obj: object) -> None:
        if isinstance(obj, BaseModel):
            for name in obj.model_fields_set:
                used.add((type(obj).__name__, name))
                if isinstance(obj, Item):
                    used.add(("Item", name))
            for name in type(obj).model_fields:
                walk(getattr(obj, name))
        elif isinstance(obj, list):
            for x in obj:
                walk(x)

    walk(case.info)
    for kind in ITEM_KINDS:
        walk(getattr(case, kind))
    fact_models = [m for m in documented_models() if m.__module__.startswith("briefgen.facts.models")]
    missing = []
    for model in fact_models:
        if model.__name__.endswith("File") and model.__name__ != "CaseFile":
            continue  # the list files' single key
        for name in model.model_fields:
            shared = issubclass(model, Item) and name in Item.model_fields
            if (("Item" if shared else model.__name__), name) not in used:
                missing.append(f"{model.__name__}.{name}")
    assert not missing, f"briefgen new shows no example of: {', '.join(missing)} (add one in briefgen/scaffold.py)"


def test_three_parties_read_right_and_each_has_events(tmp_path: Path) -> None:
    """With three parties the example names all three, shares one motive among them, and
    gives every party an event of its own; a long name's id is cut between words."""
    from briefgen.editing.scaffold import scaffold

    long = "Eastland Federation of United Provinces of the East"
    case_dir = tmp_path / "three"
    scaffold(case_dir, ["Northland", "Southland", long])
    case = load_case(case_dir)
    ids = [p.id for p in case.info.parties]
    assert ids == ["northland", "southland", "eastland-federation-of-united-provinces"]
    bluf = case.info.bluf[0].text
    assert "Northland, Southland and Eastland Federation of United Provinces stepped back" in bluf
    assert {m.party for m in case.motives if m.shared == "example-elections"} == set(ids)
    for pid in ids:
        assert any(pid in e.parties and len(e.parties) == 1 for e in case.events), pid
