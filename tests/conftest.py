"""Shared test helpers: the knowledge base, and the figures tests leave for the final summary."""

from __future__ import annotations

import pytest

from liptwitch.core.knowledge_base import KnowledgeBase, load_knowledge_base
from tests.helpers import FIGURES


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="session")
def small_safety_net(kb):
    """The safety net trained on a quarter of its corpus: a few seconds, and it reads the same way, if a little
    less surely."""
    import dataclasses

    from liptwitch.core.safety_corpus import generate, load_spec
    from liptwitch.core.safety_net import SafetyNet

    spec = load_spec(kb=kb)
    small = dataclasses.replace(spec, labels={label: dataclasses.replace(s, count=max(s.count // 4, 50))
                                              for label, s in spec.labels.items()})
    return SafetyNet.train(generate(small, kb), kb)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("measured")
        for line in FIGURES:
            terminalreporter.write_line(line)
