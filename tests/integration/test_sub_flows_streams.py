"""Sub-flow children in the log: their own streams, pauses, cancellation, nesting.

Spec: issue 6 ("The log", "Pauses inside a child surface on the parent",
"Cancelling the parent cancels running children", "Nesting"), reference §10
(frames, pause projection, cancel fencing AgentEra/Agently#320). The
fresh-process resume is in test_cross_process_sub_flows.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from orchestrator import (
    ExecutionCancelledError,
    LifecycleError,
    TriggerFlow,
    TriggerFlowRuntimeData,
)
from orchestrator.events.codec import loads
from orchestrator.projection import fold
from orchestrator.testing import assert_replay_equivalent
from tests.integration.scripts import flows
from tests.integration.scripts.flows import set_final_result
from tests.integration.scripts.logs import stream


def _events(store: Any, stream_id: str, type_name: str) -> list[dict[str, Any]]:
    return [loads(e.data) for e in store.read_stream(stream_id) if e.type == type_name]


def _simple_parent(make_flow: Any) -> TriggerFlow:
    child: TriggerFlow = make_flow("simple-child")

    async def child_work(data: TriggerFlowRuntimeData) -> Any:
        await data.async_set_state("seen", data.value)
        await data.async_set_state("secret_child_key", "only-in-child")
        set_final_result(data, {"upper": str(data.value).upper()})

    child.to(child_work)
    parent: TriggerFlow = make_flow("simple-parent")

    async def prepare(data: TriggerFlowRuntimeData) -> Any:
        await data.async_set_state("request", data.value)
        return data.value

    async def finish(data: TriggerFlowRuntimeData) -> Any:
        await data.async_set_state("final", data.value)

    parent.to(prepare).to_sub_flow(
        child,
        capture={"state": {"req": "state.request"}},
        write_back={"value": "result.upper", "state": {"child_seen": "snapshot.seen"}},
    ).to(finish)
    return parent


# -- child streams in the log ------------------------------------------------------------------


async def test_child_is_a_stream_of_its_own_listed_by_parent_id(make_flow):
    """Issue 6: the child is a stream of its own (kind "child", parent stream
    recorded in the streams index as parent_id)."""
    parent = _simple_parent(make_flow)
    execution = parent.create_execution(auto_close=False)
    await execution.async_start("pricing")
    await execution.async_close()
    store = parent.store
    (info,) = store.list_streams(parent_id=execution.id)
    assert info.kind == "child"
    assert info.parent_id == execution.id
    assert info.flow_name == "simple-child"
    assert info.status == "completed"
    assert store.list_streams(parent_id=info.stream_id) == []
    assert info.stream_id in {s.stream_id for s in store.list_streams(kind="child")}
    own = store.get_stream(execution.id)
    assert own is not None
    assert own.kind == "execution"
    assert own.parent_id is None


async def test_child_first_event_holds_the_captured_values(make_flow):
    """Issue 6: the child's first event (execution.created) holds the captured
    values (resource keys only)."""
    parent = _simple_parent(make_flow)
    execution = parent.create_execution(
        auto_close=False, runtime_resources={"unused": object()}
    )
    await execution.async_start("pricing")
    await execution.async_close()
    (info,) = parent.store.list_streams(parent_id=execution.id)
    first = parent.store.read_stream(info.stream_id)[0]
    assert first.type == "execution.created"
    created = loads(first.data)
    assert created["captured"]["input"] == "pricing"
    assert created["captured"]["state"] == {"req": "pricing"}
    assert created["captured"]["resources"] == []
    assert created["parent"]["execution_id"] == execution.id


async def test_parent_records_sub_flow_started_and_completed(make_flow):
    """Issue 6: the parent records sub_flow.started and sub_flow.completed (with
    written-back values); it never holds child events."""
    parent = _simple_parent(make_flow)
    execution = parent.create_execution(auto_close=False)
    await execution.async_start("pricing")
    await execution.async_close()
    (info,) = parent.store.list_streams(parent_id=execution.id)
    (started,) = _events(parent.store, execution.id, "sub_flow.started")
    (completed,) = _events(parent.store, execution.id, "sub_flow.completed")
    assert started["child_id"] == info.stream_id
    assert started["captured"]["state"] == {"req": "pricing"}
    assert completed["child_id"] == info.stream_id
    assert completed["status"] == "completed"
    assert completed["state"] == {"child_seen": "pricing"}
    assert completed["emits"][0]["value"] == "PRICING"
    parent_bytes = b"".join(e.data for e in parent.store.read_stream(execution.id))
    assert b"only-in-child" not in parent_bytes


async def test_fold_of_parent_and_child_streams_give_their_views(make_flow):
    """Issue 6: fold of the parent stream alone gives the parent view, of the
    child stream gives the child view."""
    parent = _simple_parent(make_flow)
    execution = parent.create_execution(auto_close=False)
    await execution.async_start("pricing")
    snapshot = await execution.async_close()
    assert snapshot == {
        "request": "pricing",
        "child_seen": "pricing",
        "final": "PRICING",
    }
    store = parent.store
    parent_view = fold(execution.id, store.read_stream(execution.id))
    assert parent_view.to_json() == execution.view.to_json()
    assert parent_view.close_snapshot == snapshot
    assert parent_view.kind == "execution"
    await assert_replay_equivalent(execution, fresh_process=True)

    (info,) = store.list_streams(parent_id=execution.id)
    child_view = fold(info.stream_id, store.read_stream(info.stream_id))
    assert child_view.kind == "child"
    assert child_view.flow_name == "simple-child"
    assert child_view.parent is not None
    assert child_view.parent["execution_id"] == execution.id
    assert child_view.status == "completed"
    assert child_view.lifecycle == "closed"
    assert child_view.state == {
        "req": "pricing",
        "seen": "pricing",
        "secret_child_key": "only-in-child",
        "$final_result": {"upper": "PRICING"},
    }
    assert "secret_child_key" not in parent_view.state


async def test_get_sub_flow_executions_lists_children_with_status(make_flow):
    """Issue 6: execution.get_sub_flow_executions() lists children with status."""
    parent = _simple_parent(make_flow)
    execution = parent.create_execution(auto_close=False)
    await execution.async_start("pricing")
    (child,) = execution.get_sub_flow_executions()
    (info,) = parent.store.list_streams(parent_id=execution.id)
    assert child["child_id"] == info.stream_id
    assert child["status"] == "completed"
    assert child["flow_name"] == "simple-child"
    await execution.async_close()


async def test_child_ids_are_deterministic_from_the_parent_chunk_run(tmp_path):
    """Issue 6: child ids are deterministic from the parent chunk run: the same
    execution id and input give the same child id; a second run of the sub-flow
    operator (another item) gives another id."""
    ids = []
    for n in range(2):
        parent = flows.build_legal_parent(str(tmp_path / f"det{n}.db"))
        execution = parent.create_execution(
            auto_close=False,
            execution_id="fixed-exec-id",
            runtime_resources={"reviewer": object()},
        )
        await execution.async_start("t")
        ids.append([c["child_id"] for c in execution.get_sub_flow_executions()])
        await execution.async_close(pending_interrupts="cancel")
        parent.store.close()
    assert ids[0] == ids[1]
    assert len(ids[0]) == 1


async def test_children_of_a_for_each_have_distinct_streams(make_flow):
    """Issue 6: a sub-flow inside for_each starts one child per item; results in
    input order."""
    child = make_flow("item-child")

    async def double(data: TriggerFlowRuntimeData) -> Any:
        await data.async_set_state("doubled", data.value * 2)

    child.to(double)
    parent = make_flow("fan-parent")

    async def keep(data: TriggerFlowRuntimeData) -> Any:
        await data.async_set_state("all", data.value)

    parent.for_each().to_sub_flow(
        child, write_back={"value": "result.doubled"}
    ).end_for_each().to(keep)
    execution = parent.create_execution(auto_close=False)
    await execution.async_start([1, 2, 3])
    snapshot = await execution.async_close()
    assert snapshot["all"] == [2, 4, 6]
    children = parent.store.list_streams(parent_id=execution.id)
    assert len({c.stream_id for c in children}) == 3
    assert {c.status for c in children} == {"completed"}


# -- pauses inside a child ---------------------------------------------------------------------


async def test_child_pause_surfaces_on_the_parent_and_resumes_from_it(store_file):
    """Issue 6: parent.get_pending_interrupts() lists the child's interrupt (with
    child_execution_id and local_interrupt_id); parent.async_continue_with(id,
    value) resumes the child, then write_back and the parent's continuation run."""
    parent = flows.build_legal_parent(store_file)
    reviewer = object()
    execution = parent.create_execution(
        auto_close=False, runtime_resources={"reviewer": reviewer}
    )
    await execution.async_start("pricing")
    assert execution.get_status() == "waiting"
    pending = execution.get_pending_interrupts()
    (interrupt_id,) = pending
    record = pending[interrupt_id]
    (child,) = execution.get_sub_flow_executions()
    assert record["child_execution_id"] == child["child_id"]
    assert record["local_interrupt_id"] == "legal"
    assert record["type"] == "legal_review"
    assert record["payload"] == {"topic": "pricing"}
    assert record["status"] == "waiting"
    assert child["status"] == "waiting"
    assert execution.get_state("final") is None

    await execution.async_continue_with(interrupt_id, {"ok": True})
    assert execution.get_pending_interrupts() == {}
    assert execution.get_state("verdict") == {"ok": True}
    assert execution.get_state("final") == {
        "verdict": {"ok": True},
        "topic": "pricing",
    }
    snapshot = await execution.async_close()
    assert snapshot["finish_runs"] == [snapshot["finish_runs"][0]]
    assert execution.get_status() == "completed"
    (child,) = execution.get_sub_flow_executions()
    assert child["status"] == "completed"
    child_view = fold(child["child_id"], parent.store.read_stream(child["child_id"]))
    assert child_view.state["seen_request"] == {"topic": "pricing"}
    assert child_view.interrupts["legal"]["status"] == "resolved"
    await assert_replay_equivalent(execution)


