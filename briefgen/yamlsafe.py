"""Strict, safe YAML reading with a line mark for every key and value.

Fact files are typed by hand and pasted from the web, so the reader refuses what
YAML would otherwise do silently:

* no object construction: custom tags are errors, only plain data comes back;
* YAML 1.2 core scalars: ``yes``/``no``/``on``/``NO`` stay text, ``2024-01-16``
  stays text (the models parse dates), only ``true``/``false`` are booleans;
* duplicate keys, non-text keys, tabs and merge keys (``<<``) are errors;
* aliases are bounded (count and expanded size) so an alias bomb is refused at once,
  and an alias may not stand for a collection it sits inside (no self-containing data);
* text may not hold characters YAML itself forbids (control characters, lone
  surrogates), even when written as escapes such as ``"\\0"`` or ``"\\ud800"``;
* nesting depth, file size and encoding (UTF-8, no byte-order mark) are checked.

The result is a :class:`Document`: the data plus a map from each value's path
(a tuple of keys and list indexes) to its ``(line, col)`` and the key's own mark.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import CaseInvalid, FactError

MAX_FILE_BYTES = 8 * 1024 * 1024
"""Largest fact file accepted (8 MiB). Split bigger kinds into ``events-*.yaml`` files."""
MAX_DEPTH = 40
"""Deepest nesting of mappings and lists accepted."""
MAX_ALIASES = 200
"""Most aliases (``*name``) accepted in one file."""
MAX_ALIAS_EXPANSION = 100_000
"""Most values that aliases may stand for in one file, counted as if expanded."""

Path_ = tuple[str | int, ...]

# libyaml's parser (PyYAML exports it from yaml.cyaml only) for the fast path of
# files that hold nothing unusual; see _read_plain.
_CFAST = getattr(getattr(yaml, "cyaml", None), "CParser", None)
try:  # the same fast path in C, built with briefgen where libyaml's headers were found
    from . import _yamlfast
except ImportError:  # pragma: no cover - depends on the machine that installed briefgen
    _yamlfast = None  # type: ignore[assignment]
# Characters YAML forbids in a stream; escapes in double-quoted text can still produce
# them, and they break later stages (UTF-8 encoding of the HTML, the PDF's text).
# (Written as the forbidden ranges, the complement of YAML's printable set
# [^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]: the same
# characters, but it compiles in a millisecond rather than ten, at every start-up.)
_NON_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_MAX_INT_DIGITS = 1000

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_BOOL_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_INT_OCT = re.compile(r"^0o[0-7]+$")
_INT_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
_PLAIN_STR_TAGS = {None, "!", "tag:yaml.org,2002:str"}
_ALLOWED_TAGS = {
    None,
    "!",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


@dataclass
class Document:
    """A parsed YAML file: its data and where each part of it was written."""

    path: str
    data: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    source: bytes | tuple[Path, str] | None = field(default=None, repr=False, compare=False)
    """The file's text (UTF-8) while ``marks`` are still to be worked out: a file read by
    the fast path gets its marks on the first :meth:`locate` (most files never need them).
    For a large file, ``(file, sha256)`` instead: the text is read again when needed, and
    used only if it is still the text that was parsed."""

    def locate(self, loc: Path_, *, key: bool = False) -> tuple[int, int]:
        """Best ``(line, col)`` for a path: the key itself if asked, else the value;
        falls back to the nearest ancestor that has a mark."""
        if self.source is not None:
            self._mark_up()
        loc = tuple(loc)
        while True:
            if key and loc in self.key_marks:
                return self.key_marks[loc]
            if loc in self.marks:
                return self.marks[loc]
            if not loc:
                return (1, 1)
            loc = loc[:-1]

    def error(self, loc: Path_, message: str, *, key: bool = False) -> FactError:
        line, col = self.locate(loc, key=key)
        return FactError(self.path, line, col, message)

    def _mark_up(self) -> None:
        """Fill in the marks of a file read by the fast path (read it again, with marks)."""
        assert self.source is not None
        source, self.source = self.source, None
        if isinstance(source, tuple):
            import hashlib

            try:
                raw = Path(source[0]).read_bytes()
            except OSError:
                return
            if hashlib.sha256(raw).hexdigest() != source[1]:
                return  # changed since it was read: no marks (errors name the file's start)
            source = raw
        text = source.decode("utf-8")
        try:
            located = _parse_located(text, self.path, _CFAST)
        except Exception:  # libyaml took it once; should it balk now, use the careful reader
            located = _parse_located(text, self.path, None)
        self.marks, self.key_marks = located.marks, located.key_marks


def _resolve_plain(value: str) -> Any:
    """YAML 1.2 core schema resolution of an unquoted scalar."""
    if not value or value[0] in "~nNtTfF0123456789+-.":
        if _NULL.match(value):
            return None
        if _BOOL_TRUE.match(value):
            return True
        if _BOOL_FALSE.match(value):
            return False
        if _INT.match(value):
            if len(value) > _MAX_INT_DIGITS:
                raise ValueError(f"a number of {len(value):,} digits is too long; put it in quotes if it is text")
            return int(value)
        if _INT_OCT.match(value) or _INT_HEX.match(value):
            if len(value) > _MAX_INT_DIGITS:
                raise ValueError(f"a number of {len(value):,} digits is too long; put it in quotes if it is text")
            return int(value[2:], 8 if value[1] == "o" else 16)
        if _FLOAT.match(value):
            return float(value)
        if _INF.match(value):
            return float("-inf") if value.startswith("-") else float("inf")
        if _NAN.match(value):
            return float("nan")
    return value


def _scalar(event: Any, tag: str | None) -> Any:
    """The value of an allowed scalar: plain text resolved by the YAML 1.2 core schema,
    quoted or ``!!str`` text kept as written."""
    if not event.style and event.implicit[0] and tag in _PLAIN_STR_TAGS:  # plain: None, or "" from libyaml
        return _resolve_plain(event.value) if tag is None else event.value
    if tag in (None, "!", "tag:yaml.org,2002:str"):
        return event.value
    return _resolve_plain(event.value)


def _mark(event: Any) -> tuple[int, int]:
    m = event.start_mark
    return (m.line + 1, m.column + 1)


def _count(value: Any) -> int:
    """Values that an alias stands for (itself and everything inside it)."""
    stack = [value]
    n = 0
    while stack:
        v = stack.pop()
        n += 1
        if n > MAX_ALIAS_EXPANSION:
            return n
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return n


def _check_size(size: int, path: str) -> None:
    if size > MAX_FILE_BYTES:
        raise CaseInvalid(
            [
                FactError.at_file(
                    path,
                    f"file is {size:,} bytes, more than the {MAX_FILE_BYTES:,}-byte limit; "
                    "split it into several files of the same kind (for example events-2024-01.yaml)",
                )
            ]
        )


def _decode(raw: bytes, path: str) -> str:
    _check_size(len(raw), path)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise CaseInvalid(
            [
                FactError.at_file(
                    path,
                    "file starts with a byte-order mark; save it as UTF-8 without BOM",
                )
            ]
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CaseInvalid([FactError.at_file(path, "file is UTF-16; save it as UTF-8 (without BOM)")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        raise CaseInvalid(
            [
                FactError(
                    path,
                    line,
                    col,
                    f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; "
                    "save the file as UTF-8 (copy-paste from some programs brings in other encodings)",
                )
            ]
        ) from None


def _check_tabs(text: str, path: str) -> list[FactError]:
    errors = []
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            errors.append(
                FactError(
                    path,
                    n,
                    len(line) - len(stripped) + 1,
                    "tab used for indentation; YAML allows only spaces there (use two spaces per level)",
                )
            )
    return errors


def parse_text(text: str, path: str, raw: bytes | None = None, *, fast: bool = True) -> Document:
    """Parse YAML text (already decoded) into a :class:`Document`, or raise CaseInvalid.
    ``raw``, when given, is the UTF-8 the text was decoded from (kept to locate errors).
    ``fast`` False skips the fast path (already tried on these bytes)."""
    if "\t" in text:  # (a fast scan; most files hold no tab at all)
        tab_errors = _check_tabs(text, path)
        if tab_errors:
            raise CaseInvalid(tab_errors)
    data = _read_plain(text, raw) if fast else _UNREAD
    if data is not _UNREAD:
        return Document(path, data, source=raw if raw is not None else text.encode("utf-8"))
    return _parse_located(text, path, None)


def _parse_located(text: str, path: str, parser_class: Any) -> Document:
    """The careful reader: every check above, every problem located, a mark for every value.
    ``parser_class`` None means PyYAML's pure-Python parser (whose errors the messages assume)."""
    errors: list[FactError] = []
    doc = Document(path, None)
    anchors: dict[str, tuple[Any, int]] = {}
    alias_count = 0
    expansion = 0
    # Stack frames: [container, path, pending_key, pending_key_mark, seen_keys]
    stack: list[list[Any]] = []
    root_set = False
    documents = 0

    def attach(value: Any, start: tuple[int, int], anchor: str | None) -> Path_ | None:
        nonlocal root_set
        if anchor:
            anchors[anchor] = (value, 1)
        if not stack:
            doc.data = value
            root_set = True
            doc.marks[()] = start
            return ()
        frame = stack[-1]
        container, cpath = frame[0], frame[1]
        if isinstance(container, list):
            p = (*cpath, len(container))
            container.append(value)
            doc.marks[p] = start
            return p
        # mapping
        if frame[2] is _NO_KEY:
            # this value is a key
            if not isinstance(value, str):
                shown = "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else repr(value)
                errors.append(
                    FactError(
                        path,
                        *start,
                        f"key {shown} is not text; field names must be plain words (quote it if it is meant as text)",
                    )
                )
                value = str(value)
            if value == "<<":
                errors.append(FactError(path, *start, "merge keys ('<<') are not supported; write the fields out"))
            if value in frame[4]:
                first = frame[4][value]
                errors.append(
                    FactError(
                        path,
                        *start,
                        f"duplicate key '{value}' (first given at line {first[0]}); "
                        "each key may appear once: merge the two or rename one",
                    )
                )
            frame[2] = value
            frame[3] = start
            return None
        key = frame[2]
        p = (*cpath, key)
        if key not in frame[4]:
            container[key] = value
            frame[4][key] = frame[3]
            doc.key_marks[p] = frame[3]
            doc.marks[p] = start
        frame[2] = _NO_KEY
        return p

    parser: Any = None
    try:
        # Inside the try: the pure-Python reader checks for forbidden characters at once.
        parser = parser_class(text) if parser_class is not None else yaml.SafeLoader(text)
        while True:
            event = parser.get_event()
            if event is None:
                break
            etype = type(event)
            if etype is yaml.ScalarEvent:
                tag = event.tag
                if tag not in _ALLOWED_TAGS:
                    errors.append(
                        FactError(
                            path,
                            *_mark(event),
                            f"tag '{tag}' is not allowed; fact files hold plain text, numbers, lists and mappings",
                        )
                    )
                    value: Any = event.value
                else:
                    try:
                        value = _scalar(event, tag)
                    except ValueError as exc:  # a number too long to be one
                        errors.append(FactError(path, *_mark(event), str(exc)))
                        value = event.value
                if isinstance(value, str):
                    bad = _NON_PRINTABLE.search(value)
                    if bad:
                        errors.append(
                            FactError(
                                path,
                                *_mark(event),
                                f"the text holds the character U+{ord(bad.group()):04X}, which fact files may not "
                                "contain (a control character or half of a broken character); delete it",
                            )
                        )
                attach(value, _mark(event), event.anchor)
            elif etype is yaml.MappingStartEvent or etype is yaml.SequenceStartEvent:
                if event.tag not in _ALLOWED_TAGS:
                    errors.append(
                        FactError(
                            path,
                            *_mark(event),
                            f"tag '{event.tag}' is not allowed; fact files hold plain text, numbers, lists and mappings",
                        )
                    )
                if len(stack) >= MAX_DEPTH:
                    raise CaseInvalid(
                        [
                            FactError(
                                path,
                                *_mark(event),
                                f"nesting is deeper than {MAX_DEPTH} levels; fact files never need this much",
                            )
                        ]
                    )
                container: Any = {} if etype is yaml.MappingStartEvent else []
                p = attach(container, _mark(event), event.anchor)
                if p is None:  # a collection used as a key: already reported
                    p = (*stack[-1][1], "?")
                stack.append([container, p, _NO_KEY, None, {}])
            elif etype is yaml.MappingEndEvent or etype is yaml.SequenceEndEvent:
                stack.pop()
            elif etype is yaml.AliasEvent:
                alias_count += 1
                start = _mark(event)
                if alias_count > MAX_ALIASES:
                    raise CaseInvalid(
                        [FactError(path, *start, f"more than {MAX_ALIASES} aliases in one file; write the values out")]
                    )
                if event.anchor not in anchors:
                    errors.append(FactError(path, *start, f"alias '*{event.anchor}' names no anchor"))
                    attach(None, start, None)
                    continue
                value, size = anchors[event.anchor]
                if any(frame[0] is value for frame in stack):
                    # '&a [*a]': the alias would make the data contain itself.
                    errors.append(FactError(path, *start, f"alias '*{event.anchor}' stands for a value it is part of"))
                    attach(None, start, None)
                    continue
                size = _count(value)
                expansion += size
                if expansion > MAX_ALIAS_EXPANSION:
                    raise CaseInvalid(
                        [
                            FactError(
                                path,
                                *start,
                                "aliases expand to more than "
                                f"{MAX_ALIAS_EXPANSION:,} values (an 'alias bomb'); write the values out",
                            )
                        ]
                    )
                attach(value, start, None)
            elif etype is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    errors.append(
                        FactError(
                            path,
                            *_mark(event),
                            "a second YAML document ('---') in one file; put each kind of fact in its own file",
                        )
                    )
                    break
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "YAML syntax error"
        hint = _syntax_hint(problem)
        errors.append(FactError(path, line, col, f"YAML syntax error: {problem}{hint}"))
        raise CaseInvalid(errors) from None
    except yaml.reader.ReaderError as exc:  # a character YAML forbids, typed or pasted in
        before = text[: exc.position] if isinstance(exc.position, int) else ""
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        code = exc.character if isinstance(exc.character, int) else 0
        errors.append(
            FactError(
                path,
                line,
                col,
                f"the character U+{code:04X} is not allowed in a fact file (a control character, often "
                "brought in by copy-paste); delete it",
            )
        )
        raise CaseInvalid(errors) from None
    except yaml.YAMLError as exc:
        errors.append(FactError(path, 1, 1, f"YAML could not be read: {exc}"))
        raise CaseInvalid(errors) from None
    except ValueError:  # an escape naming no character, such as "\\U00110000"
        where = getattr(parser, "get_mark", None)
        mark = where() if where else None
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        errors.append(
            FactError(path, line, col, "an escape in quoted text (\\u or \\U) names a character that does not exist")
        )
        raise CaseInvalid(errors) from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose:
            dispose()
    if errors:
        raise CaseInvalid(errors)
    if not root_set or doc.data is None:
        raise CaseInvalid([FactError.at_file(path, "file is empty; write the facts it should hold or delete it")])
    return doc


