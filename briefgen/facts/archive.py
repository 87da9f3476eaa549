"""Excerpts against the archived sources: every excerpt must be the source's own words.

:func:`check_archive` proves each excerpt (citations, casualty reports, errata, resolved
date wording) occurs in its source's archived text, up to whitespace, quote-mark and
dash variants; where one does not, it shows the closest passage and the first character
that differs. :func:`find_passage` serves ``briefgen cite``: a few words in, the whole
sentence out, ready to paste as a citation.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import FactError
from .models import Case
from .rules import Origin
from .textmatch import normalise

Loc = tuple[str | int, ...]


def _excerpts(obj: Any, loc: Loc, default_source: str | None = None) -> Iterator[tuple[str, str, Loc]]:
    """(source id, words, loc of the words) for every excerpt inside ``obj``."""
    if isinstance(obj, BaseModel):
        fields = type(obj).model_fields
        source = getattr(obj, "source", None) if "source" in fields else default_source
        phrase, whose = getattr(obj, "resolved_from", None), getattr(obj, "resolved_from_source", None)
        if isinstance(phrase, str) and isinstance(whose, str):
            yield whose, phrase, (*loc, "resolved_from")
        for name in fields:
            value = getattr(obj, name)
            if name == "excerpt" and isinstance(value, str) and source:
                yield source, value, (*loc, name)
            elif isinstance(value, (BaseModel, list)):
                yield from _excerpts(value, (*loc, name), source)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _excerpts(v, (*loc, i), default_source)


@dataclass(frozen=True)
class Archived:
    """One source's archived text: as written (lines), and normalised for comparison."""

    file: Path
    lines: list[str]
    text: str
    """The whole text, normalised (see :func:`briefgen.textmatch.normalise`)."""


def read_archived(path: Path) -> Archived:
    raw = path.read_text(encoding="utf-8")
    return Archived(path, raw.splitlines(), normalise(raw))


def check_archive(case: Case, origin_of: Callable[[Any], Origin], archive: Path) -> list[FactError]:
    """Problems with the excerpts of every item of ``case``; ``origin_of`` tells where an
    item was written (see :meth:`briefgen.facts.loader.Loaded.origin`)."""
    errors: list[FactError] = []
    sources = {s.id: s for s in case.sources}
    texts: dict[str, Archived | None] = {}
    bad_body: set[str] = set()  # sources whose body_starts is not found (their paragraphs are not checked)

    def text_of(source_id: str) -> Archived | None:
        if source_id not in texts:
            texts[source_id] = None
            src = sources.get(source_id)
            if src is None:
                return None
            origin = origin_of(src)
            if not src.archive:
                errors.append(
                    origin.error((), f"source '{source_id}' names no 'archive' file to check excerpts against")
                )
                return None
            try:
                texts[source_id] = read_archived(archive / src.archive)
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(origin.error(("archive",), f"cannot read archived text {archive / src.archive}: {exc}"))
                return None
            if src.body_starts and normalise(src.body_starts) not in texts[source_id].text:  # type: ignore[union-attr]
                errors.append(
                    origin.error(
                        ("body_starts",),
                        f"body_starts is not in the archived text ({src.archive}); copy the first words of the "
                        f"document's own text exactly{closest(src.body_starts, texts[source_id])}",  # type: ignore[arg-type]
                    )
                )
                bad_body.add(source_id)
        return texts[source_id]

    def check(item: Any, own_source: str | None = None) -> None:
        origin = origin_of(item)
        for source_id, words, loc in _excerpts(item, (), own_source):
            archived = text_of(source_id)
            if archived is None:
                continue
            if normalise(words) not in archived.text:
                where = sources[source_id].archive
                errors.append(
                    origin.error(
                        loc,
                        f"excerpt not found in the archived text of '{source_id}' ({where}); copy the words "
                        f"exactly{closest(words, archived)}",
                    )
                )
                continue
            given = _paragraph_given(item, loc)
            if given is not None and source_id not in bad_body:
                found = paragraph_of(archived, sources[source_id].body_starts, words)
                if found != given:
                    where = f"in paragraph {found}" if found else "before the body (or the source has no body_starts)"
                    errors.append(
                        origin.error((*loc[:-1], "paragraph"), f"paragraph {given} is wrong: the excerpt is {where}")
                    )

    summaries = [p.summary for p in case.info.parties if p.summary is not None]
    for narratives in (case.info.bluf, case.info.overview, case.info.outlook, summaries):
        for n in narratives:
            check(n)
    for kf in case.info.key_figures:
        check(kf)
    for kind in ("sources", "actors", "events", "motives", "rationales", "judgments", "assessments", "reactions"):
        for item in getattr(case, kind):
            check(item, item.id if kind == "sources" else None)
    for kind in ("claims", "indicators"):
        for item in getattr(case, kind):
            check(item)
    return errors


def _paragraph_given(item: Any, loc: Loc) -> int | None:
    """The ``paragraph`` of the citation at ``loc`` (the excerpt's place) inside ``item``."""
    obj = item
    for part in loc[:-1]:
        obj = obj[part] if isinstance(part, int) else getattr(obj, part)
    value = getattr(obj, "paragraph", None)
    return value if isinstance(value, int) else None


