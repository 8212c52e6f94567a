"""The single writer of an SQLite store: group commit on one connection.

Appends from every execution of the process are queued; one thread drains the
queue into one ``BEGIN IMMEDIATE ... COMMIT`` transaction and then resolves every
future in it, so ``await append(...)`` returns only once its batch is durable and
many concurrent appends share one fsync. While a batch is committing (the fsync
releases the GIL), the next one accumulates.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ConcurrencyError, StoreError
from orchestrator.store.batch import EventRow, StreamHead, plan_unit
from orchestrator.store.sqlite_errors import is_busy, translate

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from orchestrator.clock import Clock
    from orchestrator.store.base import AppendRequest

__all__ = ["LeaseOp", "SQLiteWriter", "WriterItem"]

_HEAD_SQL = (
    "SELECT kind, flow_name, parent_id, status, created_at, updated_at, last_seq, "
    "snapshot_seq, owner, lease_until FROM streams WHERE stream_id = ?"
)
_INSERT_SQL = (
    "INSERT INTO events(position, stream_id, seq, type, data, checksum, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_SQL = (
    "INSERT INTO streams(stream_id, kind, flow_name, parent_id, status, created_at, "
    "updated_at, last_seq, snapshot_seq, owner, lease_until) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(stream_id) DO UPDATE SET status=excluded.status, "
    "updated_at=excluded.updated_at, last_seq=excluded.last_seq, "
    "snapshot_seq=excluded.snapshot_seq, owner=excluded.owner, "
    "lease_until=excluded.lease_until"
)

Future = asyncio.Future[Any] | concurrent.futures.Future[Any]


@dataclass(frozen=True, slots=True)
class LeaseOp:
    """Claim, renew or release the lease of a stream."""

    op: str  # "claim" | "release"
    stream_id: str
    owner: str
    ttl: float = 0.0


@dataclass(slots=True)
class WriterItem:
    """One unit of work: an atomic append, a lease operation or a barrier."""

    future: Future
    requests: Sequence[AppendRequest] = ()
    lease: LeaseOp | None = None
    events: int = field(default=0)


class _Outcome:
    __slots__ = ("error", "value")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error


class SQLiteWriter:
    """Owns the write connection of one store in one process."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        clock: Clock,
        *,
        max_batch_events: int = 4096,
        checkpoint_idle_s: float = 1.0,
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._max_batch_events = max_batch_events
        self._checkpoint_idle_s = checkpoint_idle_s
        self._queue: deque[WriterItem] = deque()
        self._cv = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._conn: sqlite3.Connection | None = None
        self._cache: dict[str, StreamHead] = {}
        self._next_position: int | None = None
        self._data_version: int | None = None
        self.commits = 0
        self.checkpoints = 0

    # -- submission (any thread) -------------------------------------------------

    def put(self, item: WriterItem) -> None:
        """Queue an item; start the writer thread on first use."""
        with self._cv:
            if self._stopping:
                raise StoreError("the store is closed; open a new one to append")
            self._queue.append(item)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="triggerlog-writer", daemon=True
                )
                self._thread.start()
            self._cv.notify()

    def stop(self) -> None:
        """Drain the queue, commit it, close the connection."""
        with self._cv:
            self._stopping = True
            thread = self._thread
            self._cv.notify()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def abandon(self) -> None:
        """Forget the connection and queue after fork() without touching them."""
        self._queue = deque()
        self._cv = threading.Condition(threading.Lock())
        self._thread = None
        self._conn = None
        self._cache = {}
        self._next_position = None
        self._data_version = None

    # -- the writer thread --------------------------------------------------------

    def _run(self) -> None:
        dirty = False  # committed since the last checkpoint
        while True:
            items: list[WriterItem] | None = None
            with self._cv:
                while not self._queue and not self._stopping:
                    if not dirty:
                        self._cv.wait()
                    elif not self._cv.wait(timeout=self._checkpoint_idle_s):
                        break  # idle for a while: checkpoint below
                if self._queue:
                    items = self._take()
                elif self._stopping:
                    break
            if items is None:
                dirty = not self._checkpoint()
                continue
            self._process(items)
            dirty = True
        if self._conn is not None:
            if dirty:
                self._checkpoint()
            self._conn.close()
            self._conn = None

    def _take(self) -> list[WriterItem]:
        items: list[WriterItem] = []
        total = 0
        while self._queue and (not items or total < self._max_batch_events):
            item = self._queue.popleft()
            items.append(item)
            total += item.events
        return items

    def _checkpoint(self) -> bool:
        # PASSIVE never waits for readers; a pinned reader only delays truncation.
        if self._conn is None:
            return True
        try:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error:
            return False
        return True

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _process(self, items: list[WriterItem]) -> None:
        work = [item for item in items if item.requests or item.lease is not None]
        outcomes: dict[int, _Outcome] = {}
        if work:
            try:
                outcomes = self._commit_with_retry(work)
            except StoreError as error:
                if len(work) == 1:
                    outcomes = {id(work[0]): _Outcome(error=error)}
                else:
                    # Isolate the failure: one bad unit must not fail its neighbours.
                    for item in work:
                        try:
                            outcomes.update(self._commit_with_retry([item]))
                        except StoreError as single:
                            outcomes[id(item)] = _Outcome(error=single)
        self._deliver(items, outcomes)

    def _commit_with_retry(self, items: list[WriterItem]) -> dict[int, _Outcome]:
        deadline = time.monotonic() + 60.0
        delay = 0.005
        while True:
            try:
                return self._commit(items)
            except sqlite3.Error as error:
                if is_busy(error) and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 0.25)
                    continue
                raise translate(error, "appending to the log") from error

    def _commit(self, items: list[WriterItem]) -> dict[int, _Outcome]:
        conn = self._connection()
        now = self._clock.now()
        conn.execute("BEGIN IMMEDIATE")
        try:
            outcomes, heads, position = self._apply(conn, items, now)
            conn.execute("COMMIT")
        except BaseException:
            # SQLite may already have rolled back (FULL, IOERR, BUSY, NOMEM).
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._cache.clear()
            self._next_position = None
            raise
        self.commits += 1
        if len(self._cache) > 50_000:
            self._cache.clear()
        for head in heads.values():
            head.dirty = False
        self._cache.update(heads)
        self._next_position = position
        return outcomes

    def _apply(
        self, conn: sqlite3.Connection, items: list[WriterItem], now: float
    ) -> tuple[dict[int, _Outcome], dict[str, StreamHead], int]:
        # data_version changes only when *another* connection commits: while it
        # is unchanged, the heads and the next position cached from our own
        # commits are exact and two SELECTs per batch are saved.
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._cache.clear()
            self._next_position = None
            self._data_version = version
        cache = self._cache

        def lookup(stream_id: str) -> StreamHead | None:
            head = cache.get(stream_id)
            if head is None:
                row = conn.execute(_HEAD_SQL, (stream_id,)).fetchone()
                if row is None:
                    return None
                head = StreamHead(stream_id, *row)
                cache[stream_id] = head
            return head

        position = self._next_position
        if position is None:
            row = conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name='events'"
            ).fetchone()
            position = (row[0] if row else 0) + 1
        heads: dict[str, StreamHead] = {}
        outcomes: dict[int, _Outcome] = {}
        rows: list[EventRow] = []
        for item in items:
            if item.lease is not None:
                outcomes[id(item)] = _Outcome(
                    _apply_lease(item.lease, heads, lookup, now)
                )
                continue
            try:
                planned = plan_unit(item.requests, lookup, heads, position, now)
            except ConcurrencyError as error:
                outcomes[id(item)] = _Outcome(error=error)
                continue
            rows.extend(planned.rows)
            position += len(planned.rows)
            outcomes[id(item)] = _Outcome(planned.results)
        if rows:
            conn.executemany(_INSERT_SQL, rows)
        if heads:
            conn.executemany(
                _UPSERT_SQL, [h.as_row() for h in heads.values() if h.dirty]
            )
        return outcomes, heads, position

    @staticmethod
    def _deliver(items: list[WriterItem], outcomes: dict[int, _Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Future, _Outcome]]] = {}
        done = _Outcome()
        for item in items:
            outcome = outcomes.get(id(item), done)
            fut = item.future
            if isinstance(fut, asyncio.Future):
                by_loop.setdefault(fut.get_loop(), []).append((fut, outcome))
            else:
                _settle(fut, outcome)
        for loop, pairs in by_loop.items():
            # A closed loop raises RuntimeError: nobody is waiting for these results.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle_all, pairs)


def _apply_lease(
    lease: LeaseOp,
    heads: dict[str, StreamHead],
    lookup: Callable[[str], StreamHead | None],
    now: float,
) -> bool:
    head = heads.get(lease.stream_id)
    if head is None:
        base = lookup(lease.stream_id)
        if base is None:
            return False
        head = base.copy()
    if lease.op == "release":
        if head.owner == lease.owner:
            head.owner, head.lease_until, head.dirty = None, None, True
            heads[lease.stream_id] = head
        return True
    free = (
        head.owner is None
        or head.owner == lease.owner
        or (head.lease_until is not None and head.lease_until <= now)
    )
    if not free:
        return False
    head.owner, head.lease_until, head.dirty = lease.owner, now + lease.ttl, True
    heads[lease.stream_id] = head
    return True


def _settle(fut: Future, outcome: _Outcome) -> None:
    if fut.done():
        return
    if outcome.error is not None:
        fut.set_exception(outcome.error)
    else:
        fut.set_result(outcome.value)


def _settle_all(pairs: list[tuple[Future, _Outcome]]) -> None:
    for fut, outcome in pairs:
        _settle(fut, outcome)
