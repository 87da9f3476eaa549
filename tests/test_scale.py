"""What makes large cases load fast: the parse cache and parallel parsing. Both must give
exactly the case (and exactly the errors, at the same places) that a plain load gives."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest
from conftest import DEFAULT_CASE, MINIMAL
from hypothesis import given, settings
from hypothesis import strategies as st

from briefgen import loader, parsecache
from briefgen.errors import CaseInvalid
from briefgen.loader import load_case

# ASCII (where the shortcut applies), whitespace, and the characters normalising changes.
TEXT_CHARS = "ab `'\"-\t\n\x1c\u2019\u201c\u2014\u00a0\u200be\u0301\u00e9"


def entries(folder: Path, what: str = "parsed") -> list[Path]:
    """The cache's entries of parsed data (``parsed``) or of file indexes (``index``); ``*`` both."""
    return sorted(folder.glob(f"{what}/*/*.pickle"))


def dump(case_dir: Path) -> dict[str, object]:
    case = load_case(case_dir)
    return {k: [i.model_dump() for i in getattr(case, k)] for k in loader.ITEM_KINDS} | {
        "info": case.info.model_dump(),
        "fingerprint": case.fingerprint,
    }


def errors_of(case_dir: Path) -> list[str]:
    with pytest.raises(CaseInvalid) as exc:
        load_case(case_dir)
    return [f"{e.path}:{e.line}:{e.col}: {e.message}" for e in exc.value.errors]


