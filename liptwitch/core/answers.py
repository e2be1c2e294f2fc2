"""Choosing and rendering answers from the knowledge base. Pure Python: no Rasa here.

A question is an intent plus the knowledge-base ids of the topics it names. The conversation's
context (what was answered last) fills in what a follow-up leaves out: "how do I treat that?"
after a cause, or "what about stress?" after the list of causes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from liptwitch.core.knowledge_base import Item, KnowledgeBase
from liptwitch.core.text import normalise
from liptwitch.vocabulary import (
    ASK_ABOUT,
    ASK_CAUSE,
    ASK_DEFINITION,
    ASK_DURATION,
    ASK_MORE,
    ASK_QUESTIONS,
    ASK_SEE_DOCTOR,
    ASK_SERIOUS,
    ASK_SUMMARY,
    ASK_SYMPTOM,
    ASK_TREATMENT,
    ASK_WARNING_SIGNS,
    RED_FLAG_INTENT_PREFIX,  # noqa: F401  (the actions and components import it from here too)
)
from liptwitch.vocabulary import (
    CHECK_MY_TWITCHING as CHECK_INTENT,
)
from liptwitch.vocabulary import TOPIC as TOPIC_ENTITY

# Intents answered from the knowledge base, and what each one asks about.
TOPIC_INTENTS = {
    ASK_DEFINITION: "definition",
    ASK_SERIOUS: "seriousness",
    ASK_SEE_DOCTOR: "see_doctor",
    ASK_SUMMARY: "summary",
    ASK_DURATION: "duration_frequency",
    ASK_WARNING_SIGNS: "warning_signs",
}
KIND_INTENTS = {ASK_CAUSE: "cause", ASK_SYMPTOM: "symptom", ASK_TREATMENT: "treatment"}
QUESTION_INTENTS = (*TOPIC_INTENTS, *KIND_INTENTS, ASK_ABOUT, ASK_MORE, ASK_QUESTIONS)

# A paragraph break in markdown that Rasa's channels do not split into separate messages (they split
# text on a blank line, "\n\n"): a line holding one space is blank to markdown, not to Rasa.
PARAGRAPH = "\n \n"
MAX_TOPICS_PER_ANSWER = 3
SAFETY_NET_PREFIX = "\u2695\ufe0f "  # the medical symbol marks the "see a doctor if..." line
# What the person reads when something fails on the assistant's side, or their message cannot be read as it
# is: never silence, and never without the one thing that matters if it is an emergency.
APOLOGY = ("Sorry, something went wrong on my side and I couldn't answer. Please try again in a moment. If you "
           "think this is an emergency, call your local emergency number now.")
NOT_TEXT = ("Sorry, I can only read typed messages. Please type your question. If you think this is an emergency, "
            "call your local emergency number now.")
# Said before the first answer of a conversation (the greeting response says it too).
INTRO = ("I'm the Lip Twitch Guide. I can tell you about the causes, symptoms and treatment of lip "
         "twitching and when to see a doctor. I share general information, not a diagnosis.")


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


def ask(intent: str, topic: str | None = None) -> str:
    """The payload of a button that asks `intent` (about `topic`), as Rasa reads it."""
    if topic is None:
        return f"/{intent}"
    return f"/{intent}{json.dumps({TOPIC_ENTITY: topic})}"


# The natural next questions, as quick replies. Titles are what the person would say.
WHAT_CAUSES_IT = Button("What causes it?", ask(ASK_CAUSE))
HOW_TO_STOP_IT = Button("How do I stop it?", ask(ASK_TREATMENT))
IS_IT_SERIOUS = Button("Is it serious?", ask(ASK_SERIOUS))
WHEN_TO_SEE_A_DOCTOR = Button("When should I see a doctor?", ask(ASK_SEE_DOCTOR))
SYMPTOMS = Button("What are the symptoms?", ask(ASK_SYMPTOM))
TELL_ME_MORE = Button("Tell me more", ask(ASK_MORE))
CHECK_MY_TWITCHING = Button("Check my twitching", f"/{CHECK_INTENT}")  # the guided check

_NEXT_AFTER_TOPIC = {
    "definition": (WHAT_CAUSES_IT, HOW_TO_STOP_IT, IS_IT_SERIOUS),
    "seriousness": (CHECK_MY_TWITCHING, WHEN_TO_SEE_A_DOCTOR, WHAT_CAUSES_IT),
    "see_doctor": (IS_IT_SERIOUS, WHAT_CAUSES_IT, HOW_TO_STOP_IT),
    "summary": (WHAT_CAUSES_IT, HOW_TO_STOP_IT, WHEN_TO_SEE_A_DOCTOR),
    "warning_signs": (WHEN_TO_SEE_A_DOCTOR, IS_IT_SERIOUS, WHAT_CAUSES_IT),
}
_NEXT_AFTER_LIST = {
    "cause": (HOW_TO_STOP_IT, IS_IT_SERIOUS, SYMPTOMS),
    "symptom": (WHAT_CAUSES_IT, IS_IT_SERIOUS, HOW_TO_STOP_IT),
    "treatment": (WHAT_CAUSES_IT, WHEN_TO_SEE_A_DOCTOR, IS_IT_SERIOUS),
}
_LIST_NAMES = {"cause": "causes", "symptom": "symptoms", "treatment": "treatments"}
_LIST_OUTRO = "Ask me about any of them."


@dataclass(frozen=True)
class Context:
    """What the previous answer was about."""

    topics: tuple[str, ...] = ()
    kind: str | None = None
    listed: bool = False  # the previous answer was a list of every item of `kind`


@dataclass
class Reply:
    text: str
    buttons: list[Button] = field(default_factory=list)
    kb_ids: list[str] = field(default_factory=list)

    def custom(self, **extra: object) -> dict[str, object]:
        """The machine-readable payload sent with the reply."""
        return {"kb_ids": list(self.kb_ids), **extra}


class Answerer:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    # --- choosing ------------------------------------------------------------------------------

    def respond(self, intent: str, topic_ids: list[str], context: Context | None = None,
                refers_back: bool = True, position: int | None = None) -> tuple[Reply | None, Context]:
        """The reply to `intent` about `topic_ids` (knowledge-base ids), and the context it leaves.

        `refers_back` says the question points at the previous answer ("how do I treat *that*?",
        see `refers_back()`); without it, "what are the causes?" gets every cause whatever came before.
        `position` is a place in what was just listed ("the third one": 3, "the last one": -1).
        The reply is None when the question cannot be answered as asked ("what about it?" with
        nothing to refer to): the caller asks the person to say it another way.
        """
        context = context or Context()
        topics = [self.kb.get(t) for t in dict.fromkeys(topic_ids) if t in self.kb.items]
        topics = topics[:MAX_TOPICS_PER_ANSWER]
        if intent in TOPIC_INTENTS:
            return self._items([self.kb.get(TOPIC_INTENTS[intent])])
        if intent in KIND_INTENTS:
            return self._about_kind(KIND_INTENTS[intent], topics, context if refers_back else Context())
        if intent == ASK_ABOUT:
            if position is not None:  # "the last one": a place in the list, even if "last" names a topic
                topics = self._at_position(context, position) or topics
            return self._follow_up(topics, context)
        if intent == ASK_MORE:
            return self._more(context)
        raise ValueError(f"'{intent}' is not a knowledge-base question (known: {', '.join(QUESTION_INTENTS)})")

    def _about_kind(self, kind: str, topics: list[Item], context: Context) -> tuple[Reply, Context]:
        if not topics and not context.listed and context.topics:
            # "how do I treat that?" / "what causes that?": the question is about the last answer.
            topics = [self.kb.get(t) for t in context.topics]
            topics = [t for t in topics if t.kind != "topic"]
            wanted = self._as_kind(topics, kind)
            if wanted and [t.id for t in wanted] != list(context.topics):
                return self._items(wanted)
            return self._list(kind)
        wanted = self._as_kind(topics, kind)
        return self._items(wanted) if wanted else self._list(kind)

    def _as_kind(self, topics: list[Item], kind: str) -> list[Item]:
        """The items of `kind` the topics stand for: a cause stands for its treatment and back."""
        wanted: list[Item] = []
        for topic in topics:
            if topic.kind == kind:
                wanted.append(topic)
            elif {topic.kind, kind} == {"cause", "treatment"}:
                wanted.extend(self.kb.related_of_kind(topic.id, kind)[:1])
        return list(dict.fromkeys(wanted))

    def _at_position(self, context: Context, position: int) -> list[Item]:
        """The item at `position` (1-based, -1 the last) of the list just shown, or of the items just answered."""
        shown = self.kb.of_kind(context.kind) if context.listed and context.kind else \
            [self.kb.get(t) for t in context.topics if t in self.kb.items]
        index = position - 1 if position > 0 else len(shown) + position
        return [shown[index]] if 0 <= index < len(shown) and len(shown) > 1 else []

    def _follow_up(self, topics: list[Item], context: Context) -> tuple[Reply | None, Context]:
        if not topics:
            if context.listed and context.kind:
                return self._menu(context.kind)
            return None, context
        if context.kind == "treatment":
            # After treatments, "what about caffeine?" asks how to deal with caffeine.
            return self._items(self._as_kind(topics, "treatment") or topics)
        return self._items(topics)

    def _more(self, context: Context) -> tuple[Reply, Context]:
        if context.listed and context.kind:
            return self._menu(context.kind)
        if not context.topics:
            return self._items([self.kb.get("summary")], full=True)
        return self._items([self.kb.get(t) for t in context.topics], full=True)

    # --- rendering ------------------------------------------------------------------------------

    def _items(self, items: list[Item], full: bool = False) -> tuple[Reply, Context]:
        blocks = [render_item(item, full=full) for item in items]
        reply = Reply(text=PARAGRAPH.join(blocks), buttons=self._next_after_items(items, full),
                      kb_ids=[item.id for item in items])
        return reply, Context(topics=tuple(reply.kb_ids), kind=items[0].kind, listed=False)

    def _next_after_items(self, items: list[Item], full: bool) -> list[Button]:
        first = items[0]
        if first.kind == "topic":
            buttons = list(_NEXT_AFTER_TOPIC.get(first.id, (WHAT_CAUSES_IT, HOW_TO_STOP_IT, IS_IT_SERIOUS)))
        elif first.kind == "cause":
            buttons = [Button("How do I treat it?", ask(ASK_TREATMENT, first.id)),
                       WHEN_TO_SEE_A_DOCTOR if full else TELL_ME_MORE, Button("Other causes", ask(ASK_CAUSE))]
        elif first.kind == "treatment":
            buttons = [WHEN_TO_SEE_A_DOCTOR if full else TELL_ME_MORE,
                       Button("Other treatments", ask(ASK_TREATMENT)), WHAT_CAUSES_IT]
        else:
            buttons = [WHAT_CAUSES_IT, IS_IT_SERIOUS, Button("Other symptoms", ask(ASK_SYMPTOM))]
        return buttons[:3]

    def _list(self, kind: str) -> tuple[Reply, Context]:
        items = self.kb.of_kind(kind)
        lines = [self.kb.list_intros.get(kind, f"The {_LIST_NAMES[kind]} of lip twitching:")]
        lines += [f"\u2022 **{item.title}**: {item.gist}" for item in items]
        text = "  \n".join(lines) + f"{PARAGRAPH}{_LIST_OUTRO}"
        reply = Reply(text=text, buttons=list(_NEXT_AFTER_LIST[kind]), kb_ids=[item.id for item in items])
        return reply, Context(topics=(), kind=kind, listed=True)

    def _menu(self, kind: str) -> tuple[Reply, Context]:
        items = self.kb.of_kind(kind)
        buttons = [Button(item.title, ask(ASK_ABOUT, item.id)) for item in items]
        reply = Reply(text=f"Which of the {_LIST_NAMES[kind]} would you like to know more about?",
                      buttons=buttons, kb_ids=[item.id for item in items])
        return reply, Context(topics=(), kind=kind, listed=True)


_REFERRING_WORDS = {"that", "this", "those", "these", "them", "one"}
# "so what should I do?" after one cause asks what to do about that cause.
_WHAT_NOW = re.compile(r"\b(what (should|can|do|could) (i|we) do|so what|what now|what then|what do i do)\b")


def refers_back(text: str, intent: str) -> bool:
    """Does the question point at the previous answer? "how do I treat that?", "how do I stop it?"

    "it" counts for treatments only: after a cause, "how do I stop it?" means that cause, while
    "what causes it?" means lip twitching in general.
    """
    normalised = normalise(text)
    words = set(normalised.split())
    return bool(words & _REFERRING_WORDS) or (intent == ASK_TREATMENT and (
        bool(words & {"it", "its"}) or bool(_WHAT_NOW.search(normalised))))


def render_item(item: Item, full: bool = False) -> str:
    """An item as markdown: its title, its short answer (or the fuller one), the safety net."""
    text = f"**{item.title}**  \n{item.details if full else item.short}"
    if item.see_doctor_if:
        text += f"{PARAGRAPH}{SAFETY_NET_PREFIX}{item.see_doctor_if}"
    return text
