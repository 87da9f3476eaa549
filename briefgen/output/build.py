"""build: the whole pipeline for one or more cases and audiences, incrementally.

For each case: load → validate (nothing is written if it fails) → for each audience
:func:`render_edition` (view → HTML → self-check) → :func:`lay_out` (PDF) → write
atomically, and record in a manifest the inputs each output was built from. An output
whose inputs (fact files, templates, profile, engine version, options) are unchanged is
skipped without even parsing the facts, so a no-op rebuild costs only hashing a few files.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import CaseInvalid, FactError, UsageError
from .atomic import AtomicFile, safe_name, write_atomic

if TYPE_CHECKING:
    from ..briefing.audiences import Audience
    from ..facts.models import Case

MANIFEST = ".briefgen-manifest.json"
APPARATUS = frozenset({"contents", "sources", "endnotes", "legend", "colophon"})
"""Sections that serve checking rather than reading: outside the word budget."""
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
    warnings: list[FactError] = field(default_factory=list)

    @property
    def built(self) -> list[Output]:
        return [o for o in self.outputs if o.status == "built"]

    @property
    def unchanged(self) -> list[Output]:
        return [o for o in self.outputs if o.status == "unchanged"]


Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Planned:
    """One output that is out of date: what it is made from and where it goes."""

    case_dir: Path
    audience: str
    format: str
    path: Path
    key: str
    """Hash of every input (see :func:`input_key`), recorded in the manifest once written."""


@dataclass(frozen=True)
class Edition:
    """One audience's briefing of a case, rendered and self-checked, not yet laid out."""

    case: Case
    audience: Audience
    html: str
    marking: str
    """The briefing's own marking: the most restrictive among the items it includes."""
    user_dirs: tuple[Path, ...]
    seconds: float


@dataclass(frozen=True)
class LaidOut:
    """An edition's PDF."""

    data: bytes
    pages: int
    seconds: float
    section_pages: dict[str, float]
    """Section id → the pages it takes (fractions of a page)."""