def test_cached_load_gives_the_same_case(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFGEN_CACHE_DIR", "off")
    plain = dump(DEFAULT_CASE)
    monkeypatch.setenv("BRIEFGEN_CACHE_DIR", str(cache))
    first = dump(DEFAULT_CASE)
    n = len(list(DEFAULT_CASE.glob("*.yaml")))
    assert len(entries(cache)) == n
    inodes = [p.stat().st_ino for p in entries(cache)]
    second = dump(DEFAULT_CASE)  # from the cache: nothing new written
    assert [p.stat().st_ino for p in entries(cache)] == inodes  # read, not rewritten
    assert plain == first == second


def test_small_files_are_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFGEN_CACHE_DIR", str(tmp_path / "c"))
    load_case(MINIMAL)  # every file is far below MIN_BYTES
    assert not (tmp_path / "c").exists()


def test_errors_are_located_the_same_from_the_cache(cache: Path, case_copy: Path) -> None:
    events = case_copy / "events.yaml"
    text = events.read_text(encoding="utf-8")
    # A type error (validation) and a dangling reference (found after validation).
    broken = text.replace("precision: day", "precision: fortnight", 1)
    assert broken != text
    events.write_text(broken, encoding="utf-8")
    first = errors_of(case_copy)
    assert entries(cache), "the file parsed cleanly, so its data is cached"
    second = errors_of(case_copy)
    assert first == second
    assert any(":" in e and "fortnight" in e for e in first), first


def test_a_damaged_or_hostile_entry_is_ignored(cache: Path, case_copy: Path) -> None:
    expected = dump(case_copy)
    for stored in entries(cache, "models"):
        stored.unlink()  # so that the parsed data is read again
    paths = entries(cache)
    assert paths
    paths[0].write_bytes(paths[0].read_bytes()[:10])  # truncated
    marker = case_copy.parent / "pwned"
    # An entry that would run code when unpickled by an ordinary Unpickler.
    paths[1].write_bytes(pickle.dumps(_Hostile(str(marker))))
    assert dump(case_copy) == expected
    assert not marker.exists()
    assert dump(case_copy) == expected  # and the bad entries were replaced


def test_a_second_load_takes_the_validated_models_from_the_cache(
    cache: Path, default_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that validated is validated once: the next load of the same bytes, by the
    same code, takes its models from the cache, and the page is the same."""
    from briefgen.audiences import load_audiences
    from briefgen.render import render_html
    from briefgen.view import build_view

    first = load_case(default_copy)
    n = len(list(default_copy.glob("*.yaml")))
    assert len(entries(cache, "models")) == n
    validated: list[str] = []
    real = loader._validate

    def spy(kind: str, doc: loader.Document) -> object:
        validated.append(Path(doc.path).name)
        return real(kind, doc)

    monkeypatch.setattr(loader, "_validate", spy)
    second = load_case(default_copy)
    assert validated == []
    for kind in loader.ITEM_KINDS:
        a, b = getattr(first, kind), getattr(second, kind)
        assert a == b, kind
        assert [i.model_fields_set for i in a] == [i.model_fields_set for i in b], kind
    assert first.info == second.info and first.fingerprint == second.fingerprint
    aud = load_audiences()["analyst"]
    assert render_html(build_view(second, aud)) == render_html(build_view(first, aud))
    events = default_copy / "events.yaml"
    events.write_text(events.read_text(encoding="utf-8") + "\n# changed bytes\n", encoding="utf-8")
    load_case(default_copy)
    assert validated == ["events.yaml"]  # only the file that changed


def test_errors_are_found_in_a_file_whose_models_came_from_the_cache(
    cache: Path, case_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source renamed in one file leaves citations dangling in files whose models come
    from the cache: each error names its place there, as a load without the cache does."""
    load_case(case_copy)
    sources = case_copy / "sources.yaml"
    text = sources.read_text(encoding="utf-8")
    assert "id: s1\n" in text
    sources.write_text(text.replace("id: s1\n", "id: s1-renamed\n", 1), encoding="utf-8")
    cached = errors_of(case_copy)
    monkeypatch.setenv("BRIEFGEN_CACHE_DIR", "off")
    assert cached == errors_of(case_copy)
    assert any("motives.yaml:" in e and ":0:0:" not in e for e in cached), cached


def test_a_forged_models_entry_is_not_trusted(cache: Path, case_copy: Path) -> None:
    """Only briefgen's own model classes (and dates) come out of a models entry, and only
    as the model of the file's kind: anything else is ignored and the file is loaded."""
    expected = dump(case_copy)
    stored = entries(cache, "models")
    assert len(stored) >= 3
    marker = case_copy.parent / "pwned"
    stored[0].write_bytes(pickle.dumps(_Hostile(str(marker))))
    other = next(p for p in stored[1:] if p.name.split(".")[1] != stored[2].name.split(".")[1])
    stored[2].write_bytes(other.read_bytes())  # a valid model, of another kind
    assert dump(case_copy) == expected
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError):
        parsecache._ModelsOnly(__import__("io").BytesIO(pickle.dumps(Path("x")))).load()


def test_models_from_other_code_are_not_used(cache: Path, case_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_case(case_copy)
    monkeypatch.setattr(parsecache, "engine_key", lambda: "another-engine")
    validated: list[str] = []
    real = loader._validate
    monkeypatch.setattr(loader, "_validate", lambda kind, doc: validated.append(kind) or real(kind, doc))
    load_case(case_copy)
    assert len(validated) == len(list(case_copy.glob("*.yaml")))


def test_files_read_ahead_give_the_same_case_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large case's files are read and hashed by a thread ahead of the load: the case,
    its fingerprint and its errors (in their order) are those of reading in turn."""
    import threading

    from briefgen import yamlsafe

    monkeypatch.setenv("BRIEFGEN_CACHE_DIR", "off")
    broken = tmp_path / DEFAULT_CASE.name
    shutil.copytree(DEFAULT_CASE, broken)
    (broken / "notes.yaml").write_text("a: b\n", encoding="utf-8")  # not a kind of fact file
    big = max(broken.glob("*.yaml"), key=lambda p: p.stat().st_size)
    monkeypatch.setattr(yamlsafe, "MAX_FILE_BYTES", big.stat().st_size - 1)  # one file too large
    events = broken / "events.yaml"
    events.write_text(events.read_text(encoding="utf-8").replace("id:", "id: [", 1), encoding="utf-8")
    results = []
    for threshold in (10**12, 0):
        monkeypatch.setattr(loader, "READ_AHEAD_MIN_BYTES", threshold)
        monkeypatch.setattr(yamlsafe, "MAX_FILE_BYTES", 10**9)
        plain = dump(DEFAULT_CASE)
        monkeypatch.setattr(yamlsafe, "MAX_FILE_BYTES", big.stat().st_size - 1)
        results.append((plain, errors_of(broken)))
        # The reading thread is gone once the files are read: the parse workers fork
        # only from a process with one thread.
        assert threading.active_count() == 1
    assert results[0] == results[1]
    errors = results[0][1]
    assert any("notes.yaml" in e for e in errors) and any(big.name in e for e in errors), errors


class _Hostile:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (Path(self.path), "x"))  # type: ignore[return-value]


def test_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsecache, "MIN_BYTES", 0)
    monkeypatch.setenv("BRIEFGEN_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    load_case(MINIMAL)
    assert not (tmp_path / "xdg").exists()
    monkeypatch.delenv("BRIEFGEN_CACHE_DIR")
    load_case(MINIMAL)
    assert list((tmp_path / "xdg" / "briefgen" / "parsed").glob("*/*.pickle"))


def test_cache_is_trimmed_oldest_first(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_case(MINIMAL)
    before = entries(cache, "*")
    assert len(before) >= 3
    oldest = min(before, key=lambda p: p.stat().st_mtime_ns)
    sizes = sum(p.stat().st_size for p in before)
    monkeypatch.setattr(parsecache, "MAX_TOTAL_BYTES", sizes - 1)
    parsecache._trim(cache)
    after = entries(cache, "*")
    assert oldest not in after and len(after) == len(before) - 1


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse every file in worker processes, without the cache."""
    monkeypatch.setenv("BRIEFGEN_CACHE_DIR", "off")
    monkeypatch.setattr(parsecache, "MIN_BYTES", 0)
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)


def test_parallel_parse_gives_the_same_case(monkeypatch: pytest.MonkeyPatch, parallel: None) -> None:
    from concurrent.futures import ProcessPoolExecutor

    submitted: list[str] = []
    real_submit = ProcessPoolExecutor.submit

    def submit(self: ProcessPoolExecutor, fn: object, *args: object) -> object:
        submitted.append(str(args[1]))
        return real_submit(self, fn, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ProcessPoolExecutor, "submit", submit)
    together = dump(DEFAULT_CASE)
    assert len(submitted) == len(list(DEFAULT_CASE.glob("*.yaml")))
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 1 << 60)
    alone = dump(DEFAULT_CASE)
    assert len(submitted) == len(list(DEFAULT_CASE.glob("*.yaml")))
    assert together == alone


