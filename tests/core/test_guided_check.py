"""The guided check: reading free-text answers, and the outcome at TRIAGE.md's level."""

from __future__ import annotations

import pytest

from liptwitch.core.guided_check import (
    CONSTANT,
    EVERY_DAY,
    LIP_ONLY,
    NO,
    NOW_AND_THEN,
    SPREADING,
    YES,
    is_skip,
    outcome,
    parse_duration_days,
    parse_frequency,
    parse_location,
    parse_yes_no,
)


@pytest.mark.parametrize("text, days", [
    ("my lip has twitched for three weeks", 21), ("about 3 days", 3), ("since yesterday", 1), ("a month", 30),
    ("2 wks", 14), ("a couple of weeks", 14), ("it started today", 0.5), ("for ages", 60), ("hmm", None),
    # Halves and spans of the year (set 8): "half the year now" is months, not a year nor nothing.
    ("half the year now", 182.5), ("half a year", 182.5), ("about half an hour", 1 / 48), ("all year", 180),
    ("since before my holiday so 2 months or so", 60), ("the whole of last term", 60),
])
def test_duration(text, days):
    assert parse_duration_days(text) == days


@pytest.mark.parametrize("text, place", [
    ("only my lip", LIP_ONLY), ("just the top lip", LIP_ONLY), ("my eye too", SPREADING),
    ("it spread to my cheek", SPREADING), ("it is in other places too", SPREADING), ("dunno", None),
    ("lower lip mainly but also my left eyelid and sometimes my arm", SPREADING),
    ("no other symptoms, but I did start a new tablet", None),  # "other" that names no other place
])
def test_location(text, place):
    assert parse_location(text) == place


@pytest.mark.parametrize("text, how_often", [
    ("every day", EVERY_DAY), ("comes and goes", NOW_AND_THEN), ("all the time", CONSTANT), ("hmm", None),
])
def test_frequency(text, how_often):
    assert parse_frequency(text) == how_often


@pytest.mark.parametrize("text, answer", [
    ("yes", YES), ("Yeah", YES), ("a bit", YES), ("nope", NO), ("no, it's fine", NO), ("what?", None),
])
def test_yes_no(text, answer):
    assert parse_yes_no(text) == answer


def test_skip():
    assert is_skip("skip") and is_skip("not sure") and is_skip("dunno") and not is_skip("no")


NORMAL = {"check_location": LIP_ONLY, "check_duration_days": 3.0, "check_frequency": NOW_AND_THEN,
          "check_face": NO, "check_arm": NO, "check_speech": NO}


def test_a_short_lip_only_twitch_is_self_care_with_triggers_and_a_safety_net(kb):
    result = outcome(kb, NORMAL)
    assert result.level == "self_care"
    assert "lip only" in result.text and "about 3 days" in result.text
    for cause in ("stress", "fatigue", "caffeine", "nutrition", "medication"):
        assert kb.get(cause).title in result.text
        assert kb.treatments_for(cause)[0].gist in result.text
    assert kb.get("see_doctor").short in result.text
    assert "not a diagnosis" in result.text


@pytest.mark.parametrize("change", [{"check_duration_days": 21.0}, {"check_location": SPREADING}])
def test_more_than_two_weeks_or_spreading_is_routine(kb, change):
    result = outcome(kb, {**NORMAL, **change})
    assert result.level == "routine" and "booking an appointment" in result.text


@pytest.mark.parametrize("slot", ["check_face", "check_arm", "check_speech"])
def test_any_fast_yes_is_an_emergency(kb, slot):
    assert outcome(kb, {**NORMAL, slot: YES}).level == "emergency"
    assert outcome(kb, {slot: YES}).level == "emergency"  # even before the other answers


def test_skipped_answers_still_give_an_outcome(kb):
    result = outcome(kb, {"check_location": "skipped", "check_duration_days": -1.0})
    assert result.level == "self_care" and "skipped" in result.text.lower()


def test_a_first_message_only_says_where_when_it_says_so_explicitly():
    assert parse_location("my upper lip keeps twitching", explicit=True) is None
    assert parse_location("only my upper lip twitches", explicit=True) == LIP_ONLY
    assert parse_location("my lip and my eye twitch", explicit=True) == SPREADING


def test_an_absurd_duration_is_no_answer_and_is_asked_again():
    from liptwitch.core.guided_check import parse_duration_days

    assert parse_duration_days("9" * 400 + " weeks") is None
    assert parse_duration_days("200 years") is None
    assert parse_duration_days("3 weeks") == 21


def test_how_often_is_not_taken_for_how_long():
    from liptwitch.core.guided_check import parse_duration_days

    for said in ("it happens every day", "twice a day", "3 times a day", "every few days"):
        assert parse_duration_days(said) is None, said
    assert parse_duration_days("all day today") == 0.5  # "today" still says since when
    assert parse_duration_days("every day for 3 weeks") == 21.0
    assert parse_duration_days("for a week, a few times a day") == 7.0


@pytest.mark.parametrize("text, days", [
    ("lip twitchin since xmas, its now febuary", 50),
    ("started around the second week of September and it's late November now", 60),
    ("since the clocks went back and its nearly christmas now", 58),
    ("since new year and its now march", 74),
    ("since christmas", None),  # from when, but not to when
    ("since monday and it's tuesday now", None),  # weekdays are not times of the year
])
def test_how_long_counted_between_two_times_of_the_year(text, days):
    from liptwitch.core.guided_check import days_between_marks
    assert days_between_marks(text) == days
