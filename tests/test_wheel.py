"""A wheel built from the repository works outside the checkout: templates, schemas and
fonts come with it, and it scaffolds and builds a new case."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_wheel_builds_a_scaffolded_case_outside_the_checkout(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("briefgen-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}

    def python(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], cwd=work, env=env, capture_output=True, text=True)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return python("-m", "briefgen", *args)

    where = python("-c", "import briefgen.paths as p; print(p.builtin_templates_dir())").stdout.strip()
    assert where.startswith(str(target)), where
    assert run("new", "facts/other-crisis", "--parties", "Northland,Southland,Eastland").returncode == 0
    assert run("check", "facts/other-crisis").returncode == 0
    built = run("build", "--format", "html", "--audience", "analyst")
    assert built.returncode == 0, built.stderr
    html = (work / "output" / "other-crisis" / "analyst.html").read_text()
    assert "Eastland" in html
    assert (target / "briefgen" / "schemas" / "events.schema.json").is_file()
    # Pure Python: nothing compiled comes with the wheel.
    assert not list((target / "briefgen").rglob("*.so")), "the wheel holds compiled code"
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
