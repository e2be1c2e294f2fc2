"""Normalisation and typo-tolerant phrase matching, on the real knowledge base's vocabulary."""

from __future__ import annotations

import pytest

from liptwitch.core.knowledge_base import load_knowledge_base
from liptwitch.core.text import PhraseMatcher, edit_distance, normalise, word_distance

# --- normalise ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("Lip TWITCHING", "lip twitching"),
    ("Energy-Drinks!!", "energy drinks"),
    ("  B12 ,  magnesium?? ", "b12 magnesium"),
    ("coffee...\ttea\nand cola", "coffee tea and cola"),
    ("Parkinson’s", "parkinsons"),  # curly apostrophe
    ("Parkinson's", "parkinsons"),
    ("Bell‘s palsy", "bells palsy"),
    ("don`t", "dont"),
    ("café crème", "cafe creme"),  # accents
    ("NAÏVE Zoë", "naive zoe"),
    ("?!... ", ""),
])
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_curly_and_straight_apostrophes_normalise_the_same() -> None:
    assert normalise("Parkinson’s disease") == normalise("parkinsons disease") == "parkinsons disease"


# --- edit_distance -----------------------------------------------------------------------------


@pytest.mark.parametrize("a, b, expected", [
    ("coffee", "coffee", 0),
    ("coffee", "coffe", 1),     # deletion
    ("coffe", "coffee", 1),     # insertion
    ("coffee", "toffee", 1),    # substitution
    ("tierd", "tired", 1),      # adjacent transposition counts 1, not 2
    ("anxeity", "anxiety", 1),
    ("ab", "ba", 1),
    ("kitten", "sitting", 3),
    ("", "abc", 3),
    ("abc", "", 3),
])
def test_edit_distance(a: str, b: str, expected: int) -> None:
    assert edit_distance(a, b, limit=5) == expected
    assert edit_distance(b, a, limit=5) == expected


@pytest.mark.parametrize("a, b, limit", [
    ("kitten", "sitting", 2),        # true distance 3
    ("kitten", "sitting", 0),
    ("magnesium", "medication", 2),  # far apart
    ("ab", "abcdef", 1),             # lengths alone exceed the limit
    ("abc", "xyz", 1),
])
def test_edit_distance_stops_at_limit_plus_one(a: str, b: str, limit: int) -> None:
    assert edit_distance(a, b, limit) == limit + 1


def test_edit_distance_within_limit_is_exact() -> None:
    assert edit_distance("kitten", "sitting", 3) == 3
    assert edit_distance("tierd", "tired", 1) == 1


# --- PhraseMatcher on the real knowledge base ------------------------------------------------


@pytest.fixture(scope="module")
def matcher() -> PhraseMatcher:
    return PhraseMatcher(load_knowledge_base().synonym_index())


@pytest.mark.parametrize("text, expected", [
    ("coffe", "caffeine"),
    ("magnesim", "nutrition"),
    ("maggnesim", "nutrition"),       # two typos in a long word
    ("anxeity", "stress"),
    ("tierd", "fatigue"),
    ("stres", "stress"),
    ("meditaton", "stress_management"),  # meditation, not medication
    ("medicaton", "medication"),
    ("lack of slep", "fatigue"),      # a typo inside a multi-word phrase
])
def test_typos_resolve(matcher: PhraseMatcher, text: str, expected: str) -> None:
    assert matcher.resolve(text) == expected


def test_too_many_typos_for_the_length_do_not_resolve(matcher: PhraseMatcher) -> None:
    assert matcher.resolve("anxeityy") is None  # 7 letters allow one typo, not two


@pytest.mark.parametrize("text, expected", [
    ("energy drink", "caffeine"),
    ("energy drinks", "caffeine"),
    ("Energy-Drinks", "caffeine"),
    ("cappuccinos", "caffeine"),
    ("lattes", "caffeine"),
    ("red bulls", "caffeine"),
    ("teas", "caffeine"),
])
def test_plurals_and_spellings_resolve(matcher: PhraseMatcher, text: str, expected: str) -> None:
    assert matcher.resolve(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("lack of sleep", "fatigue"),
    ("stress management", "stress_management"),
    ("magnesium supplement", "dietary_changes"),
    ("sleep habits", "improving_sleep"),
    ("Parkinson’s disease", "fear_ms_parkinsons_stroke"),
    ("B12!!", "nutrition"),
])
def test_multi_word_phrases_resolve(matcher: PhraseMatcher, text: str, expected: str) -> None:
    assert matcher.resolve(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("my coffee intake", "caffeine"),
    ("I think I have MS", "fear_ms_parkinsons_stroke"),
    ("could it be lack of sleep?", "fatigue"),
    ("I drink coffee and have lack of sleep", "fatigue"),  # the longest phrase wins
])
def test_phrase_inside_a_longer_text_resolves(matcher: PhraseMatcher, text: str, expected: str) -> None:
    assert matcher.resolve(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("ms", "fear_ms_parkinsons_stroke"),
    ("MS", "fear_ms_parkinsons_stroke"),
    ("mz", None),
    ("tea", "caffeine"),
    ("tee", None),
    ("teh", None),
])
def test_short_words_need_an_exact_match(matcher: PhraseMatcher, text: str, expected: str | None) -> None:
    assert matcher.resolve(text) == expected


