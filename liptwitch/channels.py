"""Rasa connectors for the messaging platforms: Telegram, Slack, Facebook Messenger, Twilio SMS and WhatsApp.

Each one is a thin adapter: it checks that the request really comes from the platform, reads the
person's message, hands it to Rasa, and sends Rasa's replies back through the platform's API as
`liptwitch.messaging` shapes them. Slack reuses Rasa's own input channel (its signature check and
event parsing are sound) with a new output. Rasa's Telegram channel calls the Telegram API when it
starts and on every message, its Messenger channel checks only the SHA-1 signature, sends with a
blocking client and answers one event per request, and its Twilio channel checks no signature at
all: those three are written here.

Every platform's API address can be changed with an environment variable (TELEGRAM_API_URL,
SLACK_API_URL, MESSENGER_API_URL, TWILIO_API_URL), for a proxy or for the tests' local fake API.
The person's words are never logged.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pydantic
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.slack import SlackInput
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from twilio.request_validator import RequestValidator

from liptwitch.answers import APOLOGY, NOT_TEXT
from liptwitch.limits import MAX_REQUEST_BYTES, accepted_part, cut_note, sender_problem
from liptwitch.messaging import (
    MESSENGER,
    SLACK,
    SMS,
    TELEGRAM,
    WHATSAPP_VIA_TWILIO,
    Option,
    OutgoingMessage,
    Platform,
    options_of,
    pick_option,
    render,
)
from liptwitch.rasa_patches import close_kept_connections

logger = logging.getLogger(__name__)

# What the person reads when the message cannot be answered as it is (liptwitch/answers.py).
NOT_TEXT_REPLY, FAILED_REPLY = NOT_TEXT, APOLOGY
# Telegram sends these when a chat starts and from its menu; both mean "hello".
TELEGRAM_GREETING_COMMANDS = {"/start", "/help"}
SEND_TRIES = 3
SEND_TIMEOUT = aiohttp.ClientTimeout(total=15)


def default_country() -> str | None:
    """The country whose emergency numbers the replies give when the platform does not say."""
    return os.environ.get("LIPTWITCH_COUNTRY") or None


def _api_url(variable: str, default: str) -> str:
    return (os.environ.get(variable) or default).rstrip("/")


# --- signatures (pure functions: the unit tests call them directly) ------------------------------

def telegram_secret_matches(secret_token: str, header: str | None) -> bool:
    """Telegram sends the secret given to setWebhook in X-Telegram-Bot-Api-Secret-Token."""
    return bool(secret_token) and hmac.compare_digest((header or "").encode(), secret_token.encode())


def messenger_signature_matches(app_secret: str, body: bytes, header: str | None) -> bool:
    """Meta signs the raw body with the app secret: X-Hub-Signature-256: sha256=<hex HMAC-SHA256>."""
    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return bool(app_secret) and hmac.compare_digest((header or "").encode(), expected.encode())


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


# --- sending ------------------------------------------------------------------------------------

class SendError(Exception):
    """The platform did not take a reply."""


async def _post(platform: str, url: str, **request: Any) -> dict:
    """POSTs to a platform's API, retrying on a network error, 429 or 5xx. Logs no URL (it may hold a
    token) and no text."""
    last = "no answer"
    for attempt in range(SEND_TRIES):
        if attempt:
            await asyncio.sleep(0.5 * 2 ** attempt)
        try:
            async with aiohttp.ClientSession(timeout=SEND_TIMEOUT) as session:
                async with session.post(url, **request) as reply:
                    if reply.status < 300:
                        return _json_object(await reply.text())
                    last = f"HTTP {reply.status}"
                    if reply.status != 429 and reply.status < 500:
                        raise SendError(f"{platform} refused a reply: {last}")
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            last = type(error).__name__
        logger.warning("%s: sending a reply failed (%s), try %d of %d", platform, last, attempt + 1, SEND_TRIES)
    raise SendError(f"{platform}: a reply could not be sent ({last})")


def _json_object(text: str) -> dict:
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def answering_politely(on_new_message: Callable[[UserMessage], Awaitable[Any]],
                       channel: str) -> Callable[[UserMessage], Awaitable[None]]:
    """`on_new_message` that never leaves a person in silence: whatever fails in the turn (the database, the
    lock store), the apology goes out on the message's own output channel. The log names the channel only."""

    async def handle(message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception:
            logger.exception("%s: a message could not be answered", channel)
            await message.output_channel.send_response(message.sender_id, {"text": FAILED_REPLY})

    return handle


def settle_the_server(blueprint: Blueprint) -> None:
    """What the server does before it starts, once it has started and when it stops, for the channels that serve
    people.

    Before: requests larger than limits.MAX_REQUEST_BYTES are refused.

    Started (the model loaded): every object there is moves out of the garbage collector's reach. Python's full
    collection looks at every object: with TensorFlow, spaCy and the model loaded, about 600,000, which paused a turn
    for 310 ms every 1,500 turns or so (bench/RESULTS.md). The model stays loaded for the server's life, so nothing is
    lost; what turns create afterwards is collected as before.

    Stopping: the connections to the action server, kept open between turns (liptwitch.rasa_patches), are closed, so
    that none is left for the interpreter to complain about."""

    @blueprint.listener("before_server_start")
    async def limit_requests(app: Any, _loop: Any) -> None:
        # Sanic's own limit is 100 MB; a larger request is refused (413) before anything reads it.
        app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES

    @blueprint.listener("after_server_start")
    async def freeze(_app: Any, _loop: Any) -> None:
        gc.collect()  # garbage left by loading goes first: frozen, it would stay
        gc.freeze()

    @blueprint.listener("after_server_stop")
    async def close(_app: Any, _loop: Any) -> None:
        await close_kept_connections()


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


class _RenderingOutput(OutputChannel):
    """Sends each Rasa reply as the platform's messages, in order (see messaging.render)."""

    platform: Platform

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        for part in render(message, self.platform):
            await self.send_part(recipient_id, part)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def send_part(self, recipient_id: str, part: OutgoingMessage) -> None:
        raise NotImplementedError


# --- receiving ----------------------------------------------------------------------------------

@dataclass
class Incoming:
    """One person's message read from a webhook."""

    sender_id: str
    text: str | None  # None: not a typed message (a sticker, a photo, a voice note)
    event_id: str | None  # the platform's id, to drop a redelivered event
    output: OutputChannel
    metadata: dict[str, Any] = field(default_factory=dict)


async def last_offered_options(app: Any, sender_id: str) -> list[Option]:
    """The options the assistant offered since the person last wrote, from the tracker store (so any
    Rasa server behind the same store reads the same options)."""
    agent = getattr(app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return []
    tracker = await agent.tracker_store.retrieve(sender_id)
    for event in reversed(tracker.events if tracker else []):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered) and options_of(event.data):
            return options_of(event.data)
    return []


class _RecentIds:
    """The last event ids seen, so a platform's redelivery is not answered twice."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self.ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, event_id: str | None) -> bool:
        if not event_id:
            return True
        if event_id in self.ids:
            return False
        self.ids[event_id] = None
        if len(self.ids) > self.size:
            self.ids.popitem(last=False)
        return True


class _WebhookInput(InputChannel):
    """A platform's webhook: check the signature, read the messages, answer them in the background
    (platforms retry when the answer to the webhook is slow), acknowledge at once."""

    platform_label = "the platform"
    # The settings in credentials.yml the constructor takes, in order; each is required.
    credential_keys: tuple[str, ...] = ()

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        if not all(credentials.get(key) for key in cls.credential_keys):
            cls.raise_missing_credentials_exception()
        return cls(*(credentials[key] for key in cls.credential_keys))

    def __init__(self) -> None:
        self._recent = _RecentIds()
        self._tasks: set[asyncio.Task] = set()

    def is_authentic(self, request: Request) -> bool:
        raise NotImplementedError

    def read(self, request: Request) -> list[Incoming]:
        raise NotImplementedError

    def acknowledge(self) -> HTTPResponse:
        return response.text("ok")

    def picks_numbered_options(self, incoming: Incoming) -> bool | None:
        """True: "2" picks option 2; False: only a title sent back picks; None: payloads come back."""
        return None

    def add_routes(self, webhook: Blueprint) -> None:
        """Other routes the platform needs (Messenger's subscription check)."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"liptwitch_{self.name()}_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_authentic(request):
                logger.warning("%s: rejected a webhook request not signed by %s", self.name(), self.platform_label)
                return response.text(f"Forbidden: the request is not signed by {self.platform_label}.", status=403)
            try:
                messages = self.read(request)
            except (ValueError, KeyError, TypeError, AttributeError, IndexError):
                logger.warning("%s: ignored a signed webhook body it could not read", self.name())
                return response.text("Bad request: the body is not a message this webhook reads.", status=400)
            for incoming in messages:
                if self._recent.first_time(incoming.event_id):
                    self._in_background(self._answer(request.app, on_new_message, incoming))
            return self.acknowledge()

        self.add_routes(webhook)
        return webhook

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # a task nobody holds can be collected before it ends
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, app: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                      incoming: Incoming) -> None:
        try:
            if not (incoming.text or "").strip():
                await incoming.output.send_response(incoming.sender_id, {"text": NOT_TEXT_REPLY})
                return
            text = incoming.text.strip()
            numbered = self.picks_numbered_options(incoming)
            if numbered is not None:
                text = pick_option(text, await last_offered_options(app, incoming.sender_id), numbered) or text
            accepted = accepted_part(text)
            await on_new_message(UserMessage(accepted, incoming.output, incoming.sender_id, input_channel=self.name(),
                                             metadata=incoming.metadata))
            if accepted != text:
                await incoming.output.send_response(incoming.sender_id, {"text": cut_note()})
        except Exception:  # the person must hear something, whatever broke
            logger.exception("%s: a message could not be answered", self.name())
            try:
                await incoming.output.send_response(incoming.sender_id, {"text": FAILED_REPLY})
            except Exception:
                logger.exception("%s: not even the apology could be sent", self.name())

    @staticmethod
    def _metadata(country: str | None = None) -> dict[str, Any]:
        country = country or default_country()
        return {"country": country} if country else {}


# --- Telegram -----------------------------------------------------------------------------------

class TelegramOutput(_RenderingOutput):
    platform = TELEGRAM

    def __init__(self, bot_token: str) -> None:
        super().__init__()
        self.url = f"{_api_url('TELEGRAM_API_URL', 'https://api.telegram.org')}/bot{bot_token}/sendMessage"

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
            await _post("telegram", self.url, json=message)
        except SendError:
            # Telegram refuses the whole message when it cannot parse the HTML: send it unformatted.
            message.pop("parse_mode")
            message["text"] = part.plain
            await _post("telegram", self.url, json=message)


class Telegram(_WebhookInput):
    """Telegram Bot API webhook. Register it with setWebhook and a secret_token (see the README)."""

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


# --- Slack --------------------------------------------------------------------------------------

class SlackOutput(_RenderingOutput):
    platform = SLACK

    def __init__(self, token: str, channel: str | None, thread_id: str | None) -> None:
        super().__init__()
        self.client = AsyncWebClient(token, base_url=_api_url("SLACK_API_URL", AsyncWebClient.BASE_URL) + "/")
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


# --- Facebook Messenger -------------------------------------------------------------------------

class MessengerOutput(_RenderingOutput):
    platform = MESSENGER

    def __init__(self, page_access_token: str) -> None:
        super().__init__()
        self.url = f"{_api_url('MESSENGER_API_URL', 'https://graph.facebook.com/v19.0')}/me/messages"
        self.page_access_token = page_access_token

    @classmethod
    def name(cls) -> str:
        return "messenger"

    async def send_part(self, recipient_id: str, part: OutgoingMessage) -> None:
        message: dict[str, Any] = {"text": part.text}
        if part.options:
            message["quick_replies"] = [{"content_type": "text", "title": option.title, "payload": option.payload}
                                        for option in part.options]
        await _post("messenger", self.url, params={"access_token": self.page_access_token},
                    json={"recipient": {"id": recipient_id}, "messaging_type": "RESPONSE", "message": message})


class Messenger(_WebhookInput):
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


# --- Twilio: SMS and WhatsApp -------------------------------------------------------------------

class TwilioOutput(_RenderingOutput):
    def __init__(self, account_sid: str, auth_token: str, sender: str, platform: Platform) -> None:
        super().__init__()
        base = _api_url("TWILIO_API_URL", "https://api.twilio.com")
        self.url = f"{base}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.sender, self.platform = sender, platform

    @classmethod
    def name(cls) -> str:
        return "twilio"

    async def send_part(self, recipient_id: str, part: OutgoingMessage) -> None:
        # The numbered options are already in the text (messaging.render).
        await _post("twilio", self.url, auth=self.auth,
                    data={"To": recipient_id, "From": self.sender, "Body": part.text})


class Twilio(_WebhookInput):
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
        public_url = os.environ.get("LIPTWITCH_PUBLIC_URL", "").rstrip("/")
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


