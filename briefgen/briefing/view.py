"""Case + audience → :class:`BriefingView`: plain, ready-to-print data for the templates.

Everything a template needs is decided here: which items this audience may see
(releasability), which the edition shows (key events, limits), their order, the notes
behind every statement and their numbering, the motive comparison, the timeline and the
computed key figures. Templates only place it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from .. import __version__
from ..facts.models import Case, Citation, Item, Motive
from ..facts.models.common import (
    CONFIDENCE_LABELS,
    CREDIBILITY_LABELS,
    LIKELIHOOD_RANGES,
    MARKING_COLOURS,
    MARKING_ORDER,
    RELIABILITY_LABELS,
    partial_date_start,
)
from ..facts.models.items import CATEGORY_LABELS, Figure, When
from .audiences import Audience
from .changes import ChangeLine
from .richtext import md_block, md_inline
from .timeline import Lane, Mark, timeline_svg

SALIENCE_LEVEL = {"high": 3, "medium": 2, "low": 1}
LIKELIHOOD_ORDER = list(LIKELIHOOD_RANGES)
WEAK_RELIABILITY = {"C", "D", "E", "F"}
MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
MARKING_MEANING = {
    "CLEAR": "Disclosure is not limited.",
    "GREEN": "Limited disclosure: recipients may share with peers and partner organisations within their community, not via public channels.",
    "AMBER": "Limited disclosure: recipients may share only with members of their own organisation and its clients on a need-to-know basis.",
    "AMBER+STRICT": "Limited disclosure: recipients may share only with members of their own organisation, on a need-to-know basis.",
    "RED": "For the eyes and ears of individual recipients only; no further disclosure.",
}
PLAIN_RELIABILITY = {
    "A": "a fully reliable source",
    "B": "a usually reliable source",
    "C": "a fairly reliable source",
    "D": "a source not usually reliable",
    "E": "an unreliable source",
    "F": "a source whose reliability cannot be judged",
}
"""How a public reader is told how far to trust a source."""

DEFAULT_TITLES = {
    "cover": "Cover",
    "contents": "Contents",
    "bluf": "Bottom line",
    "judgments": "Key judgments",
    "key_figures": "Key figures",
    "changes": "What changed",
    "overview": "Situation overview",
    "timeline": "Timeline",
    "motive_matrix": "Motive comparison",
    "motives_detail": "Motives in detail",
    "rationales": "Why each party acted",
    "assessments": "Analysts' assessments",
    "reactions": "International reactions",
    "claims": "Contested claims",
    "outlook": "Outlook",
    "indicators": "Indicators to watch",
    "sources": "Sources",
    "endnotes": "Notes",
    "legend": "How to read this briefing",
    "colophon": "About this edition",
}


# ---------------------------------------------------------------- view data


@dataclass(slots=True)
class Note:
    """A numbered note: a source and where in it (compact notes), or a source's exact words
    (full notes). Statements point at it; it points back at them."""

    n: int
    anchor: str
    source_label: str
    """The source's short name, e.g. 'Al Jazeera'."""
    source_anchor: str
    """Where the source is listed in this briefing ('' when it is not)."""
    locator: str
    """Source, date and paragraph, e.g. 'ECSS, 6 February 2024, para. 12'."""
    grade: str
    """Source reliability and the credibility of its words, e.g. 'B2' ('B' in compact notes)."""
    excerpt: str
    """The source's words ('' in compact notes, which stand for a paragraph)."""
    backrefs: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Excerpt:
    """One citation behind a statement: the source's words, and how far to trust them."""

    note: int
    """The number of its note (0 when the briefing prints no notes)."""
    target: str
    """Anchor of its note in this briefing ('' when there is none)."""
    locator: str
    grade: str
    grade_words: str
    """The grade in words, e.g. 'usually reliable source; probably true'."""
    text: str


@dataclass(slots=True)
class Evidence:
    """The evidence behind one statement: a marker in print, the excerpts in the HTML."""

    anchor: str
    """The marker's own id, for the notes' back-links."""
    excerpts: list[Excerpt]

    @property
    def numbers(self) -> list[int]:
        """The notes it points at, each once, in ascending order."""
        return sorted({e.note for e in self.excerpts if e.note})


@dataclass(slots=True)
class PartyView:
    id: str
    name: str
    short_name: str
    colour: str
    ink: str
    """The colour darkened until text in it reads on white (4.5:1)."""
    tint: str
    index: int


@dataclass(slots=True)
class VerificationView:
    status: str
    checked_by: str | None
    checked_on: str | None
    note: str | None


@dataclass(slots=True)
class Meta:
    """What every item view carries: anchor, evidence, marking and check record."""

    id: str
    anchor: str
    evidence: Evidence | None
    marking: str
    verification: VerificationView | None
    note: str | None
    single_source: str | None
    """Label of the one lower-reliability source the item rests on, or None."""
    flag_marking: str | None = None
    """The item's marking when it is more restrictive than the case's default (portion mark)."""


@dataclass(slots=True)
class Paragraph:
    html: Markup
    meta: Meta


