"""A conversation's applied events, past states and copies, kept and extended as events are added instead of
rebuilt from the whole session several times a turn (liptwitch/rasa_server/states.py).

Each patch has unit tests that compare it with Rasa's own result (tests/rasa_server/).
"""

from __future__ import annotations

from typing import Any


def keep_applied_events_and_past_states_and_copy_trackers_quickly() -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    from liptwitch.rasa_server import states as rasa_states

    def past_states(self: DialogueStateTracker, domain: Any, omit_unset_slots: bool = False,
                    ignore_rule_only_turns: bool = False, rule_only_data: dict[str, Any] | None = None) -> list:
        return rasa_states.past_states(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)

    def applied_events(self: DialogueStateTracker) -> list:
        return rasa_states.applied_events(self)

    def copy(self: DialogueStateTracker) -> DialogueStateTracker:
        return rasa_states.copy_tracker(self)

    past_states.patched = True  # type: ignore[attr-defined]
    applied_events.rasas = DialogueStateTracker.applied_events  # type: ignore[attr-defined]
    copy.rasas = DialogueStateTracker.copy  # type: ignore[attr-defined]
    DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
    DialogueStateTracker.copy = copy  # type: ignore[method-assign]


def copy_only_the_states_a_max_history_keeps() -> None:
    """A featurizer with a max history (the memoization policy's) keeps the last states only: only those are copied
    out of the kept ones, instead of the whole conversation's, then cut."""
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer

    original = MaxHistoryTrackerFeaturizer.prediction_states

    def prediction_states(self: MaxHistoryTrackerFeaturizer, trackers: list, domain: Any,
                          use_text_for_last_user_input: bool = False, ignore_rule_only_turns: bool = False,
                          rule_only_data: dict[str, Any] | None = None,
                          ignore_action_unlikely_intent: bool = False) -> list[list]:
        if (type(self) is not MaxHistoryTrackerFeaturizer or not self.max_history
                or not all(keeps_states(tracker) for tracker in trackers)):
            return original(self, trackers, domain, use_text_for_last_user_input, ignore_rule_only_turns,
                            rule_only_data, ignore_action_unlikely_intent)
        return [latest_prediction_states(self, tracker, domain, use_text_for_last_user_input, ignore_rule_only_turns,
                                         rule_only_data, self.max_history, ignore_action_unlikely_intent)
                for tracker in trackers]

    prediction_states.rasas = original  # type: ignore[attr-defined]
    MaxHistoryTrackerFeaturizer.prediction_states = prediction_states  # type: ignore[method-assign]


def keeps_states(tracker: Any) -> bool:
    """Whether the tracker's past states are the kept ones (not a training tracker's own, for example)."""
    return getattr(type(tracker).past_states, "patched", False)


def latest_prediction_states(featurizer: Any, tracker: Any, domain: Any, use_text_for_last_user_input: bool,
                             ignore_rule_only_turns: bool, rule_only_data: dict[str, Any] | None, last: int,
                             ignore_action_unlikely_intent: bool = False) -> list:
    """Rasa's `MaxHistoryTrackerFeaturizer.prediction_states` for one tracker, on its `last` kept states only:
    create the states (here cut at once), leave out action_unlikely_intent (the memoization policy asks for that:
    the cut then reaches back further, until `last` states remain or the conversation is used up), cut them, choose
    text or intent for the last user input."""
    from liptwitch.rasa_server import states as rasa_states

    if not ignore_action_unlikely_intent:
        states = rasa_states.past_states(tracker, domain, False, ignore_rule_only_turns, rule_only_data, last=last)
    else:
        taken = last
        while True:
            tail = rasa_states.past_states(tracker, domain, False, ignore_rule_only_turns, rule_only_data, last=taken)
            states = featurizer._remove_action_unlikely_intent_from_states(tail)
            if len(states) >= last or len(tail) < taken:
                break
            taken *= 2
        states = states[-last:]
    featurizer._choose_last_user_input([states], use_text_for_last_user_input)
    return states
