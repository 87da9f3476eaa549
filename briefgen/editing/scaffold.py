"""new: start a case folder with one commented, invented example of every kind of fact.

``scaffold()`` writes ``case.yaml`` and one file of every other kind, each opening with
a ``# yaml-language-server: $schema=...`` line (so editors complete and check fields)
and a YAML comment on every field, plus ``archive/`` with invented source texts so
that ``briefgen check CASE --archive CASE/archive`` passes from the first minute.

The folder is written to a temporary sibling, checked (loaded, validated, excerpts
verified against the archive) and only then moved into place: an existing non-empty
folder is never touched, and a half-written case never appears.

The schema line is a path relative to the case folder, computed at scaffold time, to
the schemas shipped inside the package (``briefgen/schemas``): it keeps working when
the checkout (or the virtual environment inside it) moves with the facts; ``briefgen
schema`` prints where they are if it ever needs re-pointing.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError

PALETTE = (
    "#0b5fa5",  # blue
    "#b54708",  # orange
    "#7a3e9d",  # purple
    "#1d7a4a",  # green
    "#a3336b",  # reddish purple
    "#0e7470",  # teal
    "#6b6100",  # olive
    "#555555",  # grey
)
"""Party colours, in order: each at least 4.5:1 against white (WCAG AA for text); the
first two (blue, orange) stay distinct for the common colour-vision deficiencies."""
MAX_PARTIES = len(PALETTE)
CASE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
"""Same rule as the loader's: the folder name becomes the case id and the output folder."""
ARCHIVE_DIR = "archive"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June",
          "July", "August", "September", "October", "November", "December"]  # fmt: skip


@dataclass(frozen=True)
class NewParty:
    """A party of the new case, with a safe id and an accessible colour."""

    id: str
    name: str
    short_name: str
    colour: str


# ---------------------------------------------------------------- party names


def parse_parties(text: str) -> list[str]:
    """Split ``--parties`` on commas; a name holding a comma is written in double quotes
    (``'"Northland, Inc.",Southland'``). Raises UsageError for unusable input."""
    try:
        rows = list(csv.reader([text], skipinitialspace=True, strict=True))
    except csv.Error as exc:
        raise UsageError(f"--parties: cannot read {text!r}: {exc}") from None
    names = [n.strip() for n in (rows[0] if rows else [])]
    if any(not n for n in names):
        raise UsageError("--parties: a party name is empty; separate names with single commas")
    return names


def _check_text(value: str, what: str, limit: int) -> str:
    value = " ".join(value.split())
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{what} is not valid text (UTF-8)") from None
    if _YAML_PRINTABLE.search(value) or any(unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS for c in value):
        raise UsageError(f"{what} holds control characters (or text-direction overrides)")
    if not value:
        raise UsageError(f"{what} is empty")
    if len(value) > limit:
        raise UsageError(f"{what} is longer than {limit} characters")
    return value


_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf"}


def slugify(name: str) -> str:
    """An id from a name: ASCII letters and digits joined by hyphens ('' if none remain)."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")
    return slug[:40].strip("-")


def _short_name(name: str) -> str:
    if len(name) <= 40:
        return name
    cut = name[:40].rsplit(" ", 1)[0]
    return cut if len(cut) >= 10 else name[:40]


def plan_parties(names: Sequence[str]) -> list[NewParty]:
    """Parties with ids derived safely from the names (``party-N`` when a name has no
    Latin letters or digits), unique, never starting with ``example`` (the example items'
    prefix), coloured from :data:`PALETTE`."""
    if len(names) < 2:
        raise UsageError('--parties: give at least two parties, separated by commas (e.g. "Northland,Southland")')
    if len(names) > MAX_PARTIES:
        raise UsageError(f"--parties: at most {MAX_PARTIES} parties (one colour each); add more by hand later")
    cleaned = [_check_text(n, f"party name {n!r}", 400) for n in names]
    seen_names: set[str] = set()
    for n in cleaned:
        if n.casefold() in seen_names:
            raise UsageError(f"--parties: {n!r} is given twice")
        seen_names.add(n.casefold())
    out: list[NewParty] = []
    used: set[str] = set()
    for i, name in enumerate(cleaned, 1):
        base = slugify(name) or f"party-{i}"
        if base.startswith("example") or not base[0].isalpha() or base in _YAML_WORDS:
            # Keep clear of the example items' ids, and of words YAML readers take for
            # numbers, dates, booleans or null.
            base = f"party-{base}"[:40].strip("-")
        pid, k = base, 2
        while pid in used:
            pid = f"{base}-{k}"
            k += 1
        used.add(pid)
        out.append(NewParty(pid, name, _short_name(name), PALETTE[i - 1]))
    return out


# ---------------------------------------------------------------- YAML text


# Direction overrides can make a name display as something else; YAML cannot hold the rest.
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_YAML_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def q(value: str) -> str:
    """``value`` as a YAML double-quoted scalar (safe for any text a user types)."""
    body = value.replace("\\", "\\\\").replace('"', '\\"')

    def esc(m: re.Match[str]) -> str:
        c = ord(m.group())
        return f"\\u{c:04x}" if c <= 0xFFFF else f"\\U{c:08x}"

    return '"' + _YAML_PRINTABLE.sub(esc, body) + '"'


def md(value: str) -> str:
    """Escape Markdown's special characters in a name placed inside Markdown text."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~])", r"\\\1", value)


