"""`briefgen distribute --send`: messages, marking policy, and delivery to a real SMTP
server (aiosmtpd, on loopback) with STARTTLS, implicit TLS and a login, through failures
and a resumed second run.

Briefing layouts are made once (module fixture) and reused by every later run, as in
test_distribute; the stamped copies, the messages and the SMTP sessions are all real.
The TLS certificates come from a throw-away certificate authority (trustme) that the
client is told to trust with ``BRIEFGEN_SMTP_CA_FILE``, as a user would for a private CA.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import os
import pty
import random
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import MINIMAL
from pydantic import ValidationError

import briefgen.output.pdf
from briefgen import cli
from briefgen.errors import CaseInvalid, OutputError, UsageError
from briefgen.output.deliver import JOURNAL, REGISTER, Journal, read_journal
from briefgen.output.distribute import DistributeOptions, distribute, load_list
from briefgen.output.mailsettings import MailSettings, policy_problem, resolve_server
from briefgen.output.message import Copy, HeaderProblem, compose

PEOPLE = [
    # name, organisation, email (the minimal case's executive briefing is TLP:AMBER)
    ("Ana Lima", "Foreign Office", "ana@example.org"),
    ("Ben Okafor", "Ops Centre", "ben@example.org"),
    ("Chen Jing 陈静", "Liaison", "chen@ops.example.org"),
    ("Dara Novak", "Foreign Office", "dara@example.org"),
    ("Eve Ørsted", "Partner Desk", "eve@partner.example"),
]
ALLOWED = "{AMBER: [example.org, ops.example.org, eve@partner.example]}"


def write_list(folder: Path, people: list[tuple[str, str, str]] = PEOPLE, mail: str | None = None) -> Path:
    mail = (
        mail
        or f"mail:\n  host: 127.0.0.1\n  sender: desk@example.org\n  sender_name: Situation Desk\n  allowed: {ALLOWED}"
    )
    lines = ["case: demo", "edition_label: Edition 2 (final)", mail, "recipients:"]
    for name, org, email in people:
        lines.append(f"  - name: {json.dumps(name, ensure_ascii=False)}")
        lines.append(f"    organisation: {json.dumps(org, ensure_ascii=False)}")
        lines.append("    audience: executive")
        if email:
            lines.append(f"    email: {json.dumps(email, ensure_ascii=False)}")
    path = folder / "list.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- layouts, made once


@pytest.fixture(scope="module")
def briefing_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, int]]:
    folder = tmp_path_factory.mktemp("layouts")
    shutil.copytree(MINIMAL, folder / "demo")
    real = briefgen.output.pdf.render_pdf_counted
    cache: dict[str, tuple[bytes, int]] = {}

    def keep(html: str, **kw: Any) -> tuple[bytes, int]:
        cache[html] = result = real(html, **kw)
        return result

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(briefgen.output.pdf, "render_pdf_counted", keep)
        distribute(write_list(folder), DistributeOptions(out=folder / "out"))
    return cache


@pytest.fixture
def case(tmp_path: Path, briefing_cache: dict[str, tuple[bytes, int]], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the minimal case as `demo`; briefing layouts come from the cache."""
    real = briefgen.output.pdf.render_pdf_counted

    def reuse(html: str, **kw: Any) -> tuple[bytes, int]:
        return briefing_cache.get(html) or real(html, **kw)

    monkeypatch.setattr(briefgen.output.pdf, "render_pdf_counted", reuse)
    for name in ("HOST", "PORT", "SECURITY", "USERNAME", "CA_FILE", "PASSWORD"):
        monkeypatch.delenv(f"BRIEFGEN_SMTP_{name}", raising=False)
    shutil.copytree(MINIMAL, tmp_path / "demo")
    return tmp_path


# ---------------------------------------------------------------- a real SMTP server


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every message it accepts, and misbehaves on request."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    """Addresses answered 550 at RCPT."""
    drop_at_rcpt: set[str] = field(default_factory=set)
    """Addresses at whose RCPT the connection is cut (before DATA: certainly not delivered)."""
    drop_in_data: set[str] = field(default_factory=set)
    """Addresses whose message is taken in, then the connection cut before the answer."""
    hold_in_data: set[str] = field(default_factory=set)
    """Addresses whose message is taken in, then no answer given while they stay here."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.drop_at_rcpt:
            self.drop_at_rcpt.discard(address)
            server.transport.close()
            return "421 4.3.0 going away"
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        while set(envelope.rcpt_tos) & self.hold_in_data:
            await asyncio.sleep(0.05)
        if set(envelope.rcpt_tos) & self.drop_in_data:
            self.drop_in_data -= set(envelope.rcpt_tos)
            server.transport.close()
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"

    def to(self, address: str) -> list[bytes]:
        return [data for _, rcpts, data in self.received if address in rcpts]


