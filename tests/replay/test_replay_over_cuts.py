"""Replaying a history at every cut, the way docs/testing.md shows it.

Users hold their flow as one module-level object and loop ``replay_history``
over ``history_cuts`` inside ``throwaway_store``. Each replay must run the
history cut at *that* position on today's code: a replay that hands back the
execution left live by the previous cut hides a real ``NondeterminismError``.
Regression for issue 11.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from orchestrator import (
    ConcurrencyError,
    LifecycleError,
    StoreError,
    TriggerFlow,
    TriggerFlowRuntimeData,
)
from orchestrator.testing import (
    export_history,
    history_cuts,
    replay_cuts,
    replay_history,
    throwaway_store,
)

# What "today's build" writes in `charge`; the recorded history wrote "charged".
BUILD = {"key": "charged"}


async def prepare(data: TriggerFlowRuntimeData) -> int:
    data.set_state("prepared", data.input)
    return int(data.input)


async def charge(data: TriggerFlowRuntimeData) -> int:
    data.set_state(BUILD["key"], data.value)
    return int(data.value)


async def ask(data: TriggerFlowRuntimeData) -> Any:
    return await data.async_pause_for(type="approval")


refunds_flow = TriggerFlow(name="refunds", store=":memory:")
refunds_flow.to(prepare).to(charge).to(ask)


async def _record() -> dict[str, Any]:
    with throwaway_store(refunds_flow) as store:
        execution = refunds_flow.create_execution(auto_close=False)
        await execution.async_start(5)
        await execution.async_wait_idle()
        assert execution.get_status() == "waiting"
        # A JSON round trip, as a history read back from a fixture file.
        history: dict[str, Any] = orjson.loads(
            orjson.dumps(export_history(store, execution.id))
        )
        return history


async def _replay_every_cut(history: dict[str, Any]) -> dict[int, str]:
    """The page's recipe: one flow object, one throwaway store per cut."""
    statuses: dict[int, str] = {}
    for position in history_cuts(history):
        with throwaway_store(refunds_flow):
            execution = await replay_history(
                refunds_flow, history, up_to_position=position
            )
            await execution.async_wait_idle()
            statuses[position] = execution.get_status()
    return statuses


@pytest.fixture
def restore_build() -> Any:
    yield
    BUILD["key"] = "charged"


async def test_every_cut_replays_its_own_history(restore_build: Any) -> None:
    history = await _record()
    assert len(history_cuts(history)) >= 2
    assert set((await _replay_every_cut(history)).values()) == {"waiting"}


async def test_a_changed_chunk_fails_the_cut_that_reexecutes_it(
    restore_build: Any,
) -> None:
    history = await _record()
    stream = next(s for s in history["streams"] if s["kind"] == "execution")
    [charge_run] = [
        e["data"]["run_id"]
        for e in stream["events"]
        if e["type"] == "chunk.started" and e["data"]["chunk"] == "charge"
    ]
    [charge_done] = [
        e["position"]
        for e in stream["events"]
        if e["type"] == "chunk.completed" and e["data"]["run_id"] == charge_run
    ]
    BUILD["key"] = "billed"  # today's build writes another key
    statuses = await _replay_every_cut(history)
    # The cut just before charge's completion re-executes it with its recorded
    # write: the replay must fail there, not return an earlier cut's handle.
    assert statuses[charge_done - 1] == "failed", statuses


async def test_one_store_for_every_cut_is_refused_with_the_way_out(
    restore_build: Any,
) -> None:
    history = await _record()
    first, second, *_ = history_cuts(history)
    with throwaway_store(refunds_flow):
        execution = await replay_history(refunds_flow, history, up_to_position=first)
        await execution.async_wait_idle()
        with pytest.raises(ConcurrencyError, match=r"throwaway_store\(flow\)"):
            await replay_history(refunds_flow, history, up_to_position=second)


async def test_replay_cuts_names_the_cut_that_no_longer_replays(
    restore_build: Any,
) -> None:
    history = await _record()
    results = await replay_cuts(refunds_flow, history)
    assert [r.status for r in results] == ["waiting"] * len(results)
    BUILD["key"] = "billed"
    with pytest.raises(AssertionError, match="NondeterminismError") as caught:
        await replay_cuts(refunds_flow, history)
    assert "chunk 'charge'" in str(caught.value)
    failed = [
        r for r in await replay_cuts(refunds_flow, history, check=False) if r.errors
    ]
    assert [r.status for r in failed] == ["failed"]


# Review of issue 11, finding 6: a by-hand loop that forgot
# ``await execution.async_wait_idle()`` closed each block's store under a
# replay still running: the test failed with an asyncio callback traceback
# ("InMemoryEventStore() is closed") and the loop missed the nondeterminism.
# Leaving the block with a busy execution now stops it and raises a
# LifecycleError saying to wait for it, and nothing is left behind.


async def test_leaving_the_block_with_a_running_replay_says_to_wait_for_it(
    restore_build: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    history = await _record()
    BUILD["key"] = "charged_v2"  # the nondeterminism the loop should catch
    cut = history_cuts(history)[0]
    with pytest.raises(LifecycleError) as raised, throwaway_store(refunds_flow):
        execution = await replay_history(refunds_flow, history, up_to_position=cut)
    message = str(raised.value)
    assert repr(execution.id) in message
    assert "still running" in message
    assert "await execution.async_wait_idle()" in message
    # Stopped, not left to run against the closed store: nothing reports later.
    for _ in range(20):
        await asyncio.sleep(0)
    assert not execution._engine.tasks
    with pytest.raises(StoreError, match="throwaway_store block"):
        await execution.async_wait_idle()
    assert "Exception in callback" not in caplog.text
    # The flow is back on its own store with none of the block's executions.
    assert refunds_flow.live_engines() == []


async def test_an_error_leaving_the_block_is_not_masked(restore_build: Any) -> None:
    history = await _record()
    cut = history_cuts(history)[0]
    with pytest.raises(KeyError, match="mine"), throwaway_store(refunds_flow):  # noqa: PT012
        await replay_history(refunds_flow, history, up_to_position=cut)
        raise KeyError("mine")


async def test_a_started_task_left_running_gets_the_error_not_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flow = TriggerFlow(name="slow", store=":memory:")

    async def slow(data: TriggerFlowRuntimeData) -> None:
        await asyncio.sleep(3600)

    flow.to(slow)
    with pytest.raises(LifecycleError, match="still running"), throwaway_store(flow):  # noqa: PT012
        execution = flow.create_execution(auto_close=False)
        starting = asyncio.ensure_future(execution.async_start(1))
        for _ in range(5):
            await asyncio.sleep(0)
    with pytest.raises(StoreError, match="throwaway_store block"):
        await starting
    assert "Exception in callback" not in caplog.text
