"""distribute: one briefing per audience, laid out once, then a stamped copy per recipient.

A distribution list (YAML, described by :class:`DistributionList`) names a case and
its recipients. For each audience on the list the usual pipeline runs once
(load → view → HTML → PDF); :mod:`briefgen.stamp` then turns that one PDF into a copy
per recipient, every page stamped "Prepared for NAME (ORGANISATION) · Copy N of M ·
edition · TLP marking". Beside the copies goes a register (CSV and JSON) naming each
copy's recipient, file and SHA-256, so a copy found elsewhere can be traced. When the
list has a ``mail:`` section (:class:`~briefgen.output.mailsettings.MailSettings`), each
recipient with an address also gets their message, ``copy-NNN-<name>.eml`` beside the
copy, exactly as :mod:`briefgen.output.deliver` sends it.

Everything is checked before anything is written: the list, the case, the audiences,
each recipient's marking against the marking of the briefing they would get, and (with
``mail:``) each address against the list's marking policy.

A run's copies and register are one set: they are written into a fresh folder
``<out>/<case>/.distribution-<pid>-<random>``, and only when all of it is on disk does
the link ``<out>/<case>/distribution`` swing to it (one ``os.replace`` of a symbolic
link, atomic). So ``distribution/`` always holds one complete run, its register
matching its copies: a run that fails or is killed leaves the previous set in place,
and its half-written folder is removed by the next run. Earlier sets are removed once
the link no longer points at them.
"""

from __future__ import annotations

import contextlib
import csv
import email.policy
import hashlib
import io
import json
import os
import re
import shutil
import stat
import tempfile
import unicodedata
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, ValidationError

from ..briefing.audiences import AudienceName
from ..errors import CaseInvalid, FactError, OutputError, UsageError
from ..facts.models.common import MARKING_ORDER, Marking, Strict, invisible_problem
from ..facts.yamlread import Document, load_file
from .atomic import _sync_folder, _writer_gone, file_mode, safe_name, write_atomic
from .mailsettings import Email, MailSettings, plain_name, policy_problem
from .message import Copy, HeaderProblem, compose, message_date, message_id

if TYPE_CHECKING:
    from .build import Edition

REGISTER = "register"
"""Base name of the register files (``register.csv``, ``register.json``) in ``<out>/<case>/distribution/``."""
CURRENT = "distribution"
"""The link, in ``<out>/<case>/``, to the folder of the last complete run."""
_SET_PREFIX = ".distribution-"
_SET_NAME = re.compile(r"^\.distribution-(?P<pid>[0-9]+)-[A-Za-z0-9_]+$")

Progress = Callable[[str, int, int], None]

WRITERS = 4
"""Threads writing copies (each write ends in an fsync, which waits without the GIL)."""
WRITES_IN_FLIGHT = 32


def _printable(value: str) -> str:
    """Refuse what would make a stamp lie about itself: control characters, and the
    invisible characters (zero-width, direction controls) of :data:`INVISIBLE`, with
    which 'Al\u200bice' would be stamped exactly as 'Alice' and 'Eve\u202eevil' would
    read backwards."""
    for c in value:
        if unicodedata.category(c) in ("Cc", "Zl", "Zp"):
            raise ValueError(f"must not contain control characters (found U+{ord(c):04X})")
    problem = invisible_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Person = Annotated[
    str, StringConstraints(min_length=1, max_length=120), AfterValidator(_printable), AfterValidator(plain_name)
]
PathText = Annotated[str, StringConstraints(min_length=1, max_length=1000), AfterValidator(_printable)]


class Recipient(Strict):
    """One person who receives a copy."""

    name: Person = Field(description="The recipient's name, as stamped on every page of their copy.")
    organisation: Person = Field(description="Their organisation, stamped after the name in brackets.")
    audience: AudienceName = Field(
        description="Which edition they get: the name of an audience profile (`briefgen audiences` lists them)."
    )
    marking: Marking | None = Field(
        default=None,
        description="Handling marking (TLP) stamped on this copy. It may be more restrictive than the "
        "briefing's own marking, never less; default: the briefing's own marking.",
    )
    email: Email | None = Field(
        default=None,
        description="Where the copy is mailed, when the list has a `mail` section (else recorded in the register "
        "only). It must be allowed for the copy's marking by `mail.allowed`.",
    )