def paragraph_of(archived: Archived, body_starts: str | None, words: str) -> int | None:
    """The paragraph of the archive that holds ``words``: non-empty lines counted from the
    line where the body starts (``body_starts``); None before it, or without it."""
    if not body_starts:
        return None
    start = normalise(body_starts)
    want = normalise(words)
    n = 0
    for line in archived.lines:
        text = normalise(line)
        if n == 0 and start not in text:
            continue
        if text:
            n += 1
        if want in text:
            return n
    return None


def _char(c: str) -> str:
    name = unicodedata.name(c, "")
    return f"'{c}' (U+{ord(c):04X}{' ' + name if name else ''})"


def closest(words: str, archived: Archived) -> str:
    """Where the archive holds the passage most like ``words``, and the first character
    that differs (a changed letter, a dropped word), as the end of a message."""
    want = normalise(words)
    text = archived.text
    matcher = difflib.SequenceMatcher(None, text, want, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size >= min(8, len(want))]
    if not blocks:
        return "; nothing like it is in the archived text"

    def agreement(start: int) -> int:
        return sum(a == b for a, b in zip(want, text[start : start + len(want)], strict=False))

    # Align the excerpt where the archive agrees with most of its characters.
    start = max((max(0, b.a - b.b) for b in blocks), key=agreement)
    passage = text[start : start + len(want)]
    first = next((i for i, (a, b) in enumerate(zip(want, passage, strict=False)) if a != b), len(passage))
    shown = passage if len(passage) <= 160 else passage[:157] + "…"
    if first >= len(passage):
        diff = "the excerpt runs on past the end of that passage"
    else:
        diff = f"from character {first + 1} the excerpt reads “{want[first : first + 24]}”, the archive “{passage[first : first + 24]}” ({_char(want[first])} against {_char(passage[first])})"
    return f"; closest passage (archive line {_line_at(archived, start)}): “{shown}”; {diff}"


def _line_at(archived: Archived, offset: int) -> int:
    """The 1-based line of the archive holding the character at ``offset`` of its normalised text."""
    seen = 0
    for n, line in enumerate(archived.lines, 1):
        part = normalise(line)
        if part:
            seen += len(part) + 1  # (normalising joins lines with one space)
        if seen > offset:
            return n
    return len(archived.lines)


@dataclass(frozen=True)
class Passage:
    """A sentence of an archived source that holds the words asked for."""

    line: int
    text: str


def _tolerant(words: str) -> re.Pattern[str]:
    """A pattern for ``words`` in raw text, allowing what normalising allows: any run of
    whitespace for a space, any quote mark for a quote, any dash for a dash; any case."""
    parts = []
    for c in normalise(words):
        if c == " ":
            parts.append(r"\s+")
        elif c == "'":
            parts.append("[\u2018\u2019\u201a\u201b\u2032\u00b4`']")
        elif c == '"':
            parts.append('[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"]')
        elif c == "-":
            parts.append("[\u2010-\u2015\u2212-]")
        else:
            parts.append(re.escape(c))
    return re.compile("".join(parts), re.I)


_SENTENCE_END = re.compile(r"[.!?][\u2019\u201d'\")]?(?=\s|$)")


def find_passage(archived: Archived, words: str) -> list[Passage]:
    """Every sentence of the archive that holds ``words`` (quote marks, dashes, spaces and
    case aside), as written there, within its line."""
    pattern = _tolerant(words)
    out = []
    for n, line in enumerate(archived.lines, 1):
        for m in pattern.finditer(line):
            ends = [e.end() for e in _SENTENCE_END.finditer(line, 0, m.start())]
            start = ends[-1] if ends else 0
            after = _SENTENCE_END.search(line, m.end())
            end = after.end() if after else len(line)
            out.append(Passage(n, line[start:end].strip()))
    return list(dict.fromkeys(out))


def citation_yaml(sources: list[Any], archive: Path, source_id: str, words: str) -> str:
    """A ready-to-paste citation of the sentence of ``source_id`` that holds ``words``
    (every such sentence, if several), with where it stands in the archive."""
    from ..errors import UsageError

    source = next((s for s in sources if s.id == source_id), None)
    if source is None:
        known = ", ".join(s.id for s in sources)
        raise UsageError(f"the case has no source '{source_id}'; its sources are {known}")
    if not source.archive:
        raise UsageError(f"source '{source_id}' names no 'archive' file")
    try:
        archived = read_archived(archive / source.archive)
    except OSError as exc:
        raise UsageError(f"cannot read {archive / source.archive}: {exc.strerror}") from None
    found = find_passage(archived, words)
    if not found:
        raise UsageError(f"'{words}' is not in {archive / source.archive}{closest(words, archived)}")
    out = []
    for p in found:
        text = p.text.replace("\\", "\\\\").replace('"', '\\"')
        para = paragraph_of(archived, source.body_starts, p.text)
        out.append(
            f"# {source_id}, {archive / source.archive} line {p.line}\n"
            f"- source: {source_id}\n"
            f'  excerpt: "{text}"\n'
            + (f"  paragraph: {para}\n" if para else "")
            + "  credibility:   # grade the words: 1 confirmed ... 6 cannot be judged (docs/scales.md)\n"
        )
    return "\n".join(out)
