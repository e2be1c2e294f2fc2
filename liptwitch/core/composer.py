"""One reply to everything a message asks, built from knowledge-base items: the fear first, then each question.

A clinician answering a long post answers the fear it names ("Is it ALS?"), uses what the person said ("You
mention exams, little sleep and energy drinks: all three are common triggers") and then answers each question
in turn, with the treatments that match what they described. Every sentence of the reply comes from the
knowledge base; the reply's `kb_ids` list every item used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from liptwitch.core.answers import (
    CHECK_MY_TWITCHING,
    HOW_TO_STOP_IT,
    IS_IT_SERIOUS,
    PARAGRAPH,
    SAFETY_NET_PREFIX,
    WHAT_CAUSES_IT,
    WHEN_TO_SEE_A_DOCTOR,
    Button,
    Context,
    Reply,
)
from liptwitch.core.knowledge_base import Item, KnowledgeBase
from liptwitch.core.message_reader import ASK_ITEMS, FEAR_PREFIX, Question, Reading
from liptwitch.core.text import normalise
from liptwitch.vocabulary import (
    ASK_CAUSE,
    ASK_DEFINITION,
    ASK_DURATION,
    ASK_QUESTIONS,
    ASK_SEE_DOCTOR,
    ASK_SERIOUS,
    ASK_SUMMARY,
    ASK_SYMPTOM,
    ASK_TREATMENT,
    SMALL_TALK_INTENTS,
)
from liptwitch.vocabulary import CHECK_MY_TWITCHING as CHECK_INTENT

# Items every message about lip twitching names ("lip twitching" is the definition's synonym): named, they say
# nothing about what is asked.
_GENERIC_ITEMS = ("definition", "summary")
CHILD = "child"  # the item about a child's twitching, answered whenever the twitching is a child's
_ASKED_ITEMS = ("seriousness", "see_doctor", "warning_signs")  # answered when asked, not whenever named
OFFER = "Would you like me to check your twitching with four quick questions?"
OFFER_SOMEONE = "Would you like me to go through four quick questions about their twitching?"
_NUMBER_WORDS = {3: "three", 4: "four", 5: "five", 6: "six"}
MOST_ITEMS_IN_FULL = 4  # beyond this a reply is too long for a phone: the rest are listed by their gist


@dataclass
class _Plan:
    """The reply being built: blocks of markdown, in order, and the items they used."""

    blocks: list[str] = field(default_factory=list)
    used: list[str] = field(default_factory=list)
    in_full: int = 0

    def uses(self, item_id: str) -> bool:
        return item_id in self.used


class Composer:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def compose(self, reading: Reading, context: Context | None = None, offer_check: bool = True) -> \
            tuple[Reply, Context] | None:
        """The reply to `reading`, or None when it asks nothing the knowledge base can answer."""
        context = context or Context()
        plan = _Plan()
        for fear in self._fears(reading):
            self._add_in_full(plan, fear)
        triggers = [self.kb.get(t) for t in reading.triggers]
        asks = {q.asks for q in reading.questions}
        if triggers and (asks & {"cause", "treatment", "serious", None} or reading.is_long()):
            self._add_triggers(plan, reading, triggers)
        for question in reading.questions:
            self._answer(plan, question, reading, context)
        for item in self.situations(reading):  # "lip twitching in pregnancy", named without a question mark
            self._add_in_full(plan, item)
        if not plan.blocks:
            return None
        items = [self.kb.get(i) for i in plan.used]
        safety_net = next((i.see_doctor_if for i in items if i.see_doctor_if), None)
        if safety_net:
            plan.blocks.append(f"{SAFETY_NET_PREFIX}{safety_net}")
        reply = Reply(text=PARAGRAPH.join(plan.blocks), buttons=self._buttons(items), kb_ids=list(plan.used))
        if offer_check:
            reply = with_offer(reply, reading)
        answered = [i for i in items if i.kind in ("cause", "treatment")] or items
        return reply, Context(topics=tuple(i.id for i in answered), kind=answered[0].kind, listed=False)

    def situations(self, reading: Reading) -> list[Item]:
        """The topics named beyond causes and treatments (a child, pregnancy, the cold...), not the generic ones."""
        named = [*reading.topics, *((CHILD,) if reading.who == "child" and CHILD in self.kb.items else ())]
        return [self.kb.get(t) for t in dict.fromkeys(named) if self.kb.get(t).kind == "topic"
                and t not in _GENERIC_ITEMS and not t.startswith(FEAR_PREFIX) and t not in _ASKED_ITEMS]

    # --- what to say ---------------------------------------------------------------------------------------------

    def _fears(self, reading: Reading) -> list[Item]:
        fears = [self.kb.get(f) for f in reading.fears]
        if not fears and any(q.asks in ("serious", None) and "neurological" in q.topics for q in reading.questions):
            fears = [self.kb.get("neurological")]  # "is it a sign of Parkinson's?"
        return fears

    def _answer(self, plan: _Plan, question: Question, reading: Reading, context: Context) -> None:
        named = [self.kb.get(t) for t in question.topics if t not in _GENERIC_ITEMS]
        if question.asks not in ("symptom", "definition"):
            # "could that be why my lip is jumping": the twitch described, not a question about a symptom
            named = [i for i in named if i.kind != "symptom"] or ([] if question.asks else named)
        named = [i for i in named if not (question.asks == "serious" and i.kind == "cause"
                                          and i.id != "neurological")]  # "should I worry": not the stress item
        situations = [i for i in named if i.kind == "topic" and i.id not in _ASKED_ITEMS
                      and not i.id.startswith(FEAR_PREFIX)]  # fears are answered first, once
        for item in situations:  # "is it normal in pregnancy?": the item about pregnancy answers it
            self._add_in_full(plan, item)
        if situations and question.asks == "serious":
            self._add_in_full(plan, self.kb.get("seriousness"))  # "is it normal for toddlers?": both answer it
        if situations and question.asks in (None, "serious", "cause"):
            return
        asks = question.asks
        if asks == "cause":
            if named:  # "can magnesium cause it?", "could the Botox have caused this?": what they name
                for item in named:
                    self._add_in_full(plan, item)
            elif not reading.triggers:
                self._add_list(plan, "cause")
        elif asks == "treatment":
            self._add_treatments(plan, named, reading, context)
        elif asks == "serious":
            if not reading.fears:  # the fear's own item says how serious it is
                self._add_in_full(plan, self.kb.get("seriousness"))
        elif asks == "stop_now":
            self._add_in_full(plan, self.kb.get("stop_now"))
            if reading.triggers:
                self._add_treatments(plan, [], reading, context)
        elif asks == "symptom":
            symptoms = [i for i in named if i.kind == "symptom"]
            for item in symptoms:  # "what does it look like, does the lip just flicker?": that symptom
                self._add_in_full(plan, item)
            if not symptoms:
                self._add_list(plan, "symptom")
        elif asks in ASK_ITEMS:
            item_id = ASK_ITEMS[asks] if ASK_ITEMS[asks] in self.kb.items else "see_doctor"
            self._add_in_full(plan, self.kb.get(item_id))
        else:
            for item in named:
                if item.id not in _ASKED_ITEMS or not situations:
                    self._add_in_full(plan, item)

    def _add_treatments(self, plan: _Plan, named: list[Item], reading: Reading, context: Context) -> None:
        """What helps: for what the question names, else what the person described, else what was just
        answered ("so what should I do?" after magnesium), else every treatment."""
        sources = named or [self.kb.get(t) for t in reading.triggers] or \
            [self.kb.get(t) for t in context.topics if t in self.kb.items and not context.listed]
        treatments: list[Item] = []
        for item in sources:
            if item.kind == "treatment":
                treatments.append(item)
            elif item.kind == "cause":
                treatments.extend(self.kb.treatments_for(item.id)[:1])
            elif item.id.startswith(FEAR_PREFIX):  # "treatments for twitching from Parkinson's": its cause's
                for cause in self.kb.related_of_kind(item.id, "cause")[:1]:
                    treatments.extend(self.kb.treatments_for(cause.id)[:1])
        treatments = list(dict.fromkeys(treatments))
        if not treatments:
            self._add_list(plan, "treatment")
        elif len(treatments) == 1:
            self._add_in_full(plan, treatments[0])
        else:
            lines = ["What helps with those:"] + [f"\u2022 **{t.title}**: {t.gist}" for t in treatments
                                                  if not plan.uses(t.id)]
            plan.blocks.append("  \n".join(lines))
            plan.used.extend(t.id for t in treatments if not plan.uses(t.id))

    def _add_triggers(self, plan: _Plan, reading: Reading, triggers: list[Item]) -> None:
        words = [reading.trigger_words[t.id] for t in triggers]
        if len(triggers) == 1:
            opening = f"You mention {words[0]}: that is a common trigger of lip twitching."
        else:
            every = "both" if len(triggers) == 2 else f"all {_NUMBER_WORDS.get(len(triggers), len(triggers))}"
            opening = (f"You mention {', '.join(words[:-1])} and {words[-1]}: {every} are common triggers of lip "
                       "twitching.")
        lines = [opening] + [f"\u2022 **{t.title}**: {t.gist}" for t in triggers]
        plan.blocks.append("  \n".join(lines))
        plan.used.extend(t.id for t in triggers if not plan.uses(t.id))

    def _add_in_full(self, plan: _Plan, item: Item) -> None:
        if plan.uses(item.id):
            return
        if plan.in_full >= MOST_ITEMS_IN_FULL:
            text = f"\u2022 **{item.title}**" + (f": {item.gist}" if item.gist else "")
        else:
            text = f"**{item.title}**  \n{item.short}"
            plan.in_full += 1
        plan.blocks.append(text)
        plan.used.append(item.id)

    def _add_list(self, plan: _Plan, kind: str) -> None:
        items = [i for i in self.kb.of_kind(kind) if not plan.uses(i.id)]
        if not items:
            return
        intro = self.kb.list_intros.get(kind, f"The {kind}s of lip twitching:")
        plan.blocks.append("  \n".join([intro] + [f"\u2022 **{i.title}**: {i.gist}" for i in items]))
        plan.used.extend(i.id for i in items)

    @staticmethod
    def _buttons(items: list[Item]) -> list[Button]:
        kinds = {i.kind for i in items}
        buttons = [b for b, shown in ((HOW_TO_STOP_IT, "treatment" in kinds), (WHAT_CAUSES_IT, "cause" in kinds),
                                      (IS_IT_SERIOUS, "seriousness" in {i.id for i in items}))
                   if not shown]
        return [WHEN_TO_SEE_A_DOCTOR, *buttons][:3]


# What the reader can tell a question asks that the NLU model has no intent for.
_READER_ONLY_ASKS = ("stop_now", "difference", "tests")
# The intent that asks what a question asks, where the NLU model has one.
ASK_INTENTS = {"cause": ASK_CAUSE, "treatment": ASK_TREATMENT, "serious": ASK_SERIOUS, "duration": ASK_DURATION,
               "see_doctor": ASK_SEE_DOCTOR, "definition": ASK_DEFINITION, "summary": ASK_SUMMARY,
               "symptom": ASK_SYMPTOM, "looks": ASK_SYMPTOM}
# The model's intents that mean it could not place the message, or placed it as small talk or the check: the
# reading is trusted over them only for a message about twitching.
_NOT_PLACED = ("nlu_fallback", *SMALL_TALK_INTENTS, CHECK_INTENT)
_ABOUT_TWITCHING = re.compile(r"\b(lip|lips|mouth|twitch\w*|spasm\w*|fascicul\w*|flicker\w*|quiver\w*|jump\w*|"
                              r"tic|tics)\b")


def answers_as_a_whole(reading: Reading, composer: Composer) -> bool:
    """A post the composer answers (several questions, a fear named, the person's triggers with a question, a long
    message with a question, a question the model has no intent for, a topic the articles do not cover)."""
    return bool(len(reading.questions) >= 2 or reading.fears or (reading.triggers and reading.questions)
                or any(t.startswith(FEAR_PREFIX) for q in reading.questions for t in q.topics)
                or any(q.asks in _READER_ONLY_ASKS for q in reading.questions)
                or (reading.is_long() and reading.questions) or composer.situations(reading)) \
        and composer.compose(reading) is not None


def intent_from_reading(reading: Reading, text: str, model_intent: str, composer: Composer) -> str | None:
    """The intent a message gets from what the reader found in it, or None to keep the model's.

    Only where the model could not place a message about twitching, or placed it as small talk or the guided check:
    one question gets the intent of what it asks, a post that asks more (or a fear, or a topic the articles do not
    cover) gets ASK_QUESTIONS, and a message that only describes twitching starts the guided check. A question the
    model did place keeps its intent: the action composes the reply from the reading when the post needs it
    (`answers_as_a_whole`). Off-topic messages keep the model's intent.
    """
    if model_intent not in _NOT_PLACED:
        return None
    about_twitching = bool(_ABOUT_TWITCHING.search(normalise(text)) or reading.fears)
    asks_something = any(q.asks for q in reading.questions)
    if not about_twitching and (model_intent != "nlu_fallback" or not asks_something):
        # "who won the match last night", "is this a real doctor": not about twitching; but "is it permanent or will
        # it pass", which the model could not place, asks about it
        return None
    if reading.questions:
        asked = {ASK_INTENTS.get(q.asks) for q in reading.questions}
        if len(asked) == 1 and None not in asked and not reading.fears and not composer.situations(reading):
            return asked.pop()  # one thing asked: its intent, whatever the story around it
        return ASK_QUESTIONS if composer.compose(reading) is not None else None
    if composer.situations(reading) and composer.compose(reading) is not None:
        return ASK_QUESTIONS  # "lip twitching during pregnancy", said without a question mark
    if reading.describes_twitching and model_intent != CHECK_INTENT:
        return CHECK_INTENT  # "hi, my lip keeps twitching": never small talk
    return None


def with_offer(reply: Reply, reading: Reading) -> Reply:
    """The reply, with the guided check offered after it when the message describes someone's twitching: offered,
    never imposed, and only after the question is answered."""
    if not reading.describes_twitching or any(b.payload == CHECK_MY_TWITCHING.payload for b in reply.buttons):
        return reply
    offer = OFFER if reading.who == "me" else OFFER_SOMEONE
    return Reply(text=f"{reply.text}{PARAGRAPH}{offer}", buttons=[CHECK_MY_TWITCHING, *reply.buttons][:3],
                 kb_ids=reply.kb_ids)
