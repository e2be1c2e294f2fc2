"""Telegram: a webhook checked by its secret token, answered in the background through the Bot API (Rasa's own
channel calls the Telegram API when it starts and on every message). TELEGRAM_API_URL changes the API's address."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from rasa.core.channels.channel import OutputChannel
from sanic.request import Request

from liptwitch import settings
from liptwitch.channels.base import (
    Incoming,
    RenderingOutput,
    SendError,
    WebhookInput,
    api_url,
    post_to_platform,
)
from liptwitch.core.messaging import (
    TELEGRAM,
    OutgoingMessage,
)

logger = logging.getLogger(__name__)


# Telegram sends these when a chat starts and from its menu; both mean "hello".
TELEGRAM_GREETING_COMMANDS = {"/start", "/help"}


# --- signatures (pure functions: the unit tests call them directly) ------------------------------

def telegram_secret_matches(secret_token: str, header: str | None) -> bool:
    """Telegram sends the secret given to setWebhook in X-Telegram-Bot-Api-Secret-Token."""
    return bool(secret_token) and hmac.compare_digest((header or "").encode(), secret_token.encode())


# --- Telegram -----------------------------------------------------------------------------------

class TelegramOutput(RenderingOutput):
    platform = TELEGRAM

    def __init__(self, bot_token: str) -> None:
        super().__init__()
        self.url = f"{api_url(settings.TELEGRAM_API_URL)}/bot{bot_token}/sendMessage"

    @classmethod
    def name(cls) -> str:
        return "telegram"

    async def send_part(self, recipient_id: str, part: OutgoingMessage) -> None:
        message: dict[str, Any] = {"chat_id": recipient_id, "text": part.text, "parse_mode": "HTML",
                                   "disable_web_page_preview": True}
        if part.options:  # a reply keyboard: a tap sends the title as the person's message
            message["reply_markup"] = {"keyboard": [[{"text": option.title}] for option in part.options],
                                       "one_time_keyboard": True, "resize_keyboard": True}
        else:  # no stale options left on screen
            message["reply_markup"] = {"remove_keyboard": True}
        try:
            await post_to_platform("telegram", self.url, json=message)
        except SendError:
            # Telegram refuses the whole message when it cannot parse the HTML: send it unformatted.
            message.pop("parse_mode")
            message["text"] = part.plain
            await post_to_platform("telegram", self.url, json=message)


class Telegram(WebhookInput):
    """Telegram Bot API webhook. Register it with setWebhook and a secret_token (docs/channels.md, "Telegram")."""

    platform_label = "Telegram"
    credential_keys = ("bot_token", "secret_token")

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, bot_token: str, secret_token: str) -> None:
        super().__init__()
        self.bot_token, self.secret_token = bot_token, secret_token

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput(self.bot_token)

    def is_authentic(self, request: Request) -> bool:
        return telegram_secret_matches(self.secret_token, request.headers.get("X-Telegram-Bot-Api-Secret-Token"))

    def picks_numbered_options(self, incoming: Incoming) -> bool | None:
        return False  # the reply keyboard sends the option's title back

    def read(self, request: Request) -> list[Incoming]:
        update = request.json
        if "callback_query" in update:
            query = update["callback_query"]
            chat, text = query["message"]["chat"], query.get("data")
        else:
            message = update.get("message") or update.get("edited_message")
            if not message:
                return []  # channel posts, member changes...: nothing a person asked
            chat, text = message["chat"], message.get("text")
            if text and text.split()[0].split("@")[0] in TELEGRAM_GREETING_COMMANDS:
                text = "/greet"
        return [Incoming(str(chat["id"]), text, f"telegram:{update['update_id']}", self.get_output_channel(),
                         self._metadata())]


