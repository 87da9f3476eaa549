"""Excerpt comparison: the fast normalisation gives exactly what the plain statement of
the rule gives (NFC, str.translate of the quote/dash/space table, runs of whitespace
folded, ends stripped)."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from briefgen.facts import textmatch


def reference(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(textmatch._QUOTES)
    return re.sub(r"\s+", " ", text).strip()


MAPPED = [chr(k) for k in textmatch._QUOTES]
SPACES = [c for c in map(chr, range(0x3001)) if c.isspace()]
PIECES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(MAPPED + SPACES + ["e\u0301", "\u00e9", "A\u030a", "`", "'", '"', "-", "Iran", " ", "\t\n"]),
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(PIECES, max_size=30).map("".join))
def test_normalise_is_the_plain_rule(text: str) -> None:
    assert textmatch.normalise(text) == reference(text)


def test_the_rule_folds_what_copying_changes_and_nothing_else() -> None:
    assert (
        textmatch.normalise("  \u201cIran\u2019s\u00a0strike\u201d \u2014 `ok`\n\t end ")
        == "\"Iran's strike\" - 'ok' end"
    )
    assert textmatch.normalise("cafe\u0301") == "caf\u00e9"  # NFC
    assert textmatch.normalise("a\u200bb") == "ab"
    assert textmatch.contains("He said \u201cwe will respond\u201d.", '"we will  respond"')
    assert not textmatch.contains("He said we will respond.", "we will not respond")
