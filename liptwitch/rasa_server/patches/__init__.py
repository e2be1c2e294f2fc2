"""Narrow fixes to Rasa 3.6, for which Rasa has no setting, applied once when the server starts (`apply_all`).

Two matter for safety, the others for speed (bench/RESULTS.md measures each); every one has tests that compare it
with Rasa's own result. By what they patch:

- messages: a message starting with "/" is a command only when it is one of the assistant's own buttons
  (liptwitch/core/commands.py): Rasa would skip the NLU pipeline, red-flag checks included, for any "/intent"
  anyone types. And a reply's custom payload reaches the chat page's socket whole (Rasa's channel raises on any
  payload but its own shape, and the turn's events are lost).
- trackers: a conversation's applied events and past states are kept and extended as events come, and copies are
  made from them (Rasa rebuilt them from the whole session several times a turn).
- action_server: the response is checked with one validator built once; the request carries the latest events,
  earlier turns compact and encoded once; connections are kept open between requests.
- policies: the memoization policy builds and looks up only histories it can have memorized; the rule policy
  matches only the rules and states that can apply; neither builds debug-log arguments with debug logs off.
- graph: prediction graphs run in order without dask; models load for prediction only (no training step);
  DIET's traced graph is called directly; sparse features are joined directly.

Order and coupling, the one place they are stated:

1. `trackers.keep_applied_events...` comes before `trackers.copy_only_the_states...` and the policies' patches:
   those take their shortcut only for a tracker whose past states are kept (`trackers.keeps_states`), and give
   Rasa's own answer otherwise.
2. `action_server.call_endpoints_over_kept_connections` (ujson as the session's encoder) lets
   `action_server.send_earlier_turns_compact...` put the already encoded events into the request as they are;
   without it the events are decoded again first.
3. The rest are independent of each other.

Rasa's component loading does not apply them: `python -m liptwitch.rasa_server` does, before Rasa's own command
line runs (`run`, `train`, `test`...), and the project's components refuse to run without them
(`require_patches`), so that no server runs without the safety fixes.
"""

from __future__ import annotations

from collections.abc import Callable

from liptwitch.rasa_server.patches import action_server, graph, messages, policies, trackers

# In the order they are applied (see the module's docstring for why the order matters).
PATCHES: tuple[Callable[[], None], ...] = (
    messages.read_only_offered_commands_as_commands,
    messages.send_custom_payloads_over_socketio,
    trackers.keep_applied_events_and_past_states_and_copy_trackers_quickly,
    trackers.copy_only_the_states_a_max_history_keeps,
    action_server.validate_action_responses_with_one_validator,
    action_server.call_endpoints_over_kept_connections,
    action_server.send_earlier_turns_compact_to_the_action_server,
    policies.build_debug_log_arguments_only_for_debug_logs,
    policies.recall_only_histories_as_short_as_memorized_ones,
    policies.stop_matching_rules_past_the_longest_rule,
    policies.give_the_rule_policy_only_the_states_its_rules_can_match,
    graph.run_prediction_graphs_without_dask,
    graph.load_models_for_prediction_only,
    graph.call_the_traced_prediction_graph_directly,
    graph.join_sparse_features_directly,
)
_APPLIED: set[str] = set()


def apply_once(patch: Callable[[], None]) -> None:
    """Apply `patch` unless it already was in this process: a patch applied twice would wrap its own replacement."""
    key = f"{patch.__module__}.{patch.__qualname__}"
    if key not in _APPLIED:
        patch()
        _APPLIED.add(key)


def apply_all() -> None:
    for patch in PATCHES:
        apply_once(patch)


def applied() -> bool:
    return len(_APPLIED) == len(PATCHES)


class PatchesMissing(RuntimeError):
    """The project's Rasa patches are not applied: the server must not answer without them."""


def require_patches() -> None:
    if not applied():
        raise PatchesMissing("the project's Rasa patches are not applied: start Rasa with `python -m "
                             "liptwitch.rasa_server <rasa command>` (as `make run` does), or call "
                             "liptwitch.rasa_server.patches.apply_all() before loading a model")