def _date(d: dt.date) -> str:
    return d.isoformat()


def case_files(parties: Sequence[NewParty], title: str, as_of: dt.date, schema: dict[str, str]) -> dict[str, str]:
    """The new case's files: relative path → text. Pure: no I/O.

    ``schema`` maps each file kind to the ``$schema`` reference its first line gives.
    """
    a, b = parties[0], parties[1]
    d1 = as_of - dt.timedelta(days=12)  # the first strike
    d2 = d1 + dt.timedelta(days=2)  # the response ("two days later")
    d3 = as_of - dt.timedelta(days=4)  # the step back ("yesterday" in the wire report)
    wire_day = d3 + dt.timedelta(days=1)
    analysis_day = d3 + dt.timedelta(days=2)
    talks = (as_of.replace(day=1) + dt.timedelta(days=32)).replace(day=1)  # "next month"
    incidents = d1 - dt.timedelta(days=45)  # "since <month>": a range up to the day before the strike
    ctx: dict[str, Any] = {
        "A": a,
        "B": b,
        "d1": _date(d1),
        "d2": _date(d2),
        "d3": _date(d3),
        "wire_day": _date(wire_day),
        "wire_weekday": WEEKDAYS[wire_day.weekday()],
        "analysis_day": _date(analysis_day),
        "talks": f"{talks.year:04d}-{talks.month:02d}",
        "incidents_from": f"{incidents.year:04d}-{incidents.month:02d}",
        "incidents_month": f"{MONTHS[incidents.month - 1]} {incidents.year}",
        "incidents_to": _date(d1 - dt.timedelta(days=1)),
        "as_of": _date(as_of),
    }
    head = (
        "# yaml-language-server: $schema={schema}\n"
        "# EXAMPLE written by `briefgen new`: every entry below is INVENTED to show the format.\n"
        "# Replace each one with your own hand-checked facts (docs/facts.md, docs/reference.md).\n"
    )
    files = {
        "case.yaml": _CASE,
        "sources.yaml": _SOURCES,
        "actors.yaml": _ACTORS,
        "events.yaml": _EVENTS,
        "motives.yaml": _MOTIVES,
        "rationales.yaml": _RATIONALES,
        "judgments.yaml": _JUDGMENTS,
        "assessments.yaml": _ASSESSMENTS,
        "reactions.yaml": _REACTIONS,
        "claims.yaml": _CLAIMS,
        "indicators.yaml": _INDICATORS,
    }
    out: dict[str, str] = {}
    for name, make in files.items():
        kind = name.removesuffix(".yaml")
        out[name] = head.format(schema=schema[kind]) + make(parties, title, ctx)
    out[f"{ARCHIVE_DIR}/example-wire.txt"] = _WIRE_TEXT.format(**ctx)
    out[f"{ARCHIVE_DIR}/example-analysis.txt"] = _ANALYSIS_TEXT.format(**ctx)
    return out