async def test_parent_close_with_a_waiting_child_raises(store_file):
    """Issue 5 close policy, through a projected interrupt."""
    parent = flows.build_legal_parent(store_file)
    execution = parent.create_execution(
        auto_close=False, runtime_resources={"reviewer": object()}
    )
    await execution.async_start("pricing")
    with pytest.raises(LifecycleError):
        await execution.async_close()
    await execution.async_close(pending_interrupts="cancel")
    assert execution.get_status() == "cancelled"


async def test_projected_interrupt_second_continue_raises(store_file):
    parent = flows.build_legal_parent(store_file)
    execution = parent.create_execution(
        auto_close=False, runtime_resources={"reviewer": object()}
    )
    await execution.async_start("pricing")
    (interrupt_id,) = execution.get_pending_interrupts()
    await execution.async_continue_with(interrupt_id, "yes")
    with pytest.raises(ValueError, match="not waiting"):
        await execution.async_continue_with(interrupt_id, "again")
    snapshot = await execution.async_close()
    assert len(snapshot["finish_runs"]) == 1


# -- cancellation ------------------------------------------------------------------------------


async def test_cancel_sub_flow_fences_write_back_and_continuation(store_file):
    """Issue 6: parent.async_cancel_sub_flow(child_id) fences its write_back and
    the parent continuation."""
    parent = flows.build_legal_parent(store_file)
    execution = parent.create_execution(
        auto_close=False, runtime_resources={"reviewer": object()}
    )
    await execution.async_start("pricing")
    (child,) = execution.get_sub_flow_executions()
    assert await execution.async_cancel_sub_flow(child["child_id"]) is True
    assert await execution.async_cancel_sub_flow(child["child_id"]) is False
    (child,) = execution.get_sub_flow_executions()
    assert child["status"] == "cancelled"
    assert execution.get_pending_interrupts() == {}
    assert execution.get_state("verdict") is None
    assert execution.get_state("final") is None
    snapshot = await execution.async_close()
    assert "finish_runs" not in snapshot
    assert "verdict" not in snapshot
    assert stream(parent.store, child["child_id"]).status == "cancelled"


