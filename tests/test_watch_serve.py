"""briefgen watch and serve: rebuild on save, keep the last good output when the facts
break, and serve the HTML on loopback with a reload hook that never reaches the files."""

from __future__ import annotations

import http.client
import io
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from briefgen.cli import Console
from briefgen.editing.serve import BriefingServer, inject, make_server, resolve_under
from briefgen.editing.watch import Watcher
from briefgen.output.build import BuildOptions

TITLE = "title: North strikes South\n"


def edit(case: Path, old: str, new: str, name: str = "events.yaml") -> None:
    path = case / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def options(tmp_path: Path) -> BuildOptions:
    return BuildOptions(out=tmp_path / "out", audiences=("analyst",), formats=("html",))


def html_of(tmp_path: Path) -> str:
    return (tmp_path / "out" / "demo" / "analyst.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- watch


def test_watch_rebuilds_on_save_and_keeps_last_good_output(
    case_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    con = Console(stream=io.StringIO())
    watcher = Watcher([case_copy], options(tmp_path), con)
    events = case_copy / "events.yaml"
    assert watcher.build()
    first, s0 = html_of(tmp_path), watcher.status()

    edit(case_copy, TITLE, "title: North strikes South hard\n")
    assert watcher.changed([events])
    after_good, s1 = html_of(tmp_path), watcher.status()

    edit(case_copy, "    kind: strike\n", "    kind: strike\n    colour: red\n")  # unknown field
    check_stderr = run_cli("check", str(case_copy)).stderr
    assert watcher.changed([events])
    after_broken, s2 = html_of(tmp_path), watcher.status()

    edit(case_copy, "    colour: red\n", "")
    edit(case_copy, "North strikes South hard", "North strikes South at dawn")
    assert watcher.changed([events])
    final = (html_of(tmp_path), watcher.status())

    assert "North strikes South hard" not in first and s0["version"] == 1 and s0["ok"]
    assert "North strikes South hard" in after_good and s1["version"] == 2 and s1["ok"]
    # Broken facts: nothing written, the last good page stays, the problem is reported.
    assert after_broken == after_good
    assert s2["ok"] is False and s2["version"] == 2
    assert any("unknown field 'colour'" in p for p in s2["problems"])  # type: ignore[union-attr]
    assert "North strikes South at dawn" in final[0] and final[1]["version"] == 3 and final[1]["ok"]
    assert watcher.builds == 4

    # The problems are printed exactly as `briefgen check` prints them.
    err = capsys.readouterr().err
    # (check writes nothing, so its count does not add "nothing was written")
    problem_lines = [ln for ln in check_stderr.splitlines() if ln.strip() and "problem found" not in ln]
    assert problem_lines and "events.yaml:" in problem_lines[0]
    assert "\n".join(problem_lines) in err


def test_watch_rebuilds_only_for_inputs_and_sees_new_files(case_copy: Path, tmp_path: Path) -> None:
    watcher = Watcher([case_copy], options(tmp_path), Console(stream=io.StringIO()))
    assert watcher.build() and watcher.builds == 1
    # Not inputs: an editor's swap file, a file in a subfolder of a case, another folder.
    assert not watcher.changed([case_copy / ".events.yaml.swp", case_copy / "archive" / "s1.txt", tmp_path / "x.yaml"])
    assert watcher.builds == 1
    # A new fact file (a split kind) is an input too.
    extra = case_copy / "events-extra.yaml"
    extra.write_text(
        "events:\n  - id: e9\n    when: {date: 2024-01-30, precision: day}\n    title: Talks resume\n"
        "    summary: Talks resumed.\n    kind: diplomatic\n"
        '    citations: [{source: s1, excerpt: "stepped back", credibility: 2}]\n'
        "    verification: {status: unverified}\n",
        encoding="utf-8",
    )
    assert watcher.changed([extra])
    assert "Talks resume" in html_of(tmp_path)


def test_watch_template_edit_triggers_rebuild(case_copy: Path, tmp_path: Path) -> None:
    templates = tmp_path / "tpl" / "sections"
    templates.mkdir(parents=True)
    (templates / "bluf.html.j2").write_text(
        '{% extends "builtin/sections/bluf.html.j2" %}{% block heading %}<h2 id="{{ section.anchor }}">Bottom line A</h2>{% endblock %}',
        encoding="utf-8",
    )
    opts = BuildOptions(out=tmp_path / "out", audiences=("analyst",), formats=("html",), templates=(tmp_path / "tpl",))
    watcher = Watcher([case_copy], opts, Console(stream=io.StringIO()))
    watcher.run(max_builds=0)
    assert "Bottom line A" in html_of(tmp_path)
    text = (templates / "bluf.html.j2").read_text(encoding="utf-8").replace("Bottom line A", "Bottom line Bee")
    (templates / "bluf.html.j2").write_text(text, encoding="utf-8")
    assert watcher.changed([(templates / "bluf.html.j2").resolve()])
    assert "Bottom line Bee" in html_of(tmp_path)


def _briefgen(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "briefgen", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    q: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            q.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return q


def _wait_for(q: queue.Queue[str], pattern: str, timeout: float = 15) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    got = []
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        got.append(line)
        m = re.search(pattern, line)
        if m:
            return m
    raise AssertionError(f"no line matching {pattern!r} in: {got!r}")


def test_watch_command_stops_cleanly_on_ctrl_c(case_copy: Path, tmp_path: Path) -> None:
    proc = _briefgen(
        "watch", str(case_copy), "--audience", "analyst", "--format", "html", "--out", str(tmp_path / "out"),
        cwd=tmp_path,
    )  # fmt: skip
    try:
        q = _lines(proc)
        _wait_for(q, r"built 1 HTML")
        edit(case_copy, TITLE, "title: North strikes South twice\n")
        _wait_for(q, r"built 1 HTML")
        assert "North strikes South twice" in html_of(tmp_path)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()


def test_watch_command_max_builds(case_copy: Path, tmp_path: Path) -> None:
    args = ["watch", str(case_copy), "--audience", "analyst", "--format", "html", "--out", str(tmp_path / "out")]
    r = run_cli(*args, "--max-builds", "0")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "demo" / "analyst.html").is_file()
    edit(case_copy, "kind: strike", "kind: striek")
    r = run_cli(*args, "--max-builds", "0")
    assert r.returncode == 1
    assert re.search(r"events\.yaml:\d+:\d+: 'striek' is not allowed for 'kind'", r.stderr)
    assert run_cli(*args, "--audience", "nobody", "--max-builds", "0").returncode == 2
    # A saved file, seen by the system's file watcher, rebuilds; then the command ends.
    edit(case_copy, "kind: striek", "kind: strike")
    proc = _briefgen(*args, "--max-builds", "1", cwd=tmp_path)
    try:
        q = _lines(proc)
        _wait_for(q, r"HTML up to date")
        edit(case_copy, TITLE, "title: North strikes South, seen by watchfiles\n")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "seen by watchfiles" in html_of(tmp_path)


# ---------------------------------------------------------------- serve


@pytest.fixture
def served(case_copy: Path, tmp_path: Path) -> Iterator[tuple[BriefingServer, Watcher]]:
    watcher = Watcher([case_copy], options(tmp_path), Console(stream=io.StringIO()))
    assert watcher.build()
    server = make_server(tmp_path / "out", watcher.status, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server, watcher
    finally:
        server.shutdown()
        server.server_close()


def get(server: BriefingServer, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        # skip_host so that the test controls the Host header; paths go out exactly as given.
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host or f"127.0.0.1:{server.server_address[1]}")
        conn.endheaders()
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def test_serve_injects_reload_hook_only_into_responses(served: tuple[BriefingServer, Watcher], tmp_path: Path) -> None:
    server, _ = served
    status, headers, body = get(server, "/demo/analyst.html")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    page = body.decode()
    assert "/__briefgen/version" in page and "data-briefgen-reload" in page
    # The script sits at the end of the body and carries the nonce the CSP allows.
    nonce = re.search(r'<script nonce="([^"]+)" data-briefgen-reload>', page)
    assert nonce and f"'nonce-{nonce.group(1)}'" in headers["content-security-policy"]
    assert page.rstrip().endswith("</html>") and page.index("data-briefgen-reload") > page.index("marking-footer")
    # The file on disk stays script-free and otherwise identical.
    on_disk = html_of(tmp_path)
    assert "<script" not in on_disk
    assert page.replace(page[page.index("<script nonce") : page.index("</script>\n") + 10], "") == on_disk
    # The index lists the case folder.
    status, _, body = get(server, "/")
    assert status == 200 and b'href="demo/"' in body


def test_serve_refuses_paths_outside_the_output_folder(served: tuple[BriefingServer, Watcher], tmp_path: Path) -> None:
    server, _ = served
    (tmp_path / "secret.html").write_text("<p>secret</p>", encoding="utf-8")
    (tmp_path / "out" / "demo" / "link.html").symlink_to(tmp_path / "secret.html")
    for path in (
        "/../secret.html",
        "/demo/../../secret.html",
        "/%2e%2e/secret.html",
        "/demo/%2E%2E/%2e%2e/secret.html",
        "/demo/..%2f..%2fsecret.html",
        "/demo/..%5c..%5csecret.html",
        "/demo/link.html",
        "/demo/.briefgen-manifest.json",
    ):
        status, _, body = get(server, path)
        assert status in (403, 404), path
        assert b"secret" not in body.replace(b"secret.html", b""), path
    assert get(server, "/demo/nothing.html")[0] == 404
    # A request addressed to another name (DNS rebinding) is refused on loopback.
    assert get(server, "/demo/analyst.html", host="evil.example:80")[0] == 403
    assert get(server, "/demo/analyst.html", host=f"localhost:{server.server_address[1]}")[0] == 200


def test_serve_version_changes_after_rebuild(served: tuple[BriefingServer, Watcher], case_copy: Path) -> None:
    server, watcher = served

    def version() -> dict[str, object]:
        status, headers, body = get(server, "/__briefgen/version")
        assert status == 200 and headers["content-type"] == "application/json"
        return json.loads(body)  # type: ignore[no-any-return]

    before = version()
    assert before["ok"] is True
    # The page knows the version it was served at.
    assert f"var seen = {before['version']}," in get(server, "/demo/analyst.html")[2].decode()
    edit(case_copy, TITLE, "title: North strikes South again\n")
    assert watcher.changed([case_copy / "events.yaml"])
    after = version()
    assert after["version"] == before["version"] + 1  # type: ignore[operator]
    assert b"North strikes South again" in get(server, "/demo/analyst.html")[2]
    # Broken facts: same version, not ok, problems listed for the banner.
    edit(case_copy, "kind: strike", "kind: striek")
    assert watcher.changed([case_copy / "events.yaml"])
    broken = version()
    assert broken["version"] == after["version"] and broken["ok"] is False
    assert any("striek" in p for p in broken["problems"])  # type: ignore[union-attr]


def test_serve_command_on_a_free_port_and_ctrl_c(case_copy: Path, tmp_path: Path) -> None:
    proc = _briefgen(
        "serve", str(case_copy), "--port", "0", "--audience", "analyst", "--format", "html",
        "--out", str(tmp_path / "out"), cwd=tmp_path,
    )  # fmt: skip
    try:
        m = _wait_for(_lines(proc), r"at http://127\.0\.0\.1:(\d+)/")
        conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=10)
        conn.request("GET", "/demo/analyst.html")
        r = conn.getresponse()
        assert r.status == 200 and b"data-briefgen-reload" in r.read()
        conn.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()
    assert "<script" not in html_of(tmp_path)


def test_helpers() -> None:
    assert inject(b"<html><body>x</body></html>", b"S") == b"<html><body>xS</body></html>"
    assert inject(b"no body", b"S") == b"no bodyS"
    root = Path("/srv/out")
    assert resolve_under(root, "/a/../../etc/passwd") is None
    assert resolve_under(root, "/a\\..\\b") is None
