"""One reply to everything a message asks: the fear first, the person's own triggers, every question, the offer."""

from __future__ import annotations

import pytest

from liptwitch.core.answers import Context
from liptwitch.core.composer import OFFER, OFFER_SOMEONE, Composer, answers_as_a_whole, intent_from_reading
from liptwitch.core.knowledge_base import load_knowledge_base
from liptwitch.core.message_reader import MessageReader
from liptwitch.vocabulary import ASK_QUESTIONS, ASK_TREATMENT, CHECK_MY_TWITCHING

LONG_POST = ("hey so ive had this twitch in my bottom lip for like 4 days now, its driving me mad. i'm a student "
             "with exams and barely sleeping, drinking loads of energy drinks. is it something serious like ALS?? "
             "what can i do")


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base()


@pytest.fixture(scope="module")
def compose(kb):
    reader, composer = MessageReader(kb), Composer(kb)

    def run(text, context=None, offer_check=True):
        return composer.compose(reader.read(text), context, offer_check)
    return run


def test_the_fear_comes_first_then_the_triggers_in_their_words_then_what_helps(compose, kb):
    reply, context = compose(LONG_POST)
    assert reply.kb_ids[0] == "fear_als"
    assert reply.text.startswith(f"**{kb.get('fear_als').title}**")
    assert "You mention exams, barely sleeping and loads of energy drinks: all three are common triggers" in reply.text
    assert {"stress", "fatigue", "caffeine"} <= set(reply.kb_ids)
    assert {"stress_management", "improving_sleep", "reducing_stimulants"} <= set(reply.kb_ids)
    assert reply.text.index("ALS") < reply.text.index("You mention") < reply.text.index("What helps")
    assert OFFER in reply.text and reply.buttons[0].payload == f"/{CHECK_MY_TWITCHING}"
    assert context.kind == "cause"


def test_both_questions_of_one_message_are_answered(compose):
    reply, _ = compose("I drink like 6 cups of coffee a day and my lip twitches, is that related? and what should "
                       "I do?")
    assert reply.kb_ids == ["caffeine", "reducing_stimulants"]


def test_a_question_about_someone_elses_twitching_offers_the_check_for_them(compose):
    reply, _ = compose("my toddler's lip is twitching, should I worry")
    assert "child" in reply.kb_ids and "seriousness" in reply.kb_ids
    assert OFFER_SOMEONE in reply.text


@pytest.mark.parametrize("text, item", [
    ("lip twitching during pregnancy", "pregnancy"),
    ("my lip twitches when I'm cold", "cold"),
    ("is it normal for my lip to twitch after the dentist did a filling?", "dental"),
    ("what tests would a doctor do for this?", "tests"),
])
def test_topics_beyond_the_articles_get_their_sourced_item(compose, kb, text, item):
    reply, _ = compose(text)
    assert item in reply.kb_ids
    assert kb.get(item).review == "awaiting clinical review"


def test_so_what_should_i_do_after_one_cause_gets_its_treatment(compose):
    reply, _ = compose("so what should i do?", Context(topics=("nutrition",), kind="cause"))
    assert reply.kb_ids == ["dietary_changes"]


def test_no_offer_during_the_check(compose):
    reply, _ = compose(LONG_POST, offer_check=False)
    assert OFFER not in reply.text
    assert all(b.payload != f"/{CHECK_MY_TWITCHING}" for b in reply.buttons)


def test_one_safety_net_line_however_many_items(compose):
    reply, _ = compose(LONG_POST)
    assert reply.text.count("\u2695") == 1


def test_nothing_to_compose_for_a_message_that_asks_nothing_known(compose):
    assert compose("hello there") is None


@pytest.mark.parametrize("text, model_intent, intent", [
    (LONG_POST, "nlu_fallback", ASK_QUESTIONS),
    ("hey so ive had this twitch in my bottom lip for 4 days, is it ALS?", CHECK_MY_TWITCHING, ASK_QUESTIONS),
    # a question the model placed keeps its intent: the action composes the reply from the reading
    ("I drink like 6 cups of coffee a day, is that related? and what should I do?", ASK_TREATMENT, None),
    ("my dads lip twitches a lot could it be parkinsons", "ask_cause", None),
    ("my lip twitches when I'm cold", "nlu_fallback", ASK_QUESTIONS),
    ("hi, my lip keeps twitching", "greet", CHECK_MY_TWITCHING),
    # one question about twitching the model could not place gets the intent of what it asks
    ("my dads lip has been twitching all week should we be worreid", CHECK_MY_TWITCHING, "ask_serious"),
    ("shuld i be worried about my upper lip twitching", CHECK_MY_TWITCHING, "ask_serious"),
    ("is it permanent or will it pass", "nlu_fallback", "ask_duration"),
    # one plain question: the model's answer stands
    ("how do I stop it?", ASK_TREATMENT, None),
    ("none of these", "deny_signs", None),
    # questions that are not about twitching keep the model's intent
    ("who won the match last night", "out_of_scope", None),
    ("whats a good diet to lose weight", "out_of_scope", None),
    ("whats the best way to get a toddler to sleep through the night", "out_of_scope", None),
    ("is this a real doctor", "bot_challenge", None),
])
def test_which_messages_the_reading_gives_an_intent(kb, text, model_intent, intent):
    assert intent_from_reading(MessageReader(kb).read(text), text, model_intent, Composer(kb)) == intent


@pytest.mark.parametrize("text, whole", [
    (LONG_POST, True),
    ("I drink like 6 cups of coffee a day, is that related? and what should I do?", True),
    ("my dads lip twitches a lot could it be parkinsons", True),
    ("how do I stop it?", False),
    ("what causes lip twitching", False),
])
def test_which_posts_are_answered_as_a_whole(kb, text, whole):
    assert answers_as_a_whole(MessageReader(kb).read(text), Composer(kb)) is whole


def test_wanting_it_to_stop_before_an_event_gets_the_honest_answer_and_what_helps(compose):
    reply, _ = compose("I'm giving a best man speech on Saturday and my lip has twitched all week from nerves. How do "
                       "I make it stop before Saturday?")
    assert "stop_now" in reply.kb_ids
    assert "stress_management" in reply.kb_ids


def test_a_single_answer_to_someone_describing_their_twitching_gets_the_offer(kb):
    from liptwitch.core.answers import Answerer
    from liptwitch.core.composer import with_offer
    reply, _ = Answerer(kb).respond("ask_cause", ["caffeine"])
    offered = with_offer(reply, MessageReader(kb).read("is my lip twitching from the energy drinks?"))
    assert offered.text.endswith(OFFER) and offered.buttons[0].payload == f"/{CHECK_MY_TWITCHING}"
    assert with_offer(reply, MessageReader(kb).read("can energy drinks cause lip twitching?")) is reply


@pytest.mark.parametrize("text, ids", [
    # a supposition is what the question is about, not the person's trigger
    ("if my lip twitch is from anxiety how do i make it stop", ["stress_management"]),
    # a condition someone has is not a fear, and its treatment is the one asked for
    ("my grandad has parkinsons and his lip twitches a lot, what treatmnts are there for that kind of twitching",
     ["medical_interventions"]),
    ("how is lip twitching treated if it turns out to be from something neurological like ms",
     ["medical_interventions"]),
    ("what does a lip twitch actualy look like, does the lip just flicker fast by itself", ["involuntary_movements"]),
    ("I googled and now I'm terrified it's ALS", ["fear_als"]),
])
def test_focused_replies_to_questions_with_a_story_around_them(compose, text, ids):
    reply, _ = compose(text)
    assert reply.kb_ids == ids