def _CASE(parties: Sequence[NewParty], title: str, c: dict[str, Any]) -> str:
    a, b = c["A"], c["B"]
    party_lines = "".join(
        f"  - id: {p.id}  # other files refer to the party by this id\n"
        f"    name: {q(p.name)}  # full name\n"
        f"    short_name: {q(p.short_name)}  # for table headers and the timeline (40 characters at most)\n"
        f'    colour: "{p.colour}"  # #RRGGBB; dark enough to read on white (contrast 4.5:1 or more)\n'
        for p in parties
    )
    names = " and ".join(md(p.short_name) for p in parties)
    return f"""# case.yaml: what the case is about, who the parties are, and the framing text.

title: {q(title)}  # title of the briefing
subtitle: "Example case: every entry is invented; replace it with your own facts"  # optional line under the title

# The sides compared (two or more). Other files refer to a party by its id:
# lower-case letters, digits and hyphens.
parties:
{party_lines}
as_of: {c["as_of"]}  # the date the facts are current to (YYYY-MM-DD); also the PDF's date
edition: 1  # raise it at each release; `briefgen build --previous` compares editions
# Default TLP 2.0 marking (CLEAR, GREEN, AMBER, AMBER+STRICT, RED) of every entry that sets
# none. An audience sees only entries at or below its own marking: the `public` audience
# (CLEAR) shows only the entries marked CLEAR below.
marking: GREEN
prepared_by: "Example team"  # who prepared the briefing
prepared_for: "Example readers"  # who it is for (an audience profile may override it)
keywords: [example]  # for the PDF metadata

# Framing paragraphs (Markdown). Each cites its evidence: `source` (an id from
# sources.yaml), `excerpt` (that source's own words, copied verbatim: `briefgen check
# --archive` compares them with the archived text) and `credibility` (Admiralty 1-6:
# 1 confirmed by other sources, 2 probably true, 3 possibly true, 4 doubtful,
# 5 improbable, 6 cannot be judged).
bluf:  # bottom line up front: one to three short paragraphs
  - text: {q(f"**Example:** {names} stepped back after an exchange of strikes; talks are due to open next month.")}  # Markdown
    marking: CLEAR  # this paragraph may be released to everyone
    citations:  # the evidence: one or more sources, each with its own words
      - source: example-wire  # a source's id
        excerpt: "The two parties stepped back from confrontation yesterday and agreed to resume talks."  # verbatim
        credibility: 2  # 1-6, how credible this piece of information is
      - source: example-wire
        excerpt: "Talks are due to open next month."
        credibility: 2
overview:  # situation overview paragraphs
  - text: {q(f"*Example:* {md(a.short_name)} struck first; {md(b.short_name)} answered two days later. Replace this with your overview.")}
    marking: CLEAR
    citations:
      - source: example-wire
        excerpt: "The first party fired missiles at a depot across the border."
        credibility: 2
      - source: example-wire
        excerpt: "The second party responded two days later with strikes of its own."
        credibility: 2
outlook:  # outlook paragraphs (optional)
  - text: "*Example:* a lasting calm depends on whether the talks open on time."
    citations:
      - source: example-analysis
        excerpt: "A lasting calm depends on whether the talks open on time."
        credibility: 3

# The key-figures box. `compute` says where the number comes from:
#   stated        a figure the sources state (give `stated`: value and citations)
#   days_between  days from the first to the second of two `events`
#   killed        casualty totals over `events`, kept as ranges
#   injured       the same, for people injured
key_figures:
  - id: example-figure-stated
    label: "Example: how rare this is"  # what the figure measures
    compute: stated  # stated, days_between, killed or injured
    stated:  # only for compute: stated
      value: "first exchange of strikes in a decade"  # the figure as shown
      citations:
        - source: example-wire
          excerpt: "It was the first exchange of strikes between the two parties in a decade."
          credibility: 2
    caption: "Example caption: a short line under the figure"  # optional
  - id: example-figure-days
    label: "Example: from the first strike to the step back"
    compute: days_between
    events: [example-first-strike, example-step-back]  # from, to
  - id: example-figure-killed
    label: "Example: people killed"
    compute: killed
    events: [example-first-strike]
  - id: example-figure-injured
    label: "Example: people injured"
    compute: injured
    events: [example-first-strike]
    marking: GREEN  # a figure may carry its own marking

headings:  # case-specific wording of two section headings (optional)
  motives: "Example: why each side stepped back"  # heading of the motive comparison
  rationales: "Example: why each party acted"  # heading of the section on why each party acted
change_note: "Example: first edition, written by briefgen new."  # what this edition changes (optional)
"""


