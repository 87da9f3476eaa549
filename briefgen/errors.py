"""Errors that describe a user's mistake, as opposed to a bug in briefgen.

Every user mistake is a :class:`FactError` carrying ``file:line:col`` and a plain
message; a run collects all of them and raises one :class:`CaseInvalid`. The CLI
prints them sorted and exits 1. Anything else that escapes is a bug and keeps its
traceback (the CLI turns it into a short "please file a bug" report).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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


class BriefgenError(Exception):
    """Base for every error that is the user's to fix (never shown with a traceback)."""

    exit_code = 1

    def lines(self) -> list[str]:
        return [str(self)]


class CaseInvalid(BriefgenError):
    """The input holds one or more located problems; ``errors`` lists them all, sorted."""

    def __init__(self, errors: list[FactError]):
        self.errors = sorted(set(errors))
        super().__init__(f"{len(self.errors)} problem(s) found")

    def lines(self) -> list[str]:
        return [e.format() for e in self.errors]


class UsageError(BriefgenError):
    """The command line itself is wrong (exit code 2)."""

    exit_code = 2


class OutputError(BriefgenError):
    """An output could not be written (folder not writable, disk full, ...)."""
