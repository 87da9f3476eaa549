"""The rules that span a case's files: ids unique across the case, every reference naming
an item of the right kind, mirror motives that agree.

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
    "motives": (("party", "party"), ("mirror", "motive")),
    "rationales": (("party", "party"),),
    "judgments": (("rests_on", "fact"),),
    "assessments": (("analyst", "actor"),),
    "reactions": (("actor", "actor"),),
    "key_figures": (("events", "event"),),
}

_SOURCE_FIELDS = ("source", "resolved_against")

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


def check(items: Iterable[Placed], invalid_ids: frozenset[str] = frozenset()) -> list[FactError]:
    """Apply the case-wide rules to ``items`` (case.yaml's parties and key figures first,
    then each kind's files in order: the first definition of an id is the one kept).
    ``invalid_ids``: ids of items that did not validate (references to them are left
    alone). Returns every problem, located."""
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

    errors.extend(_mirror_errors([p for p in items if p.kind == "motives"]))
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


def _mirror_errors(motives: list[Placed]) -> Iterator[FactError]:
    """A mirror motive belongs to another party and names this one back."""
    party_of = {p.item.id: p.item.party for p in motives}
    mirror_of = {p.item.id: p.item.mirror for p in motives if p.item.mirror}
    for p in motives:
        m = p.item
        if not m.mirror:
            continue
        if party_of.get(m.mirror) == m.party:
            yield p.origin.error(("mirror",), "a mirror motive must belong to another party")
        back = mirror_of.get(m.mirror)
        if back is not None and back != m.id:
            yield p.origin.error(
                ("mirror",), f"'{m.mirror}' names '{back}' as its mirror, not '{m.id}'; the two must agree"
            )