def _SOURCES(parties: Sequence[NewParty], title: str, c: dict[str, Any]) -> str:
    return f"""# sources.yaml: the documents the case rests on. Give each detail only as the document
# itself shows it (null when it does not). Excerpts elsewhere must be verbatim from the
# archived text named in `archive`.

sources:  # one entry per source document
  - id: example-wire  # other files cite the source by this id
    short_name: "Example Wire"  # a short label for tables and casualty lists (optional)
    title: "Example: two parties step back"  # as printed; null if the text gives none
    publisher: "Example Wire"  # as printed; null if not shown
    author: "A. Reporter"  # as printed; null if not shown
    published: {c["wire_day"]}  # YYYY-MM-DD, YYYY-MM or YYYY: as precise as the text gives it
    date_note: "Dateline of the article"  # how the date was read (optional)
    url: "https://example.org/wire/step-back"  # the original; never fetched; null if unknown
    archive: example-wire.txt  # file name of the archived text (in the folder given to check --archive)
    kind: news  # news, analysis, opinion, official, report or other
    # Admiralty source reliability: A completely reliable, B usually reliable, C fairly
    # reliable, D not usually reliable, E unreliable, F cannot be judged.
    reliability: B
    reliability_reason: "Example: an established wire service that corrects its errors."  # why that grade
    slant: null  # the document's evident perspective or bias, if any
    marking: CLEAR  # the source entry itself may be released to everyone
  - id: example-analysis
    title: "Example: elections and restraint"
    publisher: "Example Analysis Review"
    author: null
    published: {c["analysis_day"][:7]}  # only the month is printed on this document
    date_note: "Issue month only"
    url: null
    archive: example-analysis.txt
    kind: analysis
    reliability: C
    reliability_reason: "Example: a specialist journal; its casualty figures are not sourced."
    slant: "Example: favours negotiated settlements."
    errata:  # errors inside the document, noted rather than silently corrected
      - excerpt: "on 31 February"  # the document's words that hold the error, verbatim
        problem: "Example: no such date; the case dates the first strike from the wire report."  # what is wrong, and how the case treats it
    marking: CLEAR
"""


def _ACTORS(parties: Sequence[NewParty], title: str, c: dict[str, Any]) -> str:
    a, b = c["A"], c["B"]
    return f"""# actors.yaml: people, states, armed groups and organisations that the facts mention.
# Every item (here and in the other list files) carries `id`, `citations` and
# `verification`, and may carry `marking` and `note`.

actors:  # one entry per actor
  - id: example-actor-{a.id}
    name: {q(f"Example: {a.short_name} government")}  # the name used in the briefing
    kind: government_body  # person, state, armed_group, organisation, government_body or media
    aliases: ["Example: the first party"]  # other names and spellings the sources use
    role: "Example role, as the sources give it"  # optional
    party: {a.id}  # the party (from case.yaml) it belongs to, if any
    citations:
      - source: example-wire
        excerpt: "Officials of the first party said the strikes were meant to deter further attacks."
        credibility: 2
    verification:  # the hand-check record
      status: unverified  # verified, unverified or disputed
  - id: example-actor-{b.id}
    name: {q(f"Example: {b.short_name} government")}
    kind: government_body
    party: {b.id}
    citations:
      - source: example-wire
        excerpt: "The second party responded two days later with strikes of its own."
        credibility: 2
    verification:
      status: unverified
  - id: example-analyst
    name: "Dr A. Example"
    kind: person
    role: "Example: a researcher at an example institute"
    citations:
      - source: example-analysis
        excerpt: "said Dr A. Example, a researcher at an example institute."
        credibility: 2
    verification:
      status: unverified
  - id: example-regional-body
    name: "Example Regional Organisation"
    kind: organisation
    aliases: ["a regional organisation"]
    citations:
      - source: example-wire
        excerpt: "A regional organisation called on both sides to show restraint."
        credibility: 2
    verification:
      status: unverified
"""


