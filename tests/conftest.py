"""Shared fixtures: paths to the test cases and a copy of a case to break."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MINIMAL = DATA / "minimal"
MINIMAL_ARCHIVE = DATA / "minimal-archive"
DEFAULT_CASE = ROOT / "facts" / "iran-pakistan-2024"
SEEDS = ROOT.parent / "shared" / "seeds"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
"""Debian's chromium, for the tests that look at the HTML as a browser shows it."""
CHROMIUM_FLAGS = [
    "--no-sandbox",  # (the tests may run as root)
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no calls home: the machine may have no network
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def case_copy(tmp_path: Path) -> Path:
    """A writable copy of the minimal case, in a folder named like a case."""
    dest = tmp_path / "demo"
    shutil.copytree(MINIMAL, dest)
    return dest


@pytest.fixture
def default_copy(tmp_path: Path) -> Path:
    """A writable copy of the default case."""
    dest = tmp_path / DEFAULT_CASE.name
    shutil.copytree(DEFAULT_CASE, dest)
    return dest


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `briefgen ARGS` in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "briefgen", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite the golden files from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
