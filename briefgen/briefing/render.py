"""render: BriefingView → HTML text through Jinja.

Templates run in Jinja's immutable sandbox, as shipped, with autoescaping on; its public
hooks (``call_binop``, ``call``, ``wrap_str_format``) add bounds on what a template may
build, so a user template can exhaust the memory no more than it can escape the sandbox.
User template folders (``--templates DIR`` or a profile's ``templates:``) are searched
first; the built-in templates stay reachable as ``builtin/<name>`` so a user template
can ``{% extends "builtin/sections/bluf.html.j2" %}`` and override a single block.
Templates are read only from regular files inside their folder. Fact text only ever
arrives as data in the view: it is never compiled as a template.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import string
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..errors import CaseInvalid, FactError
from ..paths import builtin_templates_dir

if TYPE_CHECKING:  # only for the annotation: importing render stays cheap (a no-op build lists templates)
    from .view import BriefingView

MAIN_TEMPLATE = "briefing.html.j2"

MAX_SIZE = 1_000_000
"""Largest text or list a template may build in one step (``*``, padding, format widths),
and largest number, in bits, it may compute with ``*`` or ``**``."""


class TemplateRefused(jinja2.TemplateError):
    """A template file that briefgen will not read: a link leading out of its folder, or
    something other than a regular file."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.filename = path
        self.lineno = 1


class _Loader(jinja2.FileSystemLoader):
    """Templates from one folder: regular files inside it, nothing else. A name that climbs
    out (``..``), a symlink that leads out, a device, a pipe or a ``/proc`` file is refused."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # refuses ".." itself
        for folder in self.searchpath:
            path = os.path.join(folder, *pieces)
            if not os.path.lexists(path):
                continue
            root = os.path.realpath(folder)
            real = os.path.realpath(path)
            if os.path.commonpath([root, real]) != root:
                raise TemplateRefused(
                    path,
                    f"template '{template}' leads outside its folder (to {real}); templates must be files inside it",
                )
            try:
                mode = os.stat(real).st_mode
            except OSError:
                continue
            if not stat.S_ISREG(mode):
                raise TemplateRefused(
                    path, f"template '{template}' is not a regular file; templates must be plain files"
                )
            return super().get_source(environment, template)
        raise jinja2.TemplateNotFound(template)


def _too_big(what: str) -> SecurityError:
    return SecurityError(f"{what} would build something too large (more than {MAX_SIZE:,})")


_PADDING = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
_PERCENT_WIDTH = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with size bounds on the operations that can allocate
    without limit: ``*`` and ``**`` on numbers, text and lists, ``%`` formatting, padding
    methods, ``str.format`` widths, ``replace``, and the filters that pad or repeat."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_SIZE:
                    raise _too_big(f"repeating a value {n:,} times")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_SIZE:
                raise _too_big("this multiplication")
        elif operator == "**":
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and right > 0
                and max(left.bit_length(), 1) * right > MAX_SIZE
            ):
                raise _too_big(f"{left} ** {right}")
        elif operator == "%" and isinstance(left, str):
            _check_percent(left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        name = getattr(__obj, "__name__", "")
        if isinstance(getattr(__obj, "__self__", None), str):
            text: str = __obj.__self__
            numbers = [a for a in (*args, *kwargs.values()) if isinstance(a, int)]
            if name in _PADDING and any(n > MAX_SIZE for n in numbers):
                raise _too_big(f"'{name}' to that width")
            if name == "expandtabs" and text.count("\t") * max(numbers, default=8) > MAX_SIZE:
                raise _too_big("'expandtabs'")
            if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
                hits = text.count(args[0]) if args[0] else len(text) + 1
                if len(text) + hits * len(args[1]) > MAX_SIZE:
                    raise _too_big("'replace'")
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # str.format and format_map, sandboxed by Jinja when read: refuse widths and
        # precisions past the bound (and widths taken from arguments) before formatting.
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            for _, _, spec, _ in string.Formatter().parse(value.__self__):
                if spec and ("{" in spec or any(int(n) > MAX_SIZE for n in re.findall(r"\d+", spec))):
                    raise _too_big("this format width")
        return wrapped


def _check_percent(fmt: str, values: Any) -> None:
    """Refuse ``%`` formatting whose widths or precisions (given or ``*``) are too large."""
    given = list(values) if isinstance(values, tuple) else [values]
    for m in _PERCENT_WIDTH.finditer(fmt):
        for part in m.groups():
            if part == "*":
                width = given.pop(0) if given else 0
                if isinstance(width, int) and width > MAX_SIZE:
                    raise _too_big("this % width")
            elif part and int(part) > MAX_SIZE:
                raise _too_big("this % width")


def _bounded(name: str, filter_: Callable[..., Any], *widths: int) -> Callable[..., Any]:
    """A built-in filter whose numeric arguments at ``widths`` may not exceed MAX_SIZE."""

    @functools.wraps(filter_)  # (keeps Jinja's mark of filters that take the environment)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for i in widths:
            if i < len(args) and isinstance(args[i], int) and args[i] > MAX_SIZE:
                raise _too_big(f"the '{name}' filter at that width")
        if any(isinstance(v, int) and v > MAX_SIZE for v in kwargs.values()):
            raise _too_big(f"the '{name}' filter at that width")
        if name == "format" and args and isinstance(args[0], str):
            _check_percent(args[0], tuple(args[1:]))
        return filter_(*args, **kwargs)

    return bounded


ENV_OPTIONS: dict[str, Any] = {
    "autoescape": True,
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}
"""How briefgen's templates are read and rendered (whitespace control, escaping, strict names)."""


