"""load → validate: read a case folder into a validated :class:`~briefgen.models.Case`.

Every problem found is collected (syntax, types, unknown keys, dangling references,
duplicate ids) and raised together as one :class:`~briefgen.errors.CaseInvalid`,
each located at ``file:line:col``.
"""

from __future__ import annotations

import difflib
import gc
import hashlib
import os
import pickle
import re
import types
import typing
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from . import parsecache
from .errors import CaseInvalid, FactError
from .models import ITEM_KINDS, Case
from .models.files import FILE_KINDS, kind_of
from .references import FileIndex, index_file, is_index
from .references import check as check_references
from .yamlsafe import Document, parse_bytes, read_limited

Loc = tuple[str | int, ...]
CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def fact_files(root: Path) -> list[Path]:
    """The YAML files of a case folder, in name order."""
    # build._fact_files repeats this rule (to keep a no-op build light): keep them in step.
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def display_path(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_case(path: str | Path) -> Case:
    """Load and validate the case in folder ``path``.

    Returns the validated :class:`Case`, or raises :class:`CaseInvalid` listing every
    located problem in the folder's files.
    """
    return load_located(path)[0]


Origins = dict[str, list[tuple[Document, Loc]]]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a large, long-lived object graph is built.

    Loading (and then viewing and rendering) a case allocates objects by the million and
    frees almost none; each collection pass scans all that survive, which costs a third
    of the time on a large case. The data holds no reference cycles, so nothing is left
    for the collector to find: pausing it changes only the time. It resumes afterwards
    (unless it was already paused)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        # Re-enabled as is, the collector would scan everything allocated meanwhile at its
        # next pass (a second on a large case). In a one-shot command what survived lives
        # until the process ends: move it out of the collector's sight, as gc.freeze is
        # meant for (still freed by refcount). Not in a long-running process (watch, serve,
        # a library user), where frozen cyclic garbage would never be collected.
        import briefgen

        if briefgen.ONE_SHOT and gc.get_count()[0] > _FREEZE_AFTER:
            gc.freeze()
        gc.enable()


_FREEZE_AFTER = 200_000
"""Objects allocated under :func:`gc_paused` beyond which the survivors are frozen."""


@gc_paused()
def load_located(path: str | Path) -> tuple[Case, Document, Origins]:
    """Like :func:`load_case`, but also returns each item's file and place in it
    (for checks that report on items after validation, such as the archive check)."""
    loaded = _load(Path(path), models=True)
    assert loaded.case is not None and loaded.case_doc is not None
    return loaded.case, loaded.case_doc, loaded.origins


@gc_paused()
def check_case(path: str | Path) -> dict[str, int]:
    """Validate the case in folder ``path`` as :func:`load_case` does (same verdict, same
    errors) and return how many items of each kind it holds, without building the case.

    A large file (see :mod:`briefgen.parsecache`) that validated before, byte for byte,
    is not read or validated again: its cached index of ids and references takes part
    in the case-wide rules. So a large case is re-checked at the cost of what changed."""
    return _load(Path(path), models=False).counts


@dataclass
class _Loaded:
    counts: dict[str, int]
    case: Case | None = None
    case_doc: Document | None = None
    origins: Origins = field(default_factory=dict)


def _load(root: Path, *, models: bool) -> _Loaded:
    """Read, parse and validate every file of a case folder, then apply the case-wide
    rules (:mod:`briefgen.references`); raise CaseInvalid with every problem found.
    ``models`` False (a check) skips large files whose cached index says they validated."""
    shown_root = display_path(root)
    if not root.exists():
        raise CaseInvalid([FactError(shown_root, 0, 0, "case folder does not exist; check the path")])
    if not root.is_dir():
        raise CaseInvalid([FactError(shown_root, 0, 0, "is not a folder; give the case's folder")])
    case_id = root.resolve().name
    errors: list[FactError] = []
    if not CASE_ID.match(case_id):
        errors.append(
            FactError(
                shown_root,
                0,
                0,
                "case folder name must be letters, digits, '-', '_' or '.', starting with a letter "
                "or digit (it becomes the output folder's name)",
            )
        )
    files = fact_files(root)
    if not files:
        raise CaseInvalid([FactError(shown_root, 0, 0, "holds no fact files (*.yaml); start one with 'briefgen new'")])

    hasher = hashlib.sha256()
    file_hashes: dict[str, str] = {}
    validated: dict[str, list[tuple[Document, BaseModel | None, FileIndex]]] = {k: [] for k in FILE_KINDS}
    entries: list[list[Any]] = []  # [kind, shown, bytes, sha256]
    path_of: dict[str, Path] = {}
    jobs = [(f, display_path(f)) for f in files if kind_of(f.stem) is not None and f.suffix == ".yaml"]
    read = _read_all(jobs)
    # Indexes of large files that validated before (a check needs nothing else of them),
    # and, for a load, their validated models (validating a file depends on nothing but
    # its bytes and the code, which the cache entries' names hold).
    known: dict[str, FileIndex] = {}
    stored: dict[str, BaseModel] = {}
    try:
        for f in files:
            shown = display_path(f)
            kind = kind_of(f.stem)
            if kind is None or f.suffix != ".yaml":
                errors.append(FactError.at_file(shown, _unknown_file_message(f)))
                continue
            got = next(read)
            if isinstance(got, CaseInvalid):
                errors.extend(got.errors)
                continue
            raw, sha = got  # (read once, size-checked first: the bytes hashed are the bytes parsed)
            hasher.update(f.name.encode() + b"\0" + sha)
            digest = file_hashes[f.name] = sha.hex()
            path_of[shown] = f
            cached = parsecache.get_index(digest, len(raw), kind)
            if cached is not None and is_index(cached) and cached["kind"] == kind:
                known[shown] = cached
                model = parsecache.get_models(digest, len(raw), kind, FILE_KINDS[kind]) if models else None
                if model is not None:
                    stored[shown] = model
                if model is not None or not models:
                    raw = b""  # (found again from the file, should an error need locating)
            entries.append([kind, shown, raw, digest])
    finally:
        read.close()  # (its thread ends now: forking the parse workers needs a single thread)

    if not models:
        for entry in entries:
            if entry[1] in known:
                unread = Document(entry[1], None, source=(path_of[entry[1]], entry[3]))  # located if need be
                validated[entry[0]].append((unread, None, known[entry[1]]))
        entries = [e for e in entries if e[1] not in known]
        # The rest are parsed, validated and indexed (in worker processes when large):
        # only their indexes, or their errors, come back.
        for entry, result in zip(entries, _check_all(entries), strict=True):
            kind, shown, raw, digest = entry
            if isinstance(result, list):
                errors.extend(result)
                continue
            source = (path_of[shown], digest) if len(raw) >= parsecache.MIN_BYTES else raw
            validated[kind].append((Document(shown, None, source=source), None, _index_of(result)))
        entries = []

    # Files whose models are not in the cache are parsed (in worker processes when
    # large) and validated.
    parsed = _parse_all([e for e in entries if e[1] not in stored])
    field_sets: dict[frozenset[str], set[str]] = {}
    for entry in entries:
        kind, shown, size, digest = entry[0], entry[1], len(entry[2]), entry[3]
        if shown in stored:
            validated[kind].append(
                (Document(shown, None, source=(path_of[shown], digest)), stored.pop(shown), known[shown])
            )
            continue
        doc = next(parsed)
        entry[2] = b""  # parsed: its bytes are no longer needed here
        if isinstance(doc, CaseInvalid):
            errors.extend(doc.errors)
            continue
        valid = _validate(kind, doc)
        if isinstance(valid, list):
            errors.extend(valid)
        else:
            share_field_sets(valid, field_sets)
            index = known.get(shown)
            if index is None:
                index = index_file(kind, valid)
                parsecache.put_index(digest, size, kind, index)
            parsecache.put_models(digest, size, kind, valid)
            validated[kind].append((doc, valid, index))
        # From here on only the marks are needed (found again from the file's text when an
        # error must be located): let the raw data go, which halves a large case's memory;
        # a large file's text is read again should it come to that.
        doc.data = None
        if isinstance(doc.source, bytes) and len(doc.source) >= parsecache.MIN_BYTES:
            doc.source = (path_of[shown], digest)

    if not validated["case"] and not any(e.path.endswith(("case.yaml",)) for e in errors):
        errors.append(FactError(shown_root, 0, 0, "has no case.yaml; every case needs one (title, parties, ...)"))
    if errors:
        raise CaseInvalid(errors)

    # case.yaml first, then each kind's files in name order: the order ids are defined in.
    indexes = [(index, doc) for kind in FILE_KINDS for doc, _, index in validated[kind]]
    errors.extend(check_references(indexes))
    if errors:
        raise CaseInvalid(errors)
    counts: dict[str, int] = dict.fromkeys(["parties", *ITEM_KINDS], 0)
    for index, _doc in indexes:
        for k, n in index["counts"].items():
            counts[k] = counts.get(k, 0) + n
    if not models:
        return _Loaded(counts)

    case_doc, info, _ = validated["case"][0]
    case = Case(id=case_id, root=root, info=info, fingerprint=hasher.hexdigest(), files=file_hashes)  # type: ignore[arg-type]
    origins: Origins = {}
    for kind in ITEM_KINDS:
        items = getattr(case, kind)
        for doc, model_file, _ in validated[kind]:
            for i, item in enumerate(getattr(model_file, kind)):
                items.append(item)
                origins.setdefault(kind, []).append((doc, (kind, i)))
    return _Loaded(counts, case, case_doc, origins)


READ_AHEAD_MIN_BYTES = 4 * 1024 * 1024
"""Fact files (bytes in all) from which a thread reads and hashes them ahead of the load."""


def total_bytes(paths: Iterable[Path]) -> int:
    """The size of these files together, 0 if one cannot be read (the load names the
    problem): how large a case is, before reading it."""
    try:
        return sum(f.stat().st_size for f in paths)
    except OSError:
        return 0


def _read_and_hash(path: Path, shown: str) -> tuple[bytes, bytes] | CaseInvalid:
    try:
        raw = read_limited(path, shown)
    except CaseInvalid as exc:
        return exc
    return raw, hashlib.sha256(raw).digest()


def _read_all(jobs: list[tuple[Path, str]]) -> Generator[tuple[bytes, bytes] | CaseInvalid, None, None]:
    """Each file's bytes and SHA-256 (or why it cannot be read), in order. A large case's
    files are read and hashed by a thread, a few files ahead of the caller, who takes
    their models from the cache meanwhile (reading and hashing release the GIL)."""
    if total_bytes([f for f, _ in jobs]) < READ_AHEAD_MIN_BYTES:
        yield from (_read_and_hash(f, shown) for f, shown in jobs)
        return
    from concurrent.futures import Future, ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="briefgen-read") as pool:
        ahead: deque[Future[tuple[bytes, bytes] | CaseInvalid]] = deque()
        for f, shown in jobs:
            ahead.append(pool.submit(_read_and_hash, f, shown))
            if len(ahead) > 2:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


