"""The action server's actions: thin adapters from rasa-sdk to liptwitch.answers."""

from __future__ import annotations

import functools
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sanic import Sanic
from sanic import response as sanic_response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from liptwitch import guided_check
from liptwitch.answers import (
    APOLOGY,
    HOW_TO_STOP_IT,
    INTRO,
    IS_IT_SERIOUS,
    QUESTION_INTENTS,
    RED_FLAG_INTENT_PREFIX,
    TOPIC_ENTITY,
    WHAT_CAUSES_IT,
    Answerer,
    Context,
    Reply,
    refers_back,
)
from liptwitch.handoff import HandOffClient, HandOffSummariser
from liptwitch.knowledge_base import TOPIC_KINDS, load_knowledge_base
from liptwitch.text import PhraseMatcher

logger = logging.getLogger(__name__)

ACTION_TOKEN_VARIABLE, ACTION_TOKEN_HEADER = "LIPTWITCH_ACTION_TOKEN", "X-Action-Token"


def require_the_action_token(environment: dict[str, str] | None = None) -> bool:
    """With LIPTWITCH_ACTION_TOKEN set, the action server runs actions only for requests that bear it.

    Rasa's action server has no such setting, and anyone who reaches it could otherwise run action_hand_off
    for a made-up conversation. rasa-sdk creates its Sanic app before it imports the actions, so the check
    is added to that app here. (In the cluster nginx checks the token too.)
    """
    token = (environment if environment is not None else os.environ).get(ACTION_TOKEN_VARIABLE)
    try:
        app = Sanic.get_app("rasa_sdk")
    except SanicException:
        return False  # imported outside the action server (the tests)
    if not token:
        return False

    @app.on_request
    async def check_the_token(request: Request) -> HTTPResponse | None:
        if request.path == "/health":
            return None
        if hmac.compare_digest(request.headers.get(ACTION_TOKEN_HEADER, "").encode(), token.encode()):
            return None
        return sanic_response.json({"error": f"this action server needs the {ACTION_TOKEN_HEADER} header"}, status=403)

    return True


require_the_action_token()


def never_fails(run: Callable[..., Awaitable[list[EventType]]]) -> Callable[..., Awaitable[list[EventType]]]:
    """An action that fails sends the apology and changes nothing, so the conversation goes on as it was.

    Rasa-sdk would answer the Rasa server with an error that carries the request, conversation and all, which
    Rasa writes to its log, and the person would get nothing. The log here names the action and the kind of
    error only, never what the person wrote.
    """

    @functools.wraps(run)
    async def guarded(self: Action, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: dict[str, Any]) -> list[EventType]:
        try:
            return await run(self, dispatcher, tracker, domain)
        except Exception as error:  # noqa: BLE001 - whatever it was, the person gets an answer
            logger.error("%s failed (%s); the person was sent the apology.", self.name(), type(error).__name__)
            dispatcher.messages.clear()
            dispatcher.utter_message(text=APOLOGY)
            return []

    return guarded

# Loaded once when the action server starts: a broken knowledge base stops it with a clear error.
KNOWLEDGE_BASE = load_knowledge_base()
ANSWERER = Answerer(KNOWLEDGE_BASE)
TOPIC_MATCHER = PhraseMatcher(KNOWLEDGE_BASE.synonym_index())
HAND_OFF_SUMMARISER = HandOffSummariser(KNOWLEDGE_BASE)
CHECK_INTENT, CHECK_FORM = "check_my_twitching", "twitch_check_form"


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
        # Exact phrases, or longer ones with a typo ("enrgy drinks"): short words are too easy to mistake.
        ids = [match.value for match in TOPIC_MATCHER.find(text)
               if (match.exact or len(match.phrase) >= 6) and KNOWLEDGE_BASE.get(match.value).kind in TOPIC_KINDS]
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


DENY_SIGNS, SAFETY_NET_RESPONSE = "deny_signs", "utter_safety_net"
NO_SIGNS = "Thank you for checking. If any of those signs do appear, call your emergency number straight away."
ANYTHING_ELSE = "What would you like to know about lip twitching?"
MAIN_BUTTONS = [{"title": b.title, "payload": b.payload} for b in (WHAT_CAUSES_IT, HOW_TO_STOP_IT, IS_IT_SERIOUS)]


