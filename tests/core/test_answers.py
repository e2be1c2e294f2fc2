"""Choosing and rendering answers: focused, with a safety net and next questions, keeping context."""

from __future__ import annotations

import json

import pytest

from liptwitch.core.answers import (
    ASK_ABOUT,
    ASK_CAUSE,
    ASK_DEFINITION,
    ASK_DURATION,
    ASK_MORE,
    ASK_SEE_DOCTOR,
    ASK_SERIOUS,
    ASK_SYMPTOM,
    ASK_TREATMENT,
    SAFETY_NET_PREFIX,
    Answerer,
    Context,
    ask,
    refers_back,
    render_item,
)


@pytest.fixture(scope="module")
def answerer(kb):
    return Answerer(kb)


def test_a_question_about_one_cause_gets_that_cause_only(answerer, kb):
    reply, context = answerer.respond(ASK_CAUSE, ["caffeine"])
    assert reply.kb_ids == ["caffeine"]
    assert kb.get("caffeine").title in reply.text
    for other in ("stress", "fatigue", "nutrition", "medication", "neurological"):
        assert kb.get(other).title not in reply.text
    assert context == Context(topics=("caffeine",), kind="cause", listed=False)


def test_a_focused_answer_is_short(answerer):
    reply, _ = answerer.respond(ASK_CAUSE, ["stress"])
    assert len(reply.text) < 600


def test_the_list_of_causes_names_all_six(answerer, kb):
    reply, context = answerer.respond(ASK_CAUSE, [])
    causes = kb.of_kind("cause")
    assert len(causes) == 6
    assert reply.kb_ids == [c.id for c in causes]
    for cause in causes:
        assert cause.title in reply.text
    assert context.listed and context.kind == "cause"


@pytest.mark.parametrize("intent, expected", [
    (ASK_DEFINITION, "definition"), (ASK_SERIOUS, "seriousness"),
    (ASK_SEE_DOCTOR, "see_doctor"), (ASK_DURATION, "duration_frequency"),
])
def test_general_questions_get_their_topic(answerer, intent, expected):
    reply, _ = answerer.respond(intent, [])
    assert reply.kb_ids == [expected]


def test_how_do_i_treat_that_after_a_cause_gives_its_treatment(answerer):
    _, context = answerer.respond(ASK_CAUSE, ["caffeine"])
    reply, context = answerer.respond(ASK_TREATMENT, [], context)
    assert reply.kb_ids == ["reducing_stimulants"]
    assert context.kind == "treatment"


def test_what_about_stress_after_the_list_of_causes_answers_the_cause(answerer):
    _, context = answerer.respond(ASK_CAUSE, [])
    reply, _ = answerer.respond(ASK_ABOUT, ["stress"], context)
    assert reply.kb_ids == ["stress"]


def test_what_about_a_cause_after_treatments_gives_its_treatment(answerer):
    _, context = answerer.respond(ASK_TREATMENT, [])
    reply, _ = answerer.respond(ASK_ABOUT, ["fatigue"], context)
    assert reply.kb_ids == ["improving_sleep"]


def test_treatment_for_a_named_cause(answerer):
    reply, _ = answerer.respond(ASK_TREATMENT, ["nutrition"])
    assert reply.kb_ids == ["dietary_changes"]


def test_what_are_the_causes_after_a_cause_lists_them_all(answerer, kb):
    _, context = answerer.respond(ASK_CAUSE, ["caffeine"])
    reply, _ = answerer.respond(ASK_CAUSE, [], context, refers_back("what are the causes then", ASK_CAUSE))
    assert len(reply.kb_ids) == 6


@pytest.mark.parametrize("text, intent, expected", [
    ("how do i treat that?", ASK_TREATMENT, True), ("how do i stop it", ASK_TREATMENT, True),
    ("what causes that", ASK_CAUSE, True), ("what causes it", ASK_CAUSE, False),
    ("what are the treatments", ASK_TREATMENT, False), ("what are the causes", ASK_CAUSE, False),
])
def test_refers_back(text, intent, expected):
    assert refers_back(text, intent) is expected


def test_what_causes_that_after_a_treatment_gives_its_cause(answerer):
    _, context = answerer.respond(ASK_TREATMENT, ["stress_management"])
    reply, _ = answerer.respond(ASK_CAUSE, [], context)
    assert reply.kb_ids == ["stress"]


def test_how_to_stop_it_without_context_lists_every_treatment(answerer, kb):
    reply, _ = answerer.respond(ASK_TREATMENT, [])
    assert reply.kb_ids == [t.id for t in kb.of_kind("treatment")]


