"""Store benchmark: durable appends/s of SQLiteEventStore beside raw sqlite3.

``python -m bench store`` measures, in one run on one disk (``bench/.work``):

* the raw floor: plain ``sqlite3``, WAL + ``synchronous=FULL``, 1 row and 100
  rows per commit, by the peers' ``floor.py`` (``$TRIGGERLOG_PEERBENCH``, else
  ``../shared/peerbench`` beside the repository) run as a subprocess with
  ``BENCH_DIR`` on the same disk; an inline copy is used when it is absent;
* the schema floor: plain ``sqlite3`` issuing exactly the store's statements
  (event row + index row update per commit) with no store machinery, i.e. the
  best any implementation of this schema could do;
* the store: (1) one stream awaiting each append; (2) 100 streams appending
  concurrently (group commit), with events per commit; and the event loop to
  writer thread round trip of an empty barrier (``flush``);

and prints the ratios against the targets. Medians of ``--runs`` runs, each on a
fresh file. Figures also go to ``bench/results/store.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.runtime import machine_info

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work" / "store"
RESULTS = HERE / "results"
TARGET_CONCURRENT = 0.50  # concurrent / raw 100 rows per commit
TARGET_SEQUENTIAL = 0.70  # sequential / raw 1 row per commit
PAYLOAD = {"step": 0, "value": "x" * 32, "ok": True}  # floor.py's row


def peerbench_dir() -> Path:
    env = os.environ.get("TRIGGERLOG_PEERBENCH")
    return Path(env) if env else (REPO / ".." / "shared" / "peerbench").resolve()


def fresh(name: str) -> str:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / name
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return str(path)


def remove(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# -- the raw floor ---------------------------------------------------------------------------


def raw_floor(rows: int, runs: int) -> tuple[dict[str, float], str]:
    """Median rows/s of WAL+FULL at 1 and 100 rows per commit, and where from."""
    script = peerbench_dir() / "floor.py"
    if script.exists():
        env = {**os.environ, "BENCH_DIR": str(WORK / "floor")}
        proc = subprocess.run(
            [sys.executable, str(script), str(rows), str(runs)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        found = {}
        for line in proc.stdout.splitlines():
            row = json.loads(line)
            found[row["config"]] = float(row["median_rows_per_s"])
        return {"1": found["wal_full_1"], "100": found["wal_full_100"]}, str(script)
    return {
        "1": statistics.median(_inline_floor(rows, 1) for _ in range(runs)),
        "100": statistics.median(_inline_floor(rows, 100) for _ in range(runs)),
    }, "inline copy of floor.py (peerbench not found)"


def _inline_floor(rows: int, batch: int) -> float:
    """floor.py's loop: json.dumps + INSERT, WAL + FULL, ``batch`` rows per commit."""
    path = fresh(f"inline-floor-{batch}.db")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, run_id TEXT, kind TEXT, payload TEXT)"
    )
    payload = dict(PAYLOAD)
    start = time.perf_counter()
    i = 0
    while i < rows:
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(batch):
            payload["step"] = i
            conn.execute(
                "INSERT INTO events (run_id, kind, payload) VALUES (?, ?, ?)",
                ("run-1", "step_completed", json.dumps(payload)),
            )
            i += 1
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    remove(path)
    return rows / elapsed


# -- the schema floor ----------------------------------------------------------------------


