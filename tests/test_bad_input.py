"""Every kind of bad input ends in exit 1 and located, plain-language messages, never a traceback.

Each test breaks a copy of the minimal case one way and runs the real command line, as a
user would. Messages have the form ``path:line:col: message`` (line and column 0 when a
whole folder is meant), and are checked for the right line and for words that tell the
analyst what to do.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import MINIMAL, run_cli

from briefgen import cli
from briefgen.errors import CaseInvalid
from briefgen.facts import yamlread as yamlsafe

LOCATED = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")


def located(stderr: str) -> list[tuple[str, int, int, str]]:
    """The ``path:line:col: message`` lines of a run's error output."""
    out = []
    for line in stderr.splitlines():
        m = LOCATED.match(line)
        if m:
            out.append((m["path"], int(m["line"]), int(m["col"]), m["message"]))
    return out


def assert_clean_failure(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "internal error" not in proc.stderr


def expect_error(
    proc: subprocess.CompletedProcess[str], path: Path | str, line: int | None, *words: str
) -> tuple[str, int, int, str]:
    """Assert exit 1, no traceback, and an error at ``path:line`` whose message holds ``words``."""
    assert_clean_failure(proc)
    errors = located(proc.stderr)
    assert errors, proc.stderr
    for err in errors:
        if err[0] == str(path) and (line is None or err[1] == line) and all(w.lower() in err[3].lower() for w in words):
            return err
    raise AssertionError(f"no error at {path}:{line} mentioning {words!r} in:\n{proc.stderr}")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, fragment: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if fragment in line:
            return n
    raise AssertionError(f"{fragment!r} not in {path}")


def check(case: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("check", str(case))


def build_html(case: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("build", str(case), "--audience", "dossier", "--format", "html", "--out", str(out))


# ---------------------------------------------------------------- YAML itself


def test_yaml_syntax_error_is_located_and_explained(case_copy: Path, tmp_path: Path) -> None:
    f = case_copy / "events.yaml"
    edit(f, "title: North strikes South", "title: North: strikes South")
    line = line_of(f, "title: North: strikes")
    for proc in (check(case_copy), build_html(case_copy, tmp_path / "out")):
        path, _, col, msg = expect_error(proc, f, line, "syntax", "quotes")
        assert col > 1
    assert not (tmp_path / "out").exists(), "a failed build must write nothing"


def test_unclosed_bracket(case_copy: Path) -> None:
    f = case_copy / "actors.yaml"
    edit(f, "aliases: [The Army of the North]", "aliases: [The Army of the North")
    expect_error(check(case_copy), f, None, "syntax")


def test_tab_indentation(case_copy: Path) -> None:
    f = case_copy / "events.yaml"
    edit(f, "    title: South strikes back", "\ttitle: South strikes back")
    line = line_of(f, "\ttitle: South strikes back")
    expect_error(check(case_copy), f, line, "tab", "spaces")


def test_duplicate_key(case_copy: Path, tmp_path: Path) -> None:
    f = case_copy / "case.yaml"
    edit(f, "edition: 2\n", "edition: 2\nmarking: AMBER\n")
    first = line_of(f, "marking: GREEN")
    second = line_of(f, "marking: AMBER")
    for proc in (check(case_copy), build_html(case_copy, tmp_path / "out")):
        expect_error(proc, f, max(first, second), "duplicate key 'marking'", f"line {min(first, second)}")
    assert not (tmp_path / "out").exists()


def test_custom_python_tag_is_refused_and_never_run(case_copy: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    f = case_copy / "events.yaml"
    edit(f, "title: South strikes back", f'title: !!python/object/apply:os.system ["touch {marker}"]')
    line = line_of(f, "python/object")
    expect_error(check(case_copy), f, line, "tag", "not allowed")
    edit(f, f'!!python/object/apply:os.system ["touch {marker}"]', "!!python/object:builtins.dict {}")
    expect_error(check(case_copy), f, line, "tag", "not allowed")
    edit(f, "!!python/object:builtins.dict {}", "!secret x")
    expect_error(check(case_copy), f, line, "tag '!secret'", "plain text")
    assert not marker.exists()


def test_control_character(case_copy: Path) -> None:
    f = case_copy / "events.yaml"
    edit(f, "summary: South responded.", "summary: South\x01 responded.")
    expect_error(check(case_copy), f, line_of(f, "South\x01"), "U+0001", "delete it")


@pytest.mark.parametrize("escape", [r"\0", r"\ud800", r"\U00110000"])
def test_escapes_naming_forbidden_characters(case_copy: Path, escape: str) -> None:
    """Escapes in double quotes must not smuggle in characters that break later stages."""
    f = case_copy / "events.yaml"
    edit(f, "summary: South responded.", f'summary: "South {escape} responded."')
    expect_error(check(case_copy), f, line_of(f, "South \\"), "character")


def test_number_too_long(case_copy: Path) -> None:
    f = case_copy / "events.yaml"
    edit(f, "best: 2", "best: " + "9" * 5000)
    expect_error(check(case_copy), f, line_of(f, "best: 999"), "too long")


# ---------------------------------------------------------------- fields and types


def test_unknown_key_suggests_the_right_one(case_copy: Path, tmp_path: Path) -> None:
    f = case_copy / "events.yaml"
    edit(f, "    location: Border", "    locaton: Border")
    line = line_of(f, "locaton")
    for proc in (check(case_copy), build_html(case_copy, tmp_path / "out")):
        expect_error(proc, f, line, "unknown field 'locaton'", "did you mean 'location'")


def test_wrong_type(case_copy: Path) -> None:
    f = case_copy / "case.yaml"
    edit(f, "edition: 2", "edition: second")
    expect_error(check(case_copy), f, line_of(f, "edition:"), "'edition'", "whole number")


def test_list_where_text_expected(case_copy: Path) -> None:
    f = case_copy / "motives.yaml"
    edit(f, "title: Elections too", "title: [Elections, too]")
    expect_error(check(case_copy), f, line_of(f, "title: [Elections"), "'title'", "text")


def test_missing_required_field(case_copy: Path) -> None:
    f = case_copy / "motives.yaml"
    edit(
        f,
        "    salience_reason: because\n    description: Elections are near too.",
        "    description: Elections are near too.",
    )
    err = expect_error(check(case_copy), f, None, "required field 'salience_reason'")
    assert 12 <= err[1] <= 14, err  # at the motive that lacks it (the second one)


@pytest.mark.parametrize("word", ["NO", "no", "yes", "on", "Off", "y"])
def test_yaml11_booleans_stay_text_so_a_flag_errors(case_copy: Path, word: str) -> None:
    """Documented: YAML 1.2 core; yes/no/on/off are text, so a true/false field refuses them."""
    f = case_copy / "events.yaml"
    edit(f, "    location: Border", f"    location: Border\n    upcoming: {word}")
    expect_error(check(case_copy), f, line_of(f, "upcoming:"), "'upcoming'", "true or false", repr(word))


def test_yaml11_boolean_word_in_a_text_field_is_kept(case_copy: Path, tmp_path: Path) -> None:
    f = case_copy / "events.yaml"
    edit(f, "    location: Border", "    location: NO")
    assert check(case_copy).returncode == 0
    proc = build_html(case_copy, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "demo" / "dossier.html").read_text(encoding="utf-8")
    assert ">NO<" in html or " NO" in html


def test_version_number_in_a_text_field_needs_quotes(case_copy: Path) -> None:
    """``3.10`` unquoted is the number 3.1; a text field says so and asks for quotes."""
    f = case_copy / "events.yaml"
    edit(f, "title: South strikes back", "title: 3.10")
    err = expect_error(check(case_copy), f, line_of(f, "title: 3.10"), "'title'", "must be text", "number", "quotes")
    assert err[2] == len("    title: ") + 1


def test_bare_date_in_a_text_field_stays_text(case_copy: Path, tmp_path: Path) -> None:
    """Documented: dates are read as text and parsed by the models, so a bare date is fine as a title."""
    f = case_copy / "events.yaml"
    edit(f, "title: South strikes back", "title: 2024-01-18")
    assert check(case_copy).returncode == 0
    assert build_html(case_copy, tmp_path / "out").returncode == 0
    html = (tmp_path / "out" / "demo" / "dossier.html").read_text(encoding="utf-8")
    assert "2024-01-18" in html


def test_impossible_dates(case_copy: Path) -> None:
    case_file = case_copy / "case.yaml"
    events = case_copy / "events.yaml"
    edit(case_file, "as_of: 2024-02-06", "as_of: 2024-02-30")
    edit(events, "date: 2024-01-18,", "date: 2024-02-30,")
    proc = check(case_copy)
    expect_error(proc, case_file, line_of(case_file, "as_of"), "2024-02-30", "not a real calendar date")
    expect_error(proc, events, line_of(events, "2024-02-30"), "2024-02-30", "not a real calendar date")


def test_invalid_choice_lists_the_allowed_ones(case_copy: Path) -> None:
    f = case_copy / "events.yaml"
    edit(f, "kind: diplomatic", "kind: diplomacy")
    expect_error(check(case_copy), f, line_of(f, "kind: diplomacy"), "'diplomacy' is not allowed", "'diplomatic'")


# ---------------------------------------------------------------- references and ids


def test_dangling_reference(case_copy: Path, tmp_path: Path) -> None:
    f = case_copy / "events.yaml"
    edit(f, "actors: [north-army]", "actors: [north-armee]")
    line = line_of(f, "north-armee")
    for proc in (check(case_copy), build_html(case_copy, tmp_path / "out")):
        expect_error(proc, f, line, "no actor has the id 'north-armee'", "did you mean 'north-army'")


def test_reference_to_the_wrong_kind(case_copy: Path) -> None:
    f = case_copy / "actors.yaml"
    edit(f, "party: north", "party: e1")
    expect_error(check(case_copy), f, line_of(f, "party: e1"), "'e1' is a event", "party")


def test_duplicate_ids_across_files(case_copy: Path) -> None:
    extra = case_copy / "events-extra.yaml"
    extra.write_text(
        "events:\n"
        "  - id: m1\n"
        "    when: {date: 2024-01-20, precision: day}\n"
        "    title: Another event\n"
        "    summary: Something else.\n"
        "    kind: other\n"
        "    citations: [{source: s1, excerpt: stepped back, credibility: 2}]\n"
        "    verification: {status: unverified}\n",
        encoding="utf-8",
    )
    proc = check(case_copy)
    motives = case_copy / "motives.yaml"
    first_at = (str(motives), line_of(motives, "id: m1"))
    # Items are registered kind by kind, so either copy may be the one reported: the
    # message must name both places.
    errors = [e for e in located(proc.stderr) if "id 'm1' is already used" in e[3]]
    assert_clean_failure(proc)
    assert len(errors) == 1, proc.stderr
    path, line, _, msg = errors[0]
    places = {(path, line), tuple(re.search(r"\((.+):(\d+)\)", msg).groups())}  # type: ignore[union-attr]
    assert {(p, int(n)) for p, n in places} == {first_at, (str(extra), 2)}, proc.stderr


# ---------------------------------------------------------------- files and encodings


@pytest.mark.parametrize("content", [b"", b"\n\n", b"# nothing yet\n", b"---\n"])
def test_empty_file(case_copy: Path, content: bytes) -> None:
    f = case_copy / "judgments.yaml"
    f.write_bytes(content)
    expect_error(check(case_copy), f, 1, "empty")


def test_file_not_utf8(case_copy: Path) -> None:
    f = case_copy / "motives.yaml"
    raw = f.read_bytes().replace(b"Elections too", "Élections too".encode("latin-1"))
    f.write_bytes(raw)
    line = raw.split(b"\n").index(b"    title: \xc9lections too") + 1
    err = expect_error(check(case_copy), f, line, "0xc9", "UTF-8")
    assert err[2] == len("    title: ") + 1


def test_utf16_file(case_copy: Path) -> None:
    f = case_copy / "motives.yaml"
    f.write_bytes(f.read_text(encoding="utf-8").encode("utf-16"))
    expect_error(check(case_copy), f, 1, "UTF-16", "UTF-8")


def test_byte_order_mark(case_copy: Path) -> None:
    f = case_copy / "motives.yaml"
    f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())
    expect_error(check(case_copy), f, 1, "byte-order mark", "without BOM")


def test_enormous_file_is_refused_before_parsing(case_copy: Path) -> None:
    f = case_copy / "events-huge.yaml"
    line = b"# " + b"x" * 1021 + b"\n"  # 1 KiB of comment per line
    with f.open("wb") as fh:
        fh.write(b"events: []\n")
        for _ in range(yamlsafe.MAX_FILE_BYTES // len(line) + 10):
            fh.write(line)
    assert f.stat().st_size > yamlsafe.MAX_FILE_BYTES
    expect_error(check(case_copy), f, 1, f"{yamlsafe.MAX_FILE_BYTES:,}-byte limit", "split it")


def test_deep_nesting(case_copy: Path) -> None:
    f = case_copy / "events.yaml"
    depth = yamlsafe.MAX_DEPTH + 10
    edit(f, "location: Border", "location: " + "[" * depth + "x" + "]" * depth)
    expect_error(check(case_copy), f, line_of(f, "location: [[["), f"deeper than {yamlsafe.MAX_DEPTH}")


def test_deep_block_nesting(case_copy: Path) -> None:
    f = case_copy / "judgments.yaml"
    lines = ["judgments:"] + [" " * (2 * i) + f"k{i}:" for i in range(1, yamlsafe.MAX_DEPTH + 5)] + ["  " * 50 + "x: 1"]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expect_error(check(case_copy), f, None, "deeper than")


def billion_laughs(levels: int = 9, width: int = 10) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_at_once(case_copy: Path) -> None:
    text = billion_laughs()
    with pytest.raises(CaseInvalid) as info:
        yamlsafe.parse_text(text, "bomb.yaml")
    assert "alias bomb" in info.value.errors[0].message

    f = case_copy / "judgments.yaml"
    f.write_text("judgments: []\n" + text.replace("a0:", "x0:"), encoding="utf-8")
    expect_error(check(case_copy), f, None, "alias bomb")


def test_too_many_aliases(case_copy: Path) -> None:
    f = case_copy / "judgments.yaml"
    f.write_text("a: &a x\nb: [" + ", ".join(["*a"] * (yamlsafe.MAX_ALIASES + 1)) + "]\n", encoding="utf-8")
    expect_error(check(case_copy), f, 2, f"more than {yamlsafe.MAX_ALIASES} aliases")


def test_self_containing_alias(case_copy: Path) -> None:
    f = case_copy / "judgments.yaml"
    f.write_text("judgments: &j [*j]\n", encoding="utf-8")
    expect_error(check(case_copy), f, 1, "alias '*j'", "part of")


def test_unknown_file_name(case_copy: Path) -> None:
    f = case_copy / "event.yaml"
    f.write_text("events: []\n", encoding="utf-8")
    expect_error(check(case_copy), f, 1, "did you mean events.yaml")


# ---------------------------------------------------------------- folders


def test_case_folder_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-case"
    for proc in (check(missing), build_html(missing, tmp_path / "out")):
        expect_error(proc, missing, 0, "does not exist")
    assert not (tmp_path / "out").exists()


def test_case_folder_without_facts(tmp_path: Path) -> None:
    empty = tmp_path / "empty-case"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a fact file\n", encoding="utf-8")
    expect_error(check(empty), empty, 0, "holds no fact files")


def test_case_folder_without_case_yaml(case_copy: Path) -> None:
    (case_copy / "case.yaml").unlink()
    expect_error(check(case_copy), case_copy, 0, "no case.yaml")


def test_case_folder_with_a_weird_name(tmp_path: Path) -> None:
    weird = tmp_path / "my case; rm -rf"
    shutil.copytree(MINIMAL, weird)
    out = tmp_path / "out"
    for proc in (check(weird), build_html(weird, out)):
        expect_error(proc, weird, 0, "case folder name")
    assert not out.exists()


def test_output_folder_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("precious\n", encoding="utf-8")
    # Under a regular file nothing can be created, even by root.
    for out in (blocker, blocker / "sub"):
        proc = build_html(MINIMAL, out)
        assert_clean_failure(proc)
        assert str(blocker) in proc.stderr
        assert "cannot write" in proc.stderr and "--out" in proc.stderr
    assert blocker.read_text(encoding="utf-8") == "precious\n"


# ---------------------------------------------------------------- reporting


def test_all_errors_reported_together_and_sorted(case_copy: Path, tmp_path: Path) -> None:
    motives = case_copy / "motives.yaml"
    events = case_copy / "events.yaml"
    case_file = case_copy / "case.yaml"
    edit(motives, "salience: medium", "salience: huge")
    edit(events, "kind: diplomatic", "kind: diplomacy")
    edit(events, "    title: North strikes South", "    title: North strikes South\n    title: again")
    edit(case_file, "edition: 2", "edition: two")
    for proc in (check(case_copy), build_html(case_copy, tmp_path / "out")):
        assert_clean_failure(proc)
        errors = located(proc.stderr)
        paths = [e[0] for e in errors]
        assert {str(case_file), str(events), str(motives)} <= set(paths), proc.stderr
        keys = [(e[0], e[1], e[2]) for e in errors]
        assert keys == sorted(keys), proc.stderr
        assert "problems found" in proc.stderr


def test_internal_error_prints_a_short_bug_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import briefgen.facts.loader

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("simulated defect")

    monkeypatch.setattr(briefgen.facts.loader, "check_references", broken)
    assert cli.main(["check", str(MINIMAL)]) == cli.EXIT_BUG
    err = capsys.readouterr().err
    assert "internal error" in err and "simulated defect" in err and "bug" in err
    assert "Traceback" not in err
    assert len(err.splitlines()) <= 5

    assert cli.main(["check", "--verbose", str(MINIMAL)]) == cli.EXIT_BUG
    err = capsys.readouterr().err
    assert "Traceback" in err and "simulated defect" in err