async def test_cancel_sub_flow_of_a_running_child_fences_its_late_result(make_flow):
    """Issue 6 / reference §10 (#320): a child cancelled while its chunk runs
    writes nothing back and the parent continuation never runs."""
    entered = asyncio.Event()
    release = asyncio.Event()
    child = make_flow("slow-child")

    async def slow(data: TriggerFlowRuntimeData) -> Any:
        entered.set()
        await release.wait()
        await data.async_set_state("late", True)
        set_final_result(data, "late result")

    child.to(slow)
    parent = make_flow("parent")
    after: list[Any] = []

    async def finish(data: TriggerFlowRuntimeData) -> Any:
        after.append(data.value)

    parent.to_sub_flow(child, write_back={"state": {"late": "result"}}).to(finish)
    execution = parent.create_execution(auto_close=False)
    start = asyncio.create_task(execution.async_start(None))
    await entered.wait()
    (info,) = execution.get_sub_flow_executions()
    assert await execution.async_cancel_sub_flow(info["child_id"]) is True
    release.set()
    with contextlib.suppress(Exception):
        await start
    assert after == []
    assert execution.get_state("late") is None
    (info,) = execution.get_sub_flow_executions()
    assert info["status"] == "cancelled"
    await execution.async_close()
    assert after == []


