"""Two narrow fixes to Rasa 3.6, applied when the project's NLU components load (rasa_components).

Rasa has no setting for either, and both matter for safety:

1. A message starting with "/" is read as an intent command and skips the NLU pipeline, so
   "/goodbye my face is drooping" would never reach the red-flag detector. Buttons send exactly
   "/intent" or "/intent{...}"; words after the command mean a person typed it, and it is read.
2. The socket.io channel sends a reply's custom payload with `emit(event, **payload)`, which raises
   TypeError for any payload but Rasa's own internal shape: the turn stops half-way and its events
   (the conversation's context) are lost. The payload is sent as `{"custom": payload}` instead.
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


def apply() -> None:
    keep_text_after_intent_commands()
    send_custom_payloads_over_socketio()
