"""The safety net's corpus (liptwitch/core/safety_corpus.py) and classifier (liptwitch/core/safety_net.py),
without Rasa."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from liptwitch.core.safety_corpus import HARMLESS, CorpusError, add_typo, expand, generate, load_spec
from liptwitch.core.safety_net import SafetyNet, _prepare, _vectorizer
from tests.helpers import REPO


@pytest.fixture(scope="module")
def spec(kb):
    return load_spec(kb=kb)


@pytest.fixture(scope="module")
def corpus(spec, kb):
    return generate(spec, kb)


@pytest.fixture(scope="module")
def net(small_safety_net):
    return small_safety_net


def test_every_red_flag_row_and_the_harmless_are_generated_in_thousands(corpus, kb):
    counts = Counter(example.label for example in corpus)
    assert sum(counts.values()) > 15_000
    generated_rows = {flag.id for flag in kb.red_flags.values() if not flag.applies_with}  # RF04 qualifies others
    assert generated_rows <= {label for label, count in counts.items() if count >= 300}
    assert counts[HARMLESS] >= sum(count for label, count in counts.items() if label != HARMLESS) / 2


def test_the_corpus_is_the_same_every_time(spec, kb, corpus):
    assert generate(spec, kb) == corpus


def test_templates_expand_word_lists_optional_parts_and_alternatives():
    words = {"who": ("my mum", "{title} dad"), "title": ("my",), "side": ("on the left",)}
    phrasings = {expand("{who}'s (face|mouth) dropped {side?}", words, random.Random(seed)) for seed in range(60)}
    assert phrasings == {f"{who}'s {part} dropped{side}" for who in ("my mum", "my dad") for part in ("face", "mouth")
                         for side in ("", " on the left")}


def test_a_typo_changes_one_letter_and_keeps_short_words():
    rng = random.Random(1)
    typos = {add_typo("drooping", rng) for _ in range(50)}
    assert "drooping" not in typos and all(abs(len(t) - 8) <= 1 for t in typos)
    assert add_typo("arm", rng) == "arm"


def test_a_broken_corpus_file_names_the_file_the_entry_and_the_field(tmp_path, kb):
    for name in ("lexicon.yml", "templates.yml", "examples.yml"):
        (tmp_path / name).write_text((REPO / "data" / "safety_net" / name).read_text())
    templates = tmp_path / "templates.yml"
    templates.write_text(templates.read_text().replace("{poss} {face_part} {be} {face_state}",
                                                       "{poss} {face_prat} {be} {face_state}", 1))
    with pytest.raises(CorpusError) as error:
        load_spec(tmp_path, kb)
    assert "templates.yml" in str(error.value) and "entry RF01" in str(error.value)
    assert "field 'templates'" in str(error.value) and "face_prat" in str(error.value)
    templates.write_text(templates.read_text().replace("  RF02:\n", "  RF99:\n", 1))
    with pytest.raises(CorpusError, match="entry RF99.*unknown label"):
        load_spec(tmp_path, kb)


def test_reading_gives_what_the_trained_vectorizers_give(corpus, net):
    vectorizer = _vectorizer().fit([_prepare(example.text) for example in corpus[::7]])
    small = SafetyNet(*_parts(vectorizer), net.labels, np.zeros((len(vectorizer.get_feature_names_out()), 1)),
                      np.zeros(1), net.levels)
    texts = ["My mouth went SLACK on the left, 20 mins ago", "lip twitch x", "", "a", "I'm scared it's ALS!!"]
    expected = vectorizer.transform([_prepare(text) for text in texts]).toarray()
    for text, row in zip(texts, expected, strict=True):
        indices, values = small.features(text)
        mine = np.zeros_like(row)
        mine[indices] = values
        assert np.allclose(mine, row, atol=1e-6), text


def _parts(vectorizer):
    parts = dict(vectorizer.transformer_list)
    return ({name: {k: int(v) for k, v in part.vocabulary_.items()} for name, part in parts.items()},
            {name: part.idf_ for name, part in parts.items()})


@pytest.mark.parametrize(("text", "red_flag"), [
    ("my mouth went slack on the left side", "RF01"),
    ("he keeps saying the wrong words, like mixing them up", "RF03"),
    ("she fell over and her leg just wouldn't do anything", "RF02"),
    ("my colleague went stiff and his arms were jerking", "RF08"),
    ("ate prawns and my lips are puffing up and i feel faint", "RF22"),
])
def test_signs_in_words_no_term_list_names_are_read_as_their_row(net, text, red_flag):
    reading = net.read(text)
    assert reading.red_flag == red_flag and reading.confidence > 0.5, reading


@pytest.mark.parametrize("text", ["my lip has been twitching for 3 days after too much coffee",
                                  "what causes lip twitching?", "my arms and legs are fine, it's just my lip",
                                  "how long does lip twitching usually last?", "thanks, that helps"])
def test_ordinary_messages_are_read_as_harmless(net, text):
    assert net.read(text).red_flag is None, net.read(text)


def test_a_saved_net_reads_the_same(net, tmp_path):
    net.save(tmp_path)
    again = SafetyNet.load(tmp_path)
    for text in ("my face went slack", "my lip twitches"):
        assert again.probabilities([text]) == pytest.approx(net.probabilities([text]), abs=1e-6)
