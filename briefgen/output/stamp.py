"""stamp: one laid-out PDF → per-recipient copies, each page stamped "Prepared for …, Copy N of M".

Laying a briefing out is the slow step (seconds); a distribution to a hundred people
must not repeat it. So the briefing is laid out once, and the stamps are laid out
once too: a single small WeasyPrint document with one page per recipient, holding
only that recipient's stamp lines in the page's top and bottom edges (transparent,
same page size). Each copy is then assembled from bytes:

* the briefing's objects are parsed once (pypdf), renumbered densely and serialised
  once; every page gets a ``q … Q`` wrapper and a call to a Form XObject named in its
  resources. Those page objects are the same in every copy, so they are packed with
  the rest into compressed object streams once per briefing;
* per copy only the stamp page (turned into that Form XObject), the fonts it uses,
  the document information and the cross-reference stream are written.

A copy is a complete, self-contained rewrite, not an incremental update: an update
could be stripped to recover an unstamped original. Measured on the 7-page minimal
case: pypdf's ``merge_page`` took about 270 ms a copy and ``PdfWriter(clone_from=…)``
plus ``write`` about 90 ms; this assembly takes a few milliseconds.

Output is reproducible: no clock is read, and each copy's /ID is a hash of its own
bytes and recipient.
"""

from __future__ import annotations

import hashlib
import html
import io
import struct
import unicodedata
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pypdf
from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    PdfObject,
    StreamObject,
    create_string_object,
)

from ..facts.models.common import MARKING_COLOURS
from ..paths import font_dirs
from . import pdf

NAME_FONT_FILE = "SourceSansPro-Semibold.ttf"
"""Names are set in their own weight, so a name no font can draw only affects that font
(the rest of the stamp stays readable and searchable)."""
STAMP_FONT_PT = 7.5
"""Stamp text size: small, but above the 7 pt floor for legibility."""
STAMP_SIDE_MM = 12.0
STAMP_EDGE_MM = 3.5
STAMP_LINE_MM = 3.8
# The stamp lines sit 3.5–7.3 mm from the top and bottom edges: inside the printable
# area of most printers, and clear of the briefing's own running heads, TLP boxes
# and page numbers, which begin 8 mm from the edge.
OBJECTS_PER_STREAM = 400
PT_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class Stamp:
    """What one copy says about itself, on every page and in its metadata."""

    recipient: str
    organisation: str
    copy: int
    copies: int
    edition: str
    """As shown, e.g. 'Edition 2'."""
    marking: str
    """TLP label name, e.g. 'AMBER'."""

    @property
    def prepared_for(self) -> str:
        return f"Prepared for {self.recipient} ({self.organisation})"

    @property
    def copy_line(self) -> str:
        return f"Copy {self.copy} of {self.copies}"

    def text(self) -> str:
        """The full stamp line, as plain text (what a text extractor should find)."""
        return f"{self.prepared_for} · {self.copy_line} · {self.edition} · TLP:{self.marking}"


# ---------------------------------------------------------------- the stamp document


def _em_width(text: str) -> float:
    """Rough width of ``text`` in ems: wide (CJK) characters 1 em, others generously 0.6."""
    return sum(1.0 if unicodedata.east_asian_width(c) in ("W", "F") else 0.6 for c in text)


def _fit(text: str, budget_em: float) -> str:
    """``text``, shortened with an ellipsis when it would not fit ``budget_em``.

    The full name is always in the copy's metadata and in the register; the stamp only
    has one line, and a wrapped line would run into the briefing's own TLP box."""
    if _em_width(text) <= budget_em:
        return text
    out = ""
    for c in text:
        if _em_width(out + c + "…") > budget_em:
            break
        out += c
    return out.rstrip() + "…"


