"""The packaged fonts cover every character of the default case, so every glyph renders
the same on every machine (no fallback to whatever the system has)."""

from __future__ import annotations

from conftest import DEFAULT_CASE
from fontTools.ttLib import TTFont

from briefgen.output.pdf import FONT_FILES, font_face_css
from briefgen.paths import font_dirs


def test_every_character_of_the_default_case_is_in_the_packaged_fonts() -> None:
    files = {p.name: p for d in font_dirs() for p in d.glob("*.ttf")}
    for name in set(FONT_FILES.values()):
        assert name in files, f"font package lacks {name}"
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(DEFAULT_CASE.glob("*.yaml")))
    chars = {c for c in text if ord(c) > 32}
    for name in ("SourceSansPro-Regular.ttf", "SourceSansPro-Bold.ttf", "SourceSerifPro-Semibold.ttf"):
        cmap = TTFont(files[name]).getBestCmap()
        missing = sorted(c for c in chars if ord(c) not in cmap)
        assert not missing, f"{name} lacks {missing}"


def test_font_faces_point_only_at_the_font_packages() -> None:
    css = font_face_css()
    assert css.count("@font-face") == len(FONT_FILES)
    for d in font_dirs():
        css = css.replace(d.as_uri(), "")
    assert "file:" not in css
