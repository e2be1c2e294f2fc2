"""The dialogue policies: the memoization policy looks up only histories it can have memorized, the rule policy
matches only the rules and states that can apply, and neither builds debug-log arguments when debug logs are off.

Each patch has unit tests that compare it with Rasa's own result (tests/rasa_server/).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.nlu.constants import ACTION_NAME

from liptwitch.rasa_server.patches.trackers import keeps_states, latest_prediction_states


def recall_only_histories_as_short_as_memorized_ones() -> None:
    from rasa.core.policies.memoization import MemoizationPolicy

    original = MemoizationPolicy._recall_states

    def _recall_states(self: MemoizationPolicy, states: list) -> str | None:
        if len(states) > most_states_memorized(self):
            return None  # no memorized history is that long: the key would not be found
        return original(self, states)

    MemoizationPolicy._recall_states = _recall_states  # type: ignore[method-assign]

    rasas_states = MemoizationPolicy._prediction_states

    def _prediction_states(self: MemoizationPolicy, tracker: Any, domain: Any,
                           use_text_for_last_user_input: bool = False,
                           rule_only_data: dict[str, Any] | None = None) -> list:
        # Without a max history the featurizer builds the states of the whole conversation, which cannot be found
        # once it is longer than every memorized one: the last (that many + 1) states give the same answer.
        from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
        from rasa.core.policies.policy import SupportedData

        most = most_states_memorized(self)
        featurizer = self.featurizer
        if (type(self) is not MemoizationPolicy or type(featurizer) is not MaxHistoryTrackerFeaturizer
                or featurizer.max_history is not None or most == float("inf") or not keeps_states(tracker)):
            return rasas_states(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
        ml_only = self.supported_data() == SupportedData.ML_DATA
        return latest_prediction_states(featurizer, tracker, domain, use_text_for_last_user_input, ml_only,
                                        rule_only_data, int(most) + 1, ignore_action_unlikely_intent=ml_only)

    _prediction_states.rasas = rasas_states  # type: ignore[attr-defined]
    MemoizationPolicy._prediction_states = _prediction_states  # type: ignore[method-assign]


def most_states_memorized(policy: Any) -> float:
    """An upper bound on the number of states in any of the policy's memorized keys (infinite when unknown).

    A key is the history's JSON (quotes removed, maybe compressed), and each state in it is a JSON object: a key
    of n states has at least n "{". So a longer history, whose key would have more, cannot be among them.
    """
    import base64
    import zlib

    remembered = policy.__dict__.get("_liptwitch_most_states")
    if remembered is not None and remembered[0] is policy.lookup:
        return remembered[1]
    most = 0.0
    try:
        for key, action in policy.lookup.items():
            if not isinstance(key, str) or not isinstance(action, str):
                raise TypeError("not a memorized history")
            text = key
            if policy.config.get("enable_feature_string_compression"):
                text = zlib.decompress(base64.b64decode(key)).decode("utf-8")
            most = max(most, text.count("{"))
    except (TypeError, ValueError, zlib.error, AttributeError):
        most = float("inf")
    policy.__dict__["_liptwitch_most_states"] = (policy.lookup, most)
    return most


def build_debug_log_arguments_only_for_debug_logs() -> None:
    import copy

    from rasa.core.policies import memoization, rule_policy

    if isinstance(memoization.copy, _CopyForDebugLogs):
        return
    # Both modules use `copy` only for debug-log arguments; the rule policy also formats every state for one.
    memoization.copy = rule_policy.copy = _CopyForDebugLogs(copy)  # type: ignore[attr-defined]
    format_tracker_states = rule_policy.RulePolicy.format_tracker_states

    def format_tracker_states_for_debug_logs(states: list) -> str:
        return format_tracker_states(states) if structlog_debug_enabled() else ""

    rule_policy.RulePolicy.format_tracker_states = staticmethod(format_tracker_states_for_debug_logs)


def structlog_debug_enabled() -> bool:
    """Whether Rasa's structlog loggers write debug events (`rasa run --debug`); structlog's own default is yes."""
    import logging

    import structlog

    disabled = structlog.make_filtering_bound_logger(logging.CRITICAL).debug
    return getattr(structlog.get_config()["wrapper_class"], "debug", None) is not disabled


class _CopyForDebugLogs:
    """The `copy` module for Rasa modules that deep-copy the whole history only to pass it to a debug log."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def deepcopy(self, value: Any, *args: Any) -> Any:
        return self._module.deepcopy(value, *args) if structlog_debug_enabled() else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def stop_matching_rules_past_the_longest_rule() -> None:
    from rasa.core.policies.rule_policy import RulePolicy

    original = RulePolicy._get_possible_keys

    def _get_possible_keys(self: RulePolicy, lookup: dict[str, str], states: list) -> set[str]:
        if type(self) is not RulePolicy:  # a subclass may match its own way
            return original(self, lookup, states)
        if not states:
            return set(lookup.keys())
        index = rule_index(self, lookup)
        # Rasa's _is_rule_applicable is True for every rule at a turn index past the rule's length.
        if index.longest < len(states):
            states = states[len(states) - index.longest:]
        # Rasa's loop, with each rule's states read once, and for the latest state only the rules whose latest
        # previous action is the conversation's (the others cannot match it). (The set's order, by which Rasa picks
        # between two matching keys of one length, follows the process's string hashing: Rasa keeps no order
        # either.)
        latest = states[-1]
        possible_keys = {key for key in index.candidates(latest)
                         if rule_applies(self, reversed_rule_states(self, key), 0, latest)}
        for turn_index, state in enumerate(reversed(states[:-1]), start=1):
            possible_keys = {key for key in possible_keys
                             if rule_applies(self, reversed_rule_states(self, key), turn_index, state)}
        return possible_keys

    _get_possible_keys.rasas = original  # type: ignore[attr-defined]
    RulePolicy._get_possible_keys = _get_possible_keys  # type: ignore[method-assign]


