"""The safety-net questions in domain.yml against the knowledge base and the red-flag detector."""

from __future__ import annotations

import pytest
import yaml

from liptwitch.core.red_flags import RedFlagDetector
from tests.helpers import REPO

DOMAIN = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))
VARIATIONS = DOMAIN["responses"]["utter_safety_net"]
NO_SIGN = ("none of these", "no, I'm safe")


def question_of(variation: dict) -> str | None:
    conditions = variation.get("condition") or []
    return next((c["value"] for c in conditions if c["name"] == "safety_question"), None)


def test_every_question_of_the_knowledge_base_is_in_the_domain(kb):
    assert set(DOMAIN["slots"]["safety_question"]["values"]) == set(kb.safety_questions)
    assert {question_of(v) for v in VARIATIONS} - {None} == set(kb.safety_questions)
    assert any(question_of(v) is None for v in VARIATIONS)  # a default when the slot is not set
    for variation in VARIATIONS:
        assert variation["custom"]["triage"] == "ask"
        assert variation["custom"]["question"] == (question_of(variation) or "fast")


@pytest.fixture(scope="module")
def detector(kb):
    return RedFlagDetector(kb)


@pytest.mark.parametrize("variation", VARIATIONS, ids=lambda v: question_of(v) or "default")
def test_a_button_that_names_a_sign_escalates_at_once_and_one_button_names_none(kb, detector, variation):
    question = kb.safety_questions[question_of(variation) or "fast"]
    payloads = [button["payload"] for button in variation["buttons"]]
    assert sum(payload in NO_SIGN for payload in payloads) == 1
    for payload in payloads:
        if payload in NO_SIGN:
            assert detector.assess(payload).level is None
            continue
        found = detector.assess(payload)
        assert found.level in ("emergency", "crisis"), payload
        assert set(found.red_flags) & set(question.rows), (payload, found.red_flags)