def _parse(raw: bytes, shown: str, digest: str, *, keep: bool = True) -> Document | CaseInvalid:
    """Parse a fact file, or take its data from the parse cache (large files only).
    ``keep`` False leaves a newly parsed file's data out of the cache (a check, which
    keeps only the file's index: a build stores the data when it parses the file)."""
    data = parsecache.get(digest, len(raw))
    if data is not None:
        return Document(shown, data, source=raw)  # marks, if ever needed, come from the text
    try:
        doc = parse_bytes(raw, shown)
    except CaseInvalid as exc:
        return exc
    if keep and doc.source is not None:  # read by the fast path: plain data, worth keeping
        parsecache.put(digest, len(raw), doc.data)
    return doc


def _holds_models(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_models(a) for a in typing.get_args(annotation))


@cache
def _walk_plan(cls: type[BaseModel]) -> tuple[bool, tuple[str, ...]]:
    """Whether ``cls`` is frozen, and its fields that can hold models (the only ones
    :func:`share_field_sets` need look into)."""
    fields = tuple(name for name, f in cls.model_fields.items() if _holds_models(f.annotation))
    return bool(cls.model_config.get("frozen")), fields


def share_field_sets(model: BaseModel, shared: dict[frozenset[str], set[str]]) -> None:
    """Give the frozen models in ``model`` one set of field names per distinct set.

    Pydantic gives every model its own ``model_fields_set``, a set of the names given in
    the YAML; a set takes 200 bytes and more, as much as the rest of a small model, and a
    large case holds the same few sets hundreds of thousands of times (at 1000x the
    default case: 200 MiB of the validated case's 710). A frozen model's set never
    changes (pydantic changes it only on assignment, which a frozen model refuses; copies
    get copies), so equal sets can be one object: ``shared`` maps each distinct set to it."""
    stack: list[Any] = [model]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if isinstance(node, BaseModel):
            frozen, fields = _walk_plan(type(node))
            if frozen:
                own = node.__pydantic_fields_set__
                one = shared.setdefault(frozenset(own), own)
                if one is not own:
                    object.__setattr__(node, "__pydantic_fields_set__", one)
            values = node.__dict__
            for name in fields:
                push(values[name])
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())


