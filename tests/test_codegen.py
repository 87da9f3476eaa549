"""briefgen's Jinja code generator renders exactly what Jinja's own does, only faster.

render._JoiningCodeGenerator yields a run of template output as one string, and
render.escape_text escapes to plain ``str`` instead of ``Markup``. Both must leave every
byte of every page as stock Jinja (with markupsafe.escape) would write it.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import jinja2.sandbox
import markupsafe
import pytest
from conftest import DEFAULT_CASE, MINIMAL
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError

from briefgen import render
from briefgen.audiences import load_audiences
from briefgen.errors import CaseInvalid
from briefgen.loader import load_case
from briefgen.view import Cite, build_view


class _Html:
    def __html__(self) -> str:
        return "<b>safe</b>"


class _Text:
    def __str__(self) -> str:
        return "a < b & 'c'"


class _Str(str):
    pass


VALUES: list[Any] = [
    "",
    "plain",
    "<script>alert('x')</script> & \"quoted\"",
    "déjà vu — “quotes” ≠ <",
    "&amp; already escaped",
    markupsafe.Markup("<em>trusted</em>"),
    _Str("<sub>class</sub>"),
    0,
    -17,
    10**30,
    True,
    False,
    3.5,
    None,
    _Html(),
    _Text(),
    ["<a>", 1],
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__ + ":" + str(v)[:12])
def test_escape_text_gives_markupsafes_text(value: Any) -> None:
    out = render.escape_text(value)
    assert out == str(markupsafe.escape(value))
    assert isinstance(out, str)


def _stock(env: jinja2.Environment) -> jinja2.Environment:
    """The same sandbox, compiled by Jinja's own code generator."""
    stock_cls = type("_StockSandbox", (type(env),), {"code_generator_class": CodeGenerator})
    stock: jinja2.Environment = stock_cls(loader=env.loader, **render.ENV_OPTIONS)
    return stock