def stamp_html(stamps: Sequence[Stamp], width_pt: float) -> str:
    """The HTML of the stamp document: page ``i`` is the stamp line of ``stamps[i]``.

    Each page is a strip one line high and as wide as the briefing; the copy draws it
    twice on every page, at the top and at the bottom edge. (Laying out one short line
    per recipient, with no positioning, is what keeps a hundred stamps cheap.)

    Names are data: every piece of text is HTML-escaped here (the document is built in
    Python, never through a template, so nothing in a name is ever interpreted)."""
    line_width_em = (width_pt - 2 * STAMP_SIDE_MM * PT_PER_MM) / STAMP_FONT_PT
    pages = []
    for s in stamps:
        fixed = f" · {s.copy_line} · {s.edition} · "
        marking = f"TLP:{s.marking}"
        who = _fit(
            f"{s.recipient} ({s.organisation})", line_width_em - _em_width("Prepared for " + fixed + marking) - 1
        )
        colour = MARKING_COLOURS.get(s.marking, "#FFFFFF")
        pages.append(
            f'<p>Prepared for <span class="who">{html.escape(who)}</span>{html.escape(fixed)}'
            f'<span class="tlp" style="color: {colour}">{html.escape(marking)}</span></p>'
        )
    line_pt = STAMP_LINE_MM * PT_PER_MM
    css = f"""
@page {{ size: {width_pt:.4f}pt {line_pt:.4f}pt; margin: 0; }}
html, body {{ margin: 0; padding: 0; background: transparent; }}
p {{
  margin: 0; padding: 0 {STAMP_SIDE_MM}mm; height: {line_pt - 0.5:.4f}pt; overflow: hidden; break-after: page;
  white-space: nowrap; text-align: center; color: #1a1a1a;
  font: 400 {STAMP_FONT_PT}pt/{line_pt - 0.5:.4f}pt "Source Sans Pro", Arial, sans-serif;
}}
p:last-child {{ break-after: auto; }}
.who {{ font-weight: 600; }}
.tlp {{ background: #000; font-weight: 700; padding: 0 0.8mm; }}
"""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>stamps</title>'
        f"<style>{css}</style></head><body>{''.join(pages)}</body></html>"
    )


def render_stamps(stamps: Sequence[Stamp], width_pt: float) -> bytes:
    """Lay out every stamp at once (one WeasyPrint run for all recipients)."""
    data, pages = pdf.render_pdf_counted(stamp_html(stamps, width_pt), tagged=False)
    if pages != len(stamps):  # a stamp that spilled onto a second page would shift every later one
        raise RuntimeError(f"stamp document has {pages} pages for {len(stamps)} stamps")
    return data


# ---------------------------------------------------------------- serialising


def _serialise(obj: PdfObject, refs: dict[tuple[int, int], int], out: io.BytesIO) -> None:
    """Write ``obj`` with every indirect reference renumbered through ``refs``."""
    if isinstance(obj, IndirectObject):
        num = refs.get((obj.idnum, obj.generation))
        out.write(f"{num} 0 R".encode() if num else b"null")
    elif isinstance(obj, StreamObject):
        raise TypeError("streams are written by _stream_object")
    elif isinstance(obj, DictionaryObject):
        out.write(b"<<")
        for key, value in dict.items(obj):  # dict.items: the raw values, references unresolved
            NameObject(key).write_to_stream(out)
            out.write(b" ")
            _serialise(value, refs, out)
        out.write(b">>")
    elif isinstance(obj, ArrayObject):
        out.write(b"[")
        for i, value in enumerate(list.__iter__(obj)):
            if i:
                out.write(b" ")
            _serialise(value, refs, out)
        out.write(b"]")
    elif obj is None:
        out.write(b"null")
    else:
        obj.write_to_stream(out)


def _body(obj: PdfObject, refs: dict[tuple[int, int], int]) -> bytes:
    out = io.BytesIO()
    _serialise(obj, refs, out)
    return out.getvalue()


def _stream_object(entries: DictionaryObject, data: bytes, refs: dict[tuple[int, int], int]) -> bytes:
    """A stream's dictionary (with a correct /Length) and its still-encoded data."""
    out = io.BytesIO()
    out.write(b"<<")
    for key, value in dict.items(entries):
        if key == "/Length":
            continue
        NameObject(key).write_to_stream(out)
        out.write(b" ")
        _serialise(value, refs, out)
    out.write(f"/Length {len(data)}>>\nstream\n".encode())
    out.write(data)
    out.write(b"\nendstream")
    return out.getvalue()


def _stream_data(stream: StreamObject) -> bytes:
    # The stored (still compressed) bytes: pypdf's public get_data() would decode them,
    # and re-encoding every font for every copy is exactly the work this module avoids.
    return bytes(stream._data)


def _reachable(start: Sequence[PdfObject]) -> list[tuple[int, int]]:
    """Every indirect object reachable from ``start``, in a stable (document) order."""
    seen: dict[tuple[int, int], None] = {}
    stack: list[PdfObject] = list(reversed(start))
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen[key] = None
            target = obj.get_object()
            if target is not None:
                stack.append(target)
        elif isinstance(obj, DictionaryObject):
            stack.extend(reversed([v for _, v in dict.items(obj)]))
        elif isinstance(obj, ArrayObject):
            stack.extend(reversed(list(list.__iter__(obj))))
    return list(seen)


