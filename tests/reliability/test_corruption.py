"""T7, T8, T9: damaged rows and random bit flips never replay silently.

Every failure is a typed error naming the stream and seq (CorruptEventError,
UnknownEventTypeError, StorageCorruptError), never a KeyError, a JSON or UTF-8
error, or, worst of all, a different state that looks fine.
"""

from __future__ import annotations

import os
import random
import shutil
from collections import Counter
from typing import Any

import pytest

from orchestrator.errors import (
    CorruptEventError,
    NotADatabaseError,
    ReplayError,
    StorageCorruptError,
    StoreError,
    UnknownEventTypeError,
)
from orchestrator.projection import fold
from orchestrator.store import SQLiteEventStore
from orchestrator.store.base import event_checksum
from tests.reliability.helpers import (
    build_realistic_db,
    execute,
    query,
    replay_outcome,
)

FLIPS = 150
STREAM = "exec-01"
SEQ = 5


@pytest.fixture
def db(tmp_path, clock) -> str:
    path = str(tmp_path / "real.db")
    build_realistic_db(path, clock=clock)
    return path


def _row(db: str, seq: int = SEQ) -> tuple[Any, ...]:
    [row] = query(
        db,
        "SELECT stream_id, seq, type, data, created_at FROM events "
        "WHERE stream_id = ? AND seq = ?",
        (STREAM, seq),
    )
    return row


def _rewrite(
    db: str, *, data: bytes | None = None, type_name: str | None = None
) -> None:
    """Change one event and recompute its checksum: it passes the store's check."""
    sid, seq, old_type, old_data, created_at = _row(db)
    data = old_data if data is None else data
    type_name = old_type if type_name is None else type_name
    checksum = event_checksum(sid, seq, type_name, created_at, data)
    execute(
        db,
        "UPDATE events SET data = ?, type = ?, checksum = ? WHERE stream_id = ? AND seq = ?",
        (data, type_name, checksum, sid, seq),
    )


def _read_and_fold(db: str) -> None:
    store = SQLiteEventStore(db)
    try:
        fold(STREAM, store.read_stream(STREAM))
    finally:
        store.close()


# -- T7: a payload changed behind the store's back --------------------------------------


@pytest.mark.parametrize(
    "new_data",
    [b'{"key": ', b"", b"\xff\xfe not utf-8", b'{"key": "value"}'],
)
def test_changed_payload_fails_its_checksum(db, new_data: bytes) -> None:
    execute(
        db,
        "UPDATE events SET data = ? WHERE stream_id = ? AND seq = ?",
        (new_data, STREAM, SEQ),
    )
    store = SQLiteEventStore(db)
    try:
        with pytest.raises(CorruptEventError) as caught:
            store.read_stream(STREAM)
        assert (caught.value.stream_id, caught.value.seq) == (STREAM, SEQ)
        assert "checksum" in caught.value.reason
        assert f"{STREAM!r} seq {SEQ}" in str(caught.value)
        with pytest.raises(CorruptEventError):
            store.read_all(0, 1000)
        assert len(store.read_stream(STREAM, 1, SEQ - 1)) == SEQ - 1  # before it: fine
        assert len(store.read_stream("exec-02")) == 16  # other streams: fine
    finally:
        store.close()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("type", "state.deleted"),
        ("created_at", 1.0),
        ("stream_id", "exec-99"),
        ("seq", 99),
        ("checksum", 0),
    ],
)
def test_every_replayed_column_is_covered_by_the_checksum(db, column, value) -> None:
    execute(
        db,
        f"UPDATE events SET {column} = ? WHERE stream_id = ? AND seq = ?",
        (value, STREAM, SEQ),
    )
    store = SQLiteEventStore(db)
    try:
        with pytest.raises(CorruptEventError) as caught:
            store.read_stream(STREAM)
        assert caught.value.stream_id == STREAM
    finally:
        store.close()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"key": ', "not JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"nope": 1}', "unknown fields"),
        (b"{}", "payload"),
        (b'{"key": "x", "value": 1, "$v": 7}', "v7"),
    ],
)
def test_valid_checksum_but_bad_payload_fails_the_fold(db, data, reason) -> None:
    _rewrite(db, data=data)
    store = SQLiteEventStore(db)
    try:
        events = store.read_stream(STREAM)  # the bytes are exactly what was stored
        assert len(events) == 16
    finally:
        store.close()
    with pytest.raises((CorruptEventError, UnknownEventTypeError)) as caught:
        _read_and_fold(db)
    error: CorruptEventError | UnknownEventTypeError = caught.value  # type: ignore[assignment]
    assert (error.stream_id, error.seq) == (STREAM, SEQ)
    assert reason in str(caught.value)


