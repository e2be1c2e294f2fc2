"""Which "/intent" messages are the assistant's own buttons, taken as commands; any other is a person's text.

Rasa reads a message that starts with "/" as an intent command and skips the NLU pipeline, red-flag checks
included: anyone could send `/red_flag_emergency{"red_flag": ["<b>x</b>"]}` and get the emergency advice,
their own strings in the reply's payload, and a hand-off to the people on call. Here only the payloads the
assistant itself offers pass as commands: a question intent (with, at most, a knowledge-base topic id), the
guided check, the greeting the chat page sends when it opens, and 👍/👎 on an answer (one verdict of two).
Anything else, on one line or several, is read as text, and the NLU pipeline (and the red-flag checks) read it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection

from liptwitch.core.answers import QUESTION_INTENTS
from liptwitch.vocabulary import CHECK_MY_TWITCHING, FEEDBACK, GREET, VERDICT
from liptwitch.vocabulary import TOPIC as TOPIC_ENTITY

OFFERED_INTENTS = frozenset({*QUESTION_INTENTS, CHECK_MY_TWITCHING, GREET, FEEDBACK})
HELPFUL, NOT_HELPFUL = "helpful", "not_helpful"  # the verdicts of the 👍/👎 buttons under an answer
VERDICTS = (HELPFUL, NOT_HELPFUL)
_COMMAND = re.compile(r"/(?P<intent>[a-z_]+)(?P<entities>\{[^\n]*\})?")


def offered_command(text: str, topic_ids: Collection[str]) -> bool:
    """True when `text` is exactly one of the assistant's button payloads."""
    match = _COMMAND.fullmatch(text.strip())
    if match is None or match["intent"] not in OFFERED_INTENTS:
        return False
    if match["entities"] is None:
        return True
    try:
        entities = json.loads(match["entities"])
    except ValueError:
        return False
    if match["intent"] == FEEDBACK:  # 👍/👎: exactly one verdict of the two
        return isinstance(entities, dict) and set(entities) == {VERDICT} and entities[VERDICT] in VERDICTS
    topic = entities.get(TOPIC_ENTITY) if isinstance(entities, dict) and set(entities) == {TOPIC_ENTITY} else None
    return isinstance(topic, str) and topic in topic_ids
