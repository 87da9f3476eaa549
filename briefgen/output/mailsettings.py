"""The ``mail:`` section of a distribution list: the SMTP server, the sender, and the
marking policy that decides which addresses may receive a copy at which marking.

The policy is checked before anything is written or sent (see :func:`policy_problem`);
the server settings are resolved, with the environment's overrides, only when copies
are really sent (:func:`resolve_server`). A password is never read from the list: it
comes from ``BRIEFGEN_SMTP_PASSWORD`` or a prompt.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal, cast

import idna
from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from ..errors import UsageError
from ..facts.models.common import MARKING_ORDER, Marking, Strict, VisibleText

Security = Literal["starttls", "tls", "none"]
DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "none": 25}

ENV_PREFIX = "BRIEFGEN_SMTP_"
ENV_SETTINGS = ("HOST", "PORT", "SECURITY", "USERNAME", "CA_FILE")
"""Environment variables (``BRIEFGEN_SMTP_<NAME>``) that override the list's settings."""
PASSWORD_ENV = "BRIEFGEN_SMTP_PASSWORD"


# An address is a plain dot-atom before the @ (letters and marks of any script, digits and
# - _ + ' . , no dot first, last or twice) and a host name after it. Nothing that one
# parser reads as another address: SMTP's own parsing of "root,x@example.org" sends to
# "root", of "a(b)c@..." to "ac@...", of "x%y@..." (the %-hack) perhaps elsewhere.
_ASCII_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


def _plain_local(local: str) -> bool:
    if not local or local[0] == "." or local[-1] == "." or ".." in local:
        return False
    return all(c.isalnum() or c in "+'-_." or unicodedata.category(c).startswith("M") for c in local)