def test_unknown_event_type_names_type_and_seq(db) -> None:
    _rewrite(db, type_name="from_the_future.event")
    with pytest.raises(UnknownEventTypeError) as caught:
        _read_and_fold(db)
    error = caught.value
    assert (error.stream_id, error.seq, error.type_name) == (
        STREAM,
        SEQ,
        "from_the_future.event",
    )
    assert "from_the_future.event" in str(error)
    assert f"seq {SEQ}" in str(error)


def test_an_event_of_another_stream_kind_fails_the_fold(db) -> None:
    _rewrite(
        db, type_name="flow.defined", data=b'{"fingerprint": "x", "blueprint": {}}'
    )
    with pytest.raises(CorruptEventError, match="does not belong"):
        _read_and_fold(db)


@pytest.mark.parametrize("seq", [1, SEQ, 16])
def test_a_missing_event_is_a_gap(db, seq: int) -> None:
    execute(db, "DELETE FROM events WHERE stream_id = ? AND seq = ?", (STREAM, seq))
    store = SQLiteEventStore(db)
    try:
        with pytest.raises(CorruptEventError) as caught:
            store.read_stream(STREAM)
        assert caught.value.stream_id == STREAM
        assert caught.value.seq == seq
    finally:
        store.close()


def test_index_ahead_of_the_log_is_detected(db) -> None:
    execute(db, "UPDATE streams SET last_seq = 20 WHERE stream_id = ?", (STREAM,))
    store = SQLiteEventStore(db)
    try:
        with pytest.raises(CorruptEventError, match="index ends at seq 20"):
            store.read_stream(STREAM)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("created_at", "yesterday"),
        ("last_seq", "many"),
        ("lease_until", b"\x00"),
        ("kind", b"\xff\xfe"),
        ("owner", b"\x80"),
    ],
)
def test_malformed_index_rows_are_typed_errors(db, column, value) -> None:
    execute(db, f"UPDATE streams SET {column} = ? WHERE stream_id = ?", (value, STREAM))
    store = SQLiteEventStore(db)
    try:
        with pytest.raises(StorageCorruptError, match="streams index"):
            store.list_streams()
        with pytest.raises(StorageCorruptError):
            store.get_stream(STREAM)
    finally:
        store.close()


@pytest.mark.parametrize("snapshot_seq", [1, 2, 5, 16, 17, 4096])
def test_a_damaged_snapshot_hint_never_changes_the_rebuilt_view(
    db, snapshot_seq: int
) -> None:
    """The index's snapshot_seq (no checksum) tells recovery where to start
    folding. Pointing it at a non-snapshot event, or past the head, must still
    rebuild exactly the execution the log holds (found by the 20,000-flip run:
    before, read_view folded from wherever it pointed)."""
    from orchestrator.runtime.rebuild import read_view

    store = SQLiteEventStore(db)
    expected = fold(STREAM, store.read_stream(STREAM)).to_json()
    store.close()
    execute(
        db,
        "UPDATE streams SET snapshot_seq = ? WHERE stream_id = ?",
        (snapshot_seq, STREAM),
    )
    store = SQLiteEventStore(db)
    try:
        view, _ = read_view(store, STREAM)
        assert view.to_json() == expected
    finally:
        store.close()


def test_an_execution_whose_index_kind_is_damaged_is_a_typed_error(db) -> None:
    from orchestrator.runtime.rebuild import read_view

    execute(db, "UPDATE streams SET kind = 'exmcution' WHERE stream_id = ?", (STREAM,))
    store = SQLiteEventStore(db)
    try:
        with pytest.raises(StorageCorruptError, match="index row is damaged"):
            read_view(store, STREAM)
    finally:
        store.close()


