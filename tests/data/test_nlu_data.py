"""The NLU data: enough varied examples, topics the knowledge base knows, a test set kept apart."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from liptwitch.core.text import PhraseMatcher, normalise
from liptwitch.tools.nlu_export import render, topic_lookup
from liptwitch.vocabulary import ASK_QUESTIONS, FEEDBACK
from tests.helpers import REPO

ANNOTATION = re.compile(r"\[([^\]]+)\]\((\w+)\)")


def examples(*folders: str) -> list[tuple[str, str]]:
    """(intent, example text with annotations) from every NLU file under the folders."""
    found = []
    for folder in folders:
        for path in sorted((REPO / folder).rglob("*.yml")):
            for block in yaml.safe_load(path.read_text()).get("nlu", []):
                if "intent" in block:
                    for line in block["examples"].splitlines():
                        if line.strip().startswith("- "):
                            found.append((block["intent"], line.strip()[2:].strip()))
    return found


def plain(example: str) -> str:
    return normalise(ANNOTATION.sub(lambda m: m.group(1), example))


TRAINING = examples("data/nlu")
TEST_SET = examples("tests/nlu")


def test_every_intent_of_the_domain_has_varied_training_examples():
    domain = yaml.safe_load((REPO / "domain.yml").read_text())
    counts = Counter(intent for intent, _ in TRAINING)
    for intent in domain["intents"]:
        if intent.startswith("red_flag_") or intent == "unclear_symptom":
            continue  # set by RedFlagClassifier; their examples come from the knowledge base and data/safety_net
        if intent == ASK_QUESTIONS:
            continue  # set by MessageReaderRouter from its reading of the message, never by the model
        if intent == FEEDBACK:
            continue  # set only by the payload of the 👍/👎 buttons under an answer
        assert counts[intent] >= 20, f"{intent} has {counts[intent]} examples"


def test_training_examples_include_typos_and_lower_case():
    lower = sum(1 for _, text in TRAINING if text == text.lower())
    assert lower / len(TRAINING) > 0.9


def test_the_test_set_is_large_and_not_in_the_training_data():
    assert len(TEST_SET) >= 150
    training = {plain(text) for _, text in TRAINING}
    overlap = [text for _, text in TEST_SET if plain(text) in training]
    assert not overlap, f"test phrasings also in the training data: {overlap}"


@pytest.mark.parametrize("folder", ["data/nlu", "tests/nlu"])
def test_every_annotated_topic_names_a_knowledge_base_item(kb, folder):
    matcher = PhraseMatcher(kb.synonym_index())
    unknown = [(intent, text) for intent, text in examples(folder)
               for span, entity in ANNOTATION.findall(text)
               if entity != "topic" or matcher.resolve(span) is None]
    assert not unknown


def test_the_lookup_table_comes_from_the_knowledge_base(kb):
    lookup = topic_lookup(kb)
    for kind in ("cause", "symptom", "treatment"):
        for item in kb.of_kind(kind):
            assert all(normalise(s) in lookup for s in item.synonyms), item.id
    assert normalise("lip fasciculation") not in lookup  # general topics are asked by intent
    document = yaml.safe_load(render(kb))
    assert document["nlu"][0]["lookup"] == "topic"
    assert document["nlu"][0]["examples"].splitlines() == [f"- {p}" for p in lookup]
