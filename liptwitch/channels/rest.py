"""The REST channel: Rasa's request and answer, checked (liptwitch.core.limits), with an apology when a turn fails
and a repeated request answered, not run again."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pydantic
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from liptwitch.channels.base import (
    answering_politely,
    settle_the_server,
)
from liptwitch.core.limits import accepted_part, cut_note, sender_problem

logger = logging.getLogger(__name__)


class RestRequest(pydantic.BaseModel):
    """What the REST channel takes: Rasa's request, checked."""

    sender: pydantic.StrictStr
    message: pydantic.StrictStr
    metadata: dict[str, Any] | None = None
    message_id: pydantic.StrictStr | pydantic.StrictInt | None = None

    @pydantic.validator("sender")
    def _sender_names_a_conversation(cls, sender: str) -> str:  # noqa: N805 - pydantic's validator
        problem = sender_problem(sender)
        if problem:
            raise ValueError(problem)
        return sender


def refusal(status: int, reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


def rest_request(request: Request, token: str | None) -> RestRequest | HTTPResponse:
    """The checked request, or the refusal to send: one line saying what is wrong, never a 500."""
    if token and not hmac.compare_digest(request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode()):
        return refusal(401, "this channel needs 'Authorization: Bearer <the REST token>'")
    if "application/json" not in (request.headers.get("Content-Type") or ""):
        return refusal(415, "send the message as JSON, with 'Content-Type: application/json'")
    try:
        body = json.loads(request.body or b"")
    except ValueError:
        return refusal(400, "the body is not JSON")
    if not isinstance(body, dict):
        return refusal(400, "the body must be a JSON object: {\"sender\": \"...\", \"message\": \"...\"}")
    try:
        return RestRequest(**body)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        field_name = ".".join(str(part) for part in first["loc"])
        return refusal(400, f"'{field_name}': {first['msg']}")


class Rest(RestInput):
    """Rasa's REST channel (the same request and answer), with these changes:

    - a request that is not the channel's shape is refused with a one-line reason (400; 415 for a body that
      is not JSON, which also keeps other web pages from posting into a local server without asking), and
      the conversation id is checked (limits.sender_problem): never a 500, never a shared "default"
      conversation; with a token set (LIPTWITCH_REST_TOKEN, as `make run-platforms` and the cluster set it),
      only requests that bear it are taken;
    - a message longer than limits.MAX_MESSAGE_CHARACTERS is read up to there, and the answer says so;
    - the input channel is always "rest" (Rasa takes it from the body);
    - a turn that fails gets the apology, where Rasa answers 200 with nothing and logs the message's text;
    - a request with a `message_id` that the conversation already holds is answered with what was answered
      then, not run again. nginx repeats a request on the other Rasa server when the first one dies while
      answering: if it had already stored the turn, the person would otherwise get it twice.
    Rasa's `?stream=true` is not offered.
    """

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token or None

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls((credentials or {}).get("token"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)
        answer = answering_politely(on_new_message, self.name())
        settle_the_server(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            checked = rest_request(request, self.token)
            if isinstance(checked, HTTPResponse):
                return checked
            sender_id = checked.sender
            message_id = str(checked.message_id)[:128] if checked.message_id not in (None, "") else None
            if message_id is not None:
                earlier = await earlier_answer(request.app, sender_id, message_id)
                if earlier is not None:
                    return response.json(earlier)
            text = accepted_part(checked.message)
            collector = CollectingOutputChannel()
            await answer(UserMessage(text, collector, sender_id, input_channel=self.name(),
                                     metadata=checked.metadata, message_id=message_id))
            if text != checked.message:
                await collector.send_text_message(sender_id, cut_note())
            return response.json(collector.messages)

        return webhook


async def earlier_answer(app: Any, sender_id: str, message_id: str) -> list[dict[str, Any]] | None:
    """The replies to the message `message_id` if the conversation already holds it, else None."""
    agent = getattr(app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return None
    tracker = await agent.tracker_store.retrieve(sender_id)
    events = list(tracker.events) if tracker else []
    for index, event in enumerate(events):
        if isinstance(event, UserUttered) and event.message_id == message_id:
            replay = CollectingOutputChannel()  # the replies rebuilt as Rasa sent them the first time
            for later in events[index + 1:]:
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    await replay.send_response(sender_id, {**(later.data or {}), "text": later.text})
            return replay.messages
    return None