async def test_cancelling_the_parent_cancels_a_waiting_child(store_file):
    """Issue 6: cancelling the parent cancels running children."""
    parent = flows.build_legal_parent(store_file)
    execution = parent.create_execution(
        auto_close=False, runtime_resources={"reviewer": object()}
    )
    await execution.async_start("pricing")
    (child,) = execution.get_sub_flow_executions()
    await execution.async_cancel(reason="stop")
    assert execution.get_status() == "cancelled"
    (child,) = execution.get_sub_flow_executions()
    assert child["status"] == "cancelled"
    assert stream(parent.store, child["child_id"]).status == "cancelled"
    with pytest.raises(ExecutionCancelledError):
        await execution.async_emit("anything")


async def test_cancelling_the_parent_cancels_a_running_child(make_flow):
    """Issue 6: cancelling the parent cancels a child whose chunk is running."""
    entered = asyncio.Event()
    child = make_flow("blocked-child")
    cancelled: list[bool] = []

    async def blocked(data: TriggerFlowRuntimeData) -> Any:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    child.to(blocked)
    parent = make_flow("parent")
    parent.to_sub_flow(child).to(lambda data: None, name="never")
    execution = parent.create_execution(auto_close=False)
    start = asyncio.create_task(execution.async_start(None))
    await entered.wait()
    await execution.async_cancel(reason="stop")
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await start
    assert cancelled == [True]
    (child_info,) = execution.get_sub_flow_executions()
    assert child_info["status"] == "cancelled"
    assert execution.get_status() == "cancelled"


# -- nesting -----------------------------------------------------------------------------------


async def test_three_levels_pause_at_the_bottom_resumed_from_the_top(store_file):
    """Issue 6: a child may have children (three levels, a pause at the bottom
    resumed from the top)."""
    top = flows.build_nested(store_file)
    execution = top.create_execution(auto_close=False)
    await execution.async_start("q")
    assert execution.get_status() == "waiting"
    (interrupt_id,) = execution.get_pending_interrupts()
    store = top.store
    (mid,) = store.list_streams(parent_id=execution.id)
    (bottom,) = store.list_streams(parent_id=mid.stream_id)
    assert mid.flow_name == "mid"
    assert bottom.flow_name == "bottom"
    assert {mid.status, bottom.status} == {"waiting"}

    await execution.async_continue_with(interrupt_id, "deep answer")
    assert execution.get_state("top_result") == {
        "mid_saw": {"answer": "deep answer", "level": "bottom"}
    }
    assert execution.get_state("deep_answer") == "deep answer"
    snapshot = await execution.async_close()
    assert snapshot["top_done_runs"] == [1]
    assert stream(store, mid.stream_id).status == "completed"
    assert stream(store, bottom.stream_id).status == "completed"
    bottom_view = fold(bottom.stream_id, store.read_stream(bottom.stream_id))
    assert bottom_view.state["bottom_input"] == {"from_mid": "q"}
    await assert_replay_equivalent(execution)


async def test_three_levels_resumed_from_a_rebuilt_top(store_file):
    """Issue 6: the top rebuilt from the log (new flow objects) resumes the bottom."""
    top = flows.build_nested(store_file)
    execution = top.create_execution(auto_close=False)
    await execution.async_start("q")
    rebuilt = flows.build_nested(store_file).get_execution(execution.id)
    (interrupt_id,) = rebuilt.get_pending_interrupts()
    await rebuilt.async_continue_with(interrupt_id, "later")
    snapshot = await rebuilt.async_close()
    assert snapshot["deep_answer"] == "later"
    assert snapshot["top_done_runs"] == [1]


# -- pauses in children: more than one, schemas, idempotency, close ----------------------------


