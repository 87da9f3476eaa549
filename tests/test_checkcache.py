"""`briefgen check` on a large case takes the verdict of unchanged files from their cached
index (briefgen/references.py, briefgen/parsecache.py). It must reach exactly the verdict,
and report exactly the errors at exactly the places, that a full load reaches."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from briefgen import loader, parsecache, references
from briefgen.errors import CaseInvalid
from briefgen.loader import check_case, load_case


def outcome(fn: Callable[[Path], object], case_dir: Path) -> list[str]:
    """The located errors of a load or check (empty when the case is valid)."""
    try:
        fn(case_dir)
    except CaseInvalid as exc:
        return [f"{e.path}:{e.line}:{e.col}: {e.message}" for e in exc.errors]
    return []


def full_load_errors(case_dir: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with monkeypatch.context() as m:
        m.setenv("BRIEFGEN_CACHE_DIR", "off")
        return outcome(load_case, case_dir)


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def first_value(path: Path, key: str) -> str:
    found = re.search(rf"^\s*-?\s*{key}: (\S+)$", path.read_text(encoding="utf-8"), re.M)
    assert found, (path, key)
    return found.group(1)


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every file the loader parses from here on."""
    parsed: list[str] = []
    real = loader._parse

    def spy(raw: bytes, shown: str, digest: str, **how: bool) -> object:
        parsed.append(Path(shown).name)
        return real(raw, shown, digest, **how)

    monkeypatch.setattr(loader, "_parse", spy)
    return parsed


