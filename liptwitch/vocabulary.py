"""The names that bind the Python code to domain.yml: intents, entities, slots, forms, actions, the responses the
code sends by name, and the triage levels.

Written once here and imported wherever a name is needed; tests/test_vocabulary.py checks every one against
domain.yml, so a renamed intent or slot fails a test instead of silently never matching. Imports nothing.
"""

from __future__ import annotations

# --- triage levels (../shared/clinical/TRIAGE.md), most serious first ------------------------------------------
EMERGENCY, CRISIS, URGENT, ROUTINE = "emergency", "crisis", "urgent", "routine"
TRIAGE_LEVELS = (EMERGENCY, CRISIS, URGENT, ROUTINE)
IMMEDIATE_LEVELS = (EMERGENCY, CRISIS)  # advice that cannot wait for anything else in the reply

# --- intents ---------------------------------------------------------------------------------------------------
GREET, GOODBYE, THANK, BOT_CHALLENGE, OUT_OF_SCOPE, STOP = (
    "greet", "goodbye", "thank", "bot_challenge", "out_of_scope", "stop")
ASK_DEFINITION = "ask_definition"
ASK_SERIOUS = "ask_serious"
ASK_SEE_DOCTOR = "ask_see_doctor"
ASK_SUMMARY = "ask_summary"
ASK_DURATION = "ask_duration"
ASK_WARNING_SIGNS = "ask_warning_signs"  # "what are the signs of a stroke?": informs, does not alarm
ASK_CAUSE = "ask_cause"
ASK_SYMPTOM = "ask_symptom"
ASK_TREATMENT = "ask_treatment"
ASK_ABOUT = "ask_about"  # "what about stress?": a topic whose meaning depends on the context
ASK_MORE = "ask_more"  # "tell me more": the fuller explanation of what was just answered
ASK_QUESTIONS = "ask_questions"  # set by the message reader: a post with questions, a fear or context, answered as one
CHECK_MY_TWITCHING = "check_my_twitching"  # starts the guided check
UNCLEAR_SYMPTOM = "unclear_symptom"  # a change in the face or body too vague to place: the safety-net question
DENY_SIGNS = "deny_signs"  # "none of these", the answer to the safety-net question
FEEDBACK = "feedback"  # 👍 or 👎 on an answer: set only by the buttons' payloads (entity VERDICT)

RED_FLAG_INTENT_PREFIX = "red_flag_"


def red_flag_intent(level: str) -> str:
    """The intent a message describing a red flag of `level` gets: "red_flag_emergency"..."""
    return RED_FLAG_INTENT_PREFIX + level


RED_FLAG_INTENTS = tuple(red_flag_intent(level) for level in TRIAGE_LEVELS)
SMALL_TALK_INTENTS = (GREET, GOODBYE, THANK, BOT_CHALLENGE, OUT_OF_SCOPE, STOP)

# --- entities ----------------------------------------------------------------------------------------------------
TOPIC = "topic"  # a knowledge-base item id
RED_FLAG = "red_flag"  # a red-flag id (RF01...), set only by the red-flag component
COUNTRY = "country"  # an ISO country code, from the channel's metadata
VERDICT = "verdict"  # a feedback's verdict, "helpful" or "not_helpful" (actions/feedback.py)
SAFETY_QUESTION = "safety_question"  # the safety-net question to ask (a knowledge-base id), entity and slot

# --- slots -------------------------------------------------------------------------------------------------------
CHECK_LOCATION = "check_location"
CHECK_DURATION_DAYS = "check_duration_days"
CHECK_FREQUENCY = "check_frequency"
CHECK_FACE, CHECK_ARM, CHECK_SPEECH = "check_face", "check_arm", "check_speech"  # the FAST questions
FAST_SLOTS = (CHECK_FACE, CHECK_ARM, CHECK_SPEECH)
CHECK_SLOTS = (CHECK_LOCATION, CHECK_DURATION_DAYS, CHECK_FREQUENCY, *FAST_SLOTS)  # in the order the check asks
HANDED_OFF = "handed_off"  # the levels already handed off in this conversation
FEEDBACK_SLOT = "feedback"  # the latest feedback: its verdict and the knowledge-base ids of the answer it is about
RED_FLAGS = "red_flags"  # the red-flag ids of the latest escalation
CONTEXT_TOPICS, CONTEXT_KIND, CONTEXT_LISTED = "context_topics", "context_kind", "context_listed"  # the last answer
REQUESTED_SLOT = "requested_slot"  # Rasa's own: the form's current question

# --- forms, actions and the responses the code sends by name -----------------------------------------------------
TWITCH_CHECK_FORM = "twitch_check_form"
ACTION_ANSWER_QUESTION = "action_answer_question"
ACTION_HAND_OFF = "action_hand_off"
ACTION_RECORD_FEEDBACK = "action_record_feedback"
ACTION_TWITCH_CHECK_OUTCOME = "action_twitch_check_outcome"
VALIDATE_TWITCH_CHECK_FORM = "validate_twitch_check_form"

UTTER_CHECK_START = "utter_check_start"
UTTER_CHECK_DIDNT_UNDERSTAND = "utter_check_didnt_understand"
UTTER_ASK_REPHRASE = "utter_ask_rephrase"
UTTER_FEEDBACK_THANKS = "utter_feedback_thanks"
UTTER_FEEDBACK_WHAT_WAS_MISSING = "utter_feedback_what_was_missing"
UTTER_SAFETY_NET = "utter_safety_net"
UTTER_EMERGENCY = "utter_emergency"
UTTER_ROUTINE = "utter_routine"