def _validate(kind: str, doc: Document) -> BaseModel | list[FactError]:
    """A parsed file validated against its kind's model, or its located errors."""
    model = FILE_KINDS[kind]
    if not isinstance(doc.data, dict):
        return [doc.error((), f"a {kind} file must be a mapping (key: value lines) at its top level")]
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        return translate(exc, doc, model)


def _check_file(kind: str, raw: bytes, shown: str, digest: str) -> bytes | list[FactError]:
    """What a check needs of one file: parsed, validated and indexed, or its located
    errors. Plain data either way (it may run in a worker). The index comes pickled, as
    it is cached for next time: pickled once for both (:func:`_index_of` reads it)."""
    doc = _parse(raw, shown, digest, keep=False)
    if isinstance(doc, CaseInvalid):
        return list(doc.errors)
    valid = _validate(kind, doc)
    if isinstance(valid, list):
        return valid
    blob = pickle.dumps(index_file(kind, valid), protocol=pickle.HIGHEST_PROTOCOL)
    parsecache.put_index_pickled(digest, len(raw), kind, blob)
    return blob


def _index_of(blob: bytes) -> FileIndex:
    """The index :func:`_check_file` made (our own pickle: trusted, unlike the cache's)."""
    index: FileIndex = pickle.loads(blob)
    return index


