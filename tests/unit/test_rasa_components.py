"""The project's Rasa NLU components on Rasa's own Message objects (no trained model needed)."""

from __future__ import annotations

import pytest
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.message import Message

from liptwitch.rasa_components import (
    CountryFromMetadata,
    KnowledgeBaseEntityResolver,
    LongMessageCap,
    RedFlagClassifier,
    cap_text,
)


def message(text: str, intent: str = "ask_cause", ranking: tuple[str, ...] = (), **data) -> Message:
    names = [intent, *ranking]
    return Message(data={"text": text, "intent": {"name": intent, "confidence": 0.4},
                         "intent_ranking": [{"name": n, "confidence": 0.4 - i / 10} for i, n in enumerate(names)],
                         **data})


@pytest.fixture(scope="module")
def classifier():
    return RedFlagClassifier.create(RedFlagClassifier.get_default_config(), None, None, None)


def test_an_affirmed_red_flag_overrides_the_intent_even_a_fallback(classifier):
    (parsed,) = classifier.process([message("no idea why my face is drooping", intent="nlu_fallback")])
    assert parsed.get("intent") == {"name": "red_flag_emergency", "confidence": 1.0}
    assert [e["value"] for e in parsed.get("entities") if e["entity"] == "red_flag"] == ["RF01"]
    assert parsed.get("model_intent")["name"] == "nlu_fallback"


def test_the_models_own_red_flag_guess_is_demoted(classifier):
    (parsed,) = classifier.process([message("is it gonna rain", intent="red_flag_routine", ranking=("out_of_scope",))])
    assert parsed.get("intent")["name"] == "out_of_scope"
    assert all(not r["name"].startswith("red_flag_") for r in parsed.get("intent_ranking"))


def test_a_question_about_a_red_flag_gets_the_warning_signs(classifier):
    (parsed,) = classifier.process([message("what does facial droop mean?", intent="ask_definition")])
    assert parsed.get("intent")["name"] == "ask_warning_signs"


def test_an_ordinary_question_keeps_its_intent(classifier):
    (parsed,) = classifier.process([message("can coffee make my lip twitch", intent="ask_cause")])
    assert parsed.get("intent")["name"] == "ask_cause"
    assert parsed.get("red_flag_assessment") == {"level": None, "red_flags": [], "informational": False}


@pytest.mark.parametrize("said, code", [("GB", "GB"), ("uk", "GB"), ("Germany", "EU"), ("usa", "US"), ("Mars", None)])
def test_the_country_comes_from_the_channel_metadata(said, code):
    component = CountryFromMetadata.create({}, None, None, None)
    (parsed,) = component.process([message("hi", metadata={"country": said})])
    countries = [e["value"] for e in parsed.get("entities", []) if e["entity"] == "country"]
    assert countries == ([code] if code else [])


def test_topics_are_resolved_to_knowledge_base_ids_and_unknown_ones_dropped():
    resolver = KnowledgeBaseEntityResolver.create(KnowledgeBaseEntityResolver.get_default_config(), None, None, None)
    text = "can coffe or my bicycle cause it"
    entities = [{"entity": "topic", "value": "coffe", "start": 4, "end": 9},
                {"entity": "topic", "value": "my bicycle", "start": 13, "end": 23}]
    (parsed,) = resolver.process([Message(data={"text": text, "entities": entities})])
    assert [e["value"] for e in parsed.get("entities")] == ["caffeine"]


@pytest.mark.parametrize("text, reaches_nlu", [
    ("/goodbye my face is drooping", True), ('/ask_cause{"topic": "x"} my arm is weak', True),
    ("/goodbye", False), ('/ask_treatment{"topic": "caffeine"}', False),
])
def test_a_typed_command_with_words_after_it_goes_through_the_pipeline(text, reaches_nlu):
    from rasa.shared.core.domain import Domain

    from tests.helpers import REPO
    unpacked = YAMLStoryReader.unpack_regex_message(Message(data={"text": text}),
                                                    domain=Domain.load(str(REPO / "domain.yml")))
    assert (unpacked.get("intent") is None) is reaches_nlu


WORRY = "I have been worried about my lip for weeks and I keep reading about it at night. "


def test_a_long_message_is_cut_for_the_pipeline_after_a_whole_word():
    capped = cap_text(WORRY * 30, 1000)
    assert 900 < len(capped) <= 1000 and (WORRY * 30).startswith(capped)
    assert (WORRY * 30)[len(capped)] == " "  # the cut falls between two words
    assert cap_text("short", 1000) == "short"
    assert cap_text("x" * 1500, 1000) == "x" * 1000  # no space to cut at: cut at the limit


def test_a_warning_sign_after_the_cap_still_escalates(classifier):
    cap = LongMessageCap.create(LongMessageCap.get_default_config(), None, None, None)
    text = WORRY * 30 + "Now the left side of my face is drooping."
    (capped,) = cap.process([message(text, intent="nlu_fallback")])
    assert len(capped.get("text")) <= 1000 and "drooping" not in capped.get("text")
    (parsed,) = classifier.process([capped])
    assert parsed.get("intent")["name"] == "red_flag_emergency"
    # Without the cap's reading of the whole message, the cut text alone would not have escalated.
    (alone,) = classifier.process([message(capped.get("text"), intent="nlu_fallback")])
    assert alone.get("intent")["name"] != "red_flag_emergency"


def test_past_states_are_remembered_until_an_event_is_added_and_handed_out_as_copies():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from tests.helpers import REPO

    domain = Domain.load(str(REPO / "domain.yml"))
    tracker = DialogueStateTracker.from_events("patched", [
        ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"), ActionExecuted("action_listen"),
        UserUttered("coffee?", {"name": "ask_cause", "confidence": 1.0}, [{"entity": "topic", "value": "caffeine"}]),
    ], slots=domain.slots)

    def rasas_own(**arguments):
        return type(domain).states_for_tracker_history(domain, tracker, **arguments)

    builds = []
    domain.states_for_tracker_history = lambda *args, **kwargs: builds.append(1) or rasas_own(**kwargs)
    first = tracker.past_states(domain)
    assert first == rasas_own()
    tracker.past_states(domain)
    assert len(builds) == 1  # the second policy to ask gets the states built for the first
    first[-1]["user"].pop("intent")  # the featurizers edit the states they are given
    assert tracker.past_states(domain) == rasas_own()
    rule_only = {"slots": ["check_face"], "active_loops": ["twitch_check_form"]}
    assert tracker.past_states(domain, rule_only_data=rule_only) == rasas_own(rule_only_data=rule_only)
    assert tracker.past_states(domain, omit_unset_slots=True) == rasas_own(omit_unset_slots=True)
    tracker.update(ActionExecuted("action_answer_question"))
    tracker.update(SlotSet("context_topics", ["caffeine"]))
    again = tracker.past_states(domain)
    assert again == rasas_own() and len(again) == len(first) + 1  # an event added: built again
    assert len(builds) == 4  # other arguments and a new event each built once; repeats never


def test_action_server_responses_are_checked_against_rasas_schema_without_rechecking_the_schema(monkeypatch):
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    action = RemoteAction("action_answer_question", None)
    monkeypatch.setattr(jsonschema, "validate", lambda *args, **kwargs: pytest.fail("the slow path was taken"))
    valid = {"events": [{"event": "slot", "name": "context_kind", "value": "cause"}],
             "responses": [{"text": "Caffeine can do it."}]}
    assert action._validate_action_result(valid) is True
    monkeypatch.undo()  # a refused response goes through Rasa's own check, error message and all
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "no_such_event"}], "responses": []})
