"""watch: rebuild the briefings whenever a fact file, template or audience profile is saved.

The operating system reports changes (watchfiles: inotify, FSEvents, ...), grouped until
the files stop changing, since editors save in several steps. Each change rebuilds HTML
first (fast: the browser can reload at once) and then PDF. The build validates before it
writes, so when the facts are broken the problems are printed exactly as
``briefgen check`` prints them and the last good outputs stay in place until the facts
are fixed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import BriefgenError, UsageError
from ..output.build import FORMATS, BuildOptions, BuildReport, build
from ..paths import builtin_templates_dir


@dataclass
class WatchStatus:
    """What the last build left behind, for `serve`'s reload endpoint."""

    version: int = 0
    """Raised by one each time a build wrote HTML; browsers reload when it changes."""
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    building: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "ok": self.ok, "building": self.building, "problems": list(self.problems)}


class Watcher:
    """Rebuilds ``case_dirs`` with ``options`` whenever one of their inputs changes.

    ``con`` is the CLI console (``info`` and ``problems``). Safe to read :meth:`status`
    from other threads while :meth:`run` builds in one."""

    def __init__(self, case_dirs: Sequence[Path], options: BuildOptions, con: Any) -> None:
        self.case_dirs = list(case_dirs)
        self.options = options
        self.con = con
        self.formats = tuple(f for f in FORMATS if f in options.formats)
        self.builds = 0
        """Completed build attempts (successful or not), for tests and logs."""
        self._status = WatchStatus()
        self._lock = threading.Lock()
        # Case folders are read flat (the loader reads only their top level); template and
        # profile folders whole, templates kept beside a profile included.
        self.flat = [
            d.resolve() for d in dict.fromkeys([*self.case_dirs, *([options.previous] if options.previous else [])])
        ]
        self.deep = [
            d.resolve() for d in dict.fromkeys([builtin_templates_dir(), *options.templates, *options.audience_dirs])
        ]

    def status(self) -> dict[str, Any]:
        """A copy of the current :class:`WatchStatus` as plain data."""
        with self._lock:
            return self._status.as_dict()

    def _set(self, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(self._status, k, v)

    def is_input(self, path: str | Path) -> bool:
        """Whether a build reads ``path``: a fact file of a watched case, or any file in a
        template or profile folder (hidden files and caches are an editor's, not inputs)."""
        p = Path(path)
        if p.name.startswith(".") or "__pycache__" in p.parts:
            return False
        if p.parent in self.flat:
            return p.suffix in (".yaml", ".yml")
        return any(p.is_relative_to(d) for d in self.deep)

    def build(self, formats: Sequence[str] | None = None, *, raise_usage: bool = False) -> bool:
        """Build ``formats`` (default: the options' formats), HTML before PDF. Returns
        whether every build succeeded. Problems are printed and kept in :meth:`status`;
        nothing is written for a broken case, so the last good outputs stay. With
        ``raise_usage``, a usage error (unknown audience...) is raised instead."""
        wanted = [f for f in FORMATS if f in (formats or self.formats) and f in self.formats]
        self._set(building=True)
        try:
            for fmt in wanted:
                t0 = time.perf_counter()
                try:
                    report = build(self.case_dirs, replace(self.options, formats=(fmt,)))
                except UsageError as exc:
                    if raise_usage:
                        raise
                    self._failed(exc, [f"briefgen: error: {exc}"])
                    return False
                except BriefgenError as exc:
                    self._failed(exc, exc.lines())
                    return False
                self._built(report, fmt, time.perf_counter() - t0)
            return True
        finally:
            self.builds += 1
            self._set(building=False)

    def _built(self, report: BuildReport, fmt: str, seconds: float) -> None:
        n = len(report.built)
        with self._lock:
            if fmt == "html" and n:
                self._status.version += 1
            self._status.ok = True
            self._status.problems = []
        stamp = time.strftime("%H:%M:%S")
        if n:
            names = ", ".join(str(o.path) for o in report.built)
            self.con.info(f"[{stamp}] built {n} {fmt.upper()} in {seconds:.1f}s: {names}")
        else:
            self.con.info(f"[{stamp}] {fmt.upper()} up to date")

    def _failed(self, exc: BriefgenError, lines: list[str]) -> None:
        self._set(ok=False, problems=lines)
        self.con.problems(exc)
        self.con.info(f"[{time.strftime('%H:%M:%S')}] keeping the last good output; fix the problems and save again")

    def changed(self, paths: Iterable[str | Path]) -> bool:
        """Rebuild if any of ``paths`` is an input; returns whether it rebuilt."""
        inputs = [Path(p) for p in paths if self.is_input(p)]
        if not inputs:
            return False
        if any(p.parent not in self.flat for p in inputs):
            # The render stage keeps compiled templates for the life of the process
            # (right for one build, stale for a watch): drop them so edits are read.
            from ..briefing.render import environment

            environment.cache_clear()
        self.build()
        return True

    def run(
        self, *, first: Sequence[str] | None = None, stop: threading.Event | None = None, max_builds: int | None = None
    ) -> None:
        """Build ``first`` (default: every format; ``()`` for none), then rebuild whenever
        an input changes, until ``stop`` is set (or after ``max_builds`` rebuilds). A
        usage error in the first build is raised; later problems are printed and
        watching goes on."""
        import watchfiles

        todo = self.formats if first is None else tuple(first)
        roots = [str(d) for d in (*self.flat, *self.deep) if d.is_dir()]
        rebuilt = 0
        started = False
        # The first build runs once the watch is set up (its first quiet moment), so that
        # a file saved during that build is seen.
        for changes in watchfiles.watch(
            *roots,
            watch_filter=lambda _change, path: self.is_input(path),
            stop_event=stop,
            raise_interrupt=True,
            yield_on_timeout=True,
            rust_timeout=200,
        ):
            if not started:
                started = True
                if todo:
                    self.build(todo, raise_usage=True)
                if max_builds == 0:
                    return
            if changes and self.changed(path for _, path in changes):
                rebuilt += 1
                if max_builds is not None and rebuilt >= max_builds:
                    return
