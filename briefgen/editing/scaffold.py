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
    """An id from a name: ASCII letters and digits joined by hyphens ('' if none remain),
    at most 40 characters, cut between words."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")
    if len(slug) > 40:
        cut = slug[:41].rsplit("-", 1)[0]
        slug = cut if len(cut) >= 10 else slug[:40]
    return slug.strip("-")


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
            base = slugify(f"party-{base}")
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


ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]
NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEMPLATES = Path(__file__).parent / "new_case"
"""The example case's files, as Jinja templates (the names given are data, never a template)."""


def _names(names: Sequence[str]) -> str:
    """'A and B', 'A, B and C'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def case_files(parties: Sequence[NewParty], title: str, as_of: dt.date, schema: dict[str, str]) -> dict[str, str]:
    """The new case's files: relative path → text. Pure: no I/O but reading the templates.

    ``schema`` maps each file kind to the ``$schema`` reference its first line gives.
    """
    import jinja2

    d1 = as_of - dt.timedelta(days=12)  # the first strike
    d3 = as_of - dt.timedelta(days=4)  # the step back ("yesterday" in the wire report)
    wire_day = d3 + dt.timedelta(days=1)
    talks = (as_of.replace(day=1) + dt.timedelta(days=32)).replace(day=1)  # "next month"
    incidents = d1 - dt.timedelta(days=45)  # "since <month>": a range up to the day before the strike
    rest = parties[1:]
    # Each other party answers a day later than the one before: "two days later", ...
    responses = [
        f"The {ORDINALS[k]} party responded {NUMBERS[k + 1]} days later with strikes of its own."
        for k in range(1, len(parties))
    ]
    context = {
        "parties": parties,
        "first": parties[0],
        "rest": rest,
        "title": title,
        "names": _names([p.short_name for p in parties]),
        "names_md": _names([md(p.short_name) for p in parties]),
        "others_md": _names([md(p.short_name) for p in rest]),
        "responses": responses,
        "party_sentences": [
            "Officials of the first party said the strikes were meant to deter further attacks.",
            *responses,
        ],
        "response_days": [(d1 + dt.timedelta(days=k + 1)).isoformat() for k in range(1, len(parties))],
        "d1": d1.isoformat(),
        "d3": d3.isoformat(),
        "wire_day": wire_day.isoformat(),
        "wire_weekday": WEEKDAYS[wire_day.weekday()],
        "analysis_month": f"{(d3 + dt.timedelta(days=2)):%Y-%m}",
        "talks": f"{talks:%Y-%m}",
        "incidents_from": f"{incidents:%Y-%m}",
        "incidents_month": f"{MONTHS[incidents.month - 1]} {incidents.year}",
        "incidents_to": (d1 - dt.timedelta(days=1)).isoformat(),
        "as_of": as_of.isoformat(),
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # YAML and text, not HTML: names are quoted by the q filter instead
    )
    env.filters["q"] = q
    env.filters["md"] = md
    head = (
        "# yaml-language-server: $schema={schema}\n"
        "# EXAMPLE written by `briefgen new`: every entry below is INVENTED to show the format.\n"
        "# Replace each one with your own hand-checked facts (docs/facts.md, docs/reference.md).\n"
    )
    out: dict[str, str] = {}
    for kind in schema:
        out[f"{kind}.yaml"] = head.format(schema=schema[kind]) + env.get_template(f"{kind}.yaml.j2").render(context)
    for name in ("example-wire", "example-analysis"):
        out[f"{ARCHIVE_DIR}/{name}.txt"] = env.get_template(f"{name}.txt.j2").render(context)
    return out


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
    shorts = _names([p.short_name for p in parties])
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
