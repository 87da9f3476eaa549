"""A cache of parsed fact files (and of their indexes and validated models), so that a
large case re-reads only the files that changed.

Reading YAML is the slowest step of loading a large case (about 10 MB a second per
core with libyaml); unpickling the same data is some ten times faster. A fact file of
at least :data:`MIN_BYTES` that parses cleanly has its data (plain dicts, lists, text,
numbers) stored under the SHA-256 of its bytes; the next load of a file with exactly
those bytes takes the data from the cache and validates it (unless its validated
models were stored too, see below). Marks (line and column of each value) are not
stored: as for any file read by the fast path, they are worked out from the file's
text if an error has to be located.

A file that also validated has its :class:`~briefgen.references.FileIndex` (the ids it
defines and the references it makes, with their places) stored the same way, under its
SHA-256, its kind and :func:`engine_key` (the code and libraries that validate it): ``briefgen
check`` takes a file's verdict from there instead of validating it again, which is sound
because validating a file depends on nothing but its bytes and that code. For the same
reason a build stores the file's validated models under the same name
(:func:`put_models`) and the next load of those bytes takes them from there instead of
validating the data again; their unpickler admits only briefgen's model classes and
dates, and the result must be the model of the file's kind.

Where: ``$BRIEFGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/briefgen``, else
``~/.cache/briefgen``; ``BRIEFGEN_CACHE_DIR=off`` turns the cache off. Entries are
named by content, so copies of a case share them and a stale entry cannot be
served; the folder is trimmed to :data:`MAX_TOTAL_BYTES`, oldest first. An entry that
cannot be read (truncated, from another briefgen version, not data) is ignored and
rewritten. Unpickling a data or index entry refuses every global, so such an entry can
only ever hold data.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import sys
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from . import __version__

T = TypeVar("T")

MIN_BYTES = 256 * 1024
"""Smaller files parse in a few milliseconds: they are not cached."""
MAX_TOTAL_BYTES = 2 * 1024**3
FORMAT = f"1-{__version__}-py{sys.version_info[0]}.{sys.version_info[1]}"
"""Part of every entry's name: a new reader or Python never reads an old entry."""


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is turned off."""
    env = os.environ.get("BRIEFGEN_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "no", "false") else Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "briefgen"


def _entry(folder: Path, digest: str) -> Path:
    return folder / "parsed" / digest[:2] / f"{digest}.{FORMAT}.pickle"


def _index_entry(folder: Path, digest: str, kind: str) -> Path:
    return folder / "index" / digest[:2] / f"{digest}.{kind}.{engine_key()}.pickle"


def _models_entry(folder: Path, digest: str, kind: str) -> Path:
    return folder / "models" / digest[:2] / f"{digest}.{kind}.{engine_key()}.pickle"


@cache
def engine_key() -> str:
    """A digest of everything that decides whether a file validates and what its index
    holds: the source of the reader (and its part in C, where built), the models and the
    rules, and the versions of briefgen, Pydantic and Python. Any change to them makes
    every cached index unused."""
    import importlib.util

    import pydantic_core

    here = Path(__file__).parent
    h = hashlib.sha256(f"{FORMAT}-{pydantic_core.__version__}".encode())
    for name in ("yamlsafe.py", "textmatch.py", "references.py", "loader.py", "models"):
        target = here / name
        for path in sorted(target.glob("*.py")) if target.is_dir() else [target]:
            with contextlib.suppress(OSError):
                h.update(path.name.encode() + b"\0" + path.read_bytes())
    fast = importlib.util.find_spec(f"{__package__}._yamlfast")
    if fast is not None and fast.origin:
        with contextlib.suppress(OSError):
            h.update(b"_yamlfast\0" + Path(fast.origin).read_bytes())
    return h.hexdigest()[:20]


class _DataOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"a cache entry may hold only data, not {module}.{name}")


_DATES = frozenset({"date", "datetime", "time", "timedelta", "timezone"})


class _ModelsOnly(pickle.Unpickler):
    """Data, and instances of briefgen's own models (and dates): the classes a validated
    fact file is made of, and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "datetime" and name in _DATES:
            return super().find_class(module, name)
        if module.startswith(f"{__package__}.models.") and "." not in name:
            from pydantic import BaseModel

            found = super().find_class(module, name)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
        raise pickle.UnpicklingError(f"a models entry may not hold {module}.{name}")


