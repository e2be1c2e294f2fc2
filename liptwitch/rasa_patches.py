"""Narrow fixes to Rasa 3.6, applied when the project's NLU components load (rasa_components).

Rasa has no setting for any of them. The first two matter for safety, the others for speed
(bench/RESULTS.md, "Where a turn's time goes"); each has unit tests that compare it with Rasa's own result:

1. A message starting with "/" is read as an intent command and skips the NLU pipeline, so
   "/goodbye my face is drooping" would never reach the red-flag detector, and anyone could set the
   red-flag intents and entities themselves. Only the assistant's own button payloads are commands
   (liptwitch/commands.py); anything else, with words after it on any line or not, is read as text.
2. The socket.io channel sends a reply's custom payload with `emit(event, **payload)`, which raises
   TypeError for any payload but Rasa's own internal shape: the turn stops half-way and its events
   (the conversation's context) are lost. The payload is sent as `{"custom": payload}` instead.
3. Rasa rebuilds a tracker's applied events and past states from the whole session several times a turn, and
   copies the tracker by replaying every event before each action: a turn grew slower with every turn. They
   are now kept and extended as events are added (liptwitch/rasa_states.py); a featurizer with a max history
   gets copies of the last states only.
4. Rasa checks every action server response with `jsonschema.validate`, which first checks the (large) schema
   itself, then tries each event against all 23 event schemas. The checker is built once and tries each event
   against its own type's schema; a response it refuses still gets Rasa's own check and error.
5. Rasa sends the action server the whole session with every event in full (after 200 turns 650 KB, encoded
   and decoded on every call). Earlier turns are now sent with only what rasa_sdk and the actions read, each
   event encoded once.
6. The policies deep-copy and format the whole history for debug logs even when debug logging is off; they
   now do so only when it is on. The memoization policy encodes the whole history to look it up among the
   memorized ones even when it is longer than all of them; it now answers "not memorized" at once, and builds the
   states of only as much of the history as its longest memorized one (and one more).
7. Rasa runs each prediction graph (the NLU pipeline, the policies) through dask's parallel scheduler; they run
   in order instead, each node once, as dask's synchronous scheduler would.
8. Loading the NLU model, Rasa trains it one step to create its variables (tracing the whole training graph:
   about 20 s of the start-up and 450 MB of memory). One prediction creates the variables prediction needs.
9. Each prediction calls the traced TensorFlow function as a Python function: TensorFlow matches the ~30 input
   arrays against the function's signature (about 1.5 ms, twice the model's own work). The traced graph is now
   called with the arrays as tensors, in the signature's order.
10. The NLU pipeline joins each message's sparse features from its featurizers with scipy's general block
   stacking (about 0.2 ms a join, five joins a message). Two COO matrices are now joined directly, into the
   same matrix scipy builds.
11. The rule policy matches its rules against every state of the conversation, from the latest back, although
   past the longest rule every rule matches. It now stops there; and in a conversation, it gets copies of only as
   many of the latest states as its longest rule has, and one more (see `rule_policy_states_cut`). It also read
   each rule's states from the rule's JSON key again for every state it checked the rule against (about 1.5 ms a
   turn); it now reads them once, and checks the latest state only against the rules that can match it
   (`RuleIndex`).
12. Rasa opens a new connection to the action server for every action and closes it after (about 1 ms a turn), and
   encodes the request with the standard library's JSON encoder (2 ms after 200 turns). Connections are now kept
   open between requests (`kept_connector`), and ujson (which Rasa installs) encodes.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, NamedTuple

import aiohttp
import ujson
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.core.events import UserUttered
from rasa.shared.nlu.constants import ACTION_NAME, TEXT
from rasa.shared.nlu.training_data.message import Message


def read_only_offered_commands_as_commands() -> None:
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    from liptwitch.commands import offered_command
    from liptwitch.knowledge_base import load_knowledge_base

    original = YAMLStoryReader.unpack_regex_message
    if getattr(original, "_keeps_text", False):
        return
    topic_ids = frozenset(load_knowledge_base().items)

    def unpack_regex_message(message: Message, *args: Any, **kwargs: Any) -> Message:
        text = message.get(TEXT) or ""
        if text.lstrip().startswith("/") and not offered_command(text, topic_ids):
            return message  # not one of the assistant's buttons: a person's text, for the NLU pipeline
        return original(message, *args, **kwargs)

    unpack_regex_message._keeps_text = True  # type: ignore[attr-defined]
    YAMLStoryReader.unpack_regex_message = staticmethod(unpack_regex_message)  # type: ignore[assignment]


def send_custom_payloads_over_socketio() -> None:
    from rasa.core.channels.socketio import SocketIOOutput

    async def send_custom_json(self: SocketIOOutput, recipient_id: str, json_message: dict[str, Any],
                               **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})

    SocketIOOutput.send_custom_json = send_custom_json  # type: ignore[method-assign]


def keep_applied_events_and_past_states_and_copy_trackers_quickly() -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    from liptwitch import rasa_states

    if getattr(DialogueStateTracker.past_states, "_incremental", False):
        return

    def past_states(self: DialogueStateTracker, domain: Any, omit_unset_slots: bool = False,
                    ignore_rule_only_turns: bool = False, rule_only_data: dict[str, Any] | None = None) -> list:
        return rasa_states.past_states(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)

    def applied_events(self: DialogueStateTracker) -> list:
        return rasa_states.applied_events(self)

    def copy(self: DialogueStateTracker) -> DialogueStateTracker:
        return rasa_states.copy_tracker(self)

    past_states._incremental = True  # type: ignore[attr-defined]
    applied_events.rasas = DialogueStateTracker.applied_events  # type: ignore[attr-defined]
    copy.rasas = DialogueStateTracker.copy  # type: ignore[attr-defined]
    DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
    DialogueStateTracker.copy = copy  # type: ignore[method-assign]
    copy_only_the_states_a_max_history_keeps()


def copy_only_the_states_a_max_history_keeps() -> None:
    """A featurizer with a max history (the memoization policy's) keeps the last states only: only those are copied
    out of the kept ones, instead of the whole conversation's, then cut."""
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer

    original = MaxHistoryTrackerFeaturizer.prediction_states
    if getattr(original, "_tail_only", False):
        return

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

    prediction_states._tail_only = True  # type: ignore[attr-defined]
    prediction_states.rasas = original  # type: ignore[attr-defined]
    MaxHistoryTrackerFeaturizer.prediction_states = prediction_states  # type: ignore[method-assign]


def keeps_states(tracker: Any) -> bool:
    """Whether the tracker's past states are the kept ones (not a training tracker's own, for example)."""
    return getattr(type(tracker).past_states, "_incremental", False)


def latest_prediction_states(featurizer: Any, tracker: Any, domain: Any, use_text_for_last_user_input: bool,
                             ignore_rule_only_turns: bool, rule_only_data: dict[str, Any] | None, last: int,
                             ignore_action_unlikely_intent: bool = False) -> list:
    """Rasa's `MaxHistoryTrackerFeaturizer.prediction_states` for one tracker, on its `last` kept states only:
    create the states (here cut at once), leave out action_unlikely_intent (the memoization policy asks for that:
    the cut then reaches back further, until `last` states remain or the conversation is used up), cut them, choose
    text or intent for the last user input."""
    from liptwitch import rasa_states

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


def validate_action_responses_with_one_validator() -> None:
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    if getattr(original, "_one_validator", False):
        return
    is_valid = response_checker(RemoteAction.action_response_format_spec())

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if is_valid(result):
            return True
        return original(self, result)  # Rasa's own check raises its own ValidationError and message

    _validate_action_result._one_validator = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def response_checker(schema: dict[str, Any]) -> Any:
    """A quick `is_valid` for Rasa's action response schema, built once.

    Each event must match exactly one of the schema's event alternatives ("oneOf"), and each alternative fixes the
    event's name ({"const": ...}): so an event is valid exactly when it is valid for its own name's alternative, and
    only that one is checked (jsonschema would try all 23 for every event). A schema of another shape is checked
    whole, with one validator.
    """
    from jsonschema.validators import validator_for

    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    whole = validator_class(schema)
    try:
        events = schema["properties"]["events"]
        event_schema = events["items"]
        alternatives = event_schema["oneOf"]
        by_name = {alternative["properties"]["event"]["const"]: alternative for alternative in alternatives}
    except (KeyError, TypeError):
        return whole.is_valid
    if len(by_name) != len(alternatives) or set(events) != {"type", "items"}:
        return whole.is_valid
    common = {key: value for key, value in event_schema.items() if key != "oneOf"}
    event_validators = {name: validator_class({"allOf": [common, alternative]})
                        for name, alternative in by_name.items()}
    without_events = validator_class({**schema, "properties": {key: value for key, value in
                                                               schema["properties"].items() if key != "events"}})

    def is_valid(result: Any) -> bool:
        if not without_events.is_valid(result):
            return False
        if not isinstance(result, dict) or "events" not in result:
            return True
        events = result["events"]
        if not isinstance(events, list):
            return False
        for event in events:
            validator = event_validators.get(event.get("event")) if isinstance(event, dict) else None
            if validator is None or not validator.is_valid(event):
                return False
        return True

    return is_valid


# What rasa_sdk's Tracker and the project's actions read of an event from an earlier turn (beside its type and
# time): user texts and channels (and a little of their understanding, `earlier_parse_data`), action, loop and
# follow-up names, slot values. An event type not listed here is sent whole.
EARLIER_TURN_FIELDS: dict[str, tuple[str, ...]] = {
    "user": ("text", "input_channel"),
    "user_featurization": (),
    "bot": (),
    "action": ("name",),
    "slot": ("name", "value"),
    "active_loop": ("name",),
    "followup": ("name",),
}


class EncodedJSON:
    """JSON text that ujson (the action server session's encoder, patch 12) writes into a request as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __json__(self) -> str:
        return self.text


# The latest events of a session the action server is sent (30 to 60 turns): what its actions read (this turn, the
# safety-net question before it, recent messages for a hand-off summary). A request no longer grows with the
# conversation: after 1,000 turns it had carried 7,000 events, 15 ms of every turn to build and read.
EVENTS_FOR_THE_ACTION_SERVER = 300


def events_for_the_action_server(events: Any) -> EncodedJSON:
    """A session's latest events (EVENTS_FOR_THE_ACTION_SERVER) as sent to the action server, encoded: the current
    turn (from the latest user message) whole, earlier ones with only what is read of them. Their parse data, bot
    texts and policy details are most of a long session's request, which Rasa would encode and the action server
    decode on every call. An earlier event's encoding is made once and kept on it: encoding them all again took 0.7
    ms a call after 200 turns."""
    events = list(events)[-EVENTS_FOR_THE_ACTION_SERVER:]
    latest_user = next((index for index in range(len(events) - 1, -1, -1) if isinstance(events[index], UserUttered)),
                       0)
    encoded = [_compact_json(event) for event in events[:latest_user]]
    encoded += [ujson.dumps(event.as_dict()) for event in events[latest_user:]]
    return EncodedJSON("[" + ",".join(encoded) + "]")


def _compact_json(event: Any) -> str:
    # An event of an earlier turn no longer changes: its compact encoding is made once and kept on it.
    encoded = event.__dict__.get("_compact_json_for_action_server")
    if encoded is None:
        whole = event.as_dict()
        fields = EARLIER_TURN_FIELDS.get(whole.get("event"))
        compact = whole if fields is None else {"event": whole["event"], "timestamp": whole.get("timestamp"),
                                                 **{name: whole[name] for name in fields if name in whole}}
        if whole.get("event") == "user":
            compact["parse_data"] = earlier_parse_data(whole.get("parse_data") or {})
        encoded = event.__dict__["_compact_json_for_action_server"] = ujson.dumps(compact)
    return encoded


def earlier_parse_data(parse_data: dict[str, Any]) -> dict[str, Any]:
    """What the actions read of an earlier message's understanding: after "none of these", the question that
    the safety-net question interrupted (its intent, the model's intent and its topics)."""
    def name_of(key: str) -> dict[str, Any]:
        return {"name": (parse_data.get(key) or {}).get("name")}

    return {"intent": name_of("intent"), "model_intent": name_of("model_intent"),
            "entities": [{"entity": e.get("entity"), "value": e.get("value")} for e in parse_data.get("entities") or []
                         if isinstance(e, dict)]}


def send_earlier_turns_compact_to_the_action_server() -> None:
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity
    from rasa.utils.endpoints import EndpointConfig

    if getattr(RemoteAction._action_call_format, "_compact", False):
        return

    def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> dict[str, Any]:
        # Rasa's own request (rasa/core/actions/action.py), with the events of earlier turns compact.
        tracker_state = tracker.current_state(EventVerbosity.NONE)
        events = events_for_the_action_server(tracker.events)
        # Already encoded for ujson, the endpoints' encoder once patch 12 is in; decoded again otherwise.
        kept_session = getattr(EndpointConfig.session, "_kept", False)
        tracker_state["events"] = events if kept_session else json.loads(events.text)
        result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": tracker_state,
                  "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    _action_call_format._compact = True  # type: ignore[attr-defined]
    RemoteAction._action_call_format = _action_call_format  # type: ignore[method-assign]


def recall_only_histories_as_short_as_memorized_ones() -> None:
    from rasa.core.policies.memoization import MemoizationPolicy

    original = MemoizationPolicy._recall_states
    if getattr(original, "_bounded", False):
        return

    def _recall_states(self: MemoizationPolicy, states: list) -> str | None:
        if len(states) > most_states_memorized(self):
            return None  # no memorized history is that long: the key would not be found
        return original(self, states)

    _recall_states._bounded = True  # type: ignore[attr-defined]
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


def run_prediction_graphs_without_dask() -> None:
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    original = DaskGraphRunner.run
    if getattr(original, "_without_dask", False):
        return

    def run(self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict:
        if not inputs or not (PLACEHOLDER_MESSAGE in inputs or PLACEHOLDER_TRACKER in inputs):
            return original(self, inputs, targets)  # training and anything else: Rasa's own, with dask
        run_targets = targets if targets else self._graph_schema.target_names
        graph = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        self._add_inputs_to_graph(inputs, graph)
        try:
            results = run_graph(graph, run_targets)
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(results[target] for target in run_targets)

    run._without_dask = True  # type: ignore[attr-defined]
    DaskGraphRunner.run = run  # type: ignore[method-assign]


def run_graph(graph: dict[str, Any], targets: list[str]) -> dict[str, Any]:
    """Runs a Rasa graph in dask's form ({name: (node, *names of its inputs)} or {name: (name, input value)}) in
    order, each node once; dask's scheduler, built for parallel work, costs about 0.6 ms a run, three runs a turn."""
    results: dict[str, Any] = {}

    def result_of(name: str) -> Any:
        if name not in results:
            task = graph[name]
            if isinstance(task, tuple) and task and callable(task[0]):
                results[name] = task[0](*(result_of(need) if isinstance(need, str) and need in graph else need
                                          for need in task[1:]))
            else:
                results[name] = task  # an input: (its name, its value)
        return results[name]

    for target in targets:
        result_of(target)
    return results


def load_models_for_prediction_only() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    original = RasaModel.load.__func__  # type: ignore[attr-defined]
    if getattr(original, "_for_prediction", False):
        return

    def load(cls: type, model_file_name: str, model_data_example: Any, predict_data_example: Any = None,
             finetune_mode: bool = False, *args: Any, **kwargs: Any) -> RasaModel:
        if finetune_mode or not predict_data_example:
            return original(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                            *args, **kwargs)
        model = cls(*args, **kwargs)
        # One eager prediction creates every variable that prediction uses. (Rasa trains one step instead, which
        # also creates the optimizer's variables and traces the whole training graph.) Its outputs are thrown away:
        # the weights are still random.
        model._run_eagerly = True
        model.run_inference(predict_data_example)
        model.load_weights(model_file_name).expect_partial()  # the optimizer's saved variables are not needed
        # What that prediction prepared (the label embeddings) came from the random weights: prepare again, and
        # trace the prediction graph once, as Rasa's own load does.
        model._run_eagerly = bool(kwargs.get("config", {}).get("run_eagerly"))
        model.prepared_for_prediction = False
        model._tf_predict_step = None
        model.run_inference(predict_data_example)
        return model

    load._for_prediction = True  # type: ignore[attr-defined]
    load.rasas = original  # type: ignore[attr-defined]
    RasaModel.load = classmethod(load)  # type: ignore[method-assign, assignment]


def call_the_traced_prediction_graph_directly() -> None:
    import tensorflow as tf
    from keras.utils import tf_utils
    from rasa.shared.constants import DIAGNOSTIC_DATA
    from rasa.utils.tensorflow.models import RasaModel

    original = RasaModel._rasa_predict
    if getattr(original, "_direct", False):
        return

    def _rasa_predict(self: RasaModel, batch_in: Any) -> dict[str, Any]:
        traced = self._tf_predict_step
        if self._run_eagerly or not self.prepared_for_prediction or traced is None or self._training:
            return original(self, batch_in)  # the first prediction traces the graph, as Rasa does
        graph = traced_graph(traced)
        inputs = [tf.convert_to_tensor(value, dtype=spec.dtype)
                  for value, spec in zip(batch_in, graph.input_specs, strict=True)]
        flat_outputs = graph.function._call_flat(inputs, graph.function.captured_inputs)
        outputs = tf_utils.sync_to_numpy_or_python_type(flat_outputs)
        if DIAGNOSTIC_DATA in outputs:
            outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs

    _rasa_predict._direct = True  # type: ignore[attr-defined]
    _rasa_predict.rasas = original  # type: ignore[attr-defined]
    RasaModel._rasa_predict = _rasa_predict  # type: ignore[method-assign]


class TracedGraph(NamedTuple):
    function: Any  # the tf.function's one concrete function (it has a fixed input signature)
    input_specs: list[Any]


def traced_graph(traced: Any) -> TracedGraph:
    """The concrete function behind a tf.function with an input signature, kept on it."""
    graph = getattr(traced, "_liptwitch_graph", None)
    if graph is None:
        import tensorflow as tf

        function = traced.get_concrete_function()
        graph = TracedGraph(function, tf.nest.flatten(function.structured_input_signature))
        traced._liptwitch_graph = graph
    return graph


def join_sparse_features_directly() -> None:
    from rasa.shared.nlu.training_data.features import Features

    original = Features._combine_sparse_features
    if getattr(original, "_direct", False):
        return

    def _combine_sparse_features(self: Features, additional_features: Features) -> None:
        joined = hstack_coo(self.features, additional_features.features)
        if joined is None:
            return original(self, additional_features)  # other formats, or rows that differ: Rasa's own
        self.features = joined
        self._cached_fingerprint = None

    _combine_sparse_features._direct = True  # type: ignore[attr-defined]
    _combine_sparse_features.rasas = original  # type: ignore[attr-defined]
    Features._combine_sparse_features = _combine_sparse_features  # type: ignore[method-assign]


def hstack_coo(left: Any, right: Any) -> Any:
    """`scipy.sparse.hstack([left, right])` for two COO matrices with the same number of rows, built as scipy
    1.10's `bmat` builds it (blocks' entries one after the other, columns shifted, values in the common type);
    None for anything else."""
    import numpy as np
    import scipy.sparse
    from scipy.sparse._sputils import upcast  # scipy's own choice of the common type (scipy is pinned)

    if not (isinstance(left, scipy.sparse.coo_matrix) and isinstance(right, scipy.sparse.coo_matrix)
            and left.shape[0] == right.shape[0]):
        return None
    shape = (left.shape[0], left.shape[1] + right.shape[1])
    index_dtype = np.int32 if max(shape) <= np.iinfo(np.int32).max else np.int64  # as scipy's get_index_dtype
    row = np.concatenate([left.row, right.row]).astype(index_dtype, copy=False)
    col = np.concatenate([left.col.astype(index_dtype, copy=False),
                          right.col.astype(index_dtype, copy=False) + index_dtype(left.shape[1])])
    data = np.concatenate([left.data, right.data]).astype(upcast(left.dtype, right.dtype), copy=False)
    return scipy.sparse.coo_matrix((data, (row, col)), shape=shape)


def stop_matching_rules_past_the_longest_rule() -> None:
    from rasa.core.policies.rule_policy import RulePolicy

    original = RulePolicy._get_possible_keys
    if getattr(original, "_bounded", False):
        return

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

    _get_possible_keys._bounded = True  # type: ignore[attr-defined]
    _get_possible_keys.rasas = original  # type: ignore[attr-defined]
    RulePolicy._get_possible_keys = _get_possible_keys  # type: ignore[method-assign]


def give_the_rule_policy_only_the_states_its_rules_can_match() -> None:
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.core.policies.rule_policy import RulePolicy

    original = RulePolicy._prediction_states
    if getattr(original, "_cut", False):
        return

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

    _prediction_states._cut = True  # type: ignore[attr-defined]
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


# Seconds a connection to an action server stays open unused: below Sanic's keep-alive time-out (5 s), so that the
# action server never closes a connection just as a request goes out on it.
KEEP_CONNECTIONS_S = 2.0
_KEPT_CONNECTORS: dict[asyncio.AbstractEventLoop, aiohttp.TCPConnector] = {}


def call_endpoints_over_kept_connections() -> None:
    from rasa.utils import endpoints

    if getattr(endpoints.EndpointConfig.session, "_kept", False):
        return

    def session(self: endpoints.EndpointConfig) -> aiohttp.ClientSession:
        # Rasa's session (headers, authentication, time-out), over the event loop's kept connections, and encoding
        # JSON with ujson (a long conversation's request took 2 ms with the standard library, 0.7 ms with ujson).
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        return aiohttp.ClientSession(headers=self.headers, auth=auth,
                                     timeout=aiohttp.ClientTimeout(total=endpoints.DEFAULT_REQUEST_TIMEOUT),
                                     connector=kept_connector(), connector_owner=False, json_serialize=ujson.dumps)

    session._kept = True  # type: ignore[attr-defined]
    session.rasas = endpoints.EndpointConfig.session  # type: ignore[attr-defined]
    endpoints.EndpointConfig.session = session  # type: ignore[method-assign]


def kept_connector() -> aiohttp.TCPConnector:
    """The running event loop's connections to endpoints, kept open between requests. Rasa opens and closes one for
    every request to the action server (about 1 ms of a turn, on both sides)."""
    loop = asyncio.get_running_loop()
    connector = _KEPT_CONNECTORS.get(loop)
    if connector is None or connector.closed:
        for ended in [other for other in _KEPT_CONNECTORS if other.is_closed()]:
            del _KEPT_CONNECTORS[ended]
        # No limit on connections at once, as with Rasa's session per request.
        connector = _KEPT_CONNECTORS[loop] = aiohttp.TCPConnector(keepalive_timeout=KEEP_CONNECTIONS_S, limit=0)
    return connector


async def close_kept_connections() -> None:
    """Close the running event loop's kept connections (when the server stops)."""
    connector = _KEPT_CONNECTORS.pop(asyncio.get_running_loop(), None)
    if connector is not None:
        await connector.close()


def apply() -> None:
    read_only_offered_commands_as_commands()
    send_custom_payloads_over_socketio()
    keep_applied_events_and_past_states_and_copy_trackers_quickly()
    validate_action_responses_with_one_validator()
    send_earlier_turns_compact_to_the_action_server()
    build_debug_log_arguments_only_for_debug_logs()
    recall_only_histories_as_short_as_memorized_ones()
    run_prediction_graphs_without_dask()
    load_models_for_prediction_only()
    call_the_traced_prediction_graph_directly()
    join_sparse_features_directly()
    stop_matching_rules_past_the_longest_rule()
    give_the_rule_policy_only_the_states_its_rules_can_match()
    call_endpoints_over_kept_connections()
