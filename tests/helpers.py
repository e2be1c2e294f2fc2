"""Helpers shared by the tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIGURES: list[str] = []  # lines printed in the "measured" section at the end of the pytest run


def report(line: str) -> None:
    """Print `line` in the summary at the end of the pytest run (and keep it in the log)."""
    FIGURES.append(line)
