"""Emits, concurrency and join scoping.

Spec: /work/shared/reference/triggerflow-semantics.md §3 (sync handlers run in worker
threads), §6 (emit, concurrency, ordering, joins), §14 item 4 (async_emit awaits the
cascade; emit_nowait is detached and drained by close).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from orchestrator import TriggerFlowRuntimeData

TIMEOUT = 10  # generous guard so a deadlock fails instead of hanging


async def yield_a_few(n: int = 3) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def traced(label: str, *, pause: int = 3):
    async def handler(data: TriggerFlowRuntimeData) -> str:
        await data.async_append_state("trace", f"{label}:start")
        await yield_a_few(pause)
        await data.async_append_state("trace", f"{label}:end")
        return label

    handler.__name__ = handler.__qualname__ = f"traced_{label}"
    return handler


# -- async_emit / emit_nowait ------------------------------------------------------------


async def test_async_emit_awaits_the_downstream_cascade(make_flow):
    flow = make_flow()
    seen = {}

    async def emitter(data):
        await data.async_emit("Work", 5)
        seen["after_emit"] = data.get_state("done")

    async def worker(data):
        await yield_a_few(5)
        return data.value * 2

    async def finisher(data):
        await yield_a_few(5)
        await data.async_set_state("done", data.value)

    flow.to(emitter)
    flow.when("Work").to(worker).to(finisher)
    snapshot = await asyncio.wait_for(flow.async_start(None), TIMEOUT)
    assert seen["after_emit"] == 10
    assert snapshot == {"done": 10}


async def test_emit_nowait_is_detached_and_drained_by_close(make_flow):
    flow = make_flow()
    seen = {}

    async def emitter(data):
        data.emit_nowait("Later", 1)
        seen["right_after"] = data.get_state("listener")

    async def listener(data):
        await yield_a_few(5)
        await data.async_set_state("listener", data.value)

    flow.to(emitter)
    flow.when("Later").to(listener)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    snapshot = await asyncio.wait_for(ex.async_close(), TIMEOUT)
    assert seen["right_after"] is None
    assert snapshot == {"listener": 1}


async def test_chained_nowait_emits_are_drained(make_flow):
    flow = make_flow()

    async def first(data):
        data.emit_nowait("Step", 1)

    async def step(data):
        await yield_a_few(2)
        await data.async_append_state("values", data.value)
        if data.value < 3:
            data.emit_nowait("Step", data.value + 1)

    flow.to(first)
    flow.when("Step").to(step)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    snapshot = await asyncio.wait_for(ex.async_close(), TIMEOUT)
    assert snapshot == {"values": [1, 2, 3]}


async def test_auto_close_start_drains_nowait_emits(make_flow):
    flow = make_flow()

    async def first(data):
        data.emit_nowait("Bg", "x")

    async def bg(data):
        await yield_a_few(5)
        await data.async_set_state("bg", data.value)

    flow.to(first)
    flow.when("Bg").to(bg)
    assert await asyncio.wait_for(flow.async_start(None), TIMEOUT) == {"bg": "x"}


async def test_async_emit_nowait_from_chunk(make_flow):
    flow = make_flow()

    async def first(data):
        await data.async_emit_nowait("Bg", 2)

    async def bg(data):
        await data.async_set_state("bg", data.value)

    flow.to(first)
    flow.when("Bg").to(bg)
    assert await asyncio.wait_for(flow.async_start(None), TIMEOUT) == {"bg": 2}


async def test_sync_handler_emit_blocks_until_cascade_done(make_flow):
    flow = make_flow()
    seen = {}

    def emitter(data):
        data.emit("Work", 3)
        seen["after"] = data.get_state("done")

    async def worker(data):
        await yield_a_few(5)
        await data.async_set_state("done", data.value)

    flow.to(emitter)
    flow.when("Work").to(worker)
    snapshot = await asyncio.wait_for(flow.async_start(None), TIMEOUT)
    assert seen["after"] == 3
    assert snapshot == {"done": 3}


async def test_execution_async_emit_from_outside(make_flow):
    flow = make_flow()

    async def handler(data):
        await yield_a_few(3)
        await data.async_set_state(f"got.{data.event}", data.value)

    flow.when("Ext").to(handler)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await asyncio.wait_for(ex.async_emit("Ext", {"v": 1}), TIMEOUT)
    assert ex.get_state() == {"got": {"Ext": {"v": 1}}}
    await ex.async_close()


async def test_emit_handler_sees_event_and_source(make_flow):
    flow = make_flow()

    async def emitter(data):
        await data.async_emit("Inner", "payload")

    async def inner(data):
        await data.async_set_state(
            "info",
            {
                "event": data.trigger_event,
                "alias": data.event,
                "type": data.trigger_type,
                "source": data.signal_source,
                "value": data.value,
                "input": data.input,
                "execution_id": data.execution_id,
            },
        )

    flow.to(emitter)
    flow.when("Inner").to(inner)
    ex = flow.create_execution()
    snapshot = await asyncio.wait_for(ex.async_start(None), TIMEOUT)
    assert snapshot["info"] == {
        "event": "Inner",
        "alias": "Inner",
        "type": "event",
        "source": "chunk",
        "value": "payload",
        "input": "payload",
        "execution_id": ex.id,
    }


# -- concurrency ----------------------------------------------------------------------------


def _register_listeners(flow, labels, pause=None):
    for label in labels:
        flow.when("Go").to(traced(label, pause=(pause or {}).get(label, 3)))


async def test_listeners_of_one_signal_run_concurrently(make_flow):
    flow = make_flow()
    _register_listeners(flow, "ABC")
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await asyncio.wait_for(ex.async_emit("Go"), TIMEOUT)
    trace = (await ex.async_close())["trace"]
    starts = [trace.index(f"{x}:start") for x in "ABC"]
    ends = [trace.index(f"{x}:end") for x in "ABC"]
    assert max(starts) < min(ends), trace
    assert starts == sorted(starts), "listeners start in registration order"


async def test_concurrency_one_runs_handlers_in_registration_order(make_flow):
    flow = make_flow()
    _register_listeners(flow, "ABC", pause={"A": 6, "B": 3, "C": 1})
    ex = flow.create_execution(auto_close=False, concurrency=1)
    await ex.async_start(None)
    await asyncio.wait_for(ex.async_emit("Go"), TIMEOUT)
    trace = (await ex.async_close())["trace"]
    assert trace == ["A:start", "A:end", "B:start", "B:end", "C:start", "C:end"]


async def test_concurrency_one_nested_emits_do_not_deadlock(make_flow):
    flow = make_flow()

    async def outer(data):
        await data.async_append_state("trace", "outer:start")
        await data.async_emit("Inner", 1)
        await data.async_append_state("trace", "outer:end")
        return "o"

    async def inner(data):
        await data.async_append_state("trace", "inner:start")
        await data.async_emit("Deeper", 2)
        await data.async_append_state("trace", "inner:end")

    async def deeper(data):
        await data.async_append_state("trace", "deeper")

    flow.to(outer).to(traced("next"))
    flow.when("Inner").to(inner)
    flow.when("Deeper").to(deeper)
    ex = flow.create_execution(concurrency=1)
    snapshot = await asyncio.wait_for(ex.async_start(None), TIMEOUT)
    assert snapshot["trace"] == [
        "outer:start",
        "inner:start",
        "deeper",
        "inner:end",
        "outer:end",
        "next:start",
        "next:end",
    ]


async def test_concurrency_one_sync_chain_with_state_writes(make_flow):
    flow = make_flow()

    def step(data):
        data.append_state("trace", data.value)
        return data.value + 1

    flow.to(step).to(("s2", step)).to(("s3", step))
    ex = flow.create_execution(concurrency=1)
    snapshot = await asyncio.wait_for(ex.async_start(0), TIMEOUT)
    assert snapshot == {"trace": [0, 1, 2]}


async def test_concurrency_one_sync_handler_blocking_emit(make_flow):
    flow = make_flow()

    def outer(data):
        data.emit("Inner", 1)
        data.append_state("trace", "outer-done")

    async def inner(data):
        await data.async_append_state("trace", "inner")

    flow.to(outer)
    flow.when("Inner").to(inner)
    ex = flow.create_execution(concurrency=1)
    snapshot = await asyncio.wait_for(ex.async_start(None), TIMEOUT)
    assert snapshot == {"trace": ["inner", "outer-done"]}


async def test_concurrency_one_awaited_runtime_data_listener(make_flow):
    flow = make_flow()

    async def writer(data):
        await data.async_set_state("k", 1)
        await data.async_append_state("trace", "writer-done")

    async def listener(data):
        await data.async_append_state("trace", "listener")

    flow.to(writer)
    flow.when({"runtime_data": "k"}).to(listener)
    ex = flow.create_execution(concurrency=1)
    snapshot = await asyncio.wait_for(ex.async_start(None), TIMEOUT)
    assert snapshot == {"k": 1, "trace": ["listener", "writer-done"]}


async def test_concurrency_must_be_positive(make_flow):
    flow = make_flow()
    flow.to(lambda d: None)
    with pytest.raises(ValueError, match="concurrency"):
        flow.create_execution(concurrency=0)


async def test_external_emits_run_concurrently(make_flow):
    flow = make_flow()

    async def handler(data):
        await data.async_append_state("trace", ["start", data.value])
        await yield_a_few(5)
        await data.async_append_state("trace", ["end", data.value])

    flow.when("E").to(handler)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await asyncio.wait_for(
        asyncio.gather(*(ex.async_emit("E", i) for i in range(3))), TIMEOUT
    )
    trace = (await ex.async_close())["trace"]
    kinds = [kind for kind, _ in trace]
    assert kinds == ["start"] * 3 + ["end"] * 3, trace


# -- sync handlers in worker threads (tiny real sleeps: overlap must be measured) ---------------


def blocking(label: str, seconds: float = 0.2):
    def handler(data):
        time.sleep(seconds)
        data.append_state("threads", threading.get_ident())
        return label

    handler.__name__ = handler.__qualname__ = f"blocking_{label}"
    return handler


async def test_two_blocking_sync_chunks_overlap(make_flow):
    flow = make_flow()
    flow.to(blocking("a"))
    flow.to(blocking("b"))
    started = time.perf_counter()
    snapshot = await asyncio.wait_for(flow.async_start(None), TIMEOUT)
    elapsed = time.perf_counter() - started
    assert len(snapshot["threads"]) == 2
    assert elapsed < 0.35, f"two 0.2 s sync chunks took {elapsed:.3f} s (no overlap)"


async def test_sync_handlers_do_not_run_on_the_event_loop_thread(make_flow):
    flow = make_flow()
    loop_thread = threading.get_ident()
    seen: dict[str, Any] = {}

    def handler(data):
        seen["thread"] = threading.get_ident()

    flow.to(handler)
    await flow.async_start(None)
    assert seen["thread"] != loop_thread


async def test_blocking_batch_branches_overlap(make_flow):
    flow = make_flow()

    async def keep(data):
        await data.async_set_state("result", data.value)

    flow.batch(blocking("x"), blocking("y"), blocking("z")).to(keep)
    started = time.perf_counter()
    snapshot = await asyncio.wait_for(flow.async_start(None), TIMEOUT)
    elapsed = time.perf_counter() - started
    assert set(snapshot["result"]) == {"blocking_x", "blocking_y", "blocking_z"}
    assert elapsed < 0.5, f"three 0.2 s sync branches took {elapsed:.3f} s"


async def test_concurrency_one_serialises_blocking_sync_chunks(make_flow):
    flow = make_flow()
    flow.to(blocking("a", 0.1))
    flow.to(blocking("b", 0.1))
    ex = flow.create_execution(concurrency=1)
    started = time.perf_counter()
    await asyncio.wait_for(ex.async_start(None), TIMEOUT)
    assert time.perf_counter() - started >= 0.19


# -- joins are scoped ------------------------------------------------------------------------


async def test_joins_are_scoped_per_execution(make_flow):
    flow = make_flow()

    async def joined(data):
        await data.async_set_state("joined", data.value)

    flow.when(["A", "B"]).to(joined)
    ex1 = flow.create_execution(auto_close=False)
    ex2 = flow.create_execution(auto_close=False)
    await ex1.async_start(None)
    await ex2.async_start(None)
    await ex1.async_emit("A", "a1")
    await ex2.async_emit("B", "b2")
    assert ex1.get_state() == {}
    assert ex2.get_state() == {}
    await ex1.async_emit("B", "b1")
    assert ex1.get_state("joined") == {"event": {"A": "a1", "B": "b1"}}
    assert ex2.get_state() == {}
    await ex2.async_emit("A", "a2")
    assert ex2.get_state("joined") == {"event": {"A": "a2", "B": "b2"}}
    await ex1.async_close()
    await ex2.async_close()


async def test_three_way_and_join_does_not_fire_early(make_flow):
    flow = make_flow()

    async def joined(data):
        await data.async_append_state("joined", data.value)

    flow.when(["A", "B", "C"]).to(joined)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("A", 1)
    await ex.async_emit("B", 2)
    await ex.async_emit("A", 3)
    assert ex.get_state("joined") is None
    await ex.async_emit("C", 4)
    snapshot = await ex.async_close()
    assert snapshot["joined"] == [{"event": {"A": 3, "B": 2, "C": 4}}]


async def test_batch_joins_are_scoped_per_concurrent_start(make_flow):
    flow = make_flow()

    async def slow(data):
        await yield_a_few(int(data.value) % 5)
        return data.value

    async def keep(data):
        await data.async_set_state("result", data.value)

    flow.batch(("p", slow), ("q", add_ten)).to(keep)
    results = await asyncio.wait_for(
        asyncio.gather(*(flow.async_start(i) for i in range(6))), TIMEOUT
    )
    assert results == [{"result": {"p": i, "q": i + 10}} for i in range(6)]


def add_ten(data):
    return data.value + 10


async def test_join_inside_for_each_is_scoped_per_item(make_flow):
    flow = make_flow()

    async def keep(data):
        await data.async_set_state("result", data.value)

    (
        flow.for_each()
        .batch(("plus", add_ten), ("same", lambda d: d.value))
        .end_for_each()
        .to(keep)
    )
    snapshot = await asyncio.wait_for(flow.async_start([1, 2, 3]), TIMEOUT)
    assert snapshot == {
        "result": [
            {"plus": 11, "same": 1},
            {"plus": 12, "same": 2},
            {"plus": 13, "same": 3},
        ]
    }


async def test_and_join_inside_for_each_is_scoped_per_item(make_flow):
    flow = make_flow()

    def sa(data):
        return ["sa", data.value]

    def sb(data):
        return ["sb", data.value]

    async def joined(data):
        await data.async_append_state("joined", sorted(data.value["event"].values()))

    flow.for_each().side_branch(sa).to(sb).end_for_each()
    flow.when([sa, sb]).to(joined)
    snapshot = await asyncio.wait_for(flow.async_start([1, 2, 3]), TIMEOUT)
    assert sorted(snapshot["joined"]) == [
        [["sa", 1], ["sb", 1]],
        [["sa", 2], ["sb", 2]],
        [["sa", 3], ["sb", 3]],
    ]
