"""Nothing is lost: a build killed at any moment leaves every earlier output either untouched
or completely replaced, never truncated; leftovers of killed writes are cleaned up by the
next build; and a build that fails validation changes nothing.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MINIMAL, ROOT, run_cli

from briefgen.output.atomic import remove_stale_temps, write_atomic
from briefgen.output.build import MANIFEST, BuildOptions, build

OUTPUTS = ("analyst.html", "analyst.pdf")


def set_variant(case: Path, variant: str) -> None:
    """Two editions of the same case, so that 'old' and 'new' outputs differ."""
    text = (MINIMAL / "case.yaml").read_text(encoding="utf-8")
    if variant == "B":
        text = text.replace("title: Demo crisis", "title: Demo crisis, second look").replace("edition: 2", "edition: 3")
    (case / "case.yaml").write_text(text, encoding="utf-8")


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.tmp")) if folder.is_dir() else []


def build_cmd(case: Path, out: Path, *formats: str) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "briefgen",
        "build",
        str(case),
        "--audience",
        "analyst",
        "--force",
        "--quiet",
        "--out",
        str(out),
    ]
    for f in formats:
        cmd += ["--format", f]
    return cmd


@pytest.fixture(scope="module")
def known_good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    """The complete outputs of each variant, built fresh."""
    root = tmp_path_factory.mktemp("known")
    case = root / "demo"
    shutil.copytree(MINIMAL, case)
    good: dict[str, dict[str, bytes]] = {}
    for variant in ("A", "B"):
        set_variant(case, variant)
        out = root / f"out-{variant}"
        build([case], BuildOptions(out=out, audiences=("analyst",), force=True, jobs=1))
        good[variant] = {name: (out / "demo" / name).read_bytes() for name in OUTPUTS}
    for name in OUTPUTS:
        assert good["A"][name] != good["B"][name]
    return good


def assert_whole(folder: Path, good: dict[str, dict[str, bytes]], where: str) -> None:
    """Every output is one of the known complete versions; the manifest is whole JSON."""
    for name in OUTPUTS:
        path = folder / name
        if not path.exists():
            continue
        data = path.read_bytes()
        assert data in (good["A"][name], good["B"][name]), f"{where}: {name} is neither old nor new ({len(data)} bytes)"
    manifest = folder / MANIFEST
    if manifest.exists():
        json.loads(manifest.read_text(encoding="utf-8"))


def test_killed_builds_never_leave_a_partial_output(tmp_path: Path, known_good: dict[str, dict[str, bytes]]) -> None:
    case = tmp_path / "demo"
    shutil.copytree(MINIMAL, case)
    out = tmp_path / "out"
    folder = out / "demo"
    set_variant(case, "A")
    first = subprocess.run(build_cmd(case, out), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert_whole(folder, known_good, "first build")

    rng = random.Random(20240116)
    plan = ["html"] * 7 + ["pdf"] * 3
    rng.shuffle(plan)
    t_end = time.monotonic() + 35  # keeps the test short on a slow or busy machine
    killed = finished = 0
    for attempt, fmt in enumerate(plan):
        if time.monotonic() > t_end:
            break
        variant = rng.choice("AB")
        set_variant(case, variant)
        # Kill anywhere from start-up to just past the expected end (writes come last).
        delay = rng.uniform(0.05, 1.6 if fmt == "html" else 3.5)
        proc = subprocess.Popen(
            build_cmd(case, out, fmt),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=delay)
            finished += 1
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            killed += 1
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        assert "Traceback" not in stderr
        where = f"try {attempt} ({fmt}, variant {variant}, {delay:.2f}s, rc {proc.returncode})"
        assert_whole(folder, known_good, where)
        if proc.returncode == 0:
            name = f"analyst.{fmt}"
            assert (folder / name).read_bytes() == known_good[variant][name], where

    assert killed >= 3, (killed, finished)

    # The next complete build replaces everything and leaves no temporary file behind.
    set_variant(case, "B")
    final = subprocess.run(build_cmd(case, out), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    for name in OUTPUTS:
        assert (folder / name).read_bytes() == known_good["B"][name]
    assert temps(folder) == []


KILL_DURING_WRITE = """
import os, signal, sys
from pathlib import Path
from briefgen.output import atomic as output
real_replace = os.replace
def die(src, dst):
    # The new bytes are complete in the temporary file; the rename never happens.
    os.kill(os.getpid(), signal.SIGKILL)
