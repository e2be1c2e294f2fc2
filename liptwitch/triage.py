"""What a message's safety reading comes to: escalate, ask the safety-net question first, or answer.

Three readings are combined, most certain first:

1. the red-flag detector (liptwitch/red_flags.py): an affirmed red flag escalates at its level;
2. the learned safety net (liptwitch/safety_net.py), read on each clause that reports something (not a
   denial, a question or the past): sure enough, it escalates at its level; less sure, about an emergency
   or crisis, it earns the safety-net question for that row;
3. the vague changes the knowledge base's safety questions name ("my face feels weird"): the question.

A red flag the detector read as denied in a clause silences the net's reading of that row there: "I've
never had a fit" is not a fit, whatever the words suggest to a bag of n-grams.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from liptwitch.knowledge_base import KnowledgeBase
from liptwitch.red_flags import Assessment, Clause
from liptwitch.safety_net import NetReading

# How sure the net must be (the probability of a level) to escalate on its own, and to ask.
ESCALATE_AT = 0.6
ASK_AT = 0.3
ASKED_LEVELS = ("emergency", "crisis", "urgent")  # a routine row is never worth a question before the answer


@dataclass(frozen=True)
class Decision:
    """`level`: escalate at this level; else `question`: ask this safety-net question first; else neither."""

    level: str | None = None
    red_flags: tuple[str, ...] = ()
    question: str | None = None
    source: str | None = None  # "detector", "net" or "terms": which reading decided
    informational: bool = False  # a question about warning signs, for the knowledge base's answer
    confidence: float = 0.0  # the net's, when it decided


def clauses_to_read(assessment: Assessment) -> list[Clause]:
    """The clauses the net reads: each clause, and the whole message when no part of it is a denial,
    a question or the past (a story's sign can span clauses)."""
    clauses = list(assessment.clauses)
    if len(clauses) > 1 and all(clause.reporting for clause in clauses):
        clauses.append(Clause(text=" ".join(clause.text for clause in clauses), reporting=True))
    return clauses


def decide(assessment: Assessment, readings: Sequence[tuple[Clause, NetReading]], kb: KnowledgeBase,
           escalate_at: float = ESCALATE_AT, ask_at: float = ASK_AT) -> Decision:
    if assessment.level:
        return Decision(level=assessment.level, red_flags=assessment.red_flags, source="detector")
    best = _strongest(readings)
    if best is not None and best.confidence >= escalate_at:
        return Decision(level=best.level, red_flags=(best.red_flag,), source="net", confidence=best.confidence)
    if best is not None and best.confidence >= ask_at and best.level in ASKED_LEVELS:
        question = kb.question_for(best.red_flag)
        if question is not None:
            return Decision(question=question.id, red_flags=(best.red_flag,), source="net",
                            confidence=best.confidence)
    if assessment.questions:
        return Decision(question=assessment.questions[0], source="terms")
    return Decision(informational=assessment.informational)


def _strongest(readings: Sequence[tuple[Clause, NetReading]]) -> NetReading | None:
    heard = [reading for clause, reading in readings if reading.red_flag and _counts(clause, reading)]
    return max(heard, key=lambda reading: reading.confidence, default=None)


def _counts(clause: Clause, reading: NetReading) -> bool:
    if reading.red_flag in clause.denied:
        return False
    # Thoughts of self-harm count even in a question or supposition ("what if I just ended it?").
    return clause.reporting or reading.level == "crisis"