def _check_all(entries: list[list[Any]]) -> Iterator[bytes | list[FactError]]:
    """:func:`_check_file` of each entry, in order; large files in worker processes, so
    that a large case's first check parses and validates on every core."""
    return _each_in_order(entries, _check_file, lambda e: len(e[2]) >= parsecache.MIN_BYTES)


def _each_in_order(
    entries: list[list[Any]], job: Callable[..., Any], worth: Callable[[list[Any]], bool]
) -> Iterator[Any]:
    """``job(kind, raw, shown, digest)`` for each entry, results in order. The entries
    ``worth`` picks (large files with work to do) go to one forked worker per core when
    they come to :data:`PARALLEL_MIN_BYTES` in all, and the fork is safe (:func:`can_fork`);
    the rest run here, between results handed over as they arrive."""
    global _FORKED_ENTRIES
    todo = [i for i, e in enumerate(entries) if worth(e)]
    workers = min(len(todo), os.cpu_count() or 1)
    if workers < 2 or sum(len(entries[i][2]) for i in todo) < PARALLEL_MIN_BYTES or not can_fork():
        for kind, shown, raw, digest in entries:
            yield job(kind, raw, shown, digest)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # The workers are forked with the entries in memory: each job is sent as its number,
    # not as the file's bytes (which would be pickled, piped and unpickled: 170 MB for a
    # large case, in both processes' time).
    _FORKED_ENTRIES = entries
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            # Largest first, so that no core is left with one large file at the end.
            todo.sort(key=lambda i: -len(entries[i][2]))
            futures = {i: pool.submit(_forked_job, job, i) for i in todo}
            del todo
            for i, (kind, shown, raw, digest) in enumerate(entries):
                future = futures.pop(i, None)
                yield job(kind, raw, shown, digest) if future is None else future.result()
    finally:
        _FORKED_ENTRIES = []


