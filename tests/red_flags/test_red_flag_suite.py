"""The public red-flag suite (tests/red_flags/cases.yml) run through the detector.

Enforced, as the Safety issue asks: emergency and crisis recall 100%; urgent and routine recall at
least 95%; at most 5% of harmless messages escalated to urgent or emergency. The figures are printed
at the end of the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from liptwitch.core.red_flags import LEVELS, RedFlagDetector
from tests.helpers import report

CASES = yaml.safe_load((Path(__file__).parent / "cases.yml").read_text())["cases"]
RANK = {level: len(LEVELS) - index for index, level in enumerate(LEVELS)}  # emergency highest
RANK[None] = 0
RECALL_TARGETS = {"emergency": 1.0, "crisis": 1.0, "urgent": 0.95, "routine": 0.95}
HARMLESS_ESCALATION_LIMIT = 0.05


@pytest.fixture(scope="module")
def results(kb):
    detector = RedFlagDetector(kb)
    return [(case, detector.assess(case["text"])) for case in CASES]


def caught(expected: str, found: str | None) -> bool:
    """Emergencies and crises must be recognised as such; lower levels may be over-escalated."""
    if expected in ("emergency", "crisis"):
        return found == expected or (expected == "crisis" and found == "emergency")
    return RANK[found] >= RANK[expected]


def test_the_suite_is_large_and_covers_every_red_flag(kb):
    assert len(CASES) >= 250
    named = {red_flag for case in CASES for red_flag in case.get("ids", [])}
    assert set(kb.red_flags) <= named


@pytest.mark.parametrize("level", list(RECALL_TARGETS))
def test_recall_per_level(results, level):
    cases = [(case, found) for case, found in results if case["level"] == level]
    missed = [f"{case['text']!r} -> {found.level} {list(found.red_flags)}"
              for case, found in cases if not caught(level, found.level)]
    recall = 1 - len(missed) / len(cases)
    report(f"red flags, {level}: recall {recall:.1%} ({len(cases) - len(missed)}/{len(cases)}, "
           f"target {RECALL_TARGETS[level]:.0%})")
    assert recall >= RECALL_TARGETS[level], "missed:\n" + "\n".join(missed)


def test_the_red_flags_found_are_the_expected_ones(results):
    wrong = [f"{case['text']!r}: expected {case['ids']}, found {list(found.red_flags)}"
             for case, found in results
             if case["level"] != "none" and case.get("ids") and found.level == case["level"]
             and not set(case["ids"]) & set(found.red_flags)]
    assert len(wrong) <= 0.05 * len(results), "\n".join(wrong)


def test_harmless_messages_are_rarely_escalated(results):
    harmless = [(case, found) for case, found in results if case["level"] == "none"]
    escalated = [f"{case['text']!r} -> {found.level} {list(found.red_flags)}"
                 for case, found in harmless if RANK[found.level] >= RANK["urgent"]]
    share = len(escalated) / len(harmless)
    any_escalation = sum(1 for _, found in harmless if found.level)
    report(f"red flags, harmless: {share:.1%} escalated to urgent or emergency ({len(escalated)}/{len(harmless)}, "
           f"limit {HARMLESS_ESCALATION_LIMIT:.0%}); {any_escalation} escalated at any level")
    assert share <= HARMLESS_ESCALATION_LIMIT, "escalated:\n" + "\n".join(escalated)