def schema_floor(events: int, streams: int) -> float:
    """Events/s of plain sqlite3 running the store's own SQL, one stream per event
    round-robin, ``streams`` events per commit: the bound of this schema."""
    from orchestrator.store.base import event_checksum
    from orchestrator.store.schema import ddl_statements
    from orchestrator.store.sqlite_writer import _ADVANCE_SQL, _INSERT_SQL, _UPSERT_SQL

    path = fresh(f"schema-floor-{streams}.db")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    for statement in ddl_statements("sqlite"):
        conn.execute(statement)
    ids = [f"{k:032x}" for k in range(streams)]
    now = time.time()
    for sid in ids:
        conn.execute(
            _UPSERT_SQL, (sid, "stream", None, None, "open", now, now, 0, 0, None, None)
        )
    seqs = [0] * streams
    payload = dict(PAYLOAD)
    position = 1
    start = time.perf_counter()
    while position <= events:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("PRAGMA data_version").fetchone()
        rows, heads = [], []
        for k in range(streams):
            payload["step"] = position
            data = json.dumps(payload).encode()
            seqs[k] += 1
            now = time.time()
            checksum = event_checksum(ids[k], seqs[k], "bench.step", now, data)
            rows.append((position, ids[k], seqs[k], "bench.step", data, checksum, now))
            heads.append((seqs[k], now, 0, ids[k]))
            position += 1
        conn.executemany(_INSERT_SQL, rows)
        conn.executemany(_ADVANCE_SQL, heads)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    remove(path)
    return (position - 1) / elapsed


# -- the store -------------------------------------------------------------------------------


def _event(step: int) -> Any:
    from orchestrator.store import NewEvent

    payload = dict(PAYLOAD)
    payload["step"] = step
    return NewEvent("bench.step", json.dumps(payload).encode())


async def store_sequential(events: int) -> float:
    """One stream; each append awaited before the next (no batching possible)."""
    from orchestrator.store import SQLiteEventStore

    path = fresh("store-sequential.db")
    store = SQLiteEventStore(path, durability="full")
    try:
        await store.append("warm-up", [_event(0)])
        start = time.perf_counter()
        for i in range(events):
            await store.append("s", [_event(i)], expected_seq=i)
        elapsed = time.perf_counter() - start
    finally:
        store.close()
    remove(path)
    return events / elapsed


async def store_concurrent(streams: int, per_stream: int) -> tuple[float, float]:
    """``streams`` tasks, each appending to its own stream and awaiting each append."""
    from orchestrator.store import SQLiteEventStore

    path = fresh("store-concurrent.db")
    store = SQLiteEventStore(path, durability="full")
    try:
        await store.append("warm-up", [_event(0)])
        commits = store.commits

        async def writer(k: int) -> None:
            sid = f"{k:032x}"
            for i in range(per_stream):
                await store.append(sid, [_event(i)], expected_seq=i)

        start = time.perf_counter()
        await asyncio.gather(*(writer(k) for k in range(streams)))
        elapsed = time.perf_counter() - start
        commits = store.commits - commits
    finally:
        store.close()
    remove(path)
    total = streams * per_stream
    return total / elapsed, total / max(commits, 1)


async def handoff_round_trip(rounds: int) -> float:
    """Microseconds for an empty barrier: loop -> writer thread -> loop."""
    from orchestrator.store import SQLiteEventStore

    path = fresh("store-handoff.db")
    store = SQLiteEventStore(path)
    try:
        await store.append("warm-up", [_event(0)])
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            await store.flush()
            samples.append(time.perf_counter() - start)
    finally:
        store.close()
    remove(path)
    return statistics.median(samples) * 1e6