_FORKED_ENTRIES: list[list[Any]] = []
"""The entries of :func:`_each_in_order` while its workers run (they are forked with it)."""


def _forked_job(job: Callable[..., Any], i: int) -> Any:
    kind, shown, raw, digest = _FORKED_ENTRIES[i]
    return job(kind, raw, shown, digest)


def _parse_in_worker(_kind: str, raw: bytes, shown: str, digest: str) -> Document | list[FactError]:
    doc = _parse(raw, shown, digest)
    if isinstance(doc, CaseInvalid):
        return list(doc.errors)  # (plain data crosses between processes; the exception may not)
    doc.source = None  # the parent has the bytes: do not send them back
    return doc


PARALLEL_MIN_BYTES = 8 * 1024 * 1024
"""Files not in the parse cache are parsed in worker processes (one per core) when they
come to this much: below it, starting the workers costs more than it saves."""


def _parse_all(entries: list[list[Any]]) -> Iterator[Document | CaseInvalid]:
    """Each entry's parsed document (or its errors), in order. A large case whose files
    are not in the parse cache is parsed by one worker per core, its documents handed
    over (and validated by the caller) as they arrive, in order."""

    def worth(entry: list[Any]) -> bool:
        size = len(entry[2])
        return size >= parsecache.MIN_BYTES and not parsecache.has(entry[3], size)

    for entry, doc in zip(entries, _each_in_order(entries, _parse_in_worker, worth), strict=True):
        if isinstance(doc, list):
            yield CaseInvalid(doc)
            continue
        if doc.source is None and not doc.marks:
            doc.source = entry[2]  # read by the fast path: marks come from the text if needed
        yield doc


def can_fork() -> bool:
    """Workers are forked (they start at once, with everything imported) only where fork
    exists and only from a single-threaded process (``serve`` runs threads: forking one
    could copy a lock held by another thread)."""
    import multiprocessing
    import threading

    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and os.environ.get("BRIEFGEN_WORKERS") != "1"
    )


def _unknown_file_message(f: Path) -> str:
    if f.suffix == ".yml":
        return "fact files end in .yaml; rename this file"
    known = list(FILE_KINDS)
    close = difflib.get_close_matches(f.stem, known, n=1)
    hint = f" (did you mean {close[0]}.yaml?)" if close else ""
    return (
        f"'{f.name}' is not a kind of fact file{hint}; names are "
        + ", ".join(f"{k}.yaml" for k in known)
        + ", or <kind>-<part>.yaml to split a kind"
    )


# ---------------------------------------------------------------- errors


