"""How an execution's records reach the log while an earlier append is committing.

Chunks never wait for the log (the close and ``durable()`` do), so a fast chain
records faster than a busy store commits. At most one append per execution is in
flight: what is recorded meanwhile waits and goes as one unit, nothing lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orchestrator import TriggerFlow
from orchestrator.store import AppendRequest, InMemoryEventStore
from orchestrator.store.sqlite import SQLiteEventStore
from orchestrator.testing import fold_execution


class GatedStore(InMemoryEventStore):
    """The in-memory store, whose append futures settle only when the test says.

    The append itself is applied at submit (as the SQLite writer would commit
    it); only the caller's notification is held back, as under a slow disk.
    """

    def __init__(self) -> None:
        super().__init__()
        self.units: list[list[AppendRequest]] = []
        self.held: list[tuple[asyncio.Future[Any], asyncio.Future[Any]]] = []
        self.gate_open = True

    def submit(self, requests: Sequence[AppendRequest]) -> asyncio.Future[Any]:
        self.units.append(list(requests))
        inner = super().submit(requests)
        if self.gate_open:
            return inner
        outer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.held.append((inner, outer))
        return outer

    def open_gate(self) -> None:
        self.gate_open = True
        for inner, outer in self.held:
            outer.set_result(inner.result())
        self.held.clear()


def chain(store: GatedStore, length: int) -> TriggerFlow:
    flow = TriggerFlow(name="pipelined", store=store)
    process: Any = flow
    for i in range(length):

        def make(i: int = i) -> Any:
            async def step(data: Any) -> int:
                data.set_state(f"k{i}", data.input)
                return int(data.input) + 1

            return step

        process = process.to(make(), name=f"step_{i}")
    return flow


async def spin(times: int = 50) -> None:
    for _ in range(times):
        await asyncio.sleep(0)


async def test_records_made_during_a_pending_append_go_as_one_unit() -> None:
    store = GatedStore()
    flow = chain(store, 8)
    execution = flow.create_execution(auto_close=False)
    store.gate_open = False
    starting = asyncio.ensure_future(execution.async_start(0))
    await spin()
    # The whole chain ran on the live view while its first append was pending,
    # and its records did not go one chunk at a time: they waited, and the
    # execution going idle (which releases its lease) sent them as one unit.
    assert execution.get_state("k7") == 7
    mine = [u for u in store.units if any(r.stream_id == execution.id for r in u)]
    assert len(mine) == 2, [len(u[0].events) for u in mine]
    assert len(mine[1][0].events) > 8  # eight chunk runs' worth of events

    store.open_gate()
    await spin()
    mine = [u for u in store.units if any(r.stream_id == execution.id for r in u)]
    assert len(mine) == 2  # nothing was left behind to send

    await starting
    snapshot = await execution.async_close()
    assert snapshot == {f"k{i}": i for i in range(8)}
    folded = fold_execution(store, execution.id)
    assert folded.state == snapshot
    assert folded.last_seq == sum(
        len(r.events) for u in store.units for r in u if r.stream_id == execution.id
    )


async def test_durable_does_not_wait_for_the_pending_append_to_submit() -> None:
    # An explicit flush (close, save, step) submits at once, pending or not:
    # only the scheduled flush coalesces.
    store = GatedStore()
    flow = chain(store, 3)
    execution = flow.create_execution(auto_close=False)
    store.gate_open = False
    starting = asyncio.ensure_future(execution.async_start(0))
    await spin()
    closing = asyncio.ensure_future(execution.async_close())
    await spin()
    mine = [u for u in store.units if any(r.stream_id == execution.id for r in u)]
    assert len(mine) >= 2  # the close flushed behind the pending append
    assert not closing.done()  # ...and waits for its durability
    store.open_gate()
    await starting
    assert await closing == {"k0": 0, "k1": 1, "k2": 2}
    assert fold_execution(store, execution.id).status == "completed"


async def test_deferred_records_follow_as_soon_as_the_pending_append_settles() -> None:
    # A busy execution (a chunk is still waiting) does not hold its records
    # until it goes idle: the settled append sends them.
    store = GatedStore()
    go_on = asyncio.Event()
    flow = TriggerFlow(name="busy", store=store)

    async def quick(data: Any) -> int:
        data.set_state("quick", True)
        return 1

    async def slow(data: Any) -> int:
        await go_on.wait()
        data.set_state("slow", True)
        return 2

    flow.to(quick, name="quick").to(slow, name="slow")
    execution = flow.create_execution(auto_close=False)
    store.gate_open = False
    starting = asyncio.ensure_future(execution.async_start(0))
    await spin()
    mine = [u for u in store.units if any(r.stream_id == execution.id for r in u)]
    assert len(mine) == 1  # "quick" ran; its records wait behind the first append
    store.open_gate()
    await spin()
    mine = [u for u in store.units if any(r.stream_id == execution.id for r in u)]
    assert len(mine) == 2
    assert fold_execution(store, execution.id).state == {"quick": True}
    go_on.set()
    await starting
    assert await execution.async_close() == {"quick": True, "slow": True}
    assert fold_execution(store, execution.id).state == {"quick": True, "slow": True}


async def test_wait_idle_returns_only_once_the_last_records_are_durable() -> None:
    # async_wait_idle is how a caller learns that background work (a recovered
    # execution, an emit_nowait cascade) is over; a fresh reader right after it
    # must see all of that work, so idleness includes durability.
    store = GatedStore()
    flow = chain(store, 3)
    execution = flow.create_execution(auto_close=False)
    store.gate_open = False
    starting = asyncio.ensure_future(execution.async_start(0))
    await spin()
    assert execution.get_state("k2") == 2  # every run finished on the live view
    waiting = asyncio.ensure_future(execution.async_wait_idle())
    await spin()
    assert not waiting.done()  # its records are still being committed
    store.open_gate()
    await waiting
    assert fold_execution(store, execution.id).state == {"k0": 0, "k1": 1, "k2": 2}
    await starting
    await execution.async_close()


async def test_a_fresh_reader_after_wait_idle_sees_the_background_work(
    tmp_path: Path,
) -> None:
    path = tmp_path / "idle.db"
    flow = TriggerFlow(name="background", store=path)

    async def kick(data: Any) -> None:
        data.emit_nowait("later", data.input)  # not awaited by start

    async def later(data: Any) -> None:
        for i in range(20):
            await asyncio.sleep(0)  # still running when start returns
            data.set_state(f"k{i}", data.value)

    flow.to(kick)
    flow.when("later").to(later)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(7)
    await execution.async_wait_idle()
    reader = SQLiteEventStore(path, read_only=True)
    try:
        assert fold_execution(reader, execution.id).state == {
            f"k{i}": 7 for i in range(20)
        }
    finally:
        reader.close()
    await execution.async_close()
    flow.store.close()
