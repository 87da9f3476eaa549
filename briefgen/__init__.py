"""briefgen: hand-checked YAML facts → HTML and PDF situation briefings.

The pipeline, one module per stage::

    loader.load_case(path)      load → validate      → models.Case
    view.build_view(case, ...)  build the view model → view.BriefingView
    render.render_html(view)    Jinja (sandboxed)    → HTML text
    pdf.render_pdf(html, ...)   WeasyPrint           → PDF bytes
    output.write_atomic(...)    write, atomically    → output/<case>/<audience>.{html,pdf}

`build.build_case` runs them all; the CLI (`cli.py`) is a thin layer over it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

if TYPE_CHECKING:
    from .facts.loader import load_case as load_case

__all__ = ["__version__", "load_case"]


def __getattr__(name: str) -> Any:
    # Lazy so that `import briefgen` stays cheap (check must start fast).
    if name == "load_case":
        from .facts.loader import load_case

        return load_case
    raise AttributeError(name)
