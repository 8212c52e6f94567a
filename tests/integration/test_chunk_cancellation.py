"""A CancelledError that leaves a chunk, and cancelling whoever awaits a start.

Issue 11, item 7: a chunk awaiting a future that *another party* cancels used to
leave its run pending forever, so ``async_start`` never returned, ignored
``task.cancel()`` (an auto-closing start restarted the run again and again while
waiting to close), and sync ``flow.start()`` blocked until killed. Such a
CancelledError is now a chunk failure (``ChunkError``, the CancelledError as its
cause) that a retry policy may retry; cancelling the task that awaits a start
propagates at once. Every wait here is bounded, so a regression fails instead of
hanging.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio
import pytest

from orchestrator import ChunkError, TriggerFlow
from orchestrator.flow.retry import RetryPolicy

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, store_file: str) -> str:
    return ":memory:" if request.param == "memory" else store_file


async def cancelled_elsewhere(data: Any) -> str:
    """Await a future that someone else cancels (nobody cancels this chunk's run)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()
    loop.call_soon(future.cancel)
    return await future


def chain(make_flow: Any, store: str, seen: list[Any], **options: Any) -> TriggerFlow:
    flow: TriggerFlow = make_flow(store=store)
    flow.to(cancelled_elsewhere, **options).to(
        ("after", lambda data: seen.append(data.value))
    )
    return flow


@pytest.mark.parametrize("auto_close", [False, True])
async def test_a_stray_cancellation_fails_the_chunk(
    make_flow: Any, store: str, auto_close: bool
) -> None:
    seen: list[Any] = []
    flow = chain(make_flow, store, seen)
    execution = flow.create_execution(auto_close=auto_close)
    with anyio.fail_after(10), pytest.raises(ChunkError) as caught:
        await execution.async_start("in")
    error = caught.value
    assert isinstance(error.__cause__, asyncio.CancelledError)
    assert error.chunk == "cancelled_elsewhere"
    assert error.error_type == "CancelledError"
    assert "nobody cancelled" in str(error)
    assert seen == []
    assert execution.get_status() == "failed"
    assert execution.view.errors[0]["type"] == "ChunkError"
    assert execution.view.runs == {}
    if auto_close:
        assert execution.lifecycle_state == "closed"
    else:
        with anyio.fail_after(10):
            await execution.async_close()
        assert execution.get_status() == "failed"


async def test_a_stray_cancellation_under_a_timeout_fails_the_chunk(
    make_flow: Any, store: str
) -> None:
    seen: list[Any] = []
    flow = chain(make_flow, store, seen, timeout=30)
    with anyio.fail_after(10), pytest.raises(ChunkError) as caught:
        await flow.async_start("in")
    assert isinstance(caught.value.__cause__, asyncio.CancelledError)
    assert seen == []


@pytest.mark.parametrize("retry_on", [("Exception",), ("CancelledError",)])
async def test_a_stray_cancellation_is_retried_by_the_policy(
    make_flow: Any, store: str, retry_on: tuple[str, ...]
) -> None:
    attempts: list[int] = []

    async def flaky(data: Any) -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            await cancelled_elsewhere(data)
        return "ok"

    flow: TriggerFlow = make_flow(store=store)
    policy = RetryPolicy(attempts=2, initial_backoff=0, jitter=0, retry_on=retry_on)
    flow.to(flaky, retry=policy).end()
    with anyio.fail_after(10):
        assert await flow.async_start() == {"$final_result": "ok"}
    assert attempts == [1, 2]


def test_sync_flow_start_returns_after_a_stray_cancellation(
    make_flow: Any, store: str
) -> None:
    seen: list[Any] = []
    flow = chain(make_flow, store, seen)
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            flow.start("in")
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "flow.start() hung on a stray CancelledError"
    assert isinstance(outcome["error"], ChunkError)
    assert seen == []


async def slow_started(started: asyncio.Event) -> Any:
    async def slow(data: Any) -> None:
        started.set()
        await asyncio.sleep(60)

    return slow


@pytest.mark.parametrize("auto_close", [False, True])
async def test_cancelling_the_task_awaiting_start_propagates_at_once(
    make_flow: Any, store: str, auto_close: bool
) -> None:
    started = asyncio.Event()
    flow: TriggerFlow = make_flow(store=store)
    flow.to(await slow_started(started))
    execution = flow.create_execution(auto_close=auto_close)
    task = asyncio.ensure_future(execution.async_start())
    with anyio.fail_after(10):
        await started.wait()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=10)
    assert task in done, "cancelling the caller of async_start did not propagate"
    assert task.cancelled()
    if auto_close:
        # Nobody could close it any more: it is cancelled, recorded in the log.
        assert execution.get_status() == "cancelled"
        assert execution.lifecycle_state == "closed"
        assert execution.view.close_reason is not None
        assert "async_start" in execution.view.close_reason
    else:
        # The caller holds the handle: the execution keeps running for it.
        assert execution.get_status() == "running"
        assert execution.view.runs
        with anyio.fail_after(10):
            assert await execution.async_cancel(reason="test over") == {}


async def test_cancelling_a_hidden_flow_start_cancels_its_execution(
    make_flow: Any, store: str
) -> None:
    started = asyncio.Event()
    flow: TriggerFlow = make_flow(store=store)
    flow.to(await slow_started(started))
    task = asyncio.ensure_future(flow.async_start())
    with anyio.fail_after(10):
        await started.wait()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=10)
    assert task in done
    assert task.cancelled()
    (summary,) = flow.list_executions()
    assert summary.status == "cancelled"
    assert flow.live_engines() == []
