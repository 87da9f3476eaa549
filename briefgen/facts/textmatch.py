"""Tolerant text comparison for verbatim excerpts.

Excerpts must be the source's own words. Copying from a browser changes only a
few things that do not alter meaning: runs of whitespace and line breaks, curly
versus straight quote marks, and the many dash characters. Those, and nothing
else, are normalised here.
"""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u200b": "",
        "\ufeff": "",
    }
)
# The same mapping as one pass of a regular expression that stops only at the characters
# mapped (str.translate looks up every character of the text: 12 times slower on the
# long excerpts a large case validates by the thousand).
_MAPPED = {chr(k): v for k, v in _QUOTES.items()}
_MAPPED_RE = re.compile("[" + "".join(re.escape(c) for c in _MAPPED) + "]")


def contains(text: str, part: str) -> bool:
    """Whether ``part`` appears in ``text`` once both are normalised."""
    if part in text and part.isascii() and text.isascii():
        # For ASCII text, normalising maps characters one for one and folds runs of
        # spaces: a plain match is a normalised match (and saves normalising both).
        return True
    return normalise(part) in normalise(text)


def normalise(text: str) -> str:
    """Canonical form for comparing excerpts: NFC, one quote and dash form, single spaces
    (whitespace as ``str.isspace`` has it, which is what ``\\s`` matches)."""
    if text.isascii():  # NFC changes no ASCII text, and "`" is the one ASCII character mapped
        if "`" in text:
            text = text.replace("`", "'")
    else:
        text = _MAPPED_RE.sub(_mapped, unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def _mapped(m: re.Match[str]) -> str:
    return _MAPPED[m.group()]
