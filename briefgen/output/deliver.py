"""deliver: send each recipient's message (written by :func:`~briefgen.output.distribute.distribute`
as ``.eml`` beside their copy) over SMTP, and keep a delivery register that a later run
resumes from.

The delivery register lives beside the ``distribution`` link, outside the per-run
folders, so every run sees what earlier runs sent:

* ``<out>/<case>/deliveries.jsonl``, the journal: one JSON object per line, appended and
  fsynced, never rewritten: ``message_id``, ``status``, ``time`` (UTC), ``answer`` (the
  server's reply), and the copy's recipient, organisation, email, audience, file and
  SHA-256. A message's state is its last line.
* ``<out>/<case>/deliveries.csv``, the same state one row per copy of the current set,
  rewritten atomically at the end of every sending run, for people.

A message is keyed by its Message-ID, which is derived from the recipient and the SHA-256
of the briefing their copy was stamped from (see
:func:`briefgen.output.message.delivery_key`): a rebuild gives the same briefings, so the
same Message-IDs, and a recipient added to the list later renumbers the other copies
("Copy 3 of 41") without sending them again. A briefing that changed (a fact edited, a
new edition) is a new message to everyone. For each message the run writes ``sending`` (fsynced)
just before the DATA command, and ``sent`` once the server has answered 250. At the
next run:

* ``sent``: skipped, never sent twice;
* ``refused`` (the server said no with a 5xx) or ``failed`` (a 4xx, or the connection
  lost before DATA): sent again;
* ``sending``: *uncertain*: the run stopped (killed, connection lost) after the message
  was handed over and before the server's answer was read, so it may have arrived. It is
  not sent again unless asked (``--retry-uncertain``); a copy sent again carries the same
  Message-ID, so the recipient's mail client can tell it is the same message.

Only one process sends a case's copies at a time (a lock on the journal).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import smtplib
import ssl
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import OutputError, UsageError
from .atomic import _sync_folder, file_mode, write_atomic
from .distribute import CopyRecord, DistributionReport, MessageFile, csv_cell
from .mailsettings import PASSWORD_ENV, Server, resolve_server

JOURNAL = "deliveries.jsonl"
"""The delivery journal, in ``<out>/<case>/``."""
REGISTER = "deliveries.csv"
"""The delivery register (one row per copy of the current set), in ``<out>/<case>/``."""
TIMEOUT = 60.0
"""Seconds to wait for the server at any step before giving up on it."""

SENT, SENDING, REFUSED, FAILED = "sent", "sending", "refused", "failed"
STATES = frozenset({SENT, SENDING, REFUSED, FAILED})
"""What the journal records; the register adds the states of copies not tried."""
ENTRY_FIELDS = frozenset({"message_id", "status", "time", "answer", "email", "sha256"})
UNCERTAIN, NOT_SENT, NO_ADDRESS = "uncertain", "not sent", "no address"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DeliverOptions:
    dry_run: bool = False
    """Send nothing: say what a sending run would do."""
    retry_uncertain: bool = False
    """Send again the messages an earlier run may or may not have delivered."""
    password: Callable[[str], str] | None = None
    """Asks for the password (given the prompt) when the server needs a login and
    ``BRIEFGEN_SMTP_PASSWORD`` is not set; None: no one to ask."""
    env: Mapping[str, str] | None = None
    """Where ``BRIEFGEN_SMTP_*`` are read; None: the process's environment."""
    timeout: float = TIMEOUT


@dataclass
class Delivery:
    """One copy's row of the delivery register."""

    recipient: str
    organisation: str
    email: str
    audience: str
    file: str
    sha256: str
    message_id: str
    status: str
    """sent, refused, failed, uncertain, not sent, or no address."""
    time: str = ""
    """When the status was recorded (UTC, ISO 8601), for sent, refused, failed and uncertain."""
    answer: str = ""
    """The server's reply (or what went wrong)."""
    this_run: bool = False
    """Whether this run tried it."""


@dataclass
class DeliveryReport:
    deliveries: list[Delivery] = field(default_factory=list)
    journal: Path | None = None
    register: Path | None = None
    stopped: str | None = None
    """Why sending stopped before the end (server unreachable, connection lost...)."""
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    def count(self, status: str, this_run: bool | None = None) -> int:
        return sum(d.status == status and (this_run is None or d.this_run == this_run) for d in self.deliveries)

    @property
    def ok(self) -> bool:
        """Nothing failed, was refused, or is left uncertain or unsent (addresses aside)."""
        return self.stopped is None and all(d.status in (SENT, NO_ADDRESS) for d in self.deliveries)


