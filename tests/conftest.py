"""Shared test helpers: the knowledge base, and the figures tests leave for the final summary."""

from __future__ import annotations

import pytest

from liptwitch.knowledge_base import KnowledgeBase, load_knowledge_base
from tests.helpers import FIGURES


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("measured")
        for line in FIGURES:
            terminalreporter.write_line(line)