def test_parallel_parse_reports_the_same_errors(
    case_copy: Path, monkeypatch: pytest.MonkeyPatch, parallel: None
) -> None:
    (case_copy / "events.yaml").write_text(
        (case_copy / "events.yaml").read_text(encoding="utf-8").replace("precision: day", "precision: fortnight", 1),
        encoding="utf-8",
    )
    (case_copy / "motives.yaml").write_text("motives:\n  - id: [unclosed\n", encoding="utf-8")
    (case_copy / "actors.yaml").write_text("actors:\n  - &a {id: x}\n  - *a\n", encoding="utf-8")  # careful reader
    together = errors_of(case_copy)
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 1 << 60)
    alone = errors_of(case_copy)
    assert together == alone
    assert any("motives.yaml:" in e for e in together), together
    assert any("fortnight" in e for e in together), together


def test_a_copied_case_shares_cache_entries(cache: Path, tmp_path: Path) -> None:
    load_case(MINIMAL)
    n = len(entries(cache))
    copy = tmp_path / "copy"
    shutil.copytree(MINIMAL, copy)
    load_case(copy)
    assert len(entries(cache)) == n  # named by content, not by path


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=TEXT_CHARS), st.data())
def test_quote_matching_shortcut_agrees_with_normalised_comparison(text: str, data: st.DataObject) -> None:
    from briefgen.textmatch import contains, normalise

    if data.draw(st.booleans()):
        start = data.draw(st.integers(0, len(text)))
        part = text[start : data.draw(st.integers(start, len(text)))]
    else:
        part = data.draw(st.text(alphabet=TEXT_CHARS, max_size=6))
    assert contains(text, part) == (normalise(part) in normalise(text))


