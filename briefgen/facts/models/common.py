"""Building blocks shared by every kind of fact: ids, markings, citations, verification."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
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
# ---------------------------------------------------------------- text

INVISIBLE = frozenset(
    chr(c)
    for c in (
        *range(0x200B, 0x2010),  # zero-width space, non-joiner, joiner; left-to-right and right-to-left marks
        *range(0x202A, 0x202F),  # direction embeddings and overrides (U+202E makes text read backwards)
        *range(0x2060, 0x2065),  # word joiner, invisible operators
        *range(0x2066, 0x206A),  # direction isolates
        0xFEFF,  # zero-width no-break space (a byte-order mark inside text)
    )
)
"""Characters that draw nothing yet change what a reader sees: zero-width characters that
make two different names look alike, and the direction controls that reorder text."""
JOINERS = frozenset({"\u200c", "\u200d"})
"""Zero-width non-joiner and joiner: allowed between two letters (Persian and Indic names
need them to join or part letters), refused elsewhere."""


def _is_letter(c: str) -> bool:
    # A letter, or a mark on one (an Indic virama before a joiner is a mark).
    return unicodedata.category(c)[0] in "LM"


_ANY_INVISIBLE = re.compile("[" + "".join(sorted(INVISIBLE)) + "]")


def invisible_problem(value: str) -> str | None:
    """What is wrong with the invisible characters in ``value``, or None."""
    for m in _ANY_INVISIBLE.finditer(value):
        i, c = m.start(), m.group()
        if c in JOINERS and 0 < i < len(value) - 1 and _is_letter(value[i - 1]) and _is_letter(value[i + 1]):
            continue
        name = unicodedata.name(c, "a format character")
        where = " outside a word" if c in JOINERS else ""
        return (
            f"holds the invisible character U+{ord(c):04X} ({name}){where} after {value[max(0, i - 20) : i]!r}; "
            "remove it: zero-width and text-direction characters can hide or reorder what a reader sees"
        )
    return None


def _visible(value: str) -> str:
    problem = invisible_problem(value)
    if problem:
        raise ValueError(problem)
    return value


VisibleText = AfterValidator(_visible)
"""The check every text type of the facts, profiles and lists applies (see :data:`INVISIBLE`)."""

MAX_WORD = 300
"""Longest run of characters without a space in a text field. The PDF renderer's time to
break an unbroken word across lines grows with the square of its length (one
49,900-character word took 75 s to lay out; see bench/run.py, part 7); real words and
web addresses are far shorter."""
_LONG_WORD = re.compile(rf"\S{{{MAX_WORD + 1},}}")


def _short_words(value: str) -> str:
    m = _LONG_WORD.search(value)
    if m:
        raise ValueError(
            f"holds a run of {len(m[0]):,} characters without a space (starting {m[0][:20]!r}), more than "
            f"{MAX_WORD}; break it up with spaces (a long web address belongs in a source's url)"
        )
    return value


ShortWords = AfterValidator(_short_words)

MAX_MARKUP = 200
"""Most Markdown markup characters (``*``, ``_``, backtick, ``[``, ``<``) in one Markdown field."""
MAX_MARKDOWN_NESTING = 8
"""Deepest nesting of quotes (``>``) and lists in one Markdown field."""
MARKUP_CHARS = "*_`[<"

_QUOTE_PREFIX = re.compile(r"[ ]{0,3}>[ ]?")
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_CONTAINER = re.compile(r"[ \t]*(?:>|(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$))[ \t]*")


def markdown_nesting(text: str) -> int:
    """How deeply quotes and lists nest in ``text``, read from the source (generously):
    the quote markers (``>``) that start a line, plus the list items open around it (an
    item indented past an open one nests in it), plus every further quote or list marker
    that opens on the same line (``- > - x``)."""
    deepest = 0
    open_items: list[int] = []  # indentation of the list items open around the current line
    for line in text.splitlines():
        quotes = 0
        rest = line
        while m := _QUOTE_PREFIX.match(rest):
            quotes += 1
            rest = rest[m.end() :]
        if not rest.strip():
            deepest = max(deepest, quotes + len(open_items))
            continue
        indent = len(rest) - len(rest.lstrip(" \t"))
        item = _LIST_ITEM.match(rest)
        inline = 0
        if item:
            while open_items and open_items[-1] >= indent:
                open_items.pop()
            open_items.append(indent)
            rest = rest[item.end() :]
            while rest and (m := _CONTAINER.match(rest)):
                inline += 1
                rest = rest[m.end() :]
        elif indent == 0:
            open_items.clear()
        deepest = max(deepest, quotes + len(open_items) + inline)
    return deepest


def markdown_problem(text: str) -> str | None:
    """What makes ``text`` too costly to format (and lay out), or None: more markup
    characters than :data:`MAX_MARKUP`, or nesting deeper than :data:`MAX_MARKDOWN_NESTING`.
    (Python-Markdown and the PDF renderer take time, and stack, per piece of markup and per
    level; a real paragraph uses a few dozen of each at most.)"""
    markup = sum(text.count(c) for c in MARKUP_CHARS)
    if markup > MAX_MARKUP:
        return (
            f"holds {markup:,} Markdown markup characters (* _ ` [ <), more than {MAX_MARKUP}; "
            "split the text or write it with less emphasis, fewer links and fewer code spans"
        )
    depth = markdown_nesting(text)
    if depth > MAX_MARKDOWN_NESTING:
        return (
            f"nests quotes and lists {depth} levels deep, more than {MAX_MARKDOWN_NESTING}; "
            "flatten the quotes (>) and indented lists"
        )
    return None


def _bounded_markdown(value: str) -> str:
    problem = markdown_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Text = Annotated[str, StringConstraints(min_length=1, max_length=20_000), VisibleText, ShortWords]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=400), VisibleText, ShortWords]
Label = Annotated[str, StringConstraints(min_length=1, max_length=40), VisibleText]
"""A short name for table headers and lists."""
Markdown = Annotated[
    str,
    StringConstraints(min_length=1, max_length=50_000),
    VisibleText,
    ShortWords,
    AfterValidator(_bounded_markdown),
    Field(
        description="Markdown text (emphasis, lists, links). Raw HTML is removed and "
        f"the text is never run as a template. At most {MAX_MARKUP} markup characters "
        f"(* _ ` [ <), {MAX_WORD} characters without a space and {MAX_MARKDOWN_NESTING} levels "
        "of quotes and lists."
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


def _year_as_text(value: object) -> object:
    # YAML reads a bare year (date: 2024) as a number; a year it is.
    if isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
        return str(value)
    return value


PartialDate = Annotated[
    str,
    BeforeValidator(_year_as_text),
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
