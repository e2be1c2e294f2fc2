"""The web chat's socket.io channel, with conversation ids that only the server chooses.

Rasa's socket.io channel takes the conversation id (the sender id) from the client: the widget sends
`session_request` with any `session_id` it likes and every `user_uttered` names one, so a client can
read replies from, and write into, anybody's conversation. Health conversations are sensitive, so here:

- the server picks every conversation id (128 random bits) and gives the browser a session token,
  `<conversation id>.<HMAC-SHA256 of it>`, which the widget keeps and presents on its next visit;
- a token this service signed resumes its conversation; anything else (none, forged, a plain id,
  too long) starts a new one, and the socket only ever writes into the conversation it was given:
  the `session_id` inside `user_uttered` is ignored;
- the database and the logs only ever see the random id, never the token that proves it;
- socket.io refuses pages from origins not in LIPTWITCH_CORS_ORIGINS (Rasa checks none: browsers do
  not apply CORS to websockets, so any site could otherwise talk to the assistant in its visitors' name).

The signing key is LIPTWITCH_WEB_SECRET, or else a random key created once in build/web-session.key,
so restarts and the other Rasa servers of the host accept the same tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint
from sanic.request import Request
from sanic_cors.core import SANIC_CORS_EVALUATED

from liptwitch import settings
from liptwitch.channels.base import NOT_TEXT_REPLY, answering_politely, settle_the_server
from liptwitch.core.limits import MAX_REQUEST_BYTES, accepted_part, cut_note

logger = logging.getLogger(__name__)

SECRET_VARIABLE = settings.WEB_SECRET.name
ORIGINS_VARIABLE = settings.CORS_ORIGINS.name
SECRET_FILE = settings.WEB_SESSION_KEY_FILE
MINIMUM_SECRET_LENGTH = 32  # characters of LIPTWITCH_WEB_SECRET

_ID_BYTES = 16  # 128 bits
_TOKEN = re.compile(r"(?P<conversation>[0-9a-f]{32})\.(?P<signature>[0-9a-f]{64})")
TOKEN_LENGTH = 32 + 1 + 64
_SIGNED_PREFIX = b"liptwitch web session v1:"  # a signature made for anything else never verifies here

# What the socket.io session of each connection remembers.
_CONVERSATION = "conversation_id"


def new_conversation_id() -> str:
    return secrets.token_hex(_ID_BYTES)


def token_for(conversation_id: str, secret: bytes) -> str:
    """The session token that proves a browser was given `conversation_id`."""
    return f"{conversation_id}.{_signature(conversation_id, secret)}"


def conversation_of(token: object, secret: bytes) -> str | None:
    """The conversation id a token was issued for, or None if this service did not sign it."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
        return None
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    conversation_id = match["conversation"]
    if not hmac.compare_digest(match["signature"], _signature(conversation_id, secret)):
        return None
    return conversation_id


def _signature(conversation_id: str, secret: bytes) -> str:
    return hmac.new(secret, _SIGNED_PREFIX + conversation_id.encode("ascii"), hashlib.sha256).hexdigest()


def load_secret(environment: Mapping[str, str] | None = None, key_file: Path = SECRET_FILE) -> bytes:
    """The key that signs session tokens: LIPTWITCH_WEB_SECRET, or the key file (created on first use)."""
    configured = settings.WEB_SECRET.read(environment)
    if configured:
        if len(configured) < MINIMUM_SECRET_LENGTH:
            raise ValueError(f"{SECRET_VARIABLE} has {len(configured)} characters: use at least "
                             f"{MINIMUM_SECRET_LENGTH} random ones, e.g. the output of "
                             "`python3 -c 'import secrets; print(secrets.token_hex(32))'`")
        return configured.encode("utf-8")
    if not key_file.exists():
        _create_key_file(key_file)
    key = key_file.read_text(encoding="ascii").strip()
    if len(key) < MINIMUM_SECRET_LENGTH:
        raise ValueError(f"{key_file} holds no usable key ({len(key)} characters): delete it and restart, "
                         f"and a new one is created (web chats that are open start new conversations)")
    return key.encode("ascii")


def _create_key_file(key_file: Path) -> None:
    # Written aside, then linked into place: two servers starting together end up with the same key,
    # and neither can read a half-written file.
    key_file.parent.mkdir(parents=True, exist_ok=True)
    draft = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as draft_file:
            draft_file.write(secrets.token_hex(32) + "\n")
        try:
            os.link(draft, key_file)
        except FileExistsError:
            pass  # another server created it first: use that one
    finally:
        draft.unlink(missing_ok=True)


