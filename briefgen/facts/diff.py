"""diff: two validated cases → what changed between them, item by item and field by field.

:func:`diff_cases` is pure: it compares two :class:`~briefgen.models.Case` objects and
returns a :class:`CaseDiff`. Items (events, judgments, sources, key figures, parties, ...)
are matched by id; the case's front matter (bottom line, overview, outlook, edition...)
is compared as one item of kind ``case``. Each changed item lists the changed field
paths with the old and new values (``likelihood``, ``casualties.killed.best``,
``casualties.killed.reports[s1].figure``, ``citations[s2].excerpt``, ``bluf[1].text``).

Three renderings: :func:`change_lines` for the briefing's "What changed since edition N"
section, :func:`render_text` for the terminal (``+``/``-``/``~`` lines) and
:func:`render_json` for scripts. Everything comes out in a fixed order, so the same two
cases always give the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from .models import Case
from .models.common import MARKING_ORDER

# Order of kinds in every listing: the judgments first because readers look there first,
# then the front matter's figures, the facts, and the supporting cast last.
KIND_ORDER: tuple[tuple[str, str], ...] = (
    ("case", "case"),
    ("judgments", "judgment"),
    ("key_figures", "key figure"),
    ("events", "event"),
    ("motives", "motive"),
    ("rationales", "rationale"),
    ("assessments", "assessment"),
    ("reactions", "reaction"),
    ("claims", "claim"),
    ("indicators", "indicator"),
    ("actors", "actor"),
    ("sources", "source"),
    ("parties", "party"),
)
KIND_RANK = {singular: i for i, (_, singular) in enumerate(KIND_ORDER)}

VERIFICATION_CHURN = frozenset({"verification.checked_on", "verification.checked_by"})
"""Paths that change whenever someone re-checks an item without the facts changing.
Left out unless ``include_verification`` is set."""

BOOKKEEPING = frozenset({"edition", "as_of", "change_note"})
"""Front-matter fields that change with every edition. :func:`change_lines` leaves them
out: the section's heading already names the edition and shows the change note."""

INTERNAL_ROOTS = frozenset({"note", "verification"})
"""Top-level fields that only the analyst audience sees (left out with ``show_internal=False``)."""

# Fields every item shares; listed after the item's own fields so that what an analyst
# reads first (a judgment's likelihood, an event's casualties) comes first.
_COMMON_LAST = ("citations", "verification", "marking", "note")
_LABEL_FIELDS = ("title", "statement", "question", "signpost", "topic", "label", "name", "summary")
_SUMMARY_FIELDS = ("figure", "claim", "text", "excerpt", "value", "title", "label", "name", "source")


@dataclass(frozen=True)
class FieldChange:
    """One field that differs. ``old``/``new`` are JSON-ready values; None means absent."""

    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ItemChange:
    """One item added, removed or changed (``status``), with the changed fields if changed."""

    kind: str
    """Singular kind: ``event``, ``judgment``, ``key figure``, ``party``, ``case``, ..."""
    id: str
    status: str  # added, removed, changed
    title: str
    """The item's headline (its title, statement, question, ...), from the newer side."""
    marking: str
    """The most restrictive handling marking the item has on either side (TLP 2.0)."""
    fields: tuple[FieldChange, ...] = ()
    summary: str = ""
    """For added and removed items: a few words on what the item is (date, likelihood...)."""


@dataclass(frozen=True)
class CaseDiff:
    """Every change from ``old`` to ``new``, in a fixed order (kind, then position in the case)."""

    old_id: str
    new_id: str
    old_edition: int
    new_edition: int
    changes: tuple[ItemChange, ...] = field(default_factory=tuple)
    include_verification: bool = False

    def count(self, status: str) -> int:
        return sum(1 for c in self.changes if c.status == status)

    def __bool__(self) -> bool:
        return bool(self.changes)


# ---------------------------------------------------------------- comparing


