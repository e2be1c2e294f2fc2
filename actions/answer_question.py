"""action_answer_question: answers a question about lip twitching from the knowledge base, keeping the context."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.server import never_fails
from actions.tracker_helpers import (
    ANSWERER,
    COMPOSER,
    KNOWLEDGE_BASE,
    READER,
    after_immediate_advice,
    context_events,
    current_context,
    interrupted_by_safety_net,
    is_first_reply,
    latest_intent,
    may_offer_check,
    model_intent,
    send,
    topic_ids,
)
from liptwitch.core.answers import (
    HOW_TO_STOP_IT,
    INTRO,
    IS_IT_SERIOUS,
    KIND_INTENTS,
    QUESTION_INTENTS,
    TOPIC_INTENTS,
    WHAT_CAUSES_IT,
    refers_back,
)
from liptwitch.core.composer import answers_as_a_whole, with_offer
from liptwitch.core.message_reader import ordinal_reference
from liptwitch.vocabulary import (
    ACTION_ANSWER_QUESTION,
    ASK_ABOUT,
    ASK_QUESTIONS,
    CHECK_MY_TWITCHING,
    DENY_SIGNS,
    RED_FLAG_INTENT_PREFIX,
    TOPIC,
    TWITCH_CHECK_FORM,
    URGENT,
    UTTER_ASK_REPHRASE,
    UTTER_CHECK_DIDNT_UNDERSTAND,
    UTTER_CHECK_START,
    red_flag_intent,
)

logger = logging.getLogger(__name__)

NO_SIGNS = "Thank you for checking. If any of those signs do appear, call your emergency number straight away."
ANYTHING_ELSE = "What would you like to know about lip twitching?"
# Questions whose reply is composed from the reader's reading when the message is a post to answer as a whole.
COMPOSED_INTENTS = (*TOPIC_INTENTS, *KIND_INTENTS, ASK_ABOUT)
MAIN_BUTTONS = [{"title": b.title, "payload": b.payload} for b in (WHAT_CAUSES_IT, HOW_TO_STOP_IT, IS_IT_SERIOUS)]


class ActionAnswerQuestion(Action):
    """Answers a question about lip twitching from the knowledge base, keeping the context."""

    def name(self) -> str:
        return ACTION_ANSWER_QUESTION

    @never_fails
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        intent = latest_intent(tracker)
        if intent == DENY_SIGNS:
            return self._after_no_signs(dispatcher, tracker)
        if intent.startswith(RED_FLAG_INTENT_PREFIX):
            # After routine or urgent advice, the question that came with it ("for a month now, is it my meds?",
            # "since my thyroid op my lips tingle, is it low calcium?"), or after routine advice the guided check
            # for someone describing their twitch ("for three weeks now"): the form reads the duration from this
            # very message.
            advised = latest_intent(tracker)
            intent = model_intent(tracker)
            text = tracker.latest_message.get("text") or ""
            if not text.startswith("/") and READER.read(text).questions:
                # A post that asks something gets its answers after the advice, whatever the model made of it
                # ("is it a tumour sign and which doctor should I go to?"); the check is offered, not started.
                return self._answer(dispatcher, tracker, ASK_QUESTIONS, topic_ids(tracker), text)
            if intent == CHECK_MY_TWITCHING and advised == red_flag_intent(URGENT):
                # Urgent advice is to see a doctor today: the check is not started after it.
                return []
            if intent == CHECK_MY_TWITCHING and tracker.active_loop_name is None:
                dispatcher.utter_message(response=UTTER_CHECK_START)
                return [FollowupAction(TWITCH_CHECK_FORM)]
            if intent not in QUESTION_INTENTS:
                return []
        return self._answer(dispatcher, tracker, intent, topic_ids(tracker), tracker.latest_message.get("text") or "")

    def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, intent: str, topics: list[str],
                text: str) -> list[EventType]:
        context = current_context(tracker)
        reading = READER.read(text) if not text.startswith("/") else None
        position = ordinal_reference(text)
        if position is not None and context.listed:
            intent = ASK_ABOUT  # "the last one" after a list: its place in the list, not "last" as a topic
            reading = None
        try:
            if reading is not None and (intent == ASK_QUESTIONS or intent in COMPOSED_INTENTS
                                        and answers_as_a_whole(reading, COMPOSER)):
                # The check is offered to someone describing their twitching, unless it is under way.
                composed = COMPOSER.compose(reading, context, offer_check=may_offer_check(tracker))
                reply, context = composed if composed else (None, context)
            else:
                reply, context = ANSWERER.respond(intent, topics, context, refers_back(text, intent), position)
                if reply is not None and reading is not None and may_offer_check(tracker):
                    reply = with_offer(reply, reading)
        except ValueError:
            logger.warning("%s ran for intent '%s', which it does not answer.", ACTION_ANSWER_QUESTION, intent)
            reply = None
        if is_first_reply(tracker):
            dispatcher.utter_message(text=INTRO)
        if reply is None:
            dispatcher.utter_message(response=UTTER_ASK_REPHRASE)
            return []
        # Never "was this helpful?" in a conversation that was just told to call for help.
        send(dispatcher, reply, intent, ask_feedback=not after_immediate_advice(tracker))
        return context_events(context)

    def _after_no_signs(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """ "None of these": back to what the person had asked before the safety-net question."""
        interrupted, paused = interrupted_by_safety_net(tracker)
        if interrupted is None:  # a plain "no" with nothing to answer
            if tracker.active_loop_name:
                dispatcher.utter_message(response=UTTER_CHECK_DIDNT_UNDERSTAND)  # the check asks again
            else:
                dispatcher.utter_message(text=f"OK. {ANYTHING_ELSE}", buttons=MAIN_BUTTONS)
            return []
        dispatcher.utter_message(text=NO_SIGNS)
        if paused:
            dispatcher.utter_message(text="Let's carry on with the check.")
            return [FollowupAction(TWITCH_CHECK_FORM)]
        parse = interrupted.get("parse_data") or {}
        asked = (parse.get("model_intent") or {}).get("name") or (parse.get("intent") or {}).get("name")
        if asked == CHECK_MY_TWITCHING:
            dispatcher.utter_message(response=UTTER_CHECK_START)
            return [FollowupAction(TWITCH_CHECK_FORM)]
        if asked in QUESTION_INTENTS:
            topics = [str(e.get("value")) for e in parse.get("entities") or [] if e.get("entity") == TOPIC]
            topics = [t for t in topics if t in KNOWLEDGE_BASE.items]
            return self._answer(dispatcher, tracker, asked, topics, interrupted.get("text") or "")
        dispatcher.utter_message(text=ANYTHING_ELSE, buttons=MAIN_BUTTONS)
        return []
