"""Registers the commands beyond check and schema (kept apart so check starts fast)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def register(add: Callable[..., Any]) -> None:
    """Add the build, audience and distribution commands to the parser."""