def _EVENTS(parties: Sequence[NewParty], title: str, c: dict[str, Any]) -> str:
    a, b = c["A"], c["B"]
    return f"""# events.yaml: the timeline. A kind may be split over several files named
# <kind>-<anything>.yaml, e.g. events-2024-01.yaml.

events:  # one entry per event
  - id: example-first-strike
    when:  # when it happened, as precisely as the sources allow
      date: {c["d1"]}  # YYYY-MM-DD, YYYY-MM or YYYY
      precision: day  # day, month, year, approximate or range (range needs `end`)
    title: {q(f"Example: {a.short_name} strikes first")}  # a short headline for the timeline
    summary: "*Example:* what happened, in a sentence or two, as the sources tell it."  # Markdown
    kind: strike  # attack, strike, diplomatic, statement, political, military, background or other
    parties: [{a.id}]  # whose action this is (colours it on the timeline); [] for others' events
    actors: [example-actor-{a.id}]  # actors involved (ids from actors.yaml)
    location: "Example border area"  # where, as the sources name it
    casualties:  # optional; each measure keeps every source's own figure
      killed:  # people killed
        low: 2  # lowest credible number
        high: 9  # highest credible number (null when no source bounds it)
        best: null  # best estimate, if one can be given
        reports:  # each source's own figure
          - source: example-wire
            figure: "at least two people"  # the figure in the source's words
            low: 2  # lowest number the wording allows
            high: null  # highest number it allows (null: open-ended, as in 'at least')
            excerpt: "At least two people were killed"
          - source: example-analysis
            figure: "nine people"
            low: 9
            high: 9
            who: "Example: the source does not say who they were"  # optional
            excerpt: "nine people were killed"
      injured:  # people injured
        low: 5
        high: 5
        best: 5
        reports:
          - source: example-wire
            figure: "five"
            low: 5
            high: 5
            excerpt: "five were injured"
    citations:
      - source: example-wire
        excerpt: "The first party fired missiles at a depot across the border."
        credibility: 2
    verification:
      status: verified  # verified and disputed records need checked_by and checked_on
      checked_by: "Example checker"  # internal: never shown to the public audience
      checked_on: {c["as_of"]}  # when (YYYY-MM-DD)
      note: "Example: matched against the archived wire report."  # internal
  - id: example-response
    when:
      date: {c["d2"]}
      precision: day
    title: {q(f"Example: {b.short_name} strikes back")}
    summary: "*Example:* the response, as the sources describe it."
    kind: strike
    parties: [{b.id}]
    actors: [example-actor-{b.id}]
    citations:
      - source: example-wire
        excerpt: "The second party responded two days later with strikes of its own."
        credibility: 2
    verification:
      status: unverified
  - id: example-step-back
    when:
      date: {c["d3"]}
      precision: day
      # A date worked out from relative wording: say what the source wrote, which
      # source's date it was read against, and how.
      resolved_from: "yesterday"
      resolved_against: example-wire  # the source whose date the wording was read against
      resolution: "'yesterday' in the wire report dated {c["wire_weekday"]} {c["wire_day"]}"  # how the date was worked out
    title: "Example: both sides step back"
    summary: "*Example:* both sides announced a return to talks."
    kind: diplomatic
    parties: [{a.id}, {b.id}]
    marking: CLEAR  # released to every audience
    citations:
      - source: example-wire
        excerpt: "The two parties stepped back from confrontation yesterday and agreed to resume talks."
        credibility: 2
    verification:
      status: unverified
  - id: example-talks
    when:
      date: {c["talks"]}
      precision: month
    title: "Example: talks due to open"
    summary: "*Example:* an announced event that has not happened by the as-of date."
    kind: diplomatic
    parties: [{a.id}, {b.id}]
    upcoming: true  # announced or expected, not yet happened at the as-of date
    citations:
      - source: example-wire
        excerpt: "Talks are due to open next month."
        credibility: 2
    verification:
      status: unverified
  - id: example-border-incidents
    when:
      date: {c["incidents_from"]}  # the start of the range (here known to the month only)
      precision: range
      end: {c["incidents_to"]}  # end of the range (only with precision: range)
    title: "Example: border incidents"
    summary: "*Example:* background to the crisis, by neither party alone."
    kind: background
    parties: []  # an event by others, or by both sides' border guards, is not coloured
    citations:
      - source: example-wire
        excerpt: "Border guards of both sides had exchanged fire several times since {c["incidents_month"]}."
        credibility: 3
    verification:
      status: unverified
"""


