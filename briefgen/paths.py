"""Where briefgen's own assets are: built-in templates and fonts."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path


@cache
def builtin_templates_dir() -> Path:
    """The built-in templates: the checkout's `templates/`, shipped in the wheel as
    the package `briefgen._templates`."""
    spec = importlib.util.find_spec("briefgen._templates")
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            p = Path(loc)
            if (p / "briefing.html.j2").is_file():
                return p.resolve()
    here = Path(__file__).resolve().parent.parent / "templates"
    return here


@cache
def font_dirs() -> tuple[Path, ...]:
    """Folders of the font packages installed with briefgen."""
    out = []
    for pkg in ("font_source_sans_pro", "font_source_serif_pro"):
        spec = importlib.util.find_spec(pkg)
        if spec is not None and spec.origin:
            out.append((Path(spec.origin).parent / "files").resolve())
    return tuple(out)