class _NoKey:
    __slots__ = ()


_NO_KEY = _NoKey()
_UNREAD = _NoKey()


def _read_plain(text: str, raw: bytes | None = None) -> Any:
    """The data of a file that holds only what fact files normally hold, else ``_UNREAD``
    (see :func:`_read_plain_py`). Read by ``briefgen._yamlfast`` where it was built
    (libyaml's events straight to Python data, about four times faster), else by
    :func:`_read_plain_py`; ``raw``, when given, is the text's UTF-8."""
    if _yamlfast is not None:
        return _read_plain_c(text.encode("utf-8") if raw is None else raw)
    return _read_plain_py(text)


def _read_plain_c(raw: bytes) -> Any:
    """:func:`_read_plain` of UTF-8 bytes by ``briefgen._yamlfast`` (which must be built)."""
    assert _yamlfast is not None
    return _yamlfast.read_plain(raw, _resolve_plain, _UNREAD, MAX_DEPTH)


def _read_plain_py(text: str) -> Any:
    """The data of a file that holds only what fact files normally hold (no tags, anchors,
    aliases, duplicate or non-text keys, odd characters, second documents...), read by
    libyaml without marks; ``_UNREAD`` for anything else, which the careful reader then
    reads and reports on. For such files both readers give the same data, so this only
    saves time (some 30 times less than PyYAML's pure-Python parser) and memory (no
    marks until an error needs locating)."""
    if _CFAST is None:
        return _UNREAD
    scalar_event, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    non_printable = _NON_PRINTABLE.search
    stack: list[tuple[Any, Any]] = []  # the enclosing (container, pending key) pairs
    container: Any = None  # the collection being filled; None at the top
    in_list = False
    key: Any = _NO_KEY  # in a mapping: the key waiting for its value
    root: Any = _UNREAD
    documents = 0
    parser: Any = None
    try:
        parser = _CFAST(text)
        get_event = parser.get_event
        while True:
            event = get_event()
            if event is None:
                break
            etype = type(event)
            if etype is scalar_event:
                if event.tag is not None or event.anchor is not None:
                    return _UNREAD
                value: Any = event.value
                style = event.style
                if not style:  # plain ('' from libyaml)
                    if not value or value[0] in "~nNtTfF0123456789+-.":
                        value = _resolve_plain(value)
                elif style == '"' and non_printable(value):  # libyaml refuses them typed; escapes can bring them in
                    return _UNREAD
                if in_list:
                    container.append(value)
                elif key is not _NO_KEY:
                    container[key] = value
                    key = _NO_KEY
                elif container is None:
                    root = value
                elif type(value) is not str or value == "<<" or value in container:
                    return _UNREAD
                else:
                    key = value
            elif etype is mapping_start or etype is sequence_start:
                if event.tag is not None or event.anchor is not None or len(stack) >= MAX_DEPTH:
                    return _UNREAD
                new: Any = {} if etype is mapping_start else []
                if in_list:
                    container.append(new)
                elif key is not _NO_KEY:
                    container[key] = new
                    key = _NO_KEY
                elif container is None:
                    root = new
                else:  # a collection as a key
                    return _UNREAD
                stack.append((container, key))
                container, key, in_list = new, _NO_KEY, etype is sequence_start
            elif etype in ends:
                container, key = stack.pop()
                in_list = type(container) is list
            elif etype is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    return _UNREAD
            elif etype is yaml.AliasEvent:
                return _UNREAD
            # Other events (stream start and end, document end) carry nothing.
    except Exception:  # any complaint at all: the careful reader will give it
        return _UNREAD
    finally:
        if parser is not None:
            parser.dispose()
    return _UNREAD if root is None else root


