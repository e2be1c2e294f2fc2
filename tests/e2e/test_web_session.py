"""The web chat's conversations belong to the server: a socket.io client (python-socketio, as a browser's
widget talks) cannot choose, read or write someone else's conversation, keeps its own with the token it
was given, and only the chat page's origin may open the socket at all."""

from __future__ import annotations

import asyncio
import json
import queue
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import requests
import socketio

pytestmark = pytest.mark.e2e

ANSWER_TIMEOUT = 30  # seconds
TOKEN = re.compile(r"(?P<conversation>[0-9a-f]{32})\.[0-9a-f]{64}")


class WebChat:
    """One browser tab's socket: what it sends is what rasa-webchat sends, what it receives is kept in order."""

    def __init__(self, url: str, origin: str) -> None:
        self.received: dict[str, queue.Queue] = {"session_confirm": queue.Queue(), "bot_uttered": queue.Queue()}
        self.client = socketio.Client(reconnection=False)
        for event, arrived in self.received.items():
            self.client.on(event, arrived.put)
        # Polling: python-engineio's websocket client needs a newer aiohttp than Rasa's pin.
        self.client.connect(url, headers={"Origin": origin}, transports=["polling"])

    def request_session(self, session_id: object = None) -> str:
        self.client.emit("session_request", {"session_id": session_id})
        return self.next("session_confirm")

    def say(self, text: str, session_id: object = None) -> list[dict]:
        """Sends a message as the widget does and returns the replies, up to the answer's knowledge-base ids."""
        self.client.emit("user_uttered", {"message": text, "session_id": session_id, "customData": {}})
        replies = []
        while not replies or "kb_ids" not in replies[-1].get("custom", {}):
            replies.append(self.next("bot_uttered"))
        return replies

    def next(self, event: str) -> object:
        try:
            return self.received[event].get(timeout=ANSWER_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no {event} within {ANSWER_TIMEOUT} s") from None

    def close(self) -> None:
        self.client.disconnect()


def kb_ids(replies: list[dict]) -> list[str]:
    return replies[-1]["custom"]["kb_ids"]


def conversation_of(token: object) -> str:
    match = TOKEN.fullmatch(token) if isinstance(token, str) else None
    assert match, f"not a session token this service issues: {token!r}"
    return match["conversation"]


class ConversationStore:
    """The Rasa server's tracker store (SQLite, see tests/e2e/servers.py), read as an operator would."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def user_messages(self, conversation_id: str) -> list[str]:
        with sqlite3.connect(self.path) as database:
            rows = database.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                                    (conversation_id,)).fetchall()
        return [json.loads(data).get("text") for (data,) in rows]

    def event_count(self, conversation_id: str) -> int:
        with sqlite3.connect(self.path) as database:
            return database.execute("SELECT count(*) FROM events WHERE sender_id = ?", (conversation_id,)).fetchone()[0]

    def wait_for_message(self, conversation_id: str, text: str) -> None:
        """A turn is saved just after its replies are sent."""
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while text not in self.user_messages(conversation_id):
            assert time.monotonic() < deadline, f"{text!r} was not saved in conversation {conversation_id}"
            time.sleep(0.2)

    def senders_of(self, text: str) -> set[str]:
        with sqlite3.connect(self.path) as database:
            rows = database.execute("SELECT sender_id, data FROM events WHERE type_name = 'user'").fetchall()
        return {sender for sender, data in rows if json.loads(data).get("text") == text}


@pytest.fixture(scope="module")
def page_origin(assistant) -> str:
    return f"http://127.0.0.1:{assistant.page_port}"


@pytest.fixture(scope="module")
def store(assistant) -> ConversationStore:
    return ConversationStore(assistant.rasa.log.parent / "conversations.db")


@pytest.fixture
def open_chat(assistant, page_origin) -> Iterator:
    chats: list[WebChat] = []

    def open_one() -> WebChat:
        chats.append(WebChat(assistant.url, page_origin))
        return chats[-1]

    yield open_one
    for chat in chats:
        chat.close()


@pytest.fixture
def victim(assistant, store) -> str:
    """Someone's conversation with a plain id, as Rasa's socket.io channel let browsers choose (and REST does)."""
    victim_id = f"victim-{uuid.uuid4().hex[:8]}"
    assistant.send(victim_id, "what is lip fasciculation")
    store.wait_for_message(victim_id, "what is lip fasciculation")
    return victim_id


def test_a_client_that_asks_for_someone_elses_conversation_gets_a_new_one(open_chat, store, victim):
    before = store.event_count(victim)
    chat = open_chat()
    token = chat.request_session(victim)
    mine = conversation_of(token)
    assert mine != victim and victim not in token
    question = f"can coffe make my lip twitch? ({uuid.uuid4().hex[:6]})"
    replies = chat.say(question, session_id=victim)
    assert kb_ids(replies) == ["caffeine"]  # the answer came to this socket...
    store.wait_for_message(mine, question)  # ...and the turn was kept under the server's id
    assert store.senders_of(question) == {mine}
    assert store.event_count(victim) == before  # the victim's conversation is untouched
    assert "what is lip fasciculation" not in store.user_messages(mine)


@pytest.mark.parametrize("forge", [
    lambda token: f"{conversation_of(token)}.{'0' * 64}",                      # its id, made-up signature
    lambda token: token[:40] + ("0" if token[40] != "0" else "1") + token[41:],  # one character changed
    lambda token: token.upper(),
    lambda token: token + "0",
    lambda token: conversation_of(token),                                     # the id alone (from a log)
    lambda token: "",
    lambda token: {"token": token},
])
def test_a_forged_token_does_not_open_the_conversation_it_names(open_chat, store, forge):
    owner = open_chat()
    token = owner.request_session()
    question = f"is it serious ({uuid.uuid4().hex[:6]})"
    owner.say(question)
    store.wait_for_message(conversation_of(token), question)

    intruder = open_chat()
    intruder_token = intruder.request_session(forge(token))
    assert conversation_of(intruder_token) != conversation_of(token)
    intruder_question = f"how long does lip twitching usually last ({uuid.uuid4().hex[:6]})"
    intruder.say(intruder_question)
    store.wait_for_message(conversation_of(intruder_token), intruder_question)
    assert store.user_messages(conversation_of(token)) == [question]  # the owner's conversation is untouched
    assert store.user_messages(conversation_of(intruder_token)) == [intruder_question]


def test_the_conversation_goes_on_after_reconnecting_with_its_own_token(open_chat, store):
    first = open_chat()
    token = first.request_session()
    assert kb_ids(first.say("can coffe make my lip twitch?")) == ["caffeine"]
    first.close()  # the page is reloaded: a new socket, the token from local storage

    again = open_chat()
    assert again.request_session(token) == token
    assert kb_ids(again.say("how do i treat that?")) == ["reducing_stimulants"]  # "that" is still caffeine
    conversation = conversation_of(token)
    store.wait_for_message(conversation, "how do i treat that?")
    assert store.user_messages(conversation) == ["can coffe make my lip twitch?", "how do i treat that?"]


def test_a_message_naming_another_conversation_is_kept_in_the_sockets_own(open_chat, store, victim):
    before = store.event_count(victim)
    chat = open_chat()
    mine = conversation_of(chat.request_session())
    other = open_chat()
    theirs = conversation_of(other.request_session())
    question = f"does lip twitching hurt ({uuid.uuid4().hex[:6]})"
    for named in (victim, theirs, other.request_session(theirs)):
        chat.say(question, session_id=named)
    store.wait_for_message(mine, question)
    assert store.user_messages(mine) == [question] * 3
    assert store.senders_of(question) == {mine}
    assert store.event_count(victim) == before and store.user_messages(theirs) == []


def test_a_message_before_any_session_request_gets_a_conversation_chosen_by_the_server(open_chat, store, victim):
    chat = open_chat()
    question = f"what causes lip twitching ({uuid.uuid4().hex[:6]})"
    replies = chat.say(question, session_id=victim)
    assert kb_ids(replies)
    mine = conversation_of(chat.next("session_confirm"))  # what the widget would keep for next time
    store.wait_for_message(mine, question)
    assert store.senders_of(question) == {mine} and mine != victim


def handshake(assistant, origin: str) -> requests.Response:
    return requests.get(f"{assistant.url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                        headers={"Origin": origin}, timeout=10)


def websocket_handshake(assistant, origin: str) -> int:
    """The HTTP status of a websocket handshake from `origin` (101: the socket opened)."""
    async def open_socket() -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(f"{assistant.url.replace('http', 'ws')}/socket.io/?EIO=4"
                                              "&transport=websocket", headers={"Origin": origin}) as socket:
                    await socket.receive(timeout=10)  # engine.io's open packet
                    return 101
            except aiohttp.WSServerHandshakeError as refused:
                return refused.status
    return asyncio.run(open_socket())


def test_another_sites_page_cannot_open_the_chat_socket(assistant):
    for origin in ("http://evil.example", f"http://127.0.0.1:{assistant.page_port + 1}", "null"):
        refused = handshake(assistant, origin)
        assert refused.status_code == 400 and "not an accepted origin" in refused.text
        assert "Access-Control-Allow-Origin" not in refused.headers
        assert websocket_handshake(assistant, origin) == 400
    with pytest.raises(socketio.exceptions.ConnectionError):
        WebChat(assistant.url, "http://evil.example")


def test_the_chat_pages_origin_is_accepted_with_one_cors_header(assistant, page_origin):
    for origin in (page_origin, f"http://localhost:{assistant.page_port}"):
        accepted = handshake(assistant, origin)
        assert accepted.status_code == 200 and '"sid"' in accepted.text
        # Rasa's --cors adds its headers to every route: two of them and a browser refuses the answer.
        assert accepted.raw.headers.getlist("Access-Control-Allow-Origin") == [origin]
        assert websocket_handshake(assistant, origin) == 101
