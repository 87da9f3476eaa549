"""load → validate: read a case folder into a validated :class:`~briefgen.models.Case`.

Every problem found is collected (syntax, types, unknown keys, dangling references,
duplicate ids, and with an archive, excerpts that are not verbatim) and raised together
as one :class:`~briefgen.errors.CaseInvalid`, each located at ``file:line:col``. Items
are validated one by one, so a mistake in one event leaves the others to be checked,
and the case-wide rules run on every item that validated.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from ..errors import CaseInvalid, FactError, Problems
from .models import ITEM_KINDS, Case
from .models.common import partial_date_end
from .models.files import FILE_KINDS, ITEM_MODELS, kind_of
from .rules import Origin, Placed
from .rules import check as check_references
from .yamlread import Document, parse_bytes, read_limited

Loc = tuple[str | int, ...]
CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def fact_files(root: Path) -> list[Path]:
    """The YAML files of a case folder, in name order."""
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def display_path(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass
class Loaded:
    """What a load found: the case (None when case.yaml did not validate), where each item
    came from, every problem, and warnings (worth a look, but no reason to stop)."""

    case: Case | None
    case_doc: Document | None
    origins: dict[int, Origin] = field(default_factory=dict)
    """``id()`` of each validated item (and narrative, key figure, party) → its origin."""
    problems: Problems = field(default_factory=Problems)
    warnings: list[FactError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    sources: list[Any] = field(default_factory=list)
    """The sources that validated (even when the rest of the case did not)."""

    def origin(self, item: Any) -> Origin:
        return self.origins[id(item)]


def load_case(path: str | Path) -> Case:
    """Load and validate the case in folder ``path``.

    Returns the validated :class:`Case`, or raises :class:`CaseInvalid` listing every
    located problem in the folder's files.
    """
    loaded = load(Path(path))
    loaded.problems.raise_if_any()
    assert loaded.case is not None
    return loaded.case


def check_case(path: str | Path, archive: Path | None = None) -> Loaded:
    """Validate the case in folder ``path`` as :func:`load_case` does, and with ``archive``
    also check every excerpt against the archived sources. Raises CaseInvalid with every
    problem of both kinds; returns the load (counts and warnings) when there is none."""
    loaded = load(Path(path))
    if archive is not None and loaded.case is not None:
        from .archive import check_archive

        loaded.problems.extend(check_archive(loaded.case, loaded.origin, archive))
    loaded.problems.raise_if_any()
    return loaded


def load(root: Path) -> Loaded:
    """Read, parse and validate every file of a case folder, then apply the case-wide
    rules to everything that validated. Problems are collected, not raised."""
    shown_root = display_path(root)
    if not root.exists():
        raise CaseInvalid([FactError(shown_root, 0, 0, "case folder does not exist; check the path")])
    if not root.is_dir():
        raise CaseInvalid([FactError(shown_root, 0, 0, "is not a folder; give the case's folder")])
    case_id = root.resolve().name
    loaded = Loaded(None, None)
    problems = loaded.problems
    if not CASE_ID.match(case_id):
        problems.add(
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
    info: Any = None
    found: dict[str, list[tuple[Any, Origin]]] = {k: [] for k in ITEM_KINDS}
    invalid_ids: set[str] = set()
    invalid_groups: set[str] = set()  # shared motive groups one of whose motives did not validate
    case_seen = False
    for f in files:
        shown = display_path(f)
        kind = kind_of(f.stem)
        if kind is None or f.suffix != ".yaml":
            problems.add(FactError.at_file(shown, _unknown_file_message(f)))
            continue
        try:
            raw = read_limited(f, shown)
            sha = hashlib.sha256(raw).digest()
            hasher.update(f.name.encode() + b"\0" + sha)
            file_hashes[f.name] = sha.hex()
            doc = parse_bytes(raw, shown)
        except CaseInvalid as exc:
            problems.extend(exc.errors)
            continue
        if not isinstance(doc.data, dict):
            problems.add(doc.error((), f"a {kind} file must be a mapping (key: value lines) at its top level"))
            continue
        if kind == "case":
            case_seen = True
            try:
                info = FILE_KINDS["case"].model_validate(doc.data)
                loaded.case_doc = doc
            except ValidationError as exc:
                problems.extend(translate(exc, doc, FILE_KINDS["case"]))
                invalid_ids.update(_raw_ids(doc.data.get("parties")) | _raw_ids(doc.data.get("key_figures")))
            continue
        for index, item in _validate_items(kind, doc, problems, invalid_ids, invalid_groups):
            found[kind].append((item, Origin(doc, (kind, index))))

    if not case_seen and not any(e.path.endswith("case.yaml") for e in problems.kept):
        problems.add(FactError(shown_root, 0, 0, "has no case.yaml; every case needs one (title, parties, ...)"))

    placed: list[Placed] = []
    if info is not None:
        assert loaded.case_doc is not None
        doc = loaded.case_doc
        for i, p in enumerate(info.parties):
            placed.append(Placed("parties", p, Origin(doc, ("parties", i))))
        for i, kf in enumerate(info.key_figures):
            placed.append(Placed("key_figures", kf, Origin(doc, ("key_figures", i))))
    placed += [Placed(kind, item, origin) for kind in ITEM_KINDS for item, origin in found[kind]]
    if info is not None:
        for part in ("bluf", "overview", "outlook"):
            for i, n in enumerate(getattr(info, part)):
                placed.append(Placed(part, n, Origin(loaded.case_doc, (part, i))))  # type: ignore[arg-type]
        for i, party in enumerate(info.parties):
            if party.summary is not None:
                placed.append(Placed("bluf", party.summary, Origin(loaded.case_doc, ("parties", i, "summary"))))  # type: ignore[arg-type]
    problems.extend(
        check_references(
            [p for p in placed if hasattr(p.item, "id")], frozenset(invalid_ids), frozenset(invalid_groups)
        )
    )
    problems.extend(_narrative_refs(placed, invalid_ids))

    loaded.origins = {id(p.item): p.origin for p in placed}
    loaded.sources = [item for item, _ in found["sources"]]
    loaded.counts = {"parties": len(info.parties) if info else 0, **{k: len(found[k]) for k in ITEM_KINDS}}
    if info is None:
        return loaded
    case = Case(id=case_id, root=root, info=info, fingerprint=hasher.hexdigest(), files=file_hashes)
    for kind in ITEM_KINDS:
        getattr(case, kind).extend(item for item, _ in found[kind])
    loaded.case = case
    loaded.warnings = _warnings(loaded)
    return loaded


def _narrative_refs(placed: list[Placed], invalid_ids: set[str]) -> list[FactError]:
    """Sources cited by the bottom line, overview and outlook paragraphs must exist."""
    from .rules import source_refs

    sources = {p.item.id for p in placed if p.kind == "sources"} | invalid_ids
    errors = []
    for p in placed:
        if p.kind in ("bluf", "overview", "outlook"):
            for ref, loc in source_refs(p.item):
                if ref not in sources:
                    close = difflib.get_close_matches(ref, sorted(sources), n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    errors.append(p.origin.error(loc, f"no source has the id '{ref}'{hint}"))
    return errors


def _warnings(loaded: Loaded) -> list[FactError]:
    """Things worth a second look that do not stop a build."""
    case = loaded.case
    assert case is not None
    out = []
    as_of: dt.date = case.info.as_of
    for e in case.events:
        if e.upcoming and partial_date_end(e.when.end or e.when.date) < as_of:
            out.append(
                loaded.origin(e).error(
                    ("upcoming",),
                    f"warning: marked upcoming but dated {e.when.date}, before the case's as-of date "
                    f"{as_of.isoformat()}; did it happen (set upcoming: false) or is the date wrong?",
                    key=True,
                )
            )
    return out


def _raw_ids(value: Any) -> set[str]:
    """The ``id`` strings of a list of raw mappings (items that may not have validated)."""
    if not isinstance(value, list):
        return set()
    return {v["id"] for v in value if isinstance(v, dict) and isinstance(v.get("id"), str)}


def _validate_items(
    kind: str, doc: Document, problems: Problems, invalid_ids: set[str], invalid_groups: set[str]
) -> list[tuple[int, Any]]:
    """The items of a list file that validate, each with its index; the problems of the
    others go to ``problems`` (each item on its own, so that one mistake hides nothing),
    their ids to ``invalid_ids`` and their shared groups to ``invalid_groups``."""
    data = doc.data
    items = data.get(kind)
    try:  # the file's own shape: its one key, holding a list
        FILE_KINDS[kind].model_validate({**data, kind: []} if isinstance(items, list) else data)
    except ValidationError as exc:
        problems.extend(translate(exc, doc, FILE_KINDS[kind]))
        return []
    model = ITEM_MODELS[kind]
    out = []
    for i, raw in enumerate(items):
        try:
            out.append((i, model.model_validate(raw)))
        except ValidationError as exc:
            if problems.full(doc.path):  # a flood: counted, not described
                problems.count(doc.path, exc.error_count())
            else:
                problems.extend(translate(exc, doc, model, prefix=(kind, i)))
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                invalid_ids.add(raw["id"])
            if isinstance(raw, dict) and isinstance(raw.get("shared"), str):
                invalid_groups.add(raw["shared"])
    return out


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
        if origin is typing.Annotated or origin is list:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
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


RENAMED: dict[str, str] = {
    "mirror": "give every motive of a shared group the same 'shared: <name>' (any number of parties)",
    "summary_limit": "a profile limits lists with 'limits: {motives: N, key_figures: N, indicators: N}'",
}
"""Fields of earlier versions → what to write instead (said when one is met)."""


def _message(err: Any, root: type[BaseModel], loc: Loc) -> tuple[str, Loc, bool]:
    """(message, where, at the key) for one of Pydantic's errors."""
    etype = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    field = next((str(p) for p in reversed(loc) if isinstance(p, str)), "value")
    if etype == "missing":
        model = _model_at(root, loc[:-1])
        desc = ""
        if model is not None and field in model.model_fields:
            d = model.model_fields[field].description
            desc = f" ({d.rstrip('.')})" if d else ""
        return f"required field '{field}' is missing{desc}", loc[:-1], False
    if etype == "extra_forbidden":
        if field in RENAMED:
            return f"'{field}' is no longer used: {RENAMED[field]}", loc, True
        model = _model_at(root, loc[:-1])
        allowed = list(model.model_fields) if model else []
        close = difflib.get_close_matches(field, allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"unknown field '{field}'; {hint}allowed here: {', '.join(allowed)}", loc, True
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
    elif etype == "too_long":
        msg = f"'{field}' has more than {ctx.get('max_length'):,} entries"
    elif etype == "list_type":
        msg = f"'{field}' must be a list (lines starting with '- '), not {_describe(value)}"
    elif etype in ("model_type", "dict_type", "model_attributes_type"):
        msg = f"'{field}' must be a mapping (indented 'key: value' lines), not {_describe(value)}"
    elif etype in ("greater_than_equal", "less_than_equal"):
        bound = ctx.get("ge", ctx.get("le"))
        word = "at least" if etype == "greater_than_equal" else "at most"
        msg = f"'{field}' must be {word} {bound}, not {_describe(value)}"
    elif etype == "value_error":
        msg = str(ctx.get("error", err["msg"])).removeprefix("Value error, ")
        if field != "value" and loc and not isinstance(loc[-1], int):
            msg = f"'{field}': {msg}"
    else:
        msg = f"'{field}': {err['msg']}"
    return msg, loc, False


def translate(exc: ValidationError, doc: Document, root: type[BaseModel], prefix: Loc = ()) -> list[FactError]:
    """Turn Pydantic's errors into located messages an analyst understands. ``root`` is the
    model that was validated, ``prefix`` where its data sits in ``doc``."""
    out = []
    for err in exc.errors(include_url=False):
        message, loc, key = _message(err, root, tuple(err["loc"]))
        out.append(doc.error((*prefix, *loc), message, key=key))
    return out
