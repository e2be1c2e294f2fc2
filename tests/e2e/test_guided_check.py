"""End to end, over REST: the guided check as worried people go through it."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e


def conversation() -> str:
    return f"check-{uuid.uuid4().hex[:12]}"


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def payloads(messages: list[dict]) -> list[dict]:
    return [m["custom"] for m in messages if "custom" in m]


def test_a_short_twitch_ends_in_self_care_advice(assistant):
    me = conversation()
    # A question is answered first and the check offered, not imposed; the person takes the offer.
    first = assistant.send(me, "my upper lip keeps twitching, should i be worried?")
    assert "seriousness" in payloads(first)[-1]["kb_ids"] and "only in your lip" not in texts(first)
    offer = [b for m in first for b in m.get("buttons", []) if b["title"] == "Check my twitching"]
    assert offer, "the check is offered"
    assert "only in your lip" in texts(assistant.send(me, offer[0]["payload"]))
    assert "long has it been" in texts(assistant.send(me, "just my lip"))
    assert "How often" in texts(assistant.send(me, "since yesterday"))
    assert "Face" in texts(assistant.send(me, "now and then"))
    assert "Arms" in texts(assistant.send(me, "no"))
    assert "Speech" in texts(assistant.send(me, "nope"))
    result = assistant.send(me, "no")
    assert any(p.get("check") == "self_care" for p in payloads(result))
    text = texts(result)
    assert "lip only" in text and "Stress and anxiety" in text and "not a diagnosis" in text
    assert not any("triage" in p for p in payloads(result))


def test_an_answer_given_up_front_is_not_asked_again_and_three_weeks_is_routine(assistant):
    me = conversation()
    first = assistant.send(me, "my lip has twitched for three weeks")
    assert "only in your lip" in texts(first)
    assert any(p.get("triage") == "routine" for p in payloads(first))  # three weeks: the GP advice at once
    second = assistant.send(me, "only my lip")
    assert "How often" in texts(second)  # the duration was not asked: it was in the first message
    for answer in ("every day", "no", "no"):
        assistant.send(me, answer)
    result = assistant.send(me, "no")
    assert any(p.get("check") == "routine" for p in payloads(result))  # the same advice, not given twice
    assert "about 3 weeks" in texts(result) and "booking an appointment" in texts(result)


def test_a_fast_yes_is_an_emergency_at_once(assistant):
    me = conversation()
    assistant.send(me, "my lip has been twitching for a few days")
    assistant.send(me, "only my lip")
    assistant.send(me, "every day")
    result = assistant.send(me, "yes")  # to the Face question, in free text
    assert any(p.get("triage") == "emergency" and p.get("red_flags") == ["RF01"] for p in payloads(result))
    assert "999" in texts(result)
    assert "Arms" not in texts(result)  # the form did not go on


def test_a_red_flag_typed_in_the_middle_ends_the_check_with_the_advice(assistant):
    me = conversation()
    assistant.send(me, "i want to check my twitching")
    result = assistant.send(me, "actually my left arm has gone numb")
    assert any(p.get("triage") == "emergency" for p in payloads(result))
    after = assistant.send(me, "what causes lip twitching")
    assert len(payloads(after)[-1]["kb_ids"]) == 6  # the check is over; questions are answered


def test_a_question_in_the_middle_is_answered_then_the_check_goes_on_and_stop_stops_it(assistant):
    me = conversation()
    assert "only in your lip" in texts(assistant.send(me, "my lip twitches a lot"))  # told, not asked: the check
    middle = assistant.send(me, "can coffee cause it?")
    assert payloads(middle)[0]["kb_ids"] == ["caffeine"]
    assert "only in your lip" in texts(middle)  # and the question is asked again
    assert "Skip" in [b["title"] for m in middle for b in m.get("buttons", [])]
    assert "long has it been" in texts(assistant.send(me, "skip"))
    stopped = assistant.send(me, "stop")
    assert "stopped" in texts(stopped)
    assert len(payloads(assistant.send(me, "what are the treatments"))[-1]["kb_ids"]) == 6


def test_a_question_naming_the_lip_in_the_middle_is_answered_not_taken_for_where_it_is(assistant):
    me = conversation()
    assert "only in your lip" in texts(assistant.send(me, "my lip twitches a lot"))
    middle = assistant.send(me, "what causes lip twitching?")
    assert payloads(middle)[0]["intent"] == "ask_cause" and len(payloads(middle)[0]["kb_ids"]) > 1
    assert "only in your lip" in texts(middle)  # still asked: the question was no answer to it


def test_a_duration_given_when_asked_where_is_kept_and_where_is_asked_again(assistant):
    me = conversation()
    assistant.send(me, "my lip twitches")
    again = assistant.send(me, "it's been 2 days")
    assert "didn't catch" not in texts(again) and "only in your lip" in texts(again)
    assert "How often" in texts(assistant.send(me, "just my lip"))  # the duration is not asked: it was given