def _syntax_hint(problem: str) -> str:
    if "mapping values are not allowed" in problem:
        return " (a ':' inside text needs the whole text in quotes)"
    if "found character '\\t'" in problem or "tab" in problem:
        return " (use spaces, not tabs)"
    if "could not find expected ':'" in problem:
        return " (a key is missing its ':' or a line is indented wrongly)"
    if "found undefined alias" in problem:
        return " (the alias names no anchor)"
    return ""


def read_limited(path: str | Path, display: str | None = None) -> bytes:
    """The bytes of a fact file, refusing one over :data:`MAX_FILE_BYTES` without reading it all."""
    shown = display or str(path)
    try:
        with open(path, "rb") as fh:
            _check_size(os.fstat(fh.fileno()).st_size, shown)
            # Read one byte more than the limit: enough to notice a file that grew meanwhile.
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CaseInvalid([FactError.at_file(shown, f"cannot read file: {exc.strerror}")]) from None
    return raw


def parse_bytes(raw: bytes, display: str) -> Document:
    """Check the encoding of a file's bytes and parse them (see :func:`parse_text`)."""
    if (
        _yamlfast is not None
        and len(raw) <= MAX_FILE_BYTES
        and not raw.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))
        and b"\t" not in raw
    ):
        # The C reader takes the bytes as they are: libyaml refuses bytes that are not
        # UTF-8 (as strictly as Python's decoder: overlong forms, surrogates, values past
        # U+10FFFF), so a file it reads needs no decoding first (a tenth of reading a
        # large case). Anything it does not read goes the whole way below, which reports.
        data = _read_plain_c(raw)
        if data is not _UNREAD:
            return Document(display, data, source=raw)
        return parse_text(_decode(raw, display), display, raw, fast=False)
    text = _decode(raw, display)
    return parse_text(text, display, raw)  # (valid UTF-8 without BOM: its bytes are its text's)


def load_file(path: str | Path, display: str | None = None) -> Document:
    """Read and parse one YAML file; errors name ``display`` (default: the path)."""
    shown = display or str(path)
    return parse_bytes(read_limited(path, shown), shown)
