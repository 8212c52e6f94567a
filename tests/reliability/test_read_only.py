"""T5: a read-only store reads and folds, and refuses every write up front.

Opened with a ``mode=ro`` URI (chmod 0444 does not stop root, so CI cannot rely
on it). Every mutation raises ReadOnlyStoreError before anything is queued or
written: the file's bytes do not change and no writer thread starts.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from orchestrator.errors import ReadOnlyStoreError, StoreError
from orchestrator.store import AppendRequest, NewEvent, SQLiteEventStore
from tests.reliability.helpers import build_realistic_db, replay_outcome


def digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path, clock) -> str:
    path = str(tmp_path / "ro.db")
    build_realistic_db(path, clock=clock)
    return path


def test_reads_and_folds_work(db) -> None:
    original = replay_outcome(db)
    before = digest(db)
    assert replay_outcome(db, read_only=True) == original
    assert digest(db) == before


async def test_every_write_is_refused_before_anything_happens(db, clock) -> None:
    before = digest(db)
    store = SQLiteEventStore(db, read_only=True, clock=clock)
    event = NewEvent("t.x", b"{}")
    try:
        assert store.read_only is True
        with pytest.raises(ReadOnlyStoreError, match="read-only"):
            store.submit([AppendRequest("exec-00", [event])])
        with pytest.raises(ReadOnlyStoreError):
            await store.append("exec-00", [event])
        with pytest.raises(ReadOnlyStoreError):
            await store.append("brand-new", [event], expected_seq=0)
        with pytest.raises(ReadOnlyStoreError):
            store.append_blocking([AppendRequest("exec-00", [event])])
        with pytest.raises(ReadOnlyStoreError):
            store.claim("exec-00", "w1", 30)
        with pytest.raises(ReadOnlyStoreError):
            store.release("exec-00", "w1")
        await store.flush()  # nothing to flush: no error
        assert store._writer._thread is None
        assert store.commits == 0
        assert len(store.read_stream("exec-00")) == 16
        assert store.get_stream("exec-00").owner is None  # type: ignore[union-attr]
    finally:
        store.close()
    assert digest(db) == before


def test_a_reader_follows_a_live_writer(db, clock) -> None:
    """The console's pattern: poll read_all(after=last seen) on a read-only store."""
    writer = SQLiteEventStore(db, clock=clock)
    reader = SQLiteEventStore(db, read_only=True, clock=clock)
    try:
        seen = reader.head_position()
        for i in range(5):
            writer.append_blocking(
                [AppendRequest("live", [NewEvent("t.x", b"%d" % i)])]
            )
            fresh = reader.read_all(seen)
            assert [e.data for e in fresh] == [b"%d" % i]
            seen = fresh[-1].position
        assert reader.get_stream("live").last_seq == 5  # type: ignore[union-attr]
        assert "live" in {s.stream_id for s in reader.list_streams()}
    finally:
        reader.close()
        writer.close()


def test_the_driver_refuses_writes_on_a_read_only_connection(db) -> None:
    """Even a write that slipped past the check could not touch the file."""
    store = SQLiteEventStore(db, read_only=True)
    try:
        conn = store._reader()
        with pytest.raises(Exception, match="readonly"):
            conn.execute("DELETE FROM events")
    finally:
        store.close()
    assert len(replay_outcome(db)["log"]) == 66


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_file_is_refused_as_a_typed_error(db) -> None:
    os.chmod(db, stat.S_IRUSR)
    try:
        with pytest.raises(StoreError):
            SQLiteEventStore(db).append_blocking(
                [AppendRequest("x", [NewEvent("t.x", b"1")])]
            )
    finally:
        os.chmod(db, stat.S_IRUSR | stat.S_IWUSR)
