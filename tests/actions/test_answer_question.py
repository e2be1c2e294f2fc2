"""The action server's actions, run on tracker fixtures as the Rasa server would send them."""

from __future__ import annotations

import asyncio
import json

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer_question import NO_SIGNS, ActionAnswerQuestion
from actions.feedback import ActionRecordFeedback
from liptwitch.core.answers import APOLOGY, INTRO
from tests.helpers import REPO

FIXTURES = REPO / "tests" / "fixtures" / "trackers"


def run(action, fixture: str, domain: dict):
    tracker = Tracker.from_dict(json.loads((FIXTURES / f"{fixture}.json").read_text()))
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages, events


def slot(events, name):
    values = [e["value"] for e in events if e["event"] == "slot" and e["name"] == name]
    assert values, f"no SlotSet for {name}"
    return values[-1]


def test_first_question_gets_the_intro_then_the_focused_answer(domain):
    messages, events = run(ActionAnswerQuestion(), "first_question_about_coffee", domain)
    assert messages[0]["text"] == INTRO
    answer = messages[1]
    assert answer["text"].startswith("**Caffeine and other stimulants**")
    source = "Source: Lip twitching article (original); Lip twitching article (reworded) · not yet clinically reviewed"
    assert answer["custom"] == {"kb_ids": ["caffeine"], "intent": "ask_cause", "source": source}
    assert answer["text"].endswith(f"_{source}_")  # the last line: where it comes from, and that nobody checked it yet
    follow_ups, feedback = answer["buttons"][:-2], answer["buttons"][-2:]
    assert 2 <= len(follow_ups) <= 3
    assert [b["title"] for b in feedback] == ["👍 Helpful", "👎 Not helpful"]  # was it helpful? under each answer
    assert slot(events, "context_topics") == ["caffeine"]
    assert slot(events, "context_kind") == "cause"


def test_how_do_i_treat_that_uses_the_previous_cause(domain):
    messages, events = run(ActionAnswerQuestion(), "treat_that_after_caffeine", domain)
    assert len(messages) == 1  # no second intro
    assert messages[0]["custom"]["kb_ids"] == ["reducing_stimulants"]
    assert slot(events, "context_kind") == "treatment"


def test_what_about_a_misspelt_topic_after_the_list(domain):
    messages, _ = run(ActionAnswerQuestion(), "what_about_stress_after_causes", domain)
    assert messages[0]["custom"]["kb_ids"] == ["stress"]
    assert "Stress and anxiety" in messages[0]["text"]


def test_what_about_with_nothing_to_refer_to_asks_to_rephrase(domain):
    messages, events = run(ActionAnswerQuestion(), "what_about_nothing", domain)
    assert [m.get("response") for m in messages] == ["utter_ask_rephrase"]
    assert events == []  # the context is kept for the next try


def test_a_topic_the_entity_model_missed_is_found_in_the_text(domain):
    messages, _ = run(ActionAnswerQuestion(), "all_nighter_without_entity", domain)
    assert messages[-1]["custom"]["kb_ids"] == ["fatigue"]


def test_after_routine_advice_the_question_that_came_with_it_is_answered(domain):
    messages, _ = run(ActionAnswerQuestion(), "routine_with_a_question", domain)
    assert messages[-1]["custom"]["kb_ids"] == ["medication"]  # "tablets" names the medication cause


def test_after_routine_advice_a_posts_questions_are_answered_not_talked_over_by_the_check(domain):
    # The model took this post for "check my twitching"; its fear and its question still get their answers.
    tracker = json.loads((FIXTURES / "routine_with_a_question.json").read_text())
    text = ("i have twitching in my upper lip for almost 2 months now. my cousin say it can be brain tumour and now i "
            "am very afraid. please tell me is it tumour sign and which doctor i should go")
    tracker["latest_message"]["text"] = tracker["events"][-1]["text"] = text
    tracker["latest_message"]["model_intent"] = {"name": "check_my_twitching", "confidence": 0.8}
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerQuestion().run(dispatcher, Tracker.from_dict(tracker), domain))
    kb_ids = dispatcher.messages[-1]["custom"]["kb_ids"]
    assert "see_doctor" in kb_ids and {"neurological", "seriousness"} & set(kb_ids), kb_ids
    assert not any(event.get("event") == "followup" for event in events)  # the check is offered, not started


