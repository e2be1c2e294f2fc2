"""Rasa's Redis lock store, with every change of a lock made atomically, for more than one Rasa server.

Rasa serialises the turns of one conversation with a ticket lock kept as JSON under one Redis key.
Its RedisLockStore changes that lock by reading it, changing it in Python and writing it back, with
nothing in between to stop another server doing the same. With two Rasa servers sharing one Redis,
two messages of one conversation arriving together can both read "last ticket 3" and both get
ticket 4, or one server's clean-up can delete the lock just after the other issued a ticket on it
(that turn then fails with "Could not acquire lock"). Either way both turns run at once and the
tracker store keeps only one of them. This store makes each change a Redis optimistic transaction
(WATCH the key, read, change, MULTI/EXEC; redo it when another server changed the key in between),
so every ticket is distinct and a lock is deleted only if nobody holds a ticket on it.

Also:
- a queued turn checks for its turn every 50 ms instead of every second (Rasa's default);
- the key expires by itself (after its latest ticket, plus a margin), so a server killed while
  holding a lock leaves nothing behind in Redis; its ticket still expires after Rasa's lock lifetime
  (env TICKET_LOCK_LIFETIME, default 60 s), and the next turn goes on then;
- the data stays Rasa's TicketLock JSON, so it is a drop-in subclass; redis-py reconnects after a
  Redis restart.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

POLL_INTERVAL_IN_SECONDS = 0.05
# Tickets expire by their server's clock; the margin keeps the key while a server whose clock runs
# behind may still count its ticket as valid.
KEY_EXPIRY_MARGIN_IN_SECONDS = 10.0

Result = TypeVar("Result")


class AtomicRedisLockStore(RedisLockStore):
    """Configured in endpoints.yml as `lock_store: {type: liptwitch.rasa_server.lock_store.AtomicRedisLockStore,
    url: ..., port: ..., password: ..., db: ..., key_prefix: ...}`; takes RedisLockStore's arguments as keywords too."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = POLL_INTERVAL_IN_SECONDS,
    ) -> AbstractAsyncContextManager[TicketLock]:
        return super().lock(conversation_id, lock_lifetime, wait_time_in_seconds)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change_lock(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime))
        except Exception as error:  # as Rasa's own issue_ticket, so callers see the error they expect
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        # Removing the last ticket deletes the lock in the same transaction (see _write).
        self._change_lock(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # Rasa's cleanup checks for waiters and deletes in separate steps; finish_serving does both at once.
        self.finish_serving(conversation_id, ticket_number)

    def update_lock(self, conversation_id: str) -> None:
        self._change_lock(conversation_id, lambda lock: lock.remove_expired_tickets())

    def save_lock(self, lock: TicketLock) -> None:
        self._write(self.red, lock)

    def _change_lock(self, conversation_id: str, change: Callable[[TicketLock], Result]) -> Result:
        """Apply `change` to the stored lock (a new one if there is none) and store the result, atomically."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    lock = self._read(pipe, conversation_id) or self.create_lock(conversation_id)
                    before = lock.dumps()
                    result = change(lock)
                    if lock.dumps() != before:
                        pipe.multi()
                        self._write(pipe, lock)
                        pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another server changed the lock since we read it: start again from its version
                finally:
                    pipe.reset()

    def _read(self, client: redis.Redis, conversation_id: str) -> TicketLock | None:
        serialised = client.get(self.key_prefix + conversation_id)
        return TicketLock.from_dict(json.loads(serialised)) if serialised else None

    def _write(self, client: redis.Redis, lock: TicketLock) -> None:
        """Store `lock` to expire after its latest ticket, or delete it when no ticket is left."""
        key = self.key_prefix + lock.conversation_id
        lock.remove_expired_tickets()
        if not lock.is_someone_waiting():
            client.delete(key)
            return
        latest_expiry = max(ticket.expires for ticket in lock.tickets)
        expires_in_ms = math.ceil((latest_expiry - time.time() + KEY_EXPIRY_MARGIN_IN_SECONDS) * 1000)
        client.set(key, lock.dumps(), px=expires_in_ms)