def test_second_check_reads_no_unchanged_file(cache: Path, default_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = check_case(default_copy)
    case = load_case(default_copy)
    assert counts["events"] == len(case.events) > 0 and counts["sources"] == len(case.sources) > 0
    assert counts["parties"] == len(case.info.parties)
    parsed = no_parsing(monkeypatch)
    assert check_case(default_copy) == counts
    assert parsed == []
    edit(default_copy / "events.yaml", "\n", "\n# a comment changes the bytes, not the facts\n")
    assert check_case(default_copy) == counts
    assert parsed == ["events.yaml"]


# Each mutation breaks one case-wide rule, in a file other than the one whose error it
# causes where possible (so the error must be located in a file that was not read again).
def drop_cited_source(case: Path) -> None:
    cited = first_value(case / "events.yaml", "source")
    edit(case / "events.yaml", f"source: {cited}", f"source: {cited}-gone")


def reuse_an_id(case: Path) -> None:
    actor = first_value(case / "actors.yaml", "id")
    event = first_value(case / "events.yaml", "id")
    edit(case / "events.yaml", f"id: {event}", f"id: {actor}")


def wrong_kind(case: Path) -> None:
    actor = first_value(case / "actors.yaml", "id")
    party = first_value(case / "actors.yaml", "party")
    edit(case / "actors.yaml", f"party: {party}", f"party: {actor}")


def mirror_disagrees(case: Path) -> None:
    mirror = first_value(case / "motives.yaml", "mirror")
    other = re.findall(r"^\s*mirror: (\S+)$", (case / "motives.yaml").read_text(encoding="utf-8"), re.M)
    replacement = next(m for m in other if m != mirror)
    edit(case / "motives.yaml", f"mirror: {mirror}", f"mirror: {replacement}")


def rename_a_source(case: Path) -> None:
    """Only sources.yaml changes: every citation of the source, in files whose index is
    cached, becomes dangling."""
    source = first_value(case / "sources.yaml", "id")
    edit(case / "sources.yaml", f"id: {source}", f"id: {source}-renamed")


def type_error_and_dangling(case: Path) -> None:
    edit(case / "events.yaml", "precision: day", "precision: fortnight")
    rename_a_source(case)


MUTATIONS = [drop_cited_source, reuse_an_id, wrong_kind, mirror_disagrees, rename_a_source, type_error_and_dangling]


@pytest.mark.parametrize("mutate", MUTATIONS, ids=lambda f: f.__name__)
def test_cached_check_reports_what_a_full_load_reports(
    mutate: Callable[[Path], None], cache: Path, default_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert outcome(check_case, default_copy) == []  # every file's index is now cached
    mutate(default_copy)
    expected = full_load_errors(default_copy, monkeypatch)
    assert expected, "the mutation must break the case"
    parsed = no_parsing(monkeypatch)
    assert outcome(check_case, default_copy) == expected
    assert len(parsed) < len(list(default_copy.glob("*.yaml")))  # unchanged files were not read
    assert outcome(check_case, default_copy) == expected  # and again, with more of it cached
    assert outcome(load_case, default_copy) == expected


def test_an_index_from_other_code_is_not_used(cache: Path, default_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_case(default_copy)
    monkeypatch.setattr(parsecache, "engine_key", lambda: "another-engine")
    parsed = no_parsing(monkeypatch)
    check_case(default_copy)
    assert len(parsed) == len(list(default_copy.glob("*.yaml")))


def test_the_engine_key_follows_the_model_code() -> None:
    key = parsecache.engine_key()
    parsecache.engine_key.cache_clear()
    try:
        assert parsecache.engine_key() == key  # stable
        models = Path(references.__file__).parent / "models" / "items.py"
        assert models.is_file()  # what the key covers exists where it looks
    finally:
        parsecache.engine_key.cache_clear()


def test_a_forged_index_is_not_trusted(cache: Path, default_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_case(default_copy)
    import pickle

    for path in cache.glob("index/*/*.pickle"):
        path.write_bytes(pickle.dumps({"kind": "events", "counts": "many"}))  # wrong shape
    wrong_kind(default_copy)  # and a real error
    expected = full_load_errors(default_copy, monkeypatch)
    assert expected
    assert outcome(check_case, default_copy) == expected


def test_cli_check_uses_the_cached_indexes(cache: Path, default_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefgen.cli import main

    assert main(["check", str(default_copy), "-q"]) == 0
    parsed = no_parsing(monkeypatch)
    assert main(["check", str(default_copy), "-q"]) == 0
    assert parsed == []
    rename_a_source(default_copy)
    assert main(["check", str(default_copy), "-q"]) == 1
    assert parsed == ["sources.yaml"]


def test_the_cache_folder_is_private(cache: Path, default_copy: Path) -> None:
    check_case(default_copy)
    folders = [cache, *(p for p in cache.rglob("*") if p.is_dir())]
    assert len(folders) >= 5
    for folder in folders:
        assert folder.stat().st_mode & 0o077 == 0, folder


@pytest.mark.parametrize("mutate", [None, rename_a_source, type_error_and_dangling], ids=str)
def test_a_first_check_in_worker_processes_reports_what_a_full_load_reports(
    mutate: Callable[[Path], None] | None, default_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large case seen for the first time is parsed, validated and indexed by one worker
    process per core; only indexes and errors come back."""
    from concurrent.futures import ProcessPoolExecutor

    if mutate is not None:
        mutate(default_copy)
    expected = full_load_errors(default_copy, monkeypatch)
    monkeypatch.setattr(parsecache, "MIN_BYTES", 0)
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(loader.os, "cpu_count", lambda: 2)
    sent: list[str] = []
    real_submit = ProcessPoolExecutor.submit

    def submit(self: ProcessPoolExecutor, fn: Callable[..., object], *args: object) -> object:
        # Each job is sent as its number among the entries the workers were forked with.
        assert fn is loader._forked_job and isinstance(args[1], int)
        sent.append(Path(loader._FORKED_ENTRIES[args[1]][1]).name)
        return real_submit(self, fn, *args)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", submit)
    for cache_dir in ("off", str(default_copy.parent / "cache")):
        monkeypatch.setenv("BRIEFGEN_CACHE_DIR", cache_dir)
        sent.clear()
        assert outcome(check_case, default_copy) == expected
        assert sorted(sent) == sorted(p.name for p in default_copy.glob("*.yaml"))
