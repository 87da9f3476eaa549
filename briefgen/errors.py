"""Errors that describe a user's mistake, as opposed to a bug in briefgen.

Every user mistake is a :class:`FactError` carrying ``file:line:col`` and a plain
message; a run collects all of them (:class:`Problems`, which keeps the first few
hundred and counts the rest) and raises one :class:`CaseInvalid`. The CLI prints them
sorted and exits 1. Anything else that escapes is a bug and keeps its traceback (the
CLI turns it into a short "please file a bug" report).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PER_FILE = 200
"""Most problems listed for one file; the rest are counted."""
IN_ALL = 1_000
"""Most problems listed in one run; the rest are counted."""


@dataclass(frozen=True, order=True)
class FactError:
    """One located problem in a user's input (a fact file, profile, list or template)."""

    path: str
    line: int  # 1-based; 0 when the whole file is meant
    col: int  # 1-based; 0 when the whole file is meant
    message: str

    def format(self) -> str:
        """``path:line:col: message``, the form editors and terminals link."""
        return f"{self.path}:{self.line}:{self.col}: {self.message}"

    @classmethod
    def at_file(cls, path: str | Path, message: str) -> FactError:
        return cls(str(path), 1, 1, message)


class Problems:
    """The problems of one run: every one counted, the first :data:`PER_FILE` of each file
    and :data:`IN_ALL` in all kept (so that a file of a million mistakes costs a count,
    not a million messages)."""

    def __init__(self) -> None:
        self.kept: set[FactError] = set()
        self.per_file: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()

    def add(self, error: FactError) -> None:
        if error in self.kept:
            return
        if self.per_file[error.path] >= PER_FILE or len(self.kept) >= IN_ALL:
            self.dropped[error.path] += 1
            return
        self.per_file[error.path] += 1
        self.kept.add(error)

    def full(self, path: str) -> bool:
        """Whether problems of ``path`` are only counted from now on (so that a caller
        can skip describing them)."""
        return self.per_file[path] >= PER_FILE or len(self.kept) >= IN_ALL

    def count(self, path: str, n: int) -> None:
        """Count ``n`` problems of ``path`` without describing them (see :meth:`full`)."""
        self.dropped[path] += n

    def extend(self, errors: Iterable[FactError]) -> None:
        for e in errors:
            self.add(e)

    def __bool__(self) -> bool:
        return bool(self.kept or self.dropped)

    def raise_if_any(self) -> None:
        if self:
            raise CaseInvalid(list(self.kept), dict(self.dropped))


class BriefgenError(Exception):
    """Base for every error that is the user's to fix (never shown with a traceback)."""

    exit_code = 1

    def lines(self) -> list[str]:
        return [str(self)]


class CaseInvalid(BriefgenError):
    """The input holds one or more located problems; ``errors`` lists them, sorted by file
    and line; ``more`` counts, per file, those left out of the list."""

    def __init__(self, errors: Iterable[FactError], more: dict[str, int] | None = None):
        self.errors = sorted(set(errors))
        self.more = dict(more or {})
        super().__init__(f"{self.count} problem(s) found")

    @property
    def count(self) -> int:
        return len(self.errors) + sum(self.more.values())

    def lines(self) -> list[str]:
        out = [e.format() for e in self.errors]
        out += [
            f"{path}: {n:,} more problem{'s' if n != 1 else ''} not listed" for path, n in sorted(self.more.items())
        ]
        return out


class UsageError(BriefgenError):
    """The command line itself is wrong (exit code 2)."""

    exit_code = 2


class OutputError(BriefgenError):
    """An output could not be written (folder not writable, disk full, ...)."""