@lru_cache(maxsize=16)
def environment(user_dirs: tuple[Path, ...] = ()) -> jinja2.Environment:
    """The Jinja environment for a set of user template folders (cached per set)."""
    builtin = _Loader(str(builtin_templates_dir()))
    loaders: list[jinja2.BaseLoader] = [_Loader(str(d)) for d in user_dirs]
    loaders += [builtin, jinja2.PrefixLoader({"builtin": builtin})]
    env = _Sandbox(loader=jinja2.ChoiceLoader(loaders), auto_reload=False, **ENV_OPTIONS)
    # The argument positions of widths (wordwrap takes the environment first).
    for name, widths in {"center": (1,), "indent": (1,), "wordwrap": (2,), "format": ()}.items():
        env.filters[name] = _bounded(name, env.filters[name], *widths)
    env.globals.pop("lipsum", None)  # (lipsum(n) makes text of any size)
    from .richtext import within  # (here: markdown and nh3 stay off a no-op build's path)

    env.filters["within"] = within
    return env


def template_files(user_dirs: Sequence[Path] = ()) -> list[Path]:
    """Every template file that a render may read (for build fingerprints): the regular
    files inside each folder (a link leading out, or anything else, is never read)."""
    files: list[Path] = []
    for d in (*user_dirs, builtin_templates_dir()):
        root = Path(d).resolve()
        for p in sorted(Path(d).rglob("*")):
            if "__pycache__" in p.parts:
                continue
            try:
                real = p.resolve()
                regular = stat.S_ISREG(real.stat().st_mode)
            except OSError:
                continue
            if regular and real.is_relative_to(root):
                files.append(p)
    return files


def _template_error(exc: BaseException) -> FactError:
    """Locate a template error at the template's file and line."""
    name = getattr(exc, "filename", None) or getattr(exc, "name", None) or MAIN_TEMPLATE
    line = getattr(exc, "lineno", None) or 0
    if isinstance(exc, (jinja2.TemplateError, SecurityError)):
        msg = str(getattr(exc, "message", None) or exc)
    else:
        msg = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, SecurityError):
        msg = f"the template tried something the sandbox forbids: {msg}"
    elif isinstance(exc, RecursionError):
        msg = "the template includes, extends or calls itself without end"
    elif isinstance(exc, OverflowError):
        msg = f"the template asked for too much: {exc}"
    elif isinstance(exc, jinja2.UndefinedError):
        msg = f"{msg} (see the view data each section receives in docs/templates.md)"
    elif isinstance(exc, jinja2.TemplateNotFound):
        msg = f"template not found: {msg}"
    if line == 0:
        # Runtime errors carry the line in the traceback of the compiled template.
        tb = exc.__traceback__
        while tb is not None:
            fname = tb.tb_frame.f_code.co_filename
            if fname.endswith((".j2", ".html", ".css")) or "template" in fname:
                name, line = fname, tb.tb_lineno
            tb = tb.tb_next
    return FactError(str(name), line or 1, 1, msg)


def render_html(view: BriefingView, user_dirs: Sequence[Path] = ()) -> str:
    """Render the briefing's HTML. Template problems raise CaseInvalid, located in the template."""
    from .selfcheck import CSP

    env = environment(tuple(user_dirs))
    try:
        return env.get_template(MAIN_TEMPLATE).render(view=view, meta=view.meta, csp=CSP)
    except (jinja2.TemplateError, SecurityError) as exc:
        raise CaseInvalid([_template_error(exc)]) from None
    except (
        TypeError,
        AttributeError,
        ValueError,
        KeyError,
        IndexError,
        ZeroDivisionError,
        OverflowError,  # the sandbox's limit on range()
        RecursionError,  # a template that includes or extends itself
        MemoryError,
    ) as exc:
        # Only user templates can raise these; the built-in ones are tested.
        if user_dirs:
            raise CaseInvalid([_template_error(exc)]) from None
        raise
