"""Child process of the kill battery (T1): append until SIGKILLed.

Usage: python kill_writer.py DB DURABILITY SEED

Prints ``ready`` once the store is open, then one line per acknowledged unit,
written only after ``await append``/``append_blocking`` returned (the unit is
durable)::

    ack <unit> <stream>:<first>-<last>[,<stream>:<first>-<last>...]

Each event's payload names its unit and its part, so the parent can check that
every unit is all-or-nothing, across streams too.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys

import orjson

from orchestrator.store import AppendRequest, NewEvent, SQLiteEventStore, StreamMeta

STREAMS = [f"k{i}" for i in range(6)]


def events(unit: str, first_part: int, count: int, parts: int) -> list[NewEvent]:
    return [
        NewEvent(
            "kill.step",
            orjson.dumps(
                {"unit": unit, "part": first_part + j, "parts": parts, "pad": "x" * 40}
            ),
        )
        for j in range(count)
    ]


def ack(unit: str, results) -> None:
    spans = ",".join(f"{r.stream_id}:{r.first_seq}-{r.last_seq}" for r in results)
    sys.stdout.write(f"ack {unit} {spans}\n")
    sys.stdout.flush()


def without_checkpoints() -> None:
    """T6 needs a WAL that no checkpoint has copied into the database file.

    Then any cut of the WAL is the log as it stood after some earlier commit
    (what synchronous=NORMAL can lose on power loss). With checkpoints, frames
    before the cut may already be in the file, and cutting them models a disk
    losing synced data, which no SQLite mode survives.
    """
    import sqlite3

    from orchestrator.store import sqlite as sqlite_store
    from orchestrator.store.sqlite_connection import ConnectionSettings
    from orchestrator.store.sqlite_connection import open_connection as opened

    def open_connection(settings: ConnectionSettings) -> sqlite3.Connection:
        conn = opened(settings)
        conn.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    vars(sqlite_store)["open_connection"] = open_connection


async def main(path: str, durability: str, seed: int) -> None:
    if os.environ.get("KILL_WRITER_NO_CHECKPOINTS"):
        without_checkpoints()
    rng = random.Random(seed)
    store = SQLiteEventStore(path, durability=durability)  # type: ignore[arg-type]
    heads = {}
    for sid in STREAMS:
        info = store.get_stream(sid)
        heads[sid] = info.last_seq if info is not None else 0
    print("ready", flush=True)
    pid = os.getpid()
    counter = 0

    def new_unit() -> str:
        nonlocal counter
        counter += 1
        return f"p{pid}-{counter}"

    async def single(sid: str) -> None:
        unit = new_unit()
        n = rng.randint(1, 3)
        result = await store.append(
            sid,
            events(unit, 0, n, n),
            expected_seq=heads[sid],
            meta=StreamMeta(kind="kill"),
        )
        heads[sid] = result.last_seq
        ack(unit, [result])

    while True:
        choice = rng.random()
        if choice < 0.4:
            await single(rng.choice(STREAMS))
        elif choice < 0.7:
            # several appends in flight at once: they share a group commit
            await asyncio.gather(*(single(sid) for sid in rng.sample(STREAMS, 3)))
        elif choice < 0.9:
            unit = new_unit()
            a, b = rng.sample(STREAMS, 2)
            na, nb = rng.randint(1, 2), rng.randint(1, 2)
            requests = [
                AppendRequest(a, events(unit, 0, na, na + nb), heads[a]),
                AppendRequest(b, events(unit, na, nb, na + nb), heads[b]),
            ]
            results = await store.submit(requests)
            heads[a], heads[b] = results[0].last_seq, results[1].last_seq
            ack(unit, results)
        else:
            unit = new_unit()
            sid = rng.choice(STREAMS)
            results = store.append_blocking(
                [AppendRequest(sid, events(unit, 0, 2, 2), heads[sid])]
            )
            heads[sid] = results[0].last_seq
            ack(unit, results)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
