"""What a message's safety reading comes to: escalate, ask the safety-net question first, or answer.

Three readings are combined, most certain first:

1. the red-flag detector (liptwitch/core/red_flags.py): an affirmed red flag escalates at its level;
2. the learned safety net (liptwitch/core/safety_net.py), read on each clause that reports something (not a
   denial, a question or the past): sure enough, it escalates at its level; less sure, about an emergency
   or crisis, it earns the safety-net question for that row;
3. the vague changes the knowledge base's safety questions name ("my face feels weird"): the question.

A red flag the detector read as denied in a clause silences the net's reading of that row there: "I've
never had a fit" is not a fit, whatever the words suggest to a bag of n-grams.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from liptwitch.core.knowledge_base import KnowledgeBase
from liptwitch.core.red_flags import Assessment, Clause
from liptwitch.core.safety_net import NetReading
from liptwitch.vocabulary import CRISIS, EMERGENCY, TRIAGE_LEVELS, URGENT

# How sure the net must be (the probability of a level) to escalate on its own, and to ask.
ESCALATE_AT = 0.6
ASK_AT = 0.5
ASKED_LEVELS = (EMERGENCY, CRISIS, URGENT)  # a routine row is never worth a question before the answer


@dataclass(frozen=True)
class Decision:
    """`level`: escalate at this level; else `question`: ask this safety-net question first; else neither."""

    level: str | None = None
    red_flags: tuple[str, ...] = ()
    question: str | None = None
    source: str | None = None  # "detector", "net" or "terms": which reading decided
    informational: bool = False  # a question about warning signs, for the knowledge base's answer
    confidence: float = 0.0  # the net's, when it decided


WINDOW_WORDS, WINDOW_STEP = 8, 4
WINDOW_ESCALATE_AT = 0.8  # sure enough: at 0.7 ordinary long posts ("my son is 7 and over the last...") alarmed
FRAGMENT_WORDS = 3  # a long clause is also read in overlapping windows of this many words


def clauses_to_read(assessment: Assessment) -> list[Clause]:
    """What the net reads: each clause; windows of a long clause, so that a sign is not drowned by the story
    around it; and the whole message when no part of it is a denial, a question or the past (a story's sign
    can span clauses)."""
    clauses = list(assessment.clauses)
    if len(clauses) > 1:  # a fragment of a word or two ("do everything") says too little to be read alone
        clauses = [clause for clause in clauses if len(clause.text.split()) >= FRAGMENT_WORDS] or clauses
    windows = []
    for clause in clauses:
        words = clause.text.split()
        if len(words) > WINDOW_WORDS + WINDOW_STEP:
            windows += [replace(clause, text=" ".join(words[start:start + WINDOW_WORDS]), window=True)
                        for start in range(0, len(words) - WINDOW_STEP, WINDOW_STEP)]
    if len(assessment.clauses) > 1 and all(clause.reporting and not clause.explained for clause in assessment.clauses):
        clauses.append(Clause(text=" ".join(clause.text for clause in assessment.clauses), reporting=True))
    return clauses + windows


RANK = {level: len(TRIAGE_LEVELS) - index for index, level in enumerate(TRIAGE_LEVELS)} | {None: 0}


def decide(assessment: Assessment, readings: Sequence[tuple[Clause, NetReading]], kb: KnowledgeBase,
           escalate_at: float = ESCALATE_AT, ask_at: float = ASK_AT, window_escalate_at: float = WINDOW_ESCALATE_AT
           ) -> Decision:
    """The detector's level unless the net is sure of a higher one; then the net's level; then a question.
    A window read out of its clause must be surer to escalate on its own (`window_escalate_at`)."""
    best = _strongest([(clause, reading) for clause, reading in readings if not clause.window])
    window = _strongest([(clause, reading) for clause, reading in readings if clause.window])
    found = assessment.level
    # Thoughts of self-harm get the crisis support as soon as the question would be asked: it holds the crisis
    # lines either way, and "are you having thoughts of ending your life?" is the harder thing to read.
    sure_at = ask_at if best is not None and best.level == CRISIS else escalate_at
    if best is not None and best.confidence >= sure_at and RANK[best.level] > RANK[found]:
        return Decision(level=best.level, red_flags=(best.red_flag,), source="net", confidence=best.confidence)
    if window is not None and window.confidence >= window_escalate_at and RANK[window.level] > RANK[found]:
        return Decision(level=window.level, red_flags=(window.red_flag,), source="net", confidence=window.confidence)
    # Below that, a window (read out of its clause) is worth a question at most.
    if window is not None and (best is None or window.confidence > best.confidence):
        best = window
    if found:
        return Decision(level=found, red_flags=assessment.red_flags, source="detector")
    if best is not None and best.confidence >= ask_at and best.level in ASKED_LEVELS:
        question = kb.question_for(best.red_flag)
        if question is not None:
            return Decision(question=question.id, red_flags=(best.red_flag,), source="net",
                            confidence=best.confidence)
    # A sign said with a certain, harmless cause ("numb from the filling") is worth a question, never an alarm.
    explained = _strongest(readings, explained=True)
    if explained is not None and explained.confidence >= ask_at and explained.level in ASKED_LEVELS:
        question = kb.question_for(explained.red_flag)
        if question is not None:
            return Decision(question=question.id, red_flags=(explained.red_flag,), source="net",
                            confidence=explained.confidence)
    if assessment.questions:
        return Decision(question=assessment.questions[0], source="terms")
    return Decision(informational=assessment.informational)


def _strongest(readings: Sequence[tuple[Clause, NetReading]], explained: bool = False) -> NetReading | None:
    heard = [reading for clause, reading in readings
             if reading.red_flag and _explained(clause, reading) == explained and _counts(clause, reading)]
    return max(heard, key=lambda reading: reading.confidence, default=None)


def _explained(clause: Clause, reading: NetReading) -> bool:
    """Thoughts of self-harm are read even in a clause that says its own harmless cause, but only to ask ("I won't be
    around much longer at this job"); any other sign there reports nothing (`Clause.reporting`)."""
    return clause.explained or (clause.caused and reading.level == CRISIS)


def _counts(clause: Clause, reading: NetReading) -> bool:
    if reading.level == CRISIS:
        # Thoughts of self-harm count even in a question or supposition ("what if I just ended it?", "it
        # wouldn't matter if I didn't wake up"); a plain denial of them silences them ("I'd never..."), and
        # beside any other plain denial ("my english not so good") only a sure reading counts.
        if clause.denial:
            return reading.red_flag not in clause.denied and reading.confidence >= WINDOW_ESCALATE_AT
        return True
    return clause.reporting and reading.red_flag not in clause.denied
