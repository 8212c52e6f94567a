"""T6: a torn WAL tail loses a suffix of commits, never consistency.

The kill battery's writer runs with ``wal_autocheckpoint=0`` (as the battery
prescribes) and is SIGKILLed mid-stream; a copy of its database then gets its
WAL cut at a random byte: the tail an unsynced write (``synchronous=NORMAL``
on power loss) or a torn sector loses. Opened by the store, the copy must pass
``integrity_check``, read back without a typed error, hold every multi-stream
unit whole, and be an exact prefix of what the uncut file holds (same
positions, streams, seqs and payloads); the store must accept appends after.

Why without checkpoints: a checkpoint copies WAL frames into the database file
after syncing them, and cutting frames that are already in the file models a
disk that loses synced data, which no SQLite mode survives (measured: with
checkpoints on, such cuts fail ``integrity_check``). With ``synchronous=FULL``
every commit is synced, so only an in-progress transaction's frames can tear.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
from pathlib import Path

import orjson
import pytest

from orchestrator.store import NewEvent, SQLiteEventStore, StoredEvent
from tests.reliability.helpers import integrity
from tests.reliability.test_kill import _kill_once, _seed


def _log(path: str) -> list[StoredEvent]:
    store = SQLiteEventStore(path)
    try:
        for info in store.list_streams():
            events = store.read_stream(info.stream_id)  # checksums, gaps, index
            assert [e.seq for e in events] == list(range(1, info.last_seq + 1))
        return store.read_all(0, 10**9)
    finally:
        store.close()


def _units_whole(log: list[StoredEvent]) -> None:
    parts: dict[str, list[int]] = {}
    total: dict[str, int] = {}
    for event in log:
        body = orjson.loads(event.data)
        parts.setdefault(body["unit"], []).append(body["part"])
        total[body["unit"]] = body["parts"]
    for unit, found in parts.items():
        assert sorted(found) == list(range(total[unit])), f"torn unit {unit}"


def _trial(tmp: Path, rng: random.Random, n: int) -> tuple[int, int]:
    original = str(tmp / f"torn-{n}.db")
    durability = "full" if n % 2 else "fast"
    _kill_once(original, durability, rng, early=False, KILL_WRITER_NO_CHECKPOINTS="1")
    copy = str(tmp / f"torn-{n}-copy.db")
    shutil.copyfile(original, copy)
    wal_size = 0
    if os.path.exists(original + "-wal"):
        shutil.copyfile(original + "-wal", copy + "-wal")
        wal_size = os.path.getsize(copy + "-wal")
        with open(copy + "-wal", "r+b") as wal:
            wal.truncate(rng.randrange(wal_size + 1))
    where = f"(seed {rng.random()}, trial {n}, wal {wal_size} bytes)"
    full = _log(original)
    assert integrity(copy) == "ok", where
    cut = _log(copy)
    _units_whole(cut)
    assert [tuple(e) for e in cut] == [tuple(e) for e in full[: len(cut)]], (
        f"the cut file is not a prefix of the uncut one {where}"
    )
    return len(full), len(full) - len(cut)


def _append_after(path: str) -> None:
    """The cut file keeps working: a new stream appends at seq 1."""
    store = SQLiteEventStore(path)
    try:
        asyncio.run(store.append("after-cut", [NewEvent("t", b"{}")], expected_seq=0))
        assert [e.seq for e in store.read_stream("after-cut")] == [1]
    finally:
        store.close()


def run_torn_battery(tmp_path: Path, trials: int) -> list[tuple[int, int]]:
    seed = _seed()
    print(f"torn WAL battery: trials={trials} seed={seed}")
    rng = random.Random(seed)
    results = []
    for n in range(trials):
        results.append(_trial(tmp_path, rng, n))
        _append_after(str(tmp_path / f"torn-{n}-copy.db"))
    lost = [loss for _, loss in results]
    print(
        f"torn WAL battery: {trials} cuts, worst loss {max(lost)} events, "
        f"{sum(1 for x in lost if x)} cuts lost something (seed {seed})"
    )
    return results


def test_a_torn_wal_tail_leaves_a_consistent_prefix(tmp_path: Path) -> None:
    results = run_torn_battery(tmp_path, trials=50)
    assert sum(total for total, _ in results) > 1000, "the writers barely wrote"
    assert any(loss for _, loss in results), "no cut lost anything: the test is blind"


@pytest.mark.slow
@pytest.mark.timeout(7200)
def test_torn_wal_nightly(tmp_path: Path) -> None:
    run_torn_battery(tmp_path, trials=1000)
