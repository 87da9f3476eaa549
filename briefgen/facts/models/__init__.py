"""Pydantic models of a case: each one documents a part of the YAML.

`Case` is the validated whole that the rest of the pipeline uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .case import CaseFile, Headings, Narrative, Party
from .common import Citation, Item, Verification
from .items import (
    Actor,
    Assessment,
    Claim,
    Event,
    Indicator,
    Judgment,
    KeyFigure,
    Motive,
    Rationale,
    Reaction,
    Source,
)


@dataclass
class Case:
    """A validated case: the front matter, every kind of item, and where it came from."""

    id: str
    root: Path
    info: CaseFile
    sources: list[Source] = field(default_factory=list)
    actors: list[Actor] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    motives: list[Motive] = field(default_factory=list)
    rationales: list[Rationale] = field(default_factory=list)
    judgments: list[Judgment] = field(default_factory=list)
    assessments: list[Assessment] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    fingerprint: str = ""
    """SHA-256 over the case's fact files (names and bytes), in name order."""
    files: dict[str, str] = field(default_factory=dict)
    """Fact file name → its SHA-256."""

    def index(self) -> dict[str, Any]:
        """Every item (and party and source) by id."""
        out: dict[str, Any] = {p.id: p for p in self.info.parties}
        for kind in ITEM_KINDS:
            for item in getattr(self, kind):
                out[item.id] = item
        for kf in self.info.key_figures:
            out[kf.id] = kf
        return out


ITEM_KINDS = [
    "sources",
    "actors",
    "events",
    "motives",
    "rationales",
    "judgments",
    "assessments",
    "reactions",
    "claims",
    "indicators",
]

__all__ = [
    "Actor",
    "Assessment",
    "Case",
    "CaseFile",
    "Citation",
    "Claim",
    "Event",
    "Headings",
    "ITEM_KINDS",
    "Indicator",
    "Item",
    "Judgment",
    "KeyFigure",
    "Motive",
    "Narrative",
    "Party",
    "Rationale",
    "Reaction",
    "Source",
    "Verification",
]