def test_large_files_are_read_again_to_locate_late_errors(case_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dangling reference is found after validation, when a large file's text has been
    let go: the text is read again, and the error lands where it does for a small file."""
    monkeypatch.setenv("BRIEFGEN_CACHE_DIR", "off")
    events = case_copy / "events.yaml"
    text = events.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if "actors: [" in line)
    lines[n] = lines[n].replace("actors: [", "actors: [nobody-at-all, ", 1)
    events.write_text("".join(lines), encoding="utf-8")
    small = errors_of(case_copy)
    assert any(f"events.yaml:{n + 1}:" in e and "nobody-at-all" in e for e in small), small
    monkeypatch.setattr(parsecache, "MIN_BYTES", 0)  # every file counts as large
    assert errors_of(case_copy) == small


def test_survivors_are_frozen_only_in_one_shot_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    import briefgen

    monkeypatch.setattr(loader, "_FREEZE_AFTER", 0)
    gc.unfreeze()
    try:
        load_case(MINIMAL)  # library use: nothing frozen
        assert gc.get_freeze_count() == 0
        monkeypatch.setattr(briefgen, "ONE_SHOT", True)
        load_case(MINIMAL)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_cli_marks_one_shot_commands_and_resets(monkeypatch: pytest.MonkeyPatch) -> None:
    import briefgen
    from briefgen.cli import LONG_RUNNING, main

    seen: list[bool] = []
    real = loader.check_case
    monkeypatch.setattr(loader, "check_case", lambda path: seen.append(briefgen.ONE_SHOT) or real(path))
    assert {"watch", "serve"} <= LONG_RUNNING
    assert main(["check", str(MINIMAL), "-q"]) == 0
    assert seen == [True]
    assert briefgen.ONE_SHOT is False


def test_workers_are_not_forked_from_a_threaded_process() -> None:
    import threading

    assert loader.can_fork()
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not loader.can_fork()
    finally:
        stop.set()
        t.join()


def test_long_rationale_lists_run_full_width_in_print() -> None:
    """Side-by-side party columns are a grid, which WeasyPrint re-sizes on every page a
    cell spans (pages² time): long lists get a class that the print CSS lays out as blocks."""
    from briefgen.audiences import load_audiences
    from briefgen.render import render_html
    from briefgen.view import build_view

    aud = load_audiences()["analyst"]
    case = load_case(DEFAULT_CASE)
    assert 'columns-long"' not in render_html(build_view(case, aud))  # (the class; the CSS names it too)
    extra = [r.model_copy(update={"id": f"{r.id}-copy{k}"}) for k in range(3) for r in case.rationales]
    case.rationales.extend(extra)
    html = render_html(build_view(case, aud))
    assert 'class="columns parties-2 columns-long"' in html
    css = html[html.index("<style") : html.index("</style>")]
    assert ".columns-long { display: block; }" in css


def test_a_pdf_with_too_many_objects_for_one_object_stream_opens_everywhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """pydyf packs every small object into one compressed stream; past a million objects
    (a tagged PDF of a few thousand pages) poppler refuses it. Above the limit the PDF is
    written with a plain cross-reference table: same pages, same text, readable."""
    import io
    import subprocess

    import pypdf

    from briefgen import pdf as bpdf
    from briefgen.audiences import load_audiences
    from briefgen.render import render_html
    from briefgen.view import build_view

    html = render_html(build_view(load_case(MINIMAL), load_audiences()["analyst"]))
    packed, pages = bpdf.render_pdf_counted(html)
    monkeypatch.setattr(bpdf, "OBJECT_STREAM_LIMIT", 10)
    plain, pages_plain = bpdf.render_pdf_counted(html)
    assert b"/ObjStm" in packed and b"/ObjStm" not in plain
    assert pages == pages_plain
    a, b = pypdf.PdfReader(io.BytesIO(packed)), pypdf.PdfReader(io.BytesIO(plain))
    assert [p.extract_text() for p in a.pages] == [p.extract_text() for p in b.pages]
    assert a.metadata == b.metadata
    if shutil.which("pdfinfo"):  # poppler, which refuses an object stream of over a million
        for name, data in (("packed", packed), ("plain", plain)):
            path = tmp_path / f"{name}.pdf"
            path.write_bytes(data)
            info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, timeout=60)
            assert info.returncode == 0, info.stderr
            assert int(info.stdout.split("Pages:")[1].split()[0]) == pages


@pytest.fixture(params=["inline", "helper"])
def overlap(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A streamed page is written and self-checked here, or (as for a large case) by the
    page helper process, beside the rendering."""
    from briefgen import pagehelper

    if request.param == "helper":
        monkeypatch.setattr(pagehelper, "MIN_CASE_BYTES", 0)
        started: list[int] = []
        real = pagehelper.PageHelper.start.__func__  # type: ignore[attr-defined]

        def start(cls: type[pagehelper.PageHelper]) -> pagehelper.PageHelper | None:
            helper = real(cls)
            assert helper is not None
            started.append(1)
            return helper  # type: ignore[no-any-return]

        monkeypatch.setattr(pagehelper.PageHelper, "start", classmethod(start))
        request.addfinalizer(lambda: started or pytest.fail("the helper never started"))
    return str(request.param)


def test_a_streamed_html_build_is_the_rendered_page(tmp_path: Path, overlap: str) -> None:
    """An HTML output no PDF needs is rendered, checked and written in pieces: the file
    must be exactly the page that rendering it whole gives."""
    from briefgen.audiences import load_audiences
    from briefgen.build import BuildOptions, build
    from briefgen.render import render_html
    from briefgen.view import build_view

    report = build([MINIMAL], BuildOptions(out=tmp_path, formats=("html",)))
    case = load_case(MINIMAL)
    built = {o.audience: o.path for o in report.outputs}
    assert len(built) == len(load_audiences()) >= 3
    for name, aud in load_audiences().items():
        assert built[name].read_bytes() == render_html(build_view(case, aud)).encode("utf-8"), name


@pytest.mark.parametrize("formats", [("html",), ("html", "pdf")], ids=["streamed", "whole"])
def test_a_page_that_fails_the_self_check_is_not_written(
    tmp_path: Path, formats: tuple[str, ...], overlap: str
) -> None:
    from briefgen.build import BuildOptions, build

    out = tmp_path / "out"
    build([MINIMAL], BuildOptions(out=out, formats=("html",), audiences=("executive",)))
    page = next(out.rglob("executive.html"))
    before = page.read_bytes()
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "briefing.html.j2").write_text(
        '{% extends "builtin/briefing.html.j2" %}{% block body %}{{ super() }}<script>x()</script>{% endblock %}',
        encoding="utf-8",
    )
    options = BuildOptions(out=out, formats=formats, audiences=("executive",), templates=(templates,), force=True)
    with pytest.raises(CaseInvalid) as exc:
        build([MINIMAL], options)
    assert any("failed a safety check: <script> element present" in e.message for e in exc.value.errors)
    assert page.read_bytes() == before
    assert not list(page.parent.glob(".*.tmp")), "a temporary file was left behind"