def domain_key(domain: str) -> str | None:
    """The domain as mail routes it: its IDNA form (UTS 46 mapping: 'ΟΔΟΣ' and 'οδος' are
    one domain, 'straße.de' and 'strasse.de' two), lower case; None if it is not a host name."""
    try:
        form = idna.encode(domain, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    return form if _ASCII_DOMAIN.match(form) else None


def address_key(address: str) -> str:
    """``address`` as the policy compares it: the part before the @ in lower case, the
    domain by :func:`domain_key`."""
    local, _, domain = address.rpartition("@")
    return f"{local.lower()}@{domain_key(domain) or domain.lower()}"


def _address(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    local, at, domain = value.rpartition("@")
    if not (at and _plain_local(local) and domain_key(domain)) or parseaddr(value)[1] != value:
        raise ValueError(
            "must be one plain address, like jo.park@example.org (letters, digits and - _ + ' . before the @, "
            "a host name after it)"
        )
    return value


def _destination(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    if "@" in value:
        return address_key(_address(value))
    key = domain_key(value)
    if key is None:
        raise ValueError("must be a domain (example.org) or one plain address (jo.park@example.org)")
    return key


Email = Annotated[str, StringConstraints(max_length=254), VisibleText, AfterValidator(_address)]
Destination = Annotated[str, StringConstraints(max_length=254), VisibleText, AfterValidator(_destination)]


def plain_name(value: str) -> str:
    """Refuse a name that mail programs would decode into other text: '=?utf-8?q?...?='
    is an RFC 2047 encoded word, which a name is sent as, never written as."""
    if "=?" in value and "?=" in value:
        raise ValueError("looks like an encoded mail header (=?...?=); write the name as it should read")
    return value


def _one_line(value: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("must be one line, without control characters")
    return value


Host = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:\[\]-]+$", min_length=1, max_length=253)]


class MailSettings(Strict):
    """How copies are mailed (`briefgen distribute LIST.yaml --send`), and to whom they may go.

    The server settings can be overridden by environment variables `BRIEFGEN_SMTP_HOST`,
    `_PORT`, `_SECURITY`, `_USERNAME` and `_CA_FILE` (the sender and `allowed` cannot: they
    are written into the messages and checked when the copies are made). The password is
    never written here: it comes from `BRIEFGEN_SMTP_PASSWORD`, or briefgen asks for it."""

    host: Host | None = Field(
        default=None, description="The SMTP server's host name, e.g. `smtp.example.org` (or `BRIEFGEN_SMTP_HOST`)."
    )
    port: Annotated[int, Field(ge=1, le=65535)] | None = Field(
        default=None, description="The server's port; default 587 for `starttls`, 465 for `tls`, 25 for `none`."
    )
    security: Security = Field(
        default="starttls",
        description="`starttls` (plain connection upgraded to TLS before anything is said), `tls` (TLS from the first "
        "byte) or `none` (no encryption: only for a relay on the same machine; no login allowed). The server's "
        "certificate is always verified.",
    )
    username: Annotated[str, StringConstraints(min_length=1, max_length=254), VisibleText] | None = Field(
        default=None,
        description="Log in as this user (the password from `BRIEFGEN_SMTP_PASSWORD`, or asked for); default: no login.",
    )
    sender: Email = Field(description="The From address of every message, e.g. `briefings@example.org`.")
    sender_name: (
        Annotated[
            str,
            StringConstraints(min_length=1, max_length=120),
            VisibleText,
            AfterValidator(_one_line),
            AfterValidator(plain_name),
        ]
        | None
    ) = Field(default=None, description="The name shown with the From address, e.g. `Situation Desk`.")
    ca_file: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        default=None,
        description="A PEM file of the certificate authority that signed the server's certificate, relative to the "
        "list; trusted instead of the system's authorities (for a server with a private CA).",
    )
    allowed: dict[Marking, list[Destination]] = Field(
        default_factory=dict,
        description="Marking policy: for each marking (GREEN, AMBER, AMBER+STRICT, RED), the domains "
        "(`example.org`) and single addresses (`jo@partner.example`) that may receive a copy at that marking. An "
        "address allowed at a marking may also receive any less restrictive one. TLP:CLEAR copies may go anywhere. "
        "A recipient whose address is not allowed for their copy's marking is an error, before anything is sent.",
    )

    @field_validator("allowed")
    @classmethod
    def _no_clear(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if "CLEAR" in value:
            raise ValueError("TLP:CLEAR copies may go to any address; remove the CLEAR entry")
        return value

    @model_validator(mode="after")
    def _no_login_in_the_clear(self) -> MailSettings:
        if self.username is not None and self.security == "none":
            raise ValueError(
                "a login with security: none would send the password unencrypted; use starttls or tls, or no username"
            )
        return self


def domain_of(address: str) -> str:
    return address_key(address).rpartition("@")[2]


def policy_problem(mail: MailSettings, marking: str, address: str) -> str | None:
    """Why ``address`` may not receive a copy marked ``marking`` (TLP name without the
    ``TLP:`` prefix), or None when it may."""
    if marking == "CLEAR":
        return None
    rank = MARKING_ORDER[marking]
    allowed = {d for m, ds in mail.allowed.items() if MARKING_ORDER[m] >= rank for d in ds}
    if address_key(address) in allowed or domain_of(address) in allowed:
        return None
    listed = ", ".join(sorted(allowed)) or "none"
    return (
        f"{address} may not receive a TLP:{marking} copy: neither the address nor its domain "
        f"{domain_of(address)} is allowed for TLP:{marking} (allowed: {listed}); add one of them to mail.allowed, "
        "or remove the email to hand this copy over another way"
    )


@dataclass(frozen=True)
class Server:
    """The server settings of one sending run: the list's, with the environment's overrides."""

    host: str
    port: int
    security: Security
    username: str | None
    ca_file: Path | None

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def _loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_server(mail: MailSettings, list_path: Path, env: Mapping[str, str]) -> Server:
    """The settings to send with: the list's ``mail:`` section, each overridden by its
    ``BRIEFGEN_SMTP_*`` variable when set. Raises UsageError for a wrong variable."""
    get = {name: env.get(ENV_PREFIX + name) or None for name in ENV_SETTINGS}
    host = get["HOST"] or mail.host
    if host is None:
        raise UsageError(f"{list_path}: no SMTP server: give mail.host in the list, or set {ENV_PREFIX}HOST")
    security_text = get["SECURITY"] or mail.security
    if security_text not in DEFAULT_PORTS:
        raise UsageError(f"{ENV_PREFIX}SECURITY={security_text}: must be one of starttls, tls, none")
    security = cast(Security, security_text)
    if security == "none" and not _loopback(host):
        raise UsageError(
            f"security none sends the copies unencrypted: only to a relay on this machine (localhost, 127.0.0.1, "
            f"::1), not to {host}; use starttls or tls"
        )
    port_text = get["PORT"]
    if port_text is not None:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise UsageError(f"{ENV_PREFIX}PORT={port_text}: must be a port number (1 to 65535)")
        port = int(port_text)
    else:
        port = mail.port or DEFAULT_PORTS[security]
    username = get["USERNAME"] or mail.username
    if username is not None and security == "none":
        raise UsageError(
            "a login with security none would send the password unencrypted; use starttls or tls, or no username"
        )
    ca = Path(get["CA_FILE"]) if get["CA_FILE"] else (list_path.parent / mail.ca_file if mail.ca_file else None)
    if ca is not None and not ca.is_file():
        raise UsageError(f"{ca}: no such certificate file (mail.ca_file or {ENV_PREFIX}CA_FILE)")
    return Server(host, port, security, username, ca)