def _read(path: Path, reader: type[pickle.Unpickler] = _DataOnly) -> Any | None:
    try:
        with open(path, "rb") as fh:
            data = reader(io.BufferedReader(fh, 1 << 20)).load()
    except FileNotFoundError:
        return None
    except Exception:  # a damaged or foreign entry: ignore it (the next put replaces it)
        return None
    if reader is _DataOnly and not isinstance(data, dict):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: trimmed last
    return data


def _write(folder: Path, path: Path, data: Any) -> None:
    try:
        blob = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, RecursionError, ValueError):
        return
    _write_blob(folder, path, blob)


def _write_blob(folder: Path, path: Path, blob: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        # Readable and writable by the user alone, at every level it creates.
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.parent.parent.mkdir(exist_ok=True, mode=0o700)
        path.parent.mkdir(exist_ok=True, mode=0o700)
        with open(tmp, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return
    _trim(folder)


def get(digest: str, size: int) -> Any | None:
    """The cached data of a file with this SHA-256 (hex) and size, or None."""
    folder = cache_dir() if size >= MIN_BYTES else None
    return None if folder is None else _read(_entry(folder, digest))


def has(digest: str, size: int) -> bool:
    """Whether a file with this SHA-256 and size would be served from the cache."""
    folder = cache_dir() if size >= MIN_BYTES else None
    return folder is not None and _entry(folder, digest).is_file()


def put(digest: str, size: int, data: Any) -> None:
    """Store a file's parsed data. Never fails: a cache that cannot be written is skipped."""
    folder = cache_dir() if size >= MIN_BYTES else None
    if folder is not None and isinstance(data, dict):
        _write(folder, _entry(folder, digest), data)


def get_index(digest: str, size: int, kind: str) -> Any | None:
    """The cached index of a file (of ``kind``) that validated, or None."""
    folder = cache_dir() if size >= MIN_BYTES else None
    return None if folder is None else _read(_index_entry(folder, digest, kind))


def put_index(digest: str, size: int, kind: str, index: Any) -> None:
    """Store the index of a file that validated (never fails, as :func:`put`)."""
    folder = cache_dir() if size >= MIN_BYTES else None
    if folder is not None and isinstance(index, dict):
        _write(folder, _index_entry(folder, digest, kind), index)


def put_index_pickled(digest: str, size: int, kind: str, blob: bytes) -> None:
    """:func:`put_index` of an index already pickled (by a worker that sends the same
    bytes to its parent: pickled once, not twice)."""
    folder = cache_dir() if size >= MIN_BYTES else None
    if folder is not None:
        _write_blob(folder, _index_entry(folder, digest, kind), blob)


def get_models(digest: str, size: int, kind: str, model: type[T]) -> T | None:
    """The validated model of a file (of ``kind``, whose model is ``model``) stored by
    :func:`put_models`, or None."""
    folder = cache_dir() if size >= MIN_BYTES else None
    found = None if folder is None else _read(_models_entry(folder, digest, kind), _ModelsOnly)
    return found if type(found) is model else None


def put_models(digest: str, size: int, kind: str, valid: Any) -> None:
    """Store the validated model of a file (never fails, as :func:`put`)."""
    folder = cache_dir() if size >= MIN_BYTES else None
    if folder is not None:
        _write(folder, _models_entry(folder, digest, kind), valid)


def _trim(folder: Path) -> None:
    """Delete the least recently used entries while the folder holds more than the limit."""
    try:
        entries = [(p.stat(), p) for p in folder.glob("*/*/*.pickle")]
    except OSError:
        return
    total = sum(st.st_size for st, _ in entries)
    if total <= MAX_TOTAL_BYTES:
        return
    for st, p in sorted(entries, key=lambda e: e[0].st_mtime):
        try:
            p.unlink()
        except OSError:
            continue
        total -= st.st_size
        if total <= MAX_TOTAL_BYTES:
            return
