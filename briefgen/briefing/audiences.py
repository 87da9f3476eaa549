"""Audience profiles: who a briefing is for, and so what it shows and how.

Built-in profiles live in the templates' `audiences/` folder; users add their own
in a folder they name (``--audiences DIR``), where a profile of the same name wins.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, StringConstraints, ValidationError

from ..errors import CaseInvalid, FactError
from ..facts.models.common import Colour, Marking, ShortText, Strict, Text, VisibleText
from ..facts.yamlread import Document, load_file
from ..paths import builtin_templates_dir

SectionId = Literal[
    "cover",
    "contents",
    "bluf",
    "judgments",
    "key_figures",
    "changes",
    "overview",
    "timeline",
    "motive_matrix",
    "motives_detail",
    "rationales",
    "assessments",
    "reactions",
    "claims",
    "outlook",
    "indicators",
    "sources",
    "endnotes",
    "legend",
    "colophon",
]
ALL_SECTIONS: list[str] = list(SectionId.__args__)  # type: ignore[attr-defined]

AudienceName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class Branding(Strict):
    """How the briefing is branded."""

    organisation: ShortText | None = Field(default=None, description="Organisation shown on the cover and footer.")
    logo: Annotated[str, Field(max_length=300), VisibleText] | None = Field(
        default=None,
        description="Logo image file (PNG, JPEG or SVG), relative to the profile's folder. "
        "It is the only local file a profile can bring into the PDF.",
    )
    accent: Colour | None = Field(default=None, description="Accent colour of headings and rules, `#RRGGBB`.")
    accent_dark: Colour | None = Field(default=None, description="Darker accent for the cover band.")


class Limits(Strict):
    """How many items of some lists an edition shows (none: all)."""

    key_figures: Annotated[StrictInt, Field(ge=1)] | None = Field(
        default=None, description="The first N key figures of case.yaml."
    )
    indicators: Annotated[StrictInt, Field(ge=1)] | None = Field(
        default=None, description="The first N indicators (list those that matter most first)."
    )
    motives: Annotated[StrictInt, Field(ge=1)] | None = Field(
        default=None,
        description="The N most salient motives of each party that it shares with no other party "
        "(shared motives are always shown).",
    )


class Profile(Strict):
    """An audience profile (`<name>.yaml`): what a briefing for this audience shows."""

    name: AudienceName = Field(description="The audience's name (used in file names and `--audience`).")
    description: Text = Field(description="One line on who it is for.")
    sections: list[SectionId] = Field(
        min_length=1, description="The sections to include, in order. Sections with no content are left out."
    )
    detail: Literal["summary", "standard", "full"] = Field(
        default="standard",
        description="`summary`: one page: statements without their reasoning, the most salient "
        "motives, no notes in print; `standard`: a briefing: key events only, one line per motive, "
        "compact notes (source, date, paragraph); `full`: the evidence record: every item in full, "
        "every excerpt, date resolution and grade.",
    )
    marking: Marking = Field(
        description="Highest handling marking of items this audience may see. The briefing's own "
        "marking is the most restrictive marking among the items it includes."
    )
    page_size: Literal["A4", "Letter"] = Field(default="A4", description="Paper size of the PDF.")
    citations: Literal["endnotes", "footnotes"] = Field(
        default="endnotes", description="Where citations go in the PDF: numbered endnotes, or footnotes on the page."
    )
    show_verification: StrictBool = Field(
        default=False, description="Show each item's verification record (status, checker, date)."
    )
    show_notes: StrictBool = Field(default=False, description="Show internal analyst notes.")
    show_grades: StrictBool = Field(
        default=True,
        description="Show Admiralty grades as codes ([B2]); false: sources' reliability in plain words only.",
    )
    show_checkers: StrictBool = Field(default=False, description="Show who checked each item.")
    max_pages: Annotated[StrictInt, Field(ge=1)] | None = Field(
        default=None,
        description="Page budget: a longer PDF is an error that names the sections taking the most space.",
    )
    max_words: Annotated[StrictInt, Field(ge=1)] | None = Field(
        default=None,
        description="Word budget of the text a reader reads (not counted: the excerpts behind the markers, "
        "and the contents, sources, notes, legend and colophon): more is an error that names the sections "
        "taking the most words.",
    )
    comparison: Literal["table", "lists"] = Field(
        default="table",
        description="The motive comparison as a `table` (a row per category, a column per party, weight and "
        "confidence on each line) or as `lists` (what the parties share, then what each holds alone).",
    )
    event_summaries: StrictBool = Field(
        default=True, description="The timeline table shows each event's summary; false: its date and title only."
    )
    limits: Limits = Field(default_factory=lambda: Limits(), description="Most items of some lists shown.")
    prepared_for: ShortText | None = Field(default=None, description="Overrides the case's 'prepared for'.")
    title_suffix: ShortText | None = Field(default=None, description="Added to the title, e.g. 'Executive summary'.")
    branding: Branding = Field(default_factory=Branding, description="Branding.")
    templates: Annotated[str, Field(max_length=300), VisibleText] | None = Field(
        default=None,
        description="A folder of templates (relative to the profile) searched before the built-in ones.",
    )


@dataclass(frozen=True)
class Audience:
    """A loaded profile and the folder it came from (for its logo and templates)."""

    profile: Profile
    folder: Path
    source: Path
    doc: Document | None = field(default=None, compare=False, repr=False)
    """The profile file as read, to say where its keys are written (for located messages)."""

    @property
    def name(self) -> str:
        return self.profile.name

    def line_of(self, key: str) -> tuple[int, int]:
        """``(line, col)`` of a key of the profile file (1, 1 when it is not written there)."""
        if self.doc is None:
            return (1, 1)
        return self.doc.key_marks.get((key,), (1, 1))

    @property
    def templates_dir(self) -> Path | None:
        if not self.profile.templates:
            return None
        return (self.folder / self.profile.templates).resolve()

    @property
    def logo_path(self) -> Path | None:
        if not self.profile.branding.logo:
            return None
        return (self.folder / self.profile.branding.logo).resolve()

    @property
    def logo_uri(self) -> str | None:
        """The logo embedded as a ``data:`` URI: the page carries the image itself, never a
        local path (which would tell every reader where the profile lives, and which a
        browser would try to load)."""
        path = self.logo_path
        if path is None:
            return None
        mime = LOGO_TYPES[path.suffix.lower()]
        return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
"""The logo files a profile may name, by extension, and their media types."""
MAX_LOGO_BYTES = 1_000_000
"""Largest logo file accepted (it is embedded in every page of the profile's briefings)."""


def builtin_audiences_dir() -> Path:
    return builtin_templates_dir() / "audiences"


def _load_profile(path: Path) -> Audience:
    from ..facts.loader import display_path, translate

    shown = display_path(path)
    doc = load_file(path, shown)
    if not isinstance(doc.data, dict):
        raise CaseInvalid([doc.error((), "an audience profile must be a mapping at its top level")])
    try:
        profile = Profile.model_validate(doc.data)
    except ValidationError as exc:
        raise CaseInvalid(translate(exc, doc, Profile)) from None
    if profile.name != path.stem:
        raise CaseInvalid([doc.error(("name",), f"name '{profile.name}' must match the file name '{path.stem}'")])
    errors = []
    aud = Audience(profile, path.parent, path, doc)
    folder = path.parent.resolve()
    # A profile may bring in only files beside it: its logo is the one local file the PDF
    # renderer is allowed to read on its behalf.
    if aud.logo_path is not None and (
        not aud.logo_path.is_relative_to(folder) or aud.logo_path.suffix.lower() not in LOGO_TYPES
    ):
        errors.append(
            doc.error(("branding", "logo"), "the logo must be a PNG, JPEG or SVG file inside the profile's folder")
        )
    elif aud.logo_path is not None and not aud.logo_path.is_file():
        errors.append(doc.error(("branding", "logo"), f"logo file not found: {aud.logo_path}"))
    elif aud.logo_path is not None and aud.logo_path.stat().st_size > MAX_LOGO_BYTES:
        errors.append(
            doc.error(
                ("branding", "logo"),
                f"the logo file is larger than {MAX_LOGO_BYTES:,} bytes (it is embedded in the page); use a smaller image",
            )
        )
    if aud.templates_dir is not None and not aud.templates_dir.is_relative_to(folder):
        errors.append(doc.error(("templates",), "the templates folder must be inside the profile's folder"))
    elif aud.templates_dir is not None and not aud.templates_dir.is_dir():
        errors.append(doc.error(("templates",), f"templates folder not found: {aud.templates_dir}"))
    if errors:
        raise CaseInvalid(errors)
    return aud


def load_audiences(extra_dirs: list[Path] | None = None) -> dict[str, Audience]:
    """Every profile: built-in ones, then those in ``extra_dirs`` (which override by name)."""
    folders = [builtin_audiences_dir(), *(extra_dirs or [])]
    found: dict[str, Audience] = {}
    errors: list[FactError] = []
    for folder in folders:
        if not folder.is_dir():
            errors.append(FactError(str(folder), 0, 0, "audiences folder does not exist"))
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                aud = _load_profile(path)
            except CaseInvalid as exc:
                errors.extend(exc.errors)
                continue
            found[aud.name] = aud
    if errors:
        raise CaseInvalid(errors)
    return found
