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

It reads libyaml's events (PyYAML's C parser; PyYAML's own parser where PyYAML was
built without libyaml) and builds the data itself, so that every value keeps its
place. The result is a :class:`Document`: the data plus a map from each value's path
(a tuple of keys and list indexes) to its ``(line, col)`` and the key's own mark. The
map is made only when a problem needs it, by reading the text a second time: a file
without problems is read once (about a fifth faster).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import CaseInvalid, FactError

MAX_FILE_BYTES = 8 * 1024 * 1024
"""Largest fact file accepted (8 MiB). Split bigger kinds into ``events-*.yaml`` files."""
MAX_DEPTH = 40
"""Deepest nesting of mappings and lists accepted."""
MAX_ALIASES = 200
"""Most aliases (``*name``) accepted in one file."""
MAX_ALIAS_EXPANSION = 100_000
"""Most values that aliases may stand for in one file, counted as if expanded."""

Path_ = tuple[str | int, ...]
_Places = tuple[dict[Path_, tuple[int, int]], dict[Path_, tuple[int, int]]]
"""Where each value and each mapping key of a file is written, by path."""

# libyaml's parser (PyYAML's own where PyYAML was built without libyaml); only its
# events are used, never its constructor.
_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Characters YAML forbids in a stream; escapes in double-quoted text can still produce
# them, and they break later stages (UTF-8 encoding of the HTML, the PDF's text).
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
_STR_TAGS = {None, "!", "tag:yaml.org,2002:str"}
_ALLOWED_TAGS = {
    *_STR_TAGS,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


class Document:
    """A parsed YAML file: its data and where each part of it was written.

    The marks are found when first asked for (by reading the text again, keeping
    places): a file without problems is read once, without them.
    """

    __slots__ = ("path", "data", "_text", "_places")

    def __init__(self, path: str, data: Any, text: str = "", places: _Places | None = None) -> None:
        self.path = path
        self.data = data
        self._text = text
        self._places = places

    @property
    def marks(self) -> dict[Path_, tuple[int, int]]:
        """``(line, col)`` of each value, by its path (a tuple of keys and list indexes)."""
        return self._find_places()[0]

    @property
    def key_marks(self) -> dict[Path_, tuple[int, int]]:
        """``(line, col)`` of each mapping key, by the path of its value."""
        return self._find_places()[1]

    def _find_places(self) -> _Places:
        if self._places is None:
            self._places = _Reader(self._text, self.path, marks=True).read()._places
        assert self._places is not None
        return self._places

    def locate(self, loc: Path_, *, key: bool = False) -> tuple[int, int]:
        """Best ``(line, col)`` for a path: the key itself if asked, else the value;
        falls back to the nearest ancestor that has a mark."""
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


_RESOLVED_FIRST = frozenset("~nNtTfF0123456789+-.")
"""First characters of the plain scalars that may resolve to something other than text."""


def _resolve_plain(value: str) -> Any:
    """YAML 1.2 core schema resolution of an unquoted scalar."""
    if not value:
        return None
    first = value[0]
    if first not in _RESOLVED_FIRST:
        return value
    if first in "~nN":
        return None if _NULL.match(value) else value
    if first in "tT":
        return True if _BOOL_TRUE.match(value) else value
    if first in "fF":
        return False if _BOOL_FALSE.match(value) else value
    if "-" in value[1:] and "e" not in value and "E" not in value:
        return value  # a date, a range or a phrase: a '-' past the sign is only ever in an exponent
    integer = _INT.match(value) or _INT_OCT.match(value) or _INT_HEX.match(value)
    if integer and len(value) > _MAX_INT_DIGITS:
        raise ValueError(f"a number of {len(value):,} digits is too long; put it in quotes if it is text")
    if _INT.match(value):
        return int(value)
    if integer:
        return int(value[2:], 8 if value[1] == "o" else 16)
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return float("-inf") if value.startswith("-") else float("inf")
    if _NAN.match(value):
        return float("nan")
    return value


def _scalar(event: Any) -> Any:
    """The value of an allowed scalar: plain text resolved by the YAML 1.2 core schema,
    quoted or ``!!str`` text kept as written."""
    tag = event.tag
    if tag in _STR_TAGS:
        plain = not event.style and event.implicit[0] and tag is None
        return _resolve_plain(event.value) if plain else event.value
    return _resolve_plain(event.value)


def _mark(event: Any) -> tuple[int, int]:
    m = event.start_mark
    return (m.line + 1, m.column + 1)


def _count(value: Any) -> int:
    """Values that an alias stands for (itself and everything inside it)."""
    stack = [value]
    n = 0
    while stack and n <= MAX_ALIAS_EXPANSION:
        v = stack.pop()
        n += 1
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return n


def _one(path: str, line: int, col: int, message: str) -> CaseInvalid:
    return CaseInvalid([FactError(path, line, col, message)])


def _check_size(size: int, path: str) -> None:
    if size > MAX_FILE_BYTES:
        raise _one(
            path,
            1,
            1,
            f"file is {size:,} bytes, more than the {MAX_FILE_BYTES:,}-byte limit; "
            "split it into several files of the same kind (for example events-2024-01.yaml)",
        )


def _decode(raw: bytes, path: str) -> str:
    _check_size(len(raw), path)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise _one(path, 1, 1, "file starts with a byte-order mark; save it as UTF-8 without BOM")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _one(path, 1, 1, "file is UTF-16; save it as UTF-8 (without BOM)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        raise _one(
            path,
            line,
            col,
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; "
            "save the file as UTF-8 (copy-paste from some programs brings in other encodings)",
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


class _NoKey:
    __slots__ = ()


_NO_KEY = _NoKey()


@dataclass(slots=True)
class _Frame:
    """A mapping or list being filled, and in a mapping the key waiting for its value."""

    container: dict[str, Any] | list[Any]
    path: Path_
    key: Any = _NO_KEY
    key_mark: tuple[int, int] = (0, 0)


class _Reader:
    """Builds a :class:`Document` from the parser's events, collecting every problem."""

    def __init__(self, text: str, path: str, *, marks: bool = False) -> None:
        self.text = text
        self.path = path
        self.errors: list[FactError] = []
        self.with_marks = marks
        self.doc = Document(path, None, text, ({}, {}) if marks else None)
        self.anchors: dict[str, Any] = {}
        self.aliases = 0
        self.expansion = 0
        self.stack: list[_Frame] = []
        self.documents = 0

    def problem(self, event: Any, message: str) -> None:
        self.errors.append(FactError(self.path, *_mark(event), message))

    def attach(self, value: Any, start: tuple[int, int], anchor: str | None) -> Path_ | None:
        """Put ``value`` in its place; the path it got (None for a mapping key)."""
        if anchor:
            self.anchors[anchor] = value
        doc = self.doc
        if not self.stack:
            doc.data = value
            if self.with_marks:
                doc.marks[()] = start
            return ()
        frame = self.stack[-1]
        container = frame.container
        if container.__class__ is list:
            if not self.with_marks:
                container.append(value)
                return ()
            p = (*frame.path, len(container))
            container.append(value)
            doc.marks[p] = start
            return p
        key = frame.key
        if key is _NO_KEY:  # this value is a key
            self.key(frame, value, start)
            return None
        frame.key = _NO_KEY
        if not self.with_marks:
            if key not in container:
                container[key] = value
            return ()
        p = (*frame.path, key)
        if key not in container:
            container[key] = value
            doc.key_marks[p] = frame.key_mark
            doc.marks[p] = start
        return p

    def key(self, frame: _Frame, value: Any, start: tuple[int, int]) -> None:
        if not isinstance(value, str):
            shown = "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else repr(value)
            self.errors.append(
                FactError(
                    self.path,
                    *start,
                    f"key {shown} is not text; field names must be plain words (quote it if it is meant as text)",
                )
            )
            value = str(value)
        if value == "<<":
            self.errors.append(
                FactError(self.path, *start, "merge keys ('<<') are not supported; write the fields out")
            )
        if value in frame.container:
            if not self.with_marks:  # reported by the second reading, which keeps places
                self.errors.append(FactError(self.path, *start, "duplicate key"))
                frame.key, frame.key_mark = value, start
                return
            first = self.doc.key_marks[(*frame.path, value)]
            self.errors.append(
                FactError(
                    self.path,
                    *start,
                    f"duplicate key '{value}' (first given at line {first[0]}); "
                    "each key may appear once: merge the two or rename one",
                )
            )
        frame.key, frame.key_mark = value, start

    def scalar(self, event: Any) -> None:
        value: Any = event.value
        tag = event.tag
        if tag is None and not event.style:  # plain text: the common case, resolved here
            if not value or value[0] in _RESOLVED_FIRST:
                try:
                    value = _resolve_plain(value)
                except ValueError as exc:  # a number too long to be one
                    self.problem(event, str(exc))
        elif tag not in _ALLOWED_TAGS:
            self.problem(event, f"tag '{tag}' is not allowed; fact files hold plain text, numbers, lists and mappings")
        else:
            try:
                value = _scalar(event)
            except ValueError as exc:
                self.problem(event, str(exc))
        # Only an escape in double quotes ("\0") can bring in what the YAML reader refuses.
        if event.style == '"' and isinstance(value, str):
            bad = _NON_PRINTABLE.search(value)
            if bad:
                self.problem(
                    event,
                    f"the text holds the character U+{ord(bad.group()):04X}, which fact files may not contain "
                    "(a control character or half of a broken character); delete it",
                )
        if self.with_marks:
            m = event.start_mark
            self.attach(value, (m.line + 1, m.column + 1), event.anchor)
        else:  # a problem makes the file be read again with places (see read)
            self.attach(value, (0, 0), event.anchor)

    def start(self, event: Any) -> None:
        if event.tag not in _ALLOWED_TAGS:
            self.problem(
                event, f"tag '{event.tag}' is not allowed; fact files hold plain text, numbers, lists and mappings"
            )
        if len(self.stack) >= MAX_DEPTH:
            raise _one(
                self.path, *_mark(event), f"nesting is deeper than {MAX_DEPTH} levels; fact files never need this much"
            )
        container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
        p = self.attach(container, _mark(event) if self.with_marks else (0, 0), event.anchor)
        if p is None:  # a collection used as a key: already reported
            p = (*self.stack[-1].path, "?")
        self.stack.append(_Frame(container, p))

    def alias(self, event: Any) -> None:
        self.aliases += 1
        start = _mark(event)
        if self.aliases > MAX_ALIASES:
            raise _one(self.path, *start, f"more than {MAX_ALIASES} aliases in one file; write the values out")
        if event.anchor not in self.anchors:
            self.problem(event, f"alias '*{event.anchor}' names no anchor")
            self.attach(None, start, None)
            return
        value = self.anchors[event.anchor]
        if any(frame.container is value for frame in self.stack):
            # '&a [*a]': the alias would make the data contain itself.
            self.problem(event, f"alias '*{event.anchor}' stands for a value it is part of")
            self.attach(None, start, None)
            return
        self.expansion += _count(value)
        if self.expansion > MAX_ALIAS_EXPANSION:
            raise _one(
                self.path,
                *start,
                f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} values (an 'alias bomb'); write the values out",
            )
        self.attach(value, start, None)

    def read(self) -> Document:
        parser: Any = None
        try:
            parser = _Parser(self.text)
            get_event, stack, scalar, start = parser.get_event, self.stack, self.scalar, self.start
            ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
            starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
            while (event := get_event()) is not None:
                kind = type(event)
                if kind is yaml.ScalarEvent:
                    scalar(event)
                elif kind in starts:
                    start(event)
                elif kind in ends:
                    stack.pop()
                elif kind is yaml.AliasEvent:
                    self.alias(event)
                elif kind is yaml.DocumentStartEvent:
                    self.documents += 1
                    if self.documents > 1:
                        self.problem(
                            event, "a second YAML document ('---') in one file; put each kind of fact in its own file"
                        )
                        break
        except yaml.MarkedYAMLError as exc:
            self.errors.append(syntax_error(exc, self.text, self.path))
        except yaml.reader.ReaderError as exc:  # a character YAML forbids, typed or pasted in
            before = self.text[: exc.position] if isinstance(exc.position, int) else ""
            code = exc.character if isinstance(exc.character, int) else 0
            self.errors.append(
                FactError(
                    self.path,
                    before.count("\n") + 1,
                    len(before) - (before.rfind("\n") + 1) + 1,
                    f"the character U+{code:04X} is not allowed in a fact file (a control character, often "
                    "brought in by copy-paste); delete it",
                )
            )
        except yaml.YAMLError as exc:
            self.errors.append(FactError(self.path, 1, 1, f"YAML could not be read: {exc}"))
        except ValueError:  # an escape naming no character, such as "\\U00110000"
            mark = parser.get_mark() if parser is not None and hasattr(parser, "get_mark") else None
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            self.errors.append(
                FactError(
                    self.path, line, col, "an escape in quoted text (\\u or \\U) names a character that does not exist"
                )
            )
        finally:
            if parser is not None and hasattr(parser, "dispose"):
                parser.dispose()
        if self.errors:
            if not self.with_marks:  # read again, keeping places, to say where each problem is
                return _Reader(self.text, self.path, marks=True).read()
            raise CaseInvalid(self.errors)
        if self.doc.data is None:
            raise CaseInvalid(
                [FactError.at_file(self.path, "file is empty; write the facts it should hold or delete it")]
            )
        return self.doc


def syntax_error(exc: yaml.MarkedYAMLError, text: str, path: str) -> FactError:
    """A YAML syntax error in plain words, at the place it was noticed."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    since = exc.context_mark.line + 1 if exc.context_mark else line
    problem = exc.problem or ""
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if "mapping values are not allowed" in problem:
        message = (
            "this line is indented more than the one before, or a value holds ': ' "
            "(indent keys of one mapping alike; put such a value in quotes)"
        )
    elif "did not find expected key" in problem:
        message = (
            f"this line is indented differently from the keys of the mapping that starts at line {since}; "
            "keys of one mapping must start in the same column"
        )
    elif "expected '-' indicator" in problem:
        message = (
            f"this line is indented like an item of the list that starts at line {since}, but does not start "
            "with '- '; indent it to match the key it belongs to, or start it with '- '"
        )
    elif "could not find expected ':'" in problem:
        message = f"the key on line {since} is missing its ':' (or a quoted text on it is not closed)"
    elif "cannot start any token" in problem:
        char = here[col - 1 : col] if col <= len(here) else ""
        message = (
            "a tab is used for indentation; YAML allows only spaces there"
            if char == "\t"
            else f"a value cannot start with {char!r}; put the whole value in quotes"
        )
    elif "end of stream" in problem and exc.context and "quoted" in exc.context:
        message = f"the quoted text that starts on line {since} is never closed; add the closing quote"
    elif "unknown escape character" in problem:
        message = "this backslash escape is not valid in double quotes; use single quotes, or write a backslash as \\\\"
    elif "',' or ']'" in problem:
        message = f"the list '[' opened on line {since} is not closed with ']'"
    elif "',' or '}'" in problem:
        message = f"the mapping '{{' opened on line {since} is not closed with '}}'"
    elif "block sequence entries are not allowed" in problem:
        message = "a list item ('- ') cannot follow its key on the same line; start the list on the next line, indented"
    elif "undefined alias" in problem:
        message = "the alias names no anchor"
    elif "expected node content" in problem:
        message = "a value is missing here"
    else:
        message = f"YAML cannot read this line: {problem or exc}"
    return FactError(path, line, col, f"YAML syntax error: {message}")


def parse_text(text: str, path: str) -> Document:
    """Parse YAML text (already decoded) into a :class:`Document`, or raise CaseInvalid."""
    if "\t" in text:
        tab_errors = _check_tabs(text, path)
        if tab_errors:
            raise CaseInvalid(tab_errors)
    return _Reader(text, path).read()


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
    return parse_text(_decode(raw, display), display)


def load_file(path: str | Path, display: str | None = None) -> Document:
    """Read and parse one YAML file; errors name ``display`` (default: the path)."""
    shown = display or str(path)
    return parse_bytes(read_limited(path, shown), shown)
