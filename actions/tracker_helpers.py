"""What the actions read from a conversation (rasa-sdk's Tracker) and the knowledge base they all answer from."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from liptwitch.core.answers import PARAGRAPH, Answerer, Context, Reply
from liptwitch.core.commands import HELPFUL, NOT_HELPFUL
from liptwitch.core.composer import Composer
from liptwitch.core.handoff import HandOffSummariser
from liptwitch.core.knowledge_base import TOPIC_KINDS, load_knowledge_base
from liptwitch.core.message_reader import MessageReader
from liptwitch.core.review import source_line
from liptwitch.core.text import PhraseMatcher
from liptwitch.vocabulary import (
    ACTION_TWITCH_CHECK_OUTCOME,
    CONTEXT_KIND,
    CONTEXT_LISTED,
    CONTEXT_TOPICS,
    FEEDBACK,
    IMMEDIATE_LEVELS,
    TOPIC,
    URGENT,
    UTTER_SAFETY_NET,
    VERDICT,
    red_flag_intent,
)

# Loaded once when the action server starts: a broken knowledge base stops it with a clear error.
KNOWLEDGE_BASE = load_knowledge_base()
ANSWERER = Answerer(KNOWLEDGE_BASE)
TOPIC_MATCHER = PhraseMatcher(KNOWLEDGE_BASE.synonym_index())
HAND_OFF_SUMMARISER = HandOffSummariser(KNOWLEDGE_BASE)
READER = MessageReader(KNOWLEDGE_BASE)
COMPOSER = Composer(KNOWLEDGE_BASE)


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def model_intent(tracker: Tracker) -> str:
    """The NLU model's own intent for the latest message, kept when a red-flag intent took its place."""
    return (tracker.latest_message.get("model_intent") or {}).get("name") or ""


def latest_entities(tracker: Tracker, entity: str) -> list[str]:
    return [str(e.get("value")) for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity]


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
    for value in latest_entities(tracker, TOPIC):
        item_id = value if value in KNOWLEDGE_BASE.items else TOPIC_MATCHER.resolve(value)
        if item_id:
            ids.append(item_id)
    if not ids:
        text = tracker.latest_message.get("text") or ""
        # Exact phrases, or longer ones with a typo ("enrgy drinks"): short words are too easy to mistake.
        ids = [match.value for match in TOPIC_MATCHER.find(text)
               if (match.exact or len(match.phrase) >= 6) and KNOWLEDGE_BASE.get(match.value).kind in TOPIC_KINDS]
    return list(dict.fromkeys(ids))


def current_context(tracker: Tracker) -> Context:
    return Context(topics=tuple(tracker.get_slot(CONTEXT_TOPICS) or ()),
                   kind=tracker.get_slot(CONTEXT_KIND) or None,
                   listed=bool(tracker.get_slot(CONTEXT_LISTED)))


def context_events(context: Context) -> list[EventType]:
    return [SlotSet(CONTEXT_TOPICS, list(context.topics)), SlotSet(CONTEXT_KIND, context.kind),
            SlotSet(CONTEXT_LISTED, context.listed)]


# Under each answer: was it helpful? The payload names the verdict; action_record_feedback keeps it.
FEEDBACK_BUTTONS = [{"title": title, "payload": f'/{FEEDBACK}{{"{VERDICT}": "{verdict}"}}'}
                    for title, verdict in (("\U0001F44D Helpful", HELPFUL), ("\U0001F44E Not helpful", NOT_HELPFUL))]


def send(dispatcher: CollectingDispatcher, reply: Reply, intent: str, ask_feedback: bool = True) -> None:
    """An answer from the knowledge base, ending with where it comes from and whether a clinician has checked it
    (small print: each channel shapes the italic line its own way), then "was this helpful?" buttons. The `custom`
    payload says the source too."""
    line = source_line(KNOWLEDGE_BASE, reply.kb_ids)
    text = f"{reply.text}{PARAGRAPH}_{line}_" if line else reply.text
    buttons = [{"title": b.title, "payload": b.payload} for b in reply.buttons]
    if ask_feedback and reply.kb_ids:
        buttons += FEEDBACK_BUTTONS
    dispatcher.utter_message(text=text, buttons=buttons, json_message=reply.custom(intent=intent, source=line))


def session_user_messages(tracker: Tracker) -> list[str]:
    """What the person wrote in this conversation (since the session started), oldest first."""
    messages: list[str] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            messages = []
        elif event.get("event") == "user" and event.get("text"):
            messages.append(event["text"])
    return messages


def interrupted_by_safety_net(tracker: Tracker) -> tuple[dict[str, Any] | None, bool]:
    """The message the safety-net question came in answer to, if that question was the assistant's last
    action, and whether it paused the guided check. (None, False) when no safety-net question was just asked."""
    events = tracker.events
    latest_user = next((i for i in range(len(events) - 1, -1, -1) if events[i].get("event") == "user"), 0)
    actions = [i for i in range(latest_user) if events[i].get("event") == "action"
               and events[i].get("name") != "action_listen"]
    if not actions or events[actions[-1]].get("name") != UTTER_SAFETY_NET:
        return None, False
    asked = actions[-1]
    earlier_user = next((i for i in range(asked - 1, -1, -1) if events[i].get("event") == "user"), None)
    if earlier_user is None:
        return None, False
    paused = any(event.get("event") == "action" and event.get("name") == "action_deactivate_loop"
                 for event in events[earlier_user:asked])
    return events[earlier_user], paused


def after_immediate_advice(tracker: Tracker) -> bool:
    """Whether this conversation (session) was told to call an emergency number or a crisis line."""
    immediate = {red_flag_intent(level) for level in IMMEDIATE_LEVELS}
    told = False
    for event in tracker.events:
        if event.get("event") == "session_started":
            told = False
        elif event.get("event") == "user":
            told = told or ((event.get("parse_data") or {}).get("intent") or {}).get("name") in immediate
    return told


def may_offer_check(tracker: Tracker) -> bool:
    """Whether a reply may offer the guided check: not while it runs, not once it has given its outcome in this
    conversation, and not after advice to see a doctor today or to call for help."""
    latest = (tracker.latest_message.get("intent") or {}).get("name")
    if tracker.active_loop_name or latest in NO_CHECK_AFTER:
        return False
    done = False
    for event in tracker.events:
        if event.get("event") == "session_started":
            done = False
        elif event.get("event") == "action" and event.get("name") == ACTION_TWITCH_CHECK_OUTCOME:
            done = True
    return not done


NO_CHECK_AFTER = tuple(red_flag_intent(level) for level in (URGENT, *IMMEDIATE_LEVELS))
