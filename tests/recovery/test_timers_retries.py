"""Durable timers and retry backoffs survive kill -9 (fake clock; real processes)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson

from orchestrator import FakeClock
from orchestrator.store.sqlite import SQLiteEventStore
from tests.recovery.harness import ROOT
from tests.recovery.scenarios import HOUR, T0, retry_flow, timer_flow


def _park(name: str, db: Path, *args: str) -> None:
    """Run a scenario until it reports 'parked', then SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.recovery.scenarios", name, str(db), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    process.send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=30)
    assert line.startswith("parked"), f"scenario did not park: {line!r}\n{err[-3000:]}"


def _types(db: Path, stream: str) -> list[str]:
    store = SQLiteEventStore(str(db), read_only=True)
    try:
        return [e.type for e in store.read_stream(stream)]
    finally:
        store.close()


async def test_a_recovered_sleep_wakes_at_the_recorded_time(tmp_path: Path) -> None:
    db = tmp_path / "timer.db"
    _park("timer", db)
    assert "timer.started" in _types(db, "sleeper")

    clock = FakeClock(T0 + HOUR / 2)  # recovered half an hour later
    flow = timer_flow(str(db), clock)
    [execution] = await flow.async_recover()
    for _ in range(200):
        if execution.view.runs and any(
            r.status == "started" for r in execution.view.runs.values()
        ):
            break
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.02)
    # (the clock's other sleeper is the lease keeper, which renews on this clock)
    assert clock.sleepers >= 1, "the re-executed chunk must sleep on the recorded timer"
    clock.advance(HOUR / 2 - 1)
    await asyncio.sleep(0.02)
    assert execution.get_state("woke_at") is None
    clock.advance(1)  # exactly the recorded wake time, not a full hour later
    await execution.async_wait_idle()
    assert execution.get_state("woke_at") == T0 + HOUR
    assert execution.get_state("slept_at") == T0
    snapshot = await execution.async_close()
    assert snapshot["woke_at"] == T0 + HOUR
    types = _types(db, "sleeper")
    assert types.count("timer.started") == 1
    assert types.count("timer.fired") == 1


async def test_retry_backoff_and_attempts_survive_a_crash(tmp_path: Path) -> None:
    db = tmp_path / "retry.db"
    marker = tmp_path / "attempts.txt"
    _park("retry", db, str(marker))
    before = _types(db, "flaky")
    assert before.count("chunk.retrying") == 2
    store = SQLiteEventStore(str(db), read_only=True)
    retrying = [
        orjson.loads(e.data)
        for e in store.read_stream("flaky")
        if e.type == "chunk.retrying"
    ]
    store.close()
    assert [r["attempt"] for r in retrying] == [1, 2]
    retry_at = retrying[-1]["retry_at"]

    clock = FakeClock(retry_at - 10)  # the process comes back 10 s before the retry
    flow = retry_flow(str(db), clock, str(marker))
    [execution] = await flow.async_recover()
    await asyncio.sleep(0.02)
    assert len(marker.read_text().splitlines()) == 2, (
        "the backoff must not be cut short"
    )
    clock.advance(10)
    await execution.async_wait_idle()
    snapshot = await execution.async_close()
    assert execution.get_status() == "completed"
    assert snapshot == {}
    after = _types(db, "flaky")
    started = after.count("chunk.started")
    assert started == 3, f"attempts must continue at 3, not restart: {after}"
    assert len(marker.read_text().splitlines()) == 3


async def test_a_timeout_fails_the_attempt_and_is_retried(tmp_path: Path) -> None:
    from orchestrator import TriggerFlow
    from orchestrator.errors import ChunkTimeoutError
    from orchestrator.flow.retry import RetryPolicy

    clock = FakeClock(T0)
    flow = TriggerFlow(name="slow", store=str(tmp_path / "t.db"), clock=clock)
    calls: list[int] = []

    async def slow(data):
        calls.append(1)
        if len(calls) == 1:
            await asyncio.Event().wait()  # never finishes: only the timeout ends it
        return "fast"

    flow.to(
        slow,
        timeout=5,
        retry=RetryPolicy(
            attempts=2, initial_backoff=1, jitter=0, retry_on=(ChunkTimeoutError,)
        ),
    )
    execution = flow.create_execution(auto_close=False)
    task = asyncio.ensure_future(execution.async_start(None))
    while not calls:
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.01)
    clock.advance(5)  # the attempt times out
    while "chunk.retrying" not in [
        e.type for e in flow.store.read_stream(execution.id)
    ]:
        await asyncio.sleep(0.005)
    clock.advance(1)  # backoff over
    await task
    assert calls == [1, 1]
    types = _types(tmp_path / "t.db", execution.id)
    assert types.count("chunk.retrying") == 1
    store = SQLiteEventStore(str(tmp_path / "t.db"), read_only=True)
    [retry] = [
        orjson.loads(e.data)
        for e in store.read_stream(execution.id)
        if e.type == "chunk.retrying"
    ]
    store.close()
    assert retry["error"]["type"] == "ChunkTimeoutError"
