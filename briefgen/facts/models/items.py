"""The kinds of fact a case holds: sources, actors, events, motives and analysis."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, model_validator

from .common import (
    Citation,
    Confidence,
    Id,
    Item,
    Label,
    Likelihood,
    Markdown,
    Marking,
    PartialDate,
    Ref,
    Reliability,
    Salience,
    ShortText,
    Strict,
    Text,
    VisibleText,
    partial_date_start,
)


class Erratum(Strict):
    """An error inside a source, noted rather than silently corrected."""

    excerpt: Text = Field(description="The source's words that hold the error, verbatim.")
    problem: Text = Field(description="What is wrong with them and how the case treats it.")


class Source(Strict):
    """One source document. Give each detail only as the document itself shows it."""

    id: Id
    short_name: Label | None = Field(
        default=None,
        description="A short label for tables and casualty lists (e.g. 'ECSS', 'unsigned op-ed'); "
        "by default the publisher, author or title.",
    )
    title: ShortText | None = Field(default=None, description="Title as printed; null if the text gives none.")
    publisher: ShortText | None = Field(default=None, description="Publisher as printed; null if not shown.")
    author: ShortText | None = Field(default=None, description="Author(s) as printed; null if not shown.")
    published: PartialDate | None = Field(
        default=None, description="Publication date as precise as the text gives it; null if not shown."
    )
    date_note: Text | None = Field(
        default=None, description="How the date was read (e.g. 'last updated', 'copyright year only')."
    )
    url: Annotated[str, Field(pattern=r"^https?://", max_length=2000), VisibleText] | None = Field(
        default=None, description="Address of the original; null if not known. Never fetched."
    )
    archive: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=200)] | None = Field(
        default=None,
        description="File name of the archived text in the archive folder given to `briefgen check --archive DIR`.",
    )
    kind: Literal["news", "analysis", "opinion", "official", "report", "other"] = Field(
        description="What sort of document it is."
    )
    reliability: Reliability = Field(
        description="Admiralty source-reliability grade: A completely reliable, B usually reliable, "
        "C fairly reliable, D not usually reliable, E unreliable, F cannot be judged."
    )
    reliability_reason: Text = Field(description="Why that grade.")
    slant: Text | None = Field(default=None, description="The document's evident perspective or bias, if any.")
    errata: list[Erratum] = Field(default_factory=list, description="Errors found inside the document.")
    body_starts: Text | None = Field(
        default=None,
        description="The first words of the document's own text in the archived file (after menus and other "
        "page furniture): citations' `paragraph` numbers count from there.",
    )
    marking: Marking | None = Field(default=None, description="Handling marking of this source entry.")


class Actor(Item):
    """A person, state, armed group or organisation that the facts mention."""

    name: ShortText = Field(description="The name used in the briefing.")
    kind: Literal["person", "state", "armed_group", "organisation", "government_body", "media"] = Field(
        description="What kind of actor."
    )
    aliases: list[ShortText] = Field(default_factory=list, description="Other names and spellings the sources use.")
    role: Text | None = Field(default=None, description="Position, affiliation or description as the sources give it.")
    party: Ref | None = Field(default=None, description="The party (from `case.yaml`) it belongs to, if any.")


class When(Strict):
    """When something happened, as precisely as the sources allow."""

    date: PartialDate = Field(description="The date (or the start of a range).")
    precision: Literal["day", "month", "year", "approximate", "range"] = Field(
        description="`day`, `month` or `year` for an exact date of that precision; `approximate` "
        "when the date is only roughly known; `range` when it lies between `date` and `end`."
    )
    end: PartialDate | None = Field(default=None, description="End of the range (only with precision `range`).")
    resolved_from: Text | None = Field(
        default=None,
        description="The source's relative wording (e.g. 'late on Tuesday') when the date was worked out from it.",
    )
    resolved_from_source: Ref | None = Field(
        default=None,
        description="The source whose words `resolved_from` are (`briefgen check --archive` finds them there).",
    )
    resolved_against: Ref | None = Field(
        default=None, description="The source whose date (or dated context) the wording was checked against."
    )
    resolution: Text | None = Field(default=None, description="How the date was worked out.")

    @model_validator(mode="after")
    def _consistent(self) -> When:
        parts = self.date.count("-") + 1
        if self.precision == "day" and parts != 3:
            raise ValueError("precision 'day' needs a full date YYYY-MM-DD")
        if self.precision == "month" and parts != 2:
            raise ValueError("precision 'month' needs a date written YYYY-MM")
        if self.precision == "year" and parts != 1:
            raise ValueError("precision 'year' needs a date written YYYY")
        if self.precision == "range":
            if not self.end:
                raise ValueError("precision 'range' needs an 'end' date")
            if partial_date_start(self.end) < partial_date_start(self.date):
                raise ValueError("the range ends before it starts")
        elif self.end:
            raise ValueError("'end' is only for precision 'range'")
        if self.resolved_from and not (self.resolution and self.resolved_from_source):
            raise ValueError(
                "a date resolved from relative wording needs 'resolved_from_source' (whose words they are) "
                "and 'resolution' (how the date was worked out)"
            )
        return self


class CasualtyReport(Strict):
    """One source's own casualty figure, kept exactly as it gave it."""

    source: Ref = Field(description="The source that reports the figure.")
    figure: ShortText = Field(description="The figure in the source's words (e.g. 'at least nine people').")
    low: Annotated[StrictInt, Field(ge=0)] | None = Field(default=None, description="Lowest number the wording allows.")
    high: Annotated[StrictInt, Field(ge=0)] | None = Field(
        default=None, description="Highest number the wording allows (null when open-ended, e.g. 'at least')."
    )
    who: Text | None = Field(default=None, description="What the source says about who they were.")
    excerpt: Text = Field(description="The source's words, verbatim.")