def _hash_files(paths: Iterable[Path], root: Path | None = None) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        name = str(p.relative_to(root)) if root and p.is_relative_to(root) else str(p)
        h.update(name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _audience_files(options: BuildOptions) -> dict[str, Path]:
    """Audience name → its profile file, cheaply (names only; validation comes later)."""
    from ..paths import builtin_templates_dir

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
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def input_key(case_dir: Path, profile: Path, options: BuildOptions, fmt: str) -> str:
    """Everything an output depends on, hashed."""
    from ..briefing.render import template_files

    parts = {
        "engine": __version__,
        "facts": _hash_files(_fact_files(case_dir), case_dir),
        "templates": _hash_files(template_files(options.templates)),
        "profile": _hash_files([profile]),
        "format": fmt,
        "previous": _hash_files(_fact_files(options.previous), options.previous) if options.previous else "",
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _read_manifest(folder: Path) -> dict[str, dict[str, str]]:
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


def plan(case_dirs: Sequence[Path], options: BuildOptions, report: BuildReport) -> list[Planned]:
    """The outputs whose inputs changed since they were built (all of them with ``force``);
    the others go into ``report`` as unchanged."""
    available = _audience_files(options)
    names = _selected(options, available)
    formats = [f for f in FORMATS if f in options.formats]
    todo = []
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
                if not options.force and entry.get("key") == key and entry.get("sha256") == _file_sha(path):
                    report.outputs.append(Output(case_id, name, fmt, path, "unchanged", sha256=entry["sha256"]))
                    continue
                todo.append(Planned(case_dir, name, fmt, path, key))
    return todo


def render_edition(
    case: Case,
    audience: Audience,
    templates: Sequence[Path] = (),
    previous: Case | None = None,
    marking_floor: str | None = None,
) -> Edition:
    """View, HTML and self-check of ``case`` for ``audience``: everything but the layout.
    ``previous``: an earlier edition, for 'What changed'. ``marking_floor``: a marking the
    page carries at least (a distributed copy marked more strictly than the briefing). A page that fails the
    self-check raises CaseInvalid (a hostile or broken template)."""
    from ..briefing.render import render_html
    from ..briefing.selfcheck import html_problems
    from ..briefing.view import build_view

    t0 = time.perf_counter()
    changes = None
    if previous is not None:
        from ..briefing.changes import change_lines
        from ..facts.diff import diff_cases

        lines = change_lines(
            diff_cases(previous, case), max_marking=audience.profile.marking, show_internal=audience.profile.show_notes
        )
        changes = (previous.info.edition, lines)
    user_dirs = (*templates, *((audience.templates_dir,) if audience.templates_dir else ()))
    view = build_view(case, audience, changes=changes, marking_floor=marking_floor)
    html = render_html(view, user_dirs)
    problems = html_problems(html)
    if problems:
        where = str(audience.source)
        raise CaseInvalid([FactError(where, 1, 1, f"rendered HTML failed a safety check: {p}") for p in problems])
    return Edition(case, audience, html, view.meta.marking, user_dirs, time.perf_counter() - t0)


def lay_out(edition: Edition) -> LaidOut:
    """The edition's PDF (WeasyPrint, through the restricted fetcher)."""
    from .pdf import render_pdf_counted

    t0 = time.perf_counter()
    anchors: dict[str, float] = {}
    data, pages = render_pdf_counted(edition.html, user_dirs=edition.user_dirs, anchors=anchors)
    starts = sorted((pos, name.removeprefix("sec-")) for name, pos in anchors.items() if name.startswith("sec-"))
    ends = [pos for pos, _ in starts[1:]] + [float(pages)] * bool(starts)
    sizes = {sid: end - pos for (pos, sid), end in zip(starts, ends, strict=True)}
    return LaidOut(data, pages, time.perf_counter() - t0, sizes)


def budget_problems(edition: Edition, laid_out: LaidOut | None) -> list[FactError]:
    """The edition against its profile's budgets: words (from the page), and pages (from
    the PDF, when there is one). Over budget, the message names the sections that take
    the most space, so an analyst knows what to cut."""
    from ..briefing.selfcheck import section_words

    profile = edition.audience.profile
    words = {k: v for k, v in section_words(edition.html).items() if k not in APPARATUS}
    total = sum(words.values())
    over = []
    if profile.max_words is not None and total > profile.max_words:
        over.append(f"{total:,} words (max_words {profile.max_words:,})")
    if laid_out is not None and profile.max_pages is not None and laid_out.pages > profile.max_pages:
        over.append(f"{laid_out.pages} pages (max_pages {profile.max_pages})")
    if not over:
        return []
    pages = laid_out.section_pages if laid_out else {}
    biggest = sorted(words, key=lambda sid: (-pages.get(sid, 0.0), -words[sid]))[:3]
    parts = [
        f"{sid.replace('_', ' ')} {words[sid]:,} words" + (f", {pages[sid]:.1f} pages" if sid in pages else "")
        for sid in biggest
    ]
    return [
        FactError(
            str(profile_file(edition.audience)),
            *edition.audience.line_of("max_pages" if "pages" in over[-1] else "max_words"),
            f"the {edition.audience.name} briefing of {edition.case.id} runs to {' and '.join(over)}; the sections "
            f"taking the most space: {'; '.join(parts)}. Shorten what they show (fewer key events, shorter "
            "texts, limits) or raise the budget",
        )
    ]


def profile_file(audience: Audience) -> Path:
    from ..facts.loader import display_path

    return Path(display_path(audience.source))


def build(
    case_dirs: Sequence[Path],
    options: BuildOptions = BuildOptions(),
    progress: Progress | None = None,
) -> BuildReport:
    """Build every requested output of every case. Validates every case before writing anything;
    raises CaseInvalid with all problems found (and then writes nothing)."""
    report = BuildReport()
    todo = plan(case_dirs, options, report)
    if not todo:
        return report

    # Validate everything first: a failing case writes nothing at all.
    from ..briefing.audiences import load_audiences
    from ..errors import Problems
    from ..facts.loader import load

    audiences = load_audiences(list(options.audience_dirs))
    problems = Problems()
    cases: dict[Path, Case] = {}
    for case_dir in dict.fromkeys(p.case_dir for p in todo):
        loaded = load(case_dir)
        problems.extend(loaded.problems.kept)
        report.warnings.extend(loaded.warnings)
        if loaded.case is not None and not loaded.problems:
            cases[case_dir] = loaded.case
    previous = None
    if options.previous is not None:
        loaded = load(options.previous)
        problems.extend(loaded.problems.kept)
        previous = loaded.case
    problems.raise_if_any()

    done = 0

    def step(label: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(label, done, len(todo))

    editions: dict[tuple[Path, str], Edition] = {}
    written: dict[Path, bytes] = {}
    for p in todo:
        key = (p.case_dir, p.audience)
        if key not in editions:
            editions[key] = render_edition(cases[p.case_dir], audiences[p.audience], options.templates, previous)
        if p.format == "html":
            written[p.path] = editions[key].html.encode("utf-8")
            step(str(p.path))
    pdfs = [p for p in todo if p.format == "pdf"]
    errors: list[FactError] = []
    laid_out_keys = {(p.case_dir, p.audience) for p in pdfs}
    for key, edition in editions.items():
        if key not in laid_out_keys:  # (an HTML-only build: the word budget alone)
            errors.extend(budget_problems(edition, None))
    pages: dict[Path, LaidOut] = {}
    for p, laid_out in zip(
        pdfs, _lay_out_all([editions[(p.case_dir, p.audience)] for p in pdfs], options), strict=True
    ):
        errors.extend(budget_problems(editions[(p.case_dir, p.audience)], laid_out))
        pages[p.path] = laid_out
        written[p.path] = laid_out.data
        step(str(p.path))
    if errors:
        raise CaseInvalid(errors)

    # Every output succeeded: put them in place, each atomically, and record them.
    for p in todo:
        edition = editions[(p.case_dir, p.audience)]
        with AtomicFile(p.path, edition.marking) as out:
            out.write(written[p.path])
            out.commit()
        pdf = pages.get(p.path)
        seconds = edition.seconds + (pdf.seconds if pdf else 0.0)
        output = Output(edition.case.id, p.audience, p.format, p.path, "built", seconds, None, out.sha256)
        output.pages = pdf.pages if pdf else None
        _record(p.path, p.key, out.sha256)
        report.outputs.append(output)
    return report


def _lay_out_all(editions: list[Edition], options: BuildOptions) -> list[LaidOut]:
    """Lay out each edition, in worker processes when there are several (one per core)."""
    jobs = options.jobs or min(len(editions), os.cpu_count() or 1)
    if jobs <= 1 or len(editions) <= 1:
        return [lay_out(e) for e in editions]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lay_out, editions))


def _record(path: Path, key: str, sha: str) -> None:
    folder = path.parent
    manifest = _read_manifest(folder)
    manifest[path.name] = {"key": key, "sha256": sha}
    data = json.dumps(dict(sorted(manifest.items())), indent=2, sort_keys=True).encode() + b"\n"
    write_atomic(folder / MANIFEST, data)
