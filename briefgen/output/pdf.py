"""pdf: HTML → PDF bytes through WeasyPrint, with a locked-down URL fetcher.

The fetcher serves only briefgen's own assets (the built-in and user template
folders, the font packages) from local files and images embedded in the page itself
(``data:image/...`` URIs, such as a profile's logo), follows no redirects and refuses
every other URL, so fact text can never make the renderer read a local file or touch
the network. Fonts are configured once per process. Output is
reproducible: dates come from the case, the PDF identifier from the content.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import gc
import hashlib
import logging
import mimetypes
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from ..paths import builtin_templates_dir, font_dirs
from .pdftags import finisher

FONT_FILES = {
    ("Source Sans Pro", 400, "normal"): "SourceSansPro-Regular.ttf",
    ("Source Sans Pro", 400, "italic"): "SourceSansPro-It.ttf",
    ("Source Sans Pro", 600, "normal"): "SourceSansPro-Semibold.ttf",
    ("Source Sans Pro", 600, "italic"): "SourceSansPro-SemiboldIt.ttf",
    ("Source Sans Pro", 700, "normal"): "SourceSansPro-Bold.ttf",
    ("Source Sans Pro", 700, "italic"): "SourceSansPro-BoldIt.ttf",
    ("Source Serif Pro", 400, "normal"): "SourceSerifPro-Regular.ttf",
    ("Source Serif Pro", 400, "italic"): "SourceSerifPro-It.ttf",
    ("Source Serif Pro", 600, "normal"): "SourceSerifPro-Semibold.ttf",
    ("Source Serif Pro", 700, "normal"): "SourceSerifPro-Bold.ttf",
    ("Source Serif Pro", 700, "italic"): "SourceSerifPro-BoldIt.ttf",
}

refused_urls: list[str] = []
"""URLs the fetcher refused during this process (for tests and --verbose)."""


_DATA_IMAGE = re.compile(r"^data:(image/(?:png|jpeg|gif|svg\+xml))(;base64)?,", re.I)


class RestrictedFetcher(URLFetcher):  # type: ignore[misc]
    """Serves local files under the allowed folders and images embedded in the page as
    ``data:`` URIs; refuses all else."""

    def __init__(self, allowed_dirs: Sequence[Path]):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False, timeout=1)
        self.allowed_dirs = tuple(p.resolve() for p in allowed_dirs)

    def _allowed(self, path: Path) -> bool:
        return any(path.is_relative_to(d) for d in self.allowed_dirs)

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        embedded = _DATA_IMAGE.match(url)
        if embedded:  # decoded here: nothing is read or fetched
            payload = url[embedded.end() :]
            try:
                data = base64.b64decode(payload, validate=True) if embedded[2] else unquote_to_bytes(payload)
            except binascii.Error:
                refused_urls.append(url[:80])
                raise ValueError("briefgen refuses an embedded image that is not valid base64") from None
            return URLFetcherResponse(url, data, {"Content-Type": embedded[1].lower()})
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            refused_urls.append(url)
            raise ValueError(f"briefgen refuses to fetch {url!r}: only its own assets are read")
        path = Path(unquote(parts.path)).resolve()
        if not self._allowed(path) or not path.is_file():
            refused_urls.append(url)
            raise ValueError(f"briefgen refuses to read {path}: not one of its own assets")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})


@lru_cache(maxsize=1)
def font_config() -> FontConfiguration:
    """One font configuration per process (fontconfig set-up is slow)."""
    return FontConfiguration()


@lru_cache(maxsize=1)
def font_face_css() -> str:
    """@font-face rules for the packaged fonts (file URLs, read by the fetcher)."""
    rules = []
    found = {p.name: p for d in font_dirs() for p in d.glob("*.ttf")}
    for (family, weight, style), name in FONT_FILES.items():
        if name in found:
            rules.append(
                f'@font-face {{ font-family: "{family}"; font-weight: {weight}; '
                f'font-style: {style}; src: url("{found[name].as_uri()}"); }}'
            )
    return "\n".join(rules)


@lru_cache(maxsize=1)
def _font_stylesheet() -> CSS:
    return CSS(string=font_face_css(), font_config=font_config(), url_fetcher=_base_fetcher())


@lru_cache(maxsize=1)
def _base_fetcher() -> RestrictedFetcher:
    return RestrictedFetcher([builtin_templates_dir(), *font_dirs()])


class _Quiet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Refusals are by design; keep them out of the user's terminal.
        return "briefgen refuses" not in record.getMessage()


logging.getLogger("weasyprint").addFilter(_Quiet())
logging.getLogger("weasyprint").setLevel(logging.ERROR)


LAYOUT_GC_THRESHOLD = 50_000
"""Allocations between two young-generation passes of Python's cycle collector while
WeasyPrint lays out a page (Python's default is 700). Layout allocates boxes by the
million and frees most of them by reference count; at the default the collector ran
every 700 of them and took about a seventh of the analyst briefing's layout (8.1 s ->
6.9 s of CPU in a fresh process, peak memory unchanged). The bench's floor, WeasyPrint
alone, runs with Python's default."""