os.replace = die
output.write_atomic(Path(sys.argv[1]), b"NEW CONTENT" * 1000)
"""


def test_kill_between_write_and_rename(tmp_path: Path) -> None:
    """The worst moment: the new file is written but not yet renamed into place."""
    case = tmp_path / "demo"
    shutil.copytree(MINIMAL, case)
    out = tmp_path / "out"
    folder = out / "demo"
    set_variant(case, "A")
    assert subprocess.run(build_cmd(case, out, "html"), cwd=ROOT, timeout=120).returncode == 0
    before = (folder / "analyst.html").read_bytes()

    proc = subprocess.run([sys.executable, "-c", KILL_DURING_WRITE, str(folder / "analyst.html")], cwd=ROOT, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert (folder / "analyst.html").read_bytes() == before, "the old output must be untouched"
    left = temps(folder)
    assert len(left) == 1 and left[0].startswith(".analyst.html."), left

    set_variant(case, "B")
    proc = run_cli("build", str(case), "--audience", "analyst", "--format", "html", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert b"second look" in (folder / "analyst.html").read_bytes()
    assert temps(folder) == []


def test_stale_temp_cleanup_spares_live_writers(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        dead_pid = int(dead.stdout)
        files = {
            "dead": tmp_path / f".analyst.html.{dead_pid}.abcd1234.tmp",
            "live": tmp_path / f".analyst.pdf.{sleeper.pid}.abcd1234.tmp",
            "mine": tmp_path / f".manifest.{os.getpid()}.abcd1234.tmp",
            "old-style-recent": tmp_path / ".public.html.zz12_xy9.tmp",
            "old-style-old": tmp_path / ".public.pdf.zz12_xy9.tmp",
            "not-ours": tmp_path / ".notes.tmp",
            "output": tmp_path / "analyst.html",
        }
        for p in files.values():
            p.write_bytes(b"x")
        long_ago = time.time() - 3600
        for key in ("old-style-old", "not-ours"):
            os.utime(files[key], (long_ago, long_ago))
        removed = {p.name for p in remove_stale_temps(tmp_path)}
        assert removed == {files["dead"].name, files["old-style-old"].name}
        write_atomic(tmp_path / "analyst.html", b"new")
        assert (tmp_path / "analyst.html").read_bytes() == b"new"
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            files[k].name for k in ("live", "mine", "old-style-recent", "not-ours", "output")
        )
    finally:
        sleeper.kill()
        sleeper.wait()


def test_failed_validation_leaves_outputs_untouched(tmp_path: Path) -> None:
    case = tmp_path / "demo"
    shutil.copytree(MINIMAL, case)
    out = tmp_path / "out"
    proc = run_cli(
        "build", str(case), "--audience", "analyst", "--audience", "public", "--format", "html", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    before = {p: p.read_bytes() for p in sorted((out / "demo").iterdir())}
    assert len(before) == 3  # two pages and the manifest

    (case / "events.yaml").write_text(
        (case / "events.yaml").read_text(encoding="utf-8").replace("kind: strike", "kind: strikes", 1), encoding="utf-8"
    )
    proc = run_cli(
        "build",
        str(case),
        "--audience",
        "analyst",
        "--audience",
        "public",
        "--format",
        "html",
        "--force",
        "--out",
        str(out),
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "nothing was written" in proc.stderr
    after = {p: p.read_bytes() for p in sorted((out / "demo").iterdir())}
    assert after == before


def test_unwritable_output_leaves_earlier_outputs_untouched(tmp_path: Path) -> None:
    """An output that cannot be written fails cleanly; what was there stays whole."""
    case = tmp_path / "demo"
    shutil.copytree(MINIMAL, case)
    out = tmp_path / "out"
    proc = run_cli("build", str(case), "--audience", "analyst", "--format", "html", "--out", str(out))
    assert proc.returncode == 0
    html = (out / "demo" / "analyst.html").read_bytes()
    # A folder where the next output file should go: the rename cannot replace it.
    (out / "demo" / "public.html").mkdir()
    proc = run_cli(
        "build",
        str(case),
        "--audience",
        "public",
        "--audience",
        "analyst",
        "--format",
        "html",
        "--force",
        "--out",
        str(out),
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "public.html" in proc.stderr
    assert (out / "demo" / "analyst.html").read_bytes() == html
    assert temps(out / "demo") == []