@dataclass(slots=True)
class RestsOn:
    label: str
    """The item's title, with the party for a motive or rationale ('North: ...')."""
    anchor: str
    """'' when the item is not shown in this briefing."""


@dataclass(slots=True)
class JudgmentView:
    meta: Meta
    number: int
    statement: str
    time_frame: str
    likelihood: str
    likelihood_range: str
    likelihood_index: int
    confidence: str
    reasoning: Markup
    rests_on: list[RestsOn]


@dataclass(slots=True)
class KeyFigureView:
    id: str
    label: str
    value: str
    caption: str | None
    sources: str
    """The short names of the sources behind it, e.g. 'Al Jazeera'."""
    evidence: Evidence | None


@dataclass(slots=True)
class CasualtyLine:
    measure: str
    value: str
    reports: list[str]


@dataclass(slots=True)
class EventView:
    meta: Meta
    number: int
    date_label: str
    date_note: str | None
    date_iso: str
    title: str
    summary: Markup
    kind: str
    parties: list[PartyView]
    actors: list[str]
    location: str | None
    casualties: list[CasualtyLine]
    upcoming: bool
    inexact: bool
    """Known to the month or year only, approximately, or as a range."""


@dataclass(slots=True)
class MotiveView:
    meta: Meta
    party: PartyView
    title: str
    category: str
    category_label: str
    salience: str
    salience_level: int
    salience_reason: str
    description: Markup
    confidence: str
    shared: list[SharedLink]
    """The other motives of its shared group that this briefing shows."""
    link: str | None = None
    """Where the motive's title links to (its detail entry), if that is in the briefing."""


@dataclass(slots=True)
class SharedLink:
    """Another party's motive in the same shared group, and where it is shown."""

    anchor: str
    title: str
    party: str
    """The party's short name."""


@dataclass(slots=True)
class SharedRow:
    """A motive two or more parties share: shown once, naming them."""

    title: str
    """The shortest of the parties' own titles for it (the templates show each party's
    own wording where the titles differ; see `same_words`)."""
    parties: list[PartyView]
    motives: list[MotiveView]
    """One per party, in party order."""
    category_label: str

    @property
    def same_words(self) -> bool:
        """Whether every party's motive in the group has the same title."""
        return len({m.title for m in self.motives}) == 1


@dataclass(slots=True)
class MatrixRow:
    category: str
    label: str
    cells: list[list[MotiveView]]
    """One list per party, in party order, most salient first (shared motives not repeated)."""
    hidden: int
    """Motives left out of the row by the profile's limit."""


@dataclass(slots=True)
class PartyMotives:
    party: PartyView
    items: list[MotiveView] | list[RationaleView]
    summary: Paragraph | None = None


@dataclass(slots=True)
class RationaleView:
    """One of a party's stated reasons for its course (in `view.rationales_by_party`)."""

    meta: Meta
    title: str
    description: Markup
    confidence: str


@dataclass(slots=True)
class AssessmentView:
    meta: Meta
    analyst: str
    role: str | None
    topic: str
    quote: str
    summary: str | None


@dataclass(slots=True)
class ReactionView:
    meta: Meta
    actor: str
    role: str | None
    summary: str


@dataclass(slots=True)
class PositionView:
    claim: str
    evidence: Evidence | None
    sources: list[str]


@dataclass(slots=True)
class ClaimView:
    meta: Meta
    question: str
    positions: list[PositionView]
    assessment: str | None


@dataclass(slots=True)
class IndicatorView:
    meta: Meta
    signpost: str
    direction: str
    meaning: str


@dataclass(slots=True)
class SourceView:
    id: str
    anchor: str
    number: int
    label: str
    title: str | None
    publisher: str | None
    author: str | None
    date: str | None
    date_note: str | None
    kind: str
    reliability: str
    reliability_label: str
    reliability_words: str
    """The grade for a general reader, e.g. 'a usually reliable source'."""
    reliability_reason: str
    slant: str | None
    errata: list[tuple[str, str]]
    url: str | None
    archive: str | None


@dataclass(slots=True)
class SectionView:
    id: str
    title: str
    number: int | None
    anchor: str


@dataclass(slots=True)
class VerificationSummary:
    """The check record of everything the briefing includes, in one statement."""

    items: int
    verified: int
    unverified: int
    disputed: int
    checkers: list[str]
    first: str | None
    last: str | None