@pytest.mark.parametrize("text", ["weather", "the weather today", "hello", "thanks", "my cat", "", "?!"])
def test_unrelated_text_resolves_to_nothing(matcher: PhraseMatcher, text: str) -> None:
    assert matcher.resolve(text) is None
    assert matcher.find(text) == []


def test_find_returns_matches_in_text_order(matcher: PhraseMatcher) -> None:
    found = matcher.find("coffee and lack of sleep")
    assert [(m.start, m.end, m.phrase, m.value, m.exact) for m in found] == [
        (0, 1, "coffee", "caffeine", True),
        (2, 5, "lack of sleep", "fatigue", True),
    ]


def test_find_prefers_the_longest_phrase_without_overlap(matcher: PhraseMatcher) -> None:
    found = matcher.find("I need stress management for my anxiety")
    # "stress management" wins over "stress" alone, and "stress" is not matched a second time
    assert [(m.start, m.end, m.value) for m in found] == [
        (2, 4, "stress_management"),
        (6, 7, "stress"),
    ]


def test_find_reports_typos_as_inexact_with_the_known_phrase(matcher: PhraseMatcher) -> None:
    found = matcher.find("too much coffe and feeling tierd")
    assert [(m.phrase, m.value, m.exact) for m in found] == [
        ("too much coffee", "caffeine", False),
        ("tired", "fatigue", False),
    ]


def test_matcher_on_custom_phrases() -> None:
    matcher = PhraseMatcher({"Lip Twitch": "definition", "twitch": "other", "": "ignored"})
    assert matcher.resolve("lip twitch") == "definition"
    assert [(m.start, m.end, m.value) for m in matcher.find("my lip twitch and a twitch")] == [
        (1, 3, "definition"),
        (5, 6, "other"),
    ]


def test_ties_between_typo_matches_go_to_the_first_phrase() -> None:
    # "cott" is one typo from "coat" and from "cost" (four letters allow one)
    assert PhraseMatcher({"warm coat": "first", "warm cost": "second"}).resolve("warm cott") == "first"
    assert PhraseMatcher({"warm cost": "second", "warm coat": "first"}).resolve("warm cott") == "second"


def plain_window_match(phrases: dict[tuple[str, ...], str], window: tuple[str, ...]) -> tuple[str, str, bool] | None:
    """The matching rule said plainly: the phrase of the window's length whose words are each within tolerance, with
    the fewest typos in all, the first one on a tie. (The matcher finds it through its indexes.)"""
    if window in phrases:
        return " ".join(window), phrases[window], True
    best = None
    for known, value in phrases.items():
        if len(known) == len(window):
            distances = [word_distance(word, known_word) for word, known_word in zip(window, known, strict=False)]
            if None not in distances and (best is None or sum(distances) < best[0]):
                best = (sum(distances), " ".join(known), value)
    return None if best is None else (best[1], best[2], best[0] == 0)


def test_the_indexed_matcher_matches_every_window_as_the_plain_rule_does(matcher: PhraseMatcher) -> None:
    """Windows of real phrases and of the benchmark's turns, with random typos (a letter changed, dropped, added,
    swapped; two in some long words): each is matched to the same phrase as comparing it with every phrase of its
    length."""
    import random

    from bench.performance import TURNS

    pieces = random.Random(3)
    phrases: dict[tuple[str, ...], str] = {}
    for phrase, value in load_knowledge_base().synonym_index().items():
        if normalise(phrase):
            phrases.setdefault(tuple(normalise(phrase).split()), value)  # the first of phrases that normalise alike

    def typo(word: str) -> str:
        index, letter = pieces.randrange(len(word)), pieces.choice("abcdefghijklmnopqrstuvwxyz")
        return pieces.choice([word[:index] + letter + word[index + 1:], word[:index] + word[index + 1:],
                              word[:index] + letter + word[index:], word[:index] + word[index + 1:index + 2]
                              + word[index:index + 1] + word[index + 2:]])

    windows = [*phrases, *(tuple(normalise(turn).split()[:3]) for turn in TURNS)]
    inexact = 0
    for _ in range(3000):
        window = tuple(typo(word) if pieces.random() < 0.4 else word for word in pieces.choice(windows))
        window = tuple(typo(word) if len(word) > 7 and pieces.random() < 0.3 else word for word in window)  # two
        expected = plain_window_match(phrases, window)
        match = matcher._match_window(window, 0)
        assert (None if match is None else (match.phrase, match.value, match.exact)) == expected, window
        inexact += expected is not None and not expected[2]
    assert inexact > 300  # typos were matched, not only exact phrases
