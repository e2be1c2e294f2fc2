"""Rasa's SQL tracker store, without reloading a whole conversation from the database on every turn.

Rasa's SQLTrackerStore rebuilds the tracker at the start of each turn: it reads every event of the
session, decodes it and replays it. After 200 turns that takes about 90 ms, the largest part of a
turn (bench/RESULTS.md, "Where a turn's time goes"). This store keeps each tracker it saved in
memory and hands it back next turn. Before reusing it, it checks that the database still holds
exactly that tracker's events, so the cached tracker is reused only when it is current:

- if another Rasa server wrote to the conversation since, the count differs and the tracker is read
  again;
- if a turn failed before saving, the tracker holds events the database lacks, and it is read again;
- if a new session started, the database's count covers the new session only, and the tracker is
  read again.

The database stays the one source of truth. The cache holds at most `cache_size` conversations, the
least recently used leaving first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker


class CachedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cache_size: int = 1000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[str, DialogueStateTracker] = OrderedDict()

    def _stored_event_count(self, sender_id: str) -> int:
        with self.session_scope() as session:
            return self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        cached = self._cache.pop(sender_id, None)
        if cached is not None and len(cached.events) == self._stored_event_count(sender_id):
            self._cache[sender_id] = cached
            return cached
        return await super().retrieve(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        self._cache.pop(tracker.sender_id, None)
        # Kept only if it is what the database now returns: a tracker that began a session holds an
        # event from before it (action_session_start) that retrieving leaves out.
        if len(tracker.events) == self._stored_event_count(tracker.sender_id):
            self._cache[tracker.sender_id] = tracker
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