class Figure(Strict):
    """A casualty count with its uncertainty and every source's own figure."""

    best: Annotated[StrictInt, Field(ge=0)] | None = Field(
        default=None, description="Best estimate, if one can be given."
    )
    low: Annotated[StrictInt, Field(ge=0)] | None = Field(default=None, description="Lowest credible number.")
    high: Annotated[StrictInt, Field(ge=0)] | None = Field(
        default=None, description="Highest credible number (null when no source bounds it)."
    )
    reports: list[CasualtyReport] = Field(min_length=1, description="Each source's own figure.")

    @model_validator(mode="after")
    def _ordered(self) -> Figure:
        lo, best, hi = self.low, self.best, self.high
        if lo is not None and hi is not None and lo > hi:
            raise ValueError("low is greater than high")
        if best is not None and ((lo is not None and best < lo) or (hi is not None and best > hi)):
            raise ValueError("best lies outside low–high")
        return self


class Casualties(Strict):
    """People killed and injured in an event."""

    killed: Figure | None = Field(default=None, description="People killed.")
    injured: Figure | None = Field(default=None, description="People injured.")


class Event(Item):
    """Something that happened, placed on the timeline."""

    when: When = Field(description="When it happened.")
    title: ShortText = Field(description="A short headline for the timeline.")
    summary: Markdown = Field(description="What happened, in a sentence or two.")
    kind: Literal["attack", "strike", "diplomatic", "statement", "political", "military", "background", "other"] = (
        Field(description="What kind of event.")
    )
    parties: list[Ref] = Field(
        default_factory=list,
        description="The party or parties whose action this is (the timeline colours it by them); "
        "empty for events by others.",
    )
    actors: list[Ref] = Field(default_factory=list, description="Actors involved (ids from `actors.yaml`).")
    location: ShortText | None = Field(default=None, description="Where, as the sources name it.")
    casualties: Casualties | None = Field(default=None, description="Casualties, if any were reported.")
    upcoming: StrictBool = Field(
        default=False, description="True for an announced or expected event that had not happened at the as-of date."
    )
    key: StrictBool = Field(
        default=False,
        description="True for the events that matter most: the briefings' timelines show these (all events "
        "when none is marked); the evidence record shows every event.",
    )

    @model_validator(mode="after")
    def _each_once(self) -> Event:
        for what in ("parties", "actors"):
            values = getattr(self, what)
            twice = next((v for v in values if values.count(v) > 1), None)
            if twice is not None:
                raise ValueError(f"'{twice}' is named twice in {what}")
        return self


Category = Literal[
    "domestic_politics",
    "security",
    "sectarian_ethnic",
    "economic",
    "regional",
    "international",
    "military",
]
CATEGORY_LABELS: dict[str, str] = {
    "domestic_politics": "Domestic politics",
    "security": "Security",
    "sectarian_ethnic": "Sectarian & ethnic",
    "economic": "Economic",
    "regional": "Regional",
    "international": "International",
    "military": "Military",
}


class Motive(Item):
    """One party's reason for the course the briefing compares (e.g. to de-escalate)."""

    party: Ref = Field(description="The party (from `case.yaml`) whose motive this is.")
    title: ShortText = Field(description="The motive in a few words.")
    category: Category = Field(description="Category, from a fixed vocabulary (one matrix row each).")
    salience: Salience = Field(description="How much it weighed: high, medium or low.")
    salience_reason: Text = Field(description="Why that salience.")
    description: Markdown = Field(description="The motive explained.")
    confidence: Confidence = Field(description="Confidence that this motive was at work: low, moderate or high.")
    shared: Id | None = Field(
        default=None,
        description="A name for a motive two or more parties share (e.g. `no-new-front`): every "
        "motive given the same name forms one group, at most one motive per party. The "
        "comparison shows the group once, naming the parties that share it.",
    )