def interrupted_by_safety_net(tracker: Tracker) -> tuple[dict[str, Any] | None, bool]:
    """The message the safety-net question came in answer to, if that question was the assistant's last
    action, and whether it paused the guided check. (None, False) when no safety-net question was just asked."""
    events = tracker.events
    latest_user = next((i for i in range(len(events) - 1, -1, -1) if events[i].get("event") == "user"), 0)
    actions = [i for i in range(latest_user) if events[i].get("event") == "action"
               and events[i].get("name") != "action_listen"]
    if not actions or events[actions[-1]].get("name") != SAFETY_NET_RESPONSE:
        return None, False
    asked = actions[-1]
    earlier_user = next((i for i in range(asked - 1, -1, -1) if events[i].get("event") == "user"), None)
    if earlier_user is None:
        return None, False
    paused = any(event.get("event") == "action" and event.get("name") == "action_deactivate_loop"
                 for event in events[earlier_user:asked])
    return events[earlier_user], paused


class ActionAnswerQuestion(Action):
    """Answers a question about lip twitching from the knowledge base, keeping the context."""

    def name(self) -> str:
        return "action_answer_question"

    @never_fails
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        if intent == DENY_SIGNS:
            return self._after_no_signs(dispatcher, tracker)
        if intent.startswith(RED_FLAG_INTENT_PREFIX):
            # After routine advice, the question that came with it ("for a month now, is it my meds?"),
            # or the guided check for someone describing their twitch ("for three weeks now"): the form
            # reads the duration from this very message.
            intent = (tracker.latest_message.get("model_intent") or {}).get("name") or ""
            if intent == CHECK_INTENT and tracker.active_loop_name is None:
                dispatcher.utter_message(response="utter_check_start")
                return [FollowupAction(CHECK_FORM)]
            if intent not in QUESTION_INTENTS:
                return []
        return self._answer(dispatcher, tracker, intent, topic_ids(tracker), tracker.latest_message.get("text") or "")

    def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, intent: str, topics: list[str],
                text: str) -> list[EventType]:
        context = current_context(tracker)
        try:
            reply, context = ANSWERER.respond(intent, topics, context, refers_back(text, intent))
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

    def _after_no_signs(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """ "None of these": back to what the person had asked before the safety-net question."""
        interrupted, paused = interrupted_by_safety_net(tracker)
        if interrupted is None:  # a plain "no" with nothing to answer
            if tracker.active_loop_name:
                dispatcher.utter_message(response="utter_check_didnt_understand")  # the check asks again
            else:
                dispatcher.utter_message(text=f"OK. {ANYTHING_ELSE}", buttons=MAIN_BUTTONS)
            return []
        dispatcher.utter_message(text=NO_SIGNS)
        if paused:
            dispatcher.utter_message(text="Let's carry on with the check.")
            return [FollowupAction(CHECK_FORM)]
        parse = interrupted.get("parse_data") or {}
        asked = (parse.get("model_intent") or {}).get("name") or (parse.get("intent") or {}).get("name")
        if asked == CHECK_INTENT:
            dispatcher.utter_message(response="utter_check_start")
            return [FollowupAction(CHECK_FORM)]
        if asked in QUESTION_INTENTS:
            topics = [str(e.get("value")) for e in parse.get("entities") or [] if e.get("entity") == TOPIC_ENTITY]
            topics = [t for t in topics if t in KNOWLEDGE_BASE.items]
            return self._answer(dispatcher, tracker, asked, topics, interrupted.get("text") or "")
        dispatcher.utter_message(text=ANYTHING_ELSE, buttons=MAIN_BUTTONS)
        return []


def session_user_messages(tracker: Tracker) -> list[str]:
    """What the person wrote in this conversation (since the session started), oldest first."""
    messages: list[str] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            messages = []
        elif event.get("event") == "user" and event.get("text"):
            messages.append(event["text"])
    return messages


HAND_OFF_CLIENT = HandOffClient.from_environment()
HANDED_OFF = "handed_off"  # the levels already handed off in this conversation (session)


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
        return "action_hand_off"

    @never_fails
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        level = intent.removeprefix(RED_FLAG_INTENT_PREFIX) if intent.startswith(RED_FLAG_INTENT_PREFIX) else "unknown"
        red_flags = [e["value"] for e in tracker.latest_message.get("entities", []) if e.get("entity") == "red_flag"]
        return hand_off(tracker, level, red_flags or tracker.get_slot("red_flags") or [])


# --- the guided check ----------------------------------------------------------------------------

CHECK_SLOTS = ("check_location", "check_duration_days", "check_frequency", *guided_check.FAST_SLOTS)
FAST_RED_FLAGS = {"check_face": "RF01", "check_arm": "RF02", "check_speech": "RF03"}
SKIPPED_DAYS = -1.0  # check_duration_days is a number: "skipped" is stored as -1
# Messages the form never takes as an answer: the rules answer them at once (advice, or the safety-net question).
ALARMING_LEVELS = ("red_flag_emergency", "red_flag_crisis", "red_flag_urgent", "unclear_symptom")


class ValidateTwitchCheckForm(FormValidationAction):
    """Reads the check's answers from free text or buttons; a FAST "yes" ends the check at once.

    The first message is read for everything it already says ("my lip has twitched for three weeks"
    fills the duration); later messages answer the question asked, or "skip". A message that answers
    nothing (a question, "stop", a red flag) fills nothing, so the form steps aside and the rules
    answer it.
    """

    def name(self) -> str:
        return "validate_twitch_check_form"

    @never_fails
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await super().run(dispatcher, tracker, domain)

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> list[str]:
        if any(tracker.get_slot(slot) == guided_check.YES for slot in guided_check.FAST_SLOTS):
            # A FAST "yes" ends the check at once: nothing more is asked (the answers so far are kept).
            return [slot for slot in domain_slots if tracker.get_slot(slot) is not None]
        return domain_slots

    def _answer(self, tracker: Tracker, slot: str) -> str | None:
        """The latest text, if it may answer `slot` (the one asked, or any on the first message)."""
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        if intent in ALARMING_LEVELS:
            return None  # the red-flag rules answer it, at once
        requested = tracker.get_slot("requested_slot")
        if requested not in (None, slot) or tracker.get_slot(slot) is not None:
            return None
        return tracker.latest_message.get("text") or ""

    def _extract(self, tracker: Tracker, slot: str, parse, skipped: object) -> dict[str, Any]:
        text = self._answer(tracker, slot)
        if text is None:
            return {}
        if tracker.get_slot("requested_slot") == slot and guided_check.is_skip(text):
            return {slot: skipped}
        value = parse(text)
        return {slot: value} if value is not None else {}

    async def extract_check_location(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        asked = tracker.get_slot("requested_slot") == "check_location"
        return self._extract(tracker, "check_location",
                             lambda text: guided_check.parse_location(text, explicit=not asked), guided_check.SKIPPED)

    async def extract_check_duration_days(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                          domain: DomainDict) -> dict[str, Any]:
        return self._extract(tracker, "check_duration_days", guided_check.parse_duration_days, SKIPPED_DAYS)

    async def extract_check_frequency(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> dict[str, Any]:
        return self._extract(tracker, "check_frequency", guided_check.parse_frequency, guided_check.SKIPPED)

    async def extract_check_face(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> dict[str, Any]:
        return self._fast(tracker, "check_face")

    async def extract_check_arm(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        return self._fast(tracker, "check_arm")

    async def extract_check_speech(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> dict[str, Any]:
        return self._fast(tracker, "check_speech")

    def _fast(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != slot:
            return {}  # FAST questions are answered when asked, never guessed from other messages
        return self._extract(tracker, slot, guided_check.parse_yes_no, guided_check.SKIPPED)


class ActionTwitchCheckOutcome(Action):
    """The check's outcome at the level TRIAGE.md gives, with a short personal summary."""

    def name(self) -> str:
        return "action_twitch_check_outcome"

    @never_fails
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        answers = {slot: tracker.get_slot(slot) for slot in CHECK_SLOTS}
        result = guided_check.outcome(KNOWLEDGE_BASE, answers)
        if result.level == "emergency":
            red_flags = [FAST_RED_FLAGS[slot] for slot in guided_check.FAST_SLOTS
                         if answers.get(slot) == guided_check.YES]
            dispatcher.utter_message(response="utter_emergency", red_flags=red_flags)
            handed_off = hand_off(tracker, "emergency", red_flags)
        else:
            handed_off = []
            if result.level == "routine":
                dispatcher.utter_message(response="utter_routine", red_flags=[])
            dispatcher.utter_message(text=result.text,
                                     json_message={"kb_ids": list(result.kb_ids), "check": result.level})
        return [*handed_off, *(SlotSet(slot, None) for slot in CHECK_SLOTS)]  # the check can be run again
