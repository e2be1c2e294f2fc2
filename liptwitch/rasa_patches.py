"""Narrow fixes to Rasa 3.6, applied when the project's NLU components load (rasa_components).

Rasa has no setting for any of them. The first two matter for safety, the third for speed:

1. A message starting with "/" is read as an intent command and skips the NLU pipeline, so
   "/goodbye my face is drooping" would never reach the red-flag detector. Buttons send exactly
   "/intent" or "/intent{...}"; words after the command mean a person typed it, and it is read.
2. The socket.io channel sends a reply's custom payload with `emit(event, **payload)`, which raises
   TypeError for any payload but Rasa's own internal shape: the turn stops half-way and its events
   (the conversation's context) are lost. The payload is sent as `{"custom": payload}` instead.
3. Every policy asks the tracker for its past states, up to five times a turn, and Rasa rebuilds them each
   time by replaying the whole session: 11 ms a call after 200 turns, most of a late turn's time
   (bench/RESULTS.md). The states depend only on the events and the arguments, so the tracker keeps the
   last ones it built until an event is added, and hands out copies (the featurizers edit them).
4. Rasa checks every action server response against its JSON schema with `jsonschema.validate`, which
   first checks the (large) schema itself, every time: most of a custom action's cost on Rasa's side.
   The schema's validator is built once; a response it refuses still gets Rasa's own check and error.
"""

from __future__ import annotations

from typing import Any

from rasa.shared.nlu.constants import INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message


def keep_text_after_intent_commands() -> None:
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    original = YAMLStoryReader.unpack_regex_message
    if getattr(original, "_keeps_text", False):
        return

    def unpack_regex_message(message: Message, *args: Any, **kwargs: Any) -> Message:
        text = (message.get(TEXT) or "").strip()
        match = YAMLStoryReader._regex_message_pattern().match(text) if text.startswith("/") else None
        if match and (match.group("rest").strip() or " " in match.group(INTENT_NAME_KEY).strip()):
            return message  # words after the command: a person's message, for the NLU pipeline
        return original(message, *args, **kwargs)

    unpack_regex_message._keeps_text = True  # type: ignore[attr-defined]
    YAMLStoryReader.unpack_regex_message = staticmethod(unpack_regex_message)  # type: ignore[assignment]


def send_custom_payloads_over_socketio() -> None:
    from rasa.core.channels.socketio import SocketIOOutput

    async def send_custom_json(self: SocketIOOutput, recipient_id: str, json_message: dict[str, Any],
                               **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})

    SocketIOOutput.send_custom_json = send_custom_json  # type: ignore[method-assign]


def remember_past_states_until_an_event_is_added() -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    original = DialogueStateTracker.past_states
    if getattr(original, "_remembers", False):
        return

    def past_states(self: DialogueStateTracker, domain: Any, omit_unset_slots: bool = False,
                    ignore_rule_only_turns: bool = False, rule_only_data: dict[str, Any] | None = None) -> list:
        events = self.events
        key = (id(domain), len(events), id(events[-1]) if events else None, omit_unset_slots,
               ignore_rule_only_turns, repr(rule_only_data))
        remembered = self.__dict__.get("_remembered_past_states")
        if remembered is None or remembered[0] != key:
            remembered = (key, original(self, domain, omit_unset_slots=omit_unset_slots,
                                        ignore_rule_only_turns=ignore_rule_only_turns, rule_only_data=rule_only_data))
            self.__dict__["_remembered_past_states"] = remembered
        # A state is {"user": {...}, "prev_action": {...}, ...} whose innermost values are strings and tuples:
        # copying two levels deep is enough for the featurizers, which delete keys of the inner dicts.
        return [{part: dict(values) for part, values in state.items()} for state in remembered[1]]

    past_states._remembers = True  # type: ignore[attr-defined]
    DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]


def validate_action_responses_with_one_validator() -> None:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    if getattr(original, "_one_validator", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if validator.is_valid(result):
            return True
        return original(self, result)  # Rasa's own check raises its own ValidationError and message

    _validate_action_result._one_validator = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def apply() -> None:
    keep_text_after_intent_commands()
    send_custom_payloads_over_socketio()
    remember_past_states_until_an_event_is_added()
    validate_action_responses_with_one_validator()
