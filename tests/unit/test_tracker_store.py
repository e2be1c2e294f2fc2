"""The cached SQL tracker store hands back the tracker it saved, and only while the database still
holds exactly its events: another server's turn, a failed turn and a new session all read again."""

from __future__ import annotations

import asyncio

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from liptwitch.tracker_store import CachedSQLTrackerStore
from tests.helpers import REPO

DOMAIN = Domain.load(str(REPO / "domain.yml"))


@pytest.fixture
def database(tmp_path):
    return str(tmp_path / "conversations.db")


def store(database: str) -> CachedSQLTrackerStore:
    return CachedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=database)


def turn(tracker, text: str) -> None:
    tracker.update(UserUttered(text, {"name": "ask_cause", "confidence": 1.0}))
    tracker.update(BotUttered(f"answer to {text}"))
    tracker.update(ActionExecuted("action_listen"))


def start(tracker_store: CachedSQLTrackerStore, sender: str):
    """A conversation's first turn, as Rasa runs it, saved; then the tracker its next turn gets."""
    tracker = asyncio.run(tracker_store.get_or_create_tracker(sender))
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    turn(tracker, "hi")
    asyncio.run(tracker_store.save(tracker))
    return asyncio.run(tracker_store.retrieve(sender))


def test_the_saved_tracker_is_handed_back_without_reading_the_conversation_again(database):
    server = store(database)
    tracker = start(server, "me")
    turn(tracker, "what causes it?")
    asyncio.run(server.save(tracker))
    assert asyncio.run(server.retrieve("me")) is tracker


def test_another_servers_turn_is_read_from_the_database(database):
    first, second = store(database), store(database)
    tracker = start(first, "me")
    turn(tracker, "what causes it?")
    asyncio.run(first.save(tracker))
    other = asyncio.run(second.retrieve("me"))
    turn(other, "is it serious?")
    asyncio.run(second.save(other))
    again = asyncio.run(first.retrieve("me"))
    assert again is not tracker
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["hi", "what causes it?", "is it serious?"]


def test_a_turn_that_failed_before_saving_is_not_kept(database):
    server = store(database)
    tracker = start(server, "me")
    turn(tracker, "what causes it?")
    asyncio.run(server.save(tracker))
    turn(tracker, "a turn that crashed")  # changed in memory, never saved
    again = asyncio.run(server.retrieve("me"))
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["hi", "what causes it?"]


def test_a_new_session_is_read_as_rasa_reads_it(database):
    server = store(database)
    tracker = start(server, "me")
    turn(tracker, "what causes it?")
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    turn(tracker, "hello again")
    asyncio.run(server.save(tracker))
    again = asyncio.run(server.retrieve("me"))
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["hello again"]


def test_the_cache_keeps_the_most_recent_conversations_only(database):
    server = CachedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=database, cache_size=2)
    trackers = {}
    for sender in ("a", "b", "c"):
        trackers[sender] = start(server, sender)
        turn(trackers[sender], "what causes it?")
        asyncio.run(server.save(trackers[sender]))
    assert asyncio.run(server.retrieve("a")) is not trackers["a"]  # left the cache, read again
    assert asyncio.run(server.retrieve("c")) is trackers["c"]
