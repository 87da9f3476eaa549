"""Case + audience → :class:`BriefingView`: plain, ready-to-print data for the templates.

Everything a template needs is decided here: which items this audience may see
(releasability), their order, endnote numbering and back-links, the comparison
matrix, the timeline layout and the computed key figures. Templates only place it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from .. import __version__
from ..facts.models import Case, Citation, Event, Item, Motive
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

SALIENCE_LEVEL = {"high": 3, "medium": 2, "low": 1}
CONFIDENCE_LEVEL = {"low": 1, "moderate": 2, "high": 3}
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

DEFAULT_TITLES = {
    "cover": "Cover",
    "contents": "Contents",
    "bluf": "Bottom line up front",
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
class Cite:
    """A citation marker: the note it points to and its own anchor (for the back-link)."""

    n: int
    target: str
    anchor: str
    _label: str | None = None
    _note: Endnote | None = None
    _credibility: int = 0

    @property
    def label(self) -> str:
        """Source, grade and excerpt, for a tooltip or a footnote."""
        # A marker of an endnote makes its label when a template reads it: a large case
        # has hundreds of thousands, and their labels took a quarter of its view's memory.
        if self._label is not None:
            return self._label
        note = self._note
        assert note is not None
        return f"{note.source_label} ({src_grade(note.reliability, self._credibility)}): “{_clip(note.excerpt)}”"


@dataclass(slots=True)
class Endnote:
    n: int
    anchor: str
    source_id: str
    source_label: str
    source_anchor: str
    excerpt: str
    credibility: int
    credibility_label: str
    reliability: str
    backrefs: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PartyView:
    id: str
    name: str
    short_name: str
    colour: str
    ink: str
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
    """What every item view carries: anchor, citations, marking and check record."""

    id: str
    anchor: str
    cites: list[Cite]
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
class JudgmentView:
    meta: Meta
    number: int
    statement: str
    likelihood: str
    likelihood_range: str
    likelihood_index: int
    confidence: str
    confidence_level: int
    reasoning: Markup
    rests_on: list[tuple[str, str]]


@dataclass(slots=True)
class KeyFigureView:
    id: str
    label: str
    value: str
    caption: str | None
    cites: list[Cite]


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
    location: str | None
    casualties: list[CasualtyLine]
    upcoming: bool


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
    confidence_level: int
    shared: list[SharedLink]
    """The other motives of its shared group (empty when it is not shared)."""
    link: str | None = None
    """Where the motive's title links to (its detail entry), if that is in the briefing."""
    matrix_cites: list[Cite] = field(default_factory=list)
    """Citation markers for the matrix cell (their own anchors, so back-links stay unique)."""


@dataclass(slots=True)
class SharedLink:
    """Another party's motive in the same shared group, and where it is shown."""

    anchor: str
    """Empty when that motive is not shown in this briefing."""
    title: str
    party: str
    """The party's short name."""


@dataclass(slots=True)
class MatrixRow:
    category: str
    label: str
    cells: list[list[MotiveView]]
    shared: bool
    hidden: int


@dataclass(slots=True)
class PartyMotives:
    party: PartyView
    items: list[MotiveView] | list[RationaleView]


@dataclass(slots=True)
class RationaleView:
    """One of a party's stated reasons for its course (in `view.rationales_by_party`)."""

    meta: Meta
    title: str
    description: Markup
    confidence: str
    confidence_level: int


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
    cites: list[Cite]
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
class BriefingMeta:
    case_id: str
    title: str
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
    change_note: str | None


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
    matrix: list[MatrixRow]
    motives_by_party: list[PartyMotives]
    rationales_by_party: list[PartyMotives]
    assessments: list[AssessmentView]
    reactions: list[ReactionView]
    claims: list[ClaimView]
    indicators: list[IndicatorView]
    sources: list[SourceView]
    endnotes: list[Endnote]
    changes: list[ChangeLine]
    changes_since: int | None
    legend: dict[str, list[tuple[str, str]]]
    included_ids: list[str]

    @property
    def section_ids(self) -> list[str]:
        """The ids of the sections shown, in order."""
        return [s.id for s in self.sections]


# ---------------------------------------------------------------- helpers


