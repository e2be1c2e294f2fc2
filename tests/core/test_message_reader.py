"""The message reader: sentences, every question and what it asks, and the context a person gives."""

from __future__ import annotations

import pytest

from liptwitch.core.guided_check import LIP_ONLY, SPREADING
from liptwitch.core.knowledge_base import load_knowledge_base
from liptwitch.core.message_reader import MessageReader, ordinal_reference, split_questions, split_sentences

LONG_POST = ("hey so ive had this twitch in my bottom lip for like 4 days now, its driving me mad. i'm a student "
             "with exams and barely sleeping, drinking loads of energy drinks. is it something serious like ALS?? "
             "what can i do")


@pytest.fixture(scope="module")
def reader():
    return MessageReader(load_knowledge_base())


def test_a_long_post_gives_its_story_fear_and_both_questions(reader):
    reading = reader.read(LONG_POST)
    assert [q.asks for q in reading.questions] == ["serious", "treatment"]
    assert reading.fears == ("fear_als",)
    assert reading.triggers == ("stress", "fatigue", "caffeine")
    assert reading.trigger_words == {"stress": "exams", "fatigue": "barely sleeping",
                                     "caffeine": "loads of energy drinks"}
    assert reading.duration_days == 4
    assert reading.who == "me"
    assert reading.describes_twitching


def test_sentences_end_at_a_question_mark_even_without_a_space():
    assert split_sentences("is it ALS??what can I do") == ["is it ALS??", "what can I do"]
    assert split_sentences("My lip twitches.\nWhy?") == ["My lip twitches.", "Why?"]


def test_a_second_question_inside_a_sentence_is_found():
    assert split_questions("does coffee cause it, and what should I do?") == ["does coffee cause it",
                                                                               "what should I do?"]
    assert split_questions("is it serious and what can I do") == ["is it serious", "what can I do"]
    assert split_questions("also, how long will it last") == ["also", "how long will it last"]


@pytest.mark.parametrize("text, asks", [
    ("how long does it usually last?", "duration"),
    ("will it ever go away", "duration"),
    ("what can I do about it", "treatment"),
    ("can better sleep habits stop lip spasms", "treatment"),
    ("any tips?", "treatment"),
    ("should I see a doctor?", "see_doctor"),
    ("why does this happen", "cause"),
    ("could it be the coffee?", "cause"),
    ("is that related?", "cause"),
    ("should I be worried", "serious"),
    ("is this normal?", "serious"),
    ("what tests would they do?", "tests"),
    ("what is lip twitching", "definition"),
])
def test_what_a_question_asks(reader, text, asks):
    assert [q.asks for q in reader.read(text).questions] == [asks]


@pytest.mark.parametrize("text", [
    "I wonder if it's the coffee",
    "any advice",
    "not sure if this is stress",
    "so what can I do",
])
def test_indirect_questions_count(reader, text):
    assert len(reader.read(text).questions) == 1


def test_statements_are_not_questions(reader):
    reading = reader.read("My lip has been twitching for a week. I drink a lot of coffee.")
    assert reading.questions == ()
    assert reading.triggers == ("caffeine",)
    assert reading.duration_days == 7


def test_a_cause_the_person_rules_out_is_not_their_trigger(reader):
    assert reader.read("I don't drink coffee at all and I sleep fine but my lip twitches").triggers == ()
    assert reader.read("no caffeine, never have").triggers == ()


def test_a_rate_is_not_how_long(reader):
    assert reader.read("I drink 6 cups of coffee a day and my lip twitches").duration_days is None
    assert reader.read("it's been twitching for a week").duration_days == 7


@pytest.mark.parametrize("text, who", [
    ("my toddler's lip is twitching, should I worry", "child"),
    ("My son is 7 and his top lip twitches while he watches TV", "child"),
    ("my mum's lip keeps twitching", "family"),
    ("my husband says his lip twitches", "partner"),
    ("We had our second baby three weeks ago. My top lip has been twitching all week.", "me"),
    ("my lip twitches", "me"),
])
def test_whose_twitching_it_is(reader, text, who):
    assert reader.read(text).who == who


