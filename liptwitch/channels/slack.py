"""Slack: Rasa's own input channel (its signature check and event parsing are sound) with an output that renders
replies as Block Kit. SLACK_API_URL changes the API's address."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from liptwitch import settings
from liptwitch.channels.base import (
    RenderingOutput,
    SendError,
    api_url,
    default_country,
)
from liptwitch.core.messaging import (
    SLACK,
    OutgoingMessage,
)

logger = logging.getLogger(__name__)


# --- Slack --------------------------------------------------------------------------------------

class SlackOutput(RenderingOutput):
    platform = SLACK

    def __init__(self, token: str, channel: str | None, thread_id: str | None) -> None:
        super().__init__()
        self.client = AsyncWebClient(token, base_url=api_url(settings.SLACK_API_URL) + "/")
        self.channel, self.thread_id = channel, thread_id

    @classmethod
    def name(cls) -> str:
        return "slack"

    async def send_part(self, recipient_id: str, part: OutgoingMessage) -> None:
        blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": part.text}}]
        if part.options:
            blocks.append({"type": "actions", "elements": [
                {"type": "button", "action_id": f"option_{number}", "value": option.payload,
                 "text": {"type": "plain_text", "text": option.title, "emoji": True}}
                for number, option in enumerate(part.options, start=1)]})
        try:
            # `text` is what notifications show; the blocks are what the chat shows.
            await self.client.chat_postMessage(channel=self.channel or recipient_id, text=part.text, blocks=blocks,
                                               thread_ts=self.thread_id, unfurl_links=False)
        except SlackApiError as error:
            raise SendError(f"slack refused a reply: {error.response.get('error')}") from None


class Slack(SlackInput):
    """Rasa's Slack input (it checks the signing secret and the timestamp) with replies in mrkdwn and
    buttons."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def answer_url_verification(request: Request) -> HTTPResponse | None:
            # Rasa answers Slack's check of a new request URL with a bare JSON string, which Slack
            # refuses ("challenge_failed"): it wants {"challenge": ...}.
            if request.method != "POST" or not (request.content_type or "").startswith("application/json"):
                return None
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                return None
            if isinstance(body, dict) and body.get("type") == "url_verification" \
                    and self.is_request_from_slack_authentic(request):
                return response.json({"challenge": body.get("challenge")})
            return None

        return webhook

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None) -> OutputChannel:
        return SlackOutput(self.slack_token, channel or self.slack_channel, thread_id)

    def get_metadata(self, request: Request) -> dict[str, Any]:
        country = default_country()
        return {**super().get_metadata(request), **({"country": country} if country else {})}


