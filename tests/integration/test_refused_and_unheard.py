"""A resume of a closed execution is refused; an emit nobody hears warns (issue 11, item 17).

``continue_with`` on a closed execution used to warn and return None while an
unknown interrupt raised: both are resumes that cannot happen, so both raise a
typed error now (ExecutionClosedError, a LifecycleError). An emit of an event
that no operator listens to and no waiting interrupt resumes on was accepted
silently: a typo'd event name then did nothing, unnoticed.
"""

from __future__ import annotations

import warnings
from typing import Any

import anyio
import pytest

from orchestrator import (
    ExecutionClosedError,
    InterruptNotWaitingError,
    LifecycleError,
    TriggerFlow,
    TriggerFlowRuntimeData,
    UnheardEventWarning,
)
from tests.integration.conftest import FlowFactory


def _paused_flow(make_flow: FlowFactory) -> TriggerFlow:
    flow = make_flow("closed")

    async def gate(data: TriggerFlowRuntimeData) -> Any:
        if data.is_resume:
            return "done"
        return await data.async_pause_for(interrupt_id="ask", resume_to="self")

    flow.to(gate)
    return flow


async def test_continue_with_on_a_closed_execution_raises_and_writes_nothing(
    make_flow: FlowFactory,
) -> None:
    flow = _paused_flow(make_flow)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    await execution.async_continue_with("ask", "yes")
    await execution.async_close()
    assert execution.get_status() == "completed"
    head = execution.view.last_seq
    for interrupt_id in ("ask", "never-raised"):
        with pytest.raises(ExecutionClosedError) as refused:
            await execution.async_continue_with(interrupt_id, "late")
        error = refused.value
        assert isinstance(error, LifecycleError)
        assert isinstance(error, RuntimeError)
        assert (error.execution_id, error.status) == (execution.id, "completed")
        assert f"continue_with({interrupt_id!r})" in str(error)
        assert execution.id in str(error)
    assert execution.view.last_seq == head


async def test_sync_continue_with_on_a_closed_execution_raises(
    make_flow: FlowFactory,
) -> None:
    flow = _paused_flow(make_flow)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    await execution.async_close(pending_interrupts="cancel")
    with pytest.raises(ExecutionClosedError, match="'cancelled'"):
        # From a worker thread: the sync form runs on the execution's loop.
        await anyio.to_thread.run_sync(execution.continue_with, "ask", "late")


async def test_continue_with_on_an_execution_closed_by_another_handle_raises(
    make_flow: FlowFactory,
) -> None:
    """The handle's view is older than the log: the refusal comes from the log."""
    flow = _paused_flow(make_flow)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    # As another process would: a second flow object over the same file.
    second = _paused_flow(make_flow).get_execution(execution.id)
    await second.async_close(pending_interrupts="cancel")
    with pytest.raises(ExecutionClosedError):
        await execution.async_continue_with("ask", "late")


def _listening_flow(make_flow: FlowFactory) -> TriggerFlow:
    flow = make_flow("unheard")

    async def shout(data: TriggerFlowRuntimeData) -> None:
        await data.async_emit(data.value)

    flow.to(shout)
    flow.when("heard").to(("on_heard", lambda data: data.set_state("heard", 1)))
    flow.when("also_heard").to(("on_also", lambda data: None))
    return flow


async def test_an_external_emit_nobody_listens_to_warns_naming_the_listened_events(
    make_flow: FlowFactory,
) -> None:
    flow = _listening_flow(make_flow)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("heard")
    with pytest.warns(UnheardEventWarning) as caught:
        await execution.async_emit("haerd", 1)
    [warning] = caught
    message = str(warning.message)
    assert "'haerd'" in message
    assert "['START', 'also_heard', 'heard']" in message  # no internal Chunk[...]
    assert warning.filename == __file__  # points at the caller's line
    # Still recorded (an unheard event is legal), and still nothing ran.
    assert execution.get_state() == {"heard": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await execution.async_emit("heard", 2)  # heard: no warning
    await execution.async_close()


async def test_a_chunk_emit_nobody_listens_to_warns(make_flow: FlowFactory) -> None:
    flow = _listening_flow(make_flow)
    execution = flow.create_execution(auto_close=False)
    with pytest.warns(UnheardEventWarning, match="'nobody'"):
        await execution.async_start("nobody")
    await execution.async_close()


async def test_an_emit_heard_only_by_a_waiting_interrupt_does_not_warn(
    make_flow: FlowFactory,
) -> None:
    flow = make_flow("resume")

    async def wait(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(resume_event="Answered")

    flow.to(wait)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await execution.async_emit("Answered", 42)
    assert execution.get_pending_interrupts() == {}
    # Once resolved, the same event reaches nothing any more.
    with pytest.warns(UnheardEventWarning, match="'Answered'"):
        await execution.async_emit("Answered", 43)
    await execution.async_close()


async def test_an_unheard_emit_turned_into_an_error_writes_nothing(
    make_flow: FlowFactory,
) -> None:
    flow = _listening_flow(make_flow)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("heard")
    head = execution.view.last_seq
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnheardEventWarning)
        with pytest.raises(UnheardEventWarning):
            await execution.async_emit("typo", 1)
    assert execution.view.last_seq == head
    await execution.async_close()


async def test_an_idempotent_retry_after_the_close_still_returns_the_record(
    make_flow: FlowFactory,
) -> None:
    """A client retrying a resume that happened (same request id and value) gets
    the record, even once the execution closed; any other call is refused."""
    flow = _paused_flow(make_flow)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    await execution.async_continue_with("ask", "yes", resume_request_id="r1")
    await execution.async_close()
    again = await execution.async_continue_with("ask", "yes", resume_request_id="r1")
    assert again["status"] == "resolved"
    assert again["resume_value"] == "yes"
    with pytest.raises(ExecutionClosedError, match="resolved by") as refused:
        await execution.async_continue_with("ask", "yes", resume_request_id="r2")
    assert isinstance(refused.value, InterruptNotWaitingError)
