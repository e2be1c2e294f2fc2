"""People as they really write, over REST: long posts, several questions, fears, context, follow-ups.

The sets in bench/understanding are judged as bench/understanding_sets.py judges them: every label or
knowledge-base id a case lists must be in the reply's `custom` payloads, and no reply may be "say it another
way" or small talk. Each set is held to the share it reaches today (bench/RESULTS.md), so that a change that
makes the assistant understand fewer people fails.
"""

from __future__ import annotations

import uuid

import pytest
import yaml

from bench.understanding_sets import judge, outcome
from tests.helpers import REPO, report

pytestmark = pytest.mark.e2e

SETS = REPO / "bench" / "understanding"
# The share of each set answered in full, at least (the target is 95%; bench/RESULTS.md has the history).
FLOORS = {"public.yml": 0.65, "set1.yml": 0.65, "set2.yml": 0.5, "set3.yml": 0.35}
LONG_POST = ("hey so ive had this twitch in my bottom lip for like 4 days now, its driving me mad. i'm a student "
             "with exams and barely sleeping, drinking loads of energy drinks. is it something serious like ALS?? "
             "what can i do")


def conversation() -> str:
    return f"understand-{uuid.uuid4().hex[:12]}"


def kb_ids(messages: list[dict]) -> list[str]:
    return [kb_id for m in messages for kb_id in (m.get("custom") or {}).get("kb_ids") or []]


def text(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_realistic_messages_get_every_question_answered(assistant, name):
    cases = yaml.safe_load((SETS / name).read_text(encoding="utf-8"))["cases"]
    wrong = []
    for case in cases:
        got = outcome(assistant.send(conversation(), case["text"]))
        verdict = judge(case, got)
        if not verdict["right"]:
            wrong.append(f"missing {verdict['missing']}: {case['text'][:90]!r} -> {got['kb_ids']} {got['triage']}")
    share = 1 - len(wrong) / len(cases)
    report(f"REST, understanding {name}: {share:.1%} with every question answered ({len(cases) - len(wrong)}/"
           f"{len(cases)}; held to {FLOORS[name]:.0%}, target 95%)")
    assert share >= FLOORS[name], "\n".join(wrong)


def test_a_long_post_gets_the_fear_first_its_triggers_and_an_offer_of_the_check(assistant):
    messages = assistant.send(conversation(), LONG_POST)
    ids = kb_ids(messages)
    assert ids[0] == "fear_als"
    assert {"stress", "fatigue", "caffeine", "stress_management", "improving_sleep", "reducing_stimulants"} <= set(ids)
    said = text(messages)
    assert "You mention exams, barely sleeping and loads of energy drinks" in said
    assert said.index("ALS") < said.index("You mention")
    assert any(b["payload"] == "/check_my_twitching" for m in messages for b in m.get("buttons") or [])
    assert "Where is the twitching" not in said  # offered, not imposed


def test_two_questions_in_one_message_are_both_answered(assistant):
    ids = kb_ids(assistant.send(conversation(), "I drink like 6 cups of coffee a day and my lip twitches, is that "
                                                "related? and what should I do?"))
    assert {"caffeine", "reducing_stimulants"} <= set(ids)


@pytest.mark.parametrize("message, item", [
    ("my toddler's lip is twitching, should I worry", "child"),
    ("lip twitching during pregnancy", "pregnancy"),
    ("my lip twitches when I'm cold", "cold"),
])
def test_questions_beyond_the_articles_get_a_sourced_answer_not_a_shrug(assistant, message, item):
    messages = assistant.send(conversation(), message)
    assert item in kb_ids(messages)
    assert "didn't quite understand" not in text(messages)


def test_the_third_one_after_the_list_of_causes_is_the_third_cause(assistant, kb):
    me = conversation()
    assistant.send(me, "what causes lip twitching?")
    third = kb.of_kind("cause")[2].id
    assert kb_ids(assistant.send(me, "the third one")) == [third]
    assert kb_ids(assistant.send(me, "what causes lip twitching?"))  # the list again
    assert kb_ids(assistant.send(me, "the last one")) == [kb.of_kind("cause")[-1].id]


def test_so_what_should_i_do_after_one_cause_gets_its_treatment_only(assistant):
    me = conversation()
    assert "nutrition" in kb_ids(assistant.send(me, "can a magnesium deficiency cause it"))
    assert kb_ids(assistant.send(me, "so what should i do")) == ["dietary_changes"]
    assert kb_ids(assistant.send(me, "and what about the coffee?"))[:1] in (["caffeine"], ["reducing_stimulants"])


def test_a_question_in_the_middle_of_the_check_is_answered_and_the_check_goes_on(assistant):
    me = conversation()
    assert "Where is the twitching" in text(assistant.send(me, "/check_my_twitching"))
    messages = assistant.send(me, "what causes lip twitching")
    assert len(kb_ids(messages)) >= 5  # the causes, not "lip only"
    assert "Where is the twitching" in text(messages)  # asked again


def test_someone_describing_twitching_is_never_answered_with_small_talk(assistant):
    messages = assistant.send(conversation(), "hi, my lip keeps twitching")
    assert not any((m.get("custom") or {}).get("intent") in ("greet", "goodbye", "thank", "bot_challenge")
                   for m in messages)