def _key(page: PdfObject) -> tuple[int, int]:
    """A page's object number and generation (pages always are indirect objects)."""
    ref = page.indirect_reference
    assert ref is not None
    return (ref.idnum, ref.generation)


def _resolve(obj: Any) -> Any:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _inherited(page: DictionaryObject, key: str) -> Any:
    """A page attribute, looked up the page tree as the PDF spec allows (e.g. /Resources)."""
    node: Any = page
    for _ in range(64):  # a malformed tree could loop
        if not isinstance(node, DictionaryObject):
            return None
        if key in node:
            return _resolve(dict.__getitem__(node, key))
        node = _resolve(dict.get(node, "/Parent"))
    return None


def _indirect(num: int) -> bytes:
    return f"{num} 0 R".encode()


# ---------------------------------------------------------------- copies


@dataclass(frozen=True)
class StampedCopy:
    """One recipient's copy."""

    data: bytes
    missing_glyphs: bool
    """Some character of the stamp could not be drawn with any available font."""


@lru_cache(maxsize=1)
def _name_font_chars() -> frozenset[int]:
    """Code points the packaged font of the names (Source Sans Pro Semibold) can draw."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # a WeasyPrint dependency

    for folder in font_dirs():
        path = folder / NAME_FONT_FILE
        if path.is_file():
            return frozenset(TTFont(path, lazy=True)["cmap"].getBestCmap())
    return frozenset()


def needs_own_layout(stamp: Stamp) -> bool:
    """Whether the recipient's name or organisation has characters the packaged fonts lack."""
    chars = _name_font_chars()
    return any(ord(c) not in chars for c in stamp.recipient + stamp.organisation)


OWN_PDF_LIMIT = 1_000_000_000
"""Bound on arrays, dictionaries and page-tree entries when parsing a briefing briefgen has
just laid out itself (see :func:`_own_pdf`)."""


@contextmanager
def _own_pdf() -> Iterator[None]:
    """Parse a briefing briefgen itself has just written. pypdf 7 refuses arrays and
    dictionaries of more than 100,000 entries (a guard against hostile files); a case of
    thousands of items writes larger ones (pypdf refused to read the 3,717-page briefing
    of the 100x benchmark case), so for our own output those bounds are lifted. Older
    pypdf has none."""
    apply = getattr(pypdf, "apply_configuration", None)
    settings = getattr(pypdf, "Configuration", None)
    if apply is None or settings is None:
        yield
        return
    import dataclasses

    known = {f.name for f in dataclasses.fields(settings)}
    names = (
        "array_maximum_element_count",
        "dictionary_maximum_element_count",
        "page_tree_maximum_entries",
        "page_tree_maximum_page_entries",
    )
    with apply(**{name: OWN_PDF_LIMIT for name in names if name in known}):
        yield


class _StampLayout:
    """A laid-out stamp document, its objects numbered for insertion after the briefing's."""

    def __init__(self, data: bytes, first_free: int):
        self.reader = PdfReader(io.BytesIO(data))
        resources = [r for r in (dict.get(page, "/Resources") for page in self.reader.pages) if r is not None]
        # Fixed numbers for the objects of all stamp pages (fonts, mostly): each copy
        # carries only those its own page uses, and the rest of its xref marks them free.
        order = _reachable(resources)
        self.refs = {key: first_free + i for i, key in enumerate(order)}
        self.xref_num = first_free + len(order)
        self._cache: dict[tuple[int, int], bytes] = {}

    def serialised(self, key: tuple[int, int]) -> bytes:
        """The object ``key`` of the stamp document, renumbered (each serialised once)."""
        if key not in self._cache:
            obj = self.reader.get_object(IndirectObject(key[0], key[1], self.reader))
            if isinstance(obj, StreamObject):
                self._cache[key] = _stream_object(obj, _stream_data(obj), self.refs)
            else:
                self._cache[key] = _body(obj if obj is not None else NullObject(), self.refs)
        return self._cache[key]

    def missing_glyphs(self, page: Any) -> bool:
        # WeasyPrint gives a font an encoding of its own (instead of /Identity-H) exactly
        # when some character had no glyph in any font and was drawn as a blank box.
        fonts = _resolve(dict.get(_resolve(dict.get(page, "/Resources")) or {}, "/Font")) or {}
        return any(not isinstance(_resolve(f).get("/Encoding"), NameObject) for f in fonts.values())


