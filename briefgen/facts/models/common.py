"""Building blocks shared by every kind of fact: ids, markings, citations, verification."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$"),
    Field(
        description="Identifier unique across the case: lower-case letters, digits and hyphens, "
        "starting with a letter or digit (e.g. `north-strike-jan16`)."
    ),
]
Ref = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$"),
    Field(description="The id of another item in the case."),
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=400)]
Markdown = Annotated[
    str,
    StringConstraints(min_length=1, max_length=50_000),
    Field(
        description="Markdown text (emphasis, lists, links). Raw HTML is removed and "
        "the text is never run as a template."
    ),
]
Colour = Annotated[
    str,
    StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$"),
    Field(description="A colour as `#RRGGBB`."),
]

Marking = Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
"""Traffic Light Protocol 2.0 handling labels, least to most restrictive."""
MARKING_ORDER: dict[str, int] = {"CLEAR": 0, "GREEN": 1, "AMBER": 2, "AMBER+STRICT": 3, "RED": 4}
MARKING_COLOURS: dict[str, str] = {
    # TLP 2.0: the label's colour, shown on black.
    "CLEAR": "#FFFFFF",
    "GREEN": "#33FF00",
    "AMBER": "#FFC000",
    "AMBER+STRICT": "#FFC000",
    "RED": "#FF2B2B",
}

Reliability = Literal["A", "B", "C", "D", "E", "F"]
RELIABILITY_LABELS = {
    "A": "Completely reliable",
    "B": "Usually reliable",
    "C": "Fairly reliable",
    "D": "Not usually reliable",
    "E": "Unreliable",
    "F": "Reliability cannot be judged",
}
CREDIBILITY_LABELS = {
    1: "Confirmed by other sources",
    2: "Probably true",
    3: "Possibly true",
    4: "Doubtful",
    5: "Improbable",
    6: "Truth cannot be judged",
}
Confidence = Literal["low", "moderate", "high"]
CONFIDENCE_LABELS = {
    "low": "Low: the information is scant, questionable or fragmented",
    "moderate": "Moderate: credibly sourced and plausible, but not corroborated enough for high",
    "high": "High: well-corroborated information from reliable sources",
}

Likelihood = Literal[
    "almost no chance",
    "very unlikely",
    "unlikely",
    "roughly even chance",
    "likely",
    "very likely",
    "almost certain",
]
LIKELIHOOD_RANGES: dict[str, tuple[int, int]] = {
    "almost no chance": (1, 5),
    "very unlikely": (5, 20),
    "unlikely": (20, 45),
    "roughly even chance": (45, 55),
    "likely": (55, 80),
    "very likely": (80, 95),
    "almost certain": (95, 99),
}

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _check_partial_date(value: str) -> str:
    m = _PARTIAL_DATE.match(value)
    if not m:
        raise ValueError("write the date as YYYY-MM-DD, YYYY-MM or YYYY (for example 2024-01-16)")
    year, month, day = m.group(1), m.group(2), m.group(3)
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise ValueError(f"{value} is not a real calendar date") from None
    return value


PartialDate = Annotated[
    str,
    AfterValidator(_check_partial_date),
    Field(
        description="A date as precise as known: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`. "
        "Quote it or not; it is always read as text, then checked.",
        json_schema_extra={"pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
    ),
]


def partial_date_start(value: str) -> dt.date:
    """Earliest calendar day a partial date can mean."""
    parts = [int(p) for p in value.split("-")]
    return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def partial_date_end(value: str) -> dt.date:
    """Latest calendar day a partial date can mean."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        return dt.date(*parts)
    if len(parts) == 2:
        year, month = parts
        return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date(parts[0], 12, 31)


class Strict(BaseModel):
    """Base for every fact model: unknown keys are errors (typo guard), text is stripped."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        frozen=True,
        validate_default=False,
    )


class Citation(Strict):
    """One piece of evidence: a source and the exact words it uses."""

    source: Ref = Field(description="Id of the source (from `sources.yaml`).")
    excerpt: Text = Field(
        description="The source's own words, copied verbatim (`briefgen check --archive` "
        "compares them with the archived article; only whitespace, quote-mark and dash "
        "variants are tolerated)."
    )
    credibility: Annotated[StrictInt, Field(ge=1, le=6)] = Field(
        description="Admiralty information-credibility grade of this excerpt: 1 confirmed "
        "by other sources, 2 probably true, 3 possibly true, 4 doubtful, 5 improbable, "
        "6 cannot be judged."
    )
    paragraph: Annotated[StrictInt, Field(ge=1)] | None = Field(
        default=None,
        description="The paragraph of the source the excerpt is in (lines of the archived text, counted from "
        "the source's `body_starts`), shown in notes as 'para. N'; `briefgen cite` gives it and "
        "`briefgen check --archive` verifies it.",
    )


class Verification(Strict):
    """Who checked an item against its sources, when, and with what result."""

    status: Literal["verified", "unverified", "disputed"] = Field(
        description="`verified`: checked against every cited excerpt; `unverified`: not yet "
        "checked; `disputed`: sources disagree or the check found a problem."
    )
    checked_by: ShortText | None = Field(
        default=None, description="Who checked it (internal: never shown to public audiences)."
    )
    checked_on: Annotated[dt.date, Field(strict=False)] | None = Field(
        default=None, description="When it was checked (YYYY-MM-DD)."
    )
    note: Text | None = Field(default=None, description="What the check found (internal).")

    @model_validator(mode="after")
    def _checked(self) -> Verification:
        if self.status in ("verified", "disputed") and (not self.checked_by or not self.checked_on):
            raise ValueError(f"a '{self.status}' record needs checked_by and checked_on (who checked, and when)")
        return self


class Item(Strict):
    """Fields every factual item carries."""

    id: Id
    citations: list[Citation] = Field(
        min_length=1,
        description="The evidence: one or more sources, each with a verbatim excerpt.",
    )
    verification: Verification = Field(description="The hand-check record of this item.")
    marking: Marking | None = Field(
        default=None,
        description="Handling marking of this item (TLP 2.0) when it is more restrictive than "
        "the case's default; an audience only sees items at or below its own marking.",
    )
    note: Text | None = Field(
        default=None,
        description="Internal analyst note: shown to the analyst audience only, never released.",
    )


Salience = Literal["high", "medium", "low"]
StrictFlag = StrictBool