class DistributionList(Strict):
    """A distribution list (`briefgen distribute LIST.yaml`): who gets which briefing of a case.

    Copies are numbered per audience, in list order: the third recipient of the
    analyst edition gets 'Copy 3 of M', M being the number of analyst copies."""

    case: PathText = Field(description="The case folder, relative to this list file (`--case` overrides it).")
    edition_label: (
        Annotated[
            str, StringConstraints(min_length=1, max_length=60), AfterValidator(_printable), AfterValidator(plain_name)
        ]
        | None
    ) = Field(default=None, description="How the edition is named on each copy; default 'Edition N' from the case.")
    out: PathText | None = Field(
        default=None,
        description="Output folder, relative to this list file (`--out` overrides it); default `output`. "
        "Copies go to `<out>/<case>/distribution/<audience>/copy-NNN-<name>.pdf`, the register to `<out>/<case>/distribution/register.csv` and `.json`.",
    )
    recipients: list[Recipient] = Field(
        min_length=1,
        max_length=10_000,
        description="Who gets a copy. The same name, organisation and audience twice is an error.",
    )
    mail: MailSettings | None = Field(
        default=None,
        description="How copies are mailed, and the marking policy for addresses. With it, `distribute` writes each "
        "recipient's message as a `.eml` file beside their copy, and `distribute --send` sends it.",
    )


# ---------------------------------------------------------------- loading


def _same_person(r: Recipient) -> tuple[str, str, str]:
    def norm(s: str) -> str:
        # Joiners (allowed between letters) draw nothing: 'Al\u200cice' is stamped as 'Alice'.
        s = s.replace("\u200c", "").replace("\u200d", "")
        return " ".join(unicodedata.normalize("NFKC", s).split()).casefold()

    return (norm(r.name), norm(r.organisation), r.audience)


def load_list(path: Path) -> tuple[DistributionList, Document]:
    """Read and validate a distribution list; every problem is raised together, located."""
    from ..facts.loader import display_path, translate

    doc = load_file(path, display_path(path))
    if not isinstance(doc.data, dict):
        raise CaseInvalid(
            [doc.error((), "a distribution list must be a mapping (case:, recipients: ...) at its top level")]
        )
    data = doc.data
    mail = data.get("mail")
    if isinstance(mail, dict) and "password" in mail:
        # Refused by name (not as just another unknown key): a list file is shared and kept.
        error = doc.error(
            ("mail", "password"),
            "a password must never be written in a list file; remove it, and set BRIEFGEN_SMTP_PASSWORD "
            "or let briefgen ask for it",
            key=True,
        )
        data = {**data, "mail": {k: v for k, v in mail.items() if k != "password"}}
        try:
            DistributionList.model_validate(data)
        except ValidationError as exc:
            raise CaseInvalid([error, *translate(exc, doc, DistributionList)]) from None
        raise CaseInvalid([error])
    try:
        lst = DistributionList.model_validate(data)
    except ValidationError as exc:
        raise CaseInvalid(translate(exc, doc, DistributionList)) from None
    errors = []
    first: dict[tuple[str, str, str], int] = {}
    for i, r in enumerate(lst.recipients):
        key = _same_person(r)
        if key in first:
            line = doc.locate(("recipients", first[key]))[0]
            errors.append(
                doc.error(
                    ("recipients", i),
                    f"{r.name} ({r.organisation}) is already on the list for the {r.audience} edition (line {line})",
                )
            )
        else:
            first[key] = i
    if errors:
        raise CaseInvalid(errors)
    return lst, doc


# ---------------------------------------------------------------- distributing


@dataclass(frozen=True)
class DistributeOptions:
    """Overrides of what the list says, and where user templates and profiles are."""

    out: Path | None = None
    """Output folder; None: the list's `out`, else `output`."""
    case: Path | None = None
    """Case folder; None: the list's `case`."""
    templates: tuple[Path, ...] = ()
    audience_dirs: tuple[Path, ...] = ()
    mail_date: datetime | None = None
    """The Date of the messages; None: when the run started."""


