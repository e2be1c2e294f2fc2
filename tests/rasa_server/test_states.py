"""The kept applied events, past states and quick tracker copies (liptwitch.rasa_server.states) give exactly what Rasa's
own code gives, for every conversation of the project's stories, rules and test stories, event by event, and
for events that rewrite history (reverts, restarts, new sessions, loops)."""

from __future__ import annotations

import dataclasses

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

import liptwitch.rasa_server.components  # noqa: F401  (applies the patches, as loading the model does)
from liptwitch.rasa_server import states as rasa_states
from tests.helpers import REPO, generated_conversations

RASAS_PAST_STATES = Domain.states_for_tracker_history
RASAS_APPLIED_EVENTS = DialogueStateTracker.applied_events.rasas
RASAS_COPY = DialogueStateTracker.copy.rasas
CHECK_SLOTS = ["check_location", "check_duration_days", "check_frequency", "check_face", "check_arm", "check_speech"]
ARGUMENTS = [
    {},
    {"omit_unset_slots": True},
    {"ignore_rule_only_turns": True, "rule_only_data": {"slots": CHECK_SLOTS, "active_loops": ["twitch_check_form"]}},
    {"ignore_rule_only_turns": True, "rule_only_data": {"slots": [], "active_loops": []}},
]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(REPO / "domain.yml"))


@pytest.fixture(scope="module")
def conversations(domain) -> list[list]:
    return generated_conversations(domain)


def state_of(tracker: DialogueStateTracker) -> dict:
    """Everything a tracker holds, for comparing two (the kept results are left out)."""
    state = {name: value for name, value in tracker.__dict__.items()
             if not name.startswith("_liptwitch") and name not in ("slots", "events")}
    state["slots"] = {name: (slot.value, slot.has_been_set) for name, slot in tracker.slots.items()}
    state["events"] = list(tracker.events)
    return state


def assert_same_as_rasa(tracker: DialogueStateTracker, domain: Domain) -> None:
    for arguments in ARGUMENTS:
        assert tracker.past_states(domain, **arguments) == RASAS_PAST_STATES(domain, tracker, **arguments), arguments
    assert tracker.applied_events() == RASAS_APPLIED_EVENTS(tracker)
    assert state_of(tracker.copy()) == state_of(RASAS_COPY(tracker))


def grown_event_by_event(events: list, domain: Domain, sender: str = "test"):
    """A tracker that gets the events one at a time, as in a conversation, checked after each."""
    tracker = DialogueStateTracker(sender, domain.slots)
    for event in events:
        tracker.update(event)
        assert_same_as_rasa(tracker, domain)
        yield tracker


def test_every_generated_conversation_gives_rasas_states_applied_events_and_copies_event_by_event(domain,
                                                                                                   conversations):
    assert len(conversations) >= 40 and any(any(isinstance(e, ActiveLoop) for e in c) for c in conversations)
    checked = 0
    for events in conversations:
        for _ in grown_event_by_event(events, domain):
            checked += 1
    assert checked >= 450


def test_a_max_history_featurizer_gets_the_prediction_states_rasa_cuts_from_all(domain, conversations):
    """The memoization policy's featurizer copies out only the states it keeps: the same as Rasa's, which takes all
    of them and cuts, after every event of every generated conversation."""
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer

    rasas = MaxHistoryTrackerFeaturizer.prediction_states.rasas
    featurizers = [MaxHistoryTrackerFeaturizer(max_history=history) for history in (1, 5)]
    checked = 0
    for events in conversations:
        tracker = DialogueStateTracker("test", domain.slots)
        for event in events:
            tracker.update(event)
            for featurizer in featurizers:
                for use_text in (False, True):
                    for arguments in (ARGUMENTS[0], ARGUMENTS[2]):
                        for unlikely in (False, True):  # the memoization policy asks without action_unlikely_intent
                            ours = featurizer.prediction_states([tracker], domain, use_text, **arguments,
                                                                ignore_action_unlikely_intent=unlikely)
                            assert ours == rasas(featurizer, [tracker], domain, use_text, **arguments,
                                                 ignore_action_unlikely_intent=unlikely)
                            checked += 1
    assert checked >= 450 * 16


