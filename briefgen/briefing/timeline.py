"""The timeline graphic: an SVG built in code, one lane per party, in the parties' colours.

Each event is a numbered marker (the number matches the timeline table); events on the
same day stack. Ranges and approximate dates have a dashed outline, upcoming events are
hollow. Lane labels wrap onto as many lines as they need; date labels are thinned until
none overlaps its neighbour. Past a few hundred events the lanes become a density strip.
Every value written into the SVG is escaped, whatever the models let through.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from ..facts.models.common import partial_date_start

WIDTH = 1000
LEFT = 130
RIGHT = 24
TOP = 34
ZONE = 64
ZONE_GAP = 16
LANE_GAP = 8
MARKER_R = 10
MAX_MARKERS = 150
LABEL_CHARS = 15
"""Characters per line of a lane label (about the width of the left margin)."""
TICK_GAP = 62
"""Least distance, in SVG units, between two date labels (a label is about 45 wide)."""
SHORT_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True)
class Lane:
    """A party's lane (or the lane of events by others)."""

    id: str
    label: str
    ink: str


@dataclass(frozen=True)
class Mark:
    """An event as the graphic shows it."""

    number: int
    date_iso: str
    date_label: str
    title: str
    lanes: list[str]
    """The ids of the parties whose action it is (none: the 'Others' lane)."""
    upcoming: bool
    inexact: bool
    """An approximate date or a range (dashed outline)."""


