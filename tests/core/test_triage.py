"""How the two nets' readings come to a decision (liptwitch/core/triage.py): escalate, ask first, or answer."""

from __future__ import annotations

import pytest

from liptwitch.core.red_flags import Assessment, Clause
from liptwitch.core.safety_net import NetReading
from liptwitch.core.triage import ASK_AT, ESCALATE_AT, clauses_to_read, decide

NOTHING = Assessment(level=None, red_flags=(), findings=())
REPORT = Clause(text="my mouth went slack on one side", reporting=True)


def net(red_flag: str | None, level: str | None, confidence: float) -> NetReading:
    return NetReading(red_flag=red_flag, level=level, confidence=confidence, harmless=1 - confidence)


def test_the_detector_decides_unless_the_net_is_sure_of_a_higher_level(kb):
    found = Assessment(level="urgent", red_flags=("RF13",), findings=())
    decision = decide(found, [(REPORT, net("RF01", "emergency", ESCALATE_AT - 0.01))], kb)
    assert (decision.level, decision.red_flags, decision.source) == ("urgent", ("RF13",), "detector")
    decision = decide(found, [(REPORT, net("RF01", "emergency", 0.99))], kb)
    assert (decision.level, decision.red_flags, decision.source) == ("emergency", ("RF01",), "net")
    decision = decide(found, [(REPORT, net("RF18", "routine", 0.99))], kb)
    assert decision.level == "urgent"


def test_a_routine_finding_stands_unless_the_net_is_sure_of_an_emergency(kb):
    found = Assessment(level="routine", red_flags=("RF18",), findings=())
    assert decide(found, [(REPORT, net("RF03", "emergency", ASK_AT + 0.01))], kb).level == "routine"
    assert decide(found, [(REPORT, net("RF03", "emergency", ESCALATE_AT + 0.01))], kb).level == "emergency"


def test_an_explained_sign_is_asked_about_never_escalated(kb):
    explained = Clause(text="my mouth was numb from the filling", reporting=True, explained=True)
    decision = decide(NOTHING, [(explained, net("RF01", "emergency", 0.99))], kb)
    assert decision.level is None and decision.question == "fast"


def test_a_sure_net_escalates_at_its_level(kb):
    decision = decide(NOTHING, [(REPORT, net("RF01", "emergency", ESCALATE_AT + 0.01))], kb)
    assert (decision.level, decision.red_flags, decision.source) == ("emergency", ("RF01",), "net")


@pytest.mark.parametrize(("red_flag", "level", "question"), [
    ("RF01", "emergency", "fast"), ("RF22", "emergency", "breathing"), ("RF08", "emergency", "fit"),
    ("RF05", "emergency", "sudden")])
def test_a_less_sure_net_asks_the_question_of_its_row(kb, red_flag, level, question):
    decision = decide(NOTHING, [(REPORT, net(red_flag, level, ASK_AT + 0.01))], kb)
    assert decision.level is None and decision.question == question


def test_an_unsure_net_or_a_routine_row_asks_nothing(kb):
    assert decide(NOTHING, [(REPORT, net("RF01", "emergency", ASK_AT - 0.01))], kb).question is None
    assert decide(NOTHING, [(REPORT, net("RF18", "routine", 0.5))], kb).question is None


def test_a_denied_row_or_a_clause_that_reports_nothing_silences_the_net(kb):
    denied = Clause(text="i've never had a fit", reporting=True, denied=frozenset({"RF08"}))
    assert decide(NOTHING, [(denied, net("RF08", "emergency", 0.99))], kb).level is None
    question = Clause(text="what does a slack mouth mean", reporting=False)
    assert decide(NOTHING, [(question, net("RF01", "emergency", 0.99))], kb).level is None


def test_thoughts_of_self_harm_count_even_in_a_supposition_and_only_a_plain_denial_silences_them(kb):
    supposing = Clause(text="it wouldn't matter if i didn't wake up", reporting=False, denied=frozenset({"RF12"}))
    assert decide(NOTHING, [(supposing, net("RF12", "crisis", 0.9))], kb).level == "crisis"
    denying = Clause(text="i'd never hurt myself", reporting=False, denied=frozenset({"RF12"}), denial=True)
    assert decide(NOTHING, [(denying, net("RF12", "crisis", 0.9))], kb).level is None


def test_the_strongest_clause_decides(kb):
    readings = [(Clause("i've had a twitch for days", True), net(None, None, 0.9)),
                (Clause("now my arm is like jelly", True), net("RF02", "emergency", 0.8))]
    assert decide(NOTHING, readings, kb).red_flags == ("RF02",)


def test_vague_terms_ask_when_the_nets_are_silent(kb):
    found = Assessment(level=None, red_flags=(), findings=(), questions=("breathing",))
    decision = decide(found, [(REPORT, net(None, None, 0.9))], kb)
    assert (decision.question, decision.source) == ("breathing", "terms")


def test_the_whole_message_is_read_too_when_every_clause_reports():
    clauses = (Clause("she got up", True), Clause("her leg gave", True))
    found = Assessment(level=None, red_flags=(), findings=(), clauses=clauses)
    assert [clause.text for clause in clauses_to_read(found)][-1] == "she got up her leg gave"
    denied = Assessment(level=None, red_flags=(), findings=(), clauses=(Clause("no drooping at all", False), REPORT))
    assert len(clauses_to_read(denied)) == 2  # no whole-message reading when a part denies


def test_a_fragment_of_a_word_or_two_is_not_read_alone_but_a_short_message_is():
    found = Assessment(level=None, red_flags=(), findings=(), clauses=(Clause("no weakness at all", False),
                                                                       Clause("do everything", True)))
    assert [clause.text for clause in clauses_to_read(found)] == ["no weakness at all"]
    alone = Assessment(level=None, red_flags=(), findings=(), clauses=(Clause("can't breathe", True),))
    assert [clause.text for clause in clauses_to_read(alone)] == ["can't breathe"]


def test_a_long_clause_is_also_read_in_windows():
    long = Clause("hi so my lip has been twitching for days and tonight the corner of my mouth would not go up", True)
    read = clauses_to_read(Assessment(level=None, red_flags=(), findings=(), clauses=(long,)))
    windows = [clause for clause in read if clause.window]
    assert windows and all(len(c.text.split()) <= 8 for c in windows)
    assert any("corner of my mouth would not go up" in " ".join(c.text for c in windows[i:i + 2])
               for i in range(len(windows)))


def test_thoughts_of_self_harm_get_the_crisis_support_where_another_sign_would_get_the_question(kb):
    decision = decide(NOTHING, [(REPORT, net("RF12", "crisis", ASK_AT + 0.01))], kb)
    assert decision.level == "crisis" and decision.question is None