def test_a_misspelt_topic_the_entity_model_missed_is_found_too(domain):
    tracker = json.loads((FIXTURES / "all_nighter_without_entity.json").read_text())
    tracker["latest_message"]["text"] = tracker["events"][-1]["text"] = "can enrgy drinks make ur lip twitch"
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerQuestion().run(dispatcher, Tracker.from_dict(tracker), domain))
    assert dispatcher.messages[-1]["custom"]["kb_ids"] == ["caffeine"]


def test_the_greeting_says_the_same_intro_as_a_first_answer(domain):
    # Two places say what the assistant is (a rule-chosen response, and the action): they must agree.
    assert INTRO in " ".join(domain["responses"]["utter_greet"][0]["text"].split())


# --- "None of these": back to what the person had asked before the safety-net question -----------------------


def none_of_these_after(interrupted: dict | None, paused: bool = False, loop: str | None = None) -> Tracker:
    events = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"},
              {"event": "action", "name": "action_listen"}]
    if interrupted is not None:
        events.append({"event": "user", "text": interrupted["text"], "parse_data": interrupted["parse_data"]})
        if paused:
            events += [{"event": "action", "name": "action_deactivate_loop"}, {"event": "active_loop", "name": None}]
        events += [{"event": "action", "name": "utter_safety_net"}, {"event": "bot", "text": "Before anything else..."},
                   {"event": "action", "name": "action_listen"}]
    events.append({"event": "user", "text": "none of these"})
    return Tracker.from_dict({
        "sender_id": "none-of-these", "slots": {}, "events": events, "paused": False, "followup_action": None,
        "latest_message": {"text": "none of these", "intent": {"name": "deny_signs", "confidence": 1.0},
                           "entities": []},
        "active_loop": {"name": loop} if loop else {}, "latest_action_name": "action_listen"})


def asked(text: str, model_intent: str, topics: tuple[str, ...] = ()) -> dict:
    return {"text": text, "parse_data": {"intent": {"name": "unclear_symptom"}, "model_intent": {"name": model_intent},
                                         "entities": [{"entity": "topic", "value": t} for t in topics]}}


def run_tracker(tracker: Tracker, domain: dict):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerQuestion().run(dispatcher, tracker, domain))
    return dispatcher.messages, events


def test_none_of_these_answers_the_question_the_safety_net_question_interrupted(domain):
    tracker = none_of_these_after(asked("what causes lip twitching? my voice went odd earlier", "ask_cause"))
    messages, events = run_tracker(tracker, domain)
    assert messages[0]["text"] == NO_SIGNS
    assert messages[1]["custom"]["intent"] == "ask_cause" and len(messages[1]["custom"]["kb_ids"]) == 6
    assert slot(events, "context_kind") == "cause"


def test_none_of_these_answers_about_the_topic_that_was_named(domain):
    tracker = none_of_these_after(asked("can coffee do this? my face felt weird", "ask_cause", ("caffeine",)))
    messages, _ = run_tracker(tracker, domain)
    assert messages[1]["custom"]["kb_ids"] == ["caffeine"]


def test_none_of_these_carries_on_with_a_paused_check(domain):
    messages, events = run_tracker(none_of_these_after(asked("my speech went odd", "nlu_fallback"), paused=True),
                                   domain)
    assert [m["text"] for m in messages] == [NO_SIGNS, "Let's carry on with the check."]
    assert events == [{"event": "followup", "timestamp": None, "name": "twitch_check_form"}]


def test_none_of_these_starts_the_check_for_someone_describing_their_twitch(domain):
    messages, events = run_tracker(none_of_these_after(asked("my lip twitches and my face feels odd",
                                                             "check_my_twitching")), domain)
    assert messages[1]["response"] == "utter_check_start"
    assert events[-1]["name"] == "twitch_check_form"


def test_a_plain_no_with_nothing_asked_offers_the_topics(domain):
    messages, events = run_tracker(none_of_these_after(None), domain)
    assert messages[0]["text"].startswith("OK.") and len(messages[0]["buttons"]) == 3 and events == []
    messages, _ = run_tracker(none_of_these_after(None, loop="twitch_check_form"), domain)
    assert messages[0]["response"] == "utter_check_didnt_understand"


