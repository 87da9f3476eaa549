"""build: the whole pipeline for one or more cases and audiences, incrementally.

For each case: load → validate (nothing is written if it fails) → for each audience
build the view → render HTML → render PDF → write atomically, and record in a
manifest the inputs each output was built from. An output whose inputs (fact files,
templates, profile, engine version, options) are unchanged is skipped without even
parsing the facts, so a no-op rebuild costs only hashing a few files.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, keep_until_exit
from .errors import CaseInvalid, FactError, OutputError, UsageError
from .output import AtomicFile, safe_name, write_atomic
from .pagehelper import HelperFailed, PageHelper

if TYPE_CHECKING:
    from concurrent.futures import Future

MANIFEST = ".briefgen-manifest.json"
FORMATS = ("html", "pdf")


@dataclass(frozen=True)
class BuildOptions:
    """What to build and where. Frozen: it is part of every output's input key."""

    out: Path = Path("output")
    audiences: tuple[str, ...] | None = None
    """Audience names; None means every audience."""
    formats: tuple[str, ...] = FORMATS
    force: bool = False
    templates: tuple[Path, ...] = ()
    """User template folders, searched before the built-in ones."""
    audience_dirs: tuple[Path, ...] = ()
    """Folders of user audience profiles."""
    jobs: int = 0
    """Worker processes for PDFs; 0 means one per core (at most the number of PDFs)."""
    previous: Path | None = None
    """A previous edition of the case, for the 'What changed' section."""


@dataclass
class Output:
    """One file the build produced or skipped."""

    case_id: str
    audience: str
    format: str
    path: Path
    status: str  # built, unchanged
    seconds: float = 0.0
    pages: int | None = None
    sha256: str = ""


@dataclass
class BuildReport:
    outputs: list[Output] = field(default_factory=list)

    @property
    def built(self) -> list[Output]:
        return [o for o in self.outputs if o.status == "built"]

    @property
    def unchanged(self) -> list[Output]:
        return [o for o in self.outputs if o.status == "unchanged"]


Progress = Callable[[str, int, int], None]


