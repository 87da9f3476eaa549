"""write: put files in place atomically, so a failed or killed build never leaves a
truncated output; a file is either the old one or the complete new one.

A write goes through a temporary file ``.<name>.<pid>.<random>.tmp`` next to the
output. A process killed outright (SIGKILL, power loss) cannot delete its temporary
file; the next write into the same folder removes such leftovers (those whose process
is gone), so they never pile up.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ..errors import OutputError

_TEMP_NAME = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>[0-9]+)\.)?[a-z0-9_]{8}\.tmp$")
"""A temporary file of :func:`write_atomic` (the pid is missing in those of older versions)."""
_STALE_AFTER = 600.0
"""Seconds after which a temporary file whose writer cannot be identified counts as left over."""


def _writer_gone(pid: int) -> bool:
    if pid == os.getpid():
        return False
    if os.name == "nt":  # os.kill would terminate the process there; rely on age instead
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, but belongs to someone else
        return False
    return False


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete temporary files that killed writes left in ``folder``; return what was removed.

    A file counts as left over when the process named in it is gone (or, when no live
    process can be named, when it is older than a few minutes). Writes in progress in
    other processes are never touched.
    """
    removed: list[Path] = []
    try:
        candidates = [p for p in folder.glob(".*.tmp") if p.is_file()]
    except OSError:
        return removed
    now = time.time()
    for p in candidates:
        m = _TEMP_NAME.match(p.name)
        if m is None:  # not one of ours
            continue
        try:
            stale = m["pid"] is not None and _writer_gone(int(m["pid"]))
            stale = stale or now - p.stat().st_mtime > _STALE_AFTER
            if stale:
                p.unlink()
                removed.append(p)
        except OSError:
            continue
    return removed


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` survive a power cut (where the platform allows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_umask_lock = threading.Lock()


def file_mode(marking: str | None = None) -> int:
    """The mode of a new output: what the process's umask allows (as for any file it
    creates), and never readable by others for a briefing marked AMBER or RED."""
    with _umask_lock:  # (reading the umask means setting it; the lock keeps threads apart)
        umask = os.umask(0o077)
        os.umask(umask)
    mode = 0o666 & ~umask
    if marking in RESTRICTED:
        mode &= ~0o007
    return mode


RESTRICTED = frozenset({"AMBER", "AMBER+STRICT", "RED"})
"""Markings whose outputs are never readable by other users of the machine."""


class AtomicFile:
    """A file written a piece at a time into a temporary file next to ``path``, which
    takes the place of ``path`` only at :meth:`commit` (atomically, after an fsync);
    :meth:`discard`, or leaving a ``with`` block without committing, removes it and
    leaves ``path`` as it was. ``sha256`` is the hex digest of what was written; the
    file's mode follows the umask and the ``marking`` (see :func:`file_mode`).

    Left-over temporary files of killed earlier writes in the folder are removed first."""

    def __init__(self, path: Path, marking: str | None = None) -> None:
        self.path = path
        self.mode = file_mode(marking)
        folder = path.parent
        # Folders made for this file, deepest first: a discarded write removes them again
        # (when still empty), so that a failed build leaves no trace.
        self._made = [d for d in (folder, *folder.parents) if not d.exists()]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(folder)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise OutputError(
                f"{folder}: cannot write output here: {exc.strerror}; choose another --out folder or fix its permissions"
            ) from None
        self._tmp = tmp
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self._digest = hashlib.sha256()

    def write(self, data: bytes) -> None:
        assert self._file is not None, "write after commit or discard"
        try:
            self._file.write(data)
        except OSError as exc:
            self.discard()
            raise OutputError(f"{self.path}: cannot write: {exc.strerror}") from None
        self._digest.update(data)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def commit(self) -> None:
        assert self._file is not None, "commit after commit or discard"
        fh, self._file = self._file, None
        try:
            with fh:
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(self._tmp, self.mode)
            os.replace(self._tmp, self.path)
            _sync_folder(self.path.parent)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            if isinstance(exc, OSError):
                raise OutputError(f"{self.path}: cannot write: {exc.strerror}") from None
            raise

    def discard(self) -> None:
        """Remove the temporary file (nothing happens after :meth:`commit`)."""
        fh, self._file = self._file, None
        if fh is not None:
            with contextlib.suppress(OSError):
                fh.close()
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            for made in self._made:
                try:
                    made.rmdir()
                except OSError:  # not empty: another output went there
                    break

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


def write_atomic(path: Path, data: bytes | Iterable[bytes], marking: str | None = None) -> None:
    """Write ``data`` (bytes, or bytes in pieces) to ``path`` via a temporary file in the
    same folder and an atomic rename (see :class:`AtomicFile`)."""
    with AtomicFile(path, marking) as out:
        for piece in [data] if isinstance(data, bytes) else data:
            out.write(piece)
        out.commit()


def safe_name(name: str) -> str:
    """A file-name component that cannot climb out of its folder or hide itself."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip(".-")
    return cleaned[:100] or "unnamed"