class _Stop(Exception):
    """Sending cannot go on (the message says why and what to do)."""


# ---------------------------------------------------------------- the journal


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def read_journal(path: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Each message's last entry in the journal at ``path``, and warnings for lines that
    could not be read (a line cut short by a killed run)."""
    states: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return states, warnings
    for n, line in enumerate(text.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if not (isinstance(entry, dict) and entry.keys() >= ENTRY_FIELDS and entry["status"] in STATES):
                raise ValueError("not a journal entry")
            states[str(entry["message_id"])] = entry
        except (ValueError, TypeError, RecursionError):
            warnings.append(f"{path}:{n}: an unreadable line (a run cut short while writing it?) was ignored")
    return states, warnings


class Journal:
    """The journal, open for appending, locked against other sending runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            # Never through a link (someone else's file would get the names and addresses).
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, file_mode("RED"))
        except OSError as exc:
            raise OutputError(
                f"{path}: cannot write the delivery register: {exc.strerror}"
                + ("; it is a symbolic link: remove it" if path.is_symlink() else "")
            ) from None
        info = os.fstat(self.fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            os.close(self.fd)
            raise OutputError(f"{path}: the delivery register is not a file of yours; move it away and run again")
        os.fchmod(self.fd, file_mode("RED"))  # (a file made by hand or an older run: never readable by others)
        try:
            import fcntl

            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # (no fcntl: Windows)
            pass
        except OSError:
            os.close(self.fd)
            raise OutputError(
                f"{path}: another 'briefgen distribute --send' is sending copies of this case; "
                "let it finish, then run again"
            ) from None
        _sync_folder(path.parent)
        size = os.fstat(self.fd).st_size
        if size and os.pread(self.fd, 1, size - 1) != b"\n":
            self._write(b"\n")  # close a line cut short, so the next entry starts on its own

    def _write(self, data: bytes) -> None:
        try:
            os.write(self.fd, data)
            os.fsync(self.fd)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write the delivery register: {exc.strerror}") from None

    def append(self, message: MessageFile, status: str, answer: str) -> dict[str, Any]:
        """Record ``status`` for ``message``, durably (fsync), and return the entry."""
        r = message.record
        entry = {
            "message_id": message.message_id,
            "status": status,
            "time": _now(),
            "answer": answer,
            "recipient": r.recipient,
            "organisation": r.organisation,
            "email": r.email,
            "audience": r.audience,
            "file": r.file,
            "sha256": r.sha256,
        }
        self._write((json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
        return entry

    def close(self) -> None:
        os.close(self.fd)


@contextlib.contextmanager
def _journal(path: Path) -> Iterator[Journal]:
    j = Journal(path)
    try:
        yield j
    finally:
        j.close()


# ---------------------------------------------------------------- SMTP


def _answer(code: int, text: bytes | str) -> str:
    """The server's reply as one printable line (no terminal control sequences from it)."""
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    words = "".join(c if c.isprintable() else " " for c in words)
    return f"{code} {' '.join(words.split())}".strip()


def connect(server: Server, password: str | None, timeout: float) -> smtplib.SMTP:
    """A session with ``server``: TLS as configured (the certificate verified against the
    system's authorities, or ``server.ca_file``), logged in when a username is given."""
    where = f"the SMTP server {server}"
    context = ssl.create_default_context(cafile=str(server.ca_file) if server.ca_file else None)
    smtp: smtplib.SMTP | None = None
    try:
        if server.security == "tls":
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
        smtp.ehlo()
        if server.security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if server.username is not None:
            smtp.login(server.username, password or "")
        return smtp
    except ssl.SSLCertVerificationError as exc:
        problem = (
            f"{where} presented a certificate that cannot be trusted ({exc.verify_message}); if it uses a "
            "private certificate authority, give that authority's certificate as mail.ca_file or BRIEFGEN_SMTP_CA_FILE"
        )
    except smtplib.SMTPNotSupportedError as exc:
        problem = (
            f"{where} does not offer {'STARTTLS' if 'STARTTLS' in str(exc) else 'a login (AUTH)'} "
            f"({exc}); check mail.security (starttls, tls) and mail.port with the server's administrator"
        )
    except smtplib.SMTPAuthenticationError as exc:
        problem = (
            f"{where} refused the login of {server.username}: {_answer(exc.smtp_code, exc.smtp_error)}; "
            f"check the username and {PASSWORD_ENV}"
        )
    except smtplib.SMTPResponseException as exc:
        problem = f"{where} answered {_answer(exc.smtp_code, exc.smtp_error)}; try again later"
    except (OSError, smtplib.SMTPException) as exc:
        problem = (
            f"cannot reach {where}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}; "
            "check mail.host, mail.port and mail.security (or BRIEFGEN_SMTP_HOST, _PORT, _SECURITY), "
            "or try again later"
        )
    if smtp is not None:
        with contextlib.suppress(Exception):
            smtp.close()
    raise _Stop(problem)


def _status(code: int) -> str:
    return SENT if code == 250 else REFUSED if code >= 500 else FAILED


def send_one(smtp: smtplib.SMTP, message: MessageFile, data: bytes, journal: Journal) -> tuple[str, str]:
    """Send one message; its status and the server's answer, each recorded in the journal.

    Raises _Stop when the connection is lost (the message then recorded as failed, or
    left 'sending' when it may have arrived)."""
    options = ["SMTPUTF8"] if message.smtputf8 else []
    intent = False
    try:
        code, text = smtp.mail(message.sender, options)
        if code == 250:
            code, text = smtp.rcpt(message.recipient)
        if code not in (250, 251):
            status, answer = _status(code), _answer(code, text)
            journal.append(message, status, answer)
            smtp.rset()
            return status, answer
        # From here the server may take the message: say so durably first.
        journal.append(message, SENDING, "")
        intent = True
        code, text = smtp.data(data)
    except smtplib.SMTPDataError as exc:  # DATA refused before the message was sent
        status, answer = _status(exc.smtp_code), _answer(exc.smtp_code, exc.smtp_error)
        journal.append(message, status, answer)
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.rset()
        return status, answer
    except (OSError, smtplib.SMTPException) as exc:
        lost = f"the connection was lost ({exc})"
        if intent:
            raise _Stop(
                f"{lost} while handing over the message to {message.recipient}, which may or may not have "
                "arrived; it is not sent again unless you run again with --retry-uncertain"
            ) from None
        journal.append(message, FAILED, lost)
        raise _Stop(f"{lost} before the message to {message.recipient} was handed over") from None
    status, answer = _status(code), _answer(code, text)
    journal.append(message, status, answer)
    if status != SENT:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.rset()
    return status, answer


# ---------------------------------------------------------------- a run


def _password(server: Server, options: DeliverOptions, env: Mapping[str, str]) -> str | None:
    if server.username is None:
        return None
    if not server.username.isascii():
        raise UsageError(f"the SMTP login name {server.username!r} is not ASCII, which SMTP login cannot send")
    if env.get(PASSWORD_ENV):
        password = env[PASSWORD_ENV]
    elif options.password is None:
        raise UsageError(
            f"the SMTP server {server} needs the password of {server.username}: set {PASSWORD_ENV}, "
            "or run on a terminal to be asked for it"
        )
    else:
        password = options.password(f"Password of {server.username} at {server.host}")
    if not password.isascii():  # (said without quoting any of it)
        raise UsageError(
            f"the password for {server.username} holds characters other than ASCII, which SMTP login (AUTH PLAIN "
            "and LOGIN, as Python sends them) cannot carry; nothing was sent"
        )
    return password


def _entry(states: dict[str, dict[str, Any]], m: MessageFile) -> dict[str, Any] | None:
    """The journal's last word on ``m``: only an entry for its own address counts."""
    entry = states.get(m.message_id)
    return entry if entry is not None and entry["email"] == m.recipient else None


def _delivery(m: MessageFile, entry: dict[str, Any] | None, this_run: bool = False) -> Delivery:
    r = m.record
    status = NOT_SENT if entry is None else UNCERTAIN if entry["status"] == SENDING else str(entry["status"])
    # A copy sent by an earlier run may have had another number: the register names the
    # file and SHA-256 of what was sent.
    sent = entry is not None and entry["status"] in (SENT, SENDING)
    return Delivery(
        recipient=r.recipient,
        organisation=r.organisation,
        email=r.email,
        audience=r.audience,
        file=str(entry.get("file", r.file)) if sent and entry else r.file,
        sha256=str(entry.get("sha256", r.sha256)) if sent and entry else r.sha256,
        message_id=m.message_id,
        status=status,
        time=str(entry["time"]) if entry else "",
        answer=str(entry.get("answer", "")) if entry else "",
        this_run=this_run,
    )


def deliver(
    report: DistributionReport, options: DeliverOptions = DeliverOptions(), progress: Progress | None = None
) -> DeliveryReport:
    """Send the messages of a distribution (its list must have a ``mail:`` section), each
    unless the delivery register says it was sent already; or, with ``dry_run``, say what
    would be sent. Raises UsageError for missing settings, OutputError when the register
    cannot be written; a server that cannot be reached or a lost connection stops the run
    (``stopped`` says why) with everything up to there recorded."""
    if report.mail is None or report.case_folder is None or report.folder is None or report.list_path is None:
        raise UsageError("the distribution list has no mail: section; add one to send the copies (docs/audiences.md)")
    env = os.environ if options.env is None else options.env
    journal_path = report.case_folder / JOURNAL
    out = DeliveryReport(journal=journal_path, register=report.case_folder / REGISTER, dry_run=options.dry_run)
    no_address = [c for c in report.copies if not c.email]

    def plan(states: dict[str, dict[str, Any]]) -> list[MessageFile]:
        todo = []
        for m in report.messages:
            entry = _entry(states, m)
            status = entry["status"] if entry else None
            if status == SENT or (status == SENDING and not options.retry_uncertain):
                continue
            todo.append(m)
        return todo

    if options.dry_run:
        states, out.warnings = read_journal(journal_path)
        would = {m.message_id for m in plan(states)}
        for m in report.messages:
            d = _delivery(m, _entry(states, m))
            if m.message_id in would:
                d.status, d.time, d.answer = NOT_SENT, "", "would be sent"
            out.deliveries.append(d)
        out.deliveries += [_no_address(c) for c in no_address]
        return out

    server = resolve_server(report.mail, report.list_path, env)
    with _journal(journal_path) as journal:
        states, out.warnings = read_journal(journal_path)
        todo = plan(states)
        tried: set[str] = set()
        if todo:
            password = _password(server, options, env)
            try:
                _send_all(server, password, options, todo, report.folder, journal, tried, progress)
            except _Stop as stop:
                out.stopped = str(stop)
        states, _ = read_journal(journal_path)
        out.deliveries = [_delivery(m, _entry(states, m), m.message_id in tried) for m in report.messages]
        out.deliveries += [_no_address(c) for c in no_address]
        _write_register(out)
    return out


def _send_all(
    server: Server,
    password: str | None,
    options: DeliverOptions,
    todo: list[MessageFile],
    folder: Path,
    journal: Journal,
    tried: set[str],
    progress: Progress | None,
) -> None:
    """Send ``todo`` in one session; raises _Stop when the session cannot go on."""
    smtp = connect(server, password, options.timeout)
    try:
        needs = [m.recipient for m in todo if m.smtputf8]
        if needs and not smtp.has_extn("smtputf8"):
            raise _Stop(
                f"the SMTP server {server} does not accept non-ASCII addresses (it does not offer SMTPUTF8), "
                f"which {', '.join(needs)} need{'s' if len(needs) == 1 else ''}; nothing was sent; give these "
                "recipients ASCII addresses, or use a server that offers SMTPUTF8"
            )
        for done, m in enumerate(todo, start=1):
            data = (folder / m.name).read_bytes()
            tried.add(m.message_id)
            status, _ = send_one(smtp, m, data, journal)
            if progress:
                progress(f"{status}: {m.record.recipient} <{m.recipient}>", done, len(todo))
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()


def _no_address(c: CopyRecord) -> Delivery:
    return Delivery(c.recipient, c.organisation, "", c.audience, c.file, c.sha256, "", NO_ADDRESS)


def _write_register(out: DeliveryReport) -> None:
    """``deliveries.csv``: every copy of the current set, with its delivery state (atomically)."""
    assert out.register is not None
    rows = [{k: v for k, v in asdict(d).items() if k != "this_run"} for d in out.deliveries]
    text = io.StringIO()
    writer = csv.DictWriter(
        text, fieldnames=[f for f in Delivery.__dataclass_fields__ if f != "this_run"], lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    # Names and addresses: never readable by other users, whatever the copies' marking.
    write_atomic(out.register, text.getvalue().encode("utf-8"), "RED")
