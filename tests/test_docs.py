"""The documentation cannot drift from the code.

* every command and option of the real parser is in docs/cli.md, and every command's
  ``--help`` ends with examples;
* docs/reference.md and docs/view-reference.md are exactly what ``briefgen.docgen``
  generates (so every model field is documented), and the generator misses no field;
* hand-written pages quote the code's constants (scales, limits) correctly, their YAML
  examples are valid, their template example works, and their links resolve.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import click
import pytest
from conftest import MINIMAL, ROOT

from briefgen import docgen
from briefgen.briefing.audiences import ALL_SECTIONS, Branding, Profile
from briefgen.briefing.view import MARKING_MEANING
from briefgen.cli import cli
from briefgen.editing.schema import SCHEMA_MODELS
from briefgen.facts.models.common import CONFIDENCE_LABELS, CREDIBILITY_LABELS, LIKELIHOOD_RANGES, RELIABILITY_LABELS
from briefgen.facts.models.files import FILE_KINDS

DOCS = ROOT / "docs"


def commands() -> dict[str, click.Command]:
    """Command name → the click command the CLI really runs."""
    return dict(cli.commands)


def cli_sections() -> dict[str, str]:
    """Command name → its section of docs/cli.md (headed `## briefgen NAME`)."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    out = {}
    for chunk in re.split(r"^## ", text, flags=re.M)[1:]:
        m = re.match(r"`?briefgen ([a-z-]+)", chunk)
        if m:
            out[m.group(1)] = chunk
    return out


COMMANDS = sorted(commands())


# ---------------------------------------------------------------- cli.md


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_documented(name: str) -> None:
    assert name in cli_sections(), f"docs/cli.md has no '## briefgen {name}' section"
    index = (DOCS / "cli.md").read_text(encoding="utf-8").split("## Exit codes")[0]
    assert f"(#briefgen-{name})" in index, f"the command table of docs/cli.md does not list {name}"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_documented(name: str) -> None:
    section = cli_sections().get(name, "")
    common = (DOCS / "cli.md").read_text(encoding="utf-8").split("## Exit codes")[0]
    missing = []
    for param in commands()[name].params:
        if isinstance(param, click.Option):
            for opt in param.opts:
                pattern = re.compile(r"`" + re.escape(opt) + r"[ `=,]")
                if not (
                    pattern.search(section) or (opt in ("-q", "--quiet", "-v", "--verbose") and pattern.search(common))
                ):
                    missing.append(opt)
        else:
            metavar = (param.metavar or param.name or "").strip("[].")
            if f"`{metavar}" not in section:
                missing.append(metavar)
    assert not missing, f"docs/cli.md, section 'briefgen {name}', does not document: {', '.join(missing)}"


def test_top_level_options_and_exit_codes_are_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for param in cli.params:
        for opt in param.opts:
            assert f"`{opt}" in text or f"briefgen {opt}" in text, opt
    for code in ("0", "1", "2", "3"):
        assert re.search(rf"^\| {code} \|", text, re.M), f"exit code {code}"


def test_no_documented_command_is_gone() -> None:
    stale = set(cli_sections()) - set(COMMANDS)
    assert not stale, f"docs/cli.md documents commands that no longer exist: {stale}"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_ends_with_examples(name: str) -> None:
    command = commands()[name]
    epilog = (command.epilog or "").replace("\b\n", "")
    assert epilog.lstrip().startswith("examples:"), f"briefgen {name} --help has no examples"
    assert f"briefgen {name}" in epilog
    help_text = command.get_help(click.Context(command, info_name=name))
    assert re.search(r"\n *examples:\n", help_text)


# ---------------------------------------------------------------- generated reference


@pytest.mark.parametrize("name", sorted(docgen.DOCS))
def test_generated_docs_are_up_to_date(name: str) -> None:
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert committed == docgen.DOCS[name](), (
        f"docs/{name} is out of date with the code; regenerate it with: python -m briefgen.docgen --write docs"
    )


def _section(text: str, heading: str) -> str:
    part = text.split(f"\n### {heading}\n", 1)
    assert len(part) == 2, f"no '### {heading}' section"
    return re.split(r"\n##+ ", part[1], maxsplit=1)[0]


