"""The guided check's form (reading answers from what people type) and its outcome, on trackers as the Rasa server
sends them."""

from __future__ import annotations

from actions.twitch_check import ActionTwitchCheckOutcome, ValidateTwitchCheckForm
from tests.actions.conftest import conversation, run_action, slots_set

FORM = "twitch_check_form"
CHECK_SLOTS = ("check_location", "check_duration_days", "check_frequency", "check_face", "check_arm", "check_speech")
NOTHING_YET = dict.fromkeys(CHECK_SLOTS)


def validated(domain: dict, text: str, asked: str | None, intent: str = "nlu_fallback", entities=None,
              earlier_bot: list[dict] = (), **known) -> tuple[list[dict], dict]:
    """What the form's validation says and the slots it sets when the person answers `text` to the question for slot
    `asked`, after the assistant's `earlier_bot` messages in this check."""
    tracker = conversation(text, intent, slots={**NOTHING_YET, **known, "requested_slot": asked}, loop=FORM,
                           entities=entities)
    start = [{"event": "action", "name": "utter_check_start"}, *earlier_bot]
    tracker.events[-1:-1] = start  # the check started before the latest message
    messages, events = run_action(ValidateTwitchCheckForm(), tracker, domain)
    # The form's questions are asked by Rasa, never by the validation: it only ever gives the routine advice.
    assert all(message.get("response") == "utter_routine" for message in messages)
    return messages, slots_set(events)


def answered(domain: dict, text: str, asked: str | None, intent: str = "nlu_fallback", **known) -> dict:
    """The slots the form sets when the person answers `text` to the question for slot `asked`."""
    return validated(domain, text, asked, intent, **known)[1]


def routine_bot_event(red_flags: list[str]) -> dict:
    return {"event": "bot", "text": "Book an appointment...", "data": {"custom": {"triage": "routine",
                                                                                "red_flags": red_flags}},
            "metadata": {"utter_action": "utter_routine"}}


def test_the_first_message_is_read_for_everything_it_already_says(domain):
    messages, filled = validated(domain, "my lip has been twitching for three weeks", asked=None)
    assert filled["check_duration_days"] == 21.0
    assert "check_location" not in filled  # "my lip" alone does not say it is in the lip only: that is asked
    assert not {"check_face", "check_arm", "check_speech"} & filled.keys()  # FAST questions are never guessed
    assert [m["response"] for m in messages] == ["utter_routine"]  # three weeks: the routine advice at once (RF18)


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


def test_an_answer_that_makes_the_outcome_routine_gets_the_routine_advice_at_once(domain):
    # TRIAGE.md RF18 and RF19, given in the middle of the check: the advice comes at once, the check goes on.
    for text, asked, flag, slot in [("about 6 weeks", "check_duration_days", "RF18", "check_duration_days"),
                                    ("about 6 weeks", "check_location", "RF18", "check_duration_days"),
                                    ("since before my holiday so 2 months or so", "check_location", "RF18",
                                     "check_duration_days"),
                                    ("half the year now", "check_duration_days", "RF18", "check_duration_days"),
                                    ("lower lip mainly but also my left eyelid and sometimes my arm", "check_location",
                                     "RF19", "check_location"),
                                    ("it's spread to my cheek too", "check_location", "RF19", "check_location")]:
        messages, filled = validated(domain, text, asked)
        assert slot in filled, text
        assert [(m["response"], m["red_flags"]) for m in messages] == [("utter_routine", [flag])], text
        assert filled.get("requested_slot", "") is not None  # not the end: the check goes on


def test_an_answer_that_leaves_the_outcome_self_care_gets_no_advice_in_the_middle(domain):
    for text, asked in [("2 days", "check_duration_days"), ("about 10 days", "check_duration_days"),
                        ("just my lip", "check_location"), ("every day", "check_frequency")]:
        messages, filled = validated(domain, text, asked)
        assert filled and messages == [], text


def test_the_routine_advice_is_given_once_a_check(domain):
    messages, filled = validated(domain, "it's in my eyelid as well", "check_location", check_duration_days=30.0,
                                 earlier_bot=[routine_bot_event(["RF18"])])
    assert filled["check_location"] == "spreading" and messages == []
    # A check that already knew it was routine does not repeat it for a later answer.
    messages, _ = validated(domain, "it's in my eyelid as well", "check_location", check_duration_days=30.0)
    assert messages == []


def test_a_routine_red_flag_said_in_an_answer_gets_its_advice_at_once(domain):
    messages, filled = validated(domain, "only my lip, but I started new tablets last week", "check_location",
                                 intent="red_flag_routine", entities=[{"entity": "red_flag", "value": "RF21"}])
    assert filled["check_location"] == "lip only"
    assert [(m["response"], m["red_flags"]) for m in messages] == [("utter_routine", ["RF21"])]


def test_no_other_symptoms_is_not_another_place():
    from liptwitch.core import guided_check
    assert guided_check.parse_location("no other symptoms, but I did start a new blood pressure tablet") is None
    assert guided_check.parse_location("nothing other than my lip") == "lip only"
    assert guided_check.parse_location("my lip and other places too") == "spreading"


def outcome(domain: dict, earlier_bot: list[dict] = (), **answers) -> tuple[list[dict], dict]:
    tracker = conversation("no", "deny_signs", slots={**NOTHING_YET, **answers}, earlier=["my lip twitches"])
    tracker.events[-1:-1] = [{"event": "action", "name": "utter_check_start"}, *earlier_bot]
    messages, events = run_action(ActionTwitchCheckOutcome(), tracker, domain)
    return messages, slots_set(events)


def test_the_outcome_never_contradicts_routine_advice_given_during_the_check(domain):
    fine = {"check_location": "lip only", "check_duration_days": 3.0, "check_frequency": "now and then",
            "check_face": "no", "check_arm": "no", "check_speech": "no"}
    # The routine advice came for a new medicine said on the way (RF21): the outcome is routine too, said once.
    messages, _ = outcome(domain, earlier_bot=[routine_bot_event(["RF21"])], **fine)
    assert [m.get("response") for m in messages] == [None]
    assert messages[0]["custom"]["check"] == "routine" and "booking an appointment" in messages[0]["text"]
    # Given at once for six weeks: the outcome is routine, and the banner is not sent twice.
    messages, _ = outcome(domain, earlier_bot=[routine_bot_event(["RF18"])], **{**fine, "check_duration_days": 42.0})
    assert [m.get("response") for m in messages] == [None] and messages[0]["custom"]["check"] == "routine"
    assert "more than two weeks" in messages[0]["text"]
    # Advice given in an earlier check does not carry over to this one.
    tracker = conversation("no", "deny_signs", slots={**NOTHING_YET, **fine}, earlier=["my lip twitches"])
    tracker.events[-1:-1] = [routine_bot_event(["RF18"]), {"event": "action", "name": "action_twitch_check_outcome"},
                             {"event": "action", "name": "utter_check_start"}]
    messages, _ = run_action(ActionTwitchCheckOutcome(), tracker, domain)
    assert messages[0]["custom"]["check"] == "self_care"


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


def test_someone_elses_twitching_told_in_the_middle_is_no_answer_about_the_persons_own(domain):
    tracker = conversation("my toddler's lip is twitching too, should I worry", "ask_serious",
                           slots={"requested_slot": "check_location"}, loop="twitch_check_form")
    _, events = run_action(ValidateTwitchCheckForm(), tracker, domain)
    assert not any(e.get("name") == "check_location" and e.get("value") for e in events if e.get("event") == "slot")