@dataclass
class _Prepared:
    """Everything about the briefing that is the same in every copy."""

    prefix: bytes
    """Header and every shared object, already laid out; offsets into it are final."""
    xref: dict[int, tuple[int, int, int]]
    """Cross-reference entries of the shared objects: num → (type, field2, field3)."""
    first_free: int
    """The first object number available to per-copy objects."""
    form_num: int
    info_num: int
    root_num: int
    info: list[tuple[str, Any]]
    """The briefing's own document information entries, kept in every copy."""
    page_sizes: list[tuple[float, float, float, float]]
    """Each page's media box (x0, y0, x1, y1), for placing the stamp."""
    header_digest: bytes


class StampedDocument:
    """A laid-out briefing, ready to be copied for any number of recipients.

    The briefing is parsed and serialised once here; :meth:`copies` then costs a stamp
    document layout for all recipients together plus a few milliseconds per copy."""

    STAMP_NAME = "/BriefgenStamp"

    def __init__(self, data: bytes):
        self.data = data
        with _own_pdf():
            self.reader = PdfReader(io.BytesIO(data))
            self._prepared = self._prepare()  # (every object the copies use is parsed here)

    @property
    def page_count(self) -> int:
        return len(self.reader.pages)

    @property
    def page_width(self) -> float:
        """Width (points) of the first page: the width of the stamp strips."""
        x0, _, x1, _ = self._prepared.page_sizes[0]
        return x1 - x0

    def _prepare(self) -> _Prepared:
        reader = self.reader
        trailer = reader.trailer
        root_ref = dict.__getitem__(trailer, "/Root")
        order = _reachable([root_ref])
        refs = {key: i + 1 for i, key in enumerate(order)}
        n = len(order)
        # Numbers fixed for every copy, so pages can point at them from the shared part.
        form_num, q_num, info_num = n + 1, n + 2, n + 3
        sizes: list[tuple[float, float, float, float]] = []
        for page in reader.pages:
            box = page.mediabox
            sizes.append((float(box.left), float(box.bottom), float(box.right), float(box.top)))
        distinct = list(dict.fromkeys(sizes))
        do_nums = {size: n + 4 + i for i, size in enumerate(distinct)}
        next_num = n + 4 + len(distinct)
        ref_size = sizes[0]

        page_index = {_key(pg): i for i, pg in enumerate(reader.pages)}
        plain: list[tuple[int, bytes]] = []  # go into object streams
        streams: list[tuple[int, bytes]] = []  # written as they are
        for key in order:
            num = refs[key]
            obj = reader.get_object(IndirectObject(key[0], key[1], reader))
            if key in page_index and isinstance(obj, DictionaryObject):
                do_num = do_nums[sizes[page_index[key]]]
                plain.append((num, self._page_body(obj, refs, form_num, q_num, do_num)))
            elif isinstance(obj, StreamObject):
                streams.append((num, _stream_object(obj, _stream_data(obj), refs)))
            else:
                plain.append((num, _body(obj if obj is not None else NullObject(), refs)))

        # The small content streams every page calls: save state before the page's own
        # content (which may leave its transformation in place), then restore it and draw
        # the stamp, marked as an artifact so the tagged structure stays valid.
        q_data = b"q\n"
        streams.append((q_num, _stream_object(DictionaryObject(), q_data, {})))
        # Each page draws the one-line stamp strip twice: at its top and bottom edge,
        # centred across its width (pages of another size keep the stamp unscaled).
        edge, line = STAMP_EDGE_MM * PT_PER_MM, STAMP_LINE_MM * PT_PER_MM
        ref_width = ref_size[2] - ref_size[0]
        for size, num in do_nums.items():
            x0, y0, x1, y1 = size
            x = x0 + ((x1 - x0) - ref_width) / 2
            data = (
                f"Q\nq /Artifact BMC "
                f"q 1 0 0 1 {x:.4f} {y1 - edge - line:.4f} cm {self.STAMP_NAME} Do Q "
                f"q 1 0 0 1 {x:.4f} {y0 + edge:.4f} cm {self.STAMP_NAME} Do Q "
                f"EMC Q\n"
            ).encode()
            streams.append((num, _stream_object(DictionaryObject(), data, {})))

        out = io.BytesIO()
        version = self.reader.pdf_header if self.reader.pdf_header >= "%PDF-1.5" else "%PDF-1.5"
        out.write(version.encode("ascii") + b"\n%\xe2\xe3\xcf\xd3\n")  # object streams need 1.5
        xref: dict[int, tuple[int, int, int]] = {}
        for num, stream_bytes in streams:
            xref[num] = (1, out.tell(), 0)
            out.write(b"%d 0 obj\n" % num + stream_bytes + b"\nendobj\n")
        for start in range(0, len(plain), OBJECTS_PER_STREAM):
            chunk = plain[start : start + OBJECTS_PER_STREAM]
            stm_num = next_num
            next_num += 1
            head = io.BytesIO()
            body = io.BytesIO()
            for index, (num, obj_bytes) in enumerate(chunk):
                head.write(b"%d %d " % (num, body.tell()))
                body.write(obj_bytes + b"\n")
                xref[num] = (2, stm_num, index)
            first = len(head.getvalue())
            packed = zlib.compress(head.getvalue() + body.getvalue(), 6)
            xref[stm_num] = (1, out.tell(), 0)
            out.write(
                b"%d 0 obj\n<</Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d>>\nstream\n"
                % (stm_num, len(chunk), first, len(packed))
                + packed
                + b"\nendstream\nendobj\n"
            )
        prefix = out.getvalue()

        info: list[tuple[str, Any]] = []
        info_ref = dict.get(trailer, "/Info")
        if info_ref is not None:
            info_obj = _resolve(info_ref)
            if isinstance(info_obj, DictionaryObject):
                info = [(k, _resolve(v)) for k, v in dict.items(info_obj)]
        return _Prepared(
            prefix=prefix,
            xref=xref,
            first_free=next_num,
            form_num=form_num,
            info_num=info_num,
            root_num=refs[(root_ref.idnum, root_ref.generation)],
            info=info,
            page_sizes=sizes,
            header_digest=hashlib.sha256(prefix).digest(),
        )

    def _page_body(
        self, page: DictionaryObject, refs: dict[tuple[int, int], int], form_num: int, q_num: int, do_num: int
    ) -> bytes:
        """The page with the stamp added: contents wrapped, the stamp form named in its resources."""
        out = io.BytesIO()
        out.write(b"<<")
        contents = dict.get(page, "/Contents")
        resources = _inherited(page, "/Resources") or DictionaryObject()
        for key, value in dict.items(page):
            if key in ("/Contents", "/Resources"):
                continue
            NameObject(key).write_to_stream(out)
            out.write(b" ")
            _serialise(value, refs, out)
        # Contents: [q, the page's own streams..., Q + stamp].
        out.write(b"/Contents [" + _indirect(q_num))
        own = contents
        if isinstance(own, IndirectObject) and isinstance(own.get_object(), ArrayObject):
            own = own.get_object()
        for item in list.__iter__(own) if isinstance(own, ArrayObject) else ([own] if own is not None else []):
            out.write(b" ")
            _serialise(item, refs, out)
        out.write(b" " + _indirect(do_num) + b"]")
        # Resources: the page's own, inlined, with the stamp form added to /XObject.
        out.write(b"/Resources <<")
        for key, value in dict.items(resources):
            if key == "/XObject":
                continue
            NameObject(key).write_to_stream(out)
            out.write(b" ")
            _serialise(value, refs, out)
        xobjects = _resolve(dict.get(resources, "/XObject")) or DictionaryObject()
        out.write(b"/XObject <<")
        for key, value in dict.items(xobjects):
            if key == self.STAMP_NAME:  # cannot happen with WeasyPrint's names; never shadow one anyway
                continue
            NameObject(key).write_to_stream(out)
            out.write(b" ")
            _serialise(value, refs, out)
        out.write(self.STAMP_NAME.encode() + b" " + _indirect(form_num) + b">>>>>>")
        return out.getvalue()

    def copies(self, stamps: Sequence[Stamp]) -> Iterator[StampedCopy]:
        """The stamped copy for each of ``stamps``, in order.

        All recipients whose names the packaged fonts can draw share one stamp layout.
        A name with other characters gets a layout of its own (a one-page document, a
        few tens of milliseconds): if no font can draw it, WeasyPrint re-encodes the
        font it falls back from, and that must not touch anyone else's copy. Copies are
        produced one at a time, so a caller can write each as it comes."""
        width = self.page_width
        shared = [s for s in stamps if not needs_own_layout(s)]
        layout = _StampLayout(render_stamps(shared, width), self._prepared.first_free) if shared else None
        index = 0
        for stamp in stamps:
            if needs_own_layout(stamp):
                own = _StampLayout(render_stamps([stamp], width), self._prepared.first_free)
                yield self._copy(stamp, own, 0)
            else:
                assert layout is not None
                yield self._copy(stamp, layout, index)
                index += 1

    def _copy(self, stamp: Stamp, layout: _StampLayout, page_index: int) -> StampedCopy:
        """Assemble one copy: the shared prefix, then this recipient's objects and the xref."""
        page = layout.reader.pages[page_index]
        resources = dict.get(page, "/Resources")
        refs = layout.refs
        p = self._prepared
        out = io.BytesIO()
        out.write(p.prefix)
        xref = dict(p.xref)

        def put(num: int, body: bytes) -> None:
            xref[num] = (1, out.tell(), 0)
            out.write(b"%d 0 obj\n" % num + body + b"\nendobj\n")

        # The stamp page becomes a Form XObject: its content stream, still compressed.
        contents = _resolve(dict.get(page, "/Contents"))
        if isinstance(contents, ArrayObject):
            data = b"\n".join(_resolve(c).get_data() for c in list.__iter__(contents))
            entries = DictionaryObject({NameObject("/Filter"): NameObject("/FlateDecode")})
            data = zlib.compress(data, 6)
        elif isinstance(contents, StreamObject):
            data = _stream_data(contents)
            entries = DictionaryObject({k: v for k, v in dict.items(contents) if k in ("/Filter", "/DecodeParms")})
        else:
            data, entries = b"", DictionaryObject()
        box = page.mediabox
        form = DictionaryObject(entries)
        form[NameObject("/Type")] = NameObject("/XObject")
        form[NameObject("/Subtype")] = NameObject("/Form")
        form[NameObject("/BBox")] = ArrayObject(FloatObject(v) for v in (box.left, box.bottom, box.right, box.top))
        if resources is not None:
            form[NameObject("/Resources")] = resources
        put(p.form_num, _stream_object(form, data, refs))
        for key in _reachable([resources] if resources is not None else []):
            put(refs[key], layout.serialised(key))

        # Document information: the briefing's own, plus who this copy is for.
        info = DictionaryObject()
        for info_key, value in p.info:
            info[NameObject(info_key)] = value
        info[NameObject("/Subject")] = create_string_object(
            f"{stamp.copy_line}, prepared for {stamp.recipient} ({stamp.organisation}); {stamp.edition}; TLP:{stamp.marking}"
        )
        keywords = str(dict(p.info).get("/Keywords", "") or "")
        extra = f"copy {stamp.copy} of {stamp.copies}, {stamp.recipient}, {stamp.organisation}"
        info[NameObject("/Keywords")] = create_string_object(f"{keywords}, {extra}" if keywords else extra)
        put(p.info_num, _body(info, {}))

        # Identifier: from this copy's own bytes and recipient, never from a clock.
        h = hashlib.sha256(p.header_digest)
        h.update(out.getvalue()[len(p.prefix) :])
        h.update("\0".join((stamp.recipient, stamp.organisation, str(stamp.copy), str(stamp.copies))).encode())
        ident = h.hexdigest()[:32].encode()

        # Cross-reference stream (the shared objects live in object streams).
        xref_num = layout.xref_num
        size = xref_num + 1
        xref[xref_num] = (1, out.tell(), 0)
        rows = [struct.pack(">BIH", 0, 0, 0xFFFF)]
        for num in range(1, size):
            kind, a, b = xref.get(num, (0, 0, 0))
            rows.append(struct.pack(">BIH", kind, a, b))
        packed = zlib.compress(b"".join(rows), 6)
        out.write(
            b"%d 0 obj\n<</Type /XRef /Size %d /W [1 4 2] /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] "
            b"/Filter /FlateDecode /Length %d>>\nstream\n"
            % (xref_num, size, p.root_num, p.info_num, ident, ident, len(packed))
            + packed
            + b"\nendstream\nendobj\n"
        )
        out.write(b"startxref\n%d\n%%%%EOF\n" % xref[xref_num][1])
        return StampedCopy(out.getvalue(), layout.missing_glyphs(page))


def stamp_copies(data: bytes, stamps: Sequence[Stamp]) -> list[bytes]:
    """Convenience: the bytes of every stamped copy of the briefing ``data``, at once."""
    return [copy.data for copy in StampedDocument(data).copies(stamps)]
