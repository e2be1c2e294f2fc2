"""The guided check: the form's validation (reading answers from free text or buttons) and its outcome.

The questions, the answers' reading and the outcome's level are in liptwitch/core/guided_check.py; the form's
slots and rules in domain.yml and data/rules/check.yml.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.hand_off import hand_off
from actions.server import never_fails
from actions.tracker_helpers import KNOWLEDGE_BASE, READER, latest_entities, latest_intent
from liptwitch.core import guided_check
from liptwitch.core.answers import QUESTION_INTENTS
from liptwitch.vocabulary import (
    ACTION_TWITCH_CHECK_OUTCOME,
    CHECK_ARM,
    CHECK_DURATION_DAYS,
    CHECK_FACE,
    CHECK_FREQUENCY,
    CHECK_LOCATION,
    CHECK_SLOTS,
    CHECK_SPEECH,
    CRISIS,
    EMERGENCY,
    FAST_SLOTS,
    RED_FLAG,
    REQUESTED_SLOT,
    ROUTINE,
    UNCLEAR_SYMPTOM,
    URGENT,
    UTTER_CHECK_START,
    UTTER_EMERGENCY,
    UTTER_ROUTINE,
    VALIDATE_TWITCH_CHECK_FORM,
    red_flag_intent,
)

# Messages the form never takes as an answer: the rules answer them at once (advice, or the safety-net question).
ALARMING_INTENTS = (*(red_flag_intent(level) for level in (EMERGENCY, CRISIS, URGENT)), UNCLEAR_SYMPTOM)


def routine_advised(tracker: Tracker) -> bool:
    """Whether the routine advice was given since this check started (by the form, or by the rules for a routine
    red flag that answered nothing)."""
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") in (UTTER_CHECK_START, ACTION_TWITCH_CHECK_OUTCOME):
            return False  # this check's start, or the end of an earlier one
        if event.get("event") == "bot":
            custom = (event.get("data") or {}).get("custom") or {}
            if (isinstance(custom, dict) and custom.get("triage") == ROUTINE) \
                    or (event.get("metadata") or {}).get("utter_action") == UTTER_ROUTINE:
                return True
    return False


class ValidateTwitchCheckForm(FormValidationAction):
    """Reads the check's answers from free text or buttons; a FAST "yes" ends the check at once.

    The first message is read for everything it already says ("my lip has twitched for three weeks"
    fills the duration); later messages answer the question asked, or "skip". A message that answers
    nothing (a question, "stop", a red flag) fills nothing, so the form steps aside and the rules
    answer it.
    """

    def name(self) -> str:
        return VALIDATE_TWITCH_CHECK_FORM

    @never_fails
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        before = {slot: tracker.get_slot(slot) for slot in CHECK_SLOTS}
        events = await super().run(dispatcher, tracker, domain)
        self._routine_at_once(dispatcher, tracker, before, events)
        return events

    @staticmethod
    def _routine_at_once(dispatcher: CollectingDispatcher, tracker: Tracker, before: dict[str, Any],
                         events: list[EventType]) -> None:
        """An answer that makes the outcome routine (TRIAGE.md RF18, RF19: more than two weeks, or spreading), or a
        routine red flag said in an answer ("only my lip, and I started new tablets"), gets the routine advice at
        once, as it would outside the check; the check then goes on, and its outcome says the same. Once a check."""
        filled = {event["name"]: event["value"] for event in events
                  if event.get("event") == "slot" and event.get("name") in CHECK_SLOTS}
        if not filled or routine_advised(tracker):
            return
        after = {**before, **filled}
        # Only the answer that makes the outcome routine: one already routine had its advice when it became so.
        red_flags = [] if guided_check.routine_red_flags(before) else list(guided_check.routine_red_flags(after))
        if latest_intent(tracker) == red_flag_intent(ROUTINE):
            red_flags += [flag for flag in latest_entities(tracker, RED_FLAG) if flag not in red_flags]
        if red_flags and not any(after.get(slot) == guided_check.YES for slot in FAST_SLOTS):
            dispatcher.utter_message(response=UTTER_ROUTINE, red_flags=red_flags)

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> list[str]:
        if any(tracker.get_slot(slot) == guided_check.YES for slot in FAST_SLOTS):
            # A FAST "yes" ends the check at once: nothing more is asked (the answers so far are kept).
            return [slot for slot in domain_slots if tracker.get_slot(slot) is not None]
        return domain_slots

    def _answer(self, tracker: Tracker, slot: str) -> str | None:
        """The latest text, if it may answer `slot` (the one asked, or any on the first message)."""
        intent = latest_intent(tracker)
        if intent in ALARMING_INTENTS:
            return None  # the red-flag rules answer it, at once
        text = tracker.latest_message.get("text") or ""
        reading = READER.read(text)
        if intent in QUESTION_INTENTS and reading.questions:
            # "what causes lip twitching?" in the middle of the check: the rules answer it, then the check goes on
            return None
        if reading.who != "me":
            return None  # "my toddler's lip is twitching too": someone else's twitch says nothing about theirs
        requested = tracker.get_slot(REQUESTED_SLOT)
        # A duration is unmistakable whenever it comes ("it's been 2 days" to "where is it?"): it is taken, and the
        # question asked is asked again. Other answers count only for their own question.
        out_of_turn = slot == CHECK_DURATION_DAYS and requested in (CHECK_LOCATION, CHECK_FREQUENCY)
        if requested not in (None, slot) and not out_of_turn or tracker.get_slot(slot) is not None:
            return None
        return text

    def _extract(self, tracker: Tracker, slot: str, parse: Callable[[str], Any], skipped: object) -> dict[str, Any]:
        text = self._answer(tracker, slot)
        if text is None:
            return {}
        if tracker.get_slot(REQUESTED_SLOT) == slot and guided_check.is_skip(text):
            return {slot: skipped}
        value = parse(text)
        return {slot: value} if value is not None else {}

    async def extract_check_location(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        asked = tracker.get_slot(REQUESTED_SLOT) == CHECK_LOCATION
        return self._extract(tracker, CHECK_LOCATION,
                             lambda text: guided_check.parse_location(text, explicit=not asked), guided_check.SKIPPED)

    async def extract_check_duration_days(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                          domain: DomainDict) -> dict[str, Any]:
        return self._extract(tracker, CHECK_DURATION_DAYS, guided_check.parse_duration_days,
                             guided_check.SKIPPED_DAYS)

    async def extract_check_frequency(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> dict[str, Any]:
        return self._extract(tracker, CHECK_FREQUENCY, guided_check.parse_frequency, guided_check.SKIPPED)

    async def extract_check_face(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        return self._fast(tracker, CHECK_FACE)

    async def extract_check_arm(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        return self._fast(tracker, CHECK_ARM)

    async def extract_check_speech(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        return self._fast(tracker, CHECK_SPEECH)

    def _fast(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        if tracker.get_slot(REQUESTED_SLOT) != slot:
            return {}  # FAST questions are answered when asked, never guessed from other messages
        return self._extract(tracker, slot, guided_check.parse_yes_no, guided_check.SKIPPED)


class ActionTwitchCheckOutcome(Action):
    """The check's outcome at the level TRIAGE.md gives, with a short personal summary."""

    def name(self) -> str:
        return ACTION_TWITCH_CHECK_OUTCOME

    @never_fails
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        answers = {slot: tracker.get_slot(slot) for slot in CHECK_SLOTS}
        advised = routine_advised(tracker)
        result = guided_check.outcome(KNOWLEDGE_BASE, answers, advised_routine=advised)
        if result.level == EMERGENCY:
            red_flags = [guided_check.FAST_RED_FLAGS[slot] for slot in FAST_SLOTS
                         if answers.get(slot) == guided_check.YES]
            dispatcher.utter_message(response=UTTER_EMERGENCY, red_flags=red_flags)
            handed_off = hand_off(tracker, EMERGENCY, red_flags)
        else:
            handed_off = []
            if result.level == ROUTINE and not advised:  # given once: during the check, or here
                dispatcher.utter_message(response=UTTER_ROUTINE,
                                         red_flags=list(guided_check.routine_red_flags(answers)))
            dispatcher.utter_message(text=result.text,
                                     json_message={"kb_ids": list(result.kb_ids), "check": result.level})
        return [*handed_off, *(SlotSet(slot, None) for slot in CHECK_SLOTS)]  # the check can be run again
