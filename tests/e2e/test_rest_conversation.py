"""End to end: both servers started for real, a person talking to them over the REST channel."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from tests.helpers import report

pytestmark = pytest.mark.e2e

# Questions written as people type them (typos included), none of them in the training data,
# with the knowledge-base ids the focused answer must use. Each is the first message of its own
# conversation. Target: at least 95% answered with exactly these ids.
UNSEEN_QUESTIONS = [
    ("can coffe make my lip twitch?", ["caffeine"]),
    ("is my lip twitching from all the red bull i drink", ["caffeine"]),
    ("could stress be why my lip twitches", ["stress"]),
    ("ive been so anxious lately, can that make your lip twitch", ["stress"]),
    ("can not sleeping properly cause twitching", ["fatigue"]),
    ("i pulled an all nighter, is that why my lip is twitching", ["fatigue"]),
    ("can low magnesium make my lip jump", ["nutrition"]),
    ("is lip twitching a b12 thing", ["nutrition"]),
    ("can my antidepressants do this", ["medication"]),
    ("could my new meds be the reason my lip twitches", ["medication"]),
    ("is lip twitching an early sign of parkinsons", ["fear_ms_parkinsons_stroke"]),
    ("can MS cause a twitchy lip?", ["fear_ms_parkinsons_stroke"]),
    ("what causes lip twitching", "causes"),
    ("why does my lip keep twitching??", "causes"),
    ("what r the symptoms", "symptoms"),
    ("does lip twitching hurt", ["discomfort"]),
    ("my lip goes tingly, is that normal with twitching", ["tingling_numbness"]),
    ("can it make your lip numb", ["tingling_numbness"]),
    ("how do i stop my lip twitching", "treatments"),
    ("how can i get rid of this twitch", "treatments"),
    ("does meditation help with lip twitching", ["stress_management"]),
    ("will taking magnesium stop the twitching", ["dietary_changes"]),
    ("should i cut down on coffee", ["reducing_stimulants"]),
    ("would going to bed earlier help", ["improving_sleep"]),
    ("how do i stop stress twitching", ["stress_management"]),
    ("what is lip fasiculation", ["definition"]),
    ("whats lip twitching", ["definition"]),
    ("is it serious", ["seriousness"]),
    ("should i be worried about my lip twitching", ["seriousness"]),
    ("is it dangerous if my dads lip twitches", ["seriousness"]),
    ("when do i need to see a doctor", ["see_doctor"]),
    ("should i go to my gp about it", ["see_doctor"]),
    ("how long does lip twitching usually last", ["duration_frequency"]),
    ("will it go away by itself", ["duration_frequency"]),
    ("give me a quick summary", ["summary"]),
    ("can energy drinks cause lip twitches", ["caffeine"]),
    ("is it because im exhausted", ["fatigue"]),
    ("could a vitamin deficiency cause this", ["nutrition"]),
    ("would yoga help", ["stress_management"]),
    ("should i switch to decaf", ["reducing_stimulants"]),
]
LISTS = {"causes": "cause", "symptoms": "symptom", "treatments": "treatment"}
TARGET = 0.95


def conversation() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def custom(messages: list[dict]) -> dict:
    payloads = [m["custom"] for m in messages if "custom" in m]
    assert payloads, f"no custom payload in {messages}"
    return payloads[-1]


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def test_a_short_conversation_keeps_its_context(assistant):
    me = conversation()
    first = assistant.send(me, "hi")
    assert "general information, not a diagnosis" in texts(first)
    assert custom(first)["intent"] == "greet"

    answer = assistant.send(me, "can coffe make my lip twich?")
    assert custom(answer)["kb_ids"] == ["caffeine"]
    assert "Caffeine" in texts(answer)
    assert "not a diagnosis" not in texts(answer)  # the intro is said once
    assert any(m.get("buttons") for m in answer)

    treatment = assistant.send(me, "how do i treat that?")
    assert custom(treatment)["kb_ids"] == ["reducing_stimulants"]

    causes = assistant.send(me, "what are the causes then")
    assert len(custom(causes)["kb_ids"]) == 6

    stress = assistant.send(me, "what about stress?")
    assert custom(stress)["kb_ids"] == ["stress"]

    more = assistant.send(me, "tell me more")
    assert custom(more)["kb_ids"] == ["stress"]
    assert "stress hormones" in texts(more)

    assert custom(assistant.send(me, "thanks!"))["intent"] == "thank"


def test_the_first_answer_of_a_conversation_says_what_the_assistant_does(assistant):
    messages = assistant.send(conversation(), "is lip twitching serious")
    assert "not a diagnosis" in messages[0]["text"]
    assert custom(messages)["kb_ids"] == ["seriousness"]


def test_a_quick_reply_payload_is_answered(assistant):
    me = conversation()
    answer = assistant.send(me, "can stress cause lip twitching")
    payload = next(b["payload"] for m in answer for b in m.get("buttons", []) if b["title"] == "How do I treat it?")
    assert custom(assistant.send(me, payload))["kb_ids"] == ["stress_management"]


@pytest.mark.parametrize("message", ["", "   ", "🤔🤔", "asdkjh qwpoe zmxn", "x" * 5000, "{\"json\": true}"])
def test_odd_messages_get_a_polite_answer(assistant, message):
    messages = assistant.send(conversation(), message)
    assert messages, "no answer at all"
    assert any(m.get("text") for m in messages)


def test_unseen_questions_get_the_right_focused_answer(assistant, kb):
    wrong = []
    for question, expected in UNSEEN_QUESTIONS:
        if isinstance(expected, str):
            expected = [item.id for item in kb.of_kind(LISTS[expected])]
        got = custom(assistant.send(conversation(), question)).get("kb_ids")
        if got != expected:
            wrong.append(f"{question!r}: expected {expected}, got {got}")
    share = 1 - len(wrong) / len(UNSEEN_QUESTIONS)
    report(f"REST, unseen questions: {share:.1%} answered with the right focused answer "
           f"({len(UNSEEN_QUESTIONS) - len(wrong)}/{len(UNSEEN_QUESTIONS)}; target {TARGET:.0%})")
    for line in wrong:
        report(f"  wrong: {line}")
    assert share >= TARGET, "\n".join(wrong)


def test_a_repeated_request_is_answered_again_without_running_the_turn_twice(assistant):
    """nginx repeats a request on the other Rasa server when the first dies mid-answer (deploy/): a message id
    the conversation already holds gets the same answer, and the conversation holds the message once."""
    import sqlite3

    me = conversation()
    first = assistant.send(me, "can coffee make my lip twitch", message_id="m-1")
    assert custom(first)["kb_ids"] == ["caffeine"]
    assert assistant.send(me, "can coffee make my lip twitch", message_id="m-1") == first
    follow_up = assistant.send(me, "how do i treat that?", message_id="m-2")
    assert assistant.send(me, "can coffee make my lip twitch", message_id="m-1") == first  # still the same
    with sqlite3.connect(assistant.rasa.log.parent / "conversations.db") as database:
        stored = database.execute("SELECT count(*) FROM events WHERE sender_id = ? AND type_name = 'user'",
                                  (me,)).fetchone()[0]
    assert stored == 2 and follow_up != first
    # Without a message id, or with a new one, a message is a new turn, as before.
    assert custom(assistant.send(me, "can coffee make my lip twitch", message_id="m-3"))["kb_ids"] == ["caffeine"]


def test_a_thumbs_down_is_stored_with_the_answer_it_is_about_and_asks_what_was_missing(assistant):
    me = f"rate-{uuid.uuid4().hex[:10]}"
    answer = assistant.send(me, "can stress make my lip twitch?")
    buttons = [b for m in answer for b in m.get("buttons") or []]
    down = next(b for b in buttons if b["title"] == "👎 Not helpful")  # under the answer, after its follow-ups
    reply = assistant.send(me, down["payload"])
    assert "What was missing?" in " ".join(m.get("text", "") for m in reply)
    assistant.send(me, "it didn't say how long it lasts")  # what was missing: answered, and in the tracker store
    with sqlite3.connect(assistant.tracker_db) as db:
        slots = [json.loads(data) for (data,) in db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot'", (me,))]
    feedback = [slot["value"] for slot in slots if slot.get("name") == "feedback"]
    assert [(f["verdict"], f["kb_ids"]) for f in feedback] == [("not_helpful", ["stress"])]
