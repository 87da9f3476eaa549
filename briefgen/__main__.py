"""`python -m briefgen` runs the command-line interface."""

from __future__ import annotations

from .cli import run

run()
