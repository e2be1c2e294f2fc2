"""What every channel that serves people shares: "never leave a person without a reply", the server's start and stop
hooks, the platforms' send retries, reply rendering, and the webhook connector the platforms build on.

The person's words are never logged.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from liptwitch import settings
from liptwitch.core.answers import APOLOGY, NOT_TEXT
from liptwitch.core.limits import MAX_REQUEST_BYTES, accepted_part, cut_note
from liptwitch.core.messaging import (
    Option,
    OutgoingMessage,
    Platform,
    options_of,
    pick_option,
    render,
)
from liptwitch.rasa_server.patches.action_server import close_kept_connections

logger = logging.getLogger(__name__)



# What the person reads when the message cannot be answered as it is (liptwitch/core/answers.py).
NOT_TEXT_REPLY, FAILED_REPLY = NOT_TEXT, APOLOGY
SEND_TRIES = 3
SEND_FIRST_WAIT = 1.0  # seconds before the second try; doubled before each further one
SEND_TIMEOUT = aiohttp.ClientTimeout(total=15)


def default_country() -> str | None:
    """The country whose emergency numbers the replies give when the platform does not say."""
    return settings.COUNTRY.read() or None


def api_url(setting: settings.Setting) -> str:
    return setting.read().rstrip("/")


# --- sending ------------------------------------------------------------------------------------

class SendError(Exception):
    """The platform did not take a reply."""


class _WorthRetrying(Exception):
    """A network error, a 429 or a 5xx: the platform may take the reply on another try."""


async def post_to_platform(platform: str, url: str, **request: Any) -> dict:
    """POSTs to a platform's API, retrying on a network error, 429 or 5xx with exponential back-off (tenacity).
    Logs no URL (it may hold a token) and no text."""
    def log_failure(state: RetryCallState) -> None:
        problem = state.outcome.exception() if state.outcome else "no answer"
        logger.warning("%s: sending a reply failed (%s), try %d of %d", platform, problem, state.attempt_number,
                       SEND_TRIES)

    try:
        async for attempt in AsyncRetrying(stop=stop_after_attempt(SEND_TRIES), wait=wait_exponential(SEND_FIRST_WAIT),
                                           retry=retry_if_exception_type(_WorthRetrying), after=log_failure):
            with attempt:
                return await _post_once(platform, url, request)
    except RetryError as error:
        raise SendError(f"{platform}: a reply could not be sent ({error.last_attempt.exception()})") from None
    raise SendError(f"{platform}: a reply could not be sent")  # not reached: tenacity returns or raises


async def _post_once(platform: str, url: str, request: dict[str, Any]) -> dict:
    try:
        async with aiohttp.ClientSession(timeout=SEND_TIMEOUT) as session:
            async with session.post(url, **request) as reply:
                if reply.status < 300:
                    return _json_object(await reply.text())
                if reply.status != 429 and reply.status < 500:
                    raise SendError(f"{platform} refused a reply: HTTP {reply.status}")
                raise _WorthRetrying(f"HTTP {reply.status}")
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        raise _WorthRetrying(type(error).__name__) from None


def _json_object(text: str) -> dict:
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def never_silent(channel: str, output: OutputChannel, recipient: str, work: Awaitable[Any]) -> None:
    """Runs a turn's `work`; whatever fails in it (the database, the lock store, a platform's reply), the person gets
    the apology on `output`. The log names the channel only, never what the person wrote."""
    try:
        await work
    except Exception:
        logger.exception("%s: a message could not be answered", channel)
        try:
            await output.send_response(recipient, {"text": FAILED_REPLY})
        except Exception:
            logger.exception("%s: not even the apology could be sent", channel)


def answering_politely(on_new_message: Callable[[UserMessage], Awaitable[Any]],
                       channel: str) -> Callable[[UserMessage], Awaitable[None]]:
    """`on_new_message` that never leaves a person in silence (`never_silent`)."""

    async def handle(message: UserMessage) -> None:
        await never_silent(channel, message.output_channel, message.sender_id, on_new_message(message))

    return handle


def settle_the_server(blueprint: Blueprint) -> None:
    """What the server does before it starts, once it has started and when it stops, for the channels that serve
    people.

    Before: requests larger than limits.MAX_REQUEST_BYTES are refused.

    Started (the model loaded): every object there is moves out of the garbage collector's reach. Python's full
    collection looks at every object, and with TensorFlow, spaCy and the model loaded they are so many that it
    paused a turn now and then (bench/RESULTS.md measures it). The model stays loaded for the server's life, so
    nothing is lost; what turns create afterwards is collected as before.

    Stopping: the connections to the action server, kept open between turns
    (liptwitch/rasa_server/patches/action_server.py), are closed, so that none is left for the interpreter to
    complain about."""

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


class RenderingOutput(OutputChannel):
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


class WebhookInput(InputChannel):
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
        await never_silent(self.name(), incoming.output, incoming.sender_id, self._read_and_answer(app, on_new_message,
                                                                                                   incoming))

    async def _read_and_answer(self, app: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                               incoming: Incoming) -> None:
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

    @staticmethod
    def _metadata(country: str | None = None) -> dict[str, Any]:
        country = country or default_country()
        return {"country": country} if country else {}


