"""End to end, over REST: red flags escalate at once, whatever else is going on, and hand off to people."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e


def conversation() -> str:
    return f"safety-{uuid.uuid4().hex[:12]}"


def triage(messages: list[dict]) -> dict:
    payloads = [m["custom"] for m in messages if "triage" in m.get("custom", {})]
    assert payloads, f"no triage payload in {messages}"
    return payloads[-1]


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def test_an_emergency_is_told_at_once_with_the_numbers(assistant):
    messages = assistant.send(conversation(), "my lip is twitching and my face has dropped on one side")
    assert triage(messages) == {"triage": "emergency", "red_flags": ["RF01"]}
    text = texts(messages)
    assert text.index("999") < text.index("FAST")  # action and number first
    for expected in ("112", "911", "Do not drive yourself", "even if it goes away", "can't examine or diagnose"):
        assert expected in text


def test_the_channel_country_picks_the_number(assistant):
    messages = assistant.send(conversation(), "my dad cant lift his right arm", metadata={"country": "US"})
    assert triage(messages)["triage"] == "emergency"
    assert "911" in texts(messages) and "999" not in texts(messages)


def test_a_denial_does_not_frighten(assistant):
    messages = assistant.send(conversation(), "no drooping, no weakness, just the twitch. what causes it?")
    assert not any("triage" in m.get("custom", {}) for m in messages)
    assert len([m for m in messages if "custom" in m][-1]["custom"]["kb_ids"]) == 6


def test_a_question_about_warning_signs_informs_without_alarm(assistant):
    messages = assistant.send(conversation(), "what are the signs of a stroke?")
    assert not any("triage" in m.get("custom", {}) for m in messages)
    assert [m for m in messages if "custom" in m][-1]["custom"]["kb_ids"] == ["warning_signs"]
    assert "FAST" in texts(messages)


def test_a_red_flag_in_the_middle_of_a_conversation_and_after_a_fallback(assistant):
    me = conversation()
    assistant.send(me, "can coffee make my lip twitch")
    assistant.send(me, "asdfgh qwerty")
    messages = assistant.send(me, "sorry, my speech has gone slurred and my arm feels weird")
    assert triage(messages)["triage"] == "emergency"
    after = assistant.send(me, "how do i stop the twitching?")  # the person can keep asking
    assert len([m for m in after if "custom" in m][-1]["custom"]["kb_ids"]) == 6
    again = assistant.send(me, "my speech is still slurred")  # a repeated red flag repeats the advice
    assert triage(again)["triage"] == "emergency"


def test_a_typed_intent_command_cannot_bypass_the_detector(assistant):
    messages = assistant.send(conversation(), "/goodbye my face is drooping")
    assert triage(messages)["triage"] == "emergency"


@pytest.mark.parametrize("message, level, red_flag", [
    ("I want to kill myself", "crisis", "RF12"),
    ("keep choking on drinks, that's new", "urgent", "RF13"),
    ("lip has twitched every day for a month", "routine", "RF18"),
])
def test_each_level_has_its_advice(assistant, message, level, red_flag):
    messages = assistant.send(conversation(), message)
    payload = triage(messages)
    assert payload["triage"] == level and red_flag in payload["red_flags"]
    first_line = {"crisis": "116 123", "urgent": "Get medical help today", "routine": "Book an appointment"}[level]
    assert first_line in texts(messages)


def test_the_hand_off_record_reaches_the_webhook(assistant, hand_off_receiver):
    me = conversation()
    assistant.send(me, "i drink loads of coffee and my lip twitches")
    assistant.send(me, "since 10 minutes ago the left side of my face is drooping")
    record = hand_off_receiver.wait_for(me)
    assert record["level"] == "emergency" and record["red_flags"] == ["RF01"]
    assert "Face drooping" in record["summary"] and "caffeine" in record["summary"].lower()
    assert "10 minutes ago" in record["summary"] and "left side of my face" in record["summary"]
    assert record["reported_at"].endswith("+00:00")
    headers = hand_off_receiver.headers[hand_off_receiver.records.index(record)]
    assert headers.get("Authorization") == "Bearer test-token"


def test_emergency_advice_arrives_when_the_action_server_is_down(assistant):
    assistant.actions.stop()
    try:
        messages = assistant.send(conversation(), "my mum's face has dropped and she can't speak properly")
        assert triage(messages)["triage"] == "emergency"
        assert "999" in texts(messages)
    finally:
        assistant.actions.start()
        assistant.actions.wait_until_ready()


# --- words no term names, and the safety-net question (issue 16) ------------------------------------------------

ASKS = "I was laughing so hard at the film and then my speech went weird"  # a sign said beside a harmless cause


@pytest.mark.parametrize("message, red_flag", [
    ("my mouth went slack on the left side", "RF01"),
    ("he keeps saying the wrong words, like mixing them up", "RF03"),
    ("my face feels numb on one side and my lip is twitching", "RF01"),
])
def test_a_sign_in_words_no_term_list_names_is_escalated(assistant, message, red_flag):
    payload = triage(assistant.send(conversation(), message))
    assert payload["triage"] == "emergency" and red_flag in payload["red_flags"]


def test_a_change_nobody_can_place_gets_the_safety_net_question_and_a_sign_escalates_at_once(assistant):
    me = conversation()
    messages = assistant.send(me, ASKS)
    assert triage(messages)["triage"] == "ask" and triage(messages)["question"] == "fast"
    buttons = [b["title"] for m in messages for b in m.get("buttons", [])]
    assert buttons == ["Face drooping", "Arm or leg weak", "Speech slurred or muddled", "None of these"]
    assert "happening now" in texts(messages)
    assert triage(assistant.send(me, "speech slurred or muddled")) == {"triage": "emergency", "red_flags": ["RF03"]}


def test_none_of_these_in_the_middle_of_the_check_carries_on_with_the_check(assistant):
    me = conversation()
    assistant.send(me, "/check_my_twitching")
    assistant.send(me, "only my lip")
    asked = assistant.send(me, ASKS)
    assert triage(asked)["triage"] == "ask"
    after = texts(assistant.send(me, "none of these"))
    assert "If any of those signs do appear" in after and "How long has it been going on?" in after


def test_small_talk_is_never_the_reply_to_a_symptom(assistant):
    for message in ("thanks, my mouth went all slack", "bye, my arm is like jelly", "hi my face is drooping"):
        messages = assistant.send(conversation(), message)
        assert triage(messages)["triage"] in ("emergency", "ask"), message
        assert not any(m.get("custom", {}).get("intent") in ("greet", "goodbye", "thank") for m in messages)


def test_the_safety_net_question_is_asked_when_the_action_server_is_down(assistant):
    assistant.actions.stop()
    try:
        messages = assistant.send(conversation(), ASKS)
        assert triage(messages)["triage"] == "ask" and "None of these" in str(messages)
    finally:
        assistant.actions.start()
        assistant.actions.wait_until_ready()