def _hex_to_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _luminance(colour: str) -> float:
    def ch(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = _hex_to_rgb(colour)
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _tint(colour: str, amount: float = 0.88) -> str:
    r, g, b = _hex_to_rgb(colour)
    mix = [round(c + (255 - c) * amount) for c in (r, g, b)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def _shade(colour: str, amount: float) -> str:
    r, g, b = _hex_to_rgb(colour)
    mix = [round(c * (1 - amount)) for c in (r, g, b)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def readable(colour: str) -> str:
    """The party colour, darkened until text in it passes WCAG AA on white."""
    c = colour
    for _ in range(20):
        if contrast(c, "#ffffff") >= 4.5:
            return c
        c = _shade(c, 0.12)
    return c


def format_partial(value: str) -> str:
    parts = value.split("-")
    if len(parts) == 3:
        return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 2:
        return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return parts[0]


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
    if lo == high:
        return f"{lo}"
    return f"{lo}–{high}"


# ---------------------------------------------------------------- builder


class _Builder:
    def __init__(self, case: Case, audience: Audience, changes: tuple[int, list[ChangeLine]] | None):
        self.case = case
        self.audience = audience
        self.profile = audience.profile
        self.limit = MARKING_ORDER[self.profile.marking]
        self.default_marking = case.info.marking
        self.default_level = MARKING_ORDER[self.default_marking]
        self.sections = [s for s in self.profile.sections]
        self.use_endnotes = "endnotes" in self.sections
        self.use_sources = "sources" in self.sections
        self.sources = {s.id: s for s in case.sources if self._ok(s.marking)}
        self.source_order = {s.id: i + 1 for i, s in enumerate(x for x in case.sources if x.id in self.sources)}
        self.actors = {a.id: a for a in case.actors if self._ok(a.marking)}
        self.endnotes: dict[tuple[str, str], Endnote] = {}
        self.anchor_count = 0
        self._source_labels: dict[str, str] = {}
        self.included: list[str] = []
        self.max_marking = 0
        self.changes = changes
        parties = []
        for i, p in enumerate(case.info.parties):
            ink = readable(p.colour)
            parties.append(PartyView(p.id, p.name, p.short_name, p.colour, ink, _tint(p.colour), i))
        self.parties = parties
        self.party = {p.id: p for p in parties}
        self.summary = self.profile.detail == "summary"

    # releasability ---------------------------------------------------
    def _marking(self, marking: str | None) -> str:
        return marking or self.default_marking

    def _ok(self, marking: str | None) -> bool:
        return MARKING_ORDER[self._marking(marking)] <= self.limit

    def _take(self, marking: str | None, item_id: str | None = None) -> None:
        self.max_marking = max(self.max_marking, MARKING_ORDER[self._marking(marking)])
        if item_id:
            self.included.append(item_id)

    def _released_citations(self, citations: Sequence[Citation]) -> list[Citation]:
        return [c for c in citations if c.source in self.sources]

    # citations ---------------------------------------------------------
    def _source_label(self, source_id: str) -> str:
        # One string per source, however often it is cited (a large case cites each
        # source thousands of times: one copy each took a tenth of the view's memory).
        label = self._source_labels.get(source_id)
        if label is None:
            s = self.sources[source_id]
            who = s.publisher or s.author or "Unattributed"
            title = s.title or "untitled"
            label = self._source_labels[source_id] = f"{who}, “{title}”"
        return label

    def cites(self, citations: Iterable[Citation]) -> list[Cite]:
        # (Run for every citation of every item shown: a large case's hottest loop.)
        out: list[Cite] = []
        seen: set[int] = set()
        sources = self.sources
        count = self.anchor_count
        if self.use_endnotes:
            endnotes = self.endnotes
            for c in citations:
                source = c.source
                if source not in sources:
                    continue
                count += 1
                anchor = f"r{count}"
                excerpt, credibility = c.excerpt, c.credibility
                note = endnotes.get((source, excerpt))
                if note is None:
                    n = len(endnotes) + 1
                    note = endnotes[(source, excerpt)] = Endnote(
                        n,
                        f"note-{n}",
                        source,
                        self._source_label(source),
                        f"src-{source}" if self.use_sources else "",
                        excerpt,
                        credibility,
                        CREDIBILITY_LABELS[credibility],
                        sources[source].reliability,
                    )
                n = note.n
                if n in seen:
                    continue
                seen.add(n)
                note.backrefs.append(anchor)
                out.append(Cite(n, note.anchor, anchor, None, note, credibility))
        elif self.use_sources:
            order = self.source_order
            for c in citations:
                source = c.source
                if source not in sources:
                    continue
                count += 1
                n = order[source]
                if n in seen:
                    continue
                seen.add(n)
                out.append(Cite(n, f"src-{source}", f"r{count}", self._source_label(source)))
        else:
            count += sum(1 for c in citations if c.source in sources)
        self.anchor_count = count
        return out

    def meta(self, item: Item, anchor_prefix: str) -> Meta | None:
        """Meta for an item, or None when this audience may not see it."""
        # (_ok, _released_citations and _take, inlined: this runs for every item.)
        marking = item.marking or self.default_marking
        level = MARKING_ORDER[marking]
        if level > self.limit:
            return None
        sources = self.sources
        citations = [c for c in item.citations if c.source in sources]
        if not citations:
            return None
        if level > self.max_marking:
            self.max_marking = level
        if item.id:
            self.included.append(item.id)
        profile = self.profile
        ver = None
        if profile.show_verification:
            v = item.verification
            ver = VerificationView(
                v.status,
                v.checked_by if profile.show_checkers else None,
                v.checked_on.isoformat() if v.checked_on else None,
                v.note if profile.show_notes else None,
            )
        single = None
        first = citations[0].source
        if all(c.source == first for c in citations):
            reliability = sources[first].reliability
            if reliability in WEAK_RELIABILITY:
                single = f"Single source, graded {reliability}"
        return Meta(
            item.id,
            f"{anchor_prefix}-{item.id}",
            self.cites(citations),
            marking,
            ver,
            item.note if profile.show_notes else None,
            single,
            item.marking if item.marking and level > self.default_level else None,
        )

    def paragraphs(self, narratives: Sequence[Any], prefix: str) -> list[Paragraph]:
        out = []
        for i, n in enumerate(narratives):
            if not self._ok(n.marking):
                continue
            citations = self._released_citations(n.citations)
            if not citations:
                continue
            self._take(n.marking)
            flag = n.marking if n.marking and MARKING_ORDER[n.marking] > MARKING_ORDER[self.default_marking] else None
            anchor = f"{prefix}-{i + 1}"
            meta = Meta(anchor, anchor, self.cites(citations), self._marking(n.marking), None, None, None, flag)
            out.append(Paragraph(md_block(n.text), meta))
        return out

    # sections ------------------------------------------------------------
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
                rests.append((_item_label(target), f"{_prefix_of(target)}-{ref}"))
            out.append(
                JudgmentView(
                    meta=meta,
                    number=len(out) + 1,
                    statement=j.statement,
                    likelihood=j.likelihood,
                    likelihood_range=f"{lo}–{hi}%",
                    likelihood_index=LIKELIHOOD_ORDER.index(j.likelihood),
                    confidence=j.confidence,
                    confidence_level=CONFIDENCE_LEVEL[j.confidence],
                    reasoning=md_block(j.reasoning),
                    rests_on=rests,
                )
            )
        if self.summary:
            out = out[: self.profile.summary_limit + 2]
        return out

    def key_figures(self) -> list[KeyFigureView]:
        events = {e.id: e for e in self.case.events}
        out = []
        for kf in self.case.info.key_figures:
            if not self._ok(kf.marking):
                continue
            used = [events[e] for e in kf.events]
            if any(not self._ok(e.marking) for e in used):
                continue
            cites: list[Cite] = []
            if kf.compute == "stated" and kf.stated is not None:
                value = kf.stated.value
                cites = self.cites(kf.stated.citations)
                if not cites:
                    continue
            elif kf.compute == "days_between":
                a, b = used
                days = (partial_date_start(b.when.date) - partial_date_start(a.when.date)).days
                exact = a.when.precision == "day" and b.when.precision == "day"
                value = f"{'' if exact else 'about '}{days} day{'s' if days != 1 else ''}"
                cites = self.cites([*a.citations[:1], *b.citations[:1]])
            else:
                figs: list[Figure] = []
                for e in used:
                    fig = getattr(e.casualties, kf.compute, None) if e.casualties else None
                    if fig is not None:
                        figs.append(fig)
                        cites.extend(self.cites(e.citations[:1]))
                if not figs:
                    continue
                low = sum((f.low if f.low is not None else (f.best or 0)) for f in figs)
                high = sum(f.high for f in figs) if all(f.high is not None for f in figs) else None  # type: ignore[misc]
                value = _figure_range(low, high, None)
            self._take(kf.marking)
            out.append(KeyFigureView(kf.id, kf.label, value, kf.caption, cites))
        return out

    def events(self) -> list[EventView]:
        out: list[EventView] = []
        ordered = sorted(
            self.case.events,
            key=lambda e: (partial_date_start(e.when.date), e.when.precision == "range", e.id),
        )
        for e in ordered:
            meta = self.meta(e, "ev")
            if meta is None:
                continue
            casualties = []
            if e.casualties:
                for measure in ("killed", "injured"):
                    fig = getattr(e.casualties, measure)
                    if fig is None:
                        continue
                    reports = []
                    for r in fig.reports:
                        if r.source not in self.sources:
                            continue
                        who = f" ({r.who})" if r.who else ""
                        reports.append(f"{self._short_source(r.source)}: {r.figure}{who}")
                    casualties.append(CasualtyLine(measure, _figure_range(fig.low, fig.high, fig.best), reports))
            note = None
            if e.when.resolved_from:
                src = (
                    f" ({self._short_source(e.when.resolved_against)})"
                    if e.when.resolved_against in self.sources
                    else ""
                )
                note = f"Resolved from “{e.when.resolved_from}”{src}: {e.when.resolution}"
            out.append(
                EventView(
                    meta=meta,
                    number=len(out) + 1,
                    date_label=format_when(e.when),
                    date_note=note,
                    date_iso=e.when.date,
                    title=e.title,
                    summary=md_inline(e.summary),
                    kind=e.kind,
                    parties=[self.party[p] for p in e.parties],
                    location=e.location,
                    casualties=casualties,
                    upcoming=e.upcoming,
                )
            )
        return out

    def _short_source(self, source_id: str | None) -> str:
        if source_id is None or source_id not in self.sources:
            return ""
        s = self.sources[source_id]
        return s.short_name or s.publisher or s.author or s.title or f"Source {self.source_order[source_id]}"

    def motives(self) -> tuple[list[MatrixRow], list[PartyMotives]]:
        views: dict[str, MotiveView] = {}
        in_detail = "motives_detail" in self.sections
        for m in self.case.motives:
            meta = self.meta(m, "mv")
            if meta is None:
                continue
            view = self._motive_view(m, meta)
            view.link = meta.anchor if in_detail else None
            if "motive_matrix" in self.sections:
                view.matrix_cites = self.cites(self._released_citations(m.citations)) if in_detail else meta.cites
            views[m.id] = view
        # Each shown motive links to the others of its group that this audience sees.
        groups: dict[str, list[MotiveView]] = {}
        for m in self.case.motives:
            if m.shared and m.id in views:
                groups.setdefault(m.shared, []).append(views[m.id])
        for members in groups.values():
            for v in members:
                v.shared = [
                    SharedLink(o.meta.anchor if in_detail else f"mx-{o.meta.id}", o.title, o.party.short_name)
                    for o in members
                    if o is not v
                ]
        grouped: dict[tuple[str, str], list[MotiveView]] = {}
        for v in views.values():
            grouped.setdefault((v.category, v.party.id), []).append(v)
        rows = []
        for cat, label in CATEGORY_LABELS.items():
            cells: list[list[MotiveView]] = []
            hidden = 0
            for p in self.parties:
                cell = grouped.get((cat, p.id), [])
                cell.sort(key=lambda v: -v.salience_level)
                if self.summary and len(cell) > self.profile.summary_limit:
                    hidden += len(cell) - self.profile.summary_limit
                    cell = cell[: self.profile.summary_limit]
                cells.append(cell)
            if any(cells):
                shared = any(v.shared for cell in cells for v in cell)
                rows.append(MatrixRow(cat, label, cells, shared, hidden))
        if not in_detail:
            shown = {f"mx-{v.meta.id}" for row in rows for cell in row.cells for v in cell}
            for v in views.values():
                for link in v.shared:
                    if link.anchor not in shown:
                        link.anchor = ""
        by_party = []
        category_order = {c: i for i, c in enumerate(CATEGORY_LABELS)}
        for p in self.parties:
            items = [v for v in views.values() if v.party.id == p.id]
            items.sort(key=lambda v: (-v.salience_level, category_order[v.category]))
            if items:
                by_party.append(PartyMotives(p, items))
        return rows, by_party

    def _motive_view(self, m: Motive, meta: Meta) -> MotiveView:
        return MotiveView(
            meta=meta,
            party=self.party[m.party],
            title=m.title,
            category=m.category,
            category_label=CATEGORY_LABELS[m.category],
            salience=m.salience,
            salience_level=SALIENCE_LEVEL[m.salience],
            salience_reason=m.salience_reason,
            description=md_block(m.description),
            confidence=m.confidence,
            confidence_level=CONFIDENCE_LEVEL[m.confidence],
            shared=[],
        )

    def rationales(self) -> list[PartyMotives]:
        out = []
        for p in self.parties:
            items = []
            for r in self.case.rationales:
                if r.party != p.id:
                    continue
                meta = self.meta(r, "ra")
                if meta is None:
                    continue
                items.append(
                    RationaleView(meta, r.title, md_block(r.description), r.confidence, CONFIDENCE_LEVEL[r.confidence])
                )
            if items:
                out.append(PartyMotives(p, items))
        return out

    def assessments(self) -> list[AssessmentView]:
        out = []
        for a in self.case.assessments:
            actor = self.actors.get(a.analyst)
            if actor is None:
                continue
            meta = self.meta(a, "as")
            if meta is None:
                continue
            out.append(AssessmentView(meta, actor.name, actor.role, a.topic, a.quote, a.summary))
        return out

    def reactions(self) -> list[ReactionView]:
        out = []
        for r in self.case.reactions:
            actor = self.actors.get(r.actor)
            if actor is None:
                continue
            meta = self.meta(r, "re")
            if meta is None:
                continue
            out.append(ReactionView(meta, actor.name, actor.role, r.summary))
        return out

    def claims(self) -> list[ClaimView]:
        out = []
        for c in self.case.claims:
            meta = self.meta(c, "cc")
            if meta is None:
                continue
            positions = []
            for p in c.positions:
                cites = self.cites(p.citations)
                if not cites:
                    continue
                names = sorted({self._short_source(x.source) for x in p.citations if x.source in self.sources})
                positions.append(PositionView(p.claim, cites, names))
            if len(positions) < 2:
                self.included.remove(c.id)
                continue
            out.append(ClaimView(meta, c.question, positions, c.assessment))
        return out

    def indicators(self) -> list[IndicatorView]:
        out = []
        for i in self.case.indicators:
            meta = self.meta(i, "in")
            if meta is None:
                continue
            out.append(IndicatorView(meta, i.signpost, i.direction, i.meaning))
        if self.summary:
            out = out[: self.profile.summary_limit * 2]
        return out

    def source_views(self) -> list[SourceView]:
        out = []
        for s in self.case.sources:
            if s.id not in self.sources:
                continue
            self._take(s.marking, s.id)
            out.append(
                SourceView(
                    id=s.id,
                    anchor=f"src-{s.id}",
                    number=self.source_order[s.id],
                    label=self._source_label(s.id),
                    title=s.title,
                    publisher=s.publisher,
                    author=s.author,
                    date=format_partial(s.published) if s.published else None,
                    date_note=s.date_note,
                    kind=s.kind,
                    reliability=s.reliability,
                    reliability_label=RELIABILITY_LABELS[s.reliability],
                    reliability_reason=s.reliability_reason,
                    slant=s.slant,
                    errata=[(e.excerpt, e.problem) for e in s.errata],
                    url=s.url,
                    archive=s.archive,
                )
            )
        return out


def src_grade(reliability: str, credibility: int) -> str:
    return f"{reliability}{credibility}"


def _clip(text: str, n: int = 160) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _prefix_of(item: Any) -> str:
    return {
        "Event": "ev",
        "Motive": "mv",
        "Rationale": "ra",
        "Assessment": "as",
        "Reaction": "re",
        "Claim": "cc",
        "Indicator": "in",
        "Judgment": "kj",
        "Source": "src",
    }.get(type(item).__name__, "item")


def _item_label(item: Any) -> str:
    for attr in ("title", "statement", "question", "signpost", "topic", "summary", "name"):
        value = getattr(item, attr, None)
        if isinstance(value, str):
            return _clip(value, 80)
    return str(getattr(item, "id", ""))


def build_view(
    case: Case,
    audience: Audience,
    changes: tuple[int, list[ChangeLine]] | None = None,
) -> BriefingView:
    """Decide everything the templates will show for ``audience``."""
    from .timeline import timeline_svg

    b = _Builder(case, audience, changes)
    info = case.info
    p = audience.profile
    # Order matters for endnote numbering: follow the order of sections.
    produced: dict[str, Any] = {}
    makers = {
        "bluf": lambda: b.paragraphs(info.bluf, "bluf"),
        "judgments": b.judgments,
        "key_figures": b.key_figures,
        "overview": lambda: b.paragraphs(info.overview, "ov"),
        "timeline": b.events,
        "motive_matrix": b.motives,
        "motives_detail": b.motives,
        "rationales": b.rationales,
        "assessments": b.assessments,
        "reactions": b.reactions,
        "claims": b.claims,
        "outlook": lambda: b.paragraphs(info.outlook, "ol"),
        "indicators": b.indicators,
        "sources": b.source_views,
    }
    for sid in p.sections:
        if sid in makers and sid not in produced:
            if sid in ("motive_matrix", "motives_detail"):
                if "motives" not in produced:
                    produced["motives"] = b.motives()
                continue
            produced[sid] = makers[sid]()
    rows, by_party = produced.get("motives", ([], []))
    events: list[EventView] = produced.get("timeline", [])
    changes_since, change_lines = changes if changes else (None, [])

    titles = dict(DEFAULT_TITLES)
    titles["motive_matrix"] = info.headings.motives
    titles["rationales"] = info.headings.rationales
    if changes_since is not None:
        titles["changes"] = f"What changed since edition {changes_since}"

    has_content = {
        "cover": True,
        "contents": True,
        "bluf": bool(produced.get("bluf")),
        "judgments": bool(produced.get("judgments")),
        "key_figures": bool(produced.get("key_figures")),
        "changes": changes_since is not None,
        "overview": bool(produced.get("overview")),
        "timeline": bool(events),
        "motive_matrix": bool(rows),
        "motives_detail": bool(by_party),
        "rationales": bool(produced.get("rationales")),
        "assessments": bool(produced.get("assessments")),
        "reactions": bool(produced.get("reactions")),
        "claims": bool(produced.get("claims")),
        "outlook": bool(produced.get("outlook")),
        "indicators": bool(produced.get("indicators")),
        "sources": bool(produced.get("sources")),
        "endnotes": bool(b.endnotes),
        "legend": True,
        "colophon": True,
    }
    sections = []
    number = 0
    for sid in p.sections:
        if not has_content.get(sid):
            continue
        numbered = sid not in ("cover", "contents", "colophon")
        if numbered:
            number += 1
        sections.append(SectionView(sid, titles[sid], number if numbered else None, f"sec-{sid}"))

    marking = max(b.max_marking, 0)
    marking_name = next(k for k, v in MARKING_ORDER.items() if v == marking)
    accent = p.branding.accent or "#1d3b5a"
    meta = BriefingMeta(
        case_id=case.id,
        title=info.title + (f" — {p.title_suffix}" if p.title_suffix else ""),
        subtitle=info.subtitle,
        as_of=format_date(info.as_of),
        as_of_iso=info.as_of.isoformat(),
        edition=info.edition,
        marking=marking_name,
        marking_colour=MARKING_COLOURS[marking_name],
        marking_meaning=MARKING_MEANING[marking_name],
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
        accent=readable(accent),
        accent_dark=p.branding.accent_dark or _shade(readable(accent), 0.35),
        logo=audience.logo_uri,
        change_note=info.change_note,
    )
    legend = {
        "reliability": [(k, v) for k, v in RELIABILITY_LABELS.items()],
        "credibility": [(str(k), v) for k, v in CREDIBILITY_LABELS.items()],
        "likelihood": [(k, f"{lo}–{hi}%") for k, (lo, hi) in LIKELIHOOD_RANGES.items()],
        "confidence": [(k, v) for k, v in CONFIDENCE_LABELS.items()],
    }
    return BriefingView(
        meta=meta,
        parties=b.parties,
        sections=sections,
        bluf=produced.get("bluf", []),
        overview=produced.get("overview", []),
        outlook=produced.get("outlook", []),
        judgments=produced.get("judgments", []),
        key_figures=produced.get("key_figures", []),
        events=events,
        timeline_svg=timeline_svg(events, b.parties) if events else Markup(""),
        matrix=rows,
        motives_by_party=by_party,
        rationales_by_party=produced.get("rationales", []),
        assessments=produced.get("assessments", []),
        reactions=produced.get("reactions", []),
        claims=produced.get("claims", []),
        indicators=produced.get("indicators", []),
        sources=produced.get("sources", []),
        endnotes=sorted(b.endnotes.values(), key=lambda n: n.n),
        changes=change_lines,
        changes_since=changes_since,
        legend=legend,
        included_ids=sorted(set(b.included)),
    )


__all__ = ["BriefingView", "build_view", "Event"]