def diff_cases(old: Case, new: Case, *, include_verification: bool = False) -> CaseDiff:
    """Compare two validated cases. Items are matched by id; an item whose id changed is
    reported as removed and added. Re-check bookkeeping (``verification.checked_on`` and
    ``checked_by``) is ignored unless ``include_verification`` is true. Deterministic:
    the same inputs always give an equal result in the same order."""
    ignore = frozenset() if include_verification else VERIFICATION_CHURN
    changes: list[ItemChange] = []

    case_fields = _compare_models(old.info, new.info, ignore, skip=("parties", "key_figures"))
    if case_fields:
        marking = _max_marking([old.info.marking, new.info.marking, *_narrative_markings(old, new, case_fields)])
        changes.append(ItemChange("case", new.id, "changed", new.info.title, marking, tuple(case_fields)))

    for attr, kind in KIND_ORDER[1:]:
        changes.extend(_diff_lists(kind, _items(old, attr), _items(new, attr), old, new, ignore))
    return CaseDiff(
        old_id=old.id,
        new_id=new.id,
        old_edition=old.info.edition,
        new_edition=new.info.edition,
        changes=tuple(changes),
        include_verification=include_verification,
    )


def _items(case: Case, attr: str) -> list[Any]:
    if attr in ("parties", "key_figures"):
        return list(getattr(case.info, attr))
    return list(getattr(case, attr))


def _diff_lists(
    kind: str, old_items: list[Any], new_items: list[Any], old: Case, new: Case, ignore: frozenset[str]
) -> list[ItemChange]:
    olds = {i.id: i for i in old_items}
    news = {i.id: i for i in new_items}
    out: list[ItemChange] = []
    # Position in the newer case first, then removed items where they stood in the older one.
    for item in new_items:
        before = olds.get(item.id)
        marking = _max_marking([_marking_of(item, new), *([_marking_of(before, old)] if before else [])])
        if before is None:
            out.append(ItemChange(kind, item.id, "added", _title(item), marking, summary=_describe_item(item)))
            continue
        fields = _compare_models(before, item, ignore)
        if fields:
            out.append(ItemChange(kind, item.id, "changed", _title(item), marking, tuple(fields)))
    for item in old_items:
        if item.id not in news:
            out.append(
                ItemChange(kind, item.id, "removed", _title(item), _marking_of(item, old), summary=_describe_item(item))
            )
    return out


def _compare_models(
    old: BaseModel, new: BaseModel, ignore: frozenset[str], skip: Sequence[str] = ()
) -> list[FieldChange]:
    a = old.model_dump(mode="json")
    b = new.model_dump(mode="json")
    out: list[FieldChange] = []
    names = [n for n in type(new).model_fields if n != "id" and n not in skip]
    names = [n for n in names if n not in _COMMON_LAST] + [n for n in names if n in _COMMON_LAST]
    for name in names:
        _compare(a.get(name), b.get(name), name, out, top=True)
    return [c for c in out if c.path not in ignore]


def _compare(old: Any, new: Any, path: str, out: list[FieldChange], top: bool = False) -> None:
    """Append the leaf differences between two JSON values under ``path``."""
    if old == new:
        return
    # A mapping that appears or disappears (an event's casualties) is compared with an
    # empty one, so the briefing can say "killed (best): none → 9" rather than "casualties
    # added"; a whole list element that appears or disappears stays one change.
    both = isinstance(old, dict) and isinstance(new, dict)
    one_side = (isinstance(old, dict) and new is None) or (old is None and isinstance(new, dict))
    if both or (one_side and not _is_record(path)):
        a, b = old or {}, new or {}
        for key in [*a, *(k for k in b if k not in a)]:
            _compare(a.get(key), b.get(key), f"{path}.{key}", out)
        return
    if _is_records(old) and _is_records(new):
        a, b = old or [], new or []
        key = _record_key(a, b)
        if key is None:
            for i in range(max(len(a), len(b))):
                _compare(a[i] if i < len(a) else None, b[i] if i < len(b) else None, f"{path}[{i + 1}]", out)
        else:
            ka = {r[key]: r for r in a}
            kb = {r[key]: r for r in b}
            for k in [*ka, *(k for k in kb if k not in ka)]:
                one, two = ka.get(k), kb.get(k)
                if one is None or two is None:
                    out.append(FieldChange(f"{path}[{k}]", one, two))
                else:
                    _compare(one, two, f"{path}[{k}]", out)
        return
    out.append(FieldChange(path, old, new))


def _is_record(path: str) -> bool:
    """A path that names one element of a list (whole records are added or removed as one)."""
    return path.endswith("]")


