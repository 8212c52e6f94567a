"""The examples of docs/testing.md, run as written (on small flows)."""

from __future__ import annotations

from pathlib import Path

import orjson
from hypothesis import given, settings

from orchestrator import TriggerFlow, TriggerFlowRuntimeData
from orchestrator.testing import (
    assert_replay_equivalent,
    event_programs,
    export_history,
    replay_history,
    run_program,
    throwaway_store,
)


def _pipeline() -> TriggerFlow:
    flow = TriggerFlow(name="docs-pipeline", store=":memory:")

    async def ingest(data: TriggerFlowRuntimeData) -> object:
        data.set_state("doc", data.value["doc"])
        return data.value

    async def review(data: TriggerFlowRuntimeData) -> None:
        data.append_state("reviews", data.value)

    flow.to(ingest)
    flow.when("reviewed").to(review)
    return flow


pipeline_flow = _pipeline()


async def test_pipeline_replays() -> None:
    with throwaway_store(pipeline_flow, kind="sqlite"):
        execution = pipeline_flow.create_execution(auto_close=False)
        await execution.async_start({"doc": "invoice.pdf"})
        await assert_replay_equivalent(execution)
        await execution.async_emit("reviewed", {"ok": True})
        await assert_replay_equivalent(execution, fresh_process=True)
        await execution.async_close()
        await assert_replay_equivalent(execution)


def _review() -> TriggerFlow:
    flow = TriggerFlow(name="docs-review", store=":memory:")

    async def note(data: TriggerFlowRuntimeData) -> None:
        data.append_state(data.event, data.value)

    async def mode(data: TriggerFlowRuntimeData) -> None:
        data.set_state("mode", data.value)

    flow.when(["approve", "reject", "comment"], mode="simple_or").to(note)
    flow.when({"flow_data": "mode"}).to(mode)
    return flow


review_flow = _review()


@settings(deadline=None, max_examples=25)
@given(
    program=event_programs(["approve", "reject", "comment"], flow_data_keys=["mode"])
)
async def test_any_sequence_of_events_replays(program) -> None:
    with throwaway_store(review_flow):
        await run_program(review_flow, program)


def _approval() -> TriggerFlow:
    flow = TriggerFlow(name="docs-approval", store=":memory:")

    async def ask(data: TriggerFlowRuntimeData) -> object:
        return await data.async_pause_for(type="approval")

    async def record(data: TriggerFlowRuntimeData) -> None:
        data.set_state("approved_by", data.value)

    flow.to(ask).to(record)
    return flow


approval_flow = _approval()


async def test_recorded_approvals_still_replay(tmp_path: Path) -> None:
    # Record the history once, as the page's comment says...
    with throwaway_store(approval_flow, kind="sqlite") as store:
        execution = approval_flow.create_execution(auto_close=False)
        await execution.async_start(None)
        [interrupt_id] = execution.get_pending_interrupts()
        await execution.async_continue_with(interrupt_id, "ana")
        await execution.async_close()
        (tmp_path / "approval.json").write_bytes(
            orjson.dumps(export_history(store, execution.id))
        )
    # ... then the example, as written.
    history = orjson.loads((tmp_path / "approval.json").read_bytes())
    with throwaway_store(approval_flow):
        execution = await replay_history(approval_flow, history)
        assert execution.get_state() == {"approved_by": "ana"}
