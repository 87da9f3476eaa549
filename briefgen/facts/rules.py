"""The rules that span a case's files: ids unique across the case, every reference naming
an item of the right kind, shared motives that each party holds at most once.

They run on every item that validated, wherever it came from (:class:`Origin`), so one
``check`` reports broken references beside the mistakes that stopped other items from
validating. A reference to an item that exists but failed validation is not reported
again: its own problems already are.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..errors import FactError
from .yamlread import Document

Loc = tuple[str | int, ...]

# What a reference must name: the kinds of item accepted and how the message calls it.
# "fact" is any item but a party or a source.
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
    "motives": (("party", "party"),),
    "rationales": (("party", "party"),),
    "judgments": (("rests_on", "fact"),),
    "assessments": (("analyst", "actor"),),
    "reactions": (("actor", "actor"),),
    "key_figures": (("events", "event"),),
}

_SOURCE_FIELDS = ("source", "resolved_from_source", "resolved_against")

SINGULAR = {
    "parties": "party",
    "key_figures": "key figure",
    "sources": "source",
    "actors": "actor",
    "events": "event",
    "motives": "motive",
    "rationales": "rationale",
    "judgments": "judgment",
    "assessments": "assessment",
    "reactions": "reaction",
    "claims": "claim",
    "indicators": "indicator",
}
"""A kind of item as a message names one of them."""


@dataclass(frozen=True)
class Origin:
    """Where a validated item was written: its file and its path in that file."""

    doc: Document
    loc: Loc

    def error(self, sub: Loc, message: str, *, key: bool = False) -> FactError:
        return self.doc.error((*self.loc, *sub), message, key=key)


@dataclass(frozen=True)
class Placed:
    """One validated item of a kind (``events``, ``parties``, ``key_figures``...) and its origin."""

    kind: str
    item: Any
    origin: Origin


def source_refs(obj: Any, loc: Loc = ()) -> Iterator[tuple[str, Loc]]:
    """Every source reference inside ``obj`` (citations, casualty reports, positions, dates)."""
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if name in _SOURCE_FIELDS and isinstance(value, str):
                yield value, (*loc, name)
            elif isinstance(value, (BaseModel, list)):
                yield from source_refs(value, (*loc, name))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from source_refs(v, (*loc, i))


def check(
    items: Iterable[Placed], invalid_ids: frozenset[str] = frozenset(), invalid_groups: frozenset[str] = frozenset()
) -> list[FactError]:
    """Apply the case-wide rules to ``items`` (case.yaml's parties and key figures first,
    then each kind's files in order: the first definition of an id is the one kept).
    ``invalid_ids``: ids of items that did not validate (references to them are left
    alone); ``invalid_groups``: shared groups one of whose motives did not validate.
    Returns every problem, located."""
    items = list(items)
    errors: list[FactError] = []
    kind_of_id: dict[str, str] = {}
    where: dict[str, Origin] = {}
    for p in items:
        id_ = p.item.id
        if id_ in kind_of_id:
            first = where[id_]
            line, _ = first.doc.locate((*first.loc, "id"))
            errors.append(
                p.origin.error(
                    ("id",), f"id '{id_}' is already used ({first.doc.path}:{line}); ids must be unique across the case"
                )
            )
            continue
        kind_of_id[id_] = SINGULAR[p.kind]
        where[id_] = p.origin

    facts = frozenset(kind_of_id.values()) - {"party", "source"}
    for p in items:
        for ref, wanted, loc in _refs(p):
            if ref in invalid_ids:
                continue
            kinds = WANTED[wanted][0] or facts
            got = kind_of_id.get(ref)
            if got is not None and got in kinds:
                continue
            what = WANTED[wanted][1]
            if got is None:
                candidates = [k for k, v in kind_of_id.items() if v in kinds]
                close = difflib.get_close_matches(ref, candidates, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                errors.append(p.origin.error(loc, f"no {what} has the id '{ref}'{hint}"))
            else:
                errors.append(p.origin.error(loc, f"'{ref}' is a {got}, but a {what} is expected here"))

    errors.extend(_shared_errors([p for p in items if p.kind == "motives"], invalid_groups))
    return errors


def _refs(p: Placed) -> Iterator[tuple[str, str, Loc]]:
    """(id referred to, key of WANTED, place relative to the item) of one item."""
    if p.kind != "sources":
        for ref, loc in source_refs(p.item):
            yield ref, "source", loc
    for name, wanted in ITEM_REFS.get(p.kind, ()):
        value = getattr(p.item, name)
        if isinstance(value, list):
            for j, v in enumerate(value):
                yield v, wanted, (name, j)
        elif value is not None:
            yield value, wanted, (name,)


def _shared_errors(motives: list[Placed], invalid_groups: frozenset[str]) -> Iterator[FactError]:
    """A shared motive's group holds motives of two or more parties, one each."""
    groups: dict[str, list[Placed]] = {}
    for p in motives:
        if p.item.shared:
            groups.setdefault(p.item.shared, []).append(p)
    for name, members in groups.items():
        parties: dict[str, Placed] = {}
        for p in members:
            first = parties.setdefault(p.item.party, p)
            if first is not p:
                line, _ = first.origin.doc.locate((*first.origin.loc, "shared"))
                yield p.origin.error(
                    ("shared",),
                    f"'{p.item.party}' already has a motive in the shared group '{name}' (line {line}); "
                    "a group holds at most one motive of each party",
                )
        if len(parties) < 2 and name not in invalid_groups:
            yield members[0].origin.error(
                ("shared",),
                f"no other party's motive is in the shared group '{name}'; give the same 'shared' name to the "
                "motive it shares with another party, or remove it",
            )