class Rationale(Item):
    """Why a party took the action that began the crisis (context for the motives)."""

    party: Ref = Field(description="The party whose reasoning this is.")
    title: ShortText = Field(description="The reason in a few words.")
    description: Markdown = Field(description="The reason explained, attributed where the sources attribute it.")
    confidence: Confidence = Field(description="Confidence that this reason was at work.")


class Judgment(Item):
    """A key judgment: a likelihood (ICD 203) and, separately, the confidence in it."""

    statement: Text = Field(description="The judgment in one sentence.")
    time_frame: ShortText = Field(
        description="The period the judgment covers, e.g. 'through 31 March 2024' or '19–22 January 2024 "
        "(looking back)'."
    )
    likelihood: Likelihood = Field(
        description="ICD 203 term: almost no chance, very unlikely, unlikely, roughly even chance, "
        "likely, very likely, almost certain."
    )
    confidence: Confidence = Field(description="Confidence in the judgment: low, moderate or high.")
    reasoning: Markdown = Field(description="The reasoning, including what would change it.")
    rests_on: list[Ref] = Field(
        default_factory=list, description="Ids of the events, motives and assessments it rests on."
    )


class Assessment(Item):
    """An analyst's or commentator's view, quoted and attributed."""

    analyst: Ref = Field(description="The actor (a person or organisation) whose view it is.")
    topic: ShortText = Field(description="What the view is about.")
    quote: Text = Field(description="The view in the analyst's own words; must appear in a cited excerpt.")
    summary: Text | None = Field(default=None, description="A one-line paraphrase.")

    @model_validator(mode="after")
    def _quote_in_excerpt(self) -> Assessment:
        from ..textmatch import contains

        if not any(contains(c.excerpt, self.quote) for c in self.citations):
            raise ValueError("the quote does not appear in any of the cited excerpts; cite the words quoted")
        return self


class Reaction(Item):
    """How an outside actor responded."""

    actor: Ref = Field(description="Who reacted.")
    summary: Text = Field(description="What they said or did.")


class Position(Strict):
    """What one or more sources say on a contested question."""

    claim: Text = Field(description="The answer these sources give, in a sentence.")
    citations: list[Citation] = Field(min_length=1, description="The sources that give it, with their words.")


class Claim(Item):
    """A question the sources answer differently, with what each says."""

    question: ShortText = Field(description="The question in dispute.")
    positions: list[Position] = Field(min_length=2, description="Each different answer, with its sources.")
    assessment: Text | None = Field(default=None, description="What can and cannot be concluded.")


class Indicator(Item):
    """A sign to watch for, and what it would mean."""

    signpost: Text = Field(description="What to watch for.")
    direction: Literal["escalation", "de-escalation", "either"] = Field(description="Which way it would point.")
    meaning: Text = Field(description="What it would mean if seen.")


class KeyFigureValue(Strict):
    """A figure stated in the sources, shown as written."""

    value: ShortText = Field(description="The figure as shown (e.g. 'first since the late 1980s').")
    citations: list[Citation] = Field(min_length=1, description="Where it comes from.")


class KeyFigure(Strict):
    """One entry of the key-figures box: stated, or computed from events."""

    id: Id
    label: ShortText = Field(description="What the figure measures.")
    compute: Literal["stated", "days_between", "killed", "injured"] = Field(
        description="`stated`: give `stated`; `days_between`: days from the first to the second of "
        "`events`; `killed` / `injured`: casualty totals over `events`, kept as ranges."
    )
    events: list[Ref] = Field(default_factory=list, description="Events the figure is computed from.")
    stated: KeyFigureValue | None = Field(default=None, description="The stated figure (for `stated`).")
    citations: list[Citation] = Field(
        default_factory=list,
        description="For a computed figure: the sources that state the numbers or dates it is computed from, "
        "in their own words (required; a stated figure cites in `stated`).",
    )
    caption: Text | None = Field(default=None, description="A short line under the figure.")
    marking: Marking | None = Field(default=None, description="Handling marking of this figure.")

    @model_validator(mode="after")
    def _inputs(self) -> KeyFigure:
        if self.compute == "stated" and self.stated is None:
            raise ValueError("a 'stated' key figure needs 'stated' (value and citations)")
        if self.compute == "days_between" and len(self.events) != 2:
            raise ValueError("'days_between' needs exactly two events: from, to")
        if self.compute in ("killed", "injured") and not self.events:
            raise ValueError(f"'{self.compute}' needs the events to total")
        if self.compute != "stated" and not self.citations:
            raise ValueError(
                f"a '{self.compute}' key figure needs 'citations': the words that state its numbers or dates"
            )
        if self.compute == "stated" and self.citations:
            raise ValueError("a 'stated' key figure cites in 'stated', not in 'citations'")
        return self