@dataclass(slots=True)
class BriefingMeta:
    case_id: str
    case_title: str
    edition_title: str | None
    """The profile's ``title_suffix`` (e.g. "Executive summary"), or None."""
    subtitle: str | None
    as_of: str
    as_of_iso: str
    edition: int
    marking: str
    marking_colour: str
    marking_meaning: str
    prepared_by: str
    prepared_for: str
    organisation: str | None
    keywords: list[str]
    fingerprint: str
    short_fingerprint: str
    generator: str
    audience: str
    audience_description: str
    page_size: str
    citation_style: str
    detail: str
    accent: str
    accent_dark: str
    logo: str | None
    """The profile's logo, embedded as a data: URI (the page reads no file)."""
    change_note: str | None
    print_notes: bool
    """Whether print shows note markers (the briefing has a notes section)."""
    grades: bool
    """Whether grades are shown as codes ([B2]); otherwise in plain words."""
    event_summaries: bool
    """Whether the timeline table shows each event's summary (else date and title)."""
    comparison: str
    """`table` or `lists` (the profile's `comparison`)."""
    evidence_record: bool
    """Whether its readers may be pointed to the evidence record (not a TLP:CLEAR release)."""
    verification: VerificationSummary

    @property
    def title(self) -> str:
        """The case's title and the edition's name ("Title — Analyst edition"): the page's title."""
        return f"{self.case_title} — {self.edition_title}" if self.edition_title else self.case_title


@dataclass(slots=True)
class BriefingView:
    """Everything the templates receive. Plain data; no lookups left to do."""

    meta: BriefingMeta
    parties: list[PartyView]
    sections: list[SectionView]
    bluf: list[Paragraph]
    overview: list[Paragraph]
    outlook: list[Paragraph]
    judgments: list[JudgmentView]
    key_figures: list[KeyFigureView]
    events: list[EventView]
    timeline_svg: Markup
    shared: list[SharedRow]
    matrix: list[MatrixRow]
    summaries: list[PartyMotives]
    """Each party's summary paragraph (parties with one), with the comparison."""
    motives_by_party: list[PartyMotives]
    rationales_by_party: list[PartyMotives]
    assessments: list[AssessmentView]
    reactions: list[ReactionView]
    claims: list[ClaimView]
    indicators: list[IndicatorView]
    sources: list[SourceView]
    notes: list[Note]
    changes: list[ChangeLine]
    changes_since: int | None
    legend: dict[str, list[tuple[str, str]]]
    included_ids: list[str]

    @property
    def section_ids(self) -> list[str]:
        """The ids of the sections shown, in order."""
        return [s.id for s in self.sections]


# ---------------------------------------------------------------- helpers


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _luminance(colour: str) -> float:
    def ch(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = _rgb(colour)
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _mix(colour: str, towards: int, amount: float) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(round(c + (towards - c) * amount) for c in _rgb(colour)))


WASH = "#f4f6f8"
"""The lightest grey the page sets text on (boxes, timeline lanes); keep in step with ``--wash`` in briefing.css.j2."""


def readable(colour: str) -> str:
    """The colour, darkened until text in it passes WCAG AA (4.5:1) on white and on
    :data:`WASH`, and white text on it does too (contrast is symmetric)."""
    c = colour
    for _ in range(20):
        if contrast(c, WASH) >= 4.5:
            return c
        c = _mix(c, 0, 0.12)
    return c


def format_partial(value: str, short: bool = False) -> str:
    parts = value.split("-")
    month = MONTHS[int(parts[1]) - 1] if len(parts) > 1 else ""
    month = month[:3] if short else month
    if len(parts) == 3:
        return f"{int(parts[2])} {month} {parts[0]}"
    return f"{month} {parts[0]}" if month else parts[0]


def format_when(when: When) -> str:
    start = format_partial(when.date)
    if when.precision == "range" and when.end:
        a, b = when.date.split("-"), when.end.split("-")
        if len(a) == 3 and len(b) == 3 and a[:2] == b[:2]:
            return f"{int(a[2])}–{int(b[2])} {MONTHS[int(a[1]) - 1]} {a[0]}"
        if len(a) == 3 and len(b) == 3 and a[0] == b[0]:
            return f"{int(a[2])} {MONTHS[int(a[1]) - 1]} – {format_partial(when.end)}"
        return f"{start} – {format_partial(when.end)}"
    if when.precision == "approximate":
        return f"c. {start}"
    return start