@dataclass(frozen=True)
class CopyRecord:
    """One line of the register."""

    recipient: str
    organisation: str
    email: str
    audience: str
    file: str
    """Relative to the output folder, with forward slashes."""
    copy: int
    copies: int
    edition: int
    edition_label: str
    marking: str
    pages: int
    sha256: str


@dataclass(frozen=True)
class MessageFile:
    """A recipient's message, written beside their copy (lists with ``mail:`` only)."""

    record: CopyRecord
    path: Path
    """Where it is found: ``<out>/<case>/distribution/<audience>/copy-NNN-<name>.eml``."""
    name: Path
    """Its place inside the run's folder (:attr:`DistributionReport.folder`)."""
    message_id: str
    sender: str
    recipient: str
    smtputf8: bool


@dataclass
class DistributionReport:
    copies: list[CopyRecord] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    messages: list[MessageFile] = field(default_factory=list)
    """In list order; recipients without an address have none."""
    mail: MailSettings | None = None
    """The list's ``mail:`` section."""
    list_path: Path | None = None
    case_folder: Path | None = None
    """``<out>/<case>``: where the link to the run's folder, and the delivery register, are."""
    folder: Path | None = None
    """The run's own folder (what ``distribution`` pointed at when the run ended)."""
    register_csv: Path | None = None
    register_json: Path | None = None
    layouts: dict[str, float] = field(default_factory=dict)
    """Seconds each audience's one layout took."""
    warnings: list[str] = field(default_factory=list)


def copy_name(audience: str, number: int, copies: int, name: str) -> Path:
    """Copy ``number``'s place in a run's folder: ``<audience>/copy-NNN-<name>.pdf``, every
    part passed through :func:`safe_name` (so no name can climb out or hide itself)."""
    width = max(3, len(str(copies)))
    return Path(safe_name(audience)) / f"copy-{number:0{width}d}-{safe_name(name)}.pdf"


def copy_path(out: Path, case_id: str, audience: str, number: int, copies: int, name: str) -> Path:
    """Where copy ``number`` is found: ``<out>/<case>/distribution/<audience>/copy-NNN-<name>.pdf``.

    The result is checked to lie inside ``out`` (symlinks resolved), whatever the name holds."""
    path = out / safe_name(case_id) / CURRENT / copy_name(audience, number, copies, name)
    _inside(path, out)
    return path


def _inside(path: Path, out: Path) -> None:
    if not path.resolve().is_relative_to(out.resolve()):
        raise OutputError(f"{path}: refusing to write outside the output folder {out}")


