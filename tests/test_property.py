"""Property tests: every valid case loads, renders and round-trips; no input crashes the reader.

* Hypothesis builds valid cases of many shapes (2–5 parties, long and non-Latin names,
  empty optional sections, 0–20 events, motives in random categories with and without
  shared motive groups). Each must load, pass the HTML self-checks for every built-in audience, and
  survive YAML dump → load unchanged; a few are also rendered to PDF.
* Fuzzing: random bytes, YAML-ish text and valid cases with one part replaced by junk
  must give a valid Case or a CaseInvalid: never another exception.

Runs derandomised (the same examples every time) so that a failure is reproducible.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml
from conftest import MINIMAL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefgen.briefing.audiences import load_audiences
from briefgen.briefing.render import render_html
from briefgen.briefing.selfcheck import html_problems
from briefgen.briefing.view import build_view
from briefgen.errors import CaseInvalid
from briefgen.facts import yamlread as yamlsafe
from briefgen.facts.loader import load_case
from briefgen.facts.models import Case
from briefgen.facts.models.files import FILE_KINDS
from briefgen.facts.models.items import CATEGORY_LABELS
from briefgen.output.pdf import render_pdf

FAST = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fast(examples: int) -> settings:
    return settings(FAST, max_examples=examples)


# ---------------------------------------------------------------- text in many scripts

SCRIPTS = {
    "latin": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèüßñçøå",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأؤإئ",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМН",
    "cjk": "中华人民共和国日本東京北京上海大阪한국어서울",
    "greek": "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΕΖΗΘ",
    # Characters that mean something to YAML, Markdown, HTML or Jinja.
    "punct": "0123456789 :#-?[]{}!&*|>'\"%@`,.;()/\\<>=+_~^$",
}


@functools.cache
def _text(scripts: tuple[str, ...], max_len: int) -> st.SearchStrategy[str]:
    # Cached: building a text strategy per draw would dominate the run time.
    alphabet = "".join(SCRIPTS[s] for s in scripts) + "  "
    return st.text(alphabet=alphabet, min_size=1, max_size=max_len)


SCRIPT_MIXES = sorted({(a,) for a in SCRIPTS} | {tuple(sorted((a, b))) for a in SCRIPTS for b in SCRIPTS if a != b})


@st.composite
def words(draw: st.DrawFn, max_len: int) -> str:
    """Text of one or two scripts, stripped, 1..max_len characters."""
    scripts = draw(st.sampled_from(SCRIPT_MIXES))
    text = draw(_text(scripts, max_len)).strip()
    return text or draw(st.sampled_from(["Nord", "Юг", "الشرق", "西", "Δύση"]))


def short(max_len: int = 60) -> st.SearchStrategy[str]:
    return words(max_len)


def long_name() -> st.SearchStrategy[str]:
    return st.one_of(words(60), words(400))


@st.composite
def markdown(draw: st.DrawFn) -> str:
    parts = draw(st.lists(words(80), min_size=1, max_size=4))
    style = draw(st.sampled_from(["plain", "bold", "list", "link", "paras"]))
    if style == "bold":
        return f"**{parts[0]}** " + " ".join(parts[1:])
    if style == "list":
        return "\n".join(f"- {p}" for p in parts)
    if style == "link":
        return f"See [{parts[0]}](https://example.org/a?b=1) " + " ".join(parts[1:])
    if style == "paras":
        return "\n\n".join(parts)
    return " ".join(parts)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


DATES = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2035, 12, 31))
MARKINGS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
COLOURS = st.from_regex(r"\A#[0-9a-f]{6}\Z")


def drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@st.composite
def when(draw: st.DrawFn) -> dict[str, Any]:
    d = draw(DATES)
    precision = draw(st.sampled_from(["day", "month", "year", "approximate", "range"]))
    if precision == "month":
        return {"date": d.strftime("%Y-%m"), "precision": "month"}
    if precision == "year":
        return {"date": str(d.year), "precision": "year"}
    out: dict[str, Any] = {"date": d.isoformat(), "precision": precision}
    if precision == "range":
        out["end"] = (d + dt.timedelta(days=draw(st.integers(0, 40)))).isoformat()
    return out


@st.composite
def case_files(draw: st.DrawFn) -> dict[str, Any]:
    """The files of a valid case, as plain data: kind → mapping (None: no such file)."""
    n_parties = draw(st.integers(2, 5))
    party_ids = [f"party-{i}" for i in range(n_parties)]
    source_ids = [f"src-{i}" for i in range(draw(st.integers(1, 3)))]

    def cite() -> dict[str, Any]:
        return {
            "source": draw(st.sampled_from(source_ids)),
            "excerpt": draw(short(120)),
            "credibility": draw(st.integers(1, 6)),
        }

    def cites() -> list[dict[str, Any]]:
        return [cite() for _ in range(draw(st.integers(1, 2)))]

    def verification() -> dict[str, Any]:
        if draw(st.booleans()):
            return {"status": "unverified"}
        return {
            "status": draw(st.sampled_from(["verified", "disputed"])),
            "checked_by": draw(short(40)),
            "checked_on": draw(DATES).isoformat(),
        }

    def item(id_: str) -> dict[str, Any]:
        return drop_none(
            {
                "id": id_,
                "citations": cites(),
                "verification": verification(),
                "marking": draw(optional(st.sampled_from(MARKINGS))),
                "note": draw(optional(short(80))),
            }
        )

    sources = [
        drop_none(
            {
                "id": sid,
                "title": draw(optional(long_name())),
                "publisher": draw(optional(short(40))),
                "author": draw(optional(short(40))),
                "published": draw(optional(DATES.map(dt.date.isoformat))),
                "url": draw(optional(st.just("https://example.org/story"))),
                "kind": draw(st.sampled_from(["news", "analysis", "opinion", "official", "report", "other"])),
                "reliability": draw(st.sampled_from("ABCDEF")),
                "reliability_reason": draw(short(80)),
                "marking": draw(optional(st.sampled_from(MARKINGS))),
            }
        )
        for sid in source_ids
    ]
    actor_ids = [f"actor-{i}" for i in range(draw(st.integers(0, 3)))]
    actors = [
        {
            **item(aid),
            "name": draw(long_name()),
            "kind": draw(
                st.sampled_from(["person", "state", "armed_group", "organisation", "government_body", "media"])
            ),
            "aliases": draw(st.lists(short(40), max_size=2)),
            **drop_none({"party": draw(optional(st.sampled_from(party_ids)))}),
        }
        for aid in actor_ids
    ]
    event_ids = [f"ev-{i}" for i in range(draw(st.integers(0, 20)))]
    events = []
    for eid in event_ids:
        ev = {
            **item(eid),
            "when": draw(when()),
            "title": draw(short(120)),
            "summary": draw(markdown()),
            "kind": draw(
                st.sampled_from(
                    ["attack", "strike", "diplomatic", "statement", "political", "military", "background", "other"]
                )
            ),
            "parties": draw(st.lists(st.sampled_from(party_ids), max_size=2, unique=True)),
            "actors": draw(st.lists(st.sampled_from(actor_ids), max_size=2, unique=True)) if actor_ids else [],
            "upcoming": draw(st.booleans()),
        }
        location = draw(optional(short(60)))
        if location is not None:
            ev["location"] = location
        if draw(st.integers(0, 4)) == 0:
            n = draw(st.integers(0, 500))
            ev["casualties"] = {
                "killed": {
                    "best": n,
                    "low": n,
                    "reports": [
                        {"source": source_ids[0], "figure": draw(short(40)), "low": n, "excerpt": draw(short(80))}
                    ],
                }
            }
        events.append(ev)

    motives: list[dict[str, Any]] = []
    for pid in party_ids:
        for _ in range(draw(st.integers(0, 3))):
            motives.append(
                {
                    **item(f"mot-{len(motives)}"),
                    "party": pid,
                    "title": draw(short(80)),
                    "category": draw(st.sampled_from(sorted(CATEGORY_LABELS))),
                    "salience": draw(st.sampled_from(["high", "medium", "low"])),
                    "salience_reason": draw(short(80)),
                    "description": draw(markdown()),
                    "confidence": draw(st.sampled_from(["low", "moderate", "high"])),
                }
            )
    # Shared groups: join some motives of different parties (one each) under a name.
    free = list(range(len(motives)))
    for g in range(draw(st.integers(0, 3))):
        pairs = [(a, b) for a in free for b in free if a < b and motives[a]["party"] != motives[b]["party"]]
        if not pairs:
            break
        a, b = draw(st.sampled_from(pairs))
        free = [i for i in free if i not in (a, b)]
        motives[a]["shared"] = motives[b]["shared"] = f"group-{g}"

    judgments = [
        {
            **item(f"kj-{i}"),
            "statement": draw(short(200)),
            "time_frame": draw(short(60)),
            "likelihood": draw(
                st.sampled_from(
                    [
                        "almost no chance",
                        "very unlikely",
                        "unlikely",
                        "roughly even chance",
                        "likely",
                        "very likely",
                        "almost certain",
                    ]
                )
            ),
            "confidence": draw(st.sampled_from(["low", "moderate", "high"])),
            "reasoning": draw(markdown()),
            "rests_on": draw(
                st.lists(st.sampled_from(event_ids + [m["id"] for m in motives] or ["src-0"]), max_size=3, unique=True)
            )
            if (event_ids or motives)
            else [],
        }
        for i in range(draw(st.integers(0, 3)))
    ]

    def narrative() -> dict[str, Any]:
        return drop_none(
            {"text": draw(markdown()), "citations": cites(), "marking": draw(optional(st.sampled_from(MARKINGS)))}
        )

    key_figures: list[dict[str, Any]] = []
    if draw(st.booleans()):
        key_figures.append(
            {
                "id": "kf-stated",
                "label": draw(short(60)),
                "compute": "stated",
                "stated": {"value": draw(short(40)), "citations": cites()},
            }
        )
    if len(event_ids) >= 2 and draw(st.booleans()):
        key_figures.append(
            {
                "id": "kf-days",
                "label": draw(short(60)),
                "compute": "days_between",
                "events": event_ids[:2],
                "citations": cites(),
            }
        )
    case = drop_none(
        {
            "title": draw(long_name()),
            "subtitle": draw(optional(short(120))),
            "parties": [
                {
                    "id": pid,
                    "name": draw(long_name()),
                    "short_name": f"{draw(short(36))} {i}",  # (short names and colours are distinct per party)
                    "colour": f"#{i * 37 % 256:02x}{draw(COLOURS)[3:]}",
                }
                for i, pid in enumerate(party_ids)
            ],
            "as_of": draw(DATES).isoformat(),
            "edition": draw(st.integers(1, 99)),
            "marking": draw(st.sampled_from(MARKINGS)),
            "prepared_by": draw(short(60)),
            "prepared_for": draw(short(60)),
            "keywords": draw(st.lists(short(30), max_size=3)),
            "bluf": [narrative() for _ in range(draw(st.integers(1, 2)))],
            "overview": [narrative() for _ in range(draw(st.integers(1, 2)))],
            "outlook": [narrative() for _ in range(draw(st.integers(0, 2)))],
            "key_figures": key_figures,
            "headings": draw(optional(st.builds(lambda m: {"motives": m}, short(60)))),
            "change_note": draw(optional(short(200))),
        }
    )

    def maybe_file(kind: str, items: list[dict[str, Any]]) -> dict[str, Any] | None:
        # An empty kind is either absent or an empty list: both are valid.
        if not items and draw(st.booleans()):
            return None
        return {kind: items}

    return {
        "case": case,
        "sources": {"sources": sources},
        "actors": maybe_file("actors", actors),
        "events": maybe_file("events", events),
        "motives": maybe_file("motives", motives),
        "judgments": maybe_file("judgments", judgments),
    }


# ---------------------------------------------------------------- writing cases


class Dumper12(yaml.SafeDumper):
    """PyYAML's dumper follows YAML 1.1, which leaves ``1e5`` and ``0o17`` unquoted; briefgen
    reads YAML 1.2 (where those are numbers), so teach the dumper to quote them."""


Dumper12.add_implicit_resolver("tag:yaml.org,2002:float", yamlsafe._FLOAT, list("-+.0123456789"))
Dumper12.add_implicit_resolver("tag:yaml.org,2002:int", yamlsafe._INT_OCT, ["0"])


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=Dumper12, allow_unicode=True, sort_keys=False, width=100)


@contextmanager
def case_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="briefgen-prop-")) / "case"
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


def write_case(folder: Path, files: dict[str, Any]) -> None:
    for p in folder.glob("*.yaml"):
        p.unlink()
    for kind, data in files.items():
        if data is not None:
            (folder / f"{kind}.yaml").write_text(dump(data), encoding="utf-8")


AUDIENCES = load_audiences()


# ---------------------------------------------------------------- valid cases


@fast(25)
@given(files=case_files())
def test_valid_cases_load_render_and_round_trip(files: dict[str, Any]) -> None:
    with case_dir() as folder:
        write_case(folder, files)
        case = load_case(folder)

    # Round trip: what YAML carried is exactly what the models hold.
    assert case.info.model_dump() == FILE_KINDS["case"].model_validate(files["case"]).model_dump()
    for kind in ("sources", "actors", "events", "motives", "judgments"):
        expected = files[kind][kind] if files[kind] else []
        model = FILE_KINDS[kind].model_validate({kind: expected})
        assert [m.model_dump() for m in getattr(case, kind)] == [m.model_dump() for m in getattr(model, kind)]

    for name, audience in sorted(AUDIENCES.items()):
        html = render_html(build_view(case, audience))
        assert html_problems(html) == [], name
        assert html == render_html(build_view(case, audience)), f"{name}: rendering twice differs"


@fast(2)
@given(files=case_files())
def test_valid_cases_render_to_pdf(files: dict[str, Any]) -> None:
    with case_dir() as folder:
        write_case(folder, files)
        case = load_case(folder)
    data = render_pdf(render_html(build_view(case, AUDIENCES["analyst"])))
    reader = pypdf.PdfReader(BytesIO(data))
    assert len(reader.pages) >= 1


# ---------------------------------------------------------------- fuzzing


def load_or_refuse(folder: Path) -> Case | None:
    """A valid Case or a CaseInvalid with sound messages; any other exception fails the test."""
    try:
        return load_case(folder)
    except CaseInvalid as exc:
        assert exc.errors
        for e in exc.errors:
            assert isinstance(e.path, str) and e.line >= 0 and e.col >= 0 and e.message.strip()
            assert "Traceback" not in e.message
        return None


def parse_or_refuse(text: str) -> None:
    try:
        yamlsafe.parse_text(text, "fuzz.yaml")
    except CaseInvalid as exc:
        assert exc.errors and all(e.message for e in exc.errors)


@fast(200)
@given(raw=st.binary(max_size=400))
def test_random_bytes_never_crash(raw: bytes) -> None:
    with case_dir() as folder:
        shutil.copytree(MINIMAL, folder, dirs_exist_ok=True)
        (folder / "events.yaml").write_bytes(raw)
        load_or_refuse(folder)


YAMLISH = [
    "a",
    "b",
    "id",
    "title",
    "events",
    "- ",
    ": ",
    ":",
    "\n",
    "\n  ",
    "\n    ",
    "  ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&x ",
    "*x",
    "&y ",
    "*y",
    "!!python/object:os.system ",
    "!!str ",
    "!!int ",
    "!!binary ",
    "!custom ",
    "? ",
    "|\n  ",
    ">\n  ",
    '"',
    "'",
    '"\\ud800"',
    '"\\0"',
    '"\\U00110000"',
    "\\",
    "#",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "%TAG ! tag:x,2000:\n",
    "<<: ",
    "yes",
    "NO",
    "on",
    "3.10",
    "1e3",
    "0o17",
    "0x1F",
    ".inf",
    ".nan",
    "~",
    "null",
    "true",
    "2024-02-30",
    "2024-01-16",
    "9" * 30,
    "\t",
    "\r\n",
    "\x85",
    "\u2028",
    "\ufeff",
    "é",
    "中",
    "ب",
    "{{ 7*7 }}",
    "<script>",
    "@",
    "`",
]


@fast(400)
@given(text=st.lists(st.sampled_from(YAMLISH), max_size=40).map("".join))
def test_yamlish_text_never_crashes_the_reader(text: str) -> None:
    parse_or_refuse(text)


@fast(200)
@given(text=st.text(max_size=300))
def test_any_text_never_crashes_the_reader(text: str) -> None:
    parse_or_refuse(text)


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["yes", "2024-02-30", "3.10", "", "   ", "ev-0", "party-0", "src-0", "mot-0", "#12345z"]),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
)


def paths_of(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out.extend(paths_of(v, (*prefix, k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.extend(paths_of(v, (*prefix, i)))
    return out


@fast(60)
@given(files=case_files(), data=st.data())
def test_valid_case_with_one_part_broken_never_crashes(files: dict[str, Any], data: st.DataObject) -> None:
    """Replace, delete or add one part anywhere: the loader reports it, located, or accepts it."""
    kind = data.draw(st.sampled_from([k for k, v in files.items() if v is not None]))
    doc = files[kind]
    path = data.draw(st.sampled_from(paths_of(doc)[1:]))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "delete":
        del parent[path[-1]]
    elif action == "add" and isinstance(parent, dict):
        parent[data.draw(st.sampled_from(["extra", "titel", "id", "citations", "shared"]))] = data.draw(JUNK)
    else:
        parent[path[-1]] = data.draw(JUNK)
    with case_dir() as folder:
        try:
            write_case(folder, files)
        except yaml.YAMLError:
            return  # the dumper itself refused the junk
        load_or_refuse(folder)


def test_the_fuzzers_reach_both_outcomes() -> None:
    """Sanity: the minimal case loads, and a broken one is refused, through the same helper."""
    with case_dir() as folder:
        shutil.copytree(MINIMAL, folder, dirs_exist_ok=True)
        assert isinstance(load_or_refuse(folder), Case)
        (folder / "events.yaml").write_bytes(b"events: [")
        assert load_or_refuse(folder) is None


@pytest.mark.parametrize("depth", [yamlsafe.MAX_DEPTH - 5, yamlsafe.MAX_DEPTH + 1, 5000])
def test_deep_structures_never_recurse_out(depth: int) -> None:
    parse_or_refuse("a: " + "[" * depth + "]" * depth)
    parse_or_refuse("a: " + "{b: " * depth + "1" + "}" * depth)
