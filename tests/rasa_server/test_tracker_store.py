"""The cached SQL tracker store hands back the tracker it saved, and only while the database still
holds exactly its events: another server's turn, a failed turn, a new session and a deleted conversation
written again all read again."""

from __future__ import annotations

import asyncio

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from liptwitch.operations.retention import forget_conversation
from liptwitch.rasa_server.tracker_store import CachedSQLTrackerStore
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


def test_the_cache_is_bounded_by_the_events_it_holds_not_only_by_the_conversations(database):
    server = CachedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=database, cache_events=40)
    long = start(server, "long")
    for number in range(10):  # a long conversation...
        turn(long, f"question {number}")
    asyncio.run(server.save(long))
    short = start(server, "short")
    turn(short, "what causes it?")
    asyncio.run(server.save(short))
    assert server._cached_events <= 40
    assert asyncio.run(server.retrieve("short")) is short  # ...leaves first, the recent short one stays
    assert asyncio.run(server.retrieve("long")) is not long


def said(tracker) -> list[str]:
    return [event.text for event in tracker.events if isinstance(event, UserUttered)]


def test_a_deleted_conversation_is_never_handed_back_when_the_person_writes_again(database):
    """The privacy case: forgotten, then a new conversation of the same length through another server."""
    first, second = store(database), store(database)
    tracker = start(first, "whatsapp:+447700900123")
    turn(tracker, "my lip twitches since my divorce")
    asyncio.run(first.save(tracker))
    assert asyncio.run(first.retrieve("whatsapp:+447700900123")) is tracker  # held in the cache
    assert forget_conversation(store(database), "whatsapp:+447700900123") > 0
    new = start(second, "whatsapp:+447700900123")
    turn(new, "is it serious?")
    asyncio.run(second.save(new))
    assert len(new.events) == len(tracker.events)  # same count: SQLite even gives the same ids out again
    again = asyncio.run(first.retrieve("whatsapp:+447700900123"))
    assert said(again) == ["hi", "is it serious?"]


def test_a_conversation_written_again_with_the_same_times_is_told_apart_by_its_event_ids(database):
    """Only the ids differ (as in PostgreSQL, whose ids are never given out twice): still read again."""
    first, second = store(database), store(database)

    def conversation(question: str) -> DialogueStateTracker:
        at = 1_700_000_000.0
        return DialogueStateTracker.from_events("me", [
            SessionStarted(timestamp=at), ActionExecuted("action_listen", timestamp=at),
            UserUttered(question, timestamp=at + 1), BotUttered("an answer", timestamp=at + 1),
            ActionExecuted("action_listen", timestamp=at + 1)])

    cached = conversation("what causes it?")
    asyncio.run(first.save(cached))
    start(first, "someone else")  # written after, so that the ids of "me" are not the last ones
    assert asyncio.run(first.retrieve("me")) is cached
    forget_conversation(store(database), "me")
    asyncio.run(second.save(conversation("how do I stop it?")))
    assert said(asyncio.run(first.retrieve("me"))) == ["how do I stop it?"]


def test_a_failed_save_does_not_carry_what_the_person_wrote_into_the_error_and_the_log(database):
    tracker_store = store(database)
    tracker = start(tracker_store, "private")
    with tracker_store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE events")  # the database fails under the turn
    turn(tracker, "my neighbour's name is Mrs Hargreaves")
    with pytest.raises(Exception) as failure:
        asyncio.run(tracker_store.save(tracker))
    assert "events" in str(failure.value)  # the error still says what failed...
    assert "Hargreaves" not in str(failure.value)  # ...but not with the person's words


def test_a_sqlite_database_is_kept_in_write_ahead_log_mode_and_another_reader_sees_each_turn(database):
    import sqlite3

    server = store(database)
    tracker = start(server, "me")
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: a commit is on disk
        before = connection.execute("SELECT count(*) FROM events").fetchone()[0]
        turn(tracker, "what causes it?")
        asyncio.run(server.save(tracker))
        assert connection.execute("SELECT count(*) FROM events").fetchone()[0] == before + 3


