"""The examples of docs/testing.md, run as written (on small flows)."""

from __future__ import annotations

from hypothesis import given, settings

from orchestrator import TriggerFlow, TriggerFlowRuntimeData
from orchestrator.testing import (
    assert_replay_equivalent,
    event_programs,
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