def format_date(d: dt.date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _figure_range(low: int | None, high: int | None, best: int | None) -> str:
    if low is None and best is None:
        return "unknown"
    lo = low if low is not None else best
    if high is None:
        return f"at least {lo}"
    return f"{lo}" if lo == high else f"{lo}–{high}"


def _clip(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# ---------------------------------------------------------------- builder


class _Builder:
    """Builds the view of one edition; keeps the notes and what was included."""

    def __init__(self, case: Case, audience: Audience, marking_floor: str | None) -> None:
        self.case = case
        self.profile = p = audience.profile
        self.limit = MARKING_ORDER[p.marking]
        self.default_marking = case.info.marking
        self.default_level = MARKING_ORDER[self.default_marking]
        self.sections = list(p.sections)
        self.full = p.detail == "full"
        self.summary = p.detail == "summary"
        self.sources = {s.id: s for s in case.sources if self._ok(s.marking)}
        self.source_order = {sid: i + 1 for i, sid in enumerate(self.sources)}
        self.actors = {a.id: a for a in case.actors if self._ok(a.marking)}
        self.print_notes = "endnotes" in self.sections or p.citations == "footnotes"
        self.notes: dict[tuple[str, str], Note] = {}
        self.markers = 0
        self.included: list[str] = []
        self.checks: list[Any] = []
        self.max_marking = MARKING_ORDER[marking_floor] if marking_floor else 0
        self.parties = [
            PartyView(x.id, x.name, x.short_name, x.colour, readable(x.colour), _mix(x.colour, 255, 0.88), i)
            for i, x in enumerate(case.info.parties)
        ]
        self.party = {x.id: x for x in self.parties}

    # releasability ---------------------------------------------------
    def _ok(self, marking: str | None) -> bool:
        return MARKING_ORDER[marking or self.default_marking] <= self.limit

    def _take(self, marking: str | None) -> None:
        self.max_marking = max(self.max_marking, MARKING_ORDER[marking or self.default_marking])

    def _flag(self, marking: str | None) -> str | None:
        return marking if marking and MARKING_ORDER[marking] > self.default_level else None

    # sources and notes -----------------------------------------------
    def short_source(self, source_id: str) -> str:
        s = self.sources[source_id]
        return s.short_name or s.publisher or s.author or s.title or f"Source {self.source_order[source_id]}"

    def evidence(self, citations: Iterable[Citation]) -> Evidence | None:
        """The evidence behind a statement: its releasable citations, each with its note.
        Full notes quote each excerpt; compact ones stand for a paragraph of a source."""
        shown = [c for c in citations if c.source in self.sources]
        if not shown:
            return None
        self.markers += 1
        anchor = f"r{self.markers}"
        excerpts = []
        for c in shown:
            s = self.sources[c.source]
            label = self.short_source(c.source)
            date = format_partial(s.published, short=True) if s.published else None
            para = f"para. {c.paragraph}" if c.paragraph else None
            locator = ", ".join(x for x in (label, date, para) if x)
            grade = f"{s.reliability}{c.credibility}"
            words = f"{RELIABILITY_LABELS[s.reliability].lower()} source; {CREDIBILITY_LABELS[c.credibility].lower()}"
            note = None
            if self.print_notes:
                key = (c.source, c.excerpt) if self.full or not c.paragraph else (c.source, str(c.paragraph))
                note = self.notes.get(key)
                if note is None:
                    n = len(self.notes) + 1
                    note = self.notes[key] = Note(
                        n,
                        f"note-{n}",
                        label,
                        f"src-{c.source}" if "sources" in self.sections else "",
                        locator,
                        grade if self.full else s.reliability,
                        c.excerpt if self.full or not c.paragraph else "",
                    )
                if anchor not in note.backrefs:
                    note.backrefs.append(anchor)
            excerpts.append(
                Excerpt(note.n if note else 0, note.anchor if note else "", locator, grade, words, c.excerpt)
            )
        return Evidence(anchor, excerpts)

    def visible(self, item: Item) -> bool:
        """Whether this audience may see the item: releasable, with a releasable citation."""
        return self._ok(item.marking) and any(c.source in self.sources for c in item.citations)

    def meta(self, item: Item, prefix: str) -> Meta | None:
        """Meta for an item the briefing shows (None when this audience may not see it);
        its evidence is numbered now, so call it only for what is shown."""
        if not self.visible(item):
            return None
        citations = [c for c in item.citations if c.source in self.sources]
        self._take(item.marking)
        self.included.append(item.id)
        self.checks.append(item.verification)
        p = self.profile
        ver = None
        if p.show_verification:
            v = item.verification
            ver = VerificationView(
                v.status,
                v.checked_by if p.show_checkers else None,
                v.checked_on.isoformat() if v.checked_on else None,
                v.note if p.show_notes else None,
            )
        return Meta(
            item.id,
            f"{prefix}-{item.id}",
            self.evidence(citations),
            item.marking or self.default_marking,
            ver,
            item.note if p.show_notes else None,
            self.single_source(citations),
            self._flag(item.marking),
        )

    def single_source(self, citations: Sequence[Citation]) -> str | None:
        names = {c.source for c in citations}
        if len(names) == 1:
            (only,) = names
            reliability = self.sources[only].reliability
            if reliability in WEAK_RELIABILITY:
                if not self.profile.show_grades:
                    return f"Only one source, {PLAIN_RELIABILITY[reliability]}"
                return f"Single source, graded {reliability}"
        return None

    def paragraph(self, n: Any, anchor: str) -> Paragraph | None:
        if not self._ok(n.marking):
            return None
        evidence = self.evidence(n.citations)
        if evidence is None:
            return None
        self._take(n.marking)
        marking = n.marking or self.default_marking
        return Paragraph(
            md_block(n.text), Meta(anchor, anchor, evidence, marking, None, None, None, self._flag(n.marking))
        )

    def paragraphs(self, narratives: Sequence[Any], prefix: str) -> list[Paragraph]:
        out = [self.paragraph(n, f"{prefix}-{i + 1}") for i, n in enumerate(narratives)]
        return [p for p in out if p is not None]

    # sections ----------------------------------------------------------
    def judgments(self) -> list[JudgmentView]:
        index = self.case.index()
        out: list[JudgmentView] = []
        for j in self.case.judgments:
            meta = self.meta(j, "kj")
            if meta is None:
                continue
            lo, hi = LIKELIHOOD_RANGES[j.likelihood]
            rests = []
            for ref in j.rests_on:
                target = index.get(ref)
                if target is None or not self._ok(getattr(target, "marking", None)):
                    continue
                rests.append(RestsOn(self._label(target), _PREFIX.get(type(target).__name__, "item") + f"-{ref}"))
            out.append(
                JudgmentView(
                    meta,
                    len(out) + 1,
                    j.statement,
                    j.time_frame,
                    j.likelihood,
                    f"{lo}–{hi}%",
                    LIKELIHOOD_ORDER.index(j.likelihood),
                    j.confidence,
                    md_block(j.reasoning),
                    rests,
                )
            )
        return out

    def _label(self, item: Any) -> str:
        for attr in ("title", "statement", "question", "signpost", "topic", "summary", "name"):
            value = getattr(item, attr, None)
            if isinstance(value, str):
                party = str(getattr(item, "party", ""))
                who = f"{self.party[party].short_name}: " if party in self.party else ""
                return who + _clip(value)
        return str(getattr(item, "id", ""))

    def key_figures(self) -> list[KeyFigureView]:
        events = {e.id: e for e in self.case.events}
        out: list[KeyFigureView] = []
        for kf in self.case.info.key_figures:
            if len(out) == self.profile.limits.key_figures:
                break
            used = [events[e] for e in kf.events]
            if not self._ok(kf.marking) or any(not self._ok(e.marking) for e in used):
                continue
            citations = kf.stated.citations if kf.stated is not None else kf.citations
            if not any(c.source in self.sources for c in citations):
                continue
            if kf.compute == "stated" and kf.stated is not None:
                value = kf.stated.value
            elif kf.compute == "days_between":
                a, b = used
                days = (partial_date_start(b.when.date) - partial_date_start(a.when.date)).days
                exact = a.when.precision == "day" and b.when.precision == "day"
                value = f"{'' if exact else 'about '}{days} day{'s' if days != 1 else ''}"
            else:
                figs: list[Figure] = [f for e in used if e.casualties and (f := getattr(e.casualties, kf.compute))]
                if not figs:
                    continue
                low = sum((f.low if f.low is not None else (f.best or 0)) for f in figs)
                high = sum(f.high for f in figs) if all(f.high is not None for f in figs) else None  # type: ignore[misc]
                value = _figure_range(low, high, None)
            evidence = self.evidence(citations)
            self._take(kf.marking)
            names = ", ".join(dict.fromkeys(self.short_source(c.source) for c in citations if c.source in self.sources))
            out.append(KeyFigureView(kf.id, kf.label, value, kf.caption, names, evidence))
        return out

    def events(self) -> list[EventView]:
        chosen = self.case.events
        if not self.full and any(e.key for e in chosen):
            chosen = [e for e in chosen if e.key]
        place = {e.id: i for i, e in enumerate(self.case.events)}  # same day: the order of the file
        ordered = sorted(
            chosen, key=lambda e: (partial_date_start(e.when.date), e.when.precision == "range", place[e.id])
        )
        out: list[EventView] = []
        for e in ordered:
            meta = self.meta(e, "ev")
            if meta is None:
                continue
            casualties = []
            for measure in ("killed", "injured"):
                fig = getattr(e.casualties, measure) if e.casualties else None
                if fig is not None:
                    seen = [r for r in fig.reports if r.source in self.sources]
                    if not seen:
                        continue
                    reports = [
                        f"{self.short_source(r.source)}: {r.figure}" + (f" ({r.who})" if r.who else "") for r in seen
                    ]
                    if len(seen) == len(fig.reports):
                        value = _figure_range(fig.low, fig.high, fig.best)
                    else:  # the range as the reports this audience sees allow it, no more
                        lows = [r.low for r in seen if r.low is not None]
                        highs = [r.high for r in seen]
                        high = None if None in highs else max(h for h in highs if h is not None)
                        value = _figure_range(min(lows) if lows else None, high, None)
                    casualties.append(CasualtyLine(measure, value, reports))
            out.append(
                EventView(
                    meta=meta,
                    number=len(out) + 1,
                    date_label=format_when(e.when),
                    date_note=self._date_note(e.when),
                    date_iso=e.when.date,
                    title=e.title,
                    summary=md_inline(e.summary),
                    kind=e.kind,
                    parties=[self.party[p] for p in e.parties],
                    actors=[self.actors[a].name for a in e.actors if a in self.actors],
                    location=e.location,
                    casualties=casualties,
                    upcoming=e.upcoming,
                    inexact=e.when.precision != "day",
                )
            )
        return out

    def _date_note(self, when: When) -> str | None:
        """How a relative date was resolved: whose words, checked against what."""
        if not when.resolved_from:
            return None
        whose = self.short_source(when.resolved_from_source) if when.resolved_from_source in self.sources else ""
        against = self.short_source(when.resolved_against) if when.resolved_against in self.sources else ""
        words = f"{whose}'s words “{when.resolved_from}”" if whose else f"“{when.resolved_from}”"
        checked = f", checked against {against}" if against else ""
        return f"Resolved from {words}{checked}: {when.resolution}"

    def motives(self) -> tuple[list[SharedRow], list[MatrixRow], list[PartyMotives]]:
        """The comparison (shared groups, then one row per category) and each party's
        motives in detail. What the profile's limit leaves out is never numbered."""
        order = {c: i for i, c in enumerate(CATEGORY_LABELS)}
        seen = [m for m in self.case.motives if self.visible(m)]
        # A shared group is shown once when two or more of its parties' motives are seen.
        groups: dict[str, list[Motive]] = {}
        for m in seen:
            if m.shared:
                groups.setdefault(m.shared, []).append(m)
        groups = {k: sorted(v, key=lambda m: self.party[m.party].index) for k, v in groups.items() if len(v) > 1}
        grouped = {m.id for members in groups.values() for m in members}
        own = [m for m in seen if m.id not in grouped]
        limit = self.profile.limits.motives
        if limit:  # the most salient of each party's own motives
            keep: set[str] = set()
            for p in self.parties:
                mine = sorted(
                    (m for m in own if m.party == p.id), key=lambda m: (-SALIENCE_LEVEL[m.salience], order[m.category])
                )
                keep |= {m.id for m in mine[:limit]}
            hidden: Counter[str] = Counter(str(m.category) for m in own if m.id not in keep)
            own = [m for m in own if m.id in keep]
        else:
            hidden = Counter()
        in_detail = "motives_detail" in self.sections
        group_list = sorted(
            groups.values(), key=lambda ms: (-max(SALIENCE_LEVEL[m.salience] for m in ms), order[ms[0].category])
        )
        if limit:  # the most salient shared groups, as many as each party's own
            hidden.update(str(ms[0].category) for ms in group_list[limit:])
            group_list = group_list[:limit]
        shown = [m for ms in group_list for m in ms]
        shown += sorted(own, key=lambda m: (order[m.category], self.party[m.party].index, -SALIENCE_LEVEL[m.salience]))
        views = {m.id: self._motive_view(m, in_detail) for m in shown}
        shared_rows = []
        for members in group_list:
            vs = [views[m.id] for m in members]
            for v in vs:
                v.shared = [SharedLink(o.meta.anchor, o.title, o.party.short_name) for o in vs if o is not v]
            # One line for the group: the shortest of its parties' own titles.
            title = min((v.title for v in vs), key=len)
            shared_rows.append(SharedRow(title, [v.party for v in vs], vs, vs[0].category_label))
        rows = []
        for cat, label in CATEGORY_LABELS.items():
            cells = [[views[m.id] for m in own if m.category == cat and m.party == p.id] for p in self.parties]
            for cell in cells:
                cell.sort(key=lambda v: -v.salience_level)
            if any(cells) or hidden[cat]:
                rows.append(MatrixRow(cat, label, cells, hidden[cat]))
        by_party = []
        for p in self.parties:
            items = sorted(
                (v for v in views.values() if v.party.id == p.id), key=lambda v: (-v.salience_level, order[v.category])
            )
            if items:
                by_party.append(PartyMotives(p, items))
        return shared_rows, rows, by_party

    def _motive_view(self, m: Motive, in_detail: bool) -> MotiveView:
        meta = self.meta(m, "mv")
        assert meta is not None  # (only visible motives come here)
        return MotiveView(
            meta,
            self.party[m.party],
            m.title,
            m.category,
            CATEGORY_LABELS[m.category],
            m.salience,
            SALIENCE_LEVEL[m.salience],
            m.salience_reason,
            md_block(m.description),
            m.confidence,
            [],
            meta.anchor if in_detail else None,
        )

    def summaries(self) -> list[PartyMotives]:
        out = []
        for party, view in zip(self.case.info.parties, self.parties, strict=True):
            if party.summary is not None and (p := self.paragraph(party.summary, f"ps-{party.id}")) is not None:
                out.append(PartyMotives(view, [], p))
        return out

    def rationales(self) -> list[PartyMotives]:
        out = []
        for p in self.parties:
            items = []
            for r in self.case.rationales:
                if r.party == p.id and (meta := self.meta(r, "ra")) is not None:
                    items.append(RationaleView(meta, r.title, md_block(r.description), r.confidence))
            if items:
                out.append(PartyMotives(p, items))
        return out

    def assessments(self) -> list[AssessmentView]:
        out = []
        for a in self.case.assessments:
            actor = self.actors.get(a.analyst)
            if actor is not None and (meta := self.meta(a, "as")) is not None:
                out.append(AssessmentView(meta, actor.name, actor.role, a.topic, a.quote, a.summary))
        return out

    def reactions(self) -> list[ReactionView]:
        out = []
        for r in self.case.reactions:
            actor = self.actors.get(r.actor)
            if actor is not None and (meta := self.meta(r, "re")) is not None:
                out.append(ReactionView(meta, actor.name, actor.role, r.summary))
        return out

    def claims(self) -> list[ClaimView]:
        out = []
        for c in self.case.claims:
            positions = [p for p in c.positions if any(x.source in self.sources for x in p.citations)]
            if len(positions) < 2 or not self._ok(c.marking):
                continue
            meta = self.meta(c, "cc")
            if meta is None:
                continue
            # A claim rests on what its positions cite, whatever its own citations say.
            meta.single_source = self.single_source(
                [x for p in positions for x in p.citations if x.source in self.sources]
            )
            views = []
            for p in positions:
                names = list(
                    dict.fromkeys(self.short_source(x.source) for x in p.citations if x.source in self.sources)
                )
                views.append(PositionView(p.claim, self.evidence(p.citations), names))
            out.append(ClaimView(meta, c.question, views, c.assessment))
        return out

    def indicators(self) -> list[IndicatorView]:
        chosen = [i for i in self.case.indicators if self.visible(i)][: self.profile.limits.indicators]
        return [IndicatorView(meta, i.signpost, i.direction, i.meaning) for i in chosen if (meta := self.meta(i, "in"))]

    def source_views(self) -> list[SourceView]:
        out = []
        for s in self.case.sources:
            if s.id not in self.sources:
                continue
            self._take(s.marking)
            self.included.append(s.id)
            out.append(
                SourceView(
                    id=s.id,
                    anchor=f"src-{s.id}",
                    number=self.source_order[s.id],
                    label=self.short_source(s.id),
                    title=s.title,
                    publisher=s.publisher,
                    author=s.author,
                    date=format_partial(s.published) if s.published else None,
                    date_note=s.date_note,
                    kind=s.kind,
                    reliability=s.reliability,
                    reliability_label=RELIABILITY_LABELS[s.reliability],
                    reliability_words=PLAIN_RELIABILITY[s.reliability],
                    reliability_reason=s.reliability_reason,
                    slant=s.slant,
                    errata=[(e.excerpt, e.problem) for e in s.errata],
                    url=s.url,
                    archive=s.archive,
                )
            )
        return out

    def verification(self) -> VerificationSummary:
        checks = self.checks
        dates = sorted(v.checked_on for v in checks if v.checked_on)
        return VerificationSummary(
            items=len(checks),
            verified=sum(v.status == "verified" for v in checks),
            unverified=sum(v.status == "unverified" for v in checks),
            disputed=sum(v.status == "disputed" for v in checks),
            checkers=sorted({v.checked_by for v in checks if v.checked_by}) if self.profile.show_checkers else [],
            first=format_date(dates[0]) if dates else None,
            last=format_date(dates[-1]) if dates else None,
        )


_PREFIX = {
    "Event": "ev",
    "Motive": "mv",
    "Rationale": "ra",
    "Assessment": "as",
    "Reaction": "re",
    "Claim": "cc",
    "Indicator": "in",
    "Judgment": "kj",
    "Source": "src",
}


def _lanes_and_marks(events: list[EventView], parties: list[PartyView]) -> tuple[list[Lane], list[Mark]]:
    lanes = [Lane(p.id, p.short_name, p.ink) for p in parties]
    marks = [
        Mark(
            e.number,
            e.date_iso,
            e.date_label,
            e.title,
            [p.id for p in e.parties],
            e.upcoming,
            e.inexact,
        )
        for e in events
    ]
    return lanes, marks


def _link_rests_on(
    got: dict[str, Any],
    events: list[EventView],
    shared: list[SharedRow],
    rows: list[MatrixRow],
    by_party: list[PartyMotives],
    wanted: set[str],
    summary: bool,
) -> None:
    """Point each judgment's 'rests on' links at what this briefing shows (a motive's detail
    entry, else its line in the comparison), and at nothing when the item is not shown."""
    shown = {e.meta.anchor for e in events}
    for key in ("judgments", "claims", "indicators", "assessments", "reactions"):
        shown |= {x.meta.anchor for x in got.get(key, [])}
    shown |= {r.meta.anchor for group in got.get("rationales", []) for r in group.items}
    if "motives_detail" in wanted:
        shown |= {m.meta.anchor for group in by_party for m in group.items}
    if "motive_matrix" in wanted:
        lines = [v for r in shared for v in (r.motives[:1] if summary else r.motives)]
        lines += [v for r in rows for cell in r.cells for v in cell]
        shown |= {f"mx-{v.meta.id}" for v in lines}
    for j in got.get("judgments", []):
        for r in j.rests_on:
            if r.anchor not in shown:
                other = f"mx-{r.anchor[3:]}" if r.anchor.startswith("mv-") else ""
                r.anchor = other if other in shown else ""


def build_view(
    case: Case,
    audience: Audience,
    changes: tuple[int, list[ChangeLine]] | None = None,
    marking_floor: str | None = None,
) -> BriefingView:
    """Decide everything the templates will show for ``audience``. ``marking_floor``: a
    marking the briefing carries at least (a copy marked more strictly than its items)."""
    b = _Builder(case, audience, marking_floor)
    info = case.info
    p = audience.profile
    wanted: set[str] = set(p.sections)
    # Sections are built in the order they appear, so that notes are numbered in reading order.
    got: dict[str, Any] = {}
    makers = {
        "bluf": lambda: b.paragraphs(info.bluf, "bluf"),
        "judgments": b.judgments,
        "key_figures": b.key_figures,
        "overview": lambda: b.paragraphs(info.overview, "ov"),
        "timeline": b.events,
        "motive_matrix": lambda: (b.summaries(), b.motives()),
        "motives_detail": lambda: (b.summaries(), b.motives()),
        "rationales": b.rationales,
        "assessments": b.assessments,
        "reactions": b.reactions,
        "claims": b.claims,
        "outlook": lambda: b.paragraphs(info.outlook, "ol"),
        "indicators": b.indicators,
        "sources": b.source_views,
    }
    for sid in p.sections:
        key = "motives" if sid in ("motive_matrix", "motives_detail") else sid
        if sid in makers and key not in got:
            got[key] = makers[sid]()
    summaries, (shared, rows, by_party) = got.get("motives", ([], ([], [], [])))
    events: list[EventView] = got.get("timeline", [])
    changes_since, change_lines = changes if changes else (None, [])

    titles = dict(DEFAULT_TITLES, motive_matrix=info.headings.motives, rationales=info.headings.rationales)
    if changes_since is not None:
        titles["changes"] = f"What changed since edition {changes_since}"
    has_content = {
        "cover": True,
        "contents": True,
        "changes": changes_since is not None,
        "timeline": bool(events),
        "motive_matrix": bool(shared or rows),
        "motives_detail": bool(by_party),
        "endnotes": bool(b.notes),
        "legend": True,
        "colophon": True,
    }
    sections = []
    number = 0
    for sid in p.sections:
        if not has_content.get(sid, bool(got.get(sid))):
            continue
        numbered = sid not in ("cover", "contents", "colophon")
        number += numbered
        sections.append(SectionView(sid, titles[sid], number if numbered else None, f"sec-{sid}"))

    marking = next(k for k, v in MARKING_ORDER.items() if v == b.max_marking)
    accent = readable(p.branding.accent or "#1d3b5a")
    meta = BriefingMeta(
        case_id=case.id,
        case_title=info.title,
        edition_title=p.title_suffix or None,
        subtitle=info.subtitle,
        as_of=format_date(info.as_of),
        as_of_iso=info.as_of.isoformat(),
        edition=info.edition,
        marking=marking,
        marking_colour=MARKING_COLOURS[marking],
        marking_meaning=MARKING_MEANING[marking],
        prepared_by=info.prepared_by,
        prepared_for=p.prepared_for or info.prepared_for,
        organisation=p.branding.organisation,
        keywords=list(info.keywords),
        fingerprint=case.fingerprint,
        short_fingerprint=case.fingerprint[:12],
        generator=f"briefgen {__version__}",
        audience=p.name,
        audience_description=p.description,
        page_size=p.page_size,
        citation_style=p.citations,
        detail=p.detail,
        accent=accent,
        accent_dark=readable(p.branding.accent_dark) if p.branding.accent_dark else _mix(accent, 0, 0.35),
        logo=audience.logo_uri,
        change_note=info.change_note,
        print_notes=b.print_notes,
        grades=p.show_grades,
        event_summaries=p.event_summaries,
        comparison=p.comparison,
        evidence_record=p.marking != "CLEAR",
        verification=b.verification(),
    )
    legend = {
        "reliability": list(RELIABILITY_LABELS.items()),
        "credibility": [(str(k), v) for k, v in CREDIBILITY_LABELS.items()],
        "likelihood": [(k, f"{lo}–{hi}%") for k, (lo, hi) in LIKELIHOOD_RANGES.items()],
        "confidence": list(CONFIDENCE_LABELS.items()),
    }
    lanes, marks = _lanes_and_marks(events, b.parties)
    _link_rests_on(got, events, shared, rows, by_party, wanted, p.detail == "summary")
    return BriefingView(
        meta=meta,
        parties=b.parties,
        sections=sections,
        bluf=got.get("bluf", []),
        overview=got.get("overview", []),
        outlook=got.get("outlook", []),
        judgments=got.get("judgments", []),
        key_figures=got.get("key_figures", []),
        events=events,
        timeline_svg=timeline_svg(marks, lanes) if events else Markup(""),
        shared=shared if "motive_matrix" in wanted else [],
        matrix=rows if "motive_matrix" in wanted else [],
        summaries=summaries,
        motives_by_party=by_party if "motives_detail" in wanted else [],
        rationales_by_party=got.get("rationales", []),
        assessments=got.get("assessments", []),
        reactions=got.get("reactions", []),
        claims=got.get("claims", []),
        indicators=got.get("indicators", []),
        sources=got.get("sources", []),
        notes=sorted(b.notes.values(), key=lambda n: n.n),
        changes=change_lines,
        changes_since=changes_since,
        legend=legend,
        included_ids=sorted(set(b.included)),
    )