def allowed_origins(environment: Mapping[str, str] | None = None) -> list[str] | str | None:
    """The pages that may open the chat socket, as python-engineio takes them.

    A list of origins from LIPTWITCH_CORS_ORIGINS (comma-separated), "*" only when it says exactly
    that, or None when it is unset: then only pages of the Rasa server's own origin are accepted.
    """
    configured = settings.CORS_ORIGINS.read(environment)
    if not configured:
        return None
    if configured == "*":
        return "*"
    origins = [origin.strip().rstrip("/") for origin in configured.split(",") if origin.strip()]
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise ValueError(f"{ORIGINS_VARIABLE}: {origin!r} is not an origin; write scheme://host[:port], "
                             "e.g. https://chat.example.org or http://localhost:8080, separated by commas "
                             "(or * alone, to let any site's pages talk to the assistant)")
    return origins


def _answer_own_cors_headers(engineio_server: Any) -> None:
    """Keep Rasa's --cors (Sanic-CORS, on every route) from adding its headers to engine.io's own.

    A browser refuses a response with two Access-Control-Allow-Origin headers. Sanic-CORS leaves alone
    a request marked as evaluated, as its own @cross_origin decorator marks one. The route is added when
    the blueprint is registered, from this attribute.
    """
    handle_request = engineio_server.handle_request

    async def handle_request_with_own_cors(request: Request, *args: Any, **kwargs: Any) -> Any:
        setattr(request.ctx, SANIC_CORS_EVALUATED, "1")
        return await handle_request(request, *args, **kwargs)

    engineio_server.handle_request = handle_request_with_own_cors


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel, where the server chooses the conversation and the page's origin must be allowed.

    It keeps the name "socketio": the widget's socket path, the /webhooks/socketio health route and the
    `input_channel` recorded in conversations stay what they were.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.secret = load_secret()
        self.cors_origins = allowed_origins()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        answer = answering_politely(on_new_message, self.name())  # a failed turn gets the apology, not silence
        settle_the_server(blueprint)
        sio = self.sio
        assert sio is not None  # Rasa's blueprint() creates it
        # Rasa passes [] (no Origin check at all); engine.io refuses the handshake, polling or websocket,
        # of any other origin with "400 Not an accepted origin", and tells browsers which origin it allows.
        sio.eio.cors_allowed_origins = self.cors_origins
        # A frame larger than this closes the socket before anything reads it (engine.io's own limit is 1 MB).
        sio.eio.max_http_buffer_size = MAX_REQUEST_BYTES
        _answer_own_cors_headers(sio.eio)

        async def conversation_for(sid: str, token: object = None) -> str:
            """The socket's conversation: the one `token` proves, else the socket's own, else a new one."""
            session = await sio.get_session(sid, namespace=self.namespace)
            current = session.get(_CONVERSATION)
            resumed = conversation_of(token, self.secret) if self.session_persistence else None
            if resumed is None and current is not None:
                return current
            if resumed is None:
                resumed = new_conversation_id()
                if token:
                    logger.info(f"Socket {sid} presented a session token this service did not issue; "
                                "it gets a new conversation.")
            if current is not None and current != resumed:
                sio.leave_room(sid, current, namespace=self.namespace)
            session[_CONVERSATION] = resumed
            await sio.save_session(sid, session, namespace=self.namespace)
            # Rasa's output channel sends the replies to the room named after the conversation.
            sio.enter_room(sid, resumed, namespace=self.namespace)
            return resumed

        async def confirm(sid: str, conversation_id: str) -> None:
            # The widget keeps what it receives and presents it on its next visit.
            await sio.emit("session_confirm", token_for(conversation_id, self.secret), room=sid,
                           namespace=self.namespace)

        async def session_request(sid: str, data: Any) -> None:
            token = data.get("session_id") if isinstance(data, dict) else None
            await confirm(sid, await conversation_for(sid, token))

        async def handle_message(sid: str, data: Any) -> None:
            session = await sio.get_session(sid, namespace=self.namespace)
            conversation_id = session.get(_CONVERSATION)
            if conversation_id is None:  # no session_request first: the server still chooses
                conversation_id = await conversation_for(sid)
                await confirm(sid, conversation_id)
            output = SocketIOOutput(sio, self.bot_message_evt)
            text = data.get("message") if isinstance(data, dict) else None
            if not isinstance(text, str):  # not silence: the person is told what can be read
                logger.warning(f"Socket {sid} sent a {self.user_message_evt} with no text message; it was not read.")
                await output.send_text_message(conversation_id, NOT_TEXT_REPLY)
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):  # as Rasa's channel: the widget may send it as JSON text
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            accepted = accepted_part(text)
            await answer(UserMessage(accepted, output, conversation_id, input_channel=self.name(),
                                     metadata=metadata if isinstance(metadata, dict) else {}))
            if accepted != text:
                await output.send_text_message(conversation_id, cut_note())

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return blueprint
