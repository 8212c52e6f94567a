"""A chunk that calls ``pause_for`` and then raises.

Issue 11 loose end: on the run's final failure its interrupt stayed
``waiting``, so a later ``continue_with`` could still run the downstream of a
failed chunk. The final failure now cancels the interrupts the run raised, in
the same append as ``chunk.failed``; a retried attempt does not (its replayed
pause is matched by key and must find the interrupt still waiting), and a
retry that returns a value instead cancels the earlier attempt's stale pause.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from orchestrator import TriggerFlow
from orchestrator.errors import InterruptNotWaitingError
from orchestrator.flow.retry import RetryPolicy
from orchestrator.testing import assert_replay_equivalent

pytestmark = pytest.mark.timeout(60)

NO_WAIT = RetryPolicy(attempts=3, initial_backoff=0.0, jitter=0.0)


class Boom(RuntimeError):
    pass


def build(
    make_flow: Any, seen: list[Any], handler: Any, retry: Any = None, **options: Any
) -> TriggerFlow:
    flow: TriggerFlow = make_flow(**options)
    flow.to(handler, retry=retry).to(("after", lambda data: seen.append(data.value)))
    return flow


def types(flow: TriggerFlow, execution_id: str) -> list[str]:
    return [e.type for e in flow.store.read_stream(execution_id)]


@pytest.mark.parametrize("retry", [None, NO_WAIT], ids=["once", "retried"])
async def test_a_pause_then_raise_cancels_its_interrupt(
    make_flow: Any, retry: Any
) -> None:
    seen: list[Any] = []
    statuses: list[str] = []

    async def pauses_then_raises(data: Any) -> Any:
        pause = await data.async_pause_for(interrupt_id="ask")
        statuses.append(pause["status"])
        raise Boom("after pausing")

    flow = build(make_flow, seen, pauses_then_raises, retry)
    execution = flow.create_execution(auto_close=False)
    with anyio.fail_after(10), pytest.raises(Boom):
        await execution.async_start("in")
    # Every retried attempt replayed the same pause, still waiting.
    assert statuses == ["waiting"] * (1 if retry is None else 3)
    assert execution.get_status() == "failed"
    assert execution.get_pending_interrupts() == {}
    record = execution.get_interrupt("ask")
    assert record is not None
    assert record["status"] == "cancelled"
    with anyio.fail_after(10), pytest.raises(InterruptNotWaitingError):
        await execution.async_continue_with("ask", "late")
    assert seen == []
    with anyio.fail_after(10):
        assert await execution.async_close() == {}
    logged = types(flow, execution.id)
    assert logged.count("interrupt.cancelled") == 1
    # The cancellation goes with the failure: nothing between them.
    at = logged.index("interrupt.cancelled")
    assert logged[at + 1] == "chunk.failed"
    assert "chunk.failed" not in logged[:at]
    await assert_replay_equivalent(execution)


async def test_a_retry_that_returns_the_pause_still_waits(make_flow: Any) -> None:
    """The first attempt pauses and raises; the retry returns the same pause."""
    seen: list[Any] = []
    attempts: list[int] = []

    async def flaky(data: Any) -> Any:
        pause = await data.async_pause_for(interrupt_id="ask")
        attempts.append(len(attempts))
        if len(attempts) == 1:
            raise Boom("first attempt")
        return pause

    flow = build(make_flow, seen, flaky, NO_WAIT)
    execution = flow.create_execution(auto_close=False)
    with anyio.fail_after(10):
        await execution.async_start("in")
    assert attempts == [0, 1]
    assert execution.get_status() == "waiting"
    assert "interrupt.cancelled" not in types(flow, execution.id)
    with anyio.fail_after(10):
        await execution.async_continue_with("ask", "yes")
    assert seen == ["yes"]
    with anyio.fail_after(10):
        await execution.async_close()
    await assert_replay_equivalent(execution)


async def test_a_pause_then_raise_with_skip_exceptions_ends_its_branch(
    make_flow: Any,
) -> None:
    seen: list[Any] = []

    async def pauses_then_raises(data: Any) -> Any:
        await data.async_pause_for(interrupt_id="ask")
        raise Boom("after pausing")

    flow = build(make_flow, seen, pauses_then_raises, skip_exceptions=True)
    execution = flow.create_execution(auto_close=True)
    with anyio.fail_after(10):
        assert await execution.async_start("in") == {}
    assert seen == []
    assert execution.get_status() == "completed"
    assert execution.get_pending_interrupts() == {}
    record = execution.get_interrupt("ask")
    assert record is not None
    assert record["status"] == "cancelled"
    await assert_replay_equivalent(execution)


async def test_a_retry_that_returns_a_value_cancels_the_earlier_pause(
    make_flow: Any,
) -> None:
    """The first attempt pauses and raises; the retry returns a value instead.

    The branch continued with that value, so the first attempt's interrupt is
    stale: resuming it would run the downstream a second time.
    """
    seen: list[Any] = []
    attempts: list[int] = []

    async def changes_its_mind(data: Any) -> Any:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            await data.async_pause_for(interrupt_id="ask")
            raise Boom("first attempt")
        return "done"

    flow = build(make_flow, seen, changes_its_mind, NO_WAIT)
    execution = flow.create_execution(auto_close=False)
    with anyio.fail_after(10):
        await execution.async_start("in")
    assert seen == ["done"]
    assert execution.get_pending_interrupts() == {}
    assert execution.get_status() != "waiting"
    with anyio.fail_after(10), pytest.raises(InterruptNotWaitingError):
        await execution.async_continue_with("ask", "late")
    assert seen == ["done"]
    with anyio.fail_after(10):
        await execution.async_close()
    assert execution.get_status() == "completed"
    logged = types(flow, execution.id)
    at = logged.index("interrupt.cancelled")
    assert logged[at + 1] == "chunk.completed"
    await assert_replay_equivalent(execution)