def test_streamed_pages_are_put_in_place_only_when_every_output_succeeded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overlap: str
) -> None:
    """Streamed pages go to temporary files as they render; when a later output fails,
    they are removed and the earlier outputs stay as they were."""
    from briefgen import render
    from briefgen.build import BuildOptions, build

    out = tmp_path / "out"
    build([MINIMAL], BuildOptions(out=out, formats=("html",)))
    pages = sorted(out.rglob("*.html"))
    before = {p: p.read_bytes() for p in pages}
    assert len(pages) >= 3
    real = render.render_pieces
    temps_seen: list[list[Path]] = []

    def failing_third(view: object, user_dirs: object = ()) -> object:
        temps_seen.append(sorted(pages[0].parent.glob(".*.tmp")))
        if len(temps_seen) == 3:
            raise OSError(28, "No space left on device")
        return real(view, user_dirs)  # type: ignore[arg-type]

    monkeypatch.setattr(render, "render_pieces", failing_third)
    with pytest.raises(OSError):
        build([MINIMAL], BuildOptions(out=out, formats=("html",), force=True))
    assert [len(t) for t in temps_seen] == [0, 1, 2], "pages were not written as they rendered"
    assert {p: p.read_bytes() for p in pages} == before
    assert not list(pages[0].parent.glob(".*.tmp")), "a temporary file was left behind"