def give_the_rule_policy_only_the_states_its_rules_can_match() -> None:
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.core.policies.rule_policy import RulePolicy

    original = RulePolicy._prediction_states

    def _prediction_states(self: RulePolicy, tracker: Any, domain: Any, use_text_for_last_user_input: bool = False,
                           rule_only_data: dict[str, Any] | None = None) -> list:
        # Training trackers keep their own states (and their prediction sources matter): Rasa's way, as with debug
        # logs, which show the states.
        if (type(self) is not RulePolicy or type(self.featurizer) is not MaxHistoryTrackerFeaturizer
                or self.featurizer.max_history is not None or not keeps_states(tracker) or structlog_debug_enabled()):
            return original(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
        # The rule policy uses rule data: no turn is ignored.
        return latest_prediction_states(self.featurizer, tracker, domain, use_text_for_last_user_input, False,
                                        rule_only_data, rule_policy_states_cut(self))

    _prediction_states.rasas = original  # type: ignore[attr-defined]
    RulePolicy._prediction_states = _prediction_states  # type: ignore[method-assign]


def rule_policy_states_cut(policy: Any) -> int:
    """How many of the latest states the rule policy needs to predict exactly as with all of them: its longest rule's
    states, which are all that rule matching looks at, and one more. With the extra state, a conversation longer than
    that gives a key (the fallback "rule" when none matches, looked up among the rules not in stories) longer than
    every rule's, as the whole conversation's key is."""
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH

    return max(longest_rule(policy, policy.lookup.get(RULES, {})),
               longest_rule(policy, policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {}))) + 1


def reversed_rule_states(policy: Any, rule_key: str) -> list[dict[str, Any]]:
    """A rule's states, latest first, as Rasa's _is_rule_applicable reads them from the rule's key (JSON) every time
    it checks the rule against a state. A key's states depend on the key only: they are read once and kept."""
    read = policy.__dict__.setdefault("_liptwitch_reversed_rule_states", {})
    states = read.get(rule_key)
    if states is None:
        states = read[rule_key] = list(reversed(policy._rule_key_to_state(rule_key)))
    return states


def rule_applies(policy: Any, reversed_states: list[dict[str, Any]], turn_index: int, state: dict[str, Any]) -> bool:
    """Rasa's RulePolicy._is_rule_applicable, given the rule's states already read."""
    if turn_index >= len(reversed_states):  # further back than the rule is long
        return True
    rule_state = reversed_states[turn_index]
    current_previous_action = state.get(PREVIOUS_ACTION)
    rule_previous_action = rule_state.get(PREVIOUS_ACTION)
    if not rule_previous_action and not current_previous_action:  # both are conversation starts
        return True
    if not rule_previous_action or not current_previous_action:  # one is, the other is not
        return False
    return policy._does_rule_match_state(rule_state, state)


class RuleIndex(NamedTuple):
    """A rule lookup's keys by what the latest state of their rule needs, and the longest rule's length."""

    longest: int
    by_latest_action: dict[str, list[str]]  # the latest state's previous action name -> keys
    unindexed: list[str]  # rules whose latest state names no previous action

    def candidates(self, state: dict[str, Any]) -> list[str]:
        """The keys whose rules can match `state` as their latest state. A rule whose latest previous action is
        named matches only a state with that previous action: Rasa's _is_rule_applicable refuses a state with none,
        and _does_rule_match_state one with another."""
        previous_action = state.get(PREVIOUS_ACTION) or {}
        return [*self.by_latest_action.get(previous_action.get(ACTION_NAME), ()), *self.unindexed]


def rule_index(policy: Any, lookup: dict[str, str]) -> RuleIndex:
    """The RuleIndex of `lookup`, worked out once per lookup (again when its number of keys changes: training
    removes rules from it)."""
    remembered = policy.__dict__.setdefault("_liptwitch_rule_indexes", {})
    known = remembered.get(id(lookup))
    if known is None or known[0] is not lookup or known[1] != len(lookup):
        by_latest_action: dict[str, list[str]] = {}
        unindexed: list[str] = []
        for key in lookup:
            rule_states = reversed_rule_states(policy, key)
            previous_action = rule_states[0].get(PREVIOUS_ACTION) if rule_states else None
            name = previous_action.get(ACTION_NAME) if isinstance(previous_action, dict) else None
            if isinstance(name, str) and name and name != SHOULD_NOT_BE_SET:
                by_latest_action.setdefault(name, []).append(key)
            else:
                unindexed.append(key)
        longest = max((len(reversed_rule_states(policy, key)) for key in lookup), default=0)
        known = (lookup, len(lookup), RuleIndex(longest, by_latest_action, unindexed))
        remembered[id(lookup)] = known
    return known[2]


def longest_rule(policy: Any, lookup: dict[str, str]) -> int:
    """The number of states of the policy's longest rule in `lookup`."""
    return rule_index(policy, lookup).longest