def _MOTIVES(parties: Sequence[NewParty], title: str, c: dict[str, Any]) -> str:
    a, b = c["A"], c["B"]
    blocks = []
    for i, p in enumerate(parties):
        mirror = ""
        if i == 0:
            mirror = (
                f"    # The same motive on the other side: the matrix links the pair. Give it on\n"
                f"    # one side or both (both must agree).\n"
                f"    mirror: example-motive-{b.id}\n"
            )
        blocks.append(
            f"  - id: example-motive-{p.id}\n"
            f"    party: {p.id}  # whose motive this is\n"
            f'    title: "Example: elections ahead"  # the motive in a few words\n'
            f"    # One matrix row per category: domestic_politics, security, sectarian_ethnic,\n"
            f"    # economic, regional, international, military.\n"
            f"    category: domestic_politics\n"
            f"    salience: {'high' if i == 0 else 'medium'}  # how much it weighed: high, medium or low\n"
            f'    salience_reason: "Example: why that salience."  # why that salience\n'
            f"    description: {q(f'*Example:* why {md(p.short_name)} might want calm before its vote, as the sources put it.')}  # Markdown\n"
            f"    confidence: moderate  # confidence that this motive was at work: low, moderate or high\n"
            f"{mirror}"
            f"    citations:\n"
            f"      - source: example-analysis\n"
            f'        excerpt: "Both governments face elections this year."\n'
            f"        credibility: 3\n"
            f"    verification:\n"
            f"      status: unverified\n"
        )
    blocks.append(
        f"  - id: example-motive-{a.id}-security\n"
        f"    party: {a.id}\n"
        f'    title: "Example: deter further attacks"\n'
        f"    category: security\n"
        f"    salience: medium\n"
        f'    salience_reason: "Example: stated by officials, but once only."\n'
        f'    description: "*Example:* what the officials said the strikes were for."\n'
        f"    confidence: low\n"
        f"    citations:\n"
        f"      - source: example-wire\n"
        f'        excerpt: "Officials of the first party said the strikes were meant to deter further attacks."\n'
        f"        credibility: 3\n"
        f"    verification:\n"
        f"      status: unverified\n"
    )
    return (
        "# motives.yaml: each party's motives, compared side by side in the briefing's matrix.\n\n"
        "motives:\n" + "".join(blocks)
    )


def _RATIONALES(parties: Sequence[NewParty], title: str, c: dict[str, Any]) -> str:
    a, b = c["A"], c["B"]
    return f"""# rationales.yaml: why each party acted in the first place (context for the motives).

rationales:
  - id: example-rationale-{a.id}
    party: {a.id}  # whose reasoning this is
    title: "Example: to deter further attacks"  # the reason in a few words
    description: "*Example:* the reason, attributed as the sources attribute it."  # Markdown
    confidence: moderate  # low, moderate or high
    citations:
      - source: example-wire
        excerpt: "Officials of the first party said the strikes were meant to deter further attacks."
        credibility: 2
    verification:
      status: unverified
  - id: example-rationale-{b.id}
    party: {b.id}
    title: "Example: to answer the first strike"
    description: "*Example:* the reason, attributed as the sources attribute it."
    confidence: low
    citations:
      - source: example-wire
        excerpt: "The second party responded two days later with strikes of its own."
        credibility: 2
    verification:
      status: unverified
"""


