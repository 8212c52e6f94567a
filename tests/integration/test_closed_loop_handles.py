"""A handle used after the event loop it ran on has closed says so, and what to do.

Review of issue 11, finding 8: ``asyncio.run(execution.async_start(1))`` then
``execution.close()`` raised a bare ``RuntimeError: Event loop is closed``, and
``flow.get_execution(id)`` handed back the same dead handle. Now the call
raises ExecutionLoopClosedError (a LifecycleError naming the execution and both
ways on), and get_execution rebuilds the execution from the log.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from orchestrator import LifecycleError, TriggerFlow, TriggerFlowRuntimeData
from orchestrator.errors import ExecutionLoopClosedError


def first(data: TriggerFlowRuntimeData) -> Any:
    data.set_state("first", data.value)
    return data.value


async def second(data: TriggerFlowRuntimeData) -> Any:
    await asyncio.sleep(0)
    data.set_state("second", data.value)


def build(tmp_path: Path) -> TriggerFlow:
    flow = TriggerFlow(name="loops", store=str(tmp_path / "loops.db"))
    flow.to(first).to(second)
    return flow


def test_sync_call_after_asyncio_run_raises_a_typed_error(tmp_path: Path) -> None:
    flow = build(tmp_path)
    execution = flow.create_execution(auto_close=False)
    asyncio.run(execution.async_start(1))

    with pytest.raises(ExecutionLoopClosedError) as raised:
        execution.close()
    assert isinstance(raised.value, LifecycleError)
    message = str(raised.value)
    assert raised.value.execution_id == execution.id
    for part in (
        repr(execution.id),
        "event loop it ran on is closed",
        "await execution.async_close()",
        f"flow.get_execution({execution.id!r})",
    ):
        assert part in message

    # The advice works: a fresh handle, rebuilt from the log, runs here.
    fresh = flow.get_execution(execution.id)
    assert fresh is not execution
    fresh.close()
    assert fresh.get_status() == "completed"
    assert fresh.get_state() == {"first": 1, "second": 1}
    flow.store.close()


def test_async_call_from_a_new_loop_raises_it_too_and_rebuilds(tmp_path: Path) -> None:
    flow = build(tmp_path)
    execution = flow.create_execution(auto_close=False)
    asyncio.run(execution.async_start(2))

    async def later() -> dict[str, Any]:
        with pytest.raises(ExecutionLoopClosedError):
            await execution.async_close()
        fresh = flow.get_execution(execution.id)
        await fresh.async_close()
        state: dict[str, Any] = fresh.get_state()
        return state

    assert asyncio.run(later()) == {"first": 2, "second": 2}
    flow.store.close()
