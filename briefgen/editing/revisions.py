"""revisions: read a case folder as it was at a git revision (``REV:PATH``).

``HEAD~1:facts/my-case`` names the folder ``facts/my-case`` (a path as typed here, relative
to the working folder) at revision ``HEAD~1`` of the repository holding it. The folder's
fact files are copied out of git (``git ls-tree`` and ``git cat-file``, never a shell) into
a temporary folder named like the case, so :func:`~briefgen.loader.load_case` reads it as
it reads any other folder; problems are reported at ``REV:PATH/file:line:col``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import CaseInvalid, FactError, UsageError
from ..facts.models import Case

GIT_TIMEOUT = 60
# Only regular files are copied out: a symlink in an old revision could point anywhere
# on this machine, and the loader reads only regular *.yaml files anyway.
_REGULAR_MODES = {"100644", "100755"}


@dataclass(frozen=True)
class CaseSpec:
    """Where a case comes from: a folder on disk, or a folder at a git revision."""

    path: Path
    rev: str | None = None

    @property
    def label(self) -> str:
        return f"{self.rev}:{self.path.as_posix()}" if self.rev else str(self.path)


def parse_spec(text: str) -> CaseSpec:
    """``PATH`` or ``REV:PATH``. An existing folder always wins, so a folder whose name
    holds a colon can still be named; ``REV`` must be non-empty and must not start with '-'
    (so it can never be read as a git option)."""
    if not text:
        raise UsageError("an empty case name was given")
    if Path(text).exists() or ":" not in text:
        return CaseSpec(Path(text))
    rev, _, path = text.partition(":")
    if not rev or rev.startswith("-") or not path:
        raise UsageError(f"'{text}' is neither a case folder nor REV:PATH (e.g. HEAD~1:facts/my-case)")
    return CaseSpec(Path(path), rev)


def _git(args: list[str], cwd: Path, binary: bool = False) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        raise UsageError("REV:PATH needs git, which is not installed or not on the PATH")
    try:
        # No shell; a fixed environment so that a user's pager or prompts cannot interfere.
        env = {**os.environ, "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        return subprocess.run([git, *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        raise UsageError(f"git {' '.join(args[:2])} took longer than {GIT_TIMEOUT}s") from None


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path.cwd()


@contextmanager
def materialise(spec: CaseSpec) -> Iterator[Path]:
    """The case folder of ``spec`` on disk: the folder itself, or for a git revision a
    temporary copy of its fact files (removed on exit). Raises UsageError for a revision
    git does not know or a path outside any repository, CaseInvalid when the revision
    has no such folder."""
    if spec.rev is None:
        yield spec.path
        return
    wanted = (Path.cwd() / spec.path).absolute()
    probe = _existing_ancestor(wanted)
    top = _git(["rev-parse", "--show-toplevel"], probe)
    if top.returncode != 0:
        raise UsageError(f"{spec.label}: {probe} is not inside a git repository")
    root = Path(top.stdout.decode().strip()).resolve()
    # Resolve symlinks in the part that exists (e.g. /tmp → /private/tmp), keep the rest.
    rest = wanted.relative_to(probe)
    try:
        rel = (probe.resolve() / rest).relative_to(root)
    except ValueError:
        raise UsageError(f"{spec.label}: the folder is outside the repository at {root}") from None
    if ".." in rel.parts:
        raise UsageError(f"{spec.label}: the folder is outside the repository at {root}")
    commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{spec.rev}^{{commit}}"], root)
    if commit.returncode != 0:
        raise UsageError(f"{spec.label}: git knows no revision '{spec.rev}' in {root}")
    sha = commit.stdout.decode().strip()
    tree_path = rel.as_posix()
    listing = _git(["ls-tree", "-z", "--full-tree", sha, "--", f"{tree_path}/"], root)
    entries = [e for e in listing.stdout.decode("utf-8", "replace").split("\0") if e]
    if listing.returncode != 0 or not entries:
        raise CaseInvalid([FactError(spec.label, 0, 0, f"no such case folder at revision {spec.rev}")])
    with tempfile.TemporaryDirectory(prefix="briefgen-rev-") as tmp:
        # Named like the case so that the case id (the folder's name) is the same.
        folder = Path(tmp) / (rel.name or root.name)
        folder.mkdir()
        for entry in entries:
            meta, _, name = entry.partition("\t")
            mode, kind, blob = meta.split()
            base = name.rsplit("/", 1)[-1]
            if kind != "blob" or mode not in _REGULAR_MODES or base in ("", ".", ".."):
                continue
            data = _git(["cat-file", "blob", blob], root)
            if data.returncode != 0:
                raise UsageError(f"{spec.label}: git could not read {name}")
            (folder / base).write_bytes(data.stdout)
        yield folder


def relocate(exc: CaseInvalid, folder: Path, spec: CaseSpec) -> CaseInvalid:
    """The same problems, located at ``REV:PATH/file`` instead of the temporary copy."""
    prefixes = {str(folder), str(folder.resolve())}
    out = []
    for e in exc.errors:
        path = e.path
        for prefix in prefixes:
            if path == prefix or path.startswith(prefix + os.sep):
                path = spec.label + path[len(prefix) :].replace(os.sep, "/")
                break
        out.append(FactError(path, e.line, e.col, e.message))
    return CaseInvalid(out)


def load_spec(spec: CaseSpec) -> Case:
    """Load and validate the case ``spec`` names (see :func:`materialise`)."""
    from ..facts.loader import load_case

    with materialise(spec) as folder:
        try:
            return load_case(folder)
        except CaseInvalid as exc:
            if spec.rev is None:
                raise
            raise relocate(exc, folder, spec) from None