# --- hardening: an action that fails (the hand-off action has its own tests: test_hand_off.py) ---------------


def test_an_action_that_fails_sends_the_apology_and_changes_nothing(domain, monkeypatch):
    import actions.tracker_helpers as module

    def broken(*args, **kwargs):
        raise OverflowError("a number too large")

    monkeypatch.setattr(module.ANSWERER, "respond", broken)
    messages, events = run(ActionAnswerQuestion(), "first_question_about_coffee", domain)
    assert [m["text"] for m in messages] == [APOLOGY] and events == []


def _after_advice(level: str, text: str, model_intent: str) -> Tracker:
    """A message the red-flag component escalated, keeping the model's own intent as it does."""
    from tests.actions.conftest import conversation
    tracker = conversation(text, f"red_flag_{level}")
    tracker.latest_message["model_intent"] = {"name": model_intent, "confidence": 1.0}
    return tracker


def test_after_urgent_advice_the_post_is_answered_but_the_check_is_not_started(domain):
    from tests.actions.conftest import run_action
    post = ("I had thyroid surgery last week and now my lips tingle and twitch. Is this low calcium? Who should I "
            "contact?")
    messages, events = run_action(ActionAnswerQuestion(), _after_advice("urgent", post, "ask_questions"), domain)
    assert "low_calcium" in messages[-1]["custom"]["kb_ids"]
    assert not any(m.get("buttons") and any(b["payload"] == "/check_my_twitching" for b in m["buttons"])
                   for m in messages)  # no offer of the check: the advice is to see a doctor today
    tracker = _after_advice("urgent", "my lip twitches", "check_my_twitching")
    messages, events = run_action(ActionAnswerQuestion(), tracker, domain)
    assert messages == [] and events == []


# --- 👍 / 👎 ---------------------------------------------------------------------------------------------


def rated(verdict: str, answered: bool = True) -> Tracker:
    events = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"},
              {"event": "user", "text": "can coffee make my lip twitch?",
               "parse_data": {"intent": {"name": "ask_cause"}, "entities": []}}]
    if answered:
        events.append({"event": "bot", "text": "**Caffeine and other stimulants** ...", "timestamp": 1764770000.0,
                       "data": {"custom": {"kb_ids": ["caffeine"], "intent": "ask_cause"}}})
    payload = {"text": f'/feedback{{"verdict": "{verdict}"}}', "intent": {"name": "feedback", "confidence": 1.0},
               "entities": [{"entity": "verdict", "value": verdict}]}
    events.append({"event": "user", "text": payload["text"], "parse_data": payload})
    return Tracker("rater", {}, payload, events, False, None, {}, "action_listen")


@pytest.mark.parametrize("verdict, response", [("helpful", "utter_feedback_thanks"),
                                                ("not_helpful", "utter_feedback_what_was_missing")])
def test_a_verdict_is_kept_with_the_answer_it_is_about(domain, verdict, response):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRecordFeedback().run(dispatcher, rated(verdict), domain))
    assert [m["response"] for m in dispatcher.messages] == [response]  # a 👎 asks what was missing
    assert events == [{"event": "slot", "timestamp": None, "name": "feedback",
                       "value": {"verdict": verdict, "kb_ids": ["caffeine"], "answer_intent": "ask_cause",
                                 "answered_at": 1764770000.0}}]


def test_a_verdict_with_no_answer_before_it_records_nothing(domain):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRecordFeedback().run(dispatcher, rated("helpful", answered=False), domain))
    assert events == [] and [m["response"] for m in dispatcher.messages] == ["utter_feedback_thanks"]


def test_no_was_it_helpful_after_an_emergency(domain):
    tracker = json.loads((FIXTURES / "routine_with_a_question.json").read_text())
    tracker["events"].insert(-1, {"event": "user", "text": "my dad's face dropped",
                                  "parse_data": {"intent": {"name": "red_flag_emergency"}, "entities": []}})
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerQuestion().run(dispatcher, Tracker.from_dict(tracker), domain))
    answer = dispatcher.messages[-1]
    assert answer["custom"]["kb_ids"] and not any(b["payload"].startswith("/feedback") for b in answer["buttons"])