# -- report --------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    # bench/.work/store is on the same filesystem as bench/.work
    report: dict[str, Any] = {"machine": machine_info(), "params": vars(args)}
    figures: dict[str, list[float]] = {
        name: []
        for name in (
            "raw_1",
            "raw_100",
            "schema_1",
            "schema_100",
            "sequential",
            "concurrent",
            "events_per_commit",
        )
    }
    source = ""
    # Every figure is taken once per round, rounds interleaved, so that the
    # noise of a shared machine hits them alike; ratios are taken per round.
    for _ in range(args.runs):
        floor, source = raw_floor(args.floor_rows, 1)
        figures["raw_1"].append(floor["1"])
        figures["raw_100"].append(floor["100"])
        figures["sequential"].append(asyncio.run(store_sequential(args.events)))
        rate, ratio = asyncio.run(store_concurrent(args.streams, args.per_stream))
        figures["concurrent"].append(rate)
        figures["events_per_commit"].append(ratio)
        figures["schema_1"].append(schema_floor(args.events, 1))
        figures["schema_100"].append(
            schema_floor(args.streams * args.per_stream, args.streams)
        )
    report["raw_source"] = source
    report["runs"] = figures
    report["median"] = {k: statistics.median(v) for k, v in figures.items()}
    report["ratios"] = {
        "sequential_to_raw_1": statistics.median(
            s / r for s, r in zip(figures["sequential"], figures["raw_1"], strict=True)
        ),
        "concurrent_to_raw_100": statistics.median(
            c / r
            for c, r in zip(figures["concurrent"], figures["raw_100"], strict=True)
        ),
        "schema_1_to_raw_1": statistics.median(
            s / r for s, r in zip(figures["schema_1"], figures["raw_1"], strict=True)
        ),
        "schema_100_to_raw_100": statistics.median(
            s / r
            for s, r in zip(figures["schema_100"], figures["raw_100"], strict=True)
        ),
    }
    report["handoff_us"] = asyncio.run(handoff_round_trip(2000))
    return report


def fmt(value: float) -> str:
    return f"{value:,.0f}"


def print_report(report: dict[str, Any]) -> None:
    m, p, med, ratio = (
        report["machine"],
        report["params"],
        report["median"],
        report["ratios"],
    )
    print(
        f"== store: durable appends/s, WAL + synchronous=FULL, median of {p['runs']} "
        "interleaved rounds, a fresh file per run =="
    )
    print(
        f"   {m['date']}; nproc {m['nproc']}, Python {m['python']}, SQLite {m['sqlite']}, "
        f"{m['filesystem']} ({WORK}); load avg {m['loadavg_1m']}"
    )
    print(f"   raw floor: {report['raw_source']}")
    rows = [
        ("raw sqlite3, 1 row per commit", med["raw_1"], ""),
        ("raw sqlite3, 100 rows per commit", med["raw_100"], ""),
        ("schema floor: the store's SQL, 1 event per commit", med["schema_1"], ""),
        (
            f"schema floor: the store's SQL, {p['streams']} streams/commit",
            med["schema_100"],
            "",
        ),
        ("(1) store: 1 stream, await each append", med["sequential"], ""),
        (
            f"(2) store: {p['streams']} streams appending concurrently",
            med["concurrent"],
            f"{med['events_per_commit']:.1f} events/commit",
        ),
    ]
    for title, value, note in rows:
        print(f"   {title:<54} {fmt(value):>9}/s  {note}")
    print(
        "   event loop -> writer thread -> event loop (an empty flush): "
        f"{report['handoff_us']:.1f} us"
    )
    conc, seq = ratio["concurrent_to_raw_100"], ratio["sequential_to_raw_1"]
    print(
        f"   target (2) / raw-100 >= {TARGET_CONCURRENT:.0%}: "
        f"{'PASS' if conc >= TARGET_CONCURRENT else 'MISS'} ({conc:.0%}; the schema "
        f"floor is {ratio['schema_100_to_raw_100']:.0%} of raw-100)"
    )
    print(
        f"   target (1) / raw-1   >= {TARGET_SEQUENTIAL:.0%}: "
        f"{'PASS' if seq >= TARGET_SEQUENTIAL else 'MISS'} ({seq:.0%}; the schema "
        f"floor is {ratio['schema_1_to_raw_1']:.0%} of raw-1)"
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench store")
    ap.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    ap.add_argument("--events", type=int, default=2000, help="sequential appends")
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--per-stream", type=int, default=50)
    ap.add_argument(
        "--floor-rows", type=int, default=2000, help="rows per floor.py run"
    )
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run, print, save; a MISS is a finding, not a failure (exit 0)."""
    tempfile.tempdir = str(WORK)
    report = run(parse(argv))
    print_report(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "store.json"
    out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(f"   -> {out}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