def test_a_stream_missing_from_the_index_is_detected(db) -> None:
    execute(db, "DELETE FROM streams WHERE stream_id = ?", ("exec-02",))
    store = SQLiteEventStore(db)
    try:
        with pytest.raises(StorageCorruptError, match="accounts for 50 events"):
            store.list_streams()
        assert len(store.list_streams(kind="execution")) == 3  # a filter cannot tell
    finally:
        store.close()


def test_an_index_entry_pointing_at_another_stream_is_detected(db) -> None:
    """A flipped bit turned 'exec-03' into 'exec-02' in the updated_at index: the
    listing would show exec-02 twice and exec-03 never (same event count)."""
    [(root,)] = query(
        db, "SELECT rootpage FROM sqlite_master WHERE name = 'ix_streams_updated'"
    )
    [(page_size,)] = query(db, "PRAGMA page_size")
    with open(db, "r+b") as handle:  # no connection is open
        handle.seek((root - 1) * page_size)
        page = handle.read(page_size)
        assert page.count(b"exec-03") == 1
        handle.seek((root - 1) * page_size)
        handle.write(page.replace(b"exec-03", b"exec-02"))
    store = SQLiteEventStore(db)
    try:
        with pytest.raises(StorageCorruptError, match="lists a stream twice"):
            store.list_streams()
    finally:
        store.close()


def test_garbage_instead_of_a_database(tmp_path) -> None:
    # Without the SQLite header the file may never have been a database: it is
    # "not a database", whose message also covers a damaged header.
    path = tmp_path / "garbage.db"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(NotADatabaseError, match="header is damaged"):
        SQLiteEventStore(path)


# -- T8: random single-bit flips ----------------------------------------------------------


def _flip(src: str, dst: str, rng: random.Random) -> tuple[int, int]:
    shutil.copyfile(src, dst)
    size = os.path.getsize(dst)
    offset, bit = rng.randrange(size), rng.randrange(8)
    with open(dst, "r+b") as handle:  # a copy no connection has open
        handle.seek(offset)
        byte = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([byte ^ (1 << bit)]))
    return offset, bit


def run_flips(db: str, tmp_path, flips: int, seed: int) -> Counter[str]:
    original = replay_outcome(db)
    assert len(original["views"]) == 5
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    for n in range(flips):
        copy = str(tmp_path / f"flip-{n}.db")
        offset, bit = _flip(db, copy, rng)
        where = f"flip {n}: byte {offset} bit {bit} (seed {seed})"
        try:
            got = replay_outcome(copy)
        except (StoreError, ReplayError) as error:  # both are OrchestratorErrors
            outcomes[type(error).__name__] += 1
        except Exception as error:  # noqa: BLE001 - the point of the test
            pytest.fail(f"{where}: untyped {type(error).__name__}: {error}")
        else:
            if got == original:
                outcomes["identical"] += 1
            elif {k: v for k, v in got.items() if k != "index"} == {
                k: v for k, v in original.items() if k != "index"
            }:
                # Only the index's own columns differ (status, kind, updated_at,
                # owner..., hence the listing order): they are not replayed and
                # carry no checksum. Counted, and reported.
                outcomes["index metadata differs"] += 1
            else:
                pytest.fail(f"{where}: silently different replay")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(copy + suffix):
                os.unlink(copy + suffix)
    return outcomes


def test_single_bit_flips_are_identical_or_typed_errors(db, tmp_path) -> None:
    seed = int(os.environ.get("TRIGGERLOG_FLIP_SEED", "20250101"))
    outcomes = run_flips(db, tmp_path, FLIPS, seed)
    print(f"{FLIPS} bit flips (seed {seed}): {dict(outcomes)}")
    assert sum(outcomes.values()) == FLIPS
    assert outcomes["identical"] < FLIPS, (
        "no flip changed anything: the test proves nothing"
    )
    assert outcomes["identical"] > 0


@pytest.mark.slow
def test_many_bit_flips(db, tmp_path) -> None:
    seed = random.SystemRandom().randrange(1 << 32)
    outcomes = run_flips(db, tmp_path, 20_000, seed)
    print(f"20000 bit flips (seed {seed}): {dict(outcomes)}")