def _is_records(value: Any) -> bool:
    """A list of mappings (or None, which compares as an empty list) — not a list of scalars."""
    if value is None:
        return True
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _record_key(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> str | None:
    """The field that identifies records in both lists: ``id``, else ``source`` (citations,
    casualty reports), when unique on each side; None to compare by position."""
    if not a and not b:
        return None
    for key in ("id", "source"):
        ok = True
        for records in (a, b):
            values = [r.get(key) for r in records]
            if any(not isinstance(v, str) for v in values) or len(set(values)) != len(values):
                ok = False
                break
        if ok:
            return key
    return None


def _marking_of(item: Any, case: Case) -> str:
    marking = getattr(item, "marking", None)
    return marking or case.info.marking


def _max_marking(markings: Iterable[str]) -> str:
    return max(markings, key=lambda m: MARKING_ORDER[m])


_NARRATIVE = re.compile(r"^(bluf|overview|outlook)\[(\d+)\]")


def _narrative_markings(old: Case, new: Case, fields: Sequence[FieldChange]) -> list[str]:
    """Markings of the framing paragraphs that changed (a paragraph may be more restricted
    than the case)."""
    found: list[str] = []
    for f in fields:
        m = _NARRATIVE.match(f.path)
        if not m:
            continue
        i = int(m.group(2)) - 1
        for case in (old, new):
            paragraphs = getattr(case.info, m.group(1))
            if i < len(paragraphs):
                found.append(paragraphs[i].marking or case.info.marking)
    return found


def _title(item: Any) -> str:
    for attr in _LABEL_FIELDS:
        value = getattr(item, attr, None)
        if isinstance(value, str) and value:
            return clip(value, 80)
    publisher = getattr(item, "publisher", None)
    return clip(publisher, 80) if isinstance(publisher, str) else str(item.id)


def _describe_item(item: Any) -> str:
    """A few words on what an added or removed item is, for the briefing's detail column."""
    name = type(item).__name__
    if name == "Event":
        return f"dated {item.when.date}" + (" (upcoming)" if item.upcoming else "")
    if name == "Judgment":
        return f"{item.likelihood}, {item.confidence} confidence"
    if name in ("Motive",):
        return f"{item.salience} salience, {item.confidence} confidence"
    if name in ("Rationale",):
        return f"{item.confidence} confidence"
    if name == "Source":
        return f"{item.kind}, reliability {item.reliability}"
    if name == "Indicator":
        return f"points to {item.direction}"
    return ""


# ---------------------------------------------------------------- wording


def clip(text: str, n: int = 60) -> str:
    """``text`` on one line, at most ``n`` characters (an ellipsis marks a cut)."""
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1].rstrip() + "…"


def short_value(value: Any, n: int = 60) -> str:
    """A value as a few words: text quoted when it could be mistaken for a word list, records
    by their most telling field, absent values as 'none'."""
    if value is None or value == [] or value == {}:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return clip(value, n)
    if isinstance(value, list):
        return clip(", ".join(short_value(v, n) for v in value), n)
    if isinstance(value, dict):
        for key in _SUMMARY_FIELDS:
            if isinstance(value.get(key), (str, int)):
                return short_value(value[key], n)
        return clip(", ".join(f"{k} {short_value(v, 20)}" for k, v in value.items() if v not in (None, [], {})), n)
    return clip(str(value), n)


def short_pair(old: Any, new: Any, n: int = 60) -> tuple[str, str]:
    """Both values shortened; for two long texts, the stretch where they differ (with a
    little context) rather than two identical beginnings."""
    if not (isinstance(old, str) and isinstance(new, str)) or (len(old) <= n and len(new) <= n):
        return short_value(old, n), short_value(new, n)
    a, b = " ".join(old.split()), " ".join(new.split())
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[len(a) - 1 - end] == b[len(b) - 1 - end]:
        end += 1
    context = 12
    lo = max(0, start - context)
    return _window(a, lo, len(a) - end + context, n), _window(b, lo, len(b) - end + context, n)


def _window(text: str, lo: int, hi: int, n: int) -> str:
    hi = min(len(text), max(hi, lo + 1))
    piece = text[lo:hi]
    cut = len(piece) > n - 2
    if cut:
        piece = piece[: n - 2].rstrip()
    return ("…" if lo > 0 else "") + piece + ("…" if cut or hi < len(text) else "")


