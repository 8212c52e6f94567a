"""Operations spanning streams, cut by a crash at every append boundary.

Cancelling a child (or a parent with children) appends to several streams: the
parent's ``sub_flow.cancelled`` / ``execution.cancelled`` and each child's
cancellation and close. A crash can land between any two of them. Whatever the
cut, the recovered executions must agree with each other: a cancelled child
never writes back and never lets its parent continue; a parent whose cancel
was logged ends closed and cancelled with no child left open; a cut before the
cancel leaves everything as it was. A failing child (its failure and close,
then the parent's ``sub_flow.completed`` and ``chunk.failed``) fails the parent
whatever the cut.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

from orchestrator import (
    FakeClock,
    InMemoryEventStore,
    TriggerFlow,
    TriggerFlowExecution,
    TriggerFlowRuntimeData,
)
from orchestrator.store.base import EventStore
from orchestrator.testing import export_history, history_cuts, replay_history
from tests.replay.flows import SCENARIOS, T0
from tests.replay.make_histories import (
    CommitRecordingStore,
    answered_in,
    drive,
    outcome,
    record,
)
from tests.replay.test_golden_histories import clock_after, cut

if TYPE_CHECKING:
    from collections.abc import Callable

PARENT = "cancel-parent"


async def _record(cancel_parent: bool) -> tuple[dict[str, Any], int]:
    """The nested scenario with its child paused, then cancelled; and where."""
    clock = FakeClock(T0)
    store = CommitRecordingStore(clock)
    flow = SCENARIOS["nested"].build(store, clock)
    execution = flow.create_execution(auto_close=False, execution_id=PARENT)
    await execution.async_start(4)
    await execution.async_wait_idle()
    [child] = execution.get_sub_flow_executions()
    assert child["status"] == "waiting"
    before = store.head_position()
    if cancel_parent:
        await execution.async_cancel(reason="stop")
    else:
        assert await execution.async_cancel_sub_flow(child["child_id"])
        await execution.async_close()
    history = export_history(store, PARENT, commits=store.commits)
    store.close()
    return history, before


def _types(history: dict[str, Any], kind: str) -> list[str]:
    [stream] = [s for s in history["streams"] if s["kind"] == kind]
    return [e["type"] for e in stream["events"]]


async def _recover(
    prefix: dict[str, Any],
    build: Callable[[EventStore, FakeClock], TriggerFlow] = SCENARIOS["nested"].build,
    *,
    settle: bool = True,
) -> tuple[TriggerFlowExecution, InMemoryEventStore, FakeClock]:
    """Recover ``prefix`` in a fresh process's shoes: new store, clock after the log.

    ``settle`` waits until idle; a caller whose flow sleeps on the fake clock
    drives it instead.
    """
    clock = clock_after(prefix)
    store = InMemoryEventStore(clock=clock)
    execution = await replay_history(build(store, clock), prefix)
    if settle:
        await execution.async_wait_idle()
    return execution, store, clock


async def test_a_child_cancel_cut_anywhere_never_writes_back() -> None:
    history, before = await _record(cancel_parent=False)
    windows = 0
    for position in [p for p in history["commits"] if p >= before]:
        prefix = cut(history, position)
        child_cancelled = "execution.cancelled" in _types(prefix, "child")
        parent_knows = "sub_flow.cancelled" in _types(prefix, "execution")
        windows += child_cancelled and not parent_knows
        execution, store, _ = await _recover(prefix)
        state = execution.get_state()
        assert "after" not in state, (
            f"a cancelled child let the parent go on ({position})"
        )
        assert "child_work" not in state, f"a cancelled child wrote back ({position})"
        [child] = execution.get_sub_flow_executions()
        if child_cancelled or parent_knows:
            assert (child["frame_status"], child["status"]) == (
                "cancelled",
                "cancelled",
            )
            assert execution.get_pending_interrupts() == {}
        else:
            assert (child["frame_status"], child["status"]) == ("waiting", "waiting")
        store.close()
    assert windows, "no cut fell between the child's cancel and the parent's record"


async def test_a_child_cancel_logged_only_by_the_parent_cancels_the_child() -> None:
    """The other order: the parent's sub_flow.cancelled is durable, the child's not."""
    history, _ = await _record(cancel_parent=False)
    prefix = copy.deepcopy(history)
    for stream in prefix["streams"]:
        if stream["kind"] == "child":
            stream["events"] = [
                e
                for e in stream["events"]
                if e["type"] not in ("execution.cancelled", "execution.closed")
            ]
        if stream["kind"] == "execution":
            stream["events"] = [
                e
                for e in stream["events"]
                if e["type"] not in ("execution.sealed", "execution.closed")
            ]
    assert "sub_flow.cancelled" in _types(prefix, "execution")
    execution, store, _ = await _recover(prefix)
    [child] = execution.get_sub_flow_executions()
    assert (child["frame_status"], child["status"]) == ("cancelled", "cancelled")
    assert "after" not in execution.get_state()
    store.close()


async def test_a_parent_cancel_cut_anywhere_ends_closed_with_no_child_open() -> None:
    history, before = await _record(cancel_parent=True)
    finished = 0
    for position in [p for p in history["commits"] if p >= before]:
        prefix = cut(history, position)
        cancelled = "execution.cancelled" in _types(prefix, "execution")
        execution, store, _ = await _recover(prefix)
        statuses = {info.kind: info.status for info in store.list_streams()}
        if cancelled:
            assert execution.get_status() == "cancelled"
            assert execution.view.lifecycle == "closed", f"left open ({position})"
            assert statuses["child"] == "cancelled", f"child left open ({position})"
            assert execution.get_pending_interrupts() == {}
            finished += "execution.closed" not in _types(prefix, "execution")
        else:
            assert execution.get_status() == "waiting"
            assert statuses["child"] == "waiting"
        store.close()
    assert finished, "no cut fell between the parent's cancel and its close"


def _failing(store: EventStore, clock: FakeClock) -> TriggerFlow:
    child = TriggerFlow(name="failing_child", store=store, clock=clock)

    async def work(data: TriggerFlowRuntimeData) -> None:
        data.set_state("tried", data.value)
        await data.step("probe", lambda: 1)
        raise ValueError("child broke")

    child.to(work)
    parent = TriggerFlow(name="failing_parent", store=store, clock=clock)

    async def prepare(data: TriggerFlowRuntimeData) -> object:
        data.set_state("prepared", True)
        return data.value

    async def after(data: TriggerFlowRuntimeData) -> None:
        data.set_state("after", data.value)

    parent.to(prepare).to(child).to(after)
    return parent


async def test_a_failing_child_fails_its_parent_whatever_the_cut() -> None:
    clock = FakeClock(T0)
    store = CommitRecordingStore(clock)
    execution = _failing(store, clock).create_execution(
        auto_close=False, execution_id=PARENT
    )
    with pytest.raises(ValueError, match="child broke"):
        await execution.async_start(3)
    assert execution.get_status() == "failed"
    history = export_history(store, PARENT, commits=store.commits)
    store.close()
    child_started = next(
        e["position"]
        for s in history["streams"]
        if s["kind"] == "child"
        for e in s["events"]
    )
    for position in [p for p in history["commits"] if p >= child_started]:
        prefix = cut(history, position)
        replayed, replay_store, _ = await _recover(prefix, _failing)
        assert replayed.get_status() == "failed", f"cut at {position}"
        assert replayed.get_state() == {"prepared": True}, f"cut at {position}"
        [child] = replayed.get_sub_flow_executions()
        assert (child["frame_status"], child["status"]) == ("failed", "failed")
        [error] = replayed.view.errors
        assert "child broke" in error["message"]
        replay_store.close()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_what_this_build_records_recovers_at_every_cut(name: str) -> None:
    """The golden fixtures prove old logs replay; this records each scenario
    with today's code and cuts that, so a change in *how* things are recorded
    (two appends where one was needed) is caught too. It found a flow_data
    write whose trigger signal went in the next append: a crash between them
    lost the signal, since the re-executed run skips the logged write."""
    scenario = SCENARIOS[name]
    history = await record(scenario)
    for position in history_cuts(history):
        prefix = cut(history, position)
        execution, store, clock = await _recover(prefix, scenario.build, settle=False)
        await drive(execution, clock, scenario.answers, answered_in(prefix))
        snapshot = await execution.async_close()
        assert outcome(execution, snapshot) == history["expected"], position
        store.close()
