"""run_program drives flows that pause: resolve steps, and a close that cancels.

Regression for issue 11: a program against a flow with ``pause_for`` ended in
``LifecycleError`` at its close, and programs had no way to answer a pause.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from orchestrator import TriggerFlow, TriggerFlowRuntimeData
from orchestrator.testing import (
    ProgramStep,
    event_programs,
    fold_execution,
    run_program,
    throwaway_store,
)


def _approvals() -> TriggerFlow:
    flow = TriggerFlow(name="program-approvals", store=":memory:")

    async def ask(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(type="approval", payload=data.value)

    async def record(data: TriggerFlowRuntimeData) -> None:
        data.append_state("decisions", data.value)

    flow.when("request").to(ask).to(record)
    return flow


approvals = _approvals()


async def test_a_program_resolves_a_pause_and_closes() -> None:
    with throwaway_store(approvals) as store:
        execution = await run_program(
            approvals,
            [
                ProgramStep("emit", "request", 1),
                ProgramStep("resolve", "", "yes"),
                ProgramStep("close"),
            ],
        )
        assert execution.get_state() == {"decisions": ["yes"]}
        assert fold_execution(store, execution.id).status == "completed"


async def test_a_program_that_ends_paused_closes_cancelling_the_pause() -> None:
    with throwaway_store(approvals) as store:
        execution = await run_program(
            approvals,
            [ProgramStep("emit", "request", 1), ProgramStep("close")],
        )
        assert execution.get_pending_interrupts() == {}
        assert fold_execution(store, execution.id).lifecycle == "closed"


async def test_a_resolve_with_nothing_waiting_is_skipped() -> None:
    with throwaway_store(approvals):
        execution = await run_program(
            approvals, [ProgramStep("resolve", "", 1), ProgramStep("close")]
        )
        assert execution.get_state() == {}


@settings(deadline=None, max_examples=25)
@given(program=event_programs(["request"], resolve_interrupts=True))
async def test_any_program_with_pauses_replays(program: list[ProgramStep]) -> None:
    with throwaway_store(approvals):
        await run_program(approvals, program)