def test_states_without_action_unlikely_intent_reach_back_far_enough(domain):
    """Leaving out action_unlikely_intent, the cut reaches back until the max history is full: as Rasa's."""
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.shared.core.events import UserUttered

    rasas = MaxHistoryTrackerFeaturizer.prediction_states.rasas
    featurizer = MaxHistoryTrackerFeaturizer(max_history=5)
    tracker = DialogueStateTracker("test", domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    for turn in range(4):
        tracker.update(UserUttered(f"question {turn}", {"name": "ask_cause"}))
        for _ in range(6):
            tracker.update(ActionExecuted("action_unlikely_intent"))
        tracker.update(ActionExecuted("action_answer_question"))
        tracker.update(ActionExecuted("action_listen"))
    ours = featurizer.prediction_states([tracker], domain, ignore_action_unlikely_intent=True)
    assert ours == rasas(featurizer, [tracker], domain, ignore_action_unlikely_intent=True)
    assert len(ours[0]) == 5


HISTORY_REWRITES = {
    "the last utterance reverted": [UserUtteranceReverted(), ActionExecuted("action_listen")],
    "the last action reverted": [ActionReverted()],
    "a restart": [Restarted(), ActionExecuted("action_session_start"), SessionStarted(),
                  ActionExecuted("action_listen")],
    "a new session": [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("country", "GB"),
                      ActionExecuted("action_listen")],
    "a loop that starts, is interrupted and runs again": [
        ActionExecuted("twitch_check_form"), ActiveLoop("twitch_check_form"), SlotSet("requested_slot", "check_face"),
        ActionExecuted("action_listen"), UserUttered("why?", {"name": "ask_definition", "confidence": 1.0}),
        ActionExecuted("action_answer_question"), ActionExecuted("twitch_check_form"),
        SlotSet("requested_slot", "check_arm"), ActionExecuted("action_listen"),
        UserUttered("no", {"name": "deny", "confidence": 1.0}), ActionExecuted("twitch_check_form"),
        ActiveLoop(None), SlotSet("requested_slot", None)],
    "a follow-up action": [FollowupAction("utter_greet"), ActionExecuted("utter_greet")],
}


@pytest.mark.parametrize("rewrite", HISTORY_REWRITES)
def test_events_that_rewrite_history_give_rasas_results(domain, rewrite):
    opening = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
               UserUttered("hi", {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_greet"),
               ActionExecuted("action_listen"),
               UserUttered("coffee?", {"name": "ask_about", "confidence": 0.9},
                           [{"entity": "topic", "value": "caffeine", "start": 0, "end": 6}]),
               ActionExecuted("action_answer_question"), SlotSet("context_topics", ["caffeine"]),
               ActionExecuted("action_listen")]
    events = opening + HISTORY_REWRITES[rewrite] + opening[2:]
    checked = list(grown_event_by_event(events, domain))  # each tracker compared with Rasa's as it grew
    assert len(checked) == len(events)


def test_appended_events_extend_what_was_built_and_only_rewrites_build_it_again(domain, monkeypatch):
    builds = []
    built_from_scratch = rasa_states.PastStates.built_from_scratch.__func__
    monkeypatch.setattr(rasa_states.PastStates, "built_from_scratch",
                        classmethod(lambda cls, *args: builds.append(1) or built_from_scratch(cls, *args)))
    tracker = DialogueStateTracker("test", domain.slots)
    for turn in range(30):
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(f"question {turn}", {"name": "ask_about", "confidence": 1.0}))
        tracker.past_states(domain)
        tracker.update(ActionExecuted("action_answer_question"))
        assert tracker.past_states(domain) == RASAS_PAST_STATES(domain, tracker)
    assert len(builds) == 1  # 60 calls over 90 events, one build
    tracker.update(UserUtteranceReverted())
    assert tracker.past_states(domain) == RASAS_PAST_STATES(domain, tracker)
    assert len(builds) == 2


def test_the_states_handed_out_are_copies_the_featurizers_may_edit(domain):
    tracker = DialogueStateTracker.from_events("test", [
        ActionExecuted("action_listen"), UserUttered("coffee?", {"name": "ask_about", "confidence": 1.0}),
        ActionExecuted("action_answer_question"), ActionExecuted("action_listen"),
        UserUttered("hi", {"name": "greet", "confidence": 1.0})], slots=domain.slots)
    for last in (None, 2):  # all of them, and the last ones as a max-history featurizer gets them
        handed_out = rasa_states.past_states(tracker, domain, last=last)
        assert any("user" in state for state in handed_out[:-1])  # earlier turns, which are kept, are edited too
        for state in handed_out:
            state.get("user", {}).pop("intent", None)
            state.clear()
        assert tracker.past_states(domain) == RASAS_PAST_STATES(domain, tracker)


def test_a_copy_changes_without_changing_the_original(domain):
    tracker = DialogueStateTracker.from_events("test", HISTORY_REWRITES["a loop that starts, is interrupted and "
                                                                        "runs again"][:4], slots=domain.slots)
    before = state_of(tracker)
    copied = tracker.copy()
    copied.update(SlotSet("check_face", "yes"))
    copied.update(ActionExecuted("twitch_check_form"))
    copied.active_loop.rejected = True
    copied.latest_action["action_name"] = "edited"
    assert state_of(tracker) == before
    assert dataclasses.asdict(tracker.active_loop)["rejected"] is False