def _hash_files(paths: Iterable[Path], root: Path | None = None) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        name = str(p.relative_to(root)) if root and p.is_relative_to(root) else str(p)
        h.update(name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _audience_files(options: BuildOptions) -> dict[str, Path]:
    """Audience name → its profile file, cheaply (names only; validation comes later)."""
    from .paths import builtin_templates_dir

    found: dict[str, Path] = {}
    for folder in (builtin_templates_dir() / "audiences", *options.audience_dirs):
        if not folder.is_dir():
            raise CaseInvalid([FactError(str(folder), 0, 0, "audiences folder does not exist")])
        for p in sorted(folder.glob("*.yaml")):
            found[p.stem] = p
    return found


def _selected(options: BuildOptions, available: dict[str, Path]) -> list[str]:
    if options.audiences is None:
        return sorted(available)
    unknown = [a for a in options.audiences if a not in available]
    if unknown:
        raise UsageError(
            f"unknown audience {', '.join(unknown)}; available: {', '.join(sorted(available))} "
            "(add your own with --audiences DIR)"
        )
    return list(dict.fromkeys(options.audiences))


def _fact_files(root: Path) -> list[Path]:
    # The rule of loader.fact_files, repeated so that a no-op build need not import the
    # loader (and with it pydantic and every model): keep the two in step.
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def input_key(case_dir: Path, profile: Path, options: BuildOptions, fmt: str) -> str:
    """Everything an output depends on, hashed."""
    from .render import template_files

    fact_files = _fact_files
    parts = {
        "engine": __version__,
        "facts": _hash_files(fact_files(case_dir), case_dir),
        "templates": _hash_files(template_files(options.templates)),
        "profile": _hash_files([profile]),
        "format": fmt,
        "previous": _hash_files(fact_files(options.previous), options.previous) if options.previous else "",
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _file_sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _pdf_job(html: str, user_dirs: tuple[Path, ...], allowed: tuple[Path, ...]) -> tuple[bytes, int]:
    from .pdf import render_pdf_counted

    return render_pdf_counted(html, user_dirs=user_dirs, allowed_files=allowed)


def build(
    case_dirs: Sequence[Path],
    options: BuildOptions = BuildOptions(),
    progress: Progress | None = None,
) -> BuildReport:
    """Build every requested output of every case. Validates every case before writing anything;
    raises CaseInvalid with all problems found (and then writes nothing)."""
    report = BuildReport()
    available = _audience_files(options)
    names = _selected(options, available)
    formats = tuple(f for f in FORMATS if f in options.formats)

    # Plan: which outputs are stale?
    plan: list[tuple[Path, str, str, Path, str]] = []  # case_dir, audience, fmt, path, key
    for case_dir in case_dirs:
        if not case_dir.is_dir():
            raise CaseInvalid([FactError(str(case_dir), 0, 0, "case folder does not exist; check the path")])
        case_id = safe_name(case_dir.resolve().name)
        folder = options.out / case_id
        manifest = _read_manifest(folder)
        for name in names:
            for fmt in formats:
                path = folder / f"{safe_name(name)}.{fmt}"
                key = input_key(case_dir, available[name], options, fmt)
                entry = manifest.get(path.name, {})
                if (
                    not options.force
                    and entry.get("key") == key
                    and path.is_file()
                    and entry.get("sha256") == _file_sha(path)
                ):
                    report.outputs.append(Output(case_id, name, fmt, path, "unchanged", sha256=entry["sha256"]))
                    continue
                plan.append((case_dir, name, fmt, path, key))
    if not plan:
        return report

    helper = _page_helper(plan)
    try:
        return _load_and_build(plan, options, progress, report, helper)
    finally:
        if helper is not None:
            helper.close()


def _load_and_build(
    plan: list[tuple[Path, str, str, Path, str]],
    options: BuildOptions,
    progress: Progress | None,
    report: BuildReport,
    helper: PageHelper | None,
) -> BuildReport:
    # Validate everything first: a failing case writes nothing at all.
    from .audiences import load_audiences
    from .loader import load_case

    audiences = load_audiences(list(options.audience_dirs))
    cases = {}
    errors: list[FactError] = []
    for case_dir in dict.fromkeys(p[0] for p in plan):
        try:
            cases[case_dir] = load_case(case_dir)
        except CaseInvalid as exc:
            errors.extend(exc.errors)
    previous = None
    if options.previous is not None:
        try:
            previous = load_case(options.previous)
        except CaseInvalid as exc:
            errors.extend(exc.errors)
    if errors:
        raise CaseInvalid(errors)
    keep_until_exit((cases, previous))  # (a one-shot build exits without freeing them)

    # HTML first (fast, in this process); PDFs in worker processes; put in place only when all succeeded.
    ready: list[tuple[Output, list[bytes] | AtomicFile, str]] = []  # output, data (in pieces, or written), key
    try:
        return _build_planned(plan, cases, previous, audiences, options, progress, report, ready, helper)
    finally:
        for _, written, _ in ready:  # pages written but not put in place (a later one failed)
            if isinstance(written, AtomicFile):
                written.discard()


def _build_planned(
    plan: list[tuple[Path, str, str, Path, str]],
    cases: dict[Path, Any],
    previous: Any,
    audiences: dict[str, Any],
    options: BuildOptions,
    progress: Progress | None,
    report: BuildReport,
    ready: list[tuple[Output, list[bytes] | AtomicFile, str]],
    helper: PageHelper | None,
) -> BuildReport:
    from .loader import gc_paused
    from .render import render_html, render_pieces
    from .view import build_view

    htmls: dict[tuple[Path, str], tuple[str, float]] = {}
    total = len(plan)
    done = 0
    pending_pdf = []
    for case_dir, name, fmt, path, key in plan:
        aud = audiences[name]
        for_pdf = any(p[0] == case_dir and p[1] == name and p[2] == "pdf" for p in plan)
        if (case_dir, name) not in htmls:
            t0 = time.perf_counter()
            changes = None
            if previous is not None:
                from .diff import change_lines, diff_cases

                changes = (
                    previous.info.edition,
                    change_lines(
                        diff_cases(previous, cases[case_dir]),
                        max_marking=aud.profile.marking,
                        show_internal=aud.profile.show_notes,
                    ),
                )
            with gc_paused():
                view = build_view(cases[case_dir], aud, changes=changes)
                if not for_pdf:
                    # Only the HTML file wants this page: rendered, checked, encoded and
                    # written a piece at a time, it is never held whole. It takes the place
                    # of the old file only once every output has succeeded.
                    data = _checked_html(render_pieces(view, _user_dirs(options, aud)), path, helper)
                    del view
                    out = Output(cases[case_dir].id, name, fmt, path, "built", time.perf_counter() - t0)
                    ready.append((out, data, key))
                    done += 1
                    if progress:
                        progress(f"{path}", done, total)
                    continue
                html = render_html(view, _user_dirs(options, aud))
                del view  # (a large case's view is as big as its page: free it first)
                _check_html(html, path)
            htmls[(case_dir, name)] = (html, time.perf_counter() - t0)
        html, secs = htmls[(case_dir, name)]
        if fmt == "html":
            ready.append((Output(cases[case_dir].id, name, fmt, path, "built", secs), [html.encode("utf-8")], key))
            done += 1
            if progress:
                progress(f"{path}", done, total)
        else:
            pending_pdf.append((case_dir, name, path, key, html, aud))
        del html

    errors = []
    for case_dir, name, path, key, aud, data, pages, secs in _render_pdfs(pending_pdf, options, progress, done, total):
        limit = aud.profile.max_pages
        if limit is not None and pages > limit:
            errors.append(
                FactError(
                    str(aud.source),
                    1,
                    1,
                    f"the {name} briefing of {cases[case_dir].id} runs to {pages} pages, more than "
                    f"max_pages {limit}; shorten the facts it shows (summary_limit, sections) or raise the limit",
                )
            )
            continue
        ready.append((Output(cases[case_dir].id, name, "pdf", path, "built", secs, pages), [data], key))
    if errors:
        raise CaseInvalid(errors)
    for out, held, key in ready:
        if isinstance(held, AtomicFile):
            held.commit()
            out.sha256 = held.sha256
        else:
            with AtomicFile(out.path) as written:
                for piece in held:
                    written.write(piece)
                written.commit()
            out.sha256 = written.sha256
        _record(out.path, key, out.sha256)
        report.outputs.append(out)
    return report


def _user_dirs(options: BuildOptions, aud: Any) -> tuple[Path, ...]:
    return tuple(options.templates) + ((aud.templates_dir,) if aud.templates_dir else ())


def _render_pdfs(
    pending: list[tuple[Any, ...]],
    options: BuildOptions,
    progress: Progress | None,
    done: int,
    total: int,
) -> list[tuple[Any, ...]]:
    """Render the PDFs, in worker processes when there are several (one per core)."""
    results: list[tuple[Any, ...]] = []
    if not pending:
        return results
    jobs = options.jobs or min(len(pending), os.cpu_count() or 1)
    if jobs <= 1 or len(pending) == 1:
        for case_dir, name, path, key, html, aud in pending:
            t0 = time.perf_counter()
            allowed = (aud.logo_path,) if aud.logo_path else ()
            data, pages = _pdf_job(html, _user_dirs(options, aud), allowed)
            results.append((case_dir, name, path, key, aud, data, pages, time.perf_counter() - t0))
            done += 1
            if progress:
                progress(f"{path}", done, total)
        return results
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures: list[tuple[Future[tuple[bytes, int]], tuple[Any, ...], float]] = []
        for case_dir, name, path, key, html, aud in pending:
            allowed = (aud.logo_path,) if aud.logo_path else ()
            fut = pool.submit(_pdf_job, html, _user_dirs(options, aud), allowed)
            futures.append((fut, (case_dir, name, path, key, aud), time.perf_counter()))
        for fut, (case_dir, name, path, key, aud), t0 in futures:
            data, pages = fut.result()
            results.append((case_dir, name, path, key, aud, data, pages, time.perf_counter() - t0))
            done += 1
            if progress:
                progress(f"{path}", done, total)
    return results


def _check_html(html: str, path: Path) -> None:
    """Self-checks on the rendered HTML; a failure here is a bug or a hostile user template."""
    from .selfcheck import html_problems

    _refuse(html_problems(html), path)


def _checked_html(pieces: Iterable[str], path: Path, helper: PageHelper | None = None) -> AtomicFile:
    """The page written as UTF-8 to a temporary file next to ``path`` (put in place by
    :meth:`AtomicFile.commit`), self-checked as it comes (see :func:`_check_html`).
    With a ``helper`` (a large case: :func:`_page_helper`) the writing, hashing and
    checking are the helper's, on another core, while this process renders."""
    from . import selfcheck

    out = AtomicFile(path)
    try:
        if helper is not None:
            helper.begin(out.temporary)
            for piece in pieces:
                helper.send(piece.encode("utf-8"))
            sha, problems = helper.finish()
            out.adopt(sha)
        else:
            check = selfcheck.HtmlCheck()
            for piece in pieces:
                out.write(piece.encode("utf-8"))
                check.feed(piece)
            problems = check.problems()
        _refuse(problems, path)
    except HelperFailed as exc:
        out.discard()
        raise OutputError(f"{path}: not written: {exc}; run the build again") from None
    except BaseException:
        out.discard()
        raise
    return out


def _page_helper(plan: list[tuple[Path, str, str, Path, str]]) -> PageHelper | None:
    """A page helper, started now (it is ready by the time the facts are loaded), when
    the plan streams an HTML page of a large case; else None."""
    from .loader import fact_files, total_bytes
    from .pagehelper import MIN_CASE_BYTES

    for_pdf = {(d, a) for d, a, fmt, _, _ in plan if fmt == "pdf"}
    streamed = dict.fromkeys(d for d, a, fmt, _, _ in plan if fmt == "html" and (d, a) not in for_pdf)
    if any(total_bytes(fact_files(d)) >= MIN_CASE_BYTES for d in streamed):
        return PageHelper.start()
    return None


def _refuse(problems: list[str], path: Path) -> None:
    if problems:
        raise CaseInvalid([FactError(str(path), 1, 1, f"rendered HTML failed a safety check: {p}") for p in problems])


def _record(path: Path, key: str, sha: str) -> None:
    folder = path.parent
    manifest = _read_manifest(folder)
    manifest[path.name] = {"key": key, "sha256": sha}
    data = json.dumps(dict(sorted(manifest.items())), indent=2, sort_keys=True).encode() + b"\n"
    write_atomic(folder / MANIFEST, data)
