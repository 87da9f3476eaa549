"""briefgen: hand-checked YAML facts → HTML and PDF situation briefings.

The pipeline, one module per stage::

    loader.load_case(path)      load → validate      → models.Case
    view.build_view(case, ...)  build the view model → view.BriefingView
    render.render_html(view)    Jinja (autoescaped)  → HTML text
    pdf.render_pdf(html, ...)   WeasyPrint           → PDF bytes
    output.write_atomic(...)    write, atomically    → output/<case>/<audience>.{html,pdf}

`build.build_case` runs them all; the CLI (`cli.py`) is a thin layer over it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

ONE_SHOT = False
"""True while the command line runs a command that ends when its work is done (not
``watch`` or ``serve``): the loader may then freeze what a large load leaves alive."""

_KEPT: list[object] = []


def keep_until_exit(obj: object) -> None:
    """In a one-shot command, hold ``obj`` until the process ends instead of freeing it
    now: the command line then exits without freeing anything (:func:`briefgen.cli.run`),
    which spares a large case the second or so its millions of objects take to free.
    Elsewhere (watch, serve, a library user, the tests) ``obj`` is freed as usual."""
    if ONE_SHOT:
        _KEPT.append(obj)


if TYPE_CHECKING:
    from .loader import load_case as load_case

__all__ = ["__version__", "load_case"]


def __getattr__(name: str) -> Any:
    # Lazy so that `import briefgen` stays cheap (check must start fast).
    if name == "load_case":
        from .loader import load_case

        return load_case
    raise AttributeError(name)
