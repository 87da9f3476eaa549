"""The bench's in-process measurements, each run by bench/run.py as a child process.

    python bench/workers.py warm CASE_DIR AUDIENCES ROUNDS MIN_FLOOR_CPU
    python bench/workers.py weasyprint HTML_FILE

Each prints one line of JSON.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def warm(case_dir: str, names: str, rounds: str, min_cpu: str) -> None:
    """Per audience, interleaved: briefgen's PDF pipeline, and WeasyPrint alone on its HTML
    with the same font stylesheet and FontConfiguration. Prints JSON."""
    import gc

    from weasyprint import CSS, HTML

    from briefgen.briefing import richtext
    from briefgen.briefing.audiences import load_audiences
    from briefgen.facts.loader import load_case
    from briefgen.output import build, pdf
    from briefgen.paths import builtin_templates_dir

    audiences = load_audiences([])
    stylesheet = CSS(string=pdf.font_face_css(), font_config=pdf.font_config())
    base_url = builtin_templates_dir().as_uri() + "/"
    caches = [f for f in vars(richtext).values() if callable(getattr(f, "cache_clear", None))]

    def pipeline(name: str) -> tuple[float, float, str, int]:
        for f in caches:  # a build converts each text once: runs must not share that work
            f.cache_clear()
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        edition = build.render_edition(load_case(case_dir), audiences[name])
        pages = build.lay_out(edition).pages
        return time.process_time() - c0, time.perf_counter() - t0, edition.html, pages

    def floor(html: str) -> tuple[float, float]:
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        doc = HTML(string=html, base_url=base_url)
        doc.render(stylesheets=[stylesheet], font_config=pdf.font_config(), pdf_tags=True).write_pdf(pdf_tags=True)
        return time.process_time() - c0, time.perf_counter() - t0

    result: dict[str, Any] = {}
    htmls: dict[str, str] = {}
    for name in names.split(","):  # warm-up, not counted: templates, fonts, first layouts
        try:
            _, _, htmls[name], pages = pipeline(name)
            floor(htmls[name])
            result[name] = {"pages": pages, **{f"{s}_{m}": [] for s in ("pipeline", "floor") for m in ("cpu", "wall")}}
        except Exception as exc:  # noqa: BLE001
            result[name] = {"error": f"{type(exc).__name__}: {exc}"}
    live = [n for n in names.split(",") if "error" not in result[n]]

    def one_round(name: str, k: int) -> None:
        for step in ("pipeline", "floor") if k % 2 == 0 else ("floor", "pipeline"):
            cpu, wall = pipeline(name)[:2] if step == "pipeline" else floor(htmls[name])
            result[name][f"{step}_cpu"].append(cpu)
            result[name][f"{step}_wall"].append(wall)

    for k in range(int(rounds)):
        for i, name in enumerate(live if k % 2 == 0 else live[::-1]):
            one_round(name, k + i)
    for name in live:  # a short edition gets more rounds: noise moves short medians far
        k = int(rounds)
        while sum(result[name]["floor_cpu"]) < float(min_cpu) and k < 60:
            one_round(name, k)
            k += 1
    print(json.dumps(result))


def weasyprint(html_path: str) -> None:
    """WeasyPrint alone in a fresh process: a page with briefgen's font stylesheet."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from briefgen.output.pdf import font_face_css
    from briefgen.paths import builtin_templates_dir

    fonts = FontConfiguration()
    css = CSS(string=font_face_css(), font_config=fonts)
    doc = HTML(filename=html_path, base_url=builtin_templates_dir().as_uri() + "/")
    rendered = doc.render(stylesheets=[css], font_config=fonts, pdf_tags=True)
    rendered.write_pdf(pdf_tags=True)
    print(json.dumps({"pages": len(rendered.pages)}))


if __name__ == "__main__":
    commands: dict[str, Any] = {"warm": warm, "weasyprint": weasyprint}
    commands[sys.argv[1]](*sys.argv[2:])
