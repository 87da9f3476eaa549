"""What changed, as the briefing says it: the rows of "What changed since edition N".

The comparison itself is :func:`briefgen.facts.diff.diff_cases`; this module words it for
a reader, leaving out what the audience may not see.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..facts.diff import BOOKKEEPING, INTERNAL_ROOTS, CaseDiff, FieldChange, human_path, short_pair
from ..facts.models.common import MARKING_ORDER

# In a row, these lead the detail when several fields changed.
_HEADLINE_FIELDS = ("likelihood", "confidence", "salience", "casualties", "when", "status")
_MAX_DETAIL_FIELDS = 3


@dataclass(slots=True)
class ChangeLine:
    """One row of 'What changed': an item added, removed or changed."""

    kind: str  # added, removed, changed
    what: str
    detail: str


def change_lines(diff: CaseDiff, *, max_marking: str | None = None, show_internal: bool = True) -> list[ChangeLine]:
    """The rows of the briefing's "What changed since edition N" section: one per item added,
    removed or changed, ``what`` = kind and title, ``detail`` = a short sentence.

    Edition bookkeeping (edition, as-of date, change note) is left out: the heading and the
    change note already say it. With ``max_marking``, items more restricted than that marking
    are left out; with ``show_internal=False``, changes to internal notes and verification
    records are too (pass the audience's settings when the section is shown to others than
    analysts)."""
    limit = MARKING_ORDER[max_marking] if max_marking else None
    rows: list[ChangeLine] = []
    for c in diff.changes:
        if limit is not None and MARKING_ORDER[c.marking] > limit:
            continue
        what = f"{c.kind.capitalize()}: {c.title}"
        if c.status == "added":
            rows.append(
                ChangeLine("added", what, _sentence(f"New {c.kind}" + (f" ({c.summary})" if c.summary else "")))
            )
            continue
        if c.status == "removed":
            rows.append(ChangeLine("removed", what, _sentence(f"Removed since edition {diff.old_edition}")))
            continue
        fields = [f for f in c.fields if not (c.kind == "case" and f.path in BOOKKEEPING)]
        if not show_internal:
            fields = [f for f in fields if f.path.split(".", 1)[0].split("[", 1)[0] not in INTERNAL_ROOTS]
        if not fields:
            continue
        fields.sort(key=_headline_rank)
        parts = []
        for f in fields[:_MAX_DETAIL_FIELDS]:
            old, new = short_pair(f.old, f.new, 40)
            parts.append(f"{human_path(f.path)}: {old} → {new}")
        more = len(fields) - _MAX_DETAIL_FIELDS
        if more > 0:
            parts.append(f"and {more} more change{'s' if more != 1 else ''}")
        rows.append(ChangeLine("changed", what, _sentence("; ".join(parts))))
    return rows


def _headline_rank(f: FieldChange) -> int:
    root = f.path.split(".", 1)[0].split("[", 1)[0]
    return _HEADLINE_FIELDS.index(root) if root in _HEADLINE_FIELDS else len(_HEADLINE_FIELDS)


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "…", "?", "!")) else text + "."
