"""What a message is: a person's text or one of the assistant's own buttons; a reply's custom payload on the
chat page's socket.

Each patch has unit tests that compare it with Rasa's own result (tests/rasa_server/).
"""

from __future__ import annotations

from typing import Any

from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message


def read_only_offered_commands_as_commands() -> None:
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    from liptwitch.core.commands import offered_command
    from liptwitch.core.knowledge_base import load_knowledge_base

    original = YAMLStoryReader.unpack_regex_message
    topic_ids = frozenset(load_knowledge_base().items)

    def unpack_regex_message(message: Message, *args: Any, **kwargs: Any) -> Message:
        text = message.get(TEXT) or ""
        if text.lstrip().startswith("/") and not offered_command(text, topic_ids):
            return message  # not one of the assistant's buttons: a person's text, for the NLU pipeline
        return original(message, *args, **kwargs)

    YAMLStoryReader.unpack_regex_message = staticmethod(unpack_regex_message)  # type: ignore[assignment]


def send_custom_payloads_over_socketio() -> None:
    from rasa.core.channels.socketio import SocketIOOutput

    async def send_custom_json(self: SocketIOOutput, recipient_id: str, json_message: dict[str, Any],
                               **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})

    SocketIOOutput.send_custom_json = send_custom_json  # type: ignore[method-assign]