def test_every_model_field_is_in_the_reference() -> None:
    text = docgen.reference_md()
    models = docgen.documented_models()
    for root in (*FILE_KINDS.values(), Profile, Branding):
        assert root in models
    for model in models:
        section = _section(text, model.__name__)
        for name, field in model.model_fields.items():
            assert f"| `{name}` |" in section, f"{model.__name__}.{name} missing from the reference"
            assert field.description, f"{model.__name__}.{name} has no description: the YAML reference needs one"


def test_every_view_field_is_in_the_view_reference() -> None:
    import dataclasses

    text = docgen.view_reference_md()
    for cls in docgen.view_classes():
        section = _section(text, cls.__name__)
        for f in dataclasses.fields(cls):
            listed = f"| `{f.name}` |" in section
            assert listed != f.name.startswith("_"), f"{cls.__name__}.{f.name}"  # public fields only
        for name, attr in vars(cls).items():
            if isinstance(attr, property) and not name.startswith("_"):
                assert f"| `{name}` |" in section, f"{cls.__name__}.{name}"
    for cls_name, field_name in docgen.VIEW_NOTES:
        cls = next(c for c in docgen.view_classes() if c.__name__ == cls_name)
        assert field_name in {f.name for f in dataclasses.fields(cls)}, f"stale note for {cls_name}.{field_name}"


# ---------------------------------------------------------------- hand-written pages


def test_scales_page_matches_the_code() -> None:
    text = (DOCS / "scales.md").read_text(encoding="utf-8")
    for grade, label in RELIABILITY_LABELS.items():
        assert f"| {grade} | {label} |" in text
    for grade, label in CREDIBILITY_LABELS.items():
        assert f"| {grade} | {label} |" in text
    for term, (lo, hi) in LIKELIHOOD_RANGES.items():
        assert f"| {term} | {lo}–{hi}% |" in text
    for level, label in CONFIDENCE_LABELS.items():
        meaning = label.split(": ", 1)[1]
        assert f"| {level} | {meaning[:1].upper()}{meaning[1:]} |" in text
    for marking, meaning in MARKING_MEANING.items():
        assert f"| `{marking}` | {meaning} |" in text


def test_limits_page_matches_the_code() -> None:
    from briefgen import errors
    from briefgen.briefing import richtext
    from briefgen.facts import yamlread as yamlsafe
    from briefgen.facts.models import common

    text = (DOCS / "limits-and-security.md").read_text(encoding="utf-8")
    assert f"{yamlsafe.MAX_FILE_BYTES // (1024 * 1024)} MiB ({yamlsafe.MAX_FILE_BYTES:,} bytes)" in text
    assert f"| {yamlsafe.MAX_DEPTH} levels |" in text
    assert f"| {yamlsafe.MAX_ALIASES} |" in text
    assert f"| {yamlsafe.MAX_ALIAS_EXPANSION:,} per file |" in text
    assert f"| {common.MAX_WORD} |" in text and f"| {common.MAX_MARKUP} |" in text
    assert f"| {common.MAX_MARKDOWN_NESTING} levels |" in text
    assert f"the first {errors.PER_FILE} per file and {errors.IN_ALL:,} in all" in text
    for tag in richtext.ALLOWED_TAGS:
        assert f"`{tag}`" in text, tag
    for scheme in richtext.URL_SCHEMES:
        assert f"`{scheme}`" in text, scheme


def test_audiences_page_covers_every_profile_field_and_section() -> None:
    text = (DOCS / "audiences.md").read_text(encoding="utf-8")
    for name in Profile.model_fields:
        assert f"| `{name}` |" in text, f"profile field {name}"
    for name in Branding.model_fields:
        assert f"`{name}`" in text, f"branding field {name}"
    for sid in ALL_SECTIONS:
        assert f"`{sid}`" in text, f"section id {sid}"
    for builtin in ("analyst", "executive", "public"):
        assert f"`{builtin}`" in text


