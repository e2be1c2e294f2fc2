"""Twilio SMS and WhatsApp: a webhook checked by Twilio's signature (Rasa's channel checks none), numbered options
in place of buttons. TWILIO_API_URL changes the API's address."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from liptwitch import settings
from liptwitch.channels.base import (
    Incoming,
    RenderingOutput,
    WebhookInput,
    api_url,
    post_to_platform,
)
from liptwitch.core.messaging import (
    SMS,
    WHATSAPP_VIA_TWILIO,
    OutgoingMessage,
    Platform,
)

logger = logging.getLogger(__name__)


def twilio_signature_matches(auth_token: str, url: str, params: dict[str, str], header: str | None) -> bool:
    """Twilio signs the URL it posted to and the form fields with the auth token (X-Twilio-Signature)."""
    return bool(auth_token) and bool(header) and RequestValidator(auth_token).validate(url, params, header)


def twilio_signed_url(webhook_url: str | None, path: str, query: str, scheme: str, host: str,
                      forwarded_proto: str | None = None, forwarded_host: str | None = None) -> str:
    """The URL Twilio signed: the configured public one, else the one the request arrived at."""
    if not webhook_url:
        scheme = (forwarded_proto or scheme).split(",")[0].strip()
        host = (forwarded_host or host).split(",")[0].strip()
        webhook_url = f"{scheme}://{host}{path}"
    return webhook_url + (f"?{query}" if query else "")


# --- Twilio: SMS and WhatsApp -------------------------------------------------------------------

class TwilioOutput(RenderingOutput):
    def __init__(self, account_sid: str, auth_token: str, sender: str, platform: Platform) -> None:
        super().__init__()
        base = api_url(settings.TWILIO_API_URL)
        self.url = f"{base}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.sender, self.platform = sender, platform

    @classmethod
    def name(cls) -> str:
        return "twilio"

    async def send_part(self, recipient_id: str, part: OutgoingMessage) -> None:
        # The numbered options are already in the text (messaging.render).
        await post_to_platform("twilio", self.url, auth=self.auth,
                    data={"To": recipient_id, "From": self.sender, "Body": part.text})


class Twilio(WebhookInput):
    """Twilio Messaging webhook for SMS and WhatsApp, signed with the auth token (X-Twilio-Signature).

    Twilio signs the public URL it posts to, which a server behind a proxy may not see as such: it is
    LIPTWITCH_PUBLIC_URL + the webhook's path (or `webhook_url` in the credentials). Without either,
    the URL the request arrived at is used, as the proxy's X-Forwarded-Proto and -Host headers tell it.
    Replies go from the number the person wrote to, so one webhook serves any number of SMS numbers
    and WhatsApp senders.
    """

    platform_label = "Twilio"
    credential_keys = ("account_sid", "auth_token")

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        channel = super().from_credentials(credentials)
        public_url = settings.PUBLIC_URL.read().rstrip("/")
        channel.webhook_url = (credentials or {}).get("webhook_url") or (
            f"{public_url}/webhooks/{cls.name()}/webhook" if public_url else None)
        if not channel.webhook_url:
            logger.warning("twilio: LIPTWITCH_PUBLIC_URL is not set; checking signatures against the URL each "
                           "request arrived at")
        return channel

    def __init__(self, account_sid: str, auth_token: str, webhook_url: str | None = None) -> None:
        super().__init__()
        self.account_sid, self.auth_token, self.webhook_url = account_sid, auth_token, webhook_url

    def is_authentic(self, request: Request) -> bool:
        url = twilio_signed_url(self.webhook_url, request.path, request.query_string, request.scheme,
                                request.headers.get("Host", ""), request.headers.get("X-Forwarded-Proto"),
                                request.headers.get("X-Forwarded-Host"))
        params = {key: values[0] for key, values in request.form.items()}
        return twilio_signature_matches(self.auth_token, url, params, request.headers.get("X-Twilio-Signature"))

    def picks_numbered_options(self, incoming: Incoming) -> bool | None:
        return True

    def read(self, request: Request) -> list[Incoming]:
        form = request.form
        sender, recipient = form.get("From"), form.get("To")
        if not sender or not recipient:
            raise ValueError("a Twilio message has From and To")
        platform = WHATSAPP_VIA_TWILIO if sender.startswith("whatsapp:") else SMS
        text = (form.get("Body") or "").replace("\u00a1", "@")  # some carriers turn @ into ¡
        output = TwilioOutput(self.account_sid, self.auth_token, recipient, platform)
        return [Incoming(sender, text, form.get("MessageSid"), output, self._metadata(form.get("FromCountry")))]

    def acknowledge(self) -> HTTPResponse:
        # An empty TwiML response: the replies go through the REST API, after the assistant answers.
        return response.text('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', content_type="text/xml")


