"""Repeated resumes of one interrupt id, and the ``max_resumes`` limit (issue 11, item 9).

Spec: reference §7 (``resume_to="self"``, ``max_resumes`` default 1, "self resume
limit reached"); Agently 71232a9c, ExecutionInterrupts.pause_for: the count of a
self-resumed branch is refused a new pause once it reached ``max_resumes``, with
a RuntimeError. Every resume is a new signal with its own id, derived from the log
(so a rebuilt or replayed execution derives the same one).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator import (
    FlowDefinitionError,
    InterruptError,
    InterruptNotWaitingError,
    ResumeLimitError,
    StoreError,
    TriggerFlow,
    TriggerFlowRuntimeData,
)
from orchestrator.testing import assert_replay_equivalent
from tests.integration.scripts.logs import events

_OPENED: list[TriggerFlow] = []


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    """Close the stores the flows of a test opened."""
    yield
    while _OPENED:
        store = getattr(_OPENED.pop(), "_store", None)
        if store is not None:
            with contextlib.suppress(StoreError):
                store.close()


def _new_flow(name: str, store: str, **options: Any) -> TriggerFlow:
    flow = TriggerFlow(name=name, store=store, **options)
    _OPENED.append(flow)
    return flow


@pytest.fixture(params=["memory", "sqlite"])
def store_spec(request: pytest.FixtureRequest, store_file: str) -> str:
    return ":memory:" if request.param == "memory" else store_file


def _self_gate(store: str, **pause: Any) -> tuple[TriggerFlow, list[Any]]:
    """START -> gate, which pauses (resume_to self) on every run it makes."""
    flow = _new_flow("gate", store)
    trace: list[Any] = []

    async def gate(data: TriggerFlowRuntimeData) -> Any:
        trace.append(data.resume.value if data.resume is not None else None)
        return await data.async_pause_for(resume_to="self", **pause)

    flow.to(gate)
    return flow, trace


async def test_three_self_resumes_of_one_interrupt_id_each_rerun_the_chunk(
    store_spec: str,
) -> None:
    """Item 9: three continue_with in a row on a self-resuming named interrupt."""
    flow, trace = _self_gate(store_spec, interrupt_id="approval", max_resumes=5)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    for value in (1, 2, 3):
        record = await asyncio.wait_for(
            execution.async_continue_with("approval", value), 10
        )
        # The resumed chunk paused again under the same id: that is the record.
        assert record is not None
        assert record["status"] == "waiting"
        assert record["resume_count"] == value
        assert execution.get_pending_interrupts()["approval"] == record
    assert trace == [None, 1, 2, 3]
    resumes = [
        signal["id"]
        for resolved in events(flow.store, execution.id, "interrupt.resolved")
        for signal in resolved["emits"]
    ]
    assert len(set(resumes)) == 3, resumes
    runs = [e["run_id"] for e in events(flow.store, execution.id, "chunk.started")]
    assert len(set(runs)) == 4, runs
    await execution.async_close(pending_interrupts="cancel")
    await assert_replay_equivalent(execution)


async def test_the_detached_emits_of_every_self_resume_all_run(
    store_spec: str,
) -> None:
    """Item 9: a resume that reused the previous resume's run id lost the work
    that run still had in flight (here: a detached emit's handler)."""
    flow = _new_flow("audit", store_spec)
    release = asyncio.Event()
    audits: list[Any] = []

    async def gate(data: TriggerFlowRuntimeData) -> Any:
        data.emit_nowait("audit", data.resume.value if data.resume else None)
        return await data.async_pause_for(
            interrupt_id="approval", resume_to="self", max_resumes=5
        )

    async def audit(data: TriggerFlowRuntimeData) -> None:
        await release.wait()
        audits.append(data.value)

    flow.to(gate)
    flow.when("audit").to(audit)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    for value in (1, 2, 3):
        await asyncio.wait_for(execution.async_continue_with("approval", value), 10)
    release.set()
    await asyncio.wait_for(execution.async_wait_idle(), 10)
    assert sorted(audits, key=repr) == [1, 2, 3, None]
    await execution.async_close(pending_interrupts="cancel")


async def test_max_resumes_defaults_to_one_resume_and_refuses_the_re_pause(
    store_file: str,
) -> None:
    """Agently: max_resumes=1 by default; the resumed chunk's new pause is
    refused with a RuntimeError ("self resume limit reached")."""
    flow = _new_flow("gate", store_file, skip_exceptions=True)
    caught: list[ResumeLimitError] = []

    async def gate(data: TriggerFlowRuntimeData) -> Any:
        try:
            return await data.async_pause_for(resume_to="self", interrupt_id="ask")
        except ResumeLimitError as error:
            caught.append(error)
            return "gave up"

    flow.to(gate).to(("keep", lambda data: data.set_state("after", data.value)))
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    await execution.async_continue_with("ask", "again")
    [error] = caught
    assert isinstance(error, RuntimeError)
    assert isinstance(error, InterruptError)
    assert "self resume limit reached" in str(error)
    assert "'ask'" in str(error)
    assert "max_resumes=1" in str(error)
    assert (error.interrupt_id, error.resume_count, error.max_resumes) == ("ask", 1, 1)
    assert execution.get_pending_interrupts() == {}
    assert await execution.async_close() == {"after": "gave up"}


async def test_max_resumes_n_allows_n_resumes_then_refuses(store_file: str) -> None:
    flow = _new_flow("gate", store_file)
    runs: list[bool] = []

    async def gate(data: TriggerFlowRuntimeData) -> Any:
        runs.append(data.is_resume)
        return await data.async_pause_for(resume_to="self", max_resumes=3)

    flow.to(gate)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    for _ in range(2):
        (interrupt_id,) = execution.get_pending_interrupts()
        await execution.async_continue_with(interrupt_id, "again")
    (interrupt_id,) = execution.get_pending_interrupts()
    with pytest.raises(ResumeLimitError, match="max_resumes=3"):
        await execution.async_continue_with(interrupt_id, "again")
    assert runs == [False, True, True, True]
    assert execution.get_status() == "failed"


async def test_unlimited_and_zero_max_resumes(store_file: str) -> None:
    flow, trace = _self_gate(store_file, interrupt_id="loop", max_resumes=None)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    for value in range(4):
        await execution.async_continue_with("loop", value)
    assert trace == [None, 0, 1, 2, 3]
    await execution.async_close(pending_interrupts="cancel")

    never, _ = _self_gate(":memory:", max_resumes=0)
    with pytest.raises(ResumeLimitError, match="max_resumes=0"):
        await never.create_execution(auto_close=False).async_start(None)


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
async def test_a_bad_max_resumes_is_refused(bad: Any) -> None:
    flow, _ = _self_gate(":memory:", max_resumes=bad)
    with pytest.raises(FlowDefinitionError, match="max_resumes"):
        await flow.create_execution(auto_close=False).async_start(None)


async def test_a_chunk_reached_by_another_resume_kind_starts_a_fresh_count(
    store_file: str,
) -> None:
    """Only a self resume counts towards the pausing chunk's limit: a chunk
    reached by a "next" resume, or pausing under another explicit id, starts at 0."""
    flow = _new_flow("gate", store_file)

    async def first(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(interrupt_id="first")

    async def second(data: TriggerFlowRuntimeData) -> Any:
        if data.resume is not None and data.resume.interrupt_id == "second":
            return await data.async_pause_for(resume_to="self", interrupt_id="third")
        return await data.async_pause_for(resume_to="self", interrupt_id="second")

    flow.to(first).to(second)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    await execution.async_continue_with("first", "go")
    assert execution.get_pending_interrupts()["second"]["resume_count"] == 0
    await execution.async_continue_with("second", "go")
    assert execution.get_pending_interrupts()["third"]["resume_count"] == 0
    await execution.async_close(pending_interrupts="cancel")


async def test_repeated_resumes_continue_on_an_execution_rebuilt_from_the_log(
    store_file: str,
) -> None:
    """The resume signal ids come from the log alone: a second flow object over
    the same file (as another process) resumes the re-raised id again, and the
    log folds to the live view."""
    first, trace = _self_gate(store_file, interrupt_id="approval", max_resumes=5)
    execution = first.create_execution(auto_close=False)
    await execution.async_start("doc")
    await execution.async_continue_with("approval", 1)
    second, later = _self_gate(store_file, interrupt_id="approval", max_resumes=5)
    rebuilt = second.get_execution(execution.id)
    for value in (2, 3):
        await rebuilt.async_continue_with("approval", value)
    assert trace == [None, 1]
    assert later == [2, 3]
    assert rebuilt.get_pending_interrupts()["approval"]["resume_count"] == 3
    resumes = [
        signal["id"]
        for resolved in events(second.store, execution.id, "interrupt.resolved")
        for signal in resolved["emits"]
    ]
    assert len(set(resumes)) == 3, resumes
    await assert_replay_equivalent(rebuilt)
    await rebuilt.async_close(pending_interrupts="cancel")


async def test_a_child_re_raising_one_id_is_projected_and_resumed_each_time(
    store_spec: str,
) -> None:
    """The same defect through a sub-flow: the parent skipped projecting a
    re-raise of a local id it had already resolved, so nothing was waiting on
    the parent while the child waited forever."""
    child = _new_flow("child", store_spec)
    trace: list[Any] = []

    async def gate(data: TriggerFlowRuntimeData) -> Any:
        trace.append(data.resume.value if data.resume is not None else None)
        if data.resume is not None and data.resume.value == 3:
            return "approved"
        return await data.async_pause_for(
            interrupt_id="approval", resume_to="self", max_resumes=5
        )

    child.to(gate)
    parent = _new_flow("parent", store_spec)
    parent.to(child).to(("after", lambda data: data.set_state("after", True)))
    execution = parent.create_execution(auto_close=False)
    await execution.async_start("doc")
    for value in (1, 2, 3):
        (projected,) = execution.get_pending_interrupts()
        assert projected.endswith(":approval")
        await asyncio.wait_for(execution.async_continue_with(projected, value), 10)
    assert trace == [None, 1, 2, 3]
    assert execution.get_pending_interrupts() == {}
    await assert_replay_equivalent(execution)
    assert (await execution.async_close())["after"] is True


# -- review of issue 11, finding 10a: what a racing or repeated self resume answers -------------


async def test_a_late_resume_of_one_id_answers_its_re_raise_as_docs_api_5_says(
    store_file: str,
) -> None:
    """Pins docs/api.md §5: under one explicit id, the loser of a race (or a retry with
    the same resume_request_id) arriving after the re-raise answers the new pause."""
    flow, trace = _self_gate(store_file, interrupt_id="approval", max_resumes=None)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(0)
    await execution.async_continue_with("approval", "a", resume_request_id="r1")
    record = await execution.async_continue_with(
        "approval", "a", resume_request_id="r1"
    )
    assert trace == [None, "a", "a"]  # both landed: the second answered raise 2
    assert record["status"] == "waiting"
    assert record["raise_count"] == 3
    await execution.async_close(pending_interrupts="cancel")


async def test_an_id_per_raise_makes_every_pause_answered_exactly_once(
    store_file: str,
) -> None:
    """The documented way to answer exactly one pause: an interrupt id per raise."""
    flow = _new_flow("gate", store_file)
    trace: list[Any] = []

    async def gate(data: TriggerFlowRuntimeData) -> Any:
        count = data.get_state("count") or 0
        data.set_state("count", count + 1)
        trace.append(data.resume.value if data.resume is not None else None)
        return await data.async_pause_for(
            interrupt_id=f"approval-{count}", resume_to="self", max_resumes=None
        )

    flow.to(gate)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(0)
    await execution.async_continue_with("approval-0", "a", resume_request_id="r1")
    again = await execution.async_continue_with(
        "approval-0", "a", resume_request_id="r1"
    )
    assert again["status"] == "resolved"  # an idempotent retry, not a second answer
    with pytest.raises(InterruptNotWaitingError):
        await execution.async_continue_with("approval-0", "b")  # the race's loser
    assert trace == [None, "a"]
    assert list(execution.get_pending_interrupts()) == ["approval-1"]
    await execution.async_close(pending_interrupts="cancel")
