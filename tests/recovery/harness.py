"""Running battery workers in real processes and killing them at random instants."""

from __future__ import annotations

import collections
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from orchestrator.store.sqlite import SQLiteEventStore
from tests.recovery.battery_flow import build_flow, inputs

ROOT = Path(__file__).resolve().parents[2]


BATTERY = "tests.recovery.battery_worker"


def worker(
    db: Path, sink: Path, count: int, module: str = BATTERY
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", module, str(db), str(sink), str(count)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_to_completion(
    db: Path, sink: Path, count: int, timeout: float = 120, module: str = BATTERY
) -> None:
    process = worker(db, sink, count, module)
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, (
        f"worker failed ({process.returncode}):\n{err[-4000:]}"
    )
    assert "done" in out


@dataclass
class Round:
    kills: int = 0
    workers: int = 0
    errors: list[str] = field(default_factory=list)


def kill_until_done(
    db: Path,
    sink: Path,
    count: int,
    rng: random.Random,
    max_delay: float,
    max_workers: int = 400,
    module: str = BATTERY,
) -> Round:
    """Start workers one after another, SIGKILL each at a random instant after
    it is ready, until one finishes on its own."""
    result = Round()
    while result.workers < max_workers:
        result.workers += 1
        process = worker(db, sink, count, module)
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("ready"):
            _, err = process.communicate(timeout=60)
            if process.returncode == -signal.SIGKILL:
                continue
            raise AssertionError(f"worker did not get ready: {line!r}\n{err[-4000:]}")
        deadline = time.monotonic() + rng.uniform(0.0, max_delay)
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.002)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=60)
            result.kills += 1
            continue
        # Read through the same buffered reader that returned the first line.
        out = process.stdout.read()
        assert process.stderr is not None
        err = process.stderr.read()
        process.communicate(timeout=60)
        if process.returncode != 0:
            raise AssertionError(f"worker exited {process.returncode}:\n{err[-4000:]}")
        assert "done" in line + out, (
            f"worker exited 0 without finishing: {line + out!r} {err!r}"
        )
        return result
    raise AssertionError(f"no worker finished after {max_workers} attempts")


def final_views(db: Path, count: int) -> dict[str, tuple[str, object]]:
    flow = build_flow(str(db))
    views = {}
    for execution_id in inputs(count):
        execution = flow.get_execution(execution_id)
        views[execution_id] = (execution.get_status(), execution.get_state())
    flow.store.close()
    return views


def step_records(db: Path, count: int) -> collections.Counter[tuple[str, str, int]]:
    """How many step.completed events each (execution, run, op) has in the log."""
    store = SQLiteEventStore(str(db), read_only=True)
    counts: collections.Counter[tuple[str, str, int]] = collections.Counter()
    for execution_id in inputs(count):
        for event in store.read_stream(execution_id):
            if event.type == "step.completed":
                payload = orjson.loads(event.data)
                counts[(execution_id, payload["run_id"], payload["op"])] += 1
    store.close()
    return counts


def sink_counts(sink: Path) -> tuple[int, int, int]:
    """(effects applied, calls made, step keys applied more than once)."""
    conn = sqlite3.connect(sink)
    effects = conn.execute("SELECT count(*) FROM effects").fetchone()[0]
    calls = conn.execute("SELECT count(*) FROM attempts").fetchone()[0]
    doubled = conn.execute(
        "SELECT count(*) FROM (SELECT step_key FROM effects GROUP BY step_key HAVING count(*) > 1)"
    ).fetchone()[0]
    conn.close()
    return effects, calls, doubled


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()
