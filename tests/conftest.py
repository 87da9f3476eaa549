"""Shared fixtures: paths to the test cases and a copy of a case to break."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MINIMAL = DATA / "minimal"
MINIMAL_ARCHIVE = DATA / "minimal-archive"
DEFAULT_CASE = ROOT / "facts" / "iran-pakistan-2024"
SEEDS = ROOT.parent / "shared" / "seeds"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

# Large fact files are cached after parsing (briefgen.parsecache): keep the tests' entries,
# and those of the CLI runs they start, out of the user's own cache.
if "BRIEFGEN_CACHE_DIR" not in os.environ:
    _CACHE = tempfile.mkdtemp(prefix="briefgen-test-cache-")
    os.environ["BRIEFGEN_CACHE_DIR"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache folder (briefgen.parsecache) that takes every file, however small."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("BRIEFGEN_CACHE_DIR", str(folder))
    from briefgen import parsecache

    monkeypatch.setattr(parsecache, "MIN_BYTES", 0)
    return folder


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
