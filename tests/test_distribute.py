"""`briefgen distribute`: one layout per audience, a stamped copy per recipient, a register.

One real distribution (module fixture) to five recipients, hostile names included,
feeds most tests. Tests that need another run reuse its briefing layouts (whose
determinism test_briefing checks) so the suite stays quick; the stamp layouts in
those runs are real.

Whether a name has characters no installed font can draw depends on the machine (a
system font such as Droid Sans Fallback draws CJK), so the test decides at run time
which character none of this machine's fonts draws, and puts it in the name.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import MINIMAL, run_cli
from pypdf import PdfReader

import briefgen.output.pdf
from briefgen import cli
from briefgen.errors import CaseInvalid, OutputError
from briefgen.output.distribute import (
    DistributeOptions,
    DistributionReport,
    copy_path,
    distribute,
    load_list,
)
from briefgen.output.stamp import STAMP_EDGE_MM, STAMP_FONT_PT, STAMP_LINE_MM, Stamp, stamp_html

# Private-use and unassigned code points: fonts almost never draw them (the check below
# makes sure of it on this machine).
CANDIDATES = ["\ue000", "\U0010fffd", "\U000f0000", "\u0378", "\uf8ff"]


@functools.cache
def undrawable() -> str:
    """A character that no font on this machine can draw, as WeasyPrint sees it."""
    from pypdf.generic import NameObject

    real = briefgen.output.pdf.render_pdf_counted  # (before any test replaces it)
    for c in CANDIDATES:
        data, _ = real(f"<!DOCTYPE html><html><body><p>x{c}x</p></body></html>", tagged=False)
        fonts = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"]
        # WeasyPrint gives a font an encoding of its own exactly when a glyph was missing.
        if any(not isinstance(f.get_object().get("/Encoding"), NameObject) for f in fonts.values()):
            return c
    pytest.skip("every candidate character is drawn by some font on this machine")


def undrawable_name() -> str:
    return "Ьорис Ωμέγα 李雷 " + undrawable()  # Cyrillic and Greek: the packaged font; the rest maybe none


TITLES = {"analyst": "Demo crisis — Analyst edition", "executive": "Demo crisis — Executive summary"}


def recipients() -> list[tuple[str, str, str, str | None]]:
    return [
        # name, organisation, audience (analyst: 7 pages, executive: 2), marking
        ("Alice Smith", "Foreign Office", "analyst", "RED"),
        ("../../x", "/etc/passwd", "executive", None),
        ("<b>Bob</b> & {{ 7*7 }}", "Ops & Co", "executive", None),
        (undrawable_name(), "Zentrum", "analyst", None),
        ("Zoë Ørsted-Ωμέγα Ьорис", '=HYPERLINK("x")', "executive", "AMBER+STRICT"),
    ]


def tree(out: Path) -> dict[str, bytes]:
    """Every file under ``out`` as a reader finds it: through the ``distribution`` link,
    not in the run folders it points at."""
    found = {}
    for folder, dirs, files in os.walk(out, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            path = Path(folder) / f
            found[path.relative_to(out).as_posix()] = path.read_bytes()
    return found


def _yaml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # JSON strings are YAML double-quoted strings


def write_list(folder: Path, people: list[tuple[str, str, str, str | None]] | None = None, extra: str = "") -> Path:
    lines = ["case: demo", "edition_label: Edition 2 (final)", extra, "recipients:"]
    for name, org, audience, marking in recipients() if people is None else people:
        lines.append(f"  - name: {_yaml_str(name)}")
        lines.append(f"    organisation: {_yaml_str(org)}")
        lines.append(f"    audience: {audience}")
        if marking:
            lines.append(f"    marking: {marking}")
    path = folder / "list.yaml"
    path.write_text("\n".join(line for line in lines if line) + "\n", encoding="utf-8")
    return path


@dataclass
class Run:
    folder: Path
    list_path: Path
    out: Path
    report: DistributionReport
    layouts: list[str]
    """The HTML of every layout that ran, in order (briefings and stamp documents)."""
    cache: dict[str, tuple[bytes, int]]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder = tmp_path_factory.mktemp("dist")
    shutil.copytree(MINIMAL, folder / "demo")
    list_path = write_list(folder)  # (decides the undrawable character first, outside the count)
    real = briefgen.output.pdf.render_pdf_counted
    layouts: list[str] = []
    cache: dict[str, tuple[bytes, int]] = {}

    def counting(html: str, **kw: Any) -> tuple[bytes, int]:
        layouts.append(html)
        result = real(html, **kw)
        cache[html] = result
        return result

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(briefgen.output.pdf, "render_pdf_counted", counting)
        report = distribute(list_path, DistributeOptions(out=folder / "out"))
    yield Run(folder, list_path, folder / "out", report, layouts, cache)


@pytest.fixture
def cached_briefings(run: Run, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Reuse the fixture run's briefing layouts; stamp documents are still laid out for real."""
    real = briefgen.output.pdf.render_pdf_counted
    calls: list[str] = []

    def reuse(html: str, **kw: Any) -> tuple[bytes, int]:
        calls.append(html)
        return run.cache[html] if _is_briefing(html) else real(html, **kw)

    monkeypatch.setattr(briefgen.output.pdf, "render_pdf_counted", reuse)
    return calls