def _frame(kind: bytes, data: bytes = b"") -> bytes:
    return kind + len(data).to_bytes(8, "big") + data


def test_the_page_helper_writes_hashes_and_checks_each_page(tmp_path: Path) -> None:
    import hashlib
    import io
    import json

    from briefgen.pagehelper import serve

    good, bad = tmp_path / "good.tmp", tmp_path / "bad.tmp"
    good.write_bytes(b"left over from before")  # (the helper writes the file from its start)
    bad.touch()
    pieces = ['<p id="a">caf\u00e9 ', '\u201cquoted\u201d</p><a href="#a">back</a>']
    wire = _frame(b"P", bytes(good)) + b"".join(_frame(b"D", p.encode()) for p in pieces) + _frame(b"E")
    wire += _frame(b"P", bytes(bad)) + _frame(b"D", b"<p><script>x</script></p>") + _frame(b"E")
    wire += _frame(b"P", bytes(tmp_path)) + _frame(b"D", b"<p>x</p>") + _frame(b"E")  # not a file
    out = io.BytesIO()
    serve(io.BytesIO(wire), out)
    first, second, third = (json.loads(line) for line in out.getvalue().splitlines())
    page = "".join(pieces).encode()
    assert good.read_bytes() == page
    assert first == {"sha256": hashlib.sha256(page).hexdigest(), "problems": []}
    assert any("<script>" in p for p in second["problems"])
    assert third == {"error": "Is a directory"}


def test_the_page_helper_syncs_a_long_page_as_it_comes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import os

    from briefgen import pagehelper

    synced: list[int] = []
    monkeypatch.setattr(pagehelper, "SYNC_EVERY", 10)
    monkeypatch.setattr(os, "fdatasync", lambda fd: synced.append(os.fstat(fd).st_size))
    page = tmp_path / "page.tmp"
    page.touch()
    pieces = [b"<p>" + b"x" * 8 + b"</p>"] * 3
    wire = _frame(b"P", bytes(page)) + b"".join(_frame(b"D", p) for p in pieces) + _frame(b"E")
    pagehelper.serve(io.BytesIO(wire), io.BytesIO())
    assert page.read_bytes() == b"".join(pieces)
    assert synced == [15, 30, 45]  # after each 10 bytes or more, flushed first