TEMPLATES = {
    "runs": "<p id=\"{{ a }}\" title='{{ b }}'>{{ c }} and {{ n }}{{ m }}</p>",
    "loops": "{% for x in xs %}<li>{{ loop.index }}: {{ x }}{% if not loop.last %}, {% endif %}</li>{% endfor %}"
    "{% for x in xs %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.length }}"
    "{{ loop.previtem if not loop.first }}{{ loop.nextitem if not loop.last }}{{ loop.depth }}{{ loop.cycle('a', 'b') }}{{ loop.changed(x) }}"
    "{% for y in [1, 2] %}{{ loop.depth0 }}{{ loop.depth }}{% endfor %}{% endfor %}",
    # Loops over a list or tuple take render._SequenceLoop, others Jinja's LoopContext.
    "loops_more": "{% for x in tree recursive %}<{{ loop.depth }}:{{ x.name }}:{{ loop.index }}/{{ loop.length }}"
    "{{ loop.last }}{{ loop.previtem.name if not loop.first }}{{ loop.nextitem.name if not loop.last }}"
    "{% if x.children %}{{ loop(x.children) }}{% endif %}>{% endfor %}"
    "{% for x in pair %}{{ loop.revindex }}{{ loop.nextitem is defined }}{{ loop.nextitem if not loop.last }}{{ loop.previtem is defined }}{% endfor %}"
    "{% for x in xs if x %}{{ loop.index }}{{ loop.last }}{{ loop.length }}{% endfor %}"
    "{% for x in 'abc' %}{{ loop.last }}{{ loop.nextitem is defined }}{% endfor %}"
    "{% for k, v in mapping|dictsort %}{{ loop.first }}{{ k }}{{ v }}{% endfor %}"
    "{% for x in [] %}never{% else %}empty{{ xs|length }}{% endfor %}"
    "{% for x in xs %}{% for y in pair %}{{ loop.index }}{{ loop.previtem is defined }}{% endfor %}"
    "{{ loop.index }}{{ loop.changed(x is none) }}{{ loop.cycle(1, 2, 3) }}{% endfor %}"
    "{% for x in xs %}{{ loop }}{% endfor %}",
    "macro": "{% macro m(v) %}<i>{{ v }}</i>{{ v|upper }}{% endmacro %}{{ m(a) }} then {{ m(c) }}!",
    "set_block": "{% set s %}<b>{{ a }}</b>{{ c }}{% endset %}[{{ s }}][{{ s|length }}]",
    "filter_block": "{% filter upper %}x {{ a }} y {{ c }}{% endfilter %}",
    "call_block": "{% macro w() %}<div>{{ caller() }}</div>{% endmacro %}{% call w() %}{{ a }}-{{ c }}{% endcall %}",
    "autoescape_off": "{% autoescape false %}{{ a }}{{ c }}{% endautoescape %}{{ a }}",
    "autoescape_volatile": "{% autoescape n > 0 %}{{ a }}<{{ c }}>{% endautoescape %}"
    "{% autoescape m > 0 %}{{ a }}<{{ c }}>{% endautoescape %}{{ a }}",
    "safe": "{{ a|safe }}{{ c }}{{ m|e }}",
    "constants": "{{ 1 + 2 }}{{ '<x>' }}{{ none }}{{ [1, 2] }}",
    "whitespace": "  {%- if a %}\n  {{ a }}\n{% endif -%}  \n{{ c }}\n",
}
TEMPLATES["child"] = (
    '{% extends "base" %}{% block body %}<p>{{ a }}</p>{{ super() }}{{ c }}{% endblock %}outside {{ a }}'
)
TEMPLATES["base"] = "<html>{{ c }}{% block body %}base {{ a }}{% endblock %}{{ n }}</html>"
TEMPLATES["includes"] = '{% include "runs" %}|{% include "loops" %}'
# Fields of view classes read directly (briefgen.view.Cite here), and the same names on
# other objects, in every place an expression can stand.
TEMPLATES["view_fields"] = (
    "{% macro m(c, d=cites[0].label) %}{{ c.label }}|{{ d }}{% endmacro %}"
    "{% for c in cites if c.n > 1 %}{{ c.n }}:{{ c.label }}:{{ m(c) }}{% endfor %}"
    "{% set t = cites[1].target %}{{ t }}"
    "{% with a = cites[0].anchor %}{{ a }}{% endwith %}"
    "{{ cites|map(attribute='label')|join(',') }}{{ other.label }}{{ other.n }}"
    "{{ cites[0].label.upper() }}{{ cites[0].label|length }}"
    "{{ (cites[0] if other.n else cites[1]).target }}"
    "{% for x in [cites[0], other] %}{{ x.label }}{% endfor %}"
)
TEMPLATES["macro_calls"] = (
    "{% macro v(a, b=2) %}{{ a }}{{ b }}{{ varargs|join(',') }}{{ kwargs|dictsort|join(';') }}{% endmacro %}"
    "{% for x in xs %}{{ v(x, 3, 4, k=5) }}{{ v(x) }}{% endfor %}"
    "{% macro outer(f) %}[{{ f(1) }}]{% endmacro %}{{ outer(v) }}"
    "{% macro wrap(f) %}<{{ f(2) }}|{{ caller(a) }}>{% endmacro %}"
    "{% call(x) wrap(v) %}in call {{ x }}{% endcall %}{{ v.name }}{{ v.arguments|join }}"
)
# Every way of calling a macro, for _Sandbox.call's shortcut (all arguments by position,
# nothing else) and the way round it; the result's type shows in "~" (Markup escapes the
# other side) and in an autoescape-off block.
TEMPLATES["macro_forms"] = (
    "{% macro p(x, y) %}<{{ x }}|{{ y }}>{% endmacro %}"
    "{% macro d(x, y='<d>') %}{{ x }}{{ y }}{% endmacro %}"
    "{% macro k(x) %}{{ x }}{{ kwargs|dictsort|join }}{% endmacro %}"
    "{% macro v(x) %}{{ x }}{{ varargs|join }}{% endmacro %}"
    "{% macro c(x) %}{{ x }}{{ caller() }}{% endmacro %}"
    "{% macro n() %}<none>{% endmacro %}"
    "{{ p(a, c) }}{{ p(a, y=c) }}{{ p(y=a, x=c) }}{{ d(a) }}{{ d(a, b) }}{{ k(a) }}{{ k(a, z=a) }}"
    "{{ v(a) }}{{ v(a, a, b) }}{% call c(a) %}<in>{{ a }}{% endcall %}{{ n() }}"
    "{{ p(a, c) ~ a }}{{ (p(a, c) ~ '<')|length }}{% for x in xs %}{{ p(x, loop.index) }}{{ n() ~ x }}{% endfor %}"
    "{% autoescape false %}{{ p(a, c) ~ a }}{{ n() }}{% endautoescape %}"
)
TEMPLATES["ranges"] = (
    "{% for i in range(3) %}{{ i }}{{ loop.last }}{% endfor %}{{ range(2, 10, 3)|list }}{{ range(n)|length }}"
    "{% macro r(k) %}{% for i in range(k) %}{{ i }}{% endfor %}{% endmacro %}{% for x in xs %}{{ r(loop.index) }}{% endfor %}"
)
# Loops whose output is collected and handed on in batches (render visit_For), around
# every kind of statement a loop body can hold, and past the batch size.
TEMPLATES["buffered_loops"] = (
    "{% macro w() %}[{{ caller() }}]{% endmacro %}"
    "{% for i in range(700) %}<i>{{ i }}</i>{% if i % 7 == 0 %}{{ a }}{% endif %}{% endfor %}after"
    "{% for x in xs %}{% filter upper %}f{{ x }}{% endfilter %}{% call w() %}{{ x }}{% endcall %}"
    "{% set s %}<s>{{ x }}</s>{% endset %}{{ s }}{% with y = x %}{{ y }}{% endwith %}"
    "{% for y in pair %}{{ loop.index }}{% for z in range(300) %}.{% endfor %}{% endfor %}{% else %}none{% endfor %}"
    "{% if n %}{% for x in xs %}{{ x }}{% endfor %}{% endif %}"
    "{% for x in [] %}{{ x }}{% else %}{{ a }}{% endfor %}"
    "{% for x in xs %}{% include 'runs' %}{% endfor %}"
    "{% autoescape false %}{% for x in xs %}{{ a }}{% endfor %}{% endautoescape %}"
)
TEMPLATES["macro_misuse"] = "{% macro v(a) %}{{ a }}{% endmacro %}{{ v(1, 2, 3) }}"
TEMPLATES["view_unsafe"] = "{{ cites[0].__class__ }}"
DATA = {
    "cites": [Cite(1, "note-1", "r1", "<One> & 'one'"), Cite(2, "note-2", "r2", "two")],
    "other": SimpleNamespace(label="<not a view>", n=3),
    "a": "<script>&'\"",
    "b": markupsafe.Markup("<b>ok</b>"),
    "c": "plain text",
    "n": 42,
    "m": -1,
    "xs": ["<x>", 3, markupsafe.Markup("<y/>"), None],
    "pair": ("<first>", "second"),
    "mapping": {"b": 2, "a": "<1>"},
    "tree": [
        {
            "name": "a",
            "children": [
                {"name": "a1", "children": []},
                {"name": "<a2>", "children": ({"name": "t", "children": []},)},
            ],
        },
        {"name": "b", "children": []},
    ],
}


