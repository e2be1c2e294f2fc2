"""Facebook Messenger: a webhook checked by its SHA-256 signature (Rasa's checks only SHA-1), every event of a
request answered, sending without blocking. MESSENGER_API_URL changes the API's address."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from rasa.core.channels.channel import OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from liptwitch import settings
from liptwitch.channels.base import (
    Incoming,
    RenderingOutput,
    WebhookInput,
    api_url,
    post_to_platform,
)
from liptwitch.core.messaging import (
    MESSENGER,
    OutgoingMessage,
)

logger = logging.getLogger(__name__)


def messenger_signature_matches(app_secret: str, body: bytes, header: str | None) -> bool:
    """Meta signs the raw body with the app secret: X-Hub-Signature-256: sha256=<hex HMAC-SHA256>."""
    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return bool(app_secret) and hmac.compare_digest((header or "").encode(), expected.encode())


# --- Facebook Messenger -------------------------------------------------------------------------

class MessengerOutput(RenderingOutput):
    platform = MESSENGER

    def __init__(self, page_access_token: str) -> None:
        super().__init__()
        self.url = f"{api_url(settings.MESSENGER_API_URL)}/me/messages"
        self.page_access_token = page_access_token

    @classmethod
    def name(cls) -> str:
        return "messenger"

    async def send_part(self, recipient_id: str, part: OutgoingMessage) -> None:
        message: dict[str, Any] = {"text": part.text}
        if part.options:
            message["quick_replies"] = [{"content_type": "text", "title": option.title, "payload": option.payload}
                                        for option in part.options]
        await post_to_platform("messenger", self.url, params={"access_token": self.page_access_token},
                    json={"recipient": {"id": recipient_id}, "messaging_type": "RESPONSE", "message": message})


class Messenger(WebhookInput):
    """Messenger Platform webhook, signed with the app secret (X-Hub-Signature-256)."""

    platform_label = "Facebook Messenger"
    credential_keys = ("page_access_token", "app_secret", "verify_token")

    @classmethod
    def name(cls) -> str:
        return "messenger"

    def __init__(self, page_access_token: str, app_secret: str, verify_token: str) -> None:
        super().__init__()
        self.page_access_token, self.app_secret, self.verify_token = page_access_token, app_secret, verify_token

    def get_output_channel(self) -> OutputChannel:
        return MessengerOutput(self.page_access_token)

    def is_authentic(self, request: Request) -> bool:
        return messenger_signature_matches(self.app_secret, request.body, request.headers.get("X-Hub-Signature-256"))

    def add_routes(self, webhook: Blueprint) -> None:
        @webhook.route("/webhook", methods=["GET"])
        async def subscribe(request: Request) -> HTTPResponse:
            # Meta checks the webhook when it is registered: echo the challenge if the token matches.
            token = request.args.get("hub.verify_token") or ""
            if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(token.encode(),
                                                                                    self.verify_token.encode()):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("messenger: refused a webhook subscription with a wrong verify token")
            return response.text("Forbidden: wrong verify token.", status=403)

    def read(self, request: Request) -> list[Incoming]:
        body = request.json
        if body.get("object") != "page":
            return []
        messages = []
        for entry in body.get("entry", []):
            for event in entry.get("messaging", []):
                sender = str(event["sender"]["id"])
                if "message" in event:
                    message = event["message"]
                    if message.get("is_echo"):
                        continue  # the page's own reply, echoed back
                    quick_reply = message.get("quick_reply")
                    text = quick_reply["payload"] if quick_reply else message.get("text")
                    event_id = message.get("mid")
                elif "postback" in event:
                    postback = event["postback"]
                    text = postback.get("payload") or postback.get("title")
                    event_id = postback.get("mid")
                else:
                    continue  # delivery and read receipts
                messages.append(Incoming(sender, text, event_id, self.get_output_channel(), self._metadata()))
        return messages

    def acknowledge(self) -> HTTPResponse:
        return response.text("EVENT_RECEIVED")


