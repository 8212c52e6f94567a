"""T3-light: the store's reads never pin the WAL, so checkpoints keep it bounded.

Each read is one short transaction, released at once. With reads interleaved
with ~19 MB of appends, the WAL stays near SQLite's auto-checkpoint size and is
cut back to ``journal_size_limit``; an idle writer checkpoints on its own, and
close leaves no WAL behind. The negative control holds one raw read snapshot
open and shows the same workload then grows the WAL without bound: the check
can fail.
"""

from __future__ import annotations

import os
import threading
import time

from orchestrator.store import AppendRequest, NewEvent, SQLiteEventStore
from tests.reliability.helpers import raw_connect

PAYLOAD = b"x" * 48 * 1024
APPENDS = 400  # ~19 MB through the WAL
LIMIT = 256 * 1024
AUTOCHECKPOINT_BYTES = 1000 * 4096  # SQLite's default wal_autocheckpoint


def wal_size(path: str) -> int:
    try:
        return os.stat(path + "-wal").st_size
    except FileNotFoundError:
        return 0


def churn(
    store: SQLiteEventStore, path: str, reader: SQLiteEventStore | None = None
) -> int:
    """Append while reading from this thread and another; return the largest WAL."""
    biggest = 0
    stop = threading.Event()
    errors: list[BaseException] = []

    def read_loop() -> None:
        other = reader or store
        try:
            while not stop.is_set():
                other.read_all(max(other.head_position() - 5, 0), 5)
                other.list_streams(limit=3)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    thread = threading.Thread(target=read_loop)
    thread.start()
    try:
        for i in range(APPENDS):
            store.append_blocking(
                [AppendRequest(f"s{i % 4}", [NewEvent("t.blob", PAYLOAD)])]
            )
            assert len(store.read_stream(f"s{i % 4}", max(i // 4 - 1, 1))) >= 1
            biggest = max(biggest, wal_size(path))
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    return biggest


def test_reads_never_pin_the_wal(db_path, clock) -> None:
    store = SQLiteEventStore(db_path, clock=clock, journal_size_limit=LIMIT)
    store._writer._checkpoint_idle_s = 0.05  # the idle checkpoint, without a 1 s wait
    follower = SQLiteEventStore(db_path, clock=clock, read_only=True)
    try:
        biggest = churn(store, db_path, reader=follower)
        total = APPENDS * len(PAYLOAD)
        # A checkpoint that meets a read in flight is retried on a later commit, so
        # the WAL may overshoot one auto-checkpoint interval, never much more.
        assert biggest < 2 * AUTOCHECKPOINT_BYTES + LIMIT, biggest
        assert biggest < total / 2
        # Idle: the writer checkpoints by itself (no reader holds a snapshot)...
        before = store._writer.checkpoints
        deadline = time.monotonic() + 10
        while store._writer.checkpoints == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store._writer.checkpoints > before
        # ...and every frame of the WAL is back in the database file.
        conn = raw_connect(db_path)
        try:
            busy, frames, done = conn.execute(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchone()
        finally:
            conn.close()
        assert (busy, done) == (0, frames)
        # The next write restarts the WAL, cut back to journal_size_limit.
        store.append_blocking([AppendRequest("s0", [NewEvent("t.small", b"1")])])
        assert wal_size(db_path) <= LIMIT
    finally:
        follower.close()
        store.close()
    assert wal_size(db_path) == 0  # the last close checkpoints and removes it


def test_negative_control_a_pinned_reader_grows_the_wal(db_path, clock) -> None:
    store = SQLiteEventStore(db_path, clock=clock, journal_size_limit=LIMIT)
    store.append_blocking([AppendRequest("s0", [NewEvent("t.small", b"1")])])
    pinned = raw_connect(db_path)
    try:
        pinned.execute("BEGIN")
        pinned.execute("SELECT count(*) FROM events").fetchone()  # holds a snapshot
        biggest = churn(store, db_path)
        assert biggest > APPENDS * len(PAYLOAD) * 0.9  # nothing could be checkpointed
        pinned.execute("COMMIT")
        # once the reader lets go, the next commit's checkpoint completes and the
        # one after restarts the WAL, cut back to journal_size_limit
        for i in range(3):
            store.append_blocking(
                [AppendRequest("s0", [NewEvent("t.small", b"%d" % i)])]
            )
        assert wal_size(db_path) <= LIMIT
    finally:
        pinned.close()
        store.close()