@pytest.mark.parametrize("name", sorted(set(TEMPLATES) - {"view_unsafe", "macro_misuse"}))
def test_snippets_render_as_stock_jinja(name: str) -> None:
    render.environment(())  # registers the view classes
    env = render._Sandbox(loader=jinja2.DictLoader(TEMPLATES), **render.ENV_OPTIONS)
    ours = env.get_template(name).render(DATA)
    theirs = _stock(env).get_template(name).render(DATA)
    assert ours == theirs
    assert "<script>" not in ours or name in (
        "autoescape_off",
        "autoescape_volatile",
        "safe",
        "macro_forms",
        "buffered_loops",
    )


@pytest.mark.parametrize(
    "name",
    [
        "macro",
        "call_block",
        "macro_calls",
        "macro_forms",
        "view_fields",
        "loops",
        "loops_more",
        "ranges",
        "buffered_loops",
    ],
)
def test_macros_are_called_as_jinjas_own_sandbox_calls_them(name: str) -> None:
    """_Sandbox.call calls a macro itself (all arguments by position) or through
    Macro.__call__: either way the output is a plain Jinja sandbox's."""
    render.environment(())
    env = render._Sandbox(loader=jinja2.DictLoader(TEMPLATES), **render.ENV_OPTIONS)
    plain = jinja2.sandbox.ImmutableSandboxedEnvironment(loader=env.loader, **render.ENV_OPTIONS)
    assert env.get_template(name).render(DATA) == plain.get_template(name).render(DATA)