def _series(names: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _wrap(text: str, width: int = LABEL_CHARS) -> list[str]:
    """A label in lines of about ``width`` characters, broken between words (a word longer
    than a line is cut, never dropped)."""
    lines: list[str] = []
    for word in text.split():
        while len(word) > width:
            lines.append(word[: width - 1] + "-")
            word = word[width - 1 :]
        if lines and len(lines[-1]) + 1 + len(word) <= width and not lines[-1].endswith("-"):
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _ticks(start: dt.date, end: dt.date, x: object) -> list[tuple[dt.date, str]]:
    span = (end - start).days
    ticks = []
    if span <= 120:
        step = 7 if span > 35 else (3 if span > 14 else 1)
        d = start - dt.timedelta(days=start.weekday()) if step == 7 else start
        while d <= end:
            if d >= start:
                ticks.append((d, f"{d.day} {SHORT_MONTHS[d.month - 1]}"))
            d += dt.timedelta(days=step)
    else:
        months = span / 30
        step = 1 if months <= 14 else 3 if months <= 48 else 12
        d = dt.date(start.year, start.month, 1)
        while d <= end:
            if d >= start and (d.month - 1) % step == 0:
                ticks.append((d, f"{SHORT_MONTHS[d.month - 1]} {d.year}" if step < 12 else str(d.year)))
            y, m = divmod(d.month, 12)
            d = dt.date(d.year + y, m + 1, 1)
    return ticks


def _focus(dates: list[dt.date]) -> tuple[dt.date, dt.date]:
    """The shortest window holding three quarters of the events, when it is much
    shorter than the whole span; otherwise the whole span."""
    first, last = dates[0], dates[-1]
    n = len(dates)
    k = max(2, -(-3 * n // 4))
    if n < 6 or (last - first).days <= 60:
        return first, last
    best = min(range(n - k + 1), key=lambda i: ((dates[i + k - 1] - dates[i]).days, i))
    lo, hi = dates[best], dates[best + k - 1]
    # Widen to take in events just outside, so only true outliers are set apart.
    width = max(7, (hi - lo).days)
    lo = min((d for d in dates if d >= lo - dt.timedelta(days=width)), default=lo)
    hi = max((d for d in dates if d <= hi + dt.timedelta(days=width)), default=hi)
    if (hi - lo).days * 3 > (last - first).days:
        return first, last
    return lo, hi


def timeline_svg(marks: Sequence[Mark], party_lanes: Sequence[Lane]) -> Markup:
    """An accessible SVG of the events: a lane per party, and one for everyone else."""
    if not marks:
        return Markup("")
    starts = [partial_date_start(m.date_iso) for m in marks]
    dense = len(marks) > MAX_MARKERS
    lo, hi = (min(starts), max(starts)) if dense else _focus(sorted(starts))
    before, after = any(d < lo for d in starts), any(d > hi for d in starts)
    pad = max(1, (hi - lo).days // 30)
    start, end = lo - dt.timedelta(days=pad), hi + dt.timedelta(days=pad)
    span = max(1, (end - start).days)
    main_left = LEFT + (ZONE + ZONE_GAP if before else 0)
    main_right = WIDTH - RIGHT - (ZONE + ZONE_GAP if after else 0)

    def x(d: dt.date) -> float:
        # Events outside the focus window sit in an "Earlier" or "Later" zone: a broken
        # axis keeps a few outliers from squeezing the crisis itself into a few pixels.
        if d < lo:
            return LEFT + ZONE / 2
        if d > hi:
            return WIDTH - RIGHT - ZONE / 2
        return main_left + (main_right - main_left) * (d - start).days / span

    lanes = list(party_lanes)
    if any(not m.lanes for m in marks):
        lanes.append(Lane("_other", "Others", "#4a4a4a"))
    lane_of = {lane.id: i for i, lane in enumerate(lanes)}
    # Markers that would touch in a lane stack: each takes the first row whose last marker
    # is far enough to its left.
    rows: dict[int, list[float]] = {}
    placed = []
    for m, d in sorted(zip(marks, starts, strict=True), key=lambda md: x(md[1])):
        for lid in m.lanes or ["_other"]:
            lane = lane_of[lid]
            ends = rows.setdefault(lane, [])
            k = next((i for i, end in enumerate(ends) if x(d) - end >= 2 * MARKER_R + 2), len(ends))
            ends[k : k + 1] = [x(d)]
            placed.append((lane, k, d, m))
    labels = [_wrap(lane.label) for lane in lanes]
    lane_h = []
    for i, lines in enumerate(labels):
        stack = 1 if dense else min(max((k + 1 for ln, k, _, _ in placed if ln == i), default=1), 6)
        lane_h.append(max(stack * (2 * MARKER_R + 4) + 12, len(lines) * 16 + 10))
    lane_y, y = [], TOP
    for h in lane_h:
        lane_y.append(y)
        y += h + LANE_GAP
    height = y + 10

    # The title is the figure's text alternative (also the PDF's /Alt); the description
    # says how to read it. The table after the figure is its equivalent: it lists every
    # event with its date and sources, so the description does not repeat them.
    extent = (
        f"one event, {marks[0].date_label}"
        if len(marks) == 1
        else f"{len(marks)} events from {marks[0].date_label} to {marks[-1].date_label}"
    )
    title = f"Timeline of {extent}, one lane each for {_series([lane.label for lane in lanes])}"
    desc = (
        "Each event is a numbered marker in the lane of the party that acted; the table of events "
        "that follows lists them by number, with their dates and sources"
    )
    out = [
        f'<svg class="timeline-graphic" viewBox="0 0 {WIDTH} {height}" role="img" '
        'aria-labelledby="tl-title" aria-describedby="tl-desc" '
        'font-family="Source Sans Pro, Arial, sans-serif" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="tl-title">{escape(title)}</title>',
        f'<desc id="tl-desc">{escape(desc)}</desc>',
        '<g aria-hidden="true">',  # (what is drawn: the title and description say it)
    ]
    for present, zx, label in ((before, LEFT, "Earlier"), (after, WIDTH - RIGHT - ZONE, "Later")):
        if present:
            out.append(
                f'<text x="{zx + ZONE / 2:.1f}" y="{TOP - 14}" font-size="12" font-style="italic" fill="#5a6169" '
                f'text-anchor="middle">{label}</text>'
            )
            edge = zx + ZONE + ZONE_GAP / 2 if label == "Earlier" else zx - ZONE_GAP / 2
            out.append(
                f'<line x1="{edge:.1f}" y1="{TOP - 8}" x2="{edge:.1f}" y2="{height - 10}" stroke="#9aa3ad" '
                'stroke-width="1.5" stroke-dasharray="4 3"/>'
            )
    last_x = -1e9
    for d, label in _ticks(start, end, x):
        tx = x(d)
        if not main_left - 1 <= tx <= main_right + 1 or tx - last_x < TICK_GAP:
            continue  # off the main axis, or too close to the label before it
        last_x = tx
        out.append(
            f'<line x1="{tx:.1f}" y1="{TOP - 8}" x2="{tx:.1f}" y2="{height - 10}" stroke="#e3e6ea" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{tx:.1f}" y="{TOP - 14}" font-size="12" fill="#5a6169" text-anchor="middle">{escape(label)}</text>'
        )
    for i, row in enumerate(lanes):
        ly, lh, lines = lane_y[i], lane_h[i], labels[i]
        out.append(
            f'<rect x="{LEFT}" y="{ly}" width="{WIDTH - LEFT - RIGHT}" height="{lh}" fill="#f7f8fa" stroke="#e3e6ea"/>'
        )
        first = ly + lh / 2 - (len(lines) - 1) * 8 + 5
        spans = "".join(
            f'<tspan x="{LEFT - 10}" y="{first + k * 16:.1f}">{escape(line)}</tspan>' for k, line in enumerate(lines)
        )
        out.append(f'<text font-size="14" font-weight="700" text-anchor="end" fill="{escape(row.ink)}">{spans}</text>')
    if dense:
        bins = 60
        counts: Counter[tuple[int, int]] = Counter()
        for lane_i, _, d, _ in placed:
            counts[(lane_i, min(bins - 1, int((d - start).days / span * bins)))] += 1
        peak = max(counts.values())
        bw = (WIDTH - LEFT - RIGHT) / bins
        for (lane_i, b), n in sorted(counts.items()):
            bar = (lane_h[lane_i] - 8) * n / peak
            out.append(
                f'<rect x="{LEFT + b * bw:.1f}" y="{lane_y[lane_i] + lane_h[lane_i] - 4 - bar:.1f}" width="{bw - 1:.1f}" '
                f'height="{bar:.1f}" fill="{escape(lanes[lane_i].ink)}"><title>{n} events</title></rect>'
            )
    else:
        # An event of several parties: its markers in each lane joined by a thin line.
        ys: dict[int, list[tuple[float, float]]] = {}
        for lane_i, k, d, m in placed:
            ys.setdefault(m.number, []).append((x(d), lane_y[lane_i] + 6 + MARKER_R + min(k, 5) * (2 * MARKER_R + 4)))
        for points in ys.values():
            if len(points) > 1:
                (x1, y1), (x2, y2) = points[0], points[-1]
                out.append(
                    f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#9aa3ad" stroke-width="1.5"/>'
                )
        for lane_i, k, d, m in placed:
            ink = escape(lanes[lane_i].ink)
            cx = x(d)
            cy = lane_y[lane_i] + 6 + MARKER_R + min(k, 5) * (2 * MARKER_R + 4)
            fill, text_fill = ("#ffffff", ink) if m.upcoming else (ink, "#ffffff")
            dash = ' stroke-dasharray="3 2"' if m.inexact else ""
            out.append(
                f'<g class="tl-marker{" tl-upcoming" if m.upcoming else ""}">'
                f"<title>{escape(m.date_label)}: {escape(m.title)}</title>"
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{MARKER_R}" fill="{fill}" stroke="{ink}" stroke-width="2"{dash}/>'
                f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" font-size="10" font-weight="700" '
                f'fill="{text_fill}">{m.number}</text></g>'
            )
    out.append("</g></svg>")
    return Markup("".join(out))  # noqa: S704 - every value above is escaped or a number
