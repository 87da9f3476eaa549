"""The rules that span a case's files: ids unique across the case, every reference naming
an item of the right kind, mirror motives that agree.

They are applied in two steps, so that a large case need not be validated again to be
checked. :func:`index_file` lists what one validated file defines and what it refers to,
each with its place in the file (plain data: the index of a large file is cached next to
its parsed data, see :mod:`briefgen.parsecache`); :func:`check` applies the rules to the
indexes of all the files. Both ``briefgen check`` and every build go through these two
steps, so there is one statement of the rules.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Iterator
from typing import Any, TypedDict

from pydantic import BaseModel

from .errors import FactError
from .yamlsafe import Document

Loc = tuple[str | int, ...]

# What a reference must name, by the key stored in an index: the kinds of item accepted
# and how the message calls it. "fact" is any item but a party or a source.
WANTED: dict[str, tuple[frozenset[str] | None, str]] = {
    "source": (frozenset({"source"}), "source"),
    "event": (frozenset({"event"}), "event"),
    "party": (frozenset({"party"}), "party"),
    "actor": (frozenset({"actor"}), "actor"),
    "motive": (frozenset({"motive"}), "motive"),
    "fact": (None, "fact item"),
}

# The reference fields of each kind of item beyond citations: (field, what it names).
ITEM_REFS: dict[str, tuple[tuple[str, str], ...]] = {
    "actors": (("party", "party"),),
    "events": (("parties", "party"), ("actors", "actor")),
    "motives": (("party", "party"), ("mirror", "motive")),
    "rationales": (("party", "party"),),
    "judgments": (("rests_on", "fact"),),
    "assessments": (("analyst", "actor"),),
    "reactions": (("actor", "actor"),),
}


class FileIndex(TypedDict):
    """What one fact file defines and refers to (plain data, so it can be cached)."""

    kind: str
    counts: dict[str, int]
    """Items of each kind the file holds (``parties`` too, for case.yaml)."""
    ids: list[tuple[str, str, Loc]]
    """``(id, what, place of the item)``; ``what`` is "party", "event", "key figure"..."""
    refs: list[tuple[str, str, Loc]]
    """``(id referred to, key of WANTED, place of the reference)``."""
    motives: list[tuple[str, str, str | None, Loc]]
    """``(id, party, mirror, place)`` of each motive (for the mirror rules)."""


# ---------------------------------------------------------------- step 1: index a file


_CITATION_FIELDS = ("source", "resolved_against")
_PLANS: dict[type, tuple[tuple[str, bool], ...]] = {}
_PLANNING: set[type] = set()


def _plan(cls: type[BaseModel]) -> tuple[tuple[str, bool], ...]:
    """The fields of a model that may hold a `source` reference: ``(name, True)`` for a
    reference itself, ``(name, False)`` for a field whose type holds models that may
    (worked out once per class from the annotations; every other field is skipped)."""
    plan = _PLANS.get(cls)
    if plan is None:
        _PLANNING.add(cls)

        def holds_refs(tp: Any) -> bool:
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                return tp in _PLANNING or bool(_plan(tp))  # (a model within itself: walk it)
            return any(holds_refs(arg) for arg in typing.get_args(tp))

        plan = tuple(
            (name, name in _CITATION_FIELDS)
            for name, field in cls.model_fields.items()
            if name in _CITATION_FIELDS or holds_refs(field.annotation)
        )
        _PLANS[cls] = plan
        _PLANNING.discard(cls)
    return plan


def _walk_citations(obj: Any, loc: Loc, out: list[tuple[str, str, Loc]]) -> None:
    """Append every `source` reference inside ``obj`` (citations, casualty reports, positions)."""
    if isinstance(obj, BaseModel):
        for name, is_ref in _plan(type(obj)):
            value = getattr(obj, name)
            if is_ref:
                if isinstance(value, str):
                    out.append((value, "source", (*loc, name)))
            elif isinstance(value, (BaseModel, list)):
                _walk_citations(value, (*loc, name), out)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _walk_citations(v, (*loc, i), out)


def index_file(kind: str, model: BaseModel) -> FileIndex:
    """The index of one validated fact file of ``kind`` (a key of FILE_KINDS)."""
    ids: list[tuple[str, str, Loc]] = []
    refs: list[tuple[str, str, Loc]] = []
    motives: list[tuple[str, str, str | None, Loc]] = []
    counts: dict[str, int] = {}
    if kind == "case":
        info: Any = model
        counts["parties"] = len(info.parties)
        ids.extend((p.id, "party", ("parties", i)) for i, p in enumerate(info.parties))
        ids.extend((kf.id, "key figure", ("key_figures", i)) for i, kf in enumerate(info.key_figures))
        _walk_citations(info, (), refs)
        for i, kf in enumerate(info.key_figures):
            refs.extend((ev, "event", ("key_figures", i, "events", j)) for j, ev in enumerate(kf.events))
        return FileIndex(kind=kind, counts=counts, ids=ids, refs=refs, motives=motives)
    items = getattr(model, kind)
    counts[kind] = len(items)
    what = kind[:-1]
    fields = ITEM_REFS.get(kind, ())
    for i, item in enumerate(items):
        loc: Loc = (kind, i)
        ids.append((item.id, what, loc))
        if kind != "sources":
            _walk_citations(item, loc, refs)
        for name, wanted in fields:
            value = getattr(item, name)
            if isinstance(value, list):
                refs.extend((v, wanted, (*loc, name, j)) for j, v in enumerate(value))
            elif value is not None:
                refs.append((value, wanted, (*loc, name)))
        if kind == "motives":
            motives.append((item.id, item.party, item.mirror, loc))
    return FileIndex(kind=kind, counts=counts, ids=ids, refs=refs, motives=motives)


def is_index(data: Any) -> bool:
    """Whether cached data has the shape of a :class:`FileIndex` (a damaged or foreign
    entry is recomputed, never trusted)."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("kind"), str)
        and isinstance(data.get("counts"), dict)
        and all(isinstance(data.get(k), list) for k in ("ids", "refs", "motives"))
    )