async def test_children_pausing_inside_for_each_resume_in_any_order(make_flow):
    """Issue 5 + 6: each item's child pauses; the parent lists every projected
    interrupt; resumed in reverse order, the for_each completes in input order."""
    child = make_flow("asking-child")

    async def ask_item(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(type="item", payload=data.value)

    async def child_done(data: TriggerFlowRuntimeData) -> Any:
        await data.async_set_state("answer", data.value)

    child.to(ask_item).to(child_done)
    parent = make_flow("fan-parent")

    async def keep(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("all", data.value)

    parent.for_each().to_sub_flow(
        child, write_back={"value": "result.answer"}
    ).end_for_each().to(keep)
    execution = parent.create_execution(auto_close=False)
    await execution.async_start(["a", "b", "c"])
    pending = execution.get_pending_interrupts()
    assert len(pending) == 3
    by_item = {r["payload"]: i for i, r in pending.items()}
    assert sorted(by_item) == ["a", "b", "c"]
    assert len({r["child_execution_id"] for r in pending.values()}) == 3
    for item in ("c", "a", "b"):
        await execution.async_continue_with(by_item[item], item.upper())
    assert execution.get_state("all") == [["A", "B", "C"]]
    await execution.async_close()
    await assert_replay_equivalent(execution)


async def test_projected_interrupt_checks_the_childs_response_schema(make_flow):
    """Issue 5 schemas through a sub-flow: a non-matching value is refused
    (ResumeValueError) and nothing is written to the parent or the child."""
    from orchestrator.errors import ResumeValueError

    child = make_flow("schema-child")

    async def ask(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(
            type="typed",
            response_payload_schema={
                "type": "object",
                "properties": {"n": {"type": "integer"}},
                "required": ["n"],
            },
        )

    child.to(ask)
    parent = make_flow("schema-parent")
    parent.to_sub_flow(child)
    execution = parent.create_execution(auto_close=False)
    await execution.async_start(None)
    (interrupt_id,) = execution.get_pending_interrupts()
    (info,) = execution.get_sub_flow_executions()
    store = parent.store
    heads = (
        stream(store, execution.id).last_seq,
        stream(store, info["child_id"]).last_seq,
    )
    with pytest.raises(ResumeValueError, match="n"):
        await execution.async_continue_with(interrupt_id, {"n": "three"})
    assert heads == (
        stream(store, execution.id).last_seq,
        stream(store, info["child_id"]).last_seq,
    )
    await execution.async_continue_with(interrupt_id, {"n": 3})
    assert execution.get_pending_interrupts() == {}
    await execution.async_close()


async def test_projected_interrupt_same_request_id_is_idempotent(store_file):
    """Issue 5 idempotency through a sub-flow: same resume_request_id and value is
    a no-op; a different value conflicts."""
    parent = flows.build_legal_parent(store_file)
    execution = parent.create_execution(
        auto_close=False, runtime_resources={"reviewer": object()}
    )
    await execution.async_start("pricing")
    (interrupt_id,) = execution.get_pending_interrupts()
    await execution.async_continue_with(interrupt_id, "yes", resume_request_id="r")
    head = stream(parent.store, execution.id).last_seq
    again = await execution.async_continue_with(
        interrupt_id, "yes", resume_request_id="r"
    )
    assert again is not None
    assert again["status"] == "resolved"
    assert stream(parent.store, execution.id).last_seq == head
    with pytest.raises(ValueError, match="conflicting resume_request_id"):
        await execution.async_continue_with(interrupt_id, "no", resume_request_id="r")
    snapshot = await execution.async_close()
    assert snapshot["verdict"] == "yes"
    assert len(snapshot["finish_runs"]) == 1


async def test_close_with_cancel_policy_cancels_the_waiting_child(store_file):
    """Issue 5 close policy + issue 6 "Cancelling the parent cancels running
    children": a parent closed ``cancelled`` leaves no child waiting forever."""
    parent = flows.build_legal_parent(store_file)
    execution = parent.create_execution(
        auto_close=False, runtime_resources={"reviewer": object()}
    )
    await execution.async_start("pricing")
    (child,) = execution.get_sub_flow_executions()
    await execution.async_close(pending_interrupts="cancel")
    assert execution.get_status() == "cancelled"
    assert stream(parent.store, child["child_id"]).status == "cancelled"
    (child,) = execution.get_sub_flow_executions()
    assert child["status"] == "cancelled"


async def test_cancel_sub_flow_unknown_child(store_file):
    parent = flows.build_legal_parent(store_file)
    execution = parent.create_execution(
        auto_close=False, runtime_resources={"reviewer": object()}
    )
    await execution.async_start("pricing")
    with pytest.raises(KeyError, match="no-such-child"):
        await execution.async_cancel_sub_flow("no-such-child")
    await execution.async_close(pending_interrupts="cancel")
