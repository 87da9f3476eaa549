"""`case.yaml`: what the case is about, who the parties are, and its framing text."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, StrictInt, model_validator

from .common import Citation, Colour, Id, Label, Markdown, Marking, ShortText, Strict, Text
from .items import KeyFigure


class Narrative(Strict):
    """A paragraph of framing text (bottom line, overview, outlook) and its evidence."""

    text: Markdown = Field(description="The paragraph, in Markdown.")
    citations: list[Citation] = Field(min_length=1, description="The evidence for it.")
    marking: Marking | None = Field(default=None, description="Handling marking of this paragraph.")


class Party(Strict):
    """A side in the crisis. Its colour marks its actions and motives throughout."""

    id: Id
    name: ShortText = Field(description="Full name (e.g. 'Federal Republic of Northland').")
    short_name: Label = Field(description="Short name for table headers and the timeline.")
    colour: Colour = Field(description="Colour of the party in tables and graphics, `#RRGGBB`.")
    summary: Narrative | None = Field(
        default=None,
        description="A short paragraph on this party's course (e.g. why it stepped back), shown with the "
        "motive comparison.",
    )


class Headings(Strict):
    """Wording of the case-specific section headings."""

    motives: ShortText = Field(
        default="Motive comparison",
        description="Heading of the motive comparison (e.g. 'Why each side stepped back').",
    )
    rationales: ShortText = Field(
        default="Why each party acted", description="Heading of the section on why each party acted first."
    )


class CaseFile(Strict):
    """The case's front matter: `case.yaml` (exactly one per case)."""

    title: ShortText = Field(description="Title of the briefing.")
    subtitle: ShortText | None = Field(default=None, description="A line under the title.")
    parties: list[Party] = Field(min_length=2, description="The sides compared (two or more).")
    as_of: Annotated[dt.date, Field(strict=False)] = Field(
        description="The date the facts are current to (YYYY-MM-DD); also the PDF's date."
    )
    edition: Annotated[StrictInt, Field(ge=1)] = Field(description="Edition number, raised at each release.")
    marking: Marking = Field(description="Default handling marking (TLP 2.0) of every item that does not set its own.")
    prepared_by: ShortText = Field(description="Who prepared the briefing (team or organisation).")
    prepared_for: ShortText = Field(description="Who it is for, by default (audiences may override).")
    keywords: list[ShortText] = Field(default_factory=list, description="Keywords for the PDF metadata.")
    bluf: list[Narrative] = Field(min_length=1, description="Bottom line up front: one to three short paragraphs.")
    overview: list[Narrative] = Field(min_length=1, description="Situation overview paragraphs.")
    outlook: list[Narrative] = Field(default_factory=list, description="Outlook paragraphs.")
    key_figures: list[KeyFigure] = Field(default_factory=list, description="The key-figures box.")
    headings: Headings = Field(default_factory=Headings, description="Case-specific section headings.")
    change_note: Text | None = Field(
        default=None, description="What this edition changes and why, in a sentence or two."
    )

    @model_validator(mode="after")
    def _parties_distinct(self) -> CaseFile:
        for what in ("id", "short_name", "colour"):
            values = [str(getattr(p, what)).lower() for p in self.parties]
            twice = next((v for v in values if values.count(v) > 1), None)
            if twice is not None:
                raise ValueError(f"two parties have the {what.replace('_', ' ')} '{twice}'; each needs its own")
        return self