# ---------------------------------------------------------------- step 2: the rules


def check(files: Iterable[tuple[FileIndex, Document]]) -> list[FactError]:
    """Apply the case-wide rules to the indexes of its files, given case.yaml first and
    then each kind's files in order (the first definition of an id is the one kept).
    Returns every problem, located."""
    files = list(files)
    errors: list[FactError] = []
    kind_of_id: dict[str, str] = {}
    where: dict[str, tuple[Document, Loc]] = {}
    for index, doc in files:
        for id_, what, loc in index["ids"]:
            if id_ in kind_of_id:
                other_doc, other_loc = where[id_]
                line, _ = other_doc.locate((*other_loc, "id"))
                errors.append(
                    doc.error(
                        (*loc, "id"),
                        f"id '{id_}' is already used ({other_doc.path}:{line}); ids must be unique across the case",
                    )
                )
                continue
            kind_of_id[id_] = what
            where[id_] = (doc, loc)

    facts = frozenset(kind_of_id.values()) - {"party", "source"}  # once: not per reference (O(n²))
    for index, doc in files:
        for ref, wanted, loc in index["refs"]:
            kinds = WANTED[wanted][0] or facts
            got = kind_of_id.get(ref)
            if got is not None and got in kinds:
                continue
            what = WANTED[wanted][1]
            if got is None:
                candidates = [k for k, v in kind_of_id.items() if v in kinds]
                close = difflib.get_close_matches(ref, candidates, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                errors.append(doc.error(loc, f"no {what} has the id '{ref}'{hint}"))
            else:
                errors.append(doc.error(loc, f"'{ref}' is a {got}, but a {what} is expected here"))

    errors.extend(_mirror_errors(files))
    return errors


def _mirror_errors(files: list[tuple[FileIndex, Document]]) -> Iterator[FactError]:
    """A mirror motive belongs to another party and names this one back."""
    motive_party: dict[str, str] = {}
    mirrors: dict[str, str] = {}
    for index, _doc in files:
        for id_, party, mirror, _loc in index["motives"]:
            motive_party.setdefault(id_, party)
            if mirror:
                mirrors.setdefault(id_, mirror)
    for index, doc in files:
        for id_, party, mirror, loc in index["motives"]:
            if not mirror:
                continue
            if motive_party.get(mirror) == party:
                yield doc.error((*loc, "mirror"), "a mirror motive must belong to another party")
            back = mirrors.get(mirror)
            if back is not None and back != id_:
                yield doc.error(
                    (*loc, "mirror"),
                    f"'{mirror}' names '{back}' as its mirror, not '{id_}'; the two must agree",
                )
