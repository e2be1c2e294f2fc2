"""The guided check's form (reading answers from what people type) and its outcome, on trackers as the Rasa server
sends them."""

from __future__ import annotations

from actions.twitch_check import ActionTwitchCheckOutcome, ValidateTwitchCheckForm
from tests.actions.conftest import conversation, run_action, slots_set

FORM = "twitch_check_form"
CHECK_SLOTS = ("check_location", "check_duration_days", "check_frequency", "check_face", "check_arm", "check_speech")
NOTHING_YET = dict.fromkeys(CHECK_SLOTS)


def answered(domain: dict, text: str, asked: str | None, intent: str = "nlu_fallback", **known) -> dict:
    """The slots the form sets when the person answers `text` to the question for slot `asked`."""
    tracker = conversation(text, intent, slots={**NOTHING_YET, **known, "requested_slot": asked}, loop=FORM)
    messages, events = run_action(ValidateTwitchCheckForm(), tracker, domain)
    assert messages == []  # the form's questions are asked by Rasa, never by the validation
    return slots_set(events)


def test_the_first_message_is_read_for_everything_it_already_says(domain):
    filled = answered(domain, "my lip has been twitching for three weeks", asked=None)
    assert filled["check_duration_days"] == 21.0
    assert "check_location" not in filled  # "my lip" alone does not say it is in the lip only: that is asked
    assert not {"check_face", "check_arm", "check_speech"} & filled.keys()  # FAST questions are never guessed


def test_an_answer_fills_the_question_asked_in_the_persons_own_words(domain):
    assert answered(domain, "its spreading to my cheek too", asked="check_location")["check_location"] == "spreading"
    assert answered(domain, "since about 2 days ago i think", asked="check_duration_days")["check_duration_days"] == 2.0
    assert answered(domain, "pretty much every day", asked="check_frequency")["check_frequency"] == "every day"


def test_a_duration_given_to_another_question_is_taken_and_that_question_asked_again(domain):
    filled = answered(domain, "it's been 2 days", asked="check_location")
    assert filled == {"check_duration_days": 2.0}  # check_location is still missing: Rasa asks it again
    assert answered(domain, "only my lip", asked="check_duration_days") == {}  # other answers wait their turn


def test_skip_is_an_answer_and_the_check_moves_on(domain):
    assert answered(domain, "skip", asked="check_duration_days")["check_duration_days"] == -1.0
    assert answered(domain, "no idea", asked="check_location")["check_location"] == "skipped"


def test_an_answer_that_says_nothing_usable_is_asked_again(domain):
    assert "check_duration_days" not in answered(domain, "9" * 400 + " weeks", asked="check_duration_days")


def test_a_question_asked_in_the_middle_of_the_check_is_not_taken_for_an_answer(domain):
    assert answered(domain, "what causes lip twitching", asked="check_location", intent="ask_cause") == {}
    assert answered(domain, "is coffee bad for it?", asked="check_duration_days", intent="ask_cause") == {}
    # An answer that the model happened to read as a question still counts.
    assert answered(domain, "just my lip", asked="check_location", intent="ask_symptom") == {
        "check_location": "lip only"}


def test_a_red_flag_in_the_middle_of_the_check_fills_nothing_and_the_rules_answer_it(domain):
    for intent in ("red_flag_emergency", "red_flag_crisis", "red_flag_urgent", "unclear_symptom"):
        assert answered(domain, "my face has dropped on one side, for 2 days", asked="check_duration_days",
                        intent=intent) == {}


def test_a_fast_yes_ends_the_check_at_once(domain):
    filled = answered(domain, "yes", asked="check_face", check_location="lip only", check_duration_days=2.0,
                      check_frequency="now and then")
    assert filled["check_face"] == "yes"
    assert filled["requested_slot"] is None  # nothing more is asked: the outcome comes next


def test_a_fast_no_moves_on_to_the_next_fast_question(domain):
    filled = answered(domain, "nope", asked="check_face", check_location="lip only", check_duration_days=2.0,
                      check_frequency="now and then")
    assert filled == {"check_face": "no"}  # Rasa asks the next question (check_arm)


def outcome(domain: dict, **answers) -> tuple[list[dict], dict]:
    tracker = conversation("no", "deny_signs", slots={**NOTHING_YET, **answers}, earlier=["my lip twitches"])
    messages, events = run_action(ActionTwitchCheckOutcome(), tracker, domain)
    return messages, slots_set(events)


def test_a_drooping_face_gets_the_emergency_advice_a_hand_off_and_a_fresh_check(domain):
    messages, slots = outcome(domain, check_location="lip only", check_face="yes")
    assert messages == [{"response": "utter_emergency", "red_flags": ["RF01"], **_empty_message()}]
    assert slots["handed_off"] == ["emergency"]
    assert all(slots[slot] is None for slot in CHECK_SLOTS)  # the check can be run again


def test_three_weeks_of_twitching_gets_the_gp_advice_with_the_everyday_triggers(domain):
    messages, slots = outcome(domain, check_location="lip only", check_duration_days=21.0, check_frequency="every day",
                              check_face="no", check_arm="no", check_speech="no")
    assert messages[0]["response"] == "utter_routine"
    summary = messages[1]
    assert "about 3 weeks" in summary["text"] and "booking an appointment with your GP" in summary["text"]
    assert summary["custom"]["check"] == "routine" and "stress" in summary["custom"]["kb_ids"]
    assert "handed_off" not in slots  # a routine outcome tells nobody on call


def test_a_twitch_of_two_days_is_reassured_without_alarm(domain):
    messages, _ = outcome(domain, check_location="lip only", check_duration_days=2.0, check_frequency="now and then",
                          check_face="no", check_arm="no", check_speech="no")
    assert len(messages) == 1 and "usually harmless" in messages[0]["text"]
    assert messages[0]["custom"]["check"] == "self_care"


def _empty_message() -> dict:
    """The fields rasa-sdk's dispatcher fills for a message sent by response name only."""
    return {"text": None, "buttons": [], "elements": [], "custom": {}, "template": "utter_emergency",
            "image": None, "attachment": None}