def _unwrap(tp: Any) -> Any:
    """Strip Annotated, Optional and list wrappers down to the element type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0] if len(args) == 1 else tp
            if len(args) != 1:
                return tp
        elif origin is list:
            tp = typing.get_args(tp)[0]
        else:
            return tp


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc``."""
    current: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        f = current.model_fields.get(part)
        if f is None:
            return None
        current = _unwrap(f.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the yes/no value {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing (null)"
    return repr(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def translate(exc: ValidationError, doc: Document, root: type[BaseModel]) -> list[FactError]:
    """Turn Pydantic's errors into located messages an analyst understands."""
    out = []
    for err in exc.errors(include_url=False):
        loc: Loc = tuple(err["loc"])
        etype = err["type"]
        value = err.get("input")
        ctx = err.get("ctx") or {}
        field = next((str(p) for p in reversed(loc) if isinstance(p, str)), "value")
        key = False
        if etype == "missing":
            model = _model_at(root, loc[:-1])
            desc = ""
            if model is not None and field in model.model_fields:
                d = model.model_fields[field].description
                desc = f" ({d.rstrip('.')})" if d else ""
            out.append(doc.error(loc[:-1], f"required field '{field}' is missing{desc}"))
            continue
        if etype == "extra_forbidden":
            model = _model_at(root, loc[:-1])
            allowed = list(model.model_fields) if model else []
            close = difflib.get_close_matches(field, allowed, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            msg = f"unknown field '{field}'; {hint}allowed here: {', '.join(allowed)}"
            out.append(doc.error(loc, msg, key=True))
            continue
        if etype == "string_type":
            msg = f"'{field}' must be text, but YAML read {_describe(value)}"
            if isinstance(value, (bool, int, float)):
                msg += "; put the value in quotes"
        elif etype in ("int_type", "int_parsing", "int_from_float"):
            msg = f"'{field}' must be a whole number, not {_describe(value)}"
        elif etype == "bool_type":
            msg = f"'{field}' must be true or false, not {_describe(value)} (yes/no/on/off are not used)"
        elif etype == "literal_error":
            msg = f"{_short(value)} is not allowed for '{field}'; use one of: {ctx.get('expected', '')}"
        elif etype in ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"):
            msg = f"{_short(value)} is not a valid date for '{field}': {ctx.get('error', 'use YYYY-MM-DD')}"
            if "month value is outside" in msg or "day value is outside" in msg:
                msg = f"{_short(value)} is not a real calendar date ('{field}')"
        elif etype == "string_pattern_mismatch":
            pattern = ctx.get("pattern", "")
            if "a-z0-9" in pattern:
                msg = (
                    f"{_short(value)} is not a valid id for '{field}': use lower-case letters, digits "
                    "and hyphens, starting with a letter or digit"
                )
            elif "#[0-9a-fA-F]" in pattern:
                msg = f"{_short(value)} is not a colour; write it as #RRGGBB (e.g. #1f6f8b)"
            elif "https?" in pattern:
                msg = f"{_short(value)} is not a web address; it must start with http:// or https://"
            else:
                msg = f"{_short(value)} is not in the expected form for '{field}'"
        elif etype == "string_too_short":
            msg = f"'{field}' must not be empty"
        elif etype == "string_too_long":
            msg = f"'{field}' is longer than {ctx.get('max_length')} characters; shorten it or split it"
        elif etype == "too_short":
            msg = f"'{field}' needs at least {ctx.get('min_length')} entr{'y' if ctx.get('min_length') == 1 else 'ies'}"
        elif etype in ("list_type",):
            msg = f"'{field}' must be a list (lines starting with '- '), not {_describe(value)}"
        elif etype in ("model_type", "dict_type", "model_attributes_type"):
            msg = f"'{field}' must be a mapping (indented 'key: value' lines), not {_describe(value)}"
        elif etype in ("greater_than_equal", "less_than_equal"):
            bound = ctx.get("ge", ctx.get("le"))
            word = "at least" if etype == "greater_than_equal" else "at most"
            msg = f"'{field}' must be {word} {bound}, not {_describe(value)}"
        elif etype == "value_error":
            msg = str(ctx.get("error", err["msg"]))
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            if field != "value" and not isinstance(loc[-1], int) and etype and loc:
                msg = f"'{field}': {msg}"
        else:
            msg = f"'{field}': {err['msg']}"
        out.append(doc.error(loc, msg, key=key))
    return out
