"""A pending interrupt blocks only its own branch (batch, for_each, parallel handlers).

Spec: issue 5 ("A pending interrupt blocks only its own branch ... Several
interrupts may be pending at once and resolve in any order"; "The interrupt
remembers the signal of the chunk that paused"), reference §13 items 2 and 3
(defects of the original we fix; the regression tests are named for them),
§14 item 8.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from orchestrator import TriggerFlowRuntimeData
from orchestrator.testing import assert_replay_equivalent


def _by_value(execution: Any) -> dict[Any, str]:
    """Pending interrupt ids keyed by the value of the signal that paused."""
    return {
        record["signal"]["value"]: interrupt_id
        for interrupt_id, record in execution.get_pending_interrupts().items()
    }


class Rendezvous:
    """Holds ``n`` concurrent branches until all arrived (no wall-clock sleeps)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.arrived = 0
        self.event = asyncio.Event()

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived >= self.n:
            self.event.set()
        await self.event.wait()


# -- for_each ----------------------------------------------------------------------------------


async def test_for_each_one_item_pauses_others_finish_results_in_input_order(
    make_flow,
):
    """Issue 5: a pause inside for_each (one item pauses, others finish) completes
    after resume with results in input order."""
    flow = make_flow()

    async def work(data: TriggerFlowRuntimeData) -> Any:
        if data.value == 2:
            return await data.async_pause_for(type="item", payload=data.value)
        data.append_state("finished", data.value)
        return data.value * 10

    async def collect(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("collected", data.value)

    flow.for_each().to(work).end_for_each().to(collect)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start([1, 2, 3])
    assert execution.get_status() == "waiting"
    assert sorted(execution.get_state("finished")) == [1, 3]
    assert execution.get_state("collected") is None
    (interrupt_id,) = execution.get_pending_interrupts()
    await execution.async_continue_with(interrupt_id, 20)
    assert execution.get_state("collected") == [[10, 20, 30]]
    snapshot = await execution.async_close()
    assert snapshot["collected"] == [[10, 20, 30]]
    await assert_replay_equivalent(execution)


async def test_for_each_with_concurrency_one_does_not_hold_the_slot_while_paused(
    make_flow,
):
    """Issue 5: other for_each items keep running while one waits, even at
    for_each(concurrency=1)."""
    flow = make_flow()

    async def work(data: TriggerFlowRuntimeData) -> Any:
        if data.value == "a":
            return await data.async_pause_for(type="first")
        return data.value.upper()

    async def collect(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("collected", data.value)

    flow.for_each(concurrency=1).to(work).end_for_each().to(collect)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(["a", "b", "c"])
    (interrupt_id,) = execution.get_pending_interrupts()
    await execution.async_continue_with(interrupt_id, "A!")
    assert execution.get_state("collected") == ["A!", "B", "C"]
    await execution.async_close()


async def test_defect_13_2_for_each_items_pausing_resume_with_their_own_item(
    make_flow,
):
    """§13.2 regression: pause_for records the pausing chunk's own signal under
    concurrency (not the execution's last signal): every for_each item pauses
    after all of them have been dispatched, and each interrupt keeps its own
    item and layer marks; resume_to="next" in reverse order gives each item its
    own answer, results in input order."""
    flow = make_flow()
    meet = Rendezvous(3)
    own: dict[Any, Any] = {}

    async def work(data: TriggerFlowRuntimeData) -> Any:
        own[data.value] = data.signal["layers"]
        await meet.wait()  # every sibling's signal is dispatched before we pause
        return await data.async_pause_for(type="item", payload=data.value)

    async def collect(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("collected", data.value)

    flow.for_each().to(work).end_for_each().to(collect)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start([1, 2, 3])
    pending = execution.get_pending_interrupts()
    assert len(pending) == 3
    for record in pending.values():
        assert record["payload"] == record["signal"]["value"]
        assert record["signal"]["layers"] == own[record["payload"]]
    assert len({str(r["signal"]["layers"]) for r in pending.values()}) == 3
    by_item = _by_value(execution)
    for item in (3, 2, 1):
        await execution.async_continue_with(by_item[item], f"answer-{item}")
    assert execution.get_state("collected") == ["answer-1", "answer-2", "answer-3"]
    await execution.async_close()


async def test_defect_13_2_self_resume_replays_the_items_own_signal(make_flow):
    """§13.2 regression: resume_to="self" re-runs the chunk with its own item (the
    original replayed another branch's signal)."""
    flow = make_flow()
    meet = Rendezvous(3)
    reruns: list[Any] = []

    async def work(data: TriggerFlowRuntimeData) -> Any:
        if data.resume is not None:
            reruns.append((data.value, data.resume.value))
            return f"{data.value}:{data.resume.value}"
        await meet.wait()
        return await data.async_pause_for(type="item", resume_to="self")

    async def side(data: TriggerFlowRuntimeData) -> Any:
        # A parallel handler of the same signals: "the last signal" moves on.
        return data.value

    async def collect(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("collected", data.value)

    loop = flow.for_each()
    loop.to(work).end_for_each().to(collect)
    flow.when("Other").to(side)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(["x", "y", "z"])
    await execution.async_emit("Other", "noise")
    by_item = _by_value(execution)
    assert sorted(by_item) == ["x", "y", "z"]
    await execution.async_continue_with(by_item["y"], 2)
    await execution.async_continue_with(by_item["z"], 3)
    await execution.async_continue_with(by_item["x"], 1)
    assert sorted(reruns) == [("x", 1), ("y", 2), ("z", 3)]
    assert execution.get_state("collected") == ["x:1", "y:2", "z:3"]
    await execution.async_close()


async def test_defect_13_2_interrupt_keeps_its_branch_scope_with_a_busy_sibling(
    make_flow,
):
    """§13.2 regression (the reference repro): a sibling chunk in another branch
    dispatches signals while an item pauses; the interrupt keeps the pausing
    chunk's own value and layer marks."""
    flow = make_flow()
    both = Rendezvous(2)

    async def work(data: TriggerFlowRuntimeData) -> Any:
        await both.wait()
        await asyncio.sleep(0)
        return await data.async_pause_for(type="w", payload=data.value)

    async def work2(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("work2", data.value)
        return data.value * 30

    async def collect(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("collected", data.value)

    async def passthrough(data: TriggerFlowRuntimeData) -> Any:
        return data.value

    async def work2_all(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("work2_all", data.value)

    flow.for_each().to(work).end_for_each().to(collect)
    # A second fan-out of the same input, on its own trigger (two for_each blocks
    # on one trigger share a group id; see the report).
    flow.to(passthrough).for_each().to(work2).end_for_each().to(work2_all)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start([1, 2])
    assert execution.get_state("work2_all") == [30, 60]
    pending = execution.get_pending_interrupts()
    assert sorted(r["signal"]["value"] for r in pending.values()) == [1, 2]
    for record in pending.values():
        assert record["chunk"] == "work"
        assert record["signal"]["value"] == record["payload"]
    by_item = _by_value(execution)
    await execution.async_continue_with(by_item[2], "two")
    await execution.async_continue_with(by_item[1], "one")
    assert execution.get_state("collected") == ["one", "two"]
    await execution.async_close()


# -- batch -------------------------------------------------------------------------------------


async def test_two_pauses_in_a_batch_resolved_in_reverse_order(make_flow):
    """Issue 5: two pauses in a batch resolved in reverse order; several
    interrupts pending at once resolve in any order."""
    flow = make_flow()

    async def first(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(type="b", interrupt_id="first")

    async def second(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(type="b", interrupt_id="second")

    async def plain(data: TriggerFlowRuntimeData) -> Any:
        return f"plain:{data.value}"

    async def joined(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("joined", data.value)

    flow.batch(first, second, plain).to(joined)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("v")
    assert sorted(execution.get_pending_interrupts()) == ["first", "second"]
    await execution.async_continue_with("second", "S")
    assert list(execution.get_pending_interrupts()) == ["first"]
    assert execution.get_status() == "waiting"
    assert execution.get_state("joined") is None
    await execution.async_continue_with("first", "F")
    assert execution.get_status() == "running"
    assert execution.get_state("joined") == [
        {"first": "F", "second": "S", "plain": "plain:v"}
    ]
    await execution.async_close()
    await assert_replay_equivalent(execution)


@pytest.mark.parametrize("order", ["pause_first", "pause_last"])
async def test_defect_13_3_batch_with_a_pause_completes_after_resume(
    make_flow, order: str
):
    """§13.3 regression: a batch containing a pause completes after resume; the
    siblings' continuations are not dropped, whether the pause comes before or
    after the siblings finish."""
    flow = make_flow()
    paused = asyncio.Event()
    siblings_finished = Rendezvous(3)  # two siblings + the pausing branch

    async def pauser(data: TriggerFlowRuntimeData) -> Any:
        if order == "pause_last":
            await siblings_finished.wait()
            await asyncio.sleep(0)  # let the siblings' runs complete first
        signal = await data.async_pause_for(type="p", interrupt_id="p")
        paused.set()
        return signal

    async def sibling(data: TriggerFlowRuntimeData, name: str) -> Any:
        if order == "pause_first":
            await paused.wait()
        data.append_state("siblings", name)
        if order == "pause_last":
            siblings_finished.arrived += 1
            if siblings_finished.arrived >= siblings_finished.n:
                siblings_finished.event.set()
        return name.upper()

    async def sibling_a(data: TriggerFlowRuntimeData) -> Any:
        return await sibling(data, "a")

    async def sibling_b(data: TriggerFlowRuntimeData) -> Any:
        return await sibling(data, "b")

    async def joined(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("joined", data.value)

    flow.batch(pauser, sibling_a, sibling_b).to(joined)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    assert sorted(execution.get_state("siblings")) == ["a", "b"]
    assert execution.get_state("joined") is None
    await execution.async_continue_with("p", "P")
    assert execution.get_state("joined") == [
        {"pauser": "P", "sibling_a": "A", "sibling_b": "B"}
    ]
    snapshot = await execution.async_close()
    assert execution.get_status() == "completed"
    assert len(snapshot["joined"]) == 1


async def test_defect_13_3_for_each_with_a_pause_completes_after_resume(make_flow):
    """§13.3 regression: a for_each containing a pause completes after resume; the
    items that finished while it waited are kept (collected once)."""
    flow = make_flow()

    async def work(data: TriggerFlowRuntimeData) -> Any:
        if data.value % 2 == 0:
            return await data.async_pause_for(type="even", payload=data.value)
        return data.value

    async def collect(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("collected", data.value)

    flow.for_each().to(work).end_for_each().to(collect)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start([1, 2, 3, 4, 5])
    by_item = _by_value(execution)
    assert sorted(by_item) == [2, 4]
    await execution.async_continue_with(by_item[4], "four")
    await execution.async_continue_with(by_item[2], "two")
    assert execution.get_state("collected") == [[1, "two", 3, "four", 5]]
    await execution.async_close()


# -- parallel handlers and independent branches ------------------------------------------------


async def test_parallel_when_handlers_one_pauses_other_keeps_running(make_flow):
    """Issue 5: parallel when handlers: one pauses, the other and its downstream
    run to the end and their results are kept."""
    flow = make_flow()

    async def asks(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(type="ask", interrupt_id="ask")

    async def works(data: TriggerFlowRuntimeData) -> Any:
        return f"worked:{data.value}"

    async def after_ask(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("answer", data.value)

    async def after_work(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("work", data.value)

    flow.when("go").to(asks).to(after_ask)
    flow.when("go").to(works).to(after_work)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    await execution.async_emit("go", 1)
    assert execution.get_state() == {"work": "worked:1"}
    assert execution.get_status() == "waiting"
    await execution.async_emit("go", 2)  # the other branch keeps running
    assert execution.get_state("work") == "worked:2"
    await execution.async_continue_with("ask", "yes")
    assert execution.get_state("answer") == "yes"
    await execution.async_close()


async def test_other_events_run_while_an_interrupt_waits(make_flow):
    """Issue 5: emits into unrelated branches work while waiting; status stays
    waiting until the last interrupt resolves."""
    flow = make_flow()

    async def ask(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(type="ask", payload=data.value)

    async def note(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("notes", data.value)

    async def answered(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("answers", data.value)

    flow.when("ask").to(ask).to(answered)
    flow.when("note").to(note)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    await execution.async_emit("ask", "q1")
    await execution.async_emit("ask", "q2")
    await execution.async_emit("note", "n1")
    assert execution.get_state("notes") == ["n1"]
    by_q = {r["payload"]: i for i, r in execution.get_pending_interrupts().items()}
    await execution.async_continue_with(by_q["q2"], "a2")
    assert execution.get_status() == "waiting"
    await execution.async_emit("note", "n2")
    await execution.async_continue_with(by_q["q1"], "a1")
    assert execution.get_status() == "running"
    snapshot = await execution.async_close()
    assert snapshot == {"notes": ["n1", "n2"], "answers": ["a2", "a1"]}
    await assert_replay_equivalent(execution)


async def test_nested_for_each_inner_pause_resumes_into_the_right_slot(make_flow):
    """Issue 5 + §13.2: layer marks of nested fan-outs are the pausing chunk's own."""
    flow = make_flow()

    async def work(data: TriggerFlowRuntimeData) -> Any:
        if data.value == "b2":
            return await data.async_pause_for(type="deep", interrupt_id="deep")
        return data.value

    async def collect(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("collected", data.value)

    (flow.for_each().for_each().to(work).end_for_each().end_for_each().to(collect))
    execution = flow.create_execution(auto_close=False)
    await execution.async_start([["a1", "a2"], ["b1", "b2", "b3"]])
    assert execution.get_state("collected") is None
    await execution.async_continue_with("deep", "B2!")
    assert execution.get_state("collected") == [["a1", "a2"], ["b1", "B2!", "b3"]]
    await execution.async_close()
