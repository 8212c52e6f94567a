"""SQLiteEventStore: the embedded default backend.

One writer thread per store and process commits appends in batches (see
``sqlite_writer``); reads use one short read transaction each on a per-thread
connection, so a long-lived reader (the console) never pins the WAL. Several
processes may share one file: every write transaction is ``BEGIN IMMEDIATE`` and
waits on SQLite's busy handler instead of failing. A store object used in a child
after ``fork()`` abandons the parent's connections and opens its own.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import sqlite3
import threading
import weakref
from typing import TYPE_CHECKING, Any

from orchestrator.clock import Clock, SystemClock
from orchestrator.errors import (
    CorruptEventError,
    ReadOnlyStoreError,
    StorageCorruptError,
    StoreError,
)
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
from orchestrator.store.batch import check_sizes
from orchestrator.store.rows import (
    EVENT_COLUMNS,
    STREAM_COLUMNS,
    decode_event_row,
    decode_stream_row,
    verify_stream,
)
from orchestrator.store.sqlite_connection import (
    ConnectionSettings,
    Durability,
    ensure_schema,
    open_connection,
    read_transaction,
)
from orchestrator.store.sqlite_errors import DRIVER_ERRORS, translate
from orchestrator.store.sqlite_writer import LeaseOp, SQLiteWriter, WriterItem

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["SQLiteEventStore"]

_LIVE_STORES: weakref.WeakSet[SQLiteEventStore] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for store in list(_LIVE_STORES):
        store._abandon_after_fork()


def _close_all_at_exit() -> None:
    for store in list(_LIVE_STORES):
        with contextlib.suppress(StoreError):
            store.close()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_all_at_exit)


class SQLiteEventStore:
    """The event log in one SQLite file.

    Args:
        path: the database file (created with its schema if missing).
        durability: ``"full"`` (default) makes every acknowledged append survive
            power loss (``synchronous=FULL``); ``"fast"`` uses ``NORMAL``, which
            survives process crashes but may lose the last commits on power loss
            (never corrupts the file).
        read_only: open with a ``mode=ro`` URI; every write raises
            :class:`ReadOnlyStoreError` before touching the file.
        clock: time source for ``created_at`` and leases.
        busy_timeout_ms: how long SQLite waits for another process's lock.
        max_event_bytes / warn_event_bytes: per-event payload cap and warning.
        max_page_count: optional hard size limit of the file in pages.
        allow_network_fs: skip the refusal of network filesystems.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        durability: Durability = "full",
        read_only: bool = False,
        clock: Clock | None = None,
        busy_timeout_ms: int = 10_000,
        journal_size_limit: int = 64 * 1024 * 1024,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        warn_event_bytes: int = DEFAULT_WARN_EVENT_BYTES,
        max_page_count: int | None = None,
        max_batch_events: int = 4096,
        allow_network_fs: bool = False,
    ) -> None:
        if durability not in ("full", "fast"):
            raise StoreError(f"durability must be 'full' or 'fast', got {durability!r}")
        if busy_timeout_ms < 5000:
            raise StoreError(
                f"busy_timeout_ms must be at least 5000 (got {busy_timeout_ms}); "
                "shorter timeouts surface 'database is locked' under normal load"
            )
        self.path = os.fspath(path)
        self.url = f"sqlite:///{self.path}"
        self.read_only = read_only
        self.durability = durability
        self.max_event_bytes = max_event_bytes
        self.warn_event_bytes = warn_event_bytes
        self._clock = clock or SystemClock()
        self._settings = ConnectionSettings(
            path=self.path,
            read_only=read_only,
            durability=durability,
            busy_timeout_ms=busy_timeout_ms,
            journal_size_limit=journal_size_limit,
            max_page_count=max_page_count,
            allow_network_fs=allow_network_fs,
        )
        self._max_batch_events = max_batch_events
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        first = open_connection(self._settings)
        try:
            ensure_schema(first, self._settings)
        except BaseException:
            first.close()
            raise
        self._local.conn = first
        self._readers.append(first)
        self._writer = self._new_writer()
        _LIVE_STORES.add(self)

    def __repr__(self) -> str:
        mode = "ro" if self.read_only else self.durability
        return f"SQLiteEventStore({self.path!r}, {mode})"

    def _new_writer(self) -> SQLiteWriter:
        def connect() -> sqlite3.Connection:
            return open_connection(self._settings)

        return SQLiteWriter(
            connect, self._clock, max_batch_events=self._max_batch_events
        )

    # -- lifecycle ------------------------------------------------------------------

    def close(self) -> None:
        """Commit what is queued, then close every connection of this process."""
        if self._closed:
            return
        self._closed = True
        self._writer.stop()
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for conn in readers:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        _LIVE_STORES.discard(self)

    def _abandon_after_fork(self) -> None:
        # Never use, or even close, a connection inherited across fork()
        # (sqlite.org/howtocorrupt.html §2.6): drop the references and reopen.
        self._local = threading.local()
        self._readers = []
        self._readers_lock = threading.Lock()
        self._writer.abandon()

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"{self!r} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = open_connection(self._settings)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    # -- writes ---------------------------------------------------------------------

    def _check_writable(self, requests: Sequence[AppendRequest]) -> int:
        if self._closed:
            raise StoreError(f"{self!r} is closed; open a new store to append")
        if self.read_only:
            raise ReadOnlyStoreError(
                f"{self.path}: the store was opened read-only; nothing was written"
            )
        return check_sizes(requests, self.max_event_bytes, self.warn_event_bytes)

    def submit(
        self, requests: Sequence[AppendRequest]
    ) -> asyncio.Future[list[AppendResult]]:
        """Queue one atomic unit; the future resolves when its batch is durable."""
        events = self._check_writable(requests)
        fut: asyncio.Future[list[AppendResult]] = (
            asyncio.get_running_loop().create_future()
        )
        self._writer.put(WriterItem(fut, requests, events=events))
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
        """Append to one stream and wait until it is durable."""
        request = AppendRequest(stream_id, events, expected_seq, meta, owner)
        (result,) = await self.submit([request])
        return result

    async def append_many(
        self, requests: Sequence[AppendRequest]
    ) -> list[AppendResult]:
        """Append to several streams atomically and wait until durable."""
        return await self.submit(requests)

    def append_blocking(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        """Atomic append from synchronous code; blocks until durable."""
        events = self._check_writable(requests)
        fut: concurrent.futures.Future[list[AppendResult]] = concurrent.futures.Future()
        self._writer.put(WriterItem(fut, requests, events=events))
        return fut.result()

    async def flush(self) -> None:
        """Wait until everything queued before this call is durable."""
        if self.read_only or self._closed:
            return
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._writer.put(WriterItem(fut))
        await fut

    def flush_blocking(self) -> None:
        """Block this thread until everything queued before the call is durable.

        Safe on an event loop's own thread: the writer settles this barrier
        directly, without the loop's help.
        """
        if self.read_only or self._closed:
            return
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._writer.put(WriterItem(fut))
        fut.result()

    def _lease(self, op: LeaseOp) -> bool:
        self._check_writable([AppendRequest(op.stream_id, ())])
        fut: concurrent.futures.Future[bool] = concurrent.futures.Future()
        self._writer.put(WriterItem(fut, lease=op))
        return fut.result()

    def claim(
        self, stream_id: str, owner: str, ttl: float, steal_from: str | None = None
    ) -> bool:
        """Take or renew the lease of ``stream_id`` for ``ttl`` seconds.

        ``steal_from``: an owner known to be dead, whose lease is taken at once.
        """
        return self._lease(LeaseOp("claim", stream_id, owner, ttl, steal_from))

    def release(self, stream_id: str, owner: str) -> None:
        """Release the lease if ``owner`` holds it."""
        self._lease(LeaseOp("release", stream_id, owner))

    # -- reads ----------------------------------------------------------------------

    def read_stream(
        self, stream_id: str, from_seq: int = 1, to_seq: int | None = None
    ) -> list[StoredEvent]:
        """Events of one stream, verified and gap-free, in one read transaction."""
        conn = self._reader()
        sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = ? AND seq >= ?"  # noqa: S608 - constant columns
        params: tuple[Any, ...] = (stream_id, from_seq)
        if to_seq is not None:
            sql += " AND seq <= ?"
            params += (to_seq,)
        sql += " ORDER BY seq"
        with read_transaction(conn, f"reading stream {stream_id!r}"):
            head = conn.execute(
                "SELECT last_seq FROM streams WHERE stream_id = ?", (stream_id,)
            ).fetchone()
            rows = conn.execute(sql, params).fetchall()
        last_seq = head[0] if head is not None and isinstance(head[0], int) else None
        return verify_stream(stream_id, rows, from_seq, to_seq, last_seq)

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Up to ``limit`` events after ``after_position``, in log order."""
        conn = self._reader()
        with read_transaction(conn, "reading the log"):
            rows = conn.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE position > ? "  # noqa: S608
                "ORDER BY position LIMIT ?",
                (after_position, limit),
            ).fetchall()
        events = [decode_event_row(row) for row in rows]
        # Positions are gap-free (the writer assigns them in order and a rolled
        # back batch takes none), so a hole here is a row the file lost.
        expected = max(after_position, 0) + 1
        for event in events:
            if event.position != expected:
                raise CorruptEventError(
                    event.stream_id,
                    event.seq,
                    f"the log skips from position {expected - 1} to {event.position}",
                )
            expected += 1
        return events

    def get_stream(self, stream_id: str) -> StreamInfo | None:
        """The index row of one stream."""
        conn = self._reader()
        with read_transaction(conn, f"reading stream {stream_id!r}"):
            row = conn.execute(
                f"SELECT {STREAM_COLUMNS} FROM streams WHERE stream_id = ?",  # noqa: S608
                (stream_id,),
            ).fetchone()
        return decode_stream_row(row) if row is not None else None

    def list_streams(
        self,
        *,
        kind: str | None = None,
        flow_name: str | None = None,
        status: str | Sequence[str] | None = None,
        parent_id: str | None = None,
        limit: int | None = None,
    ) -> list[StreamInfo]:
        """Streams filtered on the index, most recently updated first."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("kind", kind),
            ("flow_name", flow_name),
            ("parent_id", parent_id),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            clauses.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        sql = f"SELECT {STREAM_COLUMNS} FROM streams"  # noqa: S608 - only "?" params follow
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY updated_at DESC, stream_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        conn = self._reader()
        with read_transaction(conn, "listing streams"):
            rows = conn.execute(sql, params).fetchall()
            if not clauses and limit is None:
                # Every stream is listed: their heads must add up to the number
                # of events ever appended, or the index lost (or gained) a row.
                row = conn.execute(
                    "SELECT seq FROM sqlite_sequence WHERE name = 'events'"
                ).fetchone()
                appended = row[0] if row is not None else 0
            else:
                appended = None
        infos = [decode_stream_row(row) for row in rows]
        if len({info.stream_id for info in infos}) != len(infos):
            # stream_id is the primary key: a repeat comes from a damaged index
            raise StorageCorruptError(
                f"{self.path}: the streams index lists a stream twice; the index is "
                "damaged. Restore the file from a backup."
            )
        if appended is not None:
            listed = sum(info.last_seq for info in infos)
            if listed != appended:
                raise StorageCorruptError(
                    f"{self.path}: the streams index accounts for {listed} events "
                    f"in {len(infos)} streams but the log holds {appended!r}; the "
                    "index is damaged. Restore the file from a backup."
                )
        return infos

    def head_position(self) -> int:
        """The highest position written so far."""
        conn = self._reader()
        with read_transaction(conn, "reading the log head"):
            row = conn.execute("SELECT max(position) FROM events").fetchone()
        return int(row[0] or 0)

    def data_version(self) -> tuple[int, int]:
        """A value that changes whenever anyone commits to the file (cheap probe).

        ``PRAGMA data_version`` of this thread's reader connection changes when
        another connection (another process, or this store's writer) commits;
        it reads no table and opens no transaction. Paired with the connection
        so values from two threads never compare equal by chance.
        """
        conn = self._reader()
        try:
            row = conn.execute("PRAGMA data_version").fetchone()
        except DRIVER_ERRORS as error:
            raise translate(error, "PRAGMA data_version") from error
        return (id(conn), int(row[0]))

    def stream_head(self, stream_id: str) -> int:
        """The last seq of one stream (0 when absent): one indexed row, one statement."""
        try:
            row = (
                self._reader()
                .execute(
                    "SELECT last_seq FROM streams WHERE stream_id = ?", (stream_id,)
                )
                .fetchone()
            )
        except DRIVER_ERRORS as error:
            raise translate(error, f"reading stream {stream_id!r}") from error
        return int(row[0]) if row is not None else 0

    # -- inspection -----------------------------------------------------------------

    def pragma(self, name: str) -> Any:
        """Read back one PRAGMA on this thread's connection (set up like the writer's)."""
        try:
            return self._reader().execute(f"PRAGMA {name}").fetchone()[0]
        except DRIVER_ERRORS as error:
            raise translate(error, f"PRAGMA {name}") from error

    @property
    def commits(self) -> int:
        """How many write transactions this process committed (group-commit ratio)."""
        return self._writer.commits