_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def _layout_collector() -> Iterator[None]:
    """Run the cycle collector less often during a layout; the process's own threshold
    comes back after it (after the last one, when threads lay out pages at once)."""
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            if 0 < _gc_saved[0] < LAYOUT_GC_THRESHOLD:  # (0: the process turned collection off)
                gc.set_threshold(LAYOUT_GC_THRESHOLD, *_gc_saved[1:])
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)
                _gc_saved = None


_USER_EPOCH = os.environ.get("SOURCE_DATE_EPOCH")
_MODIFIED = re.compile(r'<meta name="dcterms.modified" content="(\d{4}-\d{2}-\d{2})')


def _date_fonts(html: str) -> None:
    """Date the fonts embedded in the PDF by the document, not by the clock.

    Where HarfBuzz's subsetter (Debian: libharfbuzz-subset0) is missing, WeasyPrint subsets
    fonts with fontTools, which writes the current time into each font unless
    ``SOURCE_DATE_EPOCH`` is set: set it to the document's own date (its
    ``dcterms.modified``), unless the user set it."""
    if _USER_EPOCH is not None:
        return
    m = _MODIFIED.search(html)
    day = dt.date.fromisoformat(m.group(1)) if m else dt.date(1970, 1, 1)
    os.environ["SOURCE_DATE_EPOCH"] = str(int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()))


def render_pdf(
    html: str,
    *,
    user_dirs: Sequence[Path] = (),
    tagged: bool = True,
) -> bytes:
    """Lay out ``html`` and return the PDF bytes.

    The PDF identifier is a hash of the HTML, and the document dates come from the
    HTML's ``dcterms`` metadata, so the same input gives the same bytes.
    """
    return render_pdf_counted(html, user_dirs=user_dirs, tagged=tagged)[0]


def render_pdf_counted(
    html: str,
    *,
    user_dirs: Sequence[Path] = (),
    tagged: bool = True,
    anchors: dict[str, float] | None = None,
) -> tuple[bytes, int]:
    """:func:`render_pdf`, also returning the number of pages. ``anchors``, when given, is
    filled with where each ``id`` of the page landed: its page number from 0, plus the
    fraction of that page above it (so that sections can be measured in pages)."""
    fetcher = _base_fetcher()
    if user_dirs:
        fetcher = RestrictedFetcher([*fetcher.allowed_dirs, *user_dirs])
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode()
    _date_fonts(html)
    with _layout_collector():
        document = HTML(string=html, base_url=builtin_templates_dir().as_uri() + "/", url_fetcher=fetcher)
        rendered = document.render(stylesheets=[_font_stylesheet()], font_config=font_config(), pdf_tags=tagged)
        data = rendered.write_pdf(
            pdf_identifier=identifier,
            pdf_tags=tagged,
            # PDF/UA-1: XMP metadata naming the standard (pdfuaid:part), the title and dates.
            pdf_variant="pdf/ua-1" if tagged else None,
            attachments=[],
            finisher=finisher(html) if tagged else None,
        )
    if anchors is not None:
        for number, page in enumerate(rendered.pages):
            for name, box in page.anchors.items():  # (x, y) documented; (x1, y1, x2, y2) in WeasyPrint 70
                anchors.setdefault(name, number + box[1] / page.height)
    return data, len(rendered.pages)
