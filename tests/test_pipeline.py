"""The pipeline's promises about its outputs: a page that fails the self-check is never
written, outputs go in place only when every one succeeded, layouts run the collector
less often and give it back, and the print CSS keeps long party columns cheap to lay out."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEFAULT_CASE, MINIMAL
from hypothesis import given, settings
from hypothesis import strategies as st

from briefgen.errors import CaseInvalid
from briefgen.facts.loader import load_case

# ASCII (where the shortcut applies), whitespace, and the characters normalising changes.
TEXT_CHARS = "ab `'\"-\t\n\x1c\u2019\u201c\u2014\u00a0\u200be\u0301\u00e9"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=TEXT_CHARS), st.data())
def test_quote_matching_shortcut_agrees_with_normalised_comparison(text: str, data: st.DataObject) -> None:
    from briefgen.facts.textmatch import contains, normalise

    if data.draw(st.booleans()):
        start = data.draw(st.integers(0, len(text)))
        part = text[start : data.draw(st.integers(start, len(text)))]
    else:
        part = data.draw(st.text(alphabet=TEXT_CHARS, max_size=6))
    assert contains(text, part) == (normalise(part) in normalise(text))


def test_long_rationale_lists_run_full_width_in_print() -> None:
    """Side-by-side party columns are a grid, which WeasyPrint re-sizes on every page a
    cell spans (pages² time): long lists get a class that the print CSS lays out as blocks."""
    from briefgen.briefing.audiences import load_audiences
    from briefgen.briefing.render import render_html
    from briefgen.briefing.view import build_view

    aud = load_audiences()["dossier"]
    case = load_case(DEFAULT_CASE)
    assert 'columns-long"' not in render_html(build_view(case, aud))  # (the class; the CSS names it too)
    extra = [r.model_copy(update={"id": f"{r.id}-copy{k}"}) for k in range(3) for r in case.rationales]
    case.rationales.extend(extra)
    html = render_html(build_view(case, aud))
    assert 'class="columns parties-2 columns-long"' in html
    css = html[html.index("<style") : html.index("</style>")]
    assert ".columns-long { display: block; }" in css


@pytest.mark.parametrize("formats", [("html",), ("html", "pdf")], ids=["html", "both"])
def test_a_page_that_fails_the_self_check_is_not_written(tmp_path: Path, formats: tuple[str, ...]) -> None:
    from briefgen.output.build import BuildOptions, build

    out = tmp_path / "out"
    build([MINIMAL], BuildOptions(out=out, formats=("html",), audiences=("executive",)))
    page = next(out.rglob("executive.html"))
    before = page.read_bytes()
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "briefing.html.j2").write_text(
        '{% extends "builtin/briefing.html.j2" %}{% block body %}{{ super() }}<script>x()</script>{% endblock %}',
        encoding="utf-8",
    )
    options = BuildOptions(out=out, formats=formats, audiences=("executive",), templates=(templates,), force=True)
    with pytest.raises(CaseInvalid) as exc:
        build([MINIMAL], options)
    assert any("failed a safety check: <script> element present" in e.message for e in exc.value.errors)
    assert page.read_bytes() == before
    assert not list(page.parent.glob(".*.tmp")), "a temporary file was left behind"


def test_outputs_are_put_in_place_only_when_every_output_succeeded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a later output fails, the earlier outputs stay as they were and no temporary
    file is left."""
    from briefgen.output import build as build_module
    from briefgen.output.build import BuildOptions, build

    out = tmp_path / "out"
    build([MINIMAL], BuildOptions(out=out, formats=("html",)))
    pages = sorted(out.rglob("*.html"))
    before = {p: p.read_bytes() for p in pages}
    assert len(pages) >= 3
    real = build_module.render_edition
    calls: list[str] = []

    def failing_third(case: object, audience: object, *args: object) -> object:
        calls.append(str(audience))
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(case, audience, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "render_edition", failing_third)
    with pytest.raises(OSError):
        build([MINIMAL], BuildOptions(out=out, formats=("html",), force=True))
    assert len(calls) == 3
    assert {p: p.read_bytes() for p in pages} == before
    assert not list(pages[0].parent.glob(".*.tmp")), "a temporary file was left behind"


def test_layout_runs_the_collector_less_often_and_restores_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """During a layout the young generation's threshold is raised (WeasyPrint frees its
    boxes by reference count; the collector's passes were a seventh of the time); the
    process's own threshold is back afterwards, even when the layout fails, and only
    after the last of several concurrent layouts."""
    import gc
    import threading

    from briefgen.output import pdf

    seen: list[int] = []
    gate = threading.Barrier(2)
    real_html = pdf.HTML

    class SpyHTML(real_html):  # type: ignore[misc, valid-type]
        def render(self, *args: object, **kwargs: object) -> object:
            seen.append(gc.get_threshold()[0])
            if threading.current_thread() is not threading.main_thread():
                gate.wait(timeout=30)  # both layouts are under way at once
            return super().render(*args, **kwargs)

    monkeypatch.setattr(pdf, "HTML", SpyHTML)
    before = gc.get_threshold()
    page = "<!DOCTYPE html><html><body><p>One page.</p></body></html>"
    try:
        gc.set_threshold(700, 10, 10)
        data, pages = pdf.render_pdf_counted(page)
        assert pages == 1 and data.startswith(b"%PDF")
        assert seen == [pdf.LAYOUT_GC_THRESHOLD] and gc.get_threshold() == (700, 10, 10)

        workers = [threading.Thread(target=pdf.render_pdf, args=(page,)) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert seen[1:] == [pdf.LAYOUT_GC_THRESHOLD] * 2 and gc.get_threshold() == (700, 10, 10)

        gc.set_threshold(0)  # collection turned off by the process: layout leaves it off
        pdf.render_pdf(page)
        assert seen[-1] == 0 and gc.get_threshold()[0] == 0
        gc.set_threshold(700, 10, 10)

        monkeypatch.setattr(SpyHTML, "render", lambda *a, **k: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            pdf.render_pdf(page)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)