def _is_briefing(html: str) -> bool:
    return 'name="briefgen-audience"' in html


def _pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


# ---------------------------------------------------------------- the copies


def test_each_audience_is_laid_out_once_per_marking(run: Run) -> None:
    briefings = [h for h in run.layouts if _is_briefing(h)]
    # analyst at AMBER and at RED (Alice's copy), executive at AMBER and AMBER+STRICT (Zoë's)
    assert len(briefings) == 4 == len(set(briefings))
    markings = sorted(re.search(r'name="briefgen-marking" content="([^"]+)"', h)[1] for h in briefings)  # type: ignore[index]
    assert markings == ["TLP:AMBER", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]
    # Stamps: one document per briefing for all its plain names (three here), and one of
    # its own for the name no font can draw.
    assert len(run.layouts) - len(briefings) == 4
    assert len(run.report.copies) == 5


def test_every_page_of_every_copy_is_stamped(run: Run) -> None:
    by_name = {c.recipient: c for c in run.report.copies}
    assert [(c.copy, c.copies) for c in run.report.copies] == [(1, 2), (1, 3), (2, 3), (2, 2), (3, 3)]
    for name, org, audience, marking in recipients():
        c = by_name[name]
        texts = _pages(run.out / c.file)
        assert len(texts) == c.pages > 0
        expected_marking = marking or "AMBER"  # the minimal case's briefings are AMBER
        assert c.marking == f"TLP:{expected_marking}"
        tail = f"Copy {c.copy} of {c.copies} · Edition 2 (final) · TLP:{expected_marking}"
        for text in texts:
            assert text.count(tail) == 2  # top and bottom edge
            # The page's own banners (top and bottom margin) say what the stamp says.
            assert text.count(f"TLP:{expected_marking}") >= 4, text
            if name != undrawable_name():
                assert text.count(f"Prepared for {name} ({org}) · {tail}") == 2
            else:
                # pypdf cannot decode the re-encoded font of a name with undrawable
                # characters (poppler can); the metadata carries it in full.
                assert "Prepared for" in text
        meta = PdfReader(run.out / c.file).metadata
        assert meta is not None
        assert meta.title == TITLES[audience]  # the briefing's own, kept
        assert f"Copy {c.copy} of {c.copies}, prepared for {name} ({org})" in (meta.subject or "")
        assert name in (meta.get("/Keywords") or "")


def test_undrawable_name_warns_and_others_are_untouched(run: Run) -> None:
    assert len(run.report.warnings) == 1 and undrawable_name() in run.report.warnings[0]
    # The name with characters the packaged fonts lack got its own stamp layout, so every
    # other copy's fonts keep the plain encoding (fully searchable).
    for c in run.report.copies:
        if c.recipient != undrawable_name():
            fonts = PdfReader(run.out / c.file).pages[0]["/Resources"]["/XObject"]["/BriefgenStamp"]["/Resources"][
                "/Font"
            ]
            assert all(f.get_object()["/Encoding"] == "/Identity-H" for f in fonts.values())


def test_hostile_names_are_text_not_markup(run: Run) -> None:
    bob = next(c for c in run.report.copies if c.recipient.startswith("<b>"))
    text = _pages(run.out / bob.file)[0]
    assert "Prepared for <b>Bob</b> & {{ 7*7 }} (Ops & Co)" in text  # literally: not bold, not 49
    html = stamp_html([Stamp("<b>Bob</b> & {{ 7*7 }}", "<script>x</script>", 1, 1, "E", "RED")], 595)
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; {{ 7*7 }}" in html
    assert "<script>" not in html and "<b>" not in html


def test_files_stay_inside_the_output_folder(run: Run) -> None:
    out = run.out.resolve()
    inputs = {run.list_path, *(run.folder / "demo").iterdir()}
    written = [p for p in run.folder.rglob("*") if p.is_file() and p not in inputs]
    assert written and all(p.resolve().is_relative_to(out) for p in written)
    assert set(tree(run.out)) == {c.file for c in run.report.copies} | {
        "demo/distribution/register.csv",
        "demo/distribution/register.json",
    }
    # One run, one folder, reached through the link.
    (link,) = [p for p in (run.out / "demo").iterdir() if not p.name.startswith(".distribution-")]
    assert link.name == "distribution" and link.is_symlink()
    (folder,) = [p for p in (run.out / "demo").iterdir() if p.name.startswith(".distribution-")]
    assert link.resolve() == folder.resolve() and not os.path.isabs(os.readlink(link))
    assert not list(run.out.rglob(".*.tmp"))  # no leftovers of atomic writes


