"""action_record_feedback: 👍 or 👎 on an answer, kept in the tracker store with the knowledge-base ids it is about."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.server import never_fails
from actions.tracker_helpers import latest_entities
from liptwitch.core.commands import HELPFUL, VERDICTS
from liptwitch.vocabulary import (
    ACTION_RECORD_FEEDBACK,
    FEEDBACK_SLOT,
    UTTER_FEEDBACK_THANKS,
    UTTER_FEEDBACK_WHAT_WAS_MISSING,
    VERDICT,
)


def answer_rated(tracker: Tracker) -> dict[str, Any] | None:
    """The latest answer from the knowledge base before this message: its ids and when it was sent."""
    for event in reversed(tracker.events):
        custom = ((event.get("data") or {}).get("custom") or {}) if event.get("event") == "bot" else {}
        if custom.get("kb_ids"):
            return {"kb_ids": list(custom["kb_ids"]), "answer_intent": custom.get("intent"),
                    "answered_at": event.get("timestamp")}
    return None


class ActionRecordFeedback(Action):
    """Stores the verdict as a slot event (the console counts them per item); a 👎 asks what was missing, and the
    person's next message, in the same conversation, is that answer."""

    def name(self) -> str:
        return ACTION_RECORD_FEEDBACK

    @never_fails
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        verdicts = latest_entities(tracker, VERDICT)
        verdict = verdicts[0] if verdicts and verdicts[0] in VERDICTS else None
        rated = answer_rated(tracker)
        if verdict is None or rated is None:  # a stray or forged payload: nothing to record
            dispatcher.utter_message(response=UTTER_FEEDBACK_THANKS)
            return []
        dispatcher.utter_message(response=UTTER_FEEDBACK_THANKS if verdict == HELPFUL
                                 else UTTER_FEEDBACK_WHAT_WAS_MISSING)
        return [SlotSet(FEEDBACK_SLOT, {"verdict": verdict, **rated})]
