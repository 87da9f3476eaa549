"""message: one recipient's copy as an e-mail (RFC 5322 bytes, CRLF line ends), exactly
as it is written to ``.eml`` and sent.

The bytes depend only on the copy, the list and the date given: the Message-ID and the
MIME boundary are derived from the recipient and the briefing's SHA-256 (see
:func:`delivery_key`), so the same briefing to the same person always has the same
Message-ID (a second delivery of it is recognisable as a duplicate). The Date is given by
the caller: when the message was first composed, which later runs keep (see
``distribute._composed_before``). Names are header *values*, never header text: a
non-Latin name is written as RFC 2047 encoded words, a long one folded onto
continuation lines, and a non-ASCII address makes the message an RFC 6532 (SMTPUTF8)
one, which is sent only to a server that says it accepts them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import Parser
from email.utils import format_datetime

from ..briefing.view import MARKING_MEANING


@dataclass(frozen=True)
class Copy:
    """What a message says about the copy it carries."""

    case: str
    title: str
    """The briefing's title, e.g. 'Border crisis — Executive summary'."""
    audience: str
    recipient: str
    organisation: str
    email: str
    copy: int
    copies: int
    edition_label: str
    marking: str
    """Without the ``TLP:`` prefix."""
    pages: int
    sha256: str
    """The SHA-256 of this copy (stamped for its recipient)."""
    briefing_sha256: str
    """The SHA-256 of the briefing's HTML the copy was laid out from: the same for every
    copy of an edition at a marking, whoever receives it, whatever its number, and
    whichever WeasyPrint or fonts lay it out."""
    filename: str


@dataclass(frozen=True)
class Message:
    """A message ready to send: envelope and bytes."""

    message_id: str
    sender: str
    recipient: str
    data: bytes
    smtputf8: bool
    """Whether an address is not ASCII (the server must offer SMTPUTF8)."""


def delivery_key(copy: Copy) -> str:
    """A stable name for 'this briefing to this person at this address': the same
    whenever the same briefing goes to the same recipient, whatever the copy's number
    (adding a recipient renumbers the copies of that edition, 'Copy 3 of 41', without
    making the briefing another one; a fact edited, a new edition, is another one)."""
    parts = (
        copy.case,
        copy.audience,
        copy.marking,
        copy.recipient,
        copy.organisation,
        copy.email.casefold(),
        copy.briefing_sha256,
    )
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:40]


def message_id(copy: Copy, sender: str) -> str:
    domain = sender.rpartition("@")[2]
    return f"<{delivery_key(copy)}.briefgen@{domain if domain.isascii() else 'briefgen.invalid'}>"


def _address(name: str | None, address: str) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=name or "", username=local, domain=domain)


def subject(copy: Copy) -> str:
    return f"[TLP:{copy.marking}] {copy.title} — {copy.edition_label}, copy {copy.copy} of {copy.copies}"


def body(copy: Copy) -> str:
    s = "s" if copy.pages != 1 else ""
    return (
        f"{copy.recipient},\n\n"
        f"attached is your copy of “{copy.title}”, {copy.edition_label}, marked TLP:{copy.marking}.\n"
        f"It is copy {copy.copy} of {copy.copies}, prepared for {copy.recipient} ({copy.organisation}); "
        "every page carries that stamp.\n\n"
        f"TLP:{copy.marking}: {MARKING_MEANING[copy.marking]}\n\n"
        f"File: {copy.filename} ({copy.pages} page{s})\n"
        f"SHA-256: {copy.sha256}\n\n"
        "Sent by briefgen. Share it only as its marking allows.\n"
    )