@dataclass
class Smtp:
    recorder: Recorder
    port: int
    ca_file: Path


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"desk", b"s3cret pass")
    return AuthResult(success=ok, handled=False)  # (not handled: the server answers 535)


def _server(ca: tuple[trustme.CA, Path], mode: str, **kw: Any) -> Iterator[Smtp]:
    authority, path = ca
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    recorder = Recorder()
    port = _free_port()
    if mode == "tls":
        kw["ssl_context"] = context
    elif mode == "starttls":
        kw.update(tls_context=context, require_starttls=True, authenticator=_authenticator, auth_require_tls=True)
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **kw)
    controller.start()
    try:
        yield Smtp(recorder, port, path)
    finally:
        controller.stop()


@pytest.fixture
def starttls(ca: tuple[trustme.CA, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Smtp]:
    """A server that requires STARTTLS and a login, set up as the environment would say."""
    for smtp in _server(ca, "starttls"):
        monkeypatch.setenv("BRIEFGEN_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("BRIEFGEN_SMTP_CA_FILE", str(smtp.ca_file))
        monkeypatch.setenv("BRIEFGEN_SMTP_USERNAME", "desk")
        monkeypatch.setenv("BRIEFGEN_SMTP_PASSWORD", "s3cret pass")
        yield smtp


def distribute_cli(list_path: Path, *args: str) -> int:
    return cli.main(["distribute", str(list_path), "--out", str(list_path.parent / "out"), *args])


def dist(folder: Path) -> Path:
    return folder / "out" / "demo" / "distribution"


def register(folder: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((folder / "out" / "demo" / "distribution" / "register.csv").open(encoding="utf-8")))


def deliveries(folder: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader((folder / "out" / "demo" / REGISTER).open(encoding="utf-8"))
    return {r["email"] or r["recipient"]: r for r in rows}


def emls(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(dist(folder).rglob("*.eml"))}


def parse(data: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(msg, EmailMessage)
    return msg


def attachment(msg: EmailMessage) -> bytes:
    (part,) = list(msg.iter_attachments())
    data = part.get_content()
    assert isinstance(data, bytes) and part.get_content_type() == "application/pdf"
    return data


# ---------------------------------------------------------------- the messages (no server)


def test_dry_run_writes_one_parsable_eml_per_address(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    people = [*PEOPLE[:2], ("Fay No-Address", "Archive", "")]
    lst = write_list(case, people)
    assert distribute_cli(lst) == 0  # without --send: a dry run
    assert "--send would send 2, 0 already sent" in capsys.readouterr().out
    rows = {r["recipient"]: r for r in register(case)}
    found = emls(case)
    assert sorted(found) == ["copy-001-Ana-Lima.eml", "copy-002-Ben-Okafor.eml"]  # none for Fay: no address
    for name, org, email in people[:2]:
        row = rows[name]
        msg = parse(found[Path(row["file"]).with_suffix(".eml").name])
        assert msg["To"].addresses[0].addr_spec == email and msg["To"].addresses[0].display_name == name
        assert str(msg["From"]) == "Situation Desk <desk@example.org>"
        assert (
            msg["Subject"]
            == f"[TLP:AMBER] Demo crisis — Executive summary — Edition 2 (final), copy {row['copy']} of 3"
        )
        assert msg["Date"].datetime.tzinfo is not None
        pdf = attachment(msg)
        assert hashlib.sha256(pdf).hexdigest() == row["sha256"]
        assert pdf == (case / "out" / row["file"]).read_bytes()
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert f"copy {row['copy']} of 3, prepared for {name} ({org})" in text and "TLP:AMBER: Limited" in text
        assert row["sha256"] in text
    # A dry run sends nothing and keeps no delivery register.
    assert not (case / "out" / "demo" / JOURNAL).exists()
    # The same list again gives the same messages, byte for byte: Message-ID and boundary
    # come from recipient and briefing, and a message keeps the Date it was composed with.
    assert distribute_cli(lst) == 0
    assert emls(case) == found


def test_hostile_names_stay_header_values() -> None:
    long_name = "Ьорис Ωμέγα 李雷 " * 7 + "Ende"
    base = dict(case="demo", title="T", audience="executive", organisation="O", copy=1, copies=1)
    common = dict(
        edition_label="E",
        marking="AMBER",
        pages=1,
        sha256="0" * 64,
        briefing_sha256="1" * 64,
        filename="copy-001-x.pdf",
    )
    from datetime import UTC, datetime

    date = datetime(2024, 6, 1, tzinfo=UTC)
    with pytest.raises(HeaderProblem):  # (refused by the list's model first: see the next tests)
        compose(
            Copy(**base, recipient="=?utf-8?q?Bcc=3A_x?=", email="jo@example.org", **common), b"", "d@x.org", None, date
        )  # type: ignore[arg-type]
    for name in [long_name, 'Bob <evil@x.example>, "Mallory" other@y.example']:
        m = compose(
            Copy(**base, recipient=name, email="jo@example.org", **common), b"%PDF", "d@example.org", None, date
        )  # type: ignore[arg-type]
        head = m.data.split(b"\r\n\r\n")[0]
        assert head.isascii() and not m.smtputf8
        lines = head.split(b"\r\n")
        assert all(len(line) <= 998 for line in lines), lines  # (RFC 5322: lines of at most 998)
        names = [line.split(b":")[0] for line in lines if not line.startswith((b" ", b"\t"))]
        assert sorted(names) == sorted(
            [b"From", b"To", b"Subject", b"Date", b"Message-ID", b"X-Briefgen-Copy", b"MIME-Version", b"Content-Type"]
        )  # no header was added by a name
        raw_to = BytesParser(policy=policy.compat32).parsebytes(m.data)["To"]
        # RFC 2047: the encoded words decode to exactly the name (the stdlib's own
        # parser inserts spaces between adjacent encoded words, so decode_header is used).
        assert str(make_header(decode_header(raw_to))).endswith(" <jo@example.org>")
        (addr,) = parse(m.data)["To"].addresses
        assert addr.addr_spec == "jo@example.org"  # one address whatever the name says
        if name == long_name:
            assert b"=?utf-8?" in head and str(make_header(decode_header(raw_to))) == f"{name} <jo@example.org>"
        elif "<" in name:
            assert addr.display_name == name
    # A non-ASCII address: an RFC 6532 message, raw UTF-8 in its headers.
    m = compose(
        Copy(**base, recipient="Zoë", email="zoë@bücher.example", **common), b"%PDF", "d@example.org", None, date
    )  # type: ignore[arg-type]
    assert m.smtputf8 and "To: Zoë <zoë@bücher.example>".encode() in m.data


def test_control_characters_in_names_and_addresses_are_refused(tmp_path: Path) -> None:
    lst = write_list(
        tmp_path,
        [
            ("Ana\r\nBcc: x@evil.example", "O", "ana@example.org"),
            ("Ben", "O", "ben@example.org\r\nBcc: y@evil.example"),
        ],
    )
    with pytest.raises(CaseInvalid) as info:
        load_list(lst)
    lines = lst.read_text(encoding="utf-8").splitlines()
    at = [n for n, text in enumerate(lines, start=1) if "evil.example" in text]
    assert [e.line for e in info.value.errors] == at and len(at) == 2
    assert "control characters" in info.value.errors[0].message


def test_a_name_written_as_an_encoded_mail_header_is_refused(tmp_path: Path) -> None:
    """'=?utf-8?q?...?=' would go out as it stands and be decoded by the reader's mail
    program into other text than the stamp shows."""
    lst = write_list(tmp_path, [("=?utf-8?q?Ana_Lima?=", "O", "ana@example.org"), ("Ben", "O", "ben@example.org")])
    with pytest.raises(CaseInvalid) as info:
        load_list(lst)
    (error,) = info.value.errors
    lines = lst.read_text(encoding="utf-8").splitlines()
    assert "=?utf-8?q?Ana_Lima?=" in lines[error.line - 1] and "encoded mail header" in error.message


def test_policy() -> None:
    mail = MailSettings.model_validate(
        {"sender": "d@example.org", "allowed": {"GREEN": ["partner.example"], "RED": ["example.org", "jo@gmail.com"]}}
    )
    assert policy_problem(mail, "CLEAR", "anyone@anywhere.example") is None
    assert policy_problem(mail, "GREEN", "x@partner.example") is None
    assert policy_problem(mail, "GREEN", "x@EXAMPLE.org") is None  # allowed for RED: so for less restrictive too
    assert policy_problem(mail, "AMBER", "x@partner.example") is not None
    assert policy_problem(mail, "AMBER", "x@sub.example.org") is not None  # a domain is that domain only
    assert policy_problem(mail, "RED", "jo@gmail.com") is None and policy_problem(mail, "RED", "al@gmail.com")


@pytest.mark.parametrize(
    "address",
    [
        "root,x@example.org",  # smtplib would send RCPT TO:<root>
        "gmail.com:x@example.org",  # ... to <x@example.org> under another name
        "a(b)c@example.org",  # ... to <ac@example.org>
        "mallory%gmail.com@example.org",  # the %-hack: relayed on by some servers
        '"q"@example.org',
        "user@example.org@evil.example",
        "x@example.org.",
        "a..b@example.org",
    ],
)
def test_an_address_that_parsers_read_differently_is_refused(address: str) -> None:
    """What the policy approves must be what the SMTP envelope carries."""
    with pytest.raises(ValidationError, match="one plain address"):
        MailSettings.model_validate({"sender": address})
    assert (
        parseaddr("jo.o'neil+briefs@example.org")[1]
        == MailSettings.model_validate({"sender": "jo.o'neil+briefs@example.org"}).sender
    )


def test_the_policy_keeps_apart_domains_that_mail_keeps_apart() -> None:
    """'straße.de' (xn--strae-oqa.de) is not 'strasse.de': casefold would merge them."""
    mail = MailSettings.model_validate({"sender": "d@example.org", "allowed": {"AMBER": ["strasse.de", "Example.ORG"]}})
    assert policy_problem(mail, "AMBER", "jo@straße.de") is not None
    assert policy_problem(mail, "AMBER", "jo@strasse.de") is None
    assert policy_problem(mail, "AMBER", "jo@EXAMPLE.org") is None


def test_a_title_that_mail_programs_would_decode_is_refused() -> None:
    """CVE-2024-6923: an encoded word holding CR/LF in the subject became real header lines
    in Python before 3.11.10; whatever the Python, the message is parsed back and refused
    unless it reads as written."""
    base = dict(case="demo", audience="executive", organisation="O", copy=1, copies=1, marking="AMBER", pages=1)
    extra = dict(sha256="0" * 64, briefing_sha256="1" * 64, filename="c.pdf", recipient="Ana", email="a@example.org")
    date = datetime(2024, 6, 1, tzinfo=UTC)
    for title in ["=?utf-8?q?=0D=0AReply-To:_e@evil.io=0D=0A=0D=0Afake_body?=", "Crisis =?utf-8?q?Bcc=3A_x?="]:
        copy = Copy(**base, title=title, edition_label="E", **extra)  # type: ignore[arg-type]
        with pytest.raises(HeaderProblem, match="encoded word"):
            compose(copy, b"%PDF", "d@example.org", None, date)


def test_names_of_any_shape_compose_to_exactly_themselves_or_are_refused_cleanly() -> None:
    """Long names with commas, quotes and brackets used to fold into two addresses (the
    email package drops the quotes when it folds at 78): every name either comes back
    exactly, one address in To and one in From, or is refused with HeaderProblem."""
    rng = random.Random(2024)
    alphabet = "abcdefghij ABC,;:<>@\\\"()[]'.-_ ÅßЖωλ李陈é"
    base = dict(case="demo", title="T", audience="executive", organisation="O", copy=1, copies=1, marking="AMBER")
    extra = dict(pages=1, sha256="0" * 64, briefing_sha256="1" * 64, filename="c.pdf", edition_label="E")
    date = datetime(2024, 6, 1, tzinfo=UTC)
    names = ["Park, Jo-Ann Elizabeth Catherine Montgomery-Smythe (Ops Centre Liaison Officer), Deputy Head"]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120))).strip() or "x" for _ in range(1500)]
    refused = 0
    for name in names:
        copy = Copy(**base, recipient=name, email="jo@example.org", **extra)  # type: ignore[arg-type]
        try:
            m = compose(copy, b"%PDF", "desk@example.org", f"Desk, {name[:60]}", date)
        except HeaderProblem:
            refused += 1
            continue
        back = BytesParser(policy=policy.default).parsebytes(m.data, headersonly=True)
        assert [a.addr_spec for a in back["To"].addresses] == ["jo@example.org"], name
        assert [a.addr_spec for a in back["From"].addresses] == ["desk@example.org"], name
    assert refused < len(names) // 10  # (a refusal is safe, but rare)
    long = compose(
        Copy(**base, recipient=names[0], email="jo@example.org", **extra),  # type: ignore[arg-type]
        b"%PDF",
        "desk@example.org",
        'Situation Desk, Ministry of Foreign Affairs "Crisis Response Centre" (24/7 duty officer)',
        date,
    )
    back = BytesParser(policy=policy.default).parsebytes(long.data, headersonly=True)
    assert back["To"].addresses[0].display_name == names[0] and len(back["From"].addresses) == 1


def test_a_password_that_smtp_login_cannot_carry_is_refused_without_being_shown(
    case: Path, starttls: Smtp, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIEFGEN_SMTP_PASSWORD", "correct horse bätterie staple")
    assert distribute_cli(write_list(case, PEOPLE[:1]), "--send") == 2
    err = capsys.readouterr().err
    assert "other than ASCII" in err and "bätterie" not in err and "ä" not in err and "Traceback" not in err
    assert starttls.recorder.received == []


def test_the_policy_compares_domains_as_mail_routes_them() -> None:
    """IDNA (UTS 46): 'ΟΔΟΣ' is 'οδοσ', not 'οδος' (str.lower would keep the final sigma);
    scripts written with combining marks are addresses too."""
    mail = MailSettings.model_validate({"sender": "d@example.org", "allowed": {"RED": ["παράδειγμα.οδος"]}})
    assert policy_problem(mail, "RED", "jo@παράδειγμα.οδος") is None
    assert policy_problem(mail, "RED", "jo@παράδειγμα.ΟΔΟΣ") is not None
    assert MailSettings.model_validate({"sender": "जो@हिन्दी.भारत"}).sender == "जो@हिन्दी.भारत"


def test_odd_files_among_the_previous_messages_neither_stall_nor_sink_a_run(case: Path) -> None:
    lst = write_list(case, PEOPLE[:1])
    assert distribute_cli(lst) == 0
    folder = dist(case) / "executive"
    (folder / "bad-date.eml").write_bytes(
        b"Message-ID: <x@y>\r\nDate: Mon, 1 Jan 99999999999999999999 00:00:00 +0000\r\n\r\n"
    )
    os.mkfifo(folder / "pipe.eml")
    (folder / "zero.eml").symlink_to("/dev/zero")
    assert distribute_cli(lst) == 0  # (a FIFO opened for reading would wait for a writer forever)


def test_an_edition_label_that_mail_programs_would_decode_is_refused_at_its_line(tmp_path: Path) -> None:
    lst = write_list(tmp_path, PEOPLE[:1])
    lst.write_text(lst.read_text().replace("Edition 2 (final)", "=?utf-8?q?x?="), encoding="utf-8")
    with pytest.raises(CaseInvalid) as info:
        load_list(lst)
    (error,) = info.value.errors
    assert error.line == 2 and "encoded mail header" in error.message


def test_security_none_only_to_a_relay_on_this_machine(tmp_path: Path) -> None:
    mail = MailSettings.model_validate({"host": "smtp.example.org", "security": "none", "sender": "d@example.org"})
    with pytest.raises(UsageError, match="only to a relay on this machine"):
        resolve_server(mail, tmp_path / "l.yaml", {})
    starttls = MailSettings.model_validate({"host": "smtp.example.org", "sender": "d@example.org"})
    with pytest.raises(UsageError, match="only to a relay on this machine"):
        resolve_server(starttls, tmp_path / "l.yaml", {"BRIEFGEN_SMTP_SECURITY": "none"})
    for host in ("127.0.0.1", "localhost", "::1"):
        assert resolve_server(mail, tmp_path / "l.yaml", {"BRIEFGEN_SMTP_HOST": host}).security == "none"


def test_policy_refuses_before_anything_is_written(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lst = write_list(
        case, [*PEOPLE[:2], ("Mallory", "Home", "mallory@gmail.com"), ("Eve", "P", "eve2@partner.example")]
    )
    assert distribute_cli(lst, "--send") == 1
    err = capsys.readouterr().err
    lines = lst.read_text(encoding="utf-8").splitlines()
    for email in ("mallory@gmail.com", "eve2@partner.example"):
        line = next(n for n, text in enumerate(lines, start=1) if email in text)
        assert f"{lst}:{line}:12: {email} may not receive a TLP:AMBER copy" in err
    assert not (case / "out").exists()


def test_password_in_the_list_is_refused_where_it_is_written(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mail = "mail:\n  host: smtp.example.org\n  sender: desk@example.org\n  password: hunter2\n  allowed: {}"
    lst = write_list(case, PEOPLE[:1], mail)
    assert distribute_cli(lst, "--send") == 1
    err = capsys.readouterr().err
    assert f"{lst}:6:3: a password must never be written in a list file" in err and "hunter2" not in err
    assert not (case / "out").exists()


# ---------------------------------------------------------------- sending


def test_send_over_starttls_delivers_exactly_the_dry_run_messages(
    case: Path, starttls: Smtp, capsys: pytest.CaptureFixture[str]
) -> None:
    lst = write_list(case)
    assert distribute_cli(lst, "--dry-run") == 0
    dry = emls(case)
    assert distribute_cli(lst, "--send") == 0
    out = capsys.readouterr().out
    assert "sent 5, refused 0, failed 0, uncertain 0, skipped 0" in out
    rows = {r["email"]: r for r in csv.DictReader((dist(case) / "register.csv").open(encoding="utf-8"))}
    sent = emls(case)
    for name, _, email in PEOPLE:
        (data,) = starttls.recorder.to(email)
        file = Path(rows[email]["file"]).with_suffix(".eml").name
        assert data == sent[file]  # byte for byte the run's .eml (aiosmtpd adds no header)
        assert data == dry[file]  # and the dry run's, which was checked before sending
        msg = parse(data)
        assert hashlib.sha256(attachment(msg)).hexdigest() == rows[email]["sha256"]
        assert msg["Subject"].startswith("[TLP:AMBER] ") and msg["To"].addresses[0].display_name == name
    assert all(sender == "desk@example.org" for sender, _, _ in starttls.recorder.received)
    state = deliveries(case)
    assert {r["status"] for r in state.values()} == {"sent"}
    assert all(r["answer"].startswith("250 2.0.0 Ok: queued as Q") and r["message_id"] for r in state.values())
    journal = [json.loads(line) for line in (case / "out" / "demo" / JOURNAL).read_text(encoding="utf-8").splitlines()]
    assert [e["status"] for e in journal] == ["sending", "sent"] * 5  # intent first, then the server's 250
    # A second run sends nothing again.
    assert distribute_cli(lst, "--send") == 0
    assert "sent 0, refused 0, failed 0, uncertain 0, skipped 5 (5 sent before, 0 without" in capsys.readouterr().out
    assert len(starttls.recorder.received) == 5


def test_refused_recipient_and_dropped_connection_then_a_second_run_completes(
    case: Path, starttls: Smtp, capsys: pytest.CaptureFixture[str]
) -> None:
    lst = write_list(case)
    starttls.recorder.refuse = {"ben@example.org"}
    starttls.recorder.drop_at_rcpt = {"dara@example.org"}
    assert distribute_cli(lst, "--send") == 1
    err = capsys.readouterr().err
    assert "refused: Ben Okafor <ben@example.org>: 550 5.1.1 no such mailbox here" in err
    assert "the connection was lost" in err and "Traceback" not in err
    state = deliveries(case)
    assert [state[e]["status"] for _, _, e in PEOPLE] == ["sent", "refused", "sent", "failed", "not sent"]
    assert [len(starttls.recorder.to(e)) for _, _, e in PEOPLE] == [1, 0, 1, 0, 0]

    starttls.recorder.refuse = set()  # the mailbox exists now; the server is back
    assert distribute_cli(lst, "--send") == 0
    assert "sent 3," in capsys.readouterr().out
    assert [len(starttls.recorder.to(e)) for _, _, e in PEOPLE] == [1, 1, 1, 1, 1]  # everyone once, no one twice
    assert {r["status"] for r in deliveries(case).values()} == {"sent"}


def test_a_message_whose_answer_was_lost_is_not_sent_again_unless_asked(
    case: Path, starttls: Smtp, capsys: pytest.CaptureFixture[str]
) -> None:
    lst = write_list(case, PEOPLE[:2])
    starttls.recorder.drop_in_data = {"ana@example.org"}
    assert distribute_cli(lst, "--send") == 1
    assert "may or may not have arrived" in capsys.readouterr().err
    assert [len(starttls.recorder.to(e)) for _, _, e in PEOPLE[:2]] == [1, 0]  # (it did arrive)
    assert deliveries(case)["ana@example.org"]["status"] == "uncertain"

    assert distribute_cli(lst, "--send") == 1  # Ben is sent; Ana is reported, not sent again
    err = capsys.readouterr().err
    assert "uncertain: Ana Lima <ana@example.org>" in err and "--retry-uncertain" in err
    assert [len(starttls.recorder.to(e)) for _, _, e in PEOPLE[:2]] == [1, 1]

    assert distribute_cli(lst, "--send", "--retry-uncertain") == 0
    first, again = starttls.recorder.to("ana@example.org")
    assert parse(first)["Message-ID"] == parse(again)["Message-ID"]  # a recognisable duplicate
    assert deliveries(case)["ana@example.org"]["status"] == "sent"


def test_a_run_killed_after_its_intent_was_written_leaves_the_copy_uncertain(case: Path, starttls: Smtp) -> None:
    lst = write_list(case, PEOPLE[:2])
    assert distribute_cli(lst, "--dry-run") == 0
    # What a kill -9 between "sending" and the server's answer leaves: the intent line,
    # then a line cut off in the middle.
    msg = parse(emls(case)["copy-001-Ana-Lima.eml"])
    journal = case / "out" / "demo" / JOURNAL
    journal.write_text(
        json.dumps(
            {
                "message_id": msg["Message-ID"],
                "status": "sending",
                "time": "t",
                "answer": "",
                "email": "ana@example.org",
                "sha256": "",
            }
        )
        + '\n{"mess',
        encoding="utf-8",
    )
    assert distribute_cli(lst, "--send") == 1
    assert [len(starttls.recorder.to(e)) for _, _, e in PEOPLE[:2]] == [0, 1]
    lines = journal.read_text(encoding="utf-8").split("\n")
    assert lines[1] == '{"mess' and json.loads(lines[2])["status"] == "sending"  # new entries on lines of their own


def test_a_sender_killed_while_the_server_holds_a_message_leaves_it_uncertain(
    case: Path, starttls: Smtp, capsys: pytest.CaptureFixture[str]
) -> None:
    """kill -9 for real: a separate `briefgen distribute --send` process is killed while
    the server holds its second message unanswered; the next run sends the third, leaves
    the second uncertain, and no one gets a copy twice."""
    lst = write_list(case, PEOPLE[:3])
    journal = case / "out" / "demo" / JOURNAL
    starttls.recorder.hold_in_data = {PEOPLE[1][2]}
    proc = subprocess.Popen(
        [sys.executable, "-m", "briefgen", "distribute", str(lst), "--out", str(case / "out"), "--send", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while len(starttls.recorder.to(PEOPLE[1][2])) == 0 and proc.poll() is None:
            assert time.monotonic() < deadline, "the sender never reached the second message"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        starttls.recorder.hold_in_data = set()
        if proc.poll() is None:
            proc.kill()
    states = [json.loads(line)["status"] for line in journal.read_text(encoding="utf-8").splitlines()]
    assert states == ["sending", "sent", "sending"]  # the first sent; the second handed over, unanswered

    assert distribute_cli(lst, "--send") == 1  # the third is sent; the second is reported, not sent
    assert "uncertain: Ben Okafor <ben@example.org>" in capsys.readouterr().err
    assert [len(starttls.recorder.to(e)) for _, _, e in PEOPLE[:3]] == [1, 1, 1]
    assert [deliveries(case)[e]["status"] for _, _, e in PEOPLE[:3]] == ["sent", "uncertain", "sent"]


def test_a_recipient_added_later_is_the_only_one_sent_a_copy(
    case: Path, starttls: Smtp, capsys: pytest.CaptureFixture[str]
) -> None:
    lst = write_list(case, PEOPLE[:2])
    assert distribute_cli(lst, "--send") == 0
    first = {e: deliveries(case)[e]["sha256"] for _, _, e in PEOPLE[:2]}
    write_list(case, PEOPLE[:3])  # every executive copy is now 'of 3'
    assert distribute_cli(lst, "--send") == 0
    assert "sent 1," in capsys.readouterr().out
    assert [len(starttls.recorder.to(e)) for _, _, e in PEOPLE[:3]] == [1, 1, 1]
    rows = deliveries(case)
    assert {e: rows[e]["sha256"] for e in first} == first  # the register names what they were sent
    assert rows[PEOPLE[2][2]]["status"] == "sent"
    assert "Copy 3 of 3" in parse(starttls.recorder.to(PEOPLE[2][2])[0])["Subject"].replace("copy", "Copy")


def test_one_sender_at_a_time(tmp_path: Path) -> None:
    first = Journal(tmp_path / JOURNAL)
    try:
        with pytest.raises(OutputError, match="another 'briefgen distribute --send' is sending"):
            Journal(tmp_path / JOURNAL)
    finally:
        first.close()
    Journal(tmp_path / JOURNAL).close()
    assert (tmp_path / JOURNAL).stat().st_mode & 0o007 == 0  # names recipients: never world-readable


def test_the_journal_is_never_written_through_a_link_nor_left_readable(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("")
    (tmp_path / "case").mkdir()
    (tmp_path / "case" / JOURNAL).symlink_to(victim)
    with pytest.raises(OutputError, match="symbolic link"):
        Journal(tmp_path / "case" / JOURNAL)
    assert victim.read_text() == ""
    loose = tmp_path / JOURNAL
    loose.write_text("")
    loose.chmod(0o644)
    Journal(loose).close()
    assert loose.stat().st_mode & 0o007 == 0


def test_a_journal_line_nested_too_deep_is_ignored(tmp_path: Path) -> None:
    journal = tmp_path / JOURNAL
    journal.write_text("[" * 200_000 + "\n", encoding="utf-8")
    states, warnings = read_journal(journal)
    assert states == {} and len(warnings) == 1


def test_a_journal_line_for_another_address_or_without_its_fields_counts_for_nothing(
    case: Path, starttls: Smtp, capsys: pytest.CaptureFixture[str]
) -> None:
    lst = write_list(case, PEOPLE[:2])
    assert distribute_cli(lst, "--dry-run") == 0
    ana, ben = (parse(data)["Message-ID"] for data in emls(case).values())
    forged = {"message_id": ana, "status": "sent", "time": "t", "answer": "", "email": "x@example.org", "sha256": ""}
    (case / "out" / "demo" / JOURNAL).write_text(
        json.dumps(forged) + "\n" + json.dumps({"message_id": ben}) + "\n", encoding="utf-8"
    )
    assert distribute_cli(lst, "--send") == 0  # no KeyError; both sent
    assert "unreadable line" in capsys.readouterr().err
    assert [len(starttls.recorder.to(e)) for _, _, e in PEOPLE[:2]] == [1, 1]


def test_wrong_password_stops_before_any_message(
    case: Path, starttls: Smtp, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIEFGEN_SMTP_PASSWORD", "wrong")
    assert distribute_cli(write_list(case, PEOPLE[:2]), "--send") == 1
    err = capsys.readouterr().err
    assert f"the SMTP server 127.0.0.1:{starttls.port} refused the login of desk: 535" in err and "Traceback" not in err
    assert starttls.recorder.received == []
    assert {r["status"] for r in deliveries(case).values()} == {"not sent"}


def test_on_a_terminal_the_password_is_asked_for_and_not_echoed(case: Path, starttls: Smtp) -> None:
    """Without BRIEFGEN_SMTP_PASSWORD, a run on a terminal (a pseudo-terminal here) asks."""
    lst = write_list(case, PEOPLE[:1])
    env = {k: v for k, v in os.environ.items() if k != "BRIEFGEN_SMTP_PASSWORD"}
    command = [sys.executable, "-m", "briefgen", "distribute", str(lst), "--out", str(case / "out"), "--send"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: briefgen, its terminal the pty
        os.execve(sys.executable, command, env)
    seen = b""
    try:
        deadline = time.monotonic() + 120
        while b"Password of desk at 127.0.0.1:" not in seen:
            assert time.monotonic() < deadline, seen.decode(errors="replace")[-300:]
            if select.select([fd], [], [], 0.5)[0]:
                seen += os.read(fd, 4096)
        os.write(fd, b"s3cret pass\n")
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # (the child has gone: EIO)
                break
            if not chunk:
                break
            seen += chunk
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")[-500:]
    assert b"s3cret" not in seen  # typed, not echoed
    assert len(starttls.recorder.to(PEOPLE[0][2])) == 1


def test_an_untrusted_certificate_is_refused(
    case: Path, starttls: Smtp, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BRIEFGEN_SMTP_CA_FILE")
    assert distribute_cli(write_list(case, PEOPLE[:1]), "--send") == 1
    assert "presented a certificate that cannot be trusted" in capsys.readouterr().err
    assert starttls.recorder.received == []


def test_implicit_tls_without_login(
    case: Path, ca: tuple[trustme.CA, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for smtp in _server(ca, "tls"):
        mail = f"mail:\n  host: 127.0.0.1\n  port: {smtp.port}\n  security: tls\n  ca_file: {smtp.ca_file}\n  sender: desk@example.org\n  allowed: {ALLOWED}"
        assert distribute_cli(write_list(case, PEOPLE[:2], mail), "--send") == 0
        assert [len(smtp.recorder.to(e)) for _, _, e in PEOPLE[:2]] == [1, 1]


def test_server_down_is_a_clear_error(
    case: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIEFGEN_SMTP_PORT", str(_free_port()))  # nothing listens there
    assert distribute_cli(write_list(case, PEOPLE[:1]), "--send") == 1
    err = capsys.readouterr().err
    assert "cannot reach the SMTP server 127.0.0.1:" in err and "Connection refused" in err and "Traceback" not in err


def test_non_ascii_address_needs_smtputf8(
    case: Path, ca: tuple[trustme.CA, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    people = [("Zoë", "Büro", "zoë@bücher.example"), PEOPLE[0]]
    allowed = "{AMBER: [example.org, bücher.example]}"
    for utf8 in (False, True):
        for smtp in _server(ca, "none", enable_SMTPUTF8=utf8):
            mail = f"mail:\n  host: 127.0.0.1\n  port: {smtp.port}\n  security: none\n  sender: desk@example.org\n  allowed: {allowed}"
            code = distribute_cli(write_list(case, people, mail), "--send")
            if not utf8:
                assert code == 1 and "does not accept non-ASCII addresses" in capsys.readouterr().err
                assert smtp.recorder.received == []  # refused before any message
            else:
                assert code == 0
                (data,) = smtp.recorder.to("zoë@bücher.example")
                assert "To: Zoë <zoë@bücher.example>".encode() in data
                assert data == (dist(case) / "executive" / "copy-001-Zoë.eml").read_bytes()


def test_send_without_a_mail_section_is_a_usage_error(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lst = write_list(case, PEOPLE[:1], mail="out: out")
    assert distribute_cli(lst, "--send") == 2
    assert "has no mail: section" in capsys.readouterr().err
    assert not (case / "out").exists()
    assert distribute_cli(lst) == 0  # without --send: copies and register as before, no message
    assert not emls(case) and not (case / "out" / "demo" / REGISTER).exists()
