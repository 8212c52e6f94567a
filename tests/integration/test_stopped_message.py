"""ExecutionStoppedError tells the truth about what the log holds.

Review of issue 11, finding 3: a chunk that raised KeyboardInterrupt in the
first cascade of an execution left the events recorded before it on their way
to the store, not in it: the handle's ExecutionStoppedError said "the log
intact ... that run is still pending there ... rebuild with
flow.get_execution(id)" while get_execution raised ExecutionNotFoundError.
Now the stop waits for what was recorded to be durable before it reports, and
when nothing could be written (the store refused it) the message says so and
that the execution must be created and started again.

In-process, sync API: the background loop survives the interrupt and the
sync caller gets it as itself (docs/api.md §7.4).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from orchestrator import TriggerFlow, TriggerFlowRuntimeData
from orchestrator.errors import ExecutionNotFoundError, ExecutionStoppedError
from orchestrator.store import SQLiteEventStore

pytestmark = pytest.mark.timeout(60)

STOP = {"on": True}


async def stops(data: TriggerFlowRuntimeData) -> Any:
    # Async, so nothing is flushed between its write and the interrupt.
    data.set_state("before", data.value)
    if STOP["on"]:
        raise KeyboardInterrupt
    return data.value


def after(data: TriggerFlowRuntimeData) -> Any:
    data.set_state("after", data.value)


def build(store: Any) -> TriggerFlow:
    flow = TriggerFlow(name="stops", store=store)
    flow.to(stops).to(after)
    return flow


def test_the_stop_waits_for_the_recorded_prefix_before_saying_it_is_there(
    tmp_path: Path,
) -> None:
    db = tmp_path / "stops.db"
    flow = build(str(db))
    execution = flow.create_execution(auto_close=False)
    # Another connection holds the write lock for a moment: the stop's events
    # are still queued when the chunk raises, as on a busy disk.
    blocker = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, blocker.rollback)
    release.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            execution.start(1)
        with pytest.raises(ExecutionStoppedError) as stopped:
            execution.close()
    finally:
        release.join()
        blocker.close()
    message = str(stopped.value)
    assert "that run is still pending there" in message
    assert f"flow.get_execution({execution.id!r})" in message
    # What the message promises holds at the moment it is raised.
    head = flow.store.get_stream(execution.id)
    assert head is not None
    assert [e.type for e in flow.store.read_stream(execution.id)][-1] == "state.set"

    STOP["on"] = False
    try:
        again = flow.get_execution(execution.id)
        again.close()
    finally:
        STOP["on"] = True
    assert again.get_state() == {"before": 1, "after": 1}
    flow.store.close()


def test_when_nothing_was_recorded_the_message_says_start_it_again(
    tmp_path: Path,
) -> None:
    db = tmp_path / "full.db"
    # A database that cannot grow: the execution's first write cannot fit.
    store = SQLiteEventStore(db, max_page_count=12)
    flow = build(store)
    execution = flow.create_execution(auto_close=False)
    with pytest.raises(KeyboardInterrupt):
        execution.start("x" * 60_000)
    with pytest.raises(ExecutionStoppedError) as stopped:
        execution.close()
    message = str(stopped.value)
    assert store.get_stream(execution.id) is None
    assert "nothing of the execution was recorded" in message
    assert "create and start it again" in message
    assert "still pending there" not in message
    assert "flow.get_execution" not in message
    with pytest.raises(ExecutionNotFoundError):
        flow.get_execution(execution.id)
    store.close()