def _JUDGMENTS(parties: Sequence[NewParty], title: str, c: dict[str, Any]) -> str:
    a, b = c["A"], c["B"]
    return f"""# judgments.yaml: the key judgments. Likelihood (ICD 203) and confidence are separate:
# how probable the judgment is, and how sound the evidence behind it is.

judgments:  # one entry per key judgment
  - id: example-judgment-calm
    statement: {q(f"Example: the calm between {a.short_name} and {b.short_name} will hold until the talks open.")}  # one sentence
    # almost no chance (1-5%), very unlikely (5-20%), unlikely (20-45%), roughly even
    # chance (45-55%), likely (55-80%), very likely (80-95%), almost certain (95-99%)
    likelihood: likely
    confidence: moderate  # low, moderate or high
    reasoning: "*Example:* the reasoning, including what would change it."  # Markdown
    rests_on: [example-step-back, example-motive-{a.id}]  # ids of the events, motives, assessments it rests on
    citations:
      - source: example-wire
        excerpt: "The two parties stepped back from confrontation yesterday and agreed to resume talks."
        credibility: 2
    verification:
      status: unverified
  - id: example-judgment-internal
    statement: "Example: an internal judgment that only AMBER (or higher) audiences see."
    likelihood: roughly even chance
    confidence: low
    reasoning: "*Example:* marked AMBER, so the public audience never receives it."
    marking: AMBER  # stricter than the case's default: left out of CLEAR and GREEN briefings
    note: "Example internal note: shown to the analyst audience only."  # never released
    citations:
      - source: example-analysis
        excerpt: "A lasting calm depends on whether the talks open on time."
        credibility: 3
    verification:
      status: unverified
"""


def _ASSESSMENTS(parties: Sequence[NewParty], title: str, c: dict[str, Any]) -> str:
    return """# assessments.yaml: analysts' and commentators' views, quoted and attributed.

assessments:  # one entry per quoted view
  - id: example-assessment
    analyst: example-analyst  # the actor (person or organisation) whose view it is
    topic: "Example: why both sides stepped back"  # what the view is about
    quote: "Neither side can afford a long conflict before its elections"  # must appear in a cited excerpt
    summary: "Example: elections make both sides cautious."  # a one-line paraphrase (optional)
    citations:
      - source: example-analysis
        excerpt: '"Neither side can afford a long conflict before its elections," said Dr A. Example'
        credibility: 3
    verification:
      status: unverified
"""


def _REACTIONS(parties: Sequence[NewParty], title: str, c: dict[str, Any]) -> str:
    return """# reactions.yaml: how outside actors responded.

reactions:  # one entry per reaction
  - id: example-reaction
    actor: example-regional-body  # who reacted (an id from actors.yaml)
    summary: "Example: called on both sides to show restraint."  # what they said or did
    citations:
      - source: example-wire
        excerpt: "A regional organisation called on both sides to show restraint."
        credibility: 2
    verification:
      status: unverified
"""


def _CLAIMS(parties: Sequence[NewParty], title: str, c: dict[str, Any]) -> str:
    a = c["A"]
    return f"""# claims.yaml: questions the sources answer differently, with what each says.

claims:  # one entry per contested question
  - id: example-claim-killed
    question: {q(f"Example: how many people did {a.short_name}'s first strike kill?")}  # the question in dispute
    positions:  # two or more different answers, each with its sources
      - claim: "Example: at least two people were killed."  # the answer these sources give
        citations:
          - source: example-wire
            excerpt: "At least two people were killed and five were injured, local officials said."
            credibility: 2
      - claim: "Example: nine people were killed."
        citations:
          - source: example-analysis
            excerpt: "Local officials say nine people were killed"
            credibility: 4
    assessment: "Example: what can and cannot be concluded."  # optional
    citations:  # the evidence for the item as a whole
      - source: example-wire
        excerpt: "At least two people were killed and five were injured, local officials said."
        credibility: 2
    verification:
      status: disputed  # the sources disagree
      checked_by: "Example checker"
      checked_on: {c["as_of"]}
"""


def _INDICATORS(parties: Sequence[NewParty], title: str, c: dict[str, Any]) -> str:
    return """# indicators.yaml: signs to watch for, and what each would mean.

indicators:  # one entry per indicator
  - id: example-indicator-talks
    signpost: "Example: the talks open as announced."  # what to watch for
    direction: de-escalation  # escalation, de-escalation or either
    meaning: "Example: both sides still prefer talking to fighting."  # what it would mean if seen
    citations:
      - source: example-wire
        excerpt: "Talks are due to open next month."
        credibility: 2
    verification:
      status: unverified
  - id: example-indicator-delay
    signpost: "Example: the talks are postponed."
    direction: escalation
    meaning: "Example: the calm may not last."
    citations:
      - source: example-analysis
        excerpt: "A lasting calm depends on whether the talks open on time."
        credibility: 3
    verification:
      status: unverified
"""


