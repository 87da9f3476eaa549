"""briefgen._yamlfast (the fast path of the YAML reader, in C) gives exactly what the
Python fast path gives: the same data, of the same types, and ``_UNREAD`` for the same
files. Where the extension was not built these tests are skipped, except the one that
says it should have been."""

from __future__ import annotations

import math
import random
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_property import YAMLISH

from briefgen import yamlsafe

fast = yamlsafe._yamlfast
needs_fast = pytest.mark.skipif(fast is None, reason="briefgen._yamlfast was not built on this machine")


def same(a: Any, b: Any) -> bool:
    """Equal data of the same types (True is not 1, 1.0 is not 1; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def both(text: str) -> tuple[Any, Any]:
    c = yamlsafe._read_plain(text)
    py = yamlsafe._read_plain_py(text)
    return c, py


def assert_same(text: str) -> None:
    c, py = both(text)
    assert (c is yamlsafe._UNREAD) == (py is yamlsafe._UNREAD), (text, c, py)
    if py is not yamlsafe._UNREAD:
        assert same(c, py), (text, c, py)


def test_extension_is_built_where_libyaml_headers_are() -> None:
    include = Path(sysconfig.get_config_var("INCLUDEDIR") or "/usr/include")
    if not any((d / "yaml.h").exists() for d in (Path("/usr/include"), Path("/usr/local/include"), include)):
        pytest.skip("libyaml's headers are not on this machine: briefgen reads YAML through PyYAML")
    assert fast is not None, "libyaml-dev is installed but briefgen._yamlfast was not built; reinstall briefgen"


def project_yaml_files() -> list[Path]:
    roots = [ROOT / "facts", ROOT / "tests", ROOT / "templates"]
    return sorted(p for r in roots for p in r.rglob("*.yaml") if ".venv" not in p.parts)


@needs_fast
def test_every_yaml_file_of_the_project_reads_the_same(tmp_path: Path) -> None:
    import subprocess

    case = ROOT / "facts" / "iran-pakistan-2024"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "synth.py"), str(case), "3", str(tmp_path / case.name)],
        check=True,
        capture_output=True,
    )
    files = project_yaml_files() + sorted(tmp_path.rglob("*.yaml"))
    assert len(files) > 30
    read = 0
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        assert_same(text)
        read += yamlsafe._read_plain(text) is not yamlsafe._UNREAD
    assert read > 25  # the fast path does take the ordinary files


ODD = [
    "",
    "~",
    "null",
    "a: 1",
    "a: b\na: c\n",  # duplicate key
    "<<: {a: 1}\n",  # merge key
    "? [a]\n: b\n",  # collection as key
    "1: a\n",  # non-text key
    "null: a\n",
    "'null': a\n",  # quoted: text
    "true: a\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "a: ! 1\n",
    "!!map {a: 1}\n",
    "a: 1\n---\nb: 2\n",
    "--- \na: 1\n...\n",
    'a: "\\0"\n',
    'a: "\\x85"\n',  # NEL: allowed
    'a: "\\x84"\n',
    'a: "\\ud7ff"\n',
    'a: "\\ufffe"\n',
    'a: "\\U0010ffff"\n',
    'a: "\\U00110000"\n',
    "a: '\\0'\n",  # single quotes: no escapes
    "a: [1, -1, +1, 007, 0o17, 0x1F, 1e3, .5, 5., -.inf, .NaN, 1_000, 0b1, 9999999999999999999]\n",
    "a: [yes, No, on, OFF, y, n, '2024-01-16', 2024-01-16, 12:30, 3.10]\n",
    "a: [Null, NULL, nULL, True, TRUE, tRUE, FALSE, ~, '', \"\"]\n",
    "a:\n  - |\n    block\n    text\n  - >\n    folded\n    text\n",
    "a: " + "9" * 1001 + "\n",  # too long to be a number
    "a: " + "9" * 18 + "\n",
    "a: -" + "9" * 18 + "\n",
    "a: " + "9" * 19 + "\n",
    "[" * 39 + "]" * 39,
    "[" * 40 + "]" * 40,
    "[" * 41 + "]" * 41,
    "a: b: c\n",  # syntax error
    "a: [b\n",
    "- a\n- b: c\n  d: [e, {f: g}]\n",
    "key with spaces: v\n" + "k" * 60 + ": long key\n" + "k" * 60 + ": duplicate long key\n",
    "é: 1\nè: 2\n中文: 3\n",
    "a: 1\n" * 3,
    "\ufeff\ufeffa",  # byte-order marks (libyaml skips one at the start of a line)
    "\ufeffa: 1\n",
    "a: \ufeff1\n",
]


@needs_fast
@pytest.mark.parametrize("text", ODD)
def test_odd_documents_read_the_same(text: str) -> None:
    assert_same(text)


@needs_fast
def test_many_distinct_keys_overflow_the_key_table_safely() -> None:
    text = "".join(f"key{i}: {i}\n" for i in range(5000))
    c, py = both(text)
    assert same(c, py) and len(c) == 5000
    assert_same(text + "key4999: again\n")  # a duplicate after the table filled up


@needs_fast
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(st.sampled_from(YAMLISH), max_size=40).map("".join))
def test_yamlish_text_reads_the_same(text: str) -> None:
    assert_same(text)


@needs_fast
@settings(max_examples=300, deadline=None)
@given(
    data=st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)),
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
        max_leaves=30,
    )
)
def test_dumped_data_reads_the_same(data: Any) -> None:
    import yaml

    for style in (False, None, True):
        assert_same(yaml.safe_dump({"root": data}, default_flow_style=style, allow_unicode=True))


@needs_fast
def test_broken_copies_of_real_files_read_the_same() -> None:
    """Cut and spliced copies of the default case's files: whatever each becomes (valid,
    odd or broken YAML), both readers agree."""
    rng = random.Random(8)
    texts = [f.read_text(encoding="utf-8") for f in sorted((ROOT / "facts").rglob("*.yaml"))]
    for _ in range(400):
        text = rng.choice(texts)
        a, b = sorted(rng.randrange(len(text)) for _ in range(2))
        cut = rng.choice([text[:a] + text[b:], text[:a] + rng.choice(YAMLISH) + text[a:], text[:b]])
        assert_same(cut)


SCALAR_ALPHABET = "0123456789.+-eExXoOabcdfABCDFinfINFnaNtrueTRUEalsFLSulUL~_ "


@needs_fast
@settings(max_examples=3000, deadline=None)
@given(
    s=st.one_of(
        st.text(alphabet=SCALAR_ALPHABET, max_size=8),
        st.lists(
            st.sampled_from(
                ["null", "Null", "TRUE", "false", "~", ".inf", ".nan", "0o", "0x", "1", "9" * 18, "+", "-", "."]
            ),
            max_size=4,
        ).map("".join),
    )
)
def test_plain_scalars_resolve_as_the_python_resolver_does(s: str) -> None:
    try:
        expected: Any = yamlsafe._resolve_plain(s)
    except ValueError:
        expected = ValueError
    # The C side sends to Python every scalar that might not be text, and only those...
    assert fast.might_not_be_text(s) == (expected is ValueError or not isinstance(expected, str))
    # ...and answers the commonest itself, with the same value and type.
    own = fast.resolve_common(s)
    if own is not NotImplemented:
        assert same(own, expected)


@needs_fast
def test_an_interrupt_in_the_resolver_is_not_swallowed() -> None:
    def interrupted(_: str) -> Any:
        raise KeyboardInterrupt

    def refused(_: str) -> Any:
        raise ValueError("no")

    with pytest.raises(KeyboardInterrupt):
        fast.read_plain(b"a: 1.5\n", interrupted, yamlsafe._UNREAD, yamlsafe.MAX_DEPTH)
    assert fast.read_plain(b"a: 1.5\n", refused, yamlsafe._UNREAD, yamlsafe.MAX_DEPTH) is yamlsafe._UNREAD


@needs_fast
def test_no_objects_are_leaked_on_any_path() -> None:
    """Reading (whole, given up half-way, or failing) leaves no Python object behind."""
    docs = [t.encode() for t in ODD] + [(ROOT / "facts" / "iran-pakistan-2024" / "events.yaml").read_bytes()]

    def refused(_: str) -> Any:
        raise ValueError("no")

    def run() -> None:
        for raw in docs:
            fast.read_plain(raw, yamlsafe._resolve_plain, yamlsafe._UNREAD, yamlsafe.MAX_DEPTH)
            fast.read_plain(raw, refused, yamlsafe._UNREAD, yamlsafe.MAX_DEPTH)

    run()  # warm up (caches of the interpreter and of re)
    before = sys.getallocatedblocks()
    for _ in range(30):
        run()
    grown = sys.getallocatedblocks() - before
    assert grown < 200, f"{grown} blocks still allocated after 30 rounds"


def outcome_of(raw: bytes) -> Any:
    from briefgen.errors import CaseInvalid

    try:
        return ("ok", yamlsafe.parse_bytes(raw, "f.yaml").data)
    except CaseInvalid as exc:
        return ("errors", [e.format() for e in exc.errors])


def same_outcome(a: Any, b: Any) -> bool:
    return a[0] == b[0] and (same(a[1], b[1]) if a[0] == "ok" else a[1] == b[1])


BAD_BYTES = [
    b"\xc0\xaf",  # overlong '/'
    b"\xe0\x80\xaf",  # overlong, 3 bytes
    b"\xed\xa0\x80",  # a surrogate, encoded
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    b"\xf8\x88\x80\x80\x80",  # 5-byte form
    b"\x80",  # a lone continuation byte
    b"\xe2\x80",  # cut short
    b"\xff",
    b"\x00",
    b"\x1b",
    b"\t",
    b"\xef\xbb\xbf",  # a byte-order mark inside the text
    b"\xc2\x85",  # NEL: allowed
    b"\xe2\x80\xa8",  # line separator
]


@needs_fast
def test_bytes_read_without_decoding_give_what_decoding_first_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """parse_bytes hands a file's bytes to the C reader undecoded; whatever the bytes (bad
    UTF-8 anywhere: in a value, a key, a comment), the outcome (data, or the errors with
    their places) is the one of decoding first and reading in Python."""
    rng = random.Random(5)
    base = (ROOT / "facts" / "iran-pakistan-2024" / "events.yaml").read_bytes()[:3000]
    samples = [b"a: x\n", base, b"\xef\xbb\xbfa: 1\n", b"\xff\xfea\x00", b"a: \t1\n", b"\ta: 1\n"]
    for bad in BAD_BYTES:
        samples += [b"a: " + bad + b"\n", bad + b": 1\n", b"# note " + bad + b"\na: 1\n", b'a: "' + bad + b'"\n']
        for _ in range(15):
            at = rng.randrange(len(base))
            samples.append(base[:at] + bad + base[at:])
    got = [outcome_of(raw) for raw in samples]
    monkeypatch.setattr(yamlsafe, "_yamlfast", None)
    expected = [outcome_of(raw) for raw in samples]
    for raw, g, e in zip(samples, got, expected, strict=True):
        assert same_outcome(g, e), (raw[:80], g, e)
    assert sum(g[0] == "ok" for g in got) > 10 and sum(g[0] == "errors" for g in got) > 100
