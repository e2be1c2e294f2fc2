"""The action server's actions: thin adapters from rasa-sdk to liptwitch.answers."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from liptwitch.answers import INTRO, QUESTION_INTENTS, TOPIC_ENTITY, Answerer, Context, Reply, refers_back
from liptwitch.handoff import HandOffClient, HandOffSummariser
from liptwitch.knowledge_base import load_knowledge_base
from liptwitch.nlu_export import TOPIC_KINDS
from liptwitch.text import PhraseMatcher

logger = logging.getLogger(__name__)

# Loaded once when the action server starts: a broken knowledge base stops it with a clear error.
KNOWLEDGE_BASE = load_knowledge_base()
ANSWERER = Answerer(KNOWLEDGE_BASE)
TOPIC_MATCHER = PhraseMatcher(KNOWLEDGE_BASE.synonym_index())
HAND_OFF_SUMMARISER = HandOffSummariser(KNOWLEDGE_BASE)
RED_FLAG_INTENT_PREFIX = "red_flag_"


def is_first_reply(tracker: Tracker) -> bool:
    """True when the assistant has not said anything yet in this conversation (session)."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return False
        if event.get("event") == "session_started":
            return True
    return True


def topic_ids(tracker: Tracker) -> list[str]:
    """The knowledge-base ids of the topics in the latest message.

    The NLU pipeline has already resolved them; the matcher here also covers a value that was not
    resolved (a hand-written button payload). When the entity model found no topic, a knowledge-base
    phrase written out in full ("all nighter", "going to bed earlier") still counts.
    """
    ids = []
    for entity in tracker.latest_message.get("entities", []):
        if entity.get("entity") != TOPIC_ENTITY:
            continue
        value = str(entity.get("value", ""))
        item_id = value if value in KNOWLEDGE_BASE.items else TOPIC_MATCHER.resolve(value)
        if item_id:
            ids.append(item_id)
    if not ids:
        text = tracker.latest_message.get("text") or ""
        ids = [match.value for match in TOPIC_MATCHER.find(text)
               if match.exact and KNOWLEDGE_BASE.get(match.value).kind in TOPIC_KINDS]
    return list(dict.fromkeys(ids))


def current_context(tracker: Tracker) -> Context:
    return Context(topics=tuple(tracker.get_slot("context_topics") or ()),
                   kind=tracker.get_slot("context_kind") or None,
                   listed=bool(tracker.get_slot("context_listed")))


def context_events(context: Context) -> list[EventType]:
    return [SlotSet("context_topics", list(context.topics)), SlotSet("context_kind", context.kind),
            SlotSet("context_listed", context.listed)]


def send(dispatcher: CollectingDispatcher, reply: Reply, intent: str) -> None:
    dispatcher.utter_message(text=reply.text,
                             buttons=[{"title": b.title, "payload": b.payload} for b in reply.buttons],
                             json_message=reply.custom(intent=intent))


class ActionAnswerQuestion(Action):
    """Answers a question about lip twitching from the knowledge base, keeping the context."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        if intent.startswith(RED_FLAG_INTENT_PREFIX):
            # After routine advice, the question that came with it ("for a month now, is it my meds?").
            intent = (tracker.latest_message.get("model_intent") or {}).get("name") or ""
            if intent not in QUESTION_INTENTS:
                return []
        context = current_context(tracker)
        try:
            text = tracker.latest_message.get("text") or ""
            reply, context = ANSWERER.respond(intent, topic_ids(tracker), context, refers_back(text, intent))
        except ValueError:
            logger.warning("action_answer_question ran for intent '%s', which it does not answer.", intent)
            reply = None
        if is_first_reply(tracker):
            dispatcher.utter_message(text=INTRO)
        if reply is None:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        send(dispatcher, reply, intent)
        return context_events(context)


def session_user_messages(tracker: Tracker) -> list[str]:
    """What the person wrote in this conversation (since the session started), oldest first."""
    messages: list[str] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            messages = []
        elif event.get("event") == "user" and event.get("text"):
            messages.append(event["text"])
    return messages


class ActionHandOff(Action):
    """After an emergency, crisis or urgent escalation: tell the people behind the service.

    Posts a hand-off record to the webhook set by LIPTWITCH_HANDOFF_URL (nothing when unset), in the
    background: the advice has already gone to the person, and this never delays or replaces it.
    """

    def __init__(self) -> None:
        self.client = HandOffClient.from_environment()

    def name(self) -> str:
        return "action_hand_off"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if self.client is None:
            return []
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        level = intent.removeprefix(RED_FLAG_INTENT_PREFIX) if intent.startswith(RED_FLAG_INTENT_PREFIX) else "unknown"
        red_flags = [e["value"] for e in tracker.latest_message.get("entities", []) if e.get("entity") == "red_flag"]
        record = HAND_OFF_SUMMARISER.record(tracker.sender_id, level, red_flags or tracker.get_slot("red_flags") or [],
                                            session_user_messages(tracker))
        self.client.send_in_background(record)
        return []