def csv_cell(value: object) -> object:
    """A register cell as written to CSV: text a spreadsheet would run as a formula is quoted."""
    # A cell starting with = + - @ is run as a formula by spreadsheets: names are data.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def distribute(
    list_path: Path, options: DistributeOptions = DistributeOptions(), progress: Progress | None = None
) -> DistributionReport:
    """Write a stamped copy for every recipient on the list, then the register.

    Raises CaseInvalid (and writes nothing) when the list, the case, a profile or a
    recipient's marking is wrong; OutputError when a file cannot be written (copies
    already written stay, complete)."""
    from ..briefing.audiences import load_audiences
    from ..facts.loader import load_case
    from .build import budget_problems, lay_out, render_edition

    for t in options.templates:
        if not t.is_dir():
            raise UsageError(f"--templates {t}: no such folder")
    date = message_date(options.mail_date)
    lst, doc = load_list(list_path)
    base = list_path.parent
    case_dir = options.case if options.case is not None else base / lst.case
    out = options.out if options.out is not None else (base / lst.out if lst.out else Path("output"))

    # Collect every problem with the list, the audiences and the case before stopping.
    errors: list[FactError] = []
    audiences = load_audiences(list(options.audience_dirs))
    for i, r in enumerate(lst.recipients):
        if r.audience not in audiences:
            errors.append(
                doc.error(
                    ("recipients", i, "audience"),
                    f"unknown audience '{r.audience}'; available: {', '.join(sorted(audiences))}",
                )
            )
    case = None
    if not case_dir.is_dir():
        errors.append(
            FactError(str(case_dir), 0, 0, "case folder does not exist")
            if options.case is not None
            else doc.error(("case",), f"case folder not found: {case_dir} (the path is relative to this list)")
        )
    else:
        try:
            case = load_case(case_dir)
        except CaseInvalid as exc:
            errors.extend(exc.errors)
    if errors or case is None:
        raise CaseInvalid(errors)

    # Decide every edition (and so its marking) before laying anything out. A recipient
    # whose copy is marked more strictly than the audience's briefing gets a briefing
    # rendered at that marking, so that the stamp and the page banners say the same.
    own: dict[str, Edition] = {}
    recipients: dict[str, list[tuple[int, Recipient]]] = {}
    for i, r in enumerate(lst.recipients):
        if r.audience not in own:
            own[r.audience] = render_edition(case, audiences[r.audience], options.templates)
            recipients[r.audience] = []
        edition = own[r.audience]
        if r.marking is not None and MARKING_ORDER[r.marking] < MARKING_ORDER[edition.marking]:
            errors.append(
                doc.error(
                    ("recipients", i, "marking"),
                    f"TLP:{r.marking} is less restrictive than the {r.audience} briefing's own marking "
                    f"TLP:{edition.marking}; a copy may be marked the same or more restrictive, never less",
                )
            )
        recipients[r.audience].append((i, r))
        if lst.mail is not None and r.email is not None:
            problem = policy_problem(lst.mail, r.marking or edition.marking, r.email)
            if problem:
                errors.append(doc.error(("recipients", i, "email"), problem))
    if errors:
        raise CaseInvalid(errors)
    editions: dict[tuple[str, str], Edition] = {}
    for name, edition in own.items():
        for _, r in recipients[name]:
            marking = r.marking or edition.marking
            if (name, marking) not in editions:
                editions[name, marking] = (
                    edition
                    if marking == edition.marking
                    else render_edition(case, audiences[name], options.templates, marking_floor=marking)
                )

    # One layout per audience and marking: the slow step, never repeated per recipient.
    # (WeasyPrint is imported only now, so a wrong list fails fast.)
    from .stamp import Stamp, StampedDocument

    report = DistributionReport()
    laid_out: dict[tuple[str, str], tuple[bytes, int]] = {}
    total = len(editions) + len(lst.recipients)  # progress steps: layouts, then copies
    done = 0
    for (name, marking), edition in editions.items():
        laid = lay_out(edition)
        report.layouts[name] = report.layouts.get(name, 0.0) + laid.seconds
        done += 1
        if progress:
            at = "" if marking == own[name].marking else f" at TLP:{marking}"
            progress(
                f"{case.id}/{name} briefing{at} (laid out once, {laid.pages} page{'s' if laid.pages != 1 else ''})",
                done,
                total,
            )
        if edition is own[name]:
            errors.extend(budget_problems(edition, laid))
        laid_out[name, marking] = (laid.data, laid.pages)
    if errors:
        raise CaseInvalid(errors)

    # Stamp and write, copy by copy, into this run's own folder. Writes go to a few
    # threads: each one ends in an fsync (milliseconds of waiting, without the GIL) that
    # can overlap the next copy's assembly. At most WRITES_IN_FLIGHT copies wait in memory.
    case_folder = out / safe_name(case.id)
    composed = _composed_before(case_folder) if lst.mail is not None else {}
    staging = _new_set(case_folder, out)
    edition_text = lst.edition_label or f"Edition {case.info.edition}"
    records: dict[int, CopyRecord] = {}
    messages: dict[int, MessageFile] = {}
    pending: deque[tuple[Future[None], Path | None]] = deque()
    """Writes in flight, each with the copy's path (None for a message)."""

    def finish_oldest() -> None:
        nonlocal done
        future, path = pending.popleft()
        future.result()  # an OutputError surfaces here
        if path is None:
            return
        report.paths.append(path)
        done += 1
        if progress:
            progress(str(path), done, total)

    with ThreadPoolExecutor(max_workers=WRITERS) as writers:
        try:
            for name, group in recipients.items():
                m = len(group)
                stamps = [
                    Stamp(r.name, r.organisation, n, m, edition_text, r.marking or own[name].marking)
                    for n, (_, r) in enumerate(group, start=1)
                ]
                for marking in dict.fromkeys(st.marking for st in stamps):
                    data, pages = laid_out[name, marking]
                    briefing_sha256 = hashlib.sha256(editions[name, marking].html.encode("utf-8")).hexdigest()
                    numbers = [n for n, st in enumerate(stamps, start=1) if st.marking == marking]
                    copies = StampedDocument(data).copies([stamps[n - 1] for n in numbers])
                    for n, copy in zip(numbers, copies, strict=True):
                        (i, r), stamp = group[n - 1], stamps[n - 1]
                        path = copy_path(out, case.id, name, n, m, r.name)
                        target = staging / copy_name(name, n, m, r.name)
                        pending.append((writers.submit(write_atomic, target, copy.data, marking), path))
                        if copy.missing_glyphs:
                            report.warnings.append(
                                f"{path}: some characters of '{r.name} ({r.organisation})' are in no installed "
                                "font and print as empty boxes; the full name is in the copy's text, metadata and "
                                "the register"
                            )
                        records[i] = record = CopyRecord(
                            recipient=r.name,
                            organisation=r.organisation,
                            email=r.email or "",
                            audience=name,
                            file=path.relative_to(out).as_posix(),
                            copy=n,
                            copies=m,
                            edition=case.info.edition,
                            edition_label=edition_text,
                            marking=f"TLP:{stamp.marking}",
                            pages=pages,
                            sha256=hashlib.sha256(copy.data).hexdigest(),
                        )
                        if lst.mail is not None and r.email is not None:
                            suffix = audiences[name].profile.title_suffix
                            about = Copy(
                                case=case.id,
                                title=f"{case.info.title} — {suffix}" if suffix else case.info.title,
                                audience=name,
                                recipient=r.name,
                                organisation=r.organisation,
                                email=r.email,
                                copy=n,
                                copies=m,
                                edition_label=edition_text,
                                marking=stamp.marking,
                                pages=pages,
                                sha256=record.sha256,
                                briefing_sha256=briefing_sha256,
                                filename=path.name,
                            )
                            # A message keeps the Date it was first composed with (by a dry
                            # run, say), so the .eml checked is byte for byte the one sent.
                            when = composed.get(message_id(about, lst.mail.sender), date)
                            try:
                                msg = compose(about, copy.data, lst.mail.sender, lst.mail.sender_name, when)
                            except HeaderProblem as exc:
                                raise UsageError(f"{list_path}: {exc}") from None
                            name_eml = target.with_suffix(".eml").relative_to(staging)
                            pending.append((writers.submit(write_atomic, staging / name_eml, msg.data, marking), None))
                            messages[i] = MessageFile(
                                record,
                                path.with_suffix(".eml"),
                                name_eml,
                                msg.message_id,
                                msg.sender,
                                msg.recipient,
                                msg.smtputf8,
                            )
                        while pending and (len(pending) > WRITES_IN_FLIGHT or pending[0][0].done()):
                            finish_oldest()
            while pending:
                finish_oldest()
        except BaseException:
            # Queued copies are dropped, and the run's folder with every copy written: the
            # previous complete set stays where it was.
            writers.shutdown(wait=True, cancel_futures=True)
            shutil.rmtree(staging, ignore_errors=True)
            raise

    # The register, last: in list order, so it reads like the list it came from. Then the
    # whole set takes the place of the previous one at once.
    report.copies = [records[i] for i in sorted(records)]
    report.messages = [messages[i] for i in sorted(messages)]
    report.mail, report.list_path = lst.mail, list_path
    try:
        _write_register(staging, report.copies, lst, list_path, case)
        _swap_in(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    current = case_folder / CURRENT
    report.case_folder, report.folder = case_folder, staging
    report.register_csv, report.register_json = current / f"{REGISTER}.csv", current / f"{REGISTER}.json"
    if (case_folder / f"{REGISTER}.json").is_file():
        report.warnings.append(
            f"{case_folder}: holds copies and a register written by an earlier version of briefgen, beside "
            f"this run's in {current}; remove them once they are no longer needed"
        )
    return report


# ---------------------------------------------------------------- one run, one set


def _composed_before(case_folder: Path) -> dict[str, datetime]:
    """Message-ID → Date of each message in the current set (``distribution/*/*.eml``)."""
    dates: dict[str, datetime] = {}
    for path in (case_folder / CURRENT).glob("*/*.eml"):
        try:
            # Only a regular file of this run's kind, and only its head: a pipe, a link to
            # /dev/zero or a huge file in the output folder must not stall or sink the run.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    continue
                head = BytesHeaderParser(policy=email.policy.default).parsebytes(f.read(16_384).split(b"\r\n\r\n")[0])
            mid, date = head.get("Message-ID"), head.get("Date")
            if mid and date and date.datetime is not None:
                dates[str(mid)] = date.datetime
        except Exception:  # noqa: BLE001 - unreadable, for whatever reason: the message is composed afresh
            continue
    return dates


def _new_set(case_folder: Path, out: Path) -> Path:
    """A fresh, empty folder for this run's copies and register (readable as the umask
    allows, like any folder briefgen makes); left-overs of killed runs are removed first."""
    try:
        case_folder.mkdir(parents=True, exist_ok=True)
        _inside(case_folder, out)
        _remove_old_sets(case_folder)
        staging = Path(tempfile.mkdtemp(prefix=f"{_SET_PREFIX}{os.getpid()}-", dir=case_folder))
        mode = file_mode()
        os.chmod(staging, mode | ((mode & 0o444) >> 2))  # a folder: searchable where readable
    except OSError as exc:
        raise OutputError(
            f"{case_folder}: cannot write output here: {exc.strerror}; choose another --out folder or fix its permissions"
        ) from None
    return staging


def _swap_in(staging: Path) -> None:
    """Point ``<case>/distribution`` at ``staging`` (atomically: the link is replaced in one
    rename), then remove the sets no longer pointed at."""
    folder = staging.parent
    current = folder / CURRENT
    if current.exists() and not current.is_symlink():
        raise OutputError(
            f"{current}: is a folder of its own, not the link to briefgen's last distribution; "
            "move it away, then run again"
        )
    _sync_folder(staging)
    link = folder / f".{CURRENT}-link-{staging.name}"
    try:
        os.symlink(staging.name, link)  # relative: the output folder can be moved
        os.replace(link, current)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(link)
        raise OutputError(f"{current}: cannot write: {exc.strerror}") from None
    _sync_folder(folder)
    _remove_old_sets(folder)


def _remove_old_sets(folder: Path) -> None:
    """Remove the run folders the link does not point at, except those another live process
    is still writing."""
    current = folder / CURRENT
    target = os.readlink(current) if current.is_symlink() else None
    for p in folder.iterdir():
        m = _SET_NAME.match(p.name)
        if m is None or p.name == target or not p.is_dir() or p.is_symlink():
            continue
        pid = int(m["pid"])
        if pid != os.getpid() and not _writer_gone(pid):
            continue  # a run in progress elsewhere
        shutil.rmtree(p, ignore_errors=True)


def _write_register(
    folder: Path, copies: list[CopyRecord], lst: DistributionList, list_path: Path, case: Any
) -> tuple[Path, Path]:
    """Write ``register.csv`` and ``register.json``; no clock and no absolute paths, so a
    rerun writes the same bytes."""
    rows = [asdict(c) for c in copies]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    register = {
        "case": case.id,
        "case_fingerprint": case.fingerprint,
        "list": list_path.name,
        "list_sha256": hashlib.sha256(list_path.read_bytes()).hexdigest(),
        "edition": case.info.edition,
        "edition_label": lst.edition_label or f"Edition {case.info.edition}",
        "copies": rows,
    }
    csv_path, json_path = folder / f"{REGISTER}.csv", folder / f"{REGISTER}.json"
    # The register names every recipient of the run: as restricted as its most restricted copy.
    marking = max((c.marking.removeprefix("TLP:") for c in copies), key=lambda m: MARKING_ORDER.get(m, 0))
    write_atomic(csv_path, text.getvalue().encode("utf-8"), marking)
    write_atomic(json_path, (json.dumps(register, indent=2, ensure_ascii=False) + "\n").encode("utf-8"), marking)
    return csv_path, json_path
