"""The kinds of fact file and what each holds at its top level.

A case folder holds `case.yaml` and any of the list files below. A kind may be
split over several files named `<kind>-<anything>.yaml` (e.g. `events-2024-01.yaml`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from .case import CaseFile
from .common import Strict
from .items import Actor, Assessment, Claim, Event, Indicator, Judgment, Motive, Rationale, Reaction, Source


class SourcesFile(Strict):
    """`sources.yaml`: the documents the case rests on."""

    sources: list[Source] = Field(description="One entry per source document.")


class ActorsFile(Strict):
    """`actors.yaml`: people, states, armed groups and organisations."""

    actors: list[Actor] = Field(description="One entry per actor.")


class EventsFile(Strict):
    """`events.yaml`: the timeline."""

    events: list[Event] = Field(description="One entry per event.")


class MotivesFile(Strict):
    """`motives.yaml`: each party's motives, compared side by side in the briefing."""

    motives: list[Motive] = Field(description="One entry per motive of one party.")


class RationalesFile(Strict):
    """`rationales.yaml`: why each party acted in the first place."""

    rationales: list[Rationale] = Field(description="One entry per reason of one party.")


class JudgmentsFile(Strict):
    """`judgments.yaml`: the key judgments."""

    judgments: list[Judgment] = Field(description="One entry per judgment.")


class AssessmentsFile(Strict):
    """`assessments.yaml`: analysts' views, quoted."""

    assessments: list[Assessment] = Field(description="One entry per quoted view.")


class ReactionsFile(Strict):
    """`reactions.yaml`: international reactions."""

    reactions: list[Reaction] = Field(description="One entry per reaction.")


class ClaimsFile(Strict):
    """`claims.yaml`: contested claims."""

    claims: list[Claim] = Field(description="One entry per contested question.")


class IndicatorsFile(Strict):
    """`indicators.yaml`: indicators to watch."""

    indicators: list[Indicator] = Field(description="One entry per indicator.")


FILE_KINDS: dict[str, type[BaseModel]] = {
    "case": CaseFile,
    "sources": SourcesFile,
    "actors": ActorsFile,
    "events": EventsFile,
    "motives": MotivesFile,
    "rationales": RationalesFile,
    "judgments": JudgmentsFile,
    "assessments": AssessmentsFile,
    "reactions": ReactionsFile,
    "claims": ClaimsFile,
    "indicators": IndicatorsFile,
}
"""File kind (the file name's stem, before any `-suffix`) → its root model."""

LIST_KINDS = [k for k in FILE_KINDS if k != "case"]

ITEM_MODELS: dict[str, type[BaseModel]] = {
    "sources": Source,
    "actors": Actor,
    "events": Event,
    "motives": Motive,
    "rationales": Rationale,
    "judgments": Judgment,
    "assessments": Assessment,
    "reactions": Reaction,
    "claims": Claim,
    "indicators": Indicator,
}
"""List kind → the model of one of its items (validated one by one)."""


def kind_of(stem: str) -> str | None:
    """The kind a file name stem stands for, or None if it is not a fact file."""
    if stem in FILE_KINDS:
        return stem
    head = stem.split("-", 1)[0]
    if head in LIST_KINDS and "-" in stem:
        return head
    return None