def rows(database: str, sender: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT type_name, timestamp, intent_name, action_name, data FROM events "
                                  "WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()


def test_a_cached_conversation_is_written_as_rasas_store_writes_it_with_no_query_before_or_after(tmp_path):
    """The save of a tracker handed back from the cache inserts its new events and reads nothing; the rows are
    Rasa's own, and the next turn still finds the tracker unchanged (its snapshot is the database's), or, after a
    new session, reads the new session only."""
    from rasa.core.tracker_store import SQLTrackerStore
    from sqlalchemy import event

    ours_db, rasas_db = str(tmp_path / "ours.db"), str(tmp_path / "rasa.db")
    ours, rasas = store(ours_db), SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=rasas_db)
    tracker = start(ours, "me")  # read back from the database, which keeps what it read
    statements: list[str] = []
    event.listen(ours.engine, "before_cursor_execute", lambda *args: statements.append(args[2].split()[0].upper()))
    for question in ("what causes it?", "is it serious?", "how do I stop it?"):
        turn(tracker, question)
        statements.clear()
        asyncio.run(ours.save(tracker))
        assert statements == ["INSERT"] * 3  # one per new event: no count before, no read back after
        assert ours._cache["me"][1] == ours._stored_session("me")
        assert asyncio.run(ours.retrieve("me")) is tracker
    # A new session: written without a count either, and read again next turn, as Rasa reads it.
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    turn(tracker, "hello again")
    statements.clear()
    asyncio.run(ours.save(tracker))
    assert statements == ["INSERT"] * 6
    asyncio.run(rasas.save(DialogueStateTracker.from_events("me", list(tracker.events))))
    assert rows(ours_db, "me")[-15:] == rows(rasas_db, "me")[-15:]  # the four turns written here
    again = asyncio.run(ours.retrieve("me"))
    assert again is not tracker and said(again) == ["hello again"]


def test_the_current_session_is_summed_up_over_the_events_rasas_query_selects(database):
    """The prebuilt summary query selects what Rasa's _event_query does: no session start, one, several; other
    people's sessions apart."""
    import sqlalchemy as sa

    server = store(database)
    at = 1_700_000_000.0
    asyncio.run(server.save(DialogueStateTracker.from_events("no session start", [
        UserUttered("hi", timestamp=at), ActionExecuted("action_listen", timestamp=at + 1)])))
    asyncio.run(server.save(DialogueStateTracker.from_events("two sessions", [
        SessionStarted(timestamp=at), UserUttered("hi", timestamp=at + 1), SessionStarted(timestamp=at + 5),
        UserUttered("again", timestamp=at + 6), BotUttered("yes", timestamp=at + 6)])))
    asyncio.run(server.save(DialogueStateTracker.from_events("one session", [
        SessionStarted(timestamp=at + 2), UserUttered("hello", timestamp=at + 3)])))
    for sender, expected_count in (("no session start", 2), ("two sessions", 3), ("one session", 2), ("nobody", 0)):
        with server.session_scope() as session:
            query = server._event_query(session, sender, fetch_events_from_all_sessions=False)
            rasas = query.with_entities(sa.func.count(server.SQLEvent.id), sa.func.max(server.SQLEvent.id),
                                        sa.func.max(server.SQLEvent.timestamp)).order_by(None).one()
        assert server._stored_session(sender) == tuple(rasas)
        assert server._stored_session(sender).event_count == expected_count


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_new_conversation_is_read_once_and_written_without_counting(database, wrapped):
    """Also through the wrapper Rasa's processor puts around every tracker store (AwaitableTrackerStore), whose
    get_or_create_tracker is TrackerStore's: retrieve, then create_tracker."""
    from rasa.core.tracker_store import AwaitableTrackerStore
    from sqlalchemy import event

    ours = store(database)
    server = AwaitableTrackerStore.create(ours) if wrapped else ours
    statements: list[str] = []
    event.listen(ours.engine, "before_cursor_execute", lambda *args: statements.append(args[2].split()[0].upper()))
    tracker = asyncio.run(server.get_or_create_tracker("new person"))
    assert statements == ["SELECT", "INSERT"]  # found nothing; the first action_listen written
    assert [type(e).__name__ for e in tracker.events] == ["ActionExecuted"] and tracker.latest_action_name == \
        "action_listen"
    statements.clear()
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    turn(tracker, "hi")
    asyncio.run(server.save(tracker))
    assert statements == ["INSERT"] * 6
    statements.clear()
    again = asyncio.run(server.get_or_create_tracker("new person"))  # the new session, read in one query
    assert statements == ["SELECT"] and said(again) == ["hi"]
    turn(again, "what causes it?")
    statements.clear()
    asyncio.run(server.save(again))
    assert statements == ["INSERT"] * 3
    assert asyncio.run(server.retrieve("new person")) is again


def test_a_conversation_is_read_back_as_rasas_store_reads_it(database):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import EventVerbosity

    server, rasas = store(database), SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=database)
    at = 1_700_000_000.0
    conversations = {
        "no session start": [UserUttered("hi", timestamp=at), ActionExecuted("action_listen", timestamp=at + 1)],
        "two sessions": [SessionStarted(timestamp=at), UserUttered("hi", timestamp=at + 1),
                         SessionStarted(timestamp=at + 5), UserUttered("again", timestamp=at + 6)],
    }
    for sender, events in conversations.items():
        asyncio.run(rasas.save(DialogueStateTracker.from_events(sender, events)))
    for sender in [*conversations, "nobody"]:
        ours, theirs = asyncio.run(server.retrieve(sender)), asyncio.run(rasas.retrieve(sender))
        if theirs is None:
            assert ours is None
        else:
            assert ours.current_state(EventVerbosity.ALL) == theirs.current_state(EventVerbosity.ALL)
