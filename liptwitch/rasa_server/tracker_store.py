"""Rasa's SQL tracker store, without reloading a whole conversation from the database on every turn.

Rasa's SQLTrackerStore rebuilds the tracker at the start of each turn: it reads every event of the
session, decodes it and replays it, which grows with the conversation until it is the largest part of
a turn (bench/RESULTS.md, "Where a turn's time goes"). This store keeps each tracker it saved in
memory and hands it back next turn. Before reusing it, it checks that nothing was written to the
conversation since: the id and time of its latest event, one row read through an index (so the check
costs the same after 1,000 turns as after one), must be those of the last event this server wrote.

- if another Rasa server wrote to the conversation since (a turn, or a new session), the latest id
  differs, and the tracker is read again;
- if a turn failed before saving, the tracker holds events the database lacks, and it is read again;
- if the conversation was deleted (liptwitch.operations.retention) and the person wrote again through another
  server, the new events have new ids and later times even when their number is the same, so the
  deleted conversation is never handed back. Both are compared because SQLite, unlike PostgreSQL,
  gives the ids of rows deleted at the end of the table out again.

Saving a tracker handed back from the cache (or saved before, or new for a conversation the database held
nothing of) writes its new events without asking the database how many it holds (Rasa's save counts them
first), and the snapshot for the next check is worked out from the rows just written instead of read back:
together the two queries were a sixth of the Rasa server's time. The check at the next turn compares that
snapshot with the database, so a snapshot that could be wrong (another server wrote in between, a clock went
back) only means the conversation is read again.

The database stays the one source of truth. The cache holds at most `cache_size` conversations and
`cache_events` events in all, the least recently used leaving first.
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from typing import Any, NamedTuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY


def write_ahead_log(connection: Any, _record: Any) -> None:
    """SQLite in write-ahead-log mode: a commit syncs the disk once instead of three times (part of every
    turn here), with the same durability (synchronous stays FULL), and readers such as the retention job do not block
    the writer."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


# Events the cache keeps across all its conversations (a turn adds 5 to 10): bounded by size, not by conversations.
CACHE_EVENTS = 100_000


class StoredSession(NamedTuple):
    """What the database holds of a conversation's current session, enough to tell any change."""

    event_count: int
    highest_id: int | None
    latest_timestamp: float | None


class CachedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cache_size: int = 1000, cache_events: int = CACHE_EVENTS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Rasa's engine, with two changes. pool_pre_ping: after the database restarts, a pooled connection is
        # tested and replaced before a turn uses it, so the service recovers by itself. hide_parameters: an error
        # message never carries the values of a statement, which hold what people wrote, into a log.
        rasas_engine = self.engine
        engine_kwargs = create_engine_kwargs(rasas_engine.url)
        sqlite_file = rasas_engine.dialect.name == "sqlite" and rasas_engine.url.database not in (None, "", ":memory:")
        if sqlite_file:
            # SQLAlchemy 1.4 opens a new connection to a SQLite file for every query (a noticeable part of a turn); its
            # 2.0 keeps them in a pool, as here. Connections stay in Rasa's event-loop thread; the check would
            # refuse the pool's handing one to another thread, which Rasa never does.
            engine_kwargs.update(poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})
        # A SQLite file has no server to restart: no ping (a query before every other).
        self.engine = sa.create_engine(rasas_engine.url, pool_pre_ping=not sqlite_file, hide_parameters=True,
                                       **engine_kwargs)
        rasas_engine.dispose()
        if sqlite_file:
            sa.event.listen(self.engine, "connect", write_ahead_log)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.cache_size, self.cache_events = int(cache_size), int(cache_events)
        # sender id -> (the tracker, what the database held of it); no tracker: the database held nothing
        self._cache: OrderedDict[str, tuple[DialogueStateTracker | None, StoredSession]] = OrderedDict()
        self._cached_events = 0  # the events of every tracker kept: what the cache's memory grows with

        self._stored_session_statement, self._current_session_statement = self._current_session_statements()
        self._insert_event = self.SQLEvent.__table__.insert()
        events = self.SQLEvent.__table__
        # The check before reusing a kept tracker reads one row through this index, however long the conversation.
        sa.Index("ix_events_sender_id_id", events.c.sender_id, events.c.id).create(self.engine, checkfirst=True)
        self._latest_row_statement = (sa.select(events.c.id, events.c.timestamp)
                                      .where(events.c.sender_id == sa.bindparam("sender_id"))
                                      .order_by(events.c.id.desc()).limit(1))

    def _current_session_statements(self) -> tuple[sa.sql.Select, sa.sql.Select]:
        """Two queries over the events of a conversation's current session, which Rasa's
        `_event_query(fetch_events_from_all_sessions=False)` selects: those at or after its latest SessionStarted,
        or all when it has none. The first sums them up (count, highest id, latest time), the second reads them in
        order. Built once: building Rasa's ORM query took as long as running it."""
        events = self.SQLEvent.__table__
        sender = sa.bindparam("sender_id")
        session_start = (sa.select(sa.func.max(events.c.timestamp))
                         .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
                         .scalar_subquery())
        in_current_session = sa.and_(events.c.sender_id == sender,
                                     sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
        summary = sa.select(sa.func.count(events.c.id), sa.func.max(events.c.id), sa.func.max(events.c.timestamp))
        rows = sa.select(events.c.id, events.c.timestamp, events.c.data).order_by(events.c.id)
        return summary.where(in_current_session), rows.where(in_current_session)

    def _stored_session(self, sender_id: str) -> StoredSession:
        with self.engine.connect() as connection:
            return StoredSession(*connection.execute(self._stored_session_statement, {"sender_id": sender_id}).one())

    def _latest_row(self, sender_id: str) -> tuple[int | None, float | None]:
        """The id and time of the conversation's latest event, or (None, None)."""
        with self.engine.connect() as connection:
            row = connection.execute(self._latest_row_statement, {"sender_id": sender_id}).first()
        return (row.id, row.timestamp) if row is not None else (None, None)

    def _take(self, sender_id: str) -> tuple[DialogueStateTracker | None, StoredSession] | None:
        cached = self._cache.pop(sender_id, None)
        if cached is not None:
            self._cached_events -= cached[1].event_count
        return cached

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        cached = self._take(sender_id)
        if cached is not None and cached[0] is not None:
            tracker, stored_when_saved = cached
            # The length catches a turn that changed the tracker in memory but failed before saving.
            unchanged_in_memory = len(tracker.events) == stored_when_saved.event_count
            latest = (stored_when_saved.highest_id, stored_when_saved.latest_timestamp)
            if unchanged_in_memory and self._latest_row(sender_id) == latest:
                self._keep(sender_id, tracker, stored_when_saved)
                return tracker
        tracker, stored = self._read_current_session(sender_id)
        if tracker is not None and len(tracker.events) == stored.event_count:
            self._keep(sender_id, tracker, stored)
        elif tracker is None and stored.event_count == 0:
            # Nothing stored: the tracker Rasa creates next for this person (TrackerStore.create_tracker, through
            # the wrapper Rasa puts around every store) is saved by inserting its events, without counting first.
            self._keep(sender_id, None, stored)
        return tracker

    def _read_current_session(self, sender_id: str) -> tuple[DialogueStateTracker | None, StoredSession]:
        """The tracker Rasa's `retrieve` builds (None when the conversation has no events), and the summary of the
        rows it was built from, read in the same query."""
        with self.engine.connect() as connection:
            rows = connection.execute(self._current_session_statement, {"sender_id": sender_id}).all()
        stored = StoredSession(len(rows), max((row.id for row in rows), default=None),
                               max((row.timestamp for row in rows if row.timestamp is not None), default=None))
        if not self.domain or not rows:
            return None, stored
        events = [json.loads(row.data) for row in rows]
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots), stored

    def _keep(self, sender_id: str, tracker: DialogueStateTracker | None, stored: StoredSession) -> None:
        """Keep the conversation's tracker with what the database holds of it (no tracker: it holds nothing)."""
        self._cache[sender_id] = (tracker, stored)
        self._cached_events += stored.event_count
        # Bounded by count and by size: a few very long conversations must not hold the memory of thousands.
        while len(self._cache) > self.cache_size or (self._cached_events > self.cache_events and len(self._cache) > 1):
            _, (_, dropped) = self._cache.popitem(last=False)
            self._cached_events -= dropped.event_count

    async def save(self, tracker: DialogueStateTracker) -> None:
        cached = self._take(tracker.sender_id)
        # What the database held when this very tracker was last checked against it or saved, or when it held
        # nothing of the conversation (the tracker is then a new one).
        known = cached[1] if cached is not None and (cached[0] is tracker or cached[0] is None) else None
        if known is None:
            # Rasa's save, then the snapshot read back.
            await super().save(tracker)
            stored: StoredSession | None = self._stored_session(tracker.sender_id)
        else:
            await self.stream_events(tracker)
            stored = self._append(tracker.sender_id, list(itertools.islice(tracker.events, known.event_count, None)),
                                  known)
        # Kept only if it is what the database now returns: a tracker that began a session holds an
        # event from before it (action_session_start) that retrieving leaves out.
        if stored is not None and len(tracker.events) == stored.event_count:
            self._keep(tracker.sender_id, tracker, stored)

    def _append(self, sender_id: str, new_events: list[Event], known: StoredSession) -> StoredSession | None:
        """Write the events the database lacks, the rows Rasa's save writes; return what the current session now
        holds. None if a new session started: the tracker then holds events from before it, which retrieving
        leaves out, so it is not kept anyway. The rows go in with one prebuilt insert each, in one transaction:
        the ORM's unit of work, which Rasa's save goes through, took three times as long."""
        rows = [self._event_row(sender_id, event) for event in new_events]
        with self.engine.begin() as connection:
            ids = [connection.execute(self._insert_event, row).inserted_primary_key[0] for row in rows]
        if any(isinstance(event, SessionStarted) for event in new_events):
            return None
        ids = [known.highest_id, *ids]
        times = [known.latest_timestamp, *(row["timestamp"] for row in rows)]
        return StoredSession(known.event_count + len(rows), max((i for i in ids if i is not None), default=None),
                             max((t for t in times if t is not None), default=None))

    @staticmethod
    def _event_row(sender_id: str, event: Event) -> dict[str, Any]:
        """The row Rasa's SQLTrackerStore.save writes for an event."""
        data = event.as_dict()
        return {"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"), "data": json.dumps(data)}