@pytest.mark.parametrize(
    "name",
    ["../../etc", "/etc/passwd", "a/b\\c", "nul\0byte", "..", ".", "", "x" * 5000, "C:\\Windows", "~/.ssh/id"],
)
def test_copy_path_never_climbs_out(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    path = copy_path(out, "demo", "analyst", 7, 120, name)
    assert path.parent == out / "demo" / "distribution" / "analyst"
    assert path.name.startswith("copy-007-") and path.suffix == ".pdf"
    assert "/" not in path.name and "\0" not in path.name and ".." not in path.name
    assert len(path.name) <= 120


def test_a_symlinked_folder_cannot_lead_outside(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "demo").symlink_to(tmp_path)  # would land the copies beside `out`
    with pytest.raises(OutputError, match="outside the output folder"):
        copy_path(out, "demo", "analyst", 1, 1, "Alice")


# ---------------------------------------------------------------- the register


def test_register_matches_the_files(run: Run) -> None:
    folder = run.out / "demo" / "distribution"
    rows = list(csv.DictReader(io.StringIO((folder / "register.csv").read_text(encoding="utf-8"))))
    data = json.loads((folder / "register.json").read_text(encoding="utf-8"))
    assert data["case"] == "demo" and data["edition"] == 2 and data["edition_label"] == "Edition 2 (final)"
    assert data["list"] == "list.yaml"
    assert data["list_sha256"] == hashlib.sha256(run.list_path.read_bytes()).hexdigest()
    assert len(rows) == len(data["copies"]) == 5
    for row, entry, (name, org, audience, _) in zip(rows, data["copies"], recipients(), strict=True):
        assert entry["recipient"] == name and entry["organisation"] == org and entry["audience"] == audience
        digest = hashlib.sha256((run.out / entry["file"]).read_bytes()).hexdigest()
        assert entry["sha256"] == row["sha256"] == digest
        assert row["file"] == entry["file"] and int(row["copy"]) == entry["copy"]
        assert int(row["copies"]) == entry["copies"] and row["marking"] == entry["marking"]
        # Spreadsheets must not run a name as a formula.
        assert row["organisation"] == (org if not org.startswith("=") else "'" + org)
    assert len({e["sha256"] for e in data["copies"]}) == 5


# ---------------------------------------------------------------- reruns and failures


def test_rerun_gives_identical_bytes(
    run: Run, tmp_path: Path, cached_briefings: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the command line this time (in-process, so the layouts can be counted)."""
    out = tmp_path / "again"
    assert cli.main(["distribute", str(run.list_path), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "5 copies of 2 briefings written" in printed.out
    assert "warning" in printed.err and undrawable_name() in printed.err
    assert sum(map(_is_briefing, cached_briefings)) == 4  # two audiences, each at two markings
    before, after = tree(run.out), tree(out)
    assert before == after
    ids = {PdfReader(io.BytesIO(b)).trailer["/ID"][0] for k, b in after.items() if k.endswith(".pdf")}
    assert len(ids) == 5  # each copy its own identifier


def test_failure_midway_leaves_the_previous_set(
    run: Run, tmp_path: Path, cached_briefings: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that fails after writing some copies leaves the previous complete set (copies
    and register) as it was, and no trace of its own."""
    import briefgen.output.distribute as distribution

    real = distribution.write_atomic
    written: list[Path] = []

    def flaky(path: Path, data: bytes, marking: str | None = None) -> None:
        if "copy-002-" in path.name and "analyst" in path.parts:
            raise OutputError(f"{path}: cannot write: No space left on device")
        real(path, data, marking)
        written.append(path)

    monkeypatch.setattr(distribution, "write_atomic", flaky)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="No space left"):  # a first run: nothing before it
        distribute(run.list_path, DistributeOptions(out=out))
    assert any(p.name == "copy-001-Alice-Smith.pdf" for p in written)  # written, then dropped
    assert tree(out) == {} and list((out / "demo").iterdir()) == []

    shutil.rmtree(out)
    shutil.copytree(run.out, out, symlinks=True)  # a complete earlier run
    with pytest.raises(OutputError, match="No space left"):
        distribute(run.list_path, DistributeOptions(out=out))
    assert tree(out) == tree(run.out)
    assert len([p for p in (out / "demo").iterdir() if p.name.startswith(".distribution-")]) == 1


# ---------------------------------------------------------------- invalid lists


def test_invalid_list_exits_1_with_location(tmp_path: Path) -> None:
    shutil.copytree(MINIMAL, tmp_path / "demo")
    path = tmp_path / "list.yaml"
    path.write_text(
        "case: demo\nrecipients:\n  - name: Alice\n    organisation: FO\n    audience: analyst\n    nmae: typo\n"
        "  - name: Bob\n    audience: nobody-here\n",
        encoding="utf-8",
    )
    result = run_cli("distribute", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    assert f"{path}:6:5: unknown field 'nmae'" in result.stderr
    assert f"{path}:7:5: required field 'organisation' is missing" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_recipient_marking_below_the_briefing_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(MINIMAL, tmp_path / "demo")
    path = write_list(tmp_path, [("Alice", "FO", "analyst", "RED"), ("Bob", "FO", "analyst", "GREEN")])

    def no_layout(*a: Any, **kw: Any) -> None:
        raise AssertionError("nothing may be laid out when the list is wrong")

    monkeypatch.setattr(briefgen.output.pdf, "render_pdf_counted", no_layout)
    with pytest.raises(CaseInvalid) as exc:
        distribute(path, DistributeOptions(out=tmp_path / "out"))
    (error,) = exc.value.errors
    assert (error.line, error.col) == (11, 14)
    assert "TLP:GREEN is less restrictive than the analyst briefing's own marking TLP:AMBER" in error.message
    assert not (tmp_path / "out").exists()


def test_duplicates_unknown_audiences_and_missing_case(tmp_path: Path) -> None:
    path = write_list(
        tmp_path,
        [("Alice", "FO", "analyst", None), ("alice ", "fo", "analyst", None), ("Alice", "FO", "nobody", None)],
    )
    with pytest.raises(CaseInvalid) as exc:
        load_list(path)
    assert [e.format() for e in exc.value.errors] == [
        f"{path}:7:5: alice (fo) is already on the list for the analyst edition (line 4)"
    ]
    path = write_list(tmp_path, [("Alice", "FO", "nobody", None)])
    with pytest.raises(CaseInvalid) as exc:
        distribute(path, DistributeOptions(out=tmp_path / "out"))
    messages = sorted(e.format() for e in exc.value.errors)
    assert messages[0].startswith(f"{path}:1:7: case folder not found")
    assert messages[1] == f"{path}:6:15: unknown audience 'nobody'; available: analyst, dossier, executive, public"


def test_names_with_control_characters_are_rejected(tmp_path: Path) -> None:
    path = write_list(tmp_path, [("Eve\u202eevil", "FO", "analyst", None)])
    with pytest.raises(CaseInvalid, match="1 problem") as exc:
        load_list(path)
    (error,) = exc.value.errors
    assert (error.line, error.col) == (4, 11) and "U+202E" in error.message


def test_stamp_sits_clear_of_the_running_heads() -> None:
    # The briefing's TLP boxes, title and page numbers begin 8 mm from the page edge.
    assert STAMP_EDGE_MM + STAMP_LINE_MM < 8
    assert STAMP_FONT_PT >= 7


def test_help_has_examples() -> None:
    result = run_cli("distribute", "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "briefgen distribute lists/board.yaml" in result.stdout


def test_a_briefing_with_very_large_arrays_is_still_stamped(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """A case of thousands of items lays out PDFs holding arrays past pypdf 7's guard
    against hostile files (100,000 entries); briefgen's own briefing is read without it."""
    import contextlib

    import pypdf
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, NameObject, NumberObject

    from briefgen.output import stamp as stamping

    briefing = next(data for html, (data, _) in run.cache.items() if _is_briefing(html))
    writer = PdfWriter(clone_from=io.BytesIO(briefing))
    writer._root_object[NameObject("/BriefgenLarge")] = ArrayObject(NumberObject(i) for i in range(150_000))
    buffer = io.BytesIO()
    writer.write(buffer)
    large = buffer.getvalue()
    stamp = Stamp("Ana Lyst", "Desk", 1, 1, "Edition 1", "GREEN")

    (copy,) = stamping.stamp_copies(large, [stamp])
    with stamping._own_pdf():
        reader = PdfReader(io.BytesIO(copy))
        assert len(reader.pages) == len(PdfReader(io.BytesIO(briefing)).pages)
        assert "Prepared for Ana Lyst (Desk)" in reader.pages[0].extract_text()
    if hasattr(pypdf, "apply_configuration"):  # the guard is real: without lifting it, pypdf refuses
        monkeypatch.setattr(stamping, "_own_pdf", contextlib.nullcontext)
        with pytest.raises(pypdf.errors.LimitReachedError):
            stamping.stamp_copies(large, [stamp])