def test_closing_the_page_helper_closes_each_descriptor_once(tmp_path: Path) -> None:
    """A descriptor closed twice closes whatever file took its number in between (a
    build's next page, in a long-running watch or serve)."""
    import gc

    from briefgen.pagehelper import PageHelper

    helper = PageHelper.start()
    assert helper is not None
    numbers = {helper._in, helper._out.fileno()}
    helper.close()
    files = [open(tmp_path / f"page-{i}", "wb") for i in range(4)]  # noqa: SIM115
    try:
        reused = [fh for fh in files if fh.fileno() in numbers]
        if not reused:
            pytest.skip("the descriptors' numbers were not reused")
        del helper
        gc.collect()
        for fh in reused:
            fh.write(b"x")
            fh.flush()  # fails (EBADF) if the helper's pipe was closed again
    finally:
        for fh in files:
            fh.close()


def test_a_page_helper_that_stops_costs_no_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefgen import pagehelper
    from briefgen.build import BuildOptions, build
    from briefgen.errors import OutputError

    out = tmp_path / "out"
    build([MINIMAL], BuildOptions(out=out, formats=("html",)))
    pages = sorted(out.rglob("*.html"))
    before = {p: p.read_bytes() for p in pages}
    monkeypatch.setattr(pagehelper, "MIN_CASE_BYTES", 0)
    real = pagehelper.PageHelper.begin

    def begin_then_die(self: pagehelper.PageHelper, tmp: Path) -> None:
        real(self, tmp)
        self.process.kill()
        self.process.wait()

    monkeypatch.setattr(pagehelper.PageHelper, "begin", begin_then_die)
    with pytest.raises(OutputError, match="page helper stopped.*run the build again"):
        build([MINIMAL], BuildOptions(out=out, formats=("html",), force=True))
    assert {p: p.read_bytes() for p in pages} == before
    assert not list(pages[0].parent.glob(".*.tmp")), "a temporary file was left behind"


def test_a_page_the_helper_cannot_write_is_an_output_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefgen import output, pagehelper
    from briefgen.build import BuildOptions, build
    from briefgen.errors import OutputError

    monkeypatch.setattr(pagehelper, "MIN_CASE_BYTES", 0)
    monkeypatch.setattr(output.AtomicFile, "temporary", property(lambda self: tmp_path))
    with pytest.raises(OutputError, match="cannot write: Is a directory"):
        build([MINIMAL], BuildOptions(out=tmp_path / "out", formats=("html",)))
    assert not list((tmp_path / "out").rglob("*.html"))


