"""The timeline graphic: an SVG built in code, one lane per party, in the parties' colours.

Each event is a numbered marker (the number matches the timeline table); events on
the same day stack. Ranges and approximate dates have a dashed outline, upcoming events hollow.
Past a few hundred events markers would be unreadable, so the lanes become a
density strip (events per period) instead.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from ..facts.models.common import partial_date_start

if TYPE_CHECKING:
    from .view import EventView, PartyView

WIDTH = 1000
LEFT = 120
RIGHT = 24
TOP = 34
ZONE = 64
ZONE_GAP = 16
LANE_GAP = 8
MARKER_R = 10
MAX_MARKERS = 150
SHORT_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _ticks(start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
    span = (end - start).days
    ticks = []
    if span <= 120:
        step = 7 if span > 35 else (3 if span > 14 else 1)
        # Start ticks on a Monday for weekly steps, so they read as weeks.
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
                label = f"{SHORT_MONTHS[d.month - 1]} {d.year}" if step < 12 else str(d.year)
                ticks.append((d, label))
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


def timeline_svg(events: Sequence[EventView], parties: Sequence[PartyView]) -> Markup:
    """An accessible SVG of the events, lanes per party (and one for everyone else).

    Every text and every attribute value that is not a number computed here is escaped,
    whatever the models checked (a party colour such as ``#000000" q=a"><script>`` stays
    inside its attribute)."""
    if not events:
        return Markup("")
    starts = [partial_date_start(e.date_iso) for e in events]
    dense = len(events) > MAX_MARKERS
    lo, hi = _focus(sorted(starts)) if not dense else (min(starts), max(starts))
    before = any(d < lo for d in starts)
    after = any(d > hi for d in starts)
    pad = max(1, (hi - lo).days // 30)
    start = lo - dt.timedelta(days=pad)
    end = hi + dt.timedelta(days=pad)
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

    def slot_day(d: dt.date) -> dt.date:
        return dt.date.min if d < lo else dt.date.max if d > hi else d

    lanes: list[tuple[str, str, str]] = [(p.id, p.short_name, p.ink) for p in parties]
    if any(not e.parties for e in events):
        lanes.append(("_other", "Others", "#4a4a4a"))
    lane_of = {lid: i for i, (lid, _, _) in enumerate(lanes)}

    dense = len(events) > MAX_MARKERS
    # Stack events that share a day within a lane.
    slots: dict[tuple[int, dt.date], int] = Counter()
    placed = []
    for e, d in zip(events, starts, strict=True):
        for pid in [p.id for p in e.parties] or ["_other"]:
            lane = lane_of[pid]
            k = slots[(lane, slot_day(d))]
            slots[(lane, slot_day(d))] += 1
            placed.append((lane, k, d, e))
    depth: dict[int, int] = defaultdict(int)
    for lane, k, _, _ in placed:
        depth[lane] = max(depth[lane], k + 1)
    if dense:
        depth = {i: 1 for i in range(len(lanes))}
    lane_h = [max(1, min(depth.get(i, 1), 6)) * (2 * MARKER_R + 4) + 12 for i in range(len(lanes))]
    lane_y = []
    y = TOP
    for h in lane_h:
        lane_y.append(y)
        y += h + LANE_GAP
    height = y + 10

    title = f"Timeline of {len(events)} events from {events[0].date_label} to {events[-1].date_label}"
    desc = "; ".join(f"{e.number}. {e.date_label}: {e.title}" for e in events[:60])
    out = [
        f'<svg class="timeline-graphic" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="tl-title tl-desc" font-family="Source Sans Pro, Arial, sans-serif" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="tl-title">{escape(title)}</title>',
        f'<desc id="tl-desc">{escape(desc)}</desc>',
    ]
    # Axis and ticks; the broken-axis zones get a label and a dashed edge.
    for present, zx, label in ((before, LEFT, "Earlier"), (after, WIDTH - RIGHT - ZONE, "Later")):
        if present:
            out.append(
                f'<text x="{zx + ZONE / 2:.1f}" y="{TOP - 14}" font-size="12" font-style="italic" fill="#5a6169" text-anchor="middle">{label}</text>'
            )
            edge = zx + ZONE + ZONE_GAP / 2 if label == "Earlier" else zx - ZONE_GAP / 2
            out.append(
                f'<line x1="{edge:.1f}" y1="{TOP - 8}" x2="{edge:.1f}" y2="{height - 10}" stroke="#9aa3ad" stroke-width="1.5" stroke-dasharray="4 3"/>'
            )
    for d, label in _ticks(start, end):
        tx = x(d)
        if not main_left - 1 <= tx <= main_right + 1:
            continue
        out.append(
            f'<line x1="{tx:.1f}" y1="{TOP - 8}" x2="{tx:.1f}" y2="{height - 10}" stroke="#e3e6ea" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{tx:.1f}" y="{TOP - 14}" font-size="12" fill="#5a6169" text-anchor="middle">{escape(label)}</text>'
        )
    for i, (_, name, ink) in enumerate(lanes):
        ly, lh = lane_y[i], lane_h[i]
        out.append(
            f'<rect x="{LEFT}" y="{ly}" width="{WIDTH - LEFT - RIGHT}" height="{lh}" fill="#f7f8fa" stroke="#e3e6ea"/>'
        )
        out.append(
            f'<text x="{LEFT - 10}" y="{ly + lh / 2 + 5:.1f}" font-size="14" font-weight="700" text-anchor="end" '
            f'fill="{escape(ink)}">{escape(name[:16])}</text>'
        )
    if dense:
        # Density strip: events per bin, bar height by count.
        bins = 60
        counts: dict[tuple[int, int], int] = Counter()
        for lane, _, d, _ in placed:
            b = min(bins - 1, int((d - start).days / span * bins))
            counts[(lane, b)] += 1
        peak = max(counts.values())
        bw = (WIDTH - LEFT - RIGHT) / bins
        for (lane, b), n in sorted(counts.items()):
            ink = lanes[lane][2]
            bar = (lane_h[lane] - 8) * n / peak
            bx = LEFT + b * bw
            by = lane_y[lane] + lane_h[lane] - 4 - bar
            out.append(
                f'<rect x="{bx:.1f}" y="{by:.1f}" width="{bw - 1:.1f}" height="{bar:.1f}" fill="{escape(ink)}">'
                f"<title>{n} events</title></rect>"
            )
    else:
        for lane, k, d, e in placed:
            ink = lanes[lane][2]
            cx = x(d)
            cy = lane_y[lane] + 6 + MARKER_R + min(k, 5) * (2 * MARKER_R + 4)
            cls = "tl-marker"
            fill, text_fill = ink, "#ffffff"
            if e.upcoming:
                cls += " tl-upcoming"
                fill, text_fill = "#ffffff", ink
            dash = ' stroke-dasharray="3 2"' if e.date_label.startswith("c.") or "–" in e.date_label else ""
            out.append(
                f'<a href="#ev-{escape(e.meta.id)}"><g class="{escape(cls)}">'
                f"<title>{escape(e.date_label)}: {escape(e.title)}</title>"
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{MARKER_R}" fill="{escape(fill)}" stroke="{escape(ink)}" stroke-width="2"{dash}/>'
                f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" font-size="10" font-weight="700" fill="{escape(text_fill)}">{escape(e.number)}</text>'
                f"</g></a>"
            )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text part and attribute value is escaped above
