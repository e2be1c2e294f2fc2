"""action_hand_off: after an emergency, crisis or urgent escalation, tells the people behind the service."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.server import never_fails
from actions.tracker_helpers import HAND_OFF_SUMMARISER, latest_entities, latest_intent, session_user_messages
from liptwitch.core.handoff import HandOffClient
from liptwitch.vocabulary import ACTION_HAND_OFF, HANDED_OFF, RED_FLAG, RED_FLAG_INTENT_PREFIX, RED_FLAGS

# Read once when the action server starts: None when LIPTWITCH_HANDOFF_URL is unset.
HAND_OFF_CLIENT = HandOffClient.from_environment()


def hand_off(tracker: Tracker, level: str, red_flags: list[str]) -> list[EventType]:
    """Tell the people behind the service, in the background (nothing when no webhook is set), once per
    conversation and level: a repeated red flag repeats the advice to the person, not the call to the team."""
    done = list(tracker.get_slot(HANDED_OFF) or [])
    if level in done:
        return []
    if HAND_OFF_CLIENT is not None:
        record = HAND_OFF_SUMMARISER.record(tracker.sender_id, level, red_flags, session_user_messages(tracker))
        HAND_OFF_CLIENT.send_in_background(record)
    return [SlotSet(HANDED_OFF, [*done, level])]


class ActionHandOff(Action):
    """After an emergency, crisis or urgent escalation: tell the people behind the service.

    Posts a hand-off record to the webhook set by LIPTWITCH_HANDOFF_URL (nothing when unset), in the
    background: the advice has already gone to the person, and this never delays or replaces it.
    """

    def name(self) -> str:
        return ACTION_HAND_OFF

    @never_fails
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent = latest_intent(tracker)
        level = intent.removeprefix(RED_FLAG_INTENT_PREFIX) if intent.startswith(RED_FLAG_INTENT_PREFIX) else "unknown"
        red_flags = latest_entities(tracker, RED_FLAG)
        return hand_off(tracker, level, red_flags or tracker.get_slot(RED_FLAGS) or [])
