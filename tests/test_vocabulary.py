"""The names the Python code uses for domain.yml's intents, entities, slots, forms, actions and responses
(liptwitch/vocabulary.py) are the domain's: a renamed intent or slot fails here, not silently in a conversation."""

from __future__ import annotations

import yaml

from liptwitch import vocabulary
from liptwitch.core.knowledge_base import load_knowledge_base
from tests.helpers import REPO

DOMAIN = yaml.safe_load((REPO / "domain.yml").read_text())
ACTIONS = {a if isinstance(a, str) else next(iter(a)) for a in DOMAIN["actions"]}
RASA_OWN = {"nlu_fallback", vocabulary.REQUESTED_SLOT}


def named(prefix: str = "") -> dict[str, str]:
    """The vocabulary's string constants (whose names start with `prefix`)."""
    return {name: value for name, value in vars(vocabulary).items()
            if name.isupper() and name.startswith(prefix) and isinstance(value, str)}


def test_every_name_in_the_vocabulary_is_in_the_domain():
    known = (set(DOMAIN["intents"]) | set(DOMAIN["entities"]) | set(DOMAIN["slots"]) | set(DOMAIN["forms"])
             | ACTIONS | set(DOMAIN["responses"]) | set(vocabulary.TRIAGE_LEVELS) | RASA_OWN)
    unknown = {name: value for name, value in named().items()
               if value not in known and name != "RED_FLAG_INTENT_PREFIX"}
    assert unknown == {}


def test_each_kind_of_name_is_of_its_kind_in_the_domain():
    for name, value in named("UTTER_").items():
        assert value in DOMAIN["responses"], name
    for name, value in named("ACTION_").items():
        assert value in ACTIONS, name
    for name, value in named("ASK_").items():
        assert value in DOMAIN["intents"], name
    assert vocabulary.TWITCH_CHECK_FORM in DOMAIN["forms"]
    assert vocabulary.VALIDATE_TWITCH_CHECK_FORM in ACTIONS
    for entity in (vocabulary.TOPIC, vocabulary.RED_FLAG, vocabulary.COUNTRY, vocabulary.SAFETY_QUESTION):
        assert entity in DOMAIN["entities"]


def test_the_red_flag_intents_are_the_domains_one_per_triage_level():
    assert set(vocabulary.RED_FLAG_INTENTS) == {i for i in DOMAIN["intents"]
                                                if i.startswith(vocabulary.RED_FLAG_INTENT_PREFIX)}
    for level in vocabulary.TRIAGE_LEVELS:
        assert f"utter_{level}" in DOMAIN["responses"]  # each level has its advice


def test_the_guided_checks_slots_are_the_forms_required_slots_in_the_order_it_asks():
    assert list(vocabulary.CHECK_SLOTS) == DOMAIN["forms"][vocabulary.TWITCH_CHECK_FORM]["required_slots"]
    for slot in vocabulary.CHECK_SLOTS:
        assert f"utter_ask_{slot}" in DOMAIN["responses"]


def test_the_knowledge_bases_triage_levels_are_the_vocabularys():
    levels = {flag.level for flag in load_knowledge_base().red_flags.values()}
    assert levels == set(vocabulary.TRIAGE_LEVELS)