def test_the_command_line_exits_without_freeing_yet_loses_no_output(tmp_path: Path) -> None:
    """``briefgen`` ends a one-shot command with os._exit, leaving the case it kept to
    the operating system: what it printed (to a pipe, so buffered) and wrote is all there.
    Called in-process (tests, library users) nothing is kept."""
    from conftest import run_cli

    import briefgen
    from briefgen import cli

    done = run_cli("build", str(MINIMAL), "--format", "html", "--out", str(tmp_path / "a"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4 and lines[-1].startswith("3 outputs built"), done.stdout
    assert len(list((tmp_path / "a").rglob("*.html"))) == 3
    assert cli.main(["build", "-q", str(MINIMAL), "--format", "html", "--out", str(tmp_path / "b")]) == 0
    assert briefgen._KEPT == []
    kept: list[object] = []
    real = briefgen.keep_until_exit
    briefgen.ONE_SHOT = True
    try:
        real(kept)
        assert [kept] == briefgen._KEPT
    finally:
        briefgen.ONE_SHOT = False
        briefgen._KEPT.clear()


def test_layout_runs_the_collector_less_often_and_restores_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """During a layout the young generation's threshold is raised (WeasyPrint frees its
    boxes by reference count; the collector's passes were a seventh of the time); the
    process's own threshold is back afterwards, even when the layout fails, and only
    after the last of several concurrent layouts."""
    import gc
    import threading

    from briefgen import pdf

    seen: list[int] = []
    gate = threading.Barrier(2)
    real_html = pdf.HTML

    class SpyHTML(real_html):  # type: ignore[misc, valid-type]
        def render(self, *args: object, **kwargs: object) -> object:
            seen.append(gc.get_threshold()[0])
            if threading.current_thread() is not threading.main_thread():
                gate.wait(timeout=30)  # both layouts are under way at once
            return super().render(*args, **kwargs)

    monkeypatch.setattr(pdf, "HTML", SpyHTML)
    before = gc.get_threshold()
    page = "<!DOCTYPE html><html><body><p>One page.</p></body></html>"
    try:
        gc.set_threshold(700, 10, 10)
        data, pages = pdf.render_pdf_counted(page)
        assert pages == 1 and data.startswith(b"%PDF")
        assert seen == [pdf.LAYOUT_GC_THRESHOLD] and gc.get_threshold() == (700, 10, 10)

        workers = [threading.Thread(target=pdf.render_pdf, args=(page,)) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert seen[1:] == [pdf.LAYOUT_GC_THRESHOLD] * 2 and gc.get_threshold() == (700, 10, 10)

        gc.set_threshold(0)  # collection turned off by the process: layout leaves it off
        pdf.render_pdf(page)
        assert seen[-1] == 0 and gc.get_threshold()[0] == 0
        gc.set_threshold(700, 10, 10)

        monkeypatch.setattr(SpyHTML, "render", lambda *a, **k: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            pdf.render_pdf(page)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_frozen_models_share_equal_field_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every frozen model of a loaded case holds one set object per distinct set of field
    names (pydantic makes one per model); what the sets say is unchanged."""
    from pydantic import BaseModel

    case = load_case(DEFAULT_CASE)
    monkeypatch.setattr(loader, "share_field_sets", lambda model, shared: None)
    unshared = load_case(DEFAULT_CASE)
    plain = {k: getattr(unshared, k) for k in loader.ITEM_KINDS}

    def models(items: list[object]) -> list[BaseModel]:
        out: list[BaseModel] = []
        stack = list(items)
        while stack:
            node = stack.pop()
            if isinstance(node, BaseModel):
                out.append(node)
                stack.extend(node.__dict__.values())
            elif isinstance(node, (list, tuple)):
                stack.extend(node)
        return out

    loaded = [m for k in loader.ITEM_KINDS for m in models(getattr(case, k))]
    fresh = [m for k in loader.ITEM_KINDS for m in models(plain[k])]
    assert len(loaded) == len(fresh) > 500
    assert all(a.model_fields_set == b.model_fields_set for a, b in zip(loaded, fresh, strict=True))
    distinct = {frozenset(m.model_fields_set) for m in loaded}
    assert len({id(m.model_fields_set) for m in loaded}) == len(distinct) < len(loaded) / 10
    assert len({id(m.model_fields_set) for m in fresh}) == len(fresh)  # pydantic's own: one each
    for k in loader.ITEM_KINDS:
        assert [i.model_dump(exclude_unset=True) for i in getattr(case, k)] == [
            i.model_dump(exclude_unset=True) for i in plain[k]
        ]


def test_field_sets_of_models_that_can_change_are_left_alone() -> None:
    from pydantic import BaseModel

    class Open(BaseModel):
        a: int = 0
        b: int = 0

    class Shut(BaseModel, frozen=True):
        a: int = 0
        inner: list[Open] = []

    shut = [Shut(a=1, inner=[Open(a=1), Open(a=2)]), Shut(a=2, inner=[Open(a=3)])]
    loader.share_field_sets(shut[0], shared := {})
    loader.share_field_sets(shut[1], shared)
    assert shut[0].model_fields_set is shut[1].model_fields_set
    opens = [o for s in shut for o in s.inner]
    assert len({id(o.model_fields_set) for o in opens}) == 3
    opens[0].b = 5  # pydantic adds to that one model's set
    assert opens[0].model_fields_set == {"a", "b"} and opens[1].model_fields_set == {"a"}
