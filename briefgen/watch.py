"""watch: rebuild the briefings whenever a fact file, template or audience profile is saved.

Polling with ``os.stat`` (every ``interval`` seconds, default 0.5) rather than an OS
notification library: a case is a handful of files, a scan costs well under a
millisecond, it behaves the same on every system and network drive, and it adds no
dependency. Each change rebuilds HTML first (fast: the browser can reload at once) and
then PDF. The build validates before it writes, so when the facts are broken the
problems are printed exactly as ``briefgen check`` prints them and the last good
outputs stay in place until the facts are fixed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .build import FORMATS, BuildOptions, BuildReport, build
from .errors import BriefgenError, UsageError
from .paths import builtin_templates_dir

Snapshot = dict[str, tuple[int, int]]
Wait = Callable[[float], bool]
"""Waits up to the given seconds; returns True when the watch should stop."""


def watched_folders(case_dirs: Sequence[Path], options: BuildOptions) -> tuple[list[Path], list[Path]]:
    """The folders whose files a build reads: (scanned flat, scanned with subfolders).
    Case folders are flat (the loader reads only their top level); template and audience
    folders are scanned whole, including templates kept beside a profile."""
    flat = [*case_dirs, *([options.previous] if options.previous else [])]
    deep = [builtin_templates_dir(), *options.templates, *options.audience_dirs]
    return list(dict.fromkeys(flat)), list(dict.fromkeys(deep))


def snapshot(flat: Sequence[Path], deep: Sequence[Path]) -> Snapshot:
    """Path → (modification time in ns, size) of every file in the folders; a folder
    that is missing appears as a marker, so creating it counts as a change."""
    found: Snapshot = {}

    def scan(folder: Path, recurse: bool) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            found[f"{folder}{os.sep}"] = (-1, -1)
            return
        for entry in entries:
            if entry.name.startswith(".") or entry.name == "__pycache__":
                continue  # editor swap files and caches are not inputs
            try:
                if entry.is_file():
                    st = entry.stat()
                    found[entry.path] = (st.st_mtime_ns, st.st_size)
                elif recurse and entry.is_dir():
                    scan(Path(entry.path), True)
            except OSError:
                continue  # vanished between listing and stat: the next scan sees it

    for folder in flat:
        scan(folder, False)
    for folder in deep:
        scan(folder, True)
    return found


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

    def __init__(
        self,
        case_dirs: Sequence[Path],
        options: BuildOptions,
        con: Any,
        *,
        interval: float = 0.5,
        settle: float = 0.05,
    ) -> None:
        self.case_dirs = list(case_dirs)
        self.options = options
        self.con = con
        self.interval = interval
        self.settle = settle
        self.formats = tuple(f for f in FORMATS if f in options.formats)
        self.builds = 0
        """Completed build attempts (successful or not), for tests and logs."""
        self._status = WatchStatus()
        self._lock = threading.Lock()
        self._flat, self._deep = watched_folders(self.case_dirs, options)
        self._seen: Snapshot | None = None
        self._templates_changed = False

    # state ------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """A copy of the current :class:`WatchStatus` as plain data."""
        with self._lock:
            return self._status.as_dict()

    def _set(self, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(self._status, k, v)

    # building ---------------------------------------------------------
    def mark_seen(self) -> None:
        """Take the snapshot later scans compare with. Taken before a build so that a save
        made during the build is noticed by the next scan."""
        self._seen = snapshot(self._flat, self._deep)

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

    # watching ---------------------------------------------------------
    def changed(self) -> bool:
        """Whether any input changed since the last snapshot; if so, waits until the files
        stop changing (editors save in several steps) and takes the new snapshot."""
        now = snapshot(self._flat, self._deep)
        if now == self._seen:
            return False
        for _ in range(20):
            if self.settle:
                time.sleep(self.settle)
            again = snapshot(self._flat, self._deep)
            if again == now:
                break
            now = again
        before = self._seen or {}
        differ = {k for k in before.keys() | now.keys() if before.get(k) != now.get(k)}
        self._seen = now
        cases = tuple(str(d) + os.sep for d in self._flat)
        if any(not k.startswith(cases) for k in differ):
            self._templates_changed = True
        return True

    def poll(self) -> bool:
        """One scan; rebuilds if an input changed. Returns whether it rebuilt."""
        if not self.changed():
            return False
        if self._templates_changed:
            # The render stage keeps compiled templates for the life of the process (right
            # for one build, stale for a watch): drop them so the edited ones are read.
            from .render import environment

            environment.cache_clear()
            self._templates_changed = False
        self.build()
        return True

    def run(
        self,
        *,
        first: Sequence[str] | None = None,
        max_iterations: int | None = None,
        stop: threading.Event | None = None,
        wait: Wait | None = None,
    ) -> None:
        """Build ``first`` (default: every format; ``()`` for none), then scan every
        ``interval`` seconds and rebuild on change, until ``stop`` is set or after
        ``max_iterations`` scans (for tests; None means forever). ``wait`` replaces the
        pause between scans (default: waiting on ``stop``). A usage error in the first
        build is raised; later problems are printed and watching goes on."""
        stop = stop or threading.Event()
        pause: Wait = wait or stop.wait
        if self._seen is None:
            self.mark_seen()
        todo = self.formats if first is None else tuple(first)
        if todo:
            self.build(todo, raise_usage=True)
        n = 0
        while max_iterations is None or n < max_iterations:
            if pause(self.interval) or stop.is_set():
                return
            n += 1
            self.poll()