def compose(copy: Copy, pdf: bytes, sender: str, sender_name: str | None, date: datetime) -> Message:
    """The message carrying ``pdf`` (the copy itself) to ``copy.email``."""
    utf8 = not (copy.email.isascii() and sender.isascii())
    # Header lines up to RFC 5322's limit of 998: the email package's folding at 78 drops
    # the quotes of a long display name holding commas, making two addresses of one.
    msg = EmailMessage(policy=(policy.SMTPUTF8 if utf8 else policy.SMTP).clone(max_line_length=998))
    mid = message_id(copy, sender)
    # Header values go through the email package's header objects, which refuse CR/LF
    # and encode or fold what needs it; nothing here is pasted into header text.
    try:
        msg["From"] = _address(sender_name, sender)
        msg["To"] = _address(copy.recipient, copy.email)
        msg["Subject"] = " ".join(subject(copy).split())
        msg["Date"] = format_datetime(date)
        msg["Message-ID"] = mid
        msg["X-Briefgen-Copy"] = f"{copy.case}/{copy.audience} {copy.copy}/{copy.copies} sha256={copy.sha256}"
        msg.set_content(body(copy), cte="quoted-printable")  # 7-bit: no 8BITMIME needed
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=copy.filename)
        msg.set_boundary(f"briefgen-{delivery_key(copy)}")  # (random by default)
        data = msg.as_bytes()
    except Exception as exc:  # (the email package's folder fails in many ways on odd names)
        raise HeaderProblem(
            f"the message to {copy.email} could not be written ({type(exc).__name__}): a name, the title or the "
            "edition label holds what mail headers cannot carry; rephrase it"
        ) from None
    _check_headers(data, copy, sender, sender_name)
    return Message(mid, sender, copy.email, data, utf8)


HEADERS = ["From", "To", "Subject", "Date", "Message-ID", "X-Briefgen-Copy", "MIME-Version", "Content-Type"]


class HeaderProblem(ValueError):
    """A message would not read, once parsed, as it was written."""


def _check_headers(data: bytes, copy: Copy, sender: str, sender_name: str | None) -> None:
    """Parse the message back, as its reader's mail program will, and refuse it unless it
    has exactly our headers saying exactly what we wrote. Text that looks like an RFC 2047
    encoded word ('=?utf-8?q?...?=') in a title is decoded by mail programs into other
    text, and Python before 3.11.10 and 3.12.5 (CVE-2024-6923) even writes the line breaks
    such a word encodes as real ones, adding headers of the sender's choosing."""

    # (the text parser, for the raw UTF-8 of an SMTPUTF8 message; text is compared without
    # its spaces, which the email package's decoder adds between adjacent encoded words)
    def same(a: object, b: str) -> bool:
        return "".join(str(a).split()) == "".join(b.split())

    def one(header: str, name: str | None, address: str) -> bool:
        found: tuple[Address, ...] = parsed[header].addresses if parsed[header] is not None else ()
        return len(found) == 1 and found[0].addr_spec == address and same(found[0].display_name, name or "")

    problems = []
    try:
        parsed = Parser(policy=policy.default).parsestr(data.decode("utf-8", "replace"), headersonly=True)
        if list(parsed.keys()) != HEADERS:
            problems.append(f"its headers would be {', '.join(parsed.keys())}")
        if not same(parsed["Subject"], subject(copy)):
            problems.append(f"its subject would read {str(parsed['Subject'])!r}")
        if not one("To", copy.recipient, copy.email):
            problems.append(f"it would be addressed to {parsed['To']!s}")
        if not one("From", sender_name, sender):
            problems.append(f"it would be from {parsed['From']!s}")
    except Exception as exc:  # (the email package's parser fails in many ways on odd names)
        problems.append(f"it could not be read back ({type(exc).__name__})")
    if problems:
        raise HeaderProblem(
            f"the message to {copy.email} would not say what briefgen wrote: {'; '.join(problems)}; a name, the "
            "title or the edition label holds what mail programs read otherwise (an encoded word =?...?=, or "
            "address punctuation): rephrase it"
        )


def message_date(given: datetime | None = None) -> datetime:
    """The Date of a run's messages: ``given``, else now (to the second, UTC)."""
    return given if given is not None else datetime.now(UTC).replace(microsecond=0)
