"""T2: eight processes append to one file at once.

Each process makes 300 appends: most to its own stream with an expected seq,
every 4th to one shared stream with ``expected_seq=None``, and every 10th is a
read-then-write to a contested stream (read the head, append with it as the
expected seq, retry on ConcurrencyError). Nothing may surface as "database is
locked" / StoreBusyError, and the file must hold exactly what was acknowledged.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import orjson

from orchestrator.store import SQLiteEventStore
from tests.reliability.helpers import child_env, integrity

PROCESSES = 8
APPENDS = 300

CHILD = r"""
import asyncio, sys, traceback
import orjson
from orchestrator.errors import ConcurrencyError
from orchestrator.store import AppendRequest, NewEvent, SQLiteEventStore

path, me, appends = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def event(i):
    return NewEvent("mp.step", orjson.dumps({"proc": me, "i": i}))

async def main():
    store = SQLiteEventStore(path)
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    own = f"own-{me}"
    head = 0
    retries = 0
    for i in range(appends):
        if i % 10 == 9:
            while True:  # optimistic read-then-write on a contested stream
                info = store.get_stream("contested")
                try:
                    await store.append("contested", [event(i)], expected_seq=info.last_seq if info else 0)
                    break
                except ConcurrencyError:
                    retries += 1
        elif i % 4 == 3:
            if i % 8 == 7:
                store.append_blocking([AppendRequest("shared", [event(i)])])
            else:
                await store.append("shared", [event(i)])
        else:
            result = await store.append(own, [event(i)], expected_seq=head)
            head = result.last_seq
    store.close()
    print(f"done {retries}", flush=True)

try:
    asyncio.run(main())
except BaseException:
    traceback.print_exc()
    sys.exit(1)
"""


def test_eight_processes_on_one_file(db_path) -> None:
    SQLiteEventStore(db_path).close()  # the schema exists before the race
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, db_path, str(n), str(APPENDS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for n in range(PROCESSES)
    ]
    outputs = []
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            outputs.append((proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for code, out, err in outputs:
        assert code == 0, err
        assert "locked" not in err, err
        assert "Busy" not in err, err
        assert out.startswith("done ")
    retries = sum(int(out.split()[1]) for _, out, _ in outputs)

    assert integrity(db_path) == "ok"
    store = SQLiteEventStore(db_path)
    try:
        log = store.read_all(0, 10**6)
        assert len(log) == PROCESSES * APPENDS
        assert [e.position for e in log] == list(range(1, len(log) + 1))
        seen: Counter[tuple[int, int]] = Counter()
        for stream in store.list_streams():
            events = store.read_stream(stream.stream_id)
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            for e in events:
                body = orjson.loads(e.data)
                seen[(body["proc"], body["i"])] += 1
        assert set(seen.values()) == {1}, "an append was stored twice"
        assert len(seen) == PROCESSES * APPENDS
        per_stream = {s.stream_id: s.last_seq for s in store.list_streams()}
        contested = APPENDS // 10
        shared = sum(1 for i in range(APPENDS) if i % 10 != 9 and i % 4 == 3)
        assert per_stream["contested"] == PROCESSES * contested
        assert per_stream["shared"] == PROCESSES * shared
        for n in range(PROCESSES):
            assert per_stream[f"own-{n}"] == APPENDS - contested - shared
    finally:
        store.close()
    print(
        f"8 x {APPENDS} appends: {retries} optimistic retries on the contested stream"
    )