_WIRE_TEXT = """EXAMPLE SOURCE TEXT, invented by `briefgen new` to show the format. It reports no real event.
Replace this file with the archived text of a real source, and every excerpt in the
fact files with that source's own words.

Example Wire, {wire_day}

Example: two parties step back

The two parties stepped back from confrontation yesterday and agreed to resume talks.

The first party fired missiles at a depot across the border. At least two people were killed and five were injured, local officials said.

The second party responded two days later with strikes of its own.

Officials of the first party said the strikes were meant to deter further attacks. A regional organisation called on both sides to show restraint.

It was the first exchange of strikes between the two parties in a decade. Talks are due to open next month.

Border guards of both sides had exchanged fire several times since {incidents_month}.
"""

_ANALYSIS_TEXT = """EXAMPLE SOURCE TEXT, invented by `briefgen new` to show the format. It reports no real event.
Replace this file with the archived text of a real source.

Example Analysis Review

Example: elections and restraint

"Neither side can afford a long conflict before its elections," said Dr A. Example, a researcher at an example institute.

Both governments face elections this year. Local officials say nine people were killed in the strike on 31 February.

A lasting calm depends on whether the talks open on time.
"""


# ---------------------------------------------------------------- writing


def schema_refs(case_dir: Path) -> dict[str, str]:
    """``$schema`` reference for each file kind: the packaged schema's path relative to
    ``case_dir`` (a ``file:`` URI when no relative path exists, e.g. another drive)."""
    from ..facts.models.files import FILE_KINDS
    from .schema import SCHEMA_DIR

    out = {}
    for kind in FILE_KINDS:
        target = (SCHEMA_DIR / f"{kind}.schema.json").resolve()
        try:
            out[kind] = Path(os.path.relpath(target, case_dir.resolve())).as_posix()
        except ValueError:
            out[kind] = target.as_uri()
    return out


def _check_target(case_dir: Path) -> None:
    if not CASE_NAME.match(case_dir.resolve().name):
        raise UsageError(
            f"{case_dir}: a case folder's name must be letters, digits, '-', '_' or '.', starting with a "
            "letter or digit (it becomes the case id and the output folder's name), e.g. facts/my-case"
        )
    if case_dir.exists() and not case_dir.is_dir():
        raise UsageError(f"{case_dir} exists and is not a folder; choose a new folder for the case")
    if case_dir.is_dir() and any(case_dir.iterdir()):
        raise UsageError(
            f"{case_dir} already exists and is not empty; briefgen new never overwrites: choose a new folder"
        )


def scaffold(
    case_dir: Path,
    party_names: Sequence[str],
    title: str | None = None,
    as_of: dt.date | None = None,
) -> list[Path]:
    """Write a new, valid example case into ``case_dir`` (which must not exist or be empty).

    Returns the files written. Raises UsageError for unusable names or an occupied folder;
    nothing is written then. The case is loaded, validated and its excerpts checked against
    its archive before it is moved into place.
    """
    _check_target(case_dir)
    parties = plan_parties(party_names)
    shorts = " and ".join(p.short_name for p in parties)
    title = _check_text(title, "--title", 400) if title is not None else f"Example briefing: {shorts}"[:400]
    texts = case_files(parties, title, as_of or dt.date.today(), schema_refs(case_dir))

    parent = case_dir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".briefgen-new-", dir=parent))
    except OSError as exc:
        raise UsageError(f"cannot create {case_dir}: {exc.strerror}") from None
    try:
        work = staging / case_dir.resolve().name
        for rel, text in texts.items():
            path = work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
        _self_check(work)
        if case_dir.is_dir():
            case_dir.rmdir()  # empty (checked above); replaced by the finished folder
        os.replace(work, case_dir)
    except OSError as exc:
        raise UsageError(f"cannot create {case_dir}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [case_dir / rel for rel in texts]


def _self_check(folder: Path) -> None:
    """The scaffold must pass `briefgen check --archive`; if not, it is a bug in briefgen."""
    from ..errors import CaseInvalid
    from ..facts.loader import check_case

    try:
        check_case(folder, folder / ARCHIVE_DIR)
    except CaseInvalid as exc:
        raise RuntimeError("the new case does not pass its own check: " + "; ".join(exc.lines())) from None