def _yaml_blocks(text: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```", text, flags=re.M | re.S)


def test_facts_page_examples_are_valid() -> None:
    """Each complete example in facts.md (starting with a file's top-level key) validates."""
    from briefgen.facts.yamlread import parse_text

    tops = {"title": "case", **{k: k for k in FILE_KINDS if k != "case"}}
    checked = set()
    for block in _yaml_blocks((DOCS / "facts.md").read_text(encoding="utf-8")):
        first = block.split(":", 1)[0]
        if first not in tops:
            continue
        kind = tops[first]
        FILE_KINDS[kind].model_validate(parse_text(block, f"facts.md ({kind})").data)
        checked.add(kind)
    assert {"case", "sources", "actors", "events", "motives", "judgments", "assessments", "claims"} <= checked


def test_audiences_page_examples_are_valid(tmp_path: Path) -> None:
    from briefgen.facts.yamlread import parse_text
    from briefgen.output.distribute import DistributionList

    profile, dist = _yaml_blocks((DOCS / "audiences.md").read_text(encoding="utf-8"))[:2]
    Profile.model_validate(parse_text(profile, "audiences.md").data)
    DistributionList.model_validate(parse_text(dist, "audiences.md").data)


def test_template_override_example_works(tmp_path: Path) -> None:
    """The example of docs/templates.md, run: one block of one section, and the styles."""
    from briefgen.briefing.audiences import load_audiences
    from briefgen.briefing.render import render_html
    from briefgen.briefing.selfcheck import html_problems
    from briefgen.briefing.view import build_view
    from briefgen.facts.loader import load_case

    text = (DOCS / "templates.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```jinja\n(.*?)^```", text, flags=re.M | re.S)
    bluf = next(b for b in blocks if "builtin/sections/bluf.html.j2" in b)
    page = next(b for b in blocks if "builtin/briefing.html.j2" in b)
    folder = tmp_path / "my-templates"
    (folder / "sections").mkdir(parents=True)
    (folder / "sections" / "bluf.html.j2").write_text(bluf, encoding="utf-8")
    (folder / "briefing.html.j2").write_text(page, encoding="utf-8")
    case = shutil.copytree(MINIMAL, tmp_path / "demo")
    view = build_view(load_case(case), load_audiences()["analyst"])
    html = render_html(view, (folder,))
    assert "The bottom line, in brief" in html
    assert ".bluf { font-size: 12pt; }" in html
    assert html_problems(html) == []


def test_links_between_pages_resolve() -> None:
    pages = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    for name, text in pages.items():
        for target, anchor in re.findall(r"\]\(([a-z0-9-]+\.md)?(?:#([a-z0-9-]+))?\)", text):
            target = target or name
            assert target in pages, f"{name} links to missing {target}"
            if anchor:
                headings = re.findall(r"^#+ (.+)$", pages[target], flags=re.M)
                slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
                assert anchor in slugs, f"{name} links to {target}#{anchor}, which has no such heading"


def test_index_lists_every_page() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in DOCS.glob("*.md"):
        if page.name != "index.md":
            assert f"]({page.name})" in index, f"docs/index.md does not link {page.name}"


@pytest.mark.parametrize("kind", sorted(SCHEMA_MODELS))
def test_packaged_schemas_are_up_to_date(kind: str) -> None:
    """Editors read the schemas shipped in briefgen/schemas/ (new cases point at them)."""
    from briefgen.editing.schema import SCHEMA_DIR, schema_text

    path = SCHEMA_DIR / f"{kind}.schema.json"
    assert path.is_file() and path.read_text(encoding="utf-8") == schema_text(kind), (
        f"{path} is out of date with the models; regenerate with: briefgen schema --out briefgen/schemas"
    )


def test_bash_completion_completes_commands_and_options() -> None:
    """Completion comes from click: the script sources, and the command line completes."""
    import os
    import subprocess
    import sys

    if shutil.which("bash") is None:
        pytest.skip("bash not installed")
    script = subprocess.run([sys.executable, "-m", "briefgen", "completion", "bash"], capture_output=True, text=True)
    assert script.returncode == 0 and "_BRIEFGEN_COMPLETE" in script.stdout
    assert subprocess.run(["bash", "-n"], input=script.stdout, text=True).returncode == 0

    def complete(words: str) -> list[str]:
        env = {
            **os.environ,
            "_BRIEFGEN_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
        out = subprocess.run([sys.executable, "-m", "briefgen"], env=env, capture_output=True, text=True).stdout
        return [line.split(",", 1)[1] for line in out.splitlines()]

    assert complete("briefgen dis") == ["distribute"]
    assert complete("briefgen build --fo") == ["--format", "--force"]
