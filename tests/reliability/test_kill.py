"""T1: SIGKILL a writer at random instants; nothing acknowledged is ever lost.

A real child process (``kill_writer.py``) appends single-stream, concurrent and
multi-stream units and prints an ack after each durable append. The parent kills
it after a random delay, then checks the file the way a restarted process sees
it: ``integrity_check`` is ok, every stream is a gap-free prefix 1..n that the
store re-reads (checksums verified), every unit is all-or-nothing, and every
acknowledged unit is present. Units that committed without being acknowledged
are allowed (the ack can die with the process) and counted.

The RNG seed is printed (``-s`` or a failure shows it); set
``TRIGGERLOG_KILL_SEED`` to replay a run's kill schedule.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import orjson
import pytest

from orchestrator.store import SQLiteEventStore
from tests.reliability.helpers import HERE, child_env, integrity, query

SCRIPT = HERE / "kill_writer.py"
ROUNDS_PER_FILE = 10  # a new file now and then keeps each check short


@dataclass
class Tally:
    seed: int
    kills: int = 0
    acked: int = 0
    unacked_committed: int = 0
    multi_stream_units: int = 0
    events: int = 0
    notes: list[str] = field(default_factory=list)


def _seed() -> int:
    env = os.environ.get("TRIGGERLOG_KILL_SEED")
    return int(env) if env else random.SystemRandom().randrange(1 << 32)


def _kill_once(
    db: str, durability: str, rng: random.Random, early: bool, **env: str
) -> tuple[int, list[str]]:
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), db, durability, str(rng.randrange(1 << 32))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(**env),
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    chunks: list[bytes] = []
    ready = threading.Event()

    def drain() -> None:
        assert proc.stdout is not None
        for line in iter(proc.stdout.readline, b""):
            if line == b"ready\n":
                ready.set()
            chunks.append(line)
        ready.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    if early:  # during start-up, WAL recovery or the first appends
        time.sleep(rng.uniform(0.0, 0.12))
    else:
        assert ready.wait(30), "the child never became ready"
        time.sleep(rng.uniform(0.0, 0.25))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    reader.join(30)
    err = proc.stderr.read().decode(errors="replace")
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, f"child exited by itself: {err}"
    # A line cut by the kill has no newline: it was never acknowledged.
    lines = [c.decode() for c in chunks if c.endswith(b"\n")]
    return proc.pid, [line for line in lines if line.startswith("ack ")]


def _verify(db: str, pid: int, ack_lines: list[str], tally: Tally) -> None:
    where = f"(seed {tally.seed}, kill {tally.kills})"
    if not os.path.exists(db):
        assert not ack_lines, f"acks without a database {where}"
        return
    assert integrity(db) == "ok", where
    acked: dict[str, list[tuple[str, int, int]]] = {}
    for line in ack_lines:
        _, unit, text = line.split()
        acked[unit] = [
            (sid, int(first), int(last))
            for sid, _, rng in (s.partition(":") for s in text.split(","))
            for first, _, last in [rng.partition("-")]
        ]
    store = SQLiteEventStore(db)  # a restarted process: recovery happens here
    try:
        units: dict[str, list[tuple[str, int, int, int]]] = defaultdict(list)
        total = 0
        for info in store.list_streams():
            events = store.read_stream(info.stream_id)  # checksums, gaps, index
            assert [e.seq for e in events] == list(range(1, info.last_seq + 1)), where
            total += len(events)
            for e in events:
                body = orjson.loads(e.data)
                units[body["unit"]].append(
                    (e.stream_id, e.seq, body["part"], body["parts"])
                )
        log = store.read_all(0, 10**9)
        assert len(log) == total, f"read_all and the streams disagree {where}"
        assert [e.position for e in log] == sorted({e.position for e in log}), where
    finally:
        store.close()
    for unit, parts in units.items():
        numbers = sorted(p[2] for p in parts)
        assert numbers == list(range(parts[0][3])), f"torn unit {unit}: {parts} {where}"
    for unit, spans in acked.items():
        assert unit in units, f"acknowledged unit {unit} was lost {where}"
        stored = {(sid, seq) for sid, seq, _, _ in units[unit]}
        expected = {
            (sid, seq) for sid, first, last in spans for seq in range(first, last + 1)
        }
        assert stored == expected, (
            f"unit {unit}: acked {spans}, stored {stored} {where}"
        )
        tally.multi_stream_units += len(spans) > 1
    mine = [u for u in units if u.startswith(f"p{pid}-")]
    tally.unacked_committed += sum(1 for u in mine if u not in acked)
    tally.acked += len(acked)
    tally.events = total


def run_battery(tmp_path, durability: str, kills: int, early_every: int = 10) -> Tally:
    tally = Tally(seed=_seed())
    print(f"kill battery: durability={durability} kills={kills} seed={tally.seed}")
    rng = random.Random(tally.seed)
    db = ""
    for n in range(kills):
        if n % ROUNDS_PER_FILE == 0:
            db = str(tmp_path / f"kill-{n // ROUNDS_PER_FILE}.db")
        early = n % early_every == early_every - 1
        pid, acks = _kill_once(db, durability, rng, early)
        tally.kills += 1
        _verify(db, pid, acks, tally)
    print(
        f"kill battery: {tally.kills} kills, {tally.acked} acked units, "
        f"{tally.unacked_committed} committed but unacked, "
        f"{tally.multi_stream_units} multi-stream units acked, {tally.events} events "
        f"in the last file (seed {tally.seed})"
    )
    return tally


def test_kill_battery_full(tmp_path) -> None:
    tally = run_battery(tmp_path, "full", kills=50)
    assert tally.kills == 50
    assert tally.acked > 200, "the children barely appended: the test proves nothing"
    assert tally.multi_stream_units > 0


def test_kill_battery_fast(tmp_path) -> None:
    tally = run_battery(tmp_path, "fast", kills=15)
    assert tally.acked > 100


def test_kill_during_first_open_never_leaves_a_half_schema(tmp_path) -> None:
    """Rule 13: a kill while the schema is created leaves none or all of it."""
    rng = random.Random(_seed())
    opened = 0
    for n in range(12):
        db = str(tmp_path / f"fresh-{n}.db")
        _kill_once(db, "full", rng, early=True)
        if os.path.exists(db):
            assert integrity(db) == "ok"
            tables = {
                r[0]
                for r in query(db, "SELECT name FROM sqlite_master WHERE type='table'")
            }
            assert tables in (
                set(),
                {"meta", "events", "streams", "sqlite_sequence"},
                {"meta", "events", "streams"},
            )
            opened += 1
        SQLiteEventStore(db).close()  # and the next open always works


@pytest.mark.slow
@pytest.mark.timeout(7200)
@pytest.mark.parametrize("durability", ["full", "fast"])
def test_kill_battery_nightly(tmp_path, durability: str) -> None:
    tally = run_battery(tmp_path, durability, kills=2000)
    assert tally.kills == 2000