@pytest.mark.parametrize("text, fear", [
    ("I googled and now I'm terrified it's ALS", "fear_als"),
    ("could this be motor neurone disease", "fear_als"),
    ("is lip twitching a symptom of parkinson's", "fear_ms_parkinsons_stroke"),
    ("I'm scared it's MS", "fear_ms_parkinsons_stroke"),
])
def test_fears_are_found_however_they_are_named(reader, text, fear):
    assert fear in reader.read(text).fears


def test_topics_the_articles_do_not_cover_are_named(reader):
    assert "pregnancy" in reader.read("lip twitching during pregnancy").topics
    assert "cold" in reader.read("my lip twitches when I'm cold").topics
    assert "dental" in reader.read("my lip twitches since the dentist did a filling").topics


def test_where_and_how_often(reader):
    assert reader.read("only my lip, it's constant").location == LIP_ONLY
    assert reader.read("my lip and my eyelid twitch").location == SPREADING


@pytest.mark.parametrize("text, position", [
    ("the third one", 3), ("tell me about the last one", -1), ("the 2nd one please", 2), ("number 4", 4),
    ("what causes it", None), ("one more question", None),
])
def test_references_to_a_place_in_a_list(text, position):
    assert ordinal_reference(text) == position


@pytest.mark.parametrize("text, asks", [
    ("Should I take her to the GP", "see_doctor"),
    ("How do doctors tell the difference?", "tests"),
    ("What's the difference between a lip twitch and a lip spasm?", "difference"),
    ("What does fasciculation actually mean?", "definition"),
    ("Will it wear off on its own?", "duration"),
    ("Is there anything safe I can try while breastfeeding?", "treatment"),
    ("What should I look out for?", "see_doctor"),
])
def test_what_real_questions_ask(reader, text, asks):
    assert [q.asks for q in reader.read(text).questions] == [asks]


def test_a_question_with_no_question_mark_in_the_middle_of_a_line(reader):
    reading = reader.read("bottom lip twiching for 3 days should i worry")
    assert [q.asks for q in reading.questions] == ["serious"]


def test_a_denial_reads_only_its_own_clause(reader):
    reading = reader.read("Not eating properly, sleeping four or five hours, drinking more wine than I should.")
    assert "fatigue" in reading.triggers


@pytest.mark.parametrize("text", [
    "My doctor called it a spasm but my friend says it's just a twitch and those are different things.",
    "My neighbour's husband had motor neurone disease and I remember him saying it started with twitching.",
])
def test_other_people_mentioned_are_not_whose_twitching_it_is(reader, text):
    assert reader.read(text).who == "me"


@pytest.mark.parametrize("text, fears", [
    ("what are the signs of a stroke?", ()),  # asks for the signs: informs
    ("Is lip twitching a sign of a stroke?", ("fear_ms_parkinsons_stroke",)),
    ("my grandad has parkinsons, what treatments are there", ()),  # a condition someone has, not a fear
    ("how is it treated if it turns out to be ms", ()),
])
def test_a_fear_is_a_fear_only_when_it_is_feared(reader, text, fears):
    assert reader.read(text).fears == fears


@pytest.mark.parametrize("text, asks", [
    ("please tell me is it tumour sign and which doctor i should go", ["serious", "see_doctor"]),
    ("let me know if it is serious", ["serious"]),
])
def test_questions_asked_by_asking_to_be_told(reader, text, asks):
    assert [q.asks for q in reader.read(text).questions] == asks


def test_which_starts_a_question_only_when_it_asks_one(reader):
    assert reader.read("I had tea and which was nice").questions == ()


@pytest.mark.parametrize("text, describes", [
    ("my lip twitching is it als", True),
    ("hungover and my lips twitching haha is that a thing", True),
    ("All little flickers in my upper lip, about 6 days.", True),
    ("can coffee make my lip twitch?", False),  # a question about twitching in general
])
def test_someones_own_twitching_told_in_a_question_or_as_flickers(reader, text, describes):
    assert reader.read(text).describes_twitching is describes


@pytest.mark.parametrize("text", [
    "how long should I leave it before seeing my GP?",
    "should he get checked?",
    "Does he need checking?",
    "Should I go back to the clinic?",
    "Should I take her to her GP?",
])
def test_asking_whether_to_see_someone_is_asking_about_a_doctor(reader, text):
    assert [q.asks for q in reader.read(text).questions] == ["see_doctor"]