def test_private_attributes_of_view_objects_stay_forbidden() -> None:
    render.environment(())
    env = render._Sandbox(loader=jinja2.DictLoader(TEMPLATES), **render.ENV_OPTIONS)
    for e in (env, _stock(env)):
        with pytest.raises(SecurityError, match="__class__"):
            e.get_template("view_unsafe").render(DATA)


def test_a_macro_called_wrongly_fails_as_in_stock_jinja() -> None:
    env = render._Sandbox(loader=jinja2.DictLoader(TEMPLATES), **render.ENV_OPTIONS)
    messages = []
    for e in (env, _stock(env)):
        with pytest.raises(TypeError) as info:
            e.get_template("macro_misuse").render(DATA)
        messages.append(str(info.value))
    assert messages[0] == messages[1] and "macro 'v'" in messages[0]


def test_view_fields_are_read_without_the_sandbox_call(monkeypatch: pytest.MonkeyPatch) -> None:
    render.environment(())
    env = render._Sandbox(loader=jinja2.DictLoader(TEMPLATES), **render.ENV_OPTIONS)
    asked: list[str] = []
    real = render._Sandbox.getattr

    def counting(self: Any, obj: Any, attribute: str) -> Any:
        asked.append(attribute)
        return real(self, obj, attribute)

    monkeypatch.setattr(render._Sandbox, "getattr", counting)
    out = env.from_string("{{ c.label }}{{ c.n }}{{ o.label }}").render(c=DATA["cites"][0], o=DATA["other"])
    assert out == "&lt;One&gt; &amp; &#39;one&#39;1&lt;not a view&gt;"
    assert asked == ["label"]  # only the object that is not a view object


def test_runs_are_yielded_joined() -> None:
    env = render._Sandbox(loader=jinja2.DictLoader(TEMPLATES), **render.ENV_OPTIONS)
    ours = list(env.get_template("runs").generate(DATA))
    theirs = list(_stock(env).get_template("runs").generate(DATA))
    assert len(ours) == 1 and len(theirs) > 5
    assert "".join(ours) == "".join(theirs)


@pytest.mark.parametrize("case", [DEFAULT_CASE, MINIMAL], ids=lambda p: p.name)
def test_every_builtin_page_is_byte_identical_to_stock_jinja(case: Path) -> None:
    loaded = load_case(case)
    for name, aud in load_audiences([]).items():
        view = build_view(loaded, aud)
        env = render.environment(())
        ours = render.render_html(view)
        theirs = _stock(env).get_template(render.MAIN_TEMPLATE).render(view=view, meta=view.meta)
        assert ours == theirs, name
        assert len(ours) > 5000


@pytest.mark.parametrize(
    ("template", "line"),
    [
        (  # in a joined run of output
            "<section>\n<h2>{{ section.title }}</h2>\n<p>{{ section.title }} {{ view.no_such_field }} end</p>\n</section>\n",
            3,
        ),
        (  # in a loop whose output is collected and handed on in batches
            "<section>\n{% for p in view.parties %}\n<p>{{ p.name }}</p>\n<p>{{ p.no_such_field }}</p>\n{% endfor %}\n</section>\n",
            4,
        ),
    ],
    ids=["joined-run", "buffered-loop"],
)
def test_an_error_names_its_template_line(tmp_path: Path, template: str, line: int) -> None:
    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "bluf.html.j2").write_text(template, encoding="utf-8")
    view = build_view(load_case(MINIMAL), load_audiences([])["executive"])
    with pytest.raises(CaseInvalid) as info:
        render.render_html(view, [tmp_path])
    (err,) = info.value.errors
    assert err.path.endswith("bluf.html.j2")
    assert err.line == line
    assert "no_such_field" in err.message


def test_a_long_loop_is_handed_on_in_batches() -> None:
    """A buffered loop's output comes out a few hundred pieces at a time, never whole
    (a large page's loops run to hundreds of megabytes)."""
    render.environment(())
    env = render._Sandbox(loader=jinja2.DictLoader(TEMPLATES), **render.ENV_OPTIONS)
    pieces = list(env.get_template("buffered_loops").generate(DATA))
    counts = [p.count("<i>") for p in pieces]
    assert sum(counts) == 700
    assert len([c for c in counts if c]) >= 3 and max(counts) <= render._LOOP_FLUSH