def test_one_symptom_and_all_symptoms(answerer, kb):
    reply, _ = answerer.respond(ASK_SYMPTOM, ["discomfort"])
    assert reply.kb_ids == ["discomfort"]
    assert "not usually painful" in reply.text
    reply, _ = answerer.respond(ASK_SYMPTOM, [])
    assert reply.kb_ids == [s.id for s in kb.of_kind("symptom")]


def test_two_topics_in_one_question_get_both(answerer):
    reply, _ = answerer.respond(ASK_CAUSE, ["stress", "caffeine"])
    assert reply.kb_ids == ["stress", "caffeine"]


def test_tell_me_more_gives_the_fuller_explanation(answerer, kb):
    short, context = answerer.respond(ASK_CAUSE, ["nutrition"])
    more, _ = answerer.respond(ASK_MORE, [], context)
    assert more.kb_ids == ["nutrition"]
    assert kb.get("nutrition").details in more.text
    assert more.text != short.text


def test_tell_me_more_after_a_list_offers_each_item(answerer, kb):
    _, context = answerer.respond(ASK_SYMPTOM, [])
    reply, _ = answerer.respond(ASK_MORE, [], context)
    assert [b.payload for b in reply.buttons] == [ask(ASK_ABOUT, s.id) for s in kb.of_kind("symptom")]


def test_what_about_without_a_topic_or_list_has_no_answer(answerer):
    reply, context = answerer.respond(ASK_ABOUT, [], Context(topics=("stress",), kind="cause"))
    assert reply is None  # the action asks to rephrase
    assert context.topics == ("stress",)


def test_answers_that_matter_carry_a_see_a_doctor_line(answerer, kb):
    reply, _ = answerer.respond(ASK_CAUSE, ["neurological"])
    assert SAFETY_NET_PREFIX + kb.get("neurological").see_doctor_if in reply.text
    reply, _ = answerer.respond(ASK_CAUSE, ["medication"])
    assert "never stop a prescribed medicine" in reply.text


def test_every_answer_offers_two_or_three_next_questions(answerer, kb):
    intents = [ASK_DEFINITION, ASK_SERIOUS, ASK_SEE_DOCTOR, ASK_CAUSE, ASK_SYMPTOM, ASK_TREATMENT]
    replies = [answerer.respond(intent, [])[0] for intent in intents]
    replies += [answerer.respond(ASK_ABOUT, [item.id])[0] for item in kb.items.values()]
    for reply in replies:
        assert 2 <= len(reply.buttons) <= 3, reply.text
        for button in reply.buttons:
            assert button.payload.startswith(("/ask_", "/check_my_twitching"))


def test_is_it_serious_offers_the_guided_check(answerer):
    reply, _ = answerer.respond(ASK_SERIOUS, [])
    assert reply.buttons[0].payload == "/check_my_twitching"


def test_a_cause_offers_its_treatment_as_a_quick_reply(answerer):
    reply, _ = answerer.respond(ASK_CAUSE, ["caffeine"])
    payloads = [b.payload for b in reply.buttons]
    assert '/ask_treatment{"topic": "caffeine"}' in payloads


def test_button_payloads_are_rasa_intent_commands_with_the_topic():
    payload = ask(ASK_TREATMENT, "caffeine")
    intent, entities = payload[1:].split("{", 1)
    assert intent == ASK_TREATMENT
    assert json.loads("{" + entities) == {"topic": "caffeine"}


def test_custom_payload_lists_the_ids_used(answerer):
    reply, _ = answerer.respond(ASK_CAUSE, ["fatigue"])
    assert reply.custom(intent=ASK_CAUSE) == {"kb_ids": ["fatigue"], "intent": ASK_CAUSE}


def test_render_item_uses_markdown_title_and_short_answer(kb):
    item = kb.get("stress")
    text = render_item(item)
    assert text.startswith(f"**{item.title}**  \n{item.short}")  # a markdown line break
    assert "\n\n" not in render_item(kb.get("neurological"))  # one message: channels split on blank lines


def test_unknown_intent_is_refused(answerer):
    with pytest.raises(ValueError, match="not a knowledge-base question"):
        answerer.respond("greet", [])


def test_unknown_topic_ids_are_ignored(answerer):
    reply, _ = answerer.respond(ASK_CAUSE, ["no_such_topic"])
    assert len(reply.kb_ids) == 6  # the list of causes, not an error
