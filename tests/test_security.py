"""Issue 21: what a hostile template, profile, fact file or client could do, closed.

One section per numbered finding of the security review, each through the command line
a user runs (``build --templates``, ``build --audiences``, ``check``, ``serve``,
``distribute``): a subprocess (``run_cli``) where the process itself matters (umask,
environment, signals, sockets), ``cli.main`` in this process where many variants run.
Then the machine-independent reproducibility of PDFs, whichever way WeasyPrint subsets
fonts. No test asserts how long anything takes: bench/run.py (part 7) measures that.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import MINIMAL, ROOT, run_cli
from test_bad_input import edit, expect_error, line_of, located

from briefgen import cli
from briefgen.briefing.selfcheck import html_problems
from briefgen.errors import IN_ALL, PER_FILE
from briefgen.facts.models.common import MAX_MARKDOWN_NESTING, MAX_MARKUP, MAX_WORD

HOSTILE_COLOUR = '#000000" q=a"><script>alert(1)</script>'


def in_process(*args: str) -> subprocess.CompletedProcess[str]:
    """``briefgen ARGS`` run by ``cli.main`` in this process (many runs: no start-up cost)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def run_env(
    *args: str, umask: int | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``briefgen ARGS`` in a subprocess with its own umask and environment."""
    return subprocess.run(
        [sys.executable, "-m", "briefgen", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # a guard against a hang, not a measure
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,  # noqa: PLW1509
    )


def clean_failure(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


def override(tmp_path: Path, body: str, name: str = "sections/bluf.html.j2") -> Path:
    """A user template folder whose ``name`` holds ``body`` on its third line."""
    folder = tmp_path / "tpl"
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("<section>\nline two\n" + body + "\n</section>\n", encoding="utf-8")
    return folder


def html_build(case: Path, out: Path, *extra: str) -> list[str]:
    return ["build", str(case), "--audience", "analyst", "--format", "html", "--out", str(out), *extra]


# ---------------------------------------------------------------- 1. the self-check reads HTML as a browser does

NET = "http://127.0.0.1:9"
TRICKS = {
    # `<!-->` is a whole (empty) comment in HTML5: the <img> after it is live.
    "empty-comment": "<!--><img src=x onerror=alert(1)> -->",
    # A quote inside an unquoted attribute value is part of the value: the <script> is live.
    "quote-in-unquoted-value": '<b title=x"y><script>alert(1)</script><b title="z>',
    "css-image-set": f"<style>p {{ background: image-set('{NET}/a.png' 1x) }}</style>",
    "css-escaped-url": f"<style>p {{ background: u\\72l({NET}/b.png) }}</style>",
    "table-background": f'<table background="{NET}/c.png"><tr><td>x</td></tr></table>',
    "meta-refresh": f'<meta http-equiv=refresh content="0;url={NET}/d">',
    "root-relative-image": '<img src="/etc/hostname" alt="">',
}
TRICK_MESSAGES = {
    "empty-comment": "event handler attribute onerror on <img>",
    "quote-in-unquoted-value": "<script> element present",
    "css-image-set": "the styles load an outside resource",
    "css-escaped-url": "the styles load an outside resource",
    "table-background": "background='http://127.0.0.1:9/c.png' on <table>",
    "meta-refresh": "<meta http-equiv='refresh'> present",
    "root-relative-image": "src='/etc/hostname' on <img>",
}


@pytest.mark.parametrize("trick", list(TRICKS))
def test_self_check_catches_what_a_browser_would_run_or_load(tmp_path: Path, trick: str) -> None:
    tpl = override(tmp_path, TRICKS[trick])
    proc = in_process(*html_build(MINIMAL, tmp_path / "out", "--templates", str(tpl)))
    clean_failure(proc)
    errors = located(proc.stderr)
    assert errors and all(m.startswith("rendered HTML failed a safety check") for _, _, _, m in errors), proc.stderr
    assert any(TRICK_MESSAGES[trick] in m for _, _, _, m in errors), proc.stderr
    assert not (tmp_path / "out").exists()


def test_self_check_trick_through_a_subprocess_writes_nothing(tmp_path: Path) -> None:
    tpl = override(tmp_path, TRICKS["empty-comment"] + TRICKS["quote-in-unquoted-value"])
    proc = run_cli("build", str(MINIMAL), "--templates", str(tpl), "--out", str(tmp_path / "out"))
    clean_failure(proc)
    assert "onerror on <img>" in proc.stderr and "<script> element present" in proc.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- 2. a shared profile cannot pull in local files


def leaky_profile(tmp_path: Path, include: str) -> tuple[Path, Path]:
    """A profile folder whose profile ``leaky`` has a templates folder, and whose BLUF
    section includes ``include``. Returns (profiles folder, templates folder)."""
    profiles = tmp_path / "profiles"
    tpl = profiles / "tpl"
    (tpl / "sections").mkdir(parents=True)
    (profiles / "leaky.yaml").write_text(
        "name: leaky\ndescription: A profile shared by another team\nsections: [cover, bluf]\n"
        "marking: RED\ntemplates: tpl\n",
        encoding="utf-8",
    )
    (tpl / "sections" / "bluf.html.j2").write_text(
        f'<section id="sec-bluf">\n<pre>{{% include "{include}" %}}</pre>\n</section>\n', encoding="utf-8"
    )
    return profiles, tpl


@pytest.mark.parametrize(
    ("name", "target"), [("secret.txt", "/etc/hostname"), ("env.txt", "/proc/self/environ")], ids=["etc", "proc"]
)
def test_profile_template_symlinks_out_of_the_folder_are_refused(tmp_path: Path, name: str, target: str) -> None:
    if not Path(target).exists():
        pytest.skip(f"{target} does not exist here")
    profiles, tpl = leaky_profile(tmp_path, name)
    (tpl / name).symlink_to(target)
    marker = "briefgen-secret-" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:16]
    proc = run_env(
        "build", str(MINIMAL), "--audiences", str(profiles), "--audience", "leaky", "--out", str(tmp_path / "out"),
        env={"BRIEFGEN_TEST_SECRET": marker},
    )  # fmt: skip
    clean_failure(proc)
    assert f"{tpl / name}:1:1: template '{name}' leads outside its folder" in proc.stderr, proc.stderr
    assert marker not in proc.stdout + proc.stderr
    if target == "/etc/hostname":
        hostname = Path(target).read_text(encoding="utf-8").strip()
        if len(hostname) >= 6:
            assert hostname not in proc.stdout + proc.stderr.replace(str(tmp_path), "")
    assert not (tmp_path / "out").exists()


def test_profile_template_that_is_a_pipe_is_refused(tmp_path: Path) -> None:
    """A special file inside the folder (reading a FIFO would block the build for ever)."""
    profiles, tpl = leaky_profile(tmp_path, "pipe.txt")
    os.mkfifo(tpl / "pipe.txt")
    proc = run_env(
        "build", str(MINIMAL), "--audiences", str(profiles), "--audience", "leaky", "--format", "html",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    clean_failure(proc)
    assert f"{tpl / 'pipe.txt'}:1:1: template 'pipe.txt' is not a regular file" in proc.stderr, proc.stderr


def test_profile_templates_inside_the_folder_still_work(tmp_path: Path) -> None:
    """The control: including a regular file of the folder works, through a link inside it too."""
    profiles, tpl = leaky_profile(tmp_path, "note.txt")
    (tpl / "real-note.txt").write_text("A note kept with the profile.", encoding="utf-8")
    (tpl / "note.txt").symlink_to("real-note.txt")
    proc = in_process(
        "build", str(MINIMAL), "--audiences", str(profiles), "--audience", "leaky", "--format", "html",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "A note kept with the profile." in (tmp_path / "out" / "minimal" / "leaky.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- 3. pathological Markdown

SUMMARY = "summary: North fired **missiles** across the border."


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("*a " * 4000, ["4,000 Markdown markup characters", f"more than {MAX_MARKUP}"]),
        ("** " * 800 + "a" + " **" * 800, ["3,200 Markdown markup characters"]),
        ("**" * 800 + "a" + "**" * 800, ["3,201 characters without a space"]),
        ("".join(">" * i + " q\n" for i in range(1, 12)), ["11 levels deep", f"more than {MAX_MARKDOWN_NESTING}"]),
        ("".join("    " * i + "- x\n" for i in range(20)), ["20 levels deep"]),
        ("> - > - > - > - > x", ["levels deep"]),
        ("North fired " + "w" * 49_900, ["49,900 characters without a space", f"more than {MAX_WORD}"]),
    ],
    ids=[
        "star-a-x4000",
        "strong-x800",
        "nested-strong-x800",
        "quotes-11-deep",
        "lists-20-deep",
        "quotes-in-lists",
        "word-49900",
    ],
)
def test_pathological_markdown_is_a_located_error(case_copy: Path, tmp_path: Path, text: str, words: list[str]) -> None:
    f = case_copy / "events.yaml"
    line = line_of(f, SUMMARY)
    edit(f, SUMMARY, "summary: " + json.dumps(text))
    for proc in (run_cli("check", str(case_copy)), run_cli(*html_build(case_copy, tmp_path / "out"))):
        err = expect_error(proc, f, line, "'summary'", *words)
        assert err[2] == len("    summary: ") + 1
    proc = run_cli("build", str(case_copy), "--format", "pdf", "--out", str(tmp_path / "out"))
    expect_error(proc, f, line, *words)
    assert not (tmp_path / "out").exists()


def test_markdown_within_the_bounds_is_formatted(case_copy: Path, tmp_path: Path) -> None:
    """The control: a rich but real paragraph (links, emphasis, a quote in a list) is fine."""
    text = (
        "North's **second** strike, *by its own account*, hit `three` sites ([report](https://example.org/a_b)).\n\n"
        + "".join("    " * i + "- level\n" for i in range(MAX_MARKDOWN_NESTING))
    )
    edit(case_copy / "events.yaml", SUMMARY, "summary: " + json.dumps(text))
    proc = in_process(*html_build(case_copy, tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "demo" / "analyst.html").read_text(encoding="utf-8")
    assert "<strong>second</strong>" in html and "<code>three</code>" in html


# ---------------------------------------------------------------- 4. a flood of errors


def test_a_flood_of_errors_is_capped(case_copy: Path) -> None:
    """8 MB of ``- x`` items, each one an error: the first PER_FILE are listed, the rest
    counted in one line; exit 1. (Time and memory: bench/run.py, part 7.)"""
    f = case_copy / "events-flood.yaml"
    items = 8 * 1024 * 1024 // 4 - 10
    with f.open("w", encoding="utf-8") as out:
        out.write("events:\n" + "- x\n" * items)
    proc = run_cli("check", str(case_copy))
    clean_failure(proc)
    listed = [e for e in located(proc.stderr) if e[0] == str(f)]
    assert len(listed) == PER_FILE <= IN_ALL
    assert all("must be a mapping" in e[3] for e in listed)
    more = re.search(rf"^{re.escape(str(f))}: ([\d,]+) more problems not listed$", proc.stderr, re.M)
    assert more is not None, proc.stderr[-2000:]
    assert int(more[1].replace(",", "")) + PER_FILE == items
    assert len(proc.stderr.splitlines()) <= PER_FILE + 5


# ---------------------------------------------------------------- 5. values in the generated SVG


def test_a_hostile_party_colour_is_refused(case_copy: Path) -> None:
    f = case_copy / "case.yaml"
    edit(f, 'colour: "#1f6f8b"', f"colour: {json.dumps(HOSTILE_COLOUR)}")
    expect_error(run_cli("check", str(case_copy)), f, line_of(f, "id: north"), "is not a colour", "#RRGGBB")


def test_timeline_escapes_attribute_values_whatever_the_model_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A colour that reached the view without validation (as a cached model once did) stays
    inside its attribute: the build succeeds and the page passes its self-check."""
    from briefgen.briefing import view

    real = view.readable
    monkeypatch.setattr(view, "readable", lambda c: HOSTILE_COLOUR if c == "#1f6f8b" else real(c))
    proc = in_process(*html_build(MINIMAL, tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "out" / "minimal" / "analyst.html").read_text(encoding="utf-8")
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "<script" not in svg and 'q=a"' not in svg
    assert 'fill="#000000&#34; q=a&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in svg
    assert html_problems(page) == []


def test_timeline_svg_escapes_every_attribute() -> None:
    from briefgen.briefing.timeline import Lane, Mark, timeline_svg

    lane = Lane(id="north", label='North"><script>', ink=HOSTILE_COLOUR)
    for upcoming in (False, True):
        mark = Mark(
            number=1, date_iso="2024-01-16", date_label="16 Jan 2024", title="T</title><script>",
            lanes=["north"], upcoming=upcoming, inexact=False,
        )  # fmt: skip
        svg = str(timeline_svg([mark], [lane]))
        assert "<script" not in svg and 'q=a"' not in svg
        dense = str(timeline_svg([mark] * 200, [lane]))
        assert "<script" not in dense and 'q=a"' not in dense


# ---------------------------------------------------------------- 6. templates cannot build huge strings

HUGE = {
    "ljust": '{{ "x".ljust(1500000000) }}',
    "rjust": '{{ "x".rjust(1500000000) }}',
    "center": '{{ "x".center(1500000000) }}',
    "zfill": '{{ "1".zfill(1500000000) }}',
    "format-width": '{{ "{:>1500000000}".format(1) }}',
    "format-nested-width": '{{ "{:>{}}".format(1, 1500000000) }}',
    "percent-width": '{{ "%1500000000d" % 1 }}',
    "percent-star": '{{ "%*d" % (1500000000, 1) }}',
    "format-filter": '{{ "%1500000000d"|format(1) }}',
    "integer-multiplication": "{{ 2 ** 999999 * 2 ** 999999 * 2 ** 999999 }}",
}


@pytest.mark.parametrize("payload", list(HUGE.values()), ids=list(HUGE))
def test_template_cannot_build_huge_strings(tmp_path: Path, payload: str) -> None:
    tpl = override(tmp_path, payload)
    proc = in_process(*html_build(MINIMAL, tmp_path / "out", "--templates", str(tpl)))
    clean_failure(proc)
    assert f"{tpl / 'sections' / 'bluf.html.j2'}:3:" in proc.stderr, proc.stderr
    assert "too large" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_template_bounds_leave_ordinary_formatting_alone(tmp_path: Path) -> None:
    tpl = override(tmp_path, '<p>{{ "x".ljust(5, "-") }}|{{ "{:>6}".format(42) }}|{{ "%05d" % 7 }}|{{ 12 * 12 }}</p>')
    proc = in_process(*html_build(MINIMAL, tmp_path / "out", "--templates", str(tpl)))
    assert proc.returncode == 0, proc.stderr
    assert "<p>x----|    42|00007|144</p>" in (tmp_path / "out" / "minimal" / "analyst.html").read_text(
        encoding="utf-8"
    )


# ---------------------------------------------------------------- 7. serve


@contextlib.contextmanager
def serving(case: Path, out: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "briefgen", "serve", str(case), "--port", "0", "--audience", "analyst",
         "--format", "html", "--out", str(out)],
        cwd=out.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            m = re.search(r"at http://127\.0\.0\.1:(\d+)/", line)
            if m:
                break
        else:
            raise AssertionError("serve never said where it listens")
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
        yield int(m[1]), proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _get(port: int, path: str = "/demo/analyst.html") -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


def _listen_backlog(port: int) -> int | None:
    """The listen backlog of the socket on ``port``, as ``ss`` shows it (Send-Q of a LISTEN socket)."""
    if shutil.which("ss") is None:
        return None
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[0] == "LISTEN":
            return int(fields[2])
    return None


def test_serve_drops_half_requests_answers_bursts_and_stays_quiet(case_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with serving(case_copy, out) as (port, proc):
        # Half-sent requests: the server closes them itself (after its socket timeout);
        # the client waits far longer than that before calling it a hang.
        half = [socket.create_connection(("127.0.0.1", port), timeout=120) for _ in range(50)]
        for s in half:
            s.sendall(b"GET /demo/analyst.html HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: never ends

        # A burst of 200 clients at once, while the half requests are held: every one answered.
        backlog = _listen_backlog(port)
        assert backlog is None or backlog >= 128, backlog
        codes: list[int] = []
        lock = threading.Lock()

        def one() -> None:
            code = _get(port)
            with lock:
                codes.append(code)

        burst = [threading.Thread(target=one) for _ in range(200)]
        for t in burst:
            t.start()
        for t in burst:
            t.join()
        assert codes == [200] * 200

        # Clients that hang up mid-response (a reset, as a closed tab sends).
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", port), timeout=120)
            s.sendall(b"GET /demo/analyst.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
            s.close()

        for s in half:
            assert s.recv(1) == b"", "the server should close a request that never ends"
            s.close()
        assert _get(port) == 200  # still serving
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
        assert proc.stderr is not None
        stderr = proc.stderr.read()
    assert "Traceback" not in stderr and "Error" not in stderr, stderr


# ---------------------------------------------------------------- 8. permissions, invisible characters, local paths


def _modes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in folder.rglob("*")}


def red_case(case_copy: Path) -> Path:
    """The minimal case with one item marked RED: its analyst briefing is RED."""
    edit(
        case_copy / "events.yaml",
        "verification: {status: unverified}\n",
        "verification: {status: unverified}\n    marking: RED\n",
    )
    return case_copy


def test_outputs_under_umask_077_are_private(case_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_env(
        "build", str(case_copy), "--audience", "public", "--audience", "analyst", "--out", str(out), umask=0o077
    )
    assert proc.returncode == 0, proc.stderr
    modes = _modes(out)
    assert {"demo/public.html", "demo/public.pdf", "demo/analyst.html", "demo/analyst.pdf"} <= set(modes)
    assert all(mode & 0o077 == 0 for mode in modes.values()), modes


def test_a_red_edition_is_never_world_readable(case_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    red_case(case_copy)
    proc = run_env(
        "build", str(case_copy), "--audience", "public", "--audience", "analyst", "--out", str(out), umask=0o022
    )
    assert proc.returncode == 0, proc.stderr
    assert "TLP:RED" in (out / "demo" / "analyst.html").read_text(encoding="utf-8")
    modes = _modes(out)
    for name in ("demo/analyst.html", "demo/analyst.pdf"):
        assert modes[name] & 0o007 == 0, (name, oct(modes[name]))
    assert modes["demo/public.html"] & 0o004  # CLEAR: as the umask allows

    # Distributed copies of it, and the register naming their recipients, too.
    lst = tmp_path / "list.yaml"
    lst.write_text(
        f"case: {case_copy}\nrecipients:\n  - {{name: Ana, organisation: FO, audience: analyst}}\n"
        "  - {name: Ben, organisation: FO, audience: public}\n",
        encoding="utf-8",
    )
    proc = run_env("distribute", str(lst), "--out", str(tmp_path / "copies"), umask=0o022)
    assert proc.returncode == 0, proc.stderr
    current = tmp_path / "copies" / "demo" / "distribution"
    (red,) = current.glob("analyst/copy-*.pdf")
    (clear,) = current.glob("public/copy-*.pdf")
    assert stat.S_IMODE(red.stat().st_mode) & 0o007 == 0
    assert stat.S_IMODE(clear.stat().st_mode) & 0o004
    for register in ("register.csv", "register.json"):
        assert stat.S_IMODE((current / register).stat().st_mode) & 0o007 == 0


# Invisible characters: every one refused, in every text field.
INVISIBLE_SAMPLES = ["\u200b", "\u200e", "\u200f", "\u202a", "\u202e", "\u2060", "\u2064", "\u2066", "\u2069", "\ufeff"]


@pytest.mark.parametrize("char", INVISIBLE_SAMPLES, ids=[f"U+{ord(c):04X}" for c in INVISIBLE_SAMPLES])
def test_invisible_characters_in_fact_text_are_located_errors(case_copy: Path, char: str) -> None:
    f = case_copy / "events.yaml"
    edit(f, "title: North strikes South", f"title: {json.dumps('North strikes' + char + ' South')}")
    err = expect_error(
        run_cli("check", str(case_copy)), f, line_of(f, "North strikes"), f"U+{ord(char):04X}", "'title'"
    )
    assert err[2] == len("    title: ") + 1


def test_joiners_are_allowed_between_letters_only(case_copy: Path) -> None:
    f = case_copy / "actors.yaml"
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # mi<ZWNJ>khaham: a Persian word needs the ZWNJ
    hindi = "\u0915\u094d\u200d\u0937"  # ka, virama, ZWJ, ssa: a half form
    edit(f, "aliases: [The Army of the North]", f"aliases: [{json.dumps(persian)}, {json.dumps(hindi)}]")
    proc = run_cli("check", str(case_copy))
    assert proc.returncode == 0, proc.stderr
    edit(f, json.dumps(hindi), json.dumps("Army\u200d "))  # a joiner at the end of a word: refused
    expect_error(run_cli("check", str(case_copy)), f, line_of(f, "aliases:"), "U+200D", "outside a word")


REFERENCES = {"id", "source", "party", "parties", "actor", "actors", "analyst", "events", "rests_on", "shared"}
REFERENCES |= {"resolved_from_source", "resolved_against"}


def _leaves(data: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _leaves(v, (*path, i))
    elif isinstance(data, str):
        yield path, data


def test_every_text_field_refuses_a_direction_override(tmp_path: Path) -> None:
    """The case of test_hostile puts text in every field of every kind of fact: with U+202E in
    each of its texts, every one is reported, at its own line and column."""
    from test_hostile import hostile_case

    from briefgen.facts.loader import load
    from briefgen.facts.yamlread import parse_bytes

    case = hostile_case(tmp_path / "hostile", 9)
    expected: set[tuple[str, int, int]] = set()
    for f in sorted(case.glob("*.yaml")):
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        for path, text in _leaves(data):
            if path[-1] in REFERENCES or (isinstance(path[-1], int) and path[-2] in REFERENCES):
                continue  # ids and references: refused by their pattern, and reported again where used
            node: Any = data
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = text[:1] + "\u202e" + text[1:]
        f.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        doc = parse_bytes(f.read_bytes(), str(f))
        for path, text in _leaves(doc.data):
            if "\u202e" in text:
                expected.add((str(f), *doc.locate(path)))
    loaded = load(case)
    found = {(e.path, e.line, e.col) for e in loaded.problems.kept}
    assert len(expected) > 100
    assert expected <= found, sorted(expected - found)[:10]


def test_invisible_characters_in_profiles_are_refused(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    f = profiles / "sly.yaml"
    organisation = json.dumps("Foreign\u200b Office")
    f.write_text(
        "name: sly\ndescription: For the board\nsections: [cover]\nmarking: GREEN\n"
        f"branding: {{organisation: {organisation}}}\n",
        encoding="utf-8",
    )
    expect_error(run_cli("audiences", "--audiences", str(profiles)), f, 5, "U+200B")


@pytest.mark.parametrize("name", ["Al\u200bice", "Al\u2060ice", "Alice\u200d", "Eve\u202eevil", "\ufeffAlice"])
def test_recipient_names_with_invisible_characters_are_refused(tmp_path: Path, name: str) -> None:
    shutil.copytree(MINIMAL, tmp_path / "demo")
    lst = tmp_path / "list.yaml"
    lst.write_text(
        "case: demo\nrecipients:\n  - {name: Alice, organisation: FO, audience: executive}\n"
        f"  - name: {json.dumps(name)}\n    organisation: FO\n    audience: executive\n",
        encoding="utf-8",
    )
    proc = run_cli("distribute", str(lst), "--out", str(tmp_path / "out"))
    err = expect_error(proc, lst, 4, "'name'", "invisible character")
    assert err[2] == len("  - name: ") + 1
    assert not (tmp_path / "out").exists()


def test_a_joined_name_is_the_same_person(tmp_path: Path) -> None:
    """A joiner between Latin letters is allowed (some languages use it), but it draws
    nothing: the same name with one is the same recipient."""
    shutil.copytree(MINIMAL, tmp_path / "demo")
    lst = tmp_path / "list.yaml"
    joined = json.dumps("Al\u200cice")
    lst.write_text(
        "case: demo\nrecipients:\n  - {name: Alice, organisation: FO, audience: executive}\n"
        f"  - {{name: {joined}, organisation: FO, audience: executive}}\n",
        encoding="utf-8",
    )
    expect_error(run_cli("distribute", str(lst), "--out", str(tmp_path / "out")), lst, 4, "already on the list")


def test_the_html_embeds_no_local_path(case_copy: Path, tmp_path: Path) -> None:
    """A profile's logo is embedded as a data: URI; the page names no file of this machine,
    and the PDF shows the logo."""
    import pypdf

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    png = _tiny_png()
    (profiles / "logo.png").write_bytes(png)
    (profiles / "branded.yaml").write_text(
        "name: branded\ndescription: Branded edition\nsections: [cover, bluf]\nmarking: AMBER\n"
        "branding: {organisation: Demo Org, logo: logo.png}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    proc = run_cli("build", str(case_copy), "--audiences", str(profiles), "--audience", "branded", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    page = (out / "demo" / "branded.html").read_text(encoding="utf-8")
    assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in page
    for local in (str(profiles), str(tmp_path), str(ROOT), str(Path.home()), "file:"):
        assert local not in page, local
    assert html_problems(page) == []
    reader = pypdf.PdfReader(out / "demo" / "branded.pdf")
    xobjects = reader.pages[0]["/Resources"].get("/XObject", {})
    assert any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())


def _tiny_png() -> bytes:
    """A valid 2x2 PNG, built here (zlib, struct), so the test needs no image file."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x1f\x6f\x8b" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- distribute: the register always matches the copies

KILL_AFTER_TWO = """
import os, sys, time
import briefgen.output.distribute as d
real = d.write_atomic
written = []

def slow(path, data, marking=None):
    real(path, data, marking)
    if path.suffix == ".pdf":
        written.append(path)
        if len(written) == 2:
            print("two copies written", flush=True)
            time.sleep(600)  # killed here, mid-run

d.write_atomic = slow
from briefgen.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _register_matches_copies(out: Path) -> list[dict[str, Any]]:
    current = out / "demo" / "distribution"
    register = json.loads((current / "register.json").read_text(encoding="utf-8"))
    rows = list(csv.DictReader(io.StringIO((current / "register.csv").read_text(encoding="utf-8"))))
    on_disk = {p.relative_to(out).as_posix() for p in current.rglob("*.pdf")}
    assert {c["file"] for c in register["copies"]} == {r["file"] for r in rows} == on_disk
    for c in register["copies"]:
        assert hashlib.sha256((out / c["file"]).read_bytes()).hexdigest() == c["sha256"]
    return list(register["copies"])


def _list(folder: Path, names: list[str]) -> Path:
    lst = folder / "list.yaml"
    lst.write_text(
        "case: demo\nrecipients:\n"
        + "".join(f"  - {{name: {n}, organisation: FO, audience: executive}}\n" for n in names),
        encoding="utf-8",
    )
    return lst


def test_a_killed_distribute_leaves_the_previous_complete_set(tmp_path: Path) -> None:
    shutil.copytree(MINIMAL, tmp_path / "demo")
    out = tmp_path / "out"
    first = ["Ana", "Ben", "Cy"]
    proc = run_cli("distribute", str(_list(tmp_path, first)), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    before = _register_matches_copies(out)
    assert [c["recipient"] for c in before] == first

    # A second run to other people, killed outright after two of its five copies.
    second = ["Dee", "Eve", "Fay", "Gus", "Hal"]
    lst = _list(tmp_path, second)
    run = subprocess.Popen(
        [sys.executable, "-c", KILL_AFTER_TWO, "distribute", str(lst), "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True,
    )  # fmt: skip
    try:
        assert run.stdout is not None
        said = []  # progress lines come first
        while not said or ("two copies written" not in said[-1] and said[-1]):
            said.append(run.stdout.readline())
        assert "two copies written" in said[-1], run.stderr.read() if run.stderr else said
        os.killpg(run.pid, signal.SIGKILL)
    finally:
        run.wait()
        for pipe in (run.stdout, run.stderr):
            if pipe:
                pipe.close()
    assert run.returncode == -signal.SIGKILL
    assert _register_matches_copies(out) == before  # the first run's set, whole and alone
    sets = [p for p in (out / "demo").iterdir() if p.name.startswith(".distribution-")]
    assert len(sets) == 2  # the current set, and the killed run's half-written one

    # The next run completes, swaps its set in, and clears away the killed run's folder.
    proc = run_cli("distribute", str(lst), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    after = _register_matches_copies(out)
    assert [c["recipient"] for c in after] == second
    assert len([p for p in (out / "demo").iterdir() if p.name.startswith(".distribution-")]) == 1


def test_distribution_folder_of_its_own_is_not_overwritten(tmp_path: Path) -> None:
    shutil.copytree(MINIMAL, tmp_path / "demo")
    (tmp_path / "out" / "demo" / "distribution").mkdir(parents=True)
    (tmp_path / "out" / "demo" / "distribution" / "mine.txt").write_text("keep me", encoding="utf-8")
    proc = run_cli("distribute", str(_list(tmp_path, ["Ana"])), "--out", str(tmp_path / "out"))
    clean_failure(proc)
    assert "is a folder of its own" in proc.stderr
    assert (tmp_path / "out" / "demo" / "distribution" / "mine.txt").read_text(encoding="utf-8") == "keep me"
    assert [p.name for p in (tmp_path / "out" / "demo").iterdir()] == ["distribution"]


# ---------------------------------------------------------------- reproducible PDFs, whichever subsetter runs


def _two_builds(tmp_path: Path) -> tuple[bytes, bytes]:
    pdfs = []
    for n in range(2):
        out = tmp_path / f"out{n}"
        proc = in_process("build", str(MINIMAL), "--audience", "executive", "--format", "pdf", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        pdfs.append((out / "minimal" / "executive.pdf").read_bytes())
        if n == 0:
            time.sleep(1.1)  # a second apart: a font dated by the clock would differ
    return pdfs[0], pdfs[1]


def _spy(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    from weasyprint.pdf import fonts

    calls: list[str] = []
    real = getattr(fonts.Font, name)

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(self.family)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(fonts.Font, name, spy)
    return calls


def test_pdfs_are_reproducible_when_fonttools_subsets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from weasyprint.pdf import fonts

    monkeypatch.setattr(fonts, "harfbuzz_subset", None)  # as on a machine without libharfbuzz-subset0
    calls = _spy(monkeypatch, "_fonttools_subset")
    first, second = _two_builds(tmp_path)
    assert calls  # the fontTools path ran
    assert first == second


def test_pdfs_are_reproducible_when_harfbuzz_subsets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from weasyprint.pdf import fonts

    if not fonts.harfbuzz_subset or not fonts.harfbuzz.hb_version_atleast(4, 1, 0):
        pytest.skip("libharfbuzz-subset0 (4.1 or later) is not installed")
    calls = _spy(monkeypatch, "_harfbuzz_subset")
    first, second = _two_builds(tmp_path)
    assert calls  # the HarfBuzz path ran
    assert first == second
