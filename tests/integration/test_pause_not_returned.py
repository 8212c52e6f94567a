"""A chunk that calls ``pause_for`` but does not return its result.

Issue 11, item 11: forgetting ``return`` before ``await data.async_pause_for(...)``
left the execution ``waiting`` while the next chunk had already run with
``None`` (and a ``"next"`` resume would have run it a second time). Now the
chunk run fails with ``PauseNotReturnedError`` naming the chunk, its interrupts
are cancelled in the same append, and nothing downstream runs, whatever the
resume target.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from orchestrator import TriggerFlow
from orchestrator.errors import PauseNotReturnedError
from orchestrator.testing import assert_replay_equivalent

pytestmark = pytest.mark.timeout(60)

TARGETS: dict[str, dict[str, Any]] = {
    "next": {},
    "self": {"resume_to": "self"},
    "event": {"resume_event": "Answer"},
}


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, store_file: str) -> str:
    return ":memory:" if request.param == "memory" else store_file


def build(
    make_flow: Any, store: str, seen: list[Any], handler: Any, **options: Any
) -> TriggerFlow:
    flow: TriggerFlow = make_flow(store=store, **options)
    flow.to(handler).to(("after", lambda data: seen.append(data.value)))
    flow.when("Answer").to(("answer", lambda data: seen.append(("answer", data.value))))
    return flow


@pytest.mark.parametrize("target", sorted(TARGETS))
async def test_an_unreturned_async_pause_fails_the_chunk(
    make_flow: Any, store: str, target: str
) -> None:
    seen: list[Any] = []

    async def forgetful(data: Any) -> None:
        await data.async_pause_for(interrupt_id="ask", **TARGETS[target])

    flow = build(make_flow, store, seen, forgetful)
    execution = flow.create_execution(auto_close=False)
    with anyio.fail_after(10), pytest.raises(PauseNotReturnedError) as caught:
        await execution.async_start("in")
    error = caught.value
    assert error.chunk == "forgetful"
    assert error.interrupt_ids == ["ask"]
    assert error.returned == "NoneType"
    assert "return await data.async_pause_for" in str(error)
    assert seen == []
    assert execution.get_status() == "failed"
    assert execution.get_pending_interrupts() == {}
    record = execution.get_interrupt("ask")
    assert record is not None
    assert record["status"] == "cancelled"
    assert execution.view.errors[0]["type"] == "PauseNotReturnedError"
    with anyio.fail_after(10):
        assert await execution.async_close() == {}
    assert execution.get_status() == "failed"
    await assert_replay_equivalent(execution)


async def test_an_unreturned_sync_pause_fails_the_chunk(
    make_flow: Any, store: str
) -> None:
    seen: list[Any] = []

    def forgetful(data: Any) -> str:
        data.pause_for(interrupt_id="ask")
        return "carried on"

    flow = build(make_flow, store, seen, forgetful)
    execution = flow.create_execution(auto_close=False)
    with anyio.fail_after(10), pytest.raises(PauseNotReturnedError) as caught:
        await execution.async_start("in")
    assert caught.value.returned == "str"
    assert seen == []
    assert execution.get_pending_interrupts() == {}
    assert execution.get_status() == "failed"


async def test_an_unreturned_pause_with_skip_exceptions_ends_its_branch(
    make_flow: Any, store: str
) -> None:
    seen: list[Any] = []

    async def forgetful(data: Any) -> None:
        await data.async_pause_for(interrupt_id="ask")

    flow = build(make_flow, store, seen, forgetful, skip_exceptions=True)
    execution = flow.create_execution(auto_close=True)
    with anyio.fail_after(10):
        assert await execution.async_start("in") == {}
    assert seen == []
    assert execution.get_status() == "completed"
    assert execution.view.errors[0]["type"] == "PauseNotReturnedError"
    record = execution.get_interrupt("ask")
    assert record is not None
    assert record["status"] == "cancelled"


async def test_returning_the_pause_still_waits(make_flow: Any, store: str) -> None:
    seen: list[Any] = []

    async def careful(data: Any) -> Any:
        return await data.async_pause_for(interrupt_id="ask")

    flow = build(make_flow, store, seen, careful)
    execution = flow.create_execution(auto_close=False)
    with anyio.fail_after(10):
        await execution.async_start("in")
        assert execution.get_status() == "waiting"
        await execution.async_continue_with("ask", "yes")
    assert seen == ["yes"]
    with anyio.fail_after(10):
        await execution.async_close()