_SEGMENT = re.compile(r"([a-z_]+)(?:\[([^\]]+)\])?")
_PARAGRAPH_NAMES = {"bluf": "bottom line", "overview": "overview", "outlook": "outlook"}
_WHEN_NAMES = {"date": "date", "end": "end date", "precision": "date precision"}


def human_path(path: str) -> str:
    """A field path in words: ``casualties.killed.best`` → "killed (best)",
    ``casualties.killed.reports[s1].figure`` → "killed as reported by s1 (figure)",
    ``bluf[2].text`` → "bottom line paragraph 2", ``when.date`` → "date",
    ``citations[s1].excerpt`` → "citation of s1 (excerpt)"."""
    return _human([(m.group(1), m.group(2)) for m in _SEGMENT.finditer(path)])


def _human(segs: list[tuple[str, str | None]]) -> str:
    if not segs:
        return ""
    (name, key), rest = segs[0], segs[1:]
    if name == "casualties" and rest:
        what, tail = rest[0][0], rest[1:]
        if tail and tail[0][0] == "reports":
            who = tail[0][1]
            if who and not who.isdigit():
                label = f"{what} as reported by {who}"
            else:
                label = f"{what}, report {who}" if who else f"{what} reports"
            return _with(label, tail[1:])
        return _with(what, tail)
    if name == "when" and rest:
        return _with(_WHEN_NAMES.get(rest[0][0], f"date {_plain(rest[0][0])}"), rest[1:])
    if name in _PARAGRAPH_NAMES and key:
        label = f"{_PARAGRAPH_NAMES[name]} paragraph {key}"
        if not rest or rest == [("text", None)]:
            return label  # the paragraph's text is the paragraph
        return f"{label}, {_human(rest)}"
    if name == "citations" and key:
        return _with(f"citation {key}" if key.isdigit() else f"citation of {key}", rest)
    if key:
        label = f"{_plain(name[:-1] if name.endswith('s') else name)} {key}"
        return f"{label}, {_human(rest)}" if rest else label
    return f"{_plain(name)} {_human(rest)}" if rest else _plain(name)


def _with(label: str, rest: list[tuple[str, str | None]]) -> str:
    return f"{label} ({_human(rest)})" if rest else label


def _plain(name: str) -> str:
    return name.replace("_", " ")


# ---------------------------------------------------------------- renderings


def render_text(diff: CaseDiff) -> list[str]:
    """Terminal lines: ``+ event e5 "title"``, ``- ...``, one ``~ kind id: path old → new``
    line per changed field, then a count."""
    lines: list[str] = []
    for c in diff.changes:
        if c.status in ("added", "removed"):
            sign = "+" if c.status == "added" else "-"
            lines.append(f'{sign} {c.kind} {c.id} "{c.title}"')
            continue
        for f in c.fields:
            old, new = short_pair(f.old, f.new, 60)
            lines.append(f"~ {c.kind} {c.id}: {f.path} {old} → {new}")
    n = len(diff.changes)
    editions = (
        f"edition {diff.old_edition}"
        if diff.old_edition == diff.new_edition
        else f"edition {diff.old_edition} → {diff.new_edition}"
    )
    if n == 0:
        lines.append(f"no changes ({editions})")
    else:
        lines.append(
            f"{n} item{'s' if n != 1 else ''} differ: {diff.count('added')} added, {diff.count('removed')} removed, "
            f"{diff.count('changed')} changed ({editions})"
        )
    return lines


def to_dict(diff: CaseDiff) -> dict[str, Any]:
    """The diff as plain JSON data; values are given in full, not shortened."""
    return {
        "old": {"case": diff.old_id, "edition": diff.old_edition},
        "new": {"case": diff.new_id, "edition": diff.new_edition},
        "include_verification": diff.include_verification,
        "counts": {s: diff.count(s) for s in ("added", "removed", "changed")},
        "changes": [
            {
                "kind": c.kind,
                "id": c.id,
                "status": c.status,
                "title": c.title,
                "marking": c.marking,
                **({"summary": c.summary} if c.summary else {}),
                "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in c.fields],
            }
            for c in diff.changes
        ],
    }


def render_json(diff: CaseDiff) -> str:
    """:func:`to_dict` as indented JSON text (UTF-8, stable key order), ending in a newline."""
    return json.dumps(to_dict(diff), indent=2, ensure_ascii=False) + "\n"
