"""InMemoryEventStore: the same contract as SQLite, in process memory.

For tests and throwaway flows (``TriggerFlow(store=":memory:")``), and the model
that the SQLite store is checked against in the stateful property tests. Appends
are "durable" as soon as they are accepted.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from orchestrator.clock import Clock, SystemClock
from orchestrator.errors import ConcurrencyError, StoreError
from orchestrator.store.base import (
    DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_WARN_EVENT_BYTES,
    AppendRequest,
    AppendResult,
    NewEvent,
    StoredEvent,
    StreamInfo,
    StreamMeta,
)
from orchestrator.store.batch import CLEAN, StreamHead, check_sizes, plan_unit

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["InMemoryEventStore"]


class InMemoryEventStore:
    """An event store that lives and dies with the process."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        warn_event_bytes: int = DEFAULT_WARN_EVENT_BYTES,
    ) -> None:
        self.url = "memory://"
        self.read_only = False
        self.max_event_bytes = max_event_bytes
        self.warn_event_bytes = warn_event_bytes
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._log: list[StoredEvent] = []
        self._streams: dict[str, list[StoredEvent]] = {}
        self._heads: dict[str, StreamHead] = {}
        self._closed = False

    def __repr__(self) -> str:
        return "InMemoryEventStore()"

    def _commit(
        self, requests: Sequence[AppendRequest], *, checked: bool = False
    ) -> list[AppendResult]:
        if not checked:
            if self._closed:
                raise StoreError(f"{self!r} is closed; open a new store to append")
            check_sizes(requests, self.max_event_bytes, self.warn_event_bytes)
        with self._lock:
            heads: dict[str, StreamHead] = {}
            planned = plan_unit(
                requests, self._heads.get, heads, len(self._log) + 1, self._clock.now()
            )
            for (
                position,
                stream_id,
                seq,
                type_name,
                data,
                _,
                created_at,
            ) in planned.rows:
                event = StoredEvent(
                    stream_id, seq, position, type_name, data, created_at
                )
                self._log.append(event)
                self._streams.setdefault(stream_id, []).append(event)
            for stream_id, head in heads.items():
                head.change = CLEAN
                self._heads[stream_id] = head
        return planned.results

    def submit(
        self, requests: Sequence[AppendRequest]
    ) -> asyncio.Future[list[AppendResult]]:
        """Apply at once; the returned future is already resolved (or failed).

        As with SQLite, a malformed or oversized request raises here, while a
        refusal by the log (expected seq, lease) fails the future.
        """
        loop = asyncio.get_running_loop()
        if self._closed:
            raise StoreError(f"{self!r} is closed; open a new store to append")
        check_sizes(requests, self.max_event_bytes, self.warn_event_bytes)
        fut: asyncio.Future[list[AppendResult]] = loop.create_future()
        try:
            fut.set_result(self._commit(requests, checked=True))
        except ConcurrencyError as error:
            fut.set_exception(error)
        return fut

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        *,
        expected_seq: int | None = None,
        meta: StreamMeta | None = None,
        owner: str | None = None,
    ) -> AppendResult:
        """Append to one stream."""
        (result,) = self._commit(
            [AppendRequest(stream_id, events, expected_seq, meta, owner)]
        )
        return result

    async def append_many(
        self, requests: Sequence[AppendRequest]
    ) -> list[AppendResult]:
        """Append to several streams atomically."""
        return self._commit(requests)

    def append_blocking(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        """Append atomically from synchronous code."""
        return self._commit(requests)

    async def flush(self) -> None:
        """Nothing is ever pending in memory."""

    def flush_blocking(self) -> None:
        """Nothing is ever pending in memory."""

    def claim(
        self, stream_id: str, owner: str, ttl: float, steal_from: str | None = None
    ) -> bool:
        """Take or renew a lease (``steal_from``: a dead owner's lease is taken)."""
        now = self._clock.now()
        with self._lock:
            head = self._heads.get(stream_id)
            if head is None:
                return False
            free = (
                head.owner in (None, owner)
                or (head.lease_until is not None and head.lease_until <= now)
                or (steal_from is not None and head.owner == steal_from)
            )
            if free:
                head.owner, head.lease_until = owner, now + ttl
            return free

    def release(self, stream_id: str, owner: str) -> None:
        """Release a lease held by ``owner``."""
        with self._lock:
            head = self._heads.get(stream_id)
            if head is not None and head.owner == owner:
                head.owner, head.lease_until = None, None

    def read_stream(
        self, stream_id: str, from_seq: int = 1, to_seq: int | None = None
    ) -> list[StoredEvent]:
        """Events of one stream in seq order."""
        with self._lock:
            events = self._streams.get(stream_id, [])
            end = len(events) if to_seq is None else max(min(to_seq, len(events)), 0)
            return events[max(from_seq, 1) - 1 : end]

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events after a global position."""
        with self._lock:
            # As in SQL: a negative LIMIT means no limit.
            start = max(after_position, 0)
            return self._log[start : start + limit] if limit >= 0 else self._log[start:]

    def get_stream(self, stream_id: str) -> StreamInfo | None:
        """The index row of one stream."""
        with self._lock:
            head = self._heads.get(stream_id)
            return _info(head) if head is not None else None

    def list_streams(
        self,
        *,
        kind: str | None = None,
        flow_name: str | None = None,
        status: str | Sequence[str] | None = None,
        parent_id: str | None = None,
        limit: int | None = None,
    ) -> list[StreamInfo]:
        """Streams filtered like the SQL backends, most recently updated first."""
        statuses = (
            None
            if status is None
            else {status}
            if isinstance(status, str)
            else set(status)
        )
        with self._lock:
            heads = [
                h
                for h in self._heads.values()
                if (kind is None or h.kind == kind)
                and (flow_name is None or h.flow_name == flow_name)
                and (parent_id is None or h.parent_id == parent_id)
                and (statuses is None or h.status in statuses)
            ]
        heads.sort(key=lambda h: h.stream_id)
        heads.sort(key=lambda h: h.updated_at, reverse=True)
        infos = [_info(h) for h in heads]
        return infos[:limit] if limit is not None and limit >= 0 else infos

    def head_position(self) -> int:
        """The highest position written so far."""
        return len(self._log)

    def close(self) -> None:
        """Refuse further appends (reads keep working)."""
        self._closed = True

    def stats(self) -> dict[str, Any]:
        """Counts for tests and the console."""
        return {"events": len(self._log), "streams": len(self._heads)}


def _info(head: StreamHead) -> StreamInfo:
    return StreamInfo(
        stream_id=head.stream_id,
        kind=head.kind,
        flow_name=head.flow_name,
        parent_id=head.parent_id,
        status=head.status,
        created_at=head.created_at,
        updated_at=head.updated_at,
        last_seq=head.last_seq,
        snapshot_seq=head.snapshot_seq,
        owner=head.owner,
        lease_until=head.lease_until,
    )
