"""render: BriefingView → HTML text through Jinja.

Templates run in Jinja's immutable sandbox with autoescaping on. User template
folders (``--templates DIR`` or a profile's ``templates:``) are searched first; the
built-in templates stay reachable as ``builtin/<name>`` so a user template can
``{% extends "builtin/sections/bluf.html.j2" %}`` and override a single block.
Fact text only ever arrives as data in the view: it is never compiled as a template.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import jinja2
import markupsafe
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
from jinja2.utils import missing

from .errors import CaseInvalid, FactError
from .paths import builtin_templates_dir

if TYPE_CHECKING:  # only for the annotation: importing render stays cheap (a no-op build lists templates)
    from .view import BriefingView

MAIN_TEMPLATE = "briefing.html.j2"


class _Loader(jinja2.FileSystemLoader):
    """A file loader that refuses template names climbing out of its folder."""

    def get_source(self, environment: jinja2.Environment, template: str):  # type: ignore[no-untyped-def]
        if ".." in template.split("/") or template.startswith("/") or "\\" in template:
            raise jinja2.TemplateNotFound(template)
        return super().get_source(environment, template)


_escape_inner: Callable[[str], str] | None
try:  # markupsafe's own escaping, without the Markup around it
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover - markupsafe without its C speedups, or renamed
    _escape_inner = None


def escape_text(value: object) -> str:
    """The autoescaped text of a template value: what ``markupsafe.escape(value)`` gives,
    as a plain ``str`` (the compiled templates' output is joined into plain text anyway)."""
    cls = type(value)
    if cls is str and _escape_inner is not None:
        return _escape_inner(cast(str, value))
    if cls is markupsafe.Markup:  # already markup (a macro's output, rendered Markdown)
        return cast(str, value)
    if cls is int:  # numbers: digits and a sign, nothing to escape
        return int.__repr__(cast(int, value))
    return markupsafe.escape(value)


_LOOP_BUFFER = "_loop_out"
_LOOP_FLUSH = 256
"""Pieces of a loop's output collected before they are handed on (see visit_For)."""


class _JoiningCodeGenerator(CodeGenerator):
    """Jinja's code generator, with three changes that leave every page the same, byte
    for byte (tests/test_codegen.py), and, with :meth:`_Sandbox.call`'s way with macros,
    make a large one render in little more than half the time (1000x analyst page in
    bench/run.py's stage table: 11.8 -> 6.6 s of CPU):

    - A run of output (``<li id="{{ n.anchor }}">``: text, value, text) is yielded as one
      string, not piece by piece: each yielded piece resumes every generator between the
      section's block and the caller (block, section, include, page, ``generate``).
      Output into a buffer (macros, ``{% set %}`` and ``{% filter %}`` blocks) is left
      as Jinja writes it.
    - Autoescaped output is the text ``markupsafe.escape`` gives, as a plain ``str``
      rather than a ``Markup`` made for each piece (a third of the render went on making
      them): a ``str`` goes straight to markupsafe's own escaping function, anything else
      to :func:`escape_text`.
    - ``x.name``, where ``name`` is a field of a view class or a loop's data
      (``loop.index``), reads it directly when ``x`` is of such a class, which is what
      :meth:`_Sandbox.getattr` does, without the call; everything else goes through the
      sandbox as before.

    The expressions are evaluated in the same order, through the same sandbox checks.
    """

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        self._view_attrs: set[str] = set()
        super().visit_Template(node, frame)
        self.writeline("from briefgen.render import escape_text, _escape_inner as escape_inner, _VIEW_HAS")
        self.writeline("from markupsafe import Markup as markup_type")
        self.writeline("from briefgen.render import loop_context as LoopContext")
        self.writeline("int_repr = int.__repr__")
        for attr in sorted(self._view_attrs):
            self.writeline(f"view_has_{attr} = _VIEW_HAS[{attr!r}]")

    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        if self.environment.is_async or not _VIEW_HAS.get(node.attr):
            super().visit_Getattr(node, frame)
            return
        # ``x.name`` where ``name`` is a field of some view class: read directly when x is
        # of such a class, exactly as _Sandbox.getattr does, without calling it (a large
        # page reads fields about ten million times); anything else asks the sandbox.
        self._view_attrs.add(node.attr)
        self.write(f"(_va.{node.attr} if type(_va := ")
        self.visit(node.node, frame)
        self.write(f") in view_has_{node.attr} else environment.getattr(_va, {node.attr!r}))")

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        if finalize.src is None and _escape_inner is not None:
            # A str (most values) straight to markupsafe's escaping, an int as its digits,
            # Markup (a macro's output) as it is: no call of ours (escape_text, inlined).
            self.write("(escape_inner(_ve) if (_vt := type(_ve := ")
            return
        self.write("escape_text(")
        if finalize.src is not None:
            self.write(finalize.src)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_post(node, frame, finalize)
        elif finalize.src is None and _escape_inner is not None:
            self.write(
                ")) is str else int_repr(_ve) if _vt is int else _ve if _vt is markup_type else escape_text(_ve))"
            )
        else:
            super()._output_child_post(node, frame, finalize)

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        # A loop's output goes to a list, handed on a few hundred pieces at a time,
        # instead of being yielded piece by piece: each yield resumes every generator
        # between the loop and the caller (section, include, block, page, generate).
        # Loops that include, import or define blocks, recursive loops, and loops in
        # a macro or {% set %} block (already writing to a list) are left as they are.
        if (
            frame.buffer is not None
            or self.environment.is_async
            or node.recursive
            or any(node.find_all((nodes.Include, nodes.Block, nodes.Extends, nodes.Import, nodes.FromImport)))
        ):
            super().visit_For(node, frame)
            return
        buffered = frame.copy()
        buffered.buffer = _LOOP_BUFFER
        self.writeline(f"{_LOOP_BUFFER} = []")
        super().visit_For(node, buffered)
        self.writeline(f"if {_LOOP_BUFFER}: yield concat({_LOOP_BUFFER})")

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        if frame.buffer == _LOOP_BUFFER:  # in a buffered loop: hand on once there is enough
            super().visit_Output(node, frame)
            b = _LOOP_BUFFER
            self.writeline(f"if len({b}) > {_LOOP_FLUSH}: yield concat({b}); {b}.clear()")
            return
        if frame.buffer is not None or len(node.nodes) < 2:
            super().visit_Output(node, frame)
            return
        # As CodeGenerator.visit_Output (Jinja 3.1), with the unbuffered case written as
        # ``yield concat((piece, piece, ...))`` (every piece is a str: text, or a value
        # through the escaping above).
        if frame.require_output_check:
            if self.has_known_extends:
                return
            self.writeline("if parent_template is None:")
            self.indent()
        finalize = self._make_finalize()
        body: list[list[Any] | nodes.Expr] = []
        for child in node.nodes:
            try:
                if not (finalize.const or isinstance(child, nodes.TemplateData)):
                    raise nodes.Impossible()
                const = self._output_child_to_const(child, frame, finalize)
            except (nodes.Impossible, Exception):
                body.append(child)
                continue
            if body and isinstance(body[-1], list):
                body[-1].append(const)
            else:
                body.append([const])
        if len(body) == 1:
            item = body[0]
            if isinstance(item, list):
                self.writeline("yield " + self._output_const_repr(item))
            else:
                self.writeline("yield ", item)
                self._output_child_pre(item, frame, finalize)
                self.visit(item, frame)
                self._output_child_post(item, frame, finalize)
        else:
            self.writeline("yield concat((")
            self.indent()
            for item in body:
                if isinstance(item, list):
                    self.writeline(self._output_const_repr(item) + ",")
                else:
                    self.newline(item)
                    self._output_child_pre(item, frame, finalize)
                    self.visit(item, frame)
                    self._output_child_post(item, frame, finalize)
                    self.write(",")
            self.outdent()
            self.writeline("))")
        if frame.require_output_check:
            self.outdent()


MAX_REPEAT = 1_000_000
"""Largest text or list a template may build with ``*``, and largest power (in bits) with ``**``."""


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, plus a bound on ``*`` and ``**``, so that a template cannot
    exhaust the memory (``{{ "x" * 10**10 }}``) any more than it can escape the sandbox."""

    intercepted_binops = frozenset({"*", "**"})
    code_generator_class = _JoiningCodeGenerator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._safe_attributes: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Jinja's answer depends only on the object's type and the attribute's name (private
        # and internal attributes, methods that mutate lists, dicts and sets), and a large
        # briefing asks the same few questions hundreds of thousands of times: remember them.
        # An object whose __class__ is not its type is asked afresh every time.
        cls = type(obj)
        if getattr(obj, "__class__", None) is not cls:
            return bool(super().is_safe_attribute(obj, attr, value))
        key = (cls, attr)
        safe = self._safe_attributes.get(key)
        if safe is None:
            safe = self._safe_attributes[key] = bool(super().is_safe_attribute(obj, attr, value))
        return safe

    def getattr(self, obj: Any, attribute: str) -> Any:
        # The view is made of plain dataclasses whose fields are data, and a loop's data
        # (loop.index, loop.last, ...) is data too: reading them needs none of the
        # sandbox's questions (they are asked of everything else, methods too), whose
        # answer is yes. A large briefing reads fields about ten million times. (The
        # compiled templates read them directly, see _JoiningCodeGenerator.visit_Getattr.)
        fields = _VIEW_FIELDS.get(type(obj))
        if fields is not None and attribute in fields:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        # A template's own macro (Jinja's Macro, which the sandbox always lets be called and
        # which takes no context): called as Context.call would call it, without the
        # questions it and the sandbox ask of other callables (a large page calls macros
        # hundreds of thousands of times). Everything else goes the sandbox's way.
        if type(__obj) is Macro:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            try:
                if (
                    kwargs
                    or len(args) != __obj._argument_count
                    or __obj.caller
                    or __obj.catch_kwargs
                    or __obj.catch_varargs
                    or (args and type(args[0]) is EvalContext)
                ):
                    return __obj(*args, **kwargs)
                # Every argument given by position, no caller, no extras: Macro.__call__
                # would pass them on as they are (tests/test_codegen.py compares).
                rv = __obj._func(*args)
                return str.__new__(markupsafe.Markup, rv) if __obj._default_autoescape else rv
            except StopIteration:
                return __context.environment.undefined(
                    "value was undefined because a callable raised a StopIteration exception"
                )
        if __obj is safe_range:  # range() in a template: the sandbox's own, bounded
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            return safe_range(*args, **kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: object, right: object) -> object:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_REPEAT:
                    raise SecurityError(f"repeating a value {n:,} times would build something too large")
        elif (
            isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and max(left.bit_length(), 1) * right > MAX_REPEAT
        ):
            raise SecurityError(f"{left} ** {right} would be too large a number")
        return super().call_binop(context, operator, left, right)


_VIEW_FIELDS: dict[type, frozenset[str]] = {}
_VIEW_HAS: dict[str, frozenset[type]] = {}


_LOOP_DATA = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0", "previtem", "nextitem"}
)
"""The data of Jinja's ``loop`` variable (properties; its methods go through the sandbox)."""


class _SequenceLoop(LoopContext):
    """Jinja's ``loop`` over a list or tuple (nearly every loop of a briefing): the same
    values as LoopContext gives, read by position. LoopContext walks an iterator, one
    method call per item, and peeks ahead for ``loop.last``; here the items come from a
    generator and ``last``/``nextitem``/``previtem`` are read from the sequence, which a
    template cannot change (the sandbox is immutable). tests/test_codegen.py compares
    every property, recursion and ``cycle``/``changed`` with LoopContext's."""

    def __init__(
        self,
        iterable: Sequence[Any],
        undefined: type[jinja2.Undefined],
        recurse: Any = None,
        depth0: int = 0,
    ) -> None:
        self._iterable = iterable
        self._undefined = undefined
        self._recurse = recurse
        self.depth0 = depth0
        self._items = iterable
        self._length = self._size = len(iterable)

    def __iter__(self) -> Iterator[tuple[Any, LoopContext]]:  # type: ignore[override]
        return self._walk()

    def _walk(self) -> Iterator[tuple[Any, LoopContext]]:
        for i, item in enumerate(self._items):
            self.index0 = i
            yield item, self

    def _peek_next(self) -> Any:
        i = self.index0 + 1
        return self._items[i] if i < self._size else missing

    @property
    def last(self) -> bool:
        return self.index0 + 1 >= self._size

    def __repr__(self) -> str:
        return f"<LoopContext {self.index}/{self.length}>"

    @property
    def previtem(self) -> Any:
        if self.index0 <= 0:
            return self._undefined("there is no previous item")
        return self._items[self.index0 - 1]


def loop_context(iterable: Any, undefined: type[jinja2.Undefined], recurse: Any = None, depth0: int = 0) -> LoopContext:
    """What compiled templates call for ``LoopContext(...)``: a :class:`_SequenceLoop`
    over a list or tuple, Jinja's own LoopContext over anything else."""
    if type(iterable) is list or type(iterable) is tuple:
        return _SequenceLoop(iterable, undefined, recurse, depth0)
    return LoopContext(iterable, undefined, recurse, depth0)


def _register_view_types() -> None:
    """Map each dataclass of the view model to its field names, and Jinja's ``loop`` to
    its data (see ``_Sandbox.getattr`` and ``_JoiningCodeGenerator.visit_Getattr``)."""
    import dataclasses

    from . import view

    for value in vars(view).values():
        if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == view.__name__:
            fields = {f.name for f in dataclasses.fields(value)}
            fields |= {name for name, v in vars(value).items() if isinstance(v, property)}  # (data, computed)
            _VIEW_FIELDS[value] = frozenset(name for name in fields if not name.startswith("_"))
    _VIEW_FIELDS[LoopContext] = _LOOP_DATA
    _VIEW_FIELDS[_SequenceLoop] = _LOOP_DATA
    for cls, names in _VIEW_FIELDS.items():
        for name in names:
            _VIEW_HAS[name] = _VIEW_HAS.get(name, frozenset()) | {cls}


@lru_cache(maxsize=16)
def environment(user_dirs: tuple[Path, ...] = ()) -> jinja2.Environment:
    """The Jinja environment for a set of user template folders (cached per set)."""
    builtin = _Loader(str(builtin_templates_dir()))
    loaders: list[jinja2.BaseLoader] = [_Loader(str(d)) for d in user_dirs]
    loaders.append(builtin)
    loaders.append(jinja2.PrefixLoader({"builtin": builtin}))
    if not _VIEW_FIELDS:
        _register_view_types()
    return _Sandbox(loader=jinja2.ChoiceLoader(loaders), auto_reload=False, **ENV_OPTIONS)


ENV_OPTIONS: dict[str, Any] = {
    "autoescape": True,
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}
"""How briefgen's templates are read and rendered (whitespace control, escaping, strict names)."""


def template_files(user_dirs: Sequence[Path] = ()) -> list[Path]:
    """Every template file that a render may read (for build fingerprints)."""
    files: list[Path] = []
    for d in (*user_dirs, builtin_templates_dir()):
        files.extend(p for p in sorted(Path(d).rglob("*")) if p.is_file() and "__pycache__" not in p.parts)
    return files


def _template_error(exc: Exception, user_dirs: Sequence[Path]) -> FactError:
    """Locate a template error at the template's file and line."""
    name = getattr(exc, "filename", None) or getattr(exc, "name", None) or MAIN_TEMPLATE
    line = getattr(exc, "lineno", None) or 0
    if isinstance(exc, (jinja2.TemplateSyntaxError, jinja2.TemplateNotFound, jinja2.UndefinedError, SecurityError)):
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
    return "".join(render_pieces(view, user_dirs))


_BATCH_CHARS = 256 * 1024


def render_pieces(view: BriefingView, user_dirs: Sequence[Path] = ()) -> Iterator[str]:
    """The briefing's HTML in order, a batch of the template's output at a time (so a
    large page need never be held whole). Errors as :func:`render_html`."""
    env = environment(tuple(user_dirs))
    try:
        template = env.get_template(MAIN_TEMPLATE)
        # The template yields millions of small pieces on a large case: joined a batch at a
        # time, they are never all alive at once as separate strings (which would take
        # several times the page's own size). A batch is a few hundred KB: batches of
        # megabytes left the allocator holding 110 MB more at 1000x the default case.
        batch: list[str] = []
        size = 0
        for piece in template.generate(view=view, meta=view.meta):
            batch.append(piece)
            size += len(piece)
            if size >= _BATCH_CHARS:
                yield "".join(batch)
                batch.clear()
                size = 0
        if batch:
            yield "".join(batch)
    except (jinja2.TemplateError, SecurityError) as exc:
        raise CaseInvalid([_template_error(exc, user_dirs)]) from None
    except (
        TypeError,
        AttributeError,
        ValueError,
        KeyError,
        IndexError,
        ZeroDivisionError,
        OverflowError,  # the sandbox's limit on range()
        RecursionError,  # a template that includes or extends itself
    ) as exc:
        # Only user templates can raise these; the built-in ones are tested.
        if user_dirs:
            raise CaseInvalid([_template_error(exc, user_dirs)]) from None
        raise
