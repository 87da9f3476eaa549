"""Check that every excerpt is verbatim from its source's archived text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .errors import FactError
from .loader import Loc, Origins
from .models import ITEM_KINDS, Case
from .textmatch import normalise
from .yamlsafe import Document


def _excerpts(obj: Any, loc: Loc, default_source: str | None = None) -> Iterator[tuple[str, str, Loc]]:
    """(source id, excerpt, loc of the excerpt) for every excerpt inside ``obj``."""
    if isinstance(obj, BaseModel):
        fields = type(obj).model_fields
        source = getattr(obj, "source", None) if "source" in fields else default_source
        for name in fields:
            value = getattr(obj, name)
            if name == "excerpt" and isinstance(value, str) and source:
                yield source, value, (*loc, name)
            elif isinstance(value, (BaseModel, list)):
                yield from _excerpts(value, (*loc, name), source)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _excerpts(v, (*loc, i), default_source)


def check_archive(case: Case, case_doc: Document, origins: Origins, archive: Path) -> list[FactError]:
    """Every citation, casualty-report and erratum excerpt must occur in the archived text
    of its source (``archive/<source.archive>``), up to whitespace, quote and dash variants."""
    errors: list[FactError] = []
    texts: dict[str, str | None] = {}
    sources = {s.id: s for s in case.sources}
    src_origin = dict(zip((s.id for s in case.sources), origins.get("sources", []), strict=True))

    def text_of(source_id: str, doc: Document, loc: Loc) -> str | None:
        if source_id in texts:
            return texts[source_id]
        src = sources.get(source_id)
        texts[source_id] = None
        if src is None:
            return None
        sdoc, sloc = src_origin[source_id]
        if not src.archive:
            errors.append(sdoc.error(sloc, f"source '{source_id}' names no 'archive' file to check excerpts against"))
            return None
        f = archive / src.archive
        try:
            texts[source_id] = normalise(f.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(sdoc.error((*sloc, "archive"), f"cannot read archived text {f}: {exc}"))
        return texts[source_id]

    def check(obj: Any, doc: Document, loc: Loc, own_source: str | None = None) -> None:
        for source_id, excerpt, eloc in _excerpts(obj, loc, own_source):
            text = text_of(source_id, doc, eloc)
            if text is not None and normalise(excerpt) not in text:
                errors.append(
                    doc.error(
                        eloc,
                        f"excerpt not found in the archived text of '{source_id}' "
                        f"({sources[source_id].archive}); copy the words exactly",
                    )
                )

    check(case.info, case_doc, ())
    for kind in ITEM_KINDS:
        for item, (doc, loc) in zip(getattr(case, kind), origins.get(kind, []), strict=True):
            check(item, doc, loc, item.id if kind == "sources" else None)
    return errors
