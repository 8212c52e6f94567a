"""Interrupts in one process: pause_for, continue_with, resume targets, close policies.

Spec: issue 5 (quoted in the test docstrings), reference §7 (pause_for /
continue_with), §4 (close), §3 (``data.is_resume`` / ``data.resume``). Branch
scoping (batch, for_each, parallel handlers, §13.2, §13.3) is in
test_interrupts_branches.py; other processes in test_cross_process_interrupts.py.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest

from orchestrator import (
    ExecutionClosedError,
    InterruptNotWaitingError,
    LifecycleError,
    PauseNotAllowedError,
    PayloadError,
    ResumeConflictError,
    TriggerFlowRuntimeData,
)
from orchestrator.errors import InterruptError, ResumeValueError
from orchestrator.events.codec import loads
from orchestrator.runtime.interrupts import TriggerFlowPauseSignal
from orchestrator.testing import assert_replay_equivalent
from tests.integration.scripts.logs import interrupt, stream


def _types(flow: Any, execution_id: str) -> list[str]:
    return [e.type for e in flow.store.read_stream(execution_id)]


def _events(flow: Any, execution_id: str, type_name: str) -> list[dict[str, Any]]:
    return [
        loads(e.data)
        for e in flow.store.read_stream(execution_id)
        if e.type == type_name
    ]


def _gate_flow(make_flow: Any, **pause: Any) -> tuple[Any, list[Any]]:
    """START -> gate (pauses with ``pause``) -> after (records its input)."""
    flow = make_flow("gate")
    seen: list[Any] = []

    async def gate(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("gate_runs", data.value)
        return await data.async_pause_for(**pause)

    async def after(data: TriggerFlowRuntimeData) -> Any:
        seen.append(data.value)
        data.set_state("after", data.value)
        return data.value

    flow.to(gate).to(after)
    return flow, seen


# -- pause_for ---------------------------------------------------------------------------------


async def test_pause_for_is_durable_before_the_chunk_returns(make_flow):
    """Issue 5: pause_for records InterruptRaised; the interrupt is durable before
    anyone can see it. Status becomes ``waiting``."""
    flow = make_flow()
    in_log_at_return: list[bool] = []

    async def ask(data: TriggerFlowRuntimeData) -> Any:
        signal = await data.async_pause_for(
            type="approval", payload={"doc": data.value}, interrupt_id="ask-1"
        )
        in_log_at_return.append("interrupt.raised" in _types(flow, data.execution_id))
        return signal

    flow.to(ask)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc-1")
    assert in_log_at_return == [True]
    assert execution.get_status() == "waiting"
    assert execution.is_waiting()
    assert _types(flow, execution.id).count("interrupt.raised") == 1
    await execution.async_close(pending_interrupts="cancel")


async def test_pause_signal_is_a_dict_the_chunk_returns(make_flow):
    """Reference §3: the pause signal is a TriggerFlowPauseSignal (a dict subclass)."""
    flow = make_flow()
    signals: list[Any] = []

    async def ask(data: TriggerFlowRuntimeData) -> Any:
        signal = await data.async_pause_for(type="t", payload=[1], interrupt_id="p")
        signals.append(signal)
        return signal

    flow.to(ask)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    (signal,) = signals
    assert isinstance(signal, TriggerFlowPauseSignal)
    assert isinstance(signal, dict)
    assert signal["interrupt_id"] == "p"
    assert signal["status"] == "waiting"
    await execution.async_close(pending_interrupts="cancel")


async def test_get_pending_interrupts_and_get_interrupt(make_flow):
    """Issue 5: get_pending_interrupts() returns {id: interrupt} with id, type,
    payload, status, resume_to, created_at and the chunk that raised it."""
    flow, _ = _gate_flow(
        make_flow, type="approval", payload={"q": 1}, interrupt_id="approval-1"
    )
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    pending = execution.get_pending_interrupts()
    assert list(pending) == ["approval-1"]
    record = pending["approval-1"]
    assert record["id"] == "approval-1"
    assert record["type"] == "approval"
    assert record["payload"] == {"q": 1}
    assert record["status"] == "waiting"
    assert record["resume_to"] == "next"
    assert isinstance(record["created_at"], float)
    assert record["chunk"] == "gate"
    assert execution.get_interrupt("approval-1") == record
    assert execution.get_interrupt("nope") is None
    # Copies: mutating what we got does not change the execution.
    pending["approval-1"]["payload"]["q"] = 99
    assert interrupt(execution, "approval-1")["payload"] == {"q": 1}
    await execution.async_close(pending_interrupts="cancel")


async def test_default_interrupt_ids_are_distinct_and_generated(make_flow):
    flow = make_flow()

    async def ask(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(type="x")

    flow.when("ask").to(ask)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    await execution.async_emit("ask", 1)
    await execution.async_emit("ask", 2)
    pending = execution.get_pending_interrupts()
    assert len(pending) == 2
    assert all(isinstance(k, str) and k for k in pending)
    await execution.async_close(pending_interrupts="cancel")


def test_sync_pause_for_in_a_sync_handler(make_flow):
    """Issue 5: ``pause_for`` (sync) from a sync handler (run in a worker thread)."""
    flow = make_flow()

    def ask(data: TriggerFlowRuntimeData) -> Any:
        return data.pause_for(type="sync", payload=data.value, interrupt_id="s-1")

    def after(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("answer", data.value)

    flow.to(ask).to(after)
    execution = flow.create_execution(auto_close=False)
    execution.start("q")
    assert execution.get_status() == "waiting"
    assert execution.get_pending_interrupts()["s-1"]["payload"] == "q"
    execution.continue_with("s-1", "a")
    assert execution.close() == {"answer": "a"}


# -- resume_to ---------------------------------------------------------------------------------


async def test_resume_to_next_value_becomes_the_pausing_chunks_output(make_flow):
    """Issue 5: "next" (default): the value becomes the pausing chunk's output for
    its downstream chunks; the pausing chunk does not run again."""
    flow, seen = _gate_flow(make_flow, type="approval", interrupt_id="n-1")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    assert seen == []
    record = await execution.async_continue_with("n-1", {"approved": True})
    assert record["status"] == "resolved"
    assert record["resume_value"] == {"approved": True}
    assert seen == [{"approved": True}]
    assert execution.get_status() == "running"
    snapshot = await execution.async_close()
    assert snapshot == {"gate_runs": ["doc"], "after": {"approved": True}}
    assert execution.get_status() == "completed"


async def test_resume_to_self_reruns_the_chunk_with_is_resume(make_flow):
    """Issue 5: "self": the same chunk runs again with data.is_resume true and
    data.resume.value; its return value then flows downstream."""
    flow = make_flow()
    trace: list[Any] = []

    async def gate(data: TriggerFlowRuntimeData) -> Any:
        trace.append(("gate", data.value, data.is_resume))
        if data.is_resume:
            assert data.resume is not None
            assert data.resume.interrupt_id == "self-1"
            return {"decision": data.resume.value, "orig_input": data.value}
        return await data.async_pause_for(
            type="review", resume_to="self", interrupt_id="self-1"
        )

    async def after(data: TriggerFlowRuntimeData) -> Any:
        trace.append(("after", data.value))
        data.set_state("result", data.value)

    flow.to(gate).to(after)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc-1")
    assert execution.get_pending_interrupts()["self-1"]["resume_to"] == "self"
    await execution.async_continue_with("self-1", "yes")
    assert trace == [
        ("gate", "doc-1", False),
        ("gate", "doc-1", True),
        ("after", {"decision": "yes", "orig_input": "doc-1"}),
    ]
    snapshot = await execution.async_close()
    assert snapshot == {"result": {"decision": "yes", "orig_input": "doc-1"}}


async def test_max_resumes_caps_self_re_pausing(make_flow):
    """Issue 5: max_resumes caps re-pausing under resume_to="self" (reference §7:
    past it, "self resume limit reached"). Issue 11 item 9: counted as Agently
    does, max_resumes=2 means two resumes, so only the first may pause again."""
    flow = make_flow(skip_exceptions=True)
    caught: list[str] = []

    async def gate(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("runs", data.is_resume)
        try:
            return await data.async_pause_for(
                type="loop", resume_to="self", max_resumes=2
            )
        except InterruptError as error:
            caught.append(str(error))
            return "gave up"

    async def after(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("after", data.value)

    flow.to(gate).to(after)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    (interrupt_id,) = execution.get_pending_interrupts()
    await execution.async_continue_with(interrupt_id, "again")
    assert caught == []  # the first resume may pause again
    (interrupt_id,) = execution.get_pending_interrupts()
    await execution.async_continue_with(interrupt_id, "again")
    assert len(caught) == 1
    assert "self resume limit reached" in caught[0]
    assert execution.get_pending_interrupts() == {}
    snapshot = await execution.async_close()
    assert snapshot["runs"] == [False, True, True]
    assert snapshot["after"] == "gave up"


async def test_resume_to_event_dispatches_the_event_with_the_value(make_flow):
    """Issue 5: {"event": "X"} dispatches event X with the value; the pausing
    chunk's own downstream does not run."""
    flow, seen = _gate_flow(
        make_flow, type="ask", resume_to={"event": "Answered"}, interrupt_id="e-1"
    )
    trace: list[Any] = []

    async def on_answer(data: TriggerFlowRuntimeData) -> Any:
        trace.append((data.trigger_event, data.value, data.is_resume))

    flow.when("Answered").to(on_answer)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    record = execution.get_interrupt("e-1")
    assert record["resume_to"] == {"event": "Answered"}
    await execution.async_continue_with("e-1", "answer-1")
    assert trace == [("Answered", "answer-1", True)]
    assert seen == []
    await execution.async_close()


async def test_resume_event_keyword_is_the_event_target(make_flow):
    """Issue 5: resume_event="X" is the same as resume_to={"event": "X"}."""
    flow, _ = _gate_flow(make_flow, type="ask", resume_event="Answered")
    trace: list[Any] = []

    async def on_answer(data: TriggerFlowRuntimeData) -> Any:
        trace.append(data.value)

    flow.when("Answered").to(on_answer)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    (interrupt_id,) = execution.get_pending_interrupts()
    assert execution.get_interrupt(interrupt_id)["resume_to"] == {"event": "Answered"}
    await execution.async_continue_with(interrupt_id, 42)
    assert trace == [42]
    await execution.async_close()


async def test_invalid_resume_to_is_refused(make_flow):
    flow = make_flow()
    errors: list[BaseException] = []

    async def gate(data: TriggerFlowRuntimeData) -> Any:
        try:
            return await data.async_pause_for(resume_to="elsewhere")
        except ValueError as error:
            errors.append(error)
            return None

    flow.to(gate)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    assert len(errors) == 1
    assert "'next', 'self'" in str(errors[0])
    assert execution.get_pending_interrupts() == {}
    await execution.async_close()


# -- auto-resume by emit -----------------------------------------------------------------------


async def test_emit_of_the_resume_event_resolves_the_interrupt(make_flow):
    """Issue 5: emitting an event equal to a waiting interrupt's resume event
    resolves it; the emitted signal itself reaches its handlers (once)."""
    flow, _ = _gate_flow(make_flow, type="ask", resume_event="Answered")
    trace: list[Any] = []

    async def on_answer(data: TriggerFlowRuntimeData) -> Any:
        trace.append(data.value)

    flow.when("Answered").to(on_answer)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    (interrupt_id,) = execution.get_pending_interrupts()
    await execution.async_emit("Answered", "answer-1")
    assert execution.get_pending_interrupts() == {}
    record = execution.get_interrupt(interrupt_id)
    assert record["status"] == "resolved"
    assert record["resume_value"] == "answer-1"
    assert trace == ["answer-1"]
    assert execution.get_status() == "running"
    with pytest.raises(InterruptNotWaitingError):
        await execution.async_continue_with(interrupt_id, "late")
    await execution.async_close()


async def test_emit_from_a_chunk_resolves_a_waiting_interrupt(make_flow):
    """Issue 5: the auto-resume applies to emits from chunks as well."""
    flow, _ = _gate_flow(make_flow, type="ask", resume_event="Answered")

    async def answerer(data: TriggerFlowRuntimeData) -> Any:
        await data.async_emit("Answered", data.value)

    async def on_answer(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("answers", data.value)

    flow.when("Answer-it").to(answerer)
    flow.when("Answered").to(on_answer)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    await execution.async_emit("Answer-it", "from-chunk")
    assert execution.get_pending_interrupts() == {}
    assert execution.get_state("answers") == ["from-chunk"]
    await execution.async_close()


async def test_emit_of_another_event_leaves_the_interrupt_waiting(make_flow):
    flow, _ = _gate_flow(make_flow, type="ask", resume_event="Answered")
    flow.when("Other").to(lambda data: None, name="other")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    await execution.async_emit("Other", 1)
    assert len(execution.get_pending_interrupts()) == 1
    assert execution.get_status() == "waiting"
    await execution.async_close(pending_interrupts="cancel")


# -- claims: idempotency and conflicts ---------------------------------------------------------


async def test_second_continue_with_raises_not_waiting_with_seq(make_flow):
    """Issue 5: the loser raises InterruptNotWaitingError: already resolved by ... at seq N."""
    flow, seen = _gate_flow(make_flow, interrupt_id="i-1")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    record = await execution.async_continue_with("i-1", 1)
    with pytest.raises(InterruptNotWaitingError) as info:
        await execution.async_continue_with("i-1", 2)
    message = str(info.value)
    assert "not waiting" in message
    assert f"seq {record['resolved_seq']}" in message
    assert isinstance(info.value, ValueError)
    assert seen == [1]
    await execution.async_close()


async def test_continue_with_unknown_interrupt(make_flow):
    flow, _ = _gate_flow(make_flow, interrupt_id="i-1")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    with pytest.raises(InterruptNotWaitingError, match="no interrupt 'missing'"):
        await execution.async_continue_with("missing", 1)
    assert execution.get_status() == "waiting"
    await execution.async_close(pending_interrupts="cancel")


async def test_same_resume_request_id_and_value_is_idempotent(make_flow):
    """Issue 5: same resume_request_id + same value -> idempotent (downstream once)."""
    flow, seen = _gate_flow(make_flow, interrupt_id="i-1")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    first = await execution.async_continue_with(
        "i-1", {"ok": 1}, resume_request_id="r-1"
    )
    last_seq = execution.view.last_seq
    again = await execution.async_continue_with(
        "i-1", {"ok": 1}, resume_request_id="r-1"
    )
    assert again == first
    assert execution.view.last_seq == last_seq
    assert seen == [{"ok": 1}]
    assert len(_events(flow, execution.id, "interrupt.resolved")) == 1
    await execution.async_close()


async def test_same_resume_request_id_different_value_conflicts(make_flow):
    """Issue 5: same resume_request_id, different value -> ResumeConflictError."""
    flow, seen = _gate_flow(make_flow, interrupt_id="i-1")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    await execution.async_continue_with("i-1", "a", resume_request_id="r-1")
    with pytest.raises(ResumeConflictError, match="conflicting resume_request_id"):
        await execution.async_continue_with("i-1", "b", resume_request_id="r-1")
    assert seen == ["a"]
    await execution.async_close()


# -- payload schemas ---------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {"approved": {"type": "boolean"}, "note": {"type": "string"}},
    "required": ["approved"],
}


async def test_resume_value_not_matching_schema_is_refused_and_nothing_written(
    make_flow,
):
    """Issue 5: a resume value that does not match response_payload_schema is
    refused (ResumeValueError) naming the failing path; the log's last seq is
    unchanged."""
    flow, seen = _gate_flow(
        make_flow, interrupt_id="s-1", response_payload_schema=SCHEMA
    )
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    head = stream(flow.store, execution.id).last_seq
    with pytest.raises(ResumeValueError) as info:
        await execution.async_continue_with("s-1", {"approved": "yes"})
    assert "approved" in str(info.value)
    with pytest.raises(ResumeValueError, match="approved"):
        await execution.async_continue_with("s-1", {"note": "missing approved"})
    assert stream(flow.store, execution.id).last_seq == head
    assert execution.get_status() == "waiting"
    assert seen == []
    await execution.async_continue_with("s-1", {"approved": True})
    assert seen == [{"approved": True}]
    await execution.async_close()


async def test_pause_payload_not_matching_request_schema_is_refused(make_flow):
    flow = make_flow(skip_exceptions=True)
    errors: list[BaseException] = []

    async def gate(data: TriggerFlowRuntimeData) -> Any:
        try:
            return await data.async_pause_for(
                payload={"approved": 3}, request_payload_schema=SCHEMA
            )
        except ResumeValueError as error:
            errors.append(error)
            return None

    flow.to(gate)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    assert len(errors) == 1
    assert "approved" in str(errors[0])
    assert execution.get_pending_interrupts() == {}
    assert "interrupt.raised" not in _types(flow, execution.id)
    await execution.async_close()


async def test_non_json_resume_value_is_refused_before_anything_is_written(make_flow):
    """A resume value goes to the log: a non-JSON one raises PayloadError (a
    TypeError) and the interrupt keeps waiting."""
    flow, seen = _gate_flow(make_flow, interrupt_id="j-1")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    head = stream(flow.store, execution.id).last_seq
    with pytest.raises(PayloadError):
        await execution.async_continue_with("j-1", {"when": object()})
    assert stream(flow.store, execution.id).last_seq == head
    assert execution.get_status() == "waiting"
    await execution.async_continue_with("j-1", "ok")
    assert seen == ["ok"]
    await execution.async_close()


# -- close policies ----------------------------------------------------------------------------


async def test_close_with_pending_interrupts_raises_by_default(make_flow):
    """Issue 5: async_close() with pending interrupts raises LifecycleError (a
    RuntimeError) and changes nothing."""
    flow, _ = _gate_flow(make_flow, interrupt_id="c-1")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    head = stream(flow.store, execution.id).last_seq
    with pytest.raises(LifecycleError) as info:
        await execution.async_close()
    assert isinstance(info.value, RuntimeError)
    assert "c-1" in str(info.value)
    assert execution.get_status() == "waiting"
    assert execution.lifecycle_state == "open"
    assert stream(flow.store, execution.id).last_seq == head
    await execution.async_continue_with("c-1", "ok")
    assert await execution.async_close() == {"gate_runs": ["doc"], "after": "ok"}


async def test_close_with_cancel_policy_cancels_interrupts(make_flow):
    """Issue 5: pending_interrupts="cancel" cancels them (recorded) and closes
    ``cancelled``; a later continue_with raises ExecutionClosedError (issue 11
    item 17; Agently warned and returned None)."""
    flow, seen = _gate_flow(make_flow, interrupt_id="c-1")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    snapshot = await execution.async_close(pending_interrupts="cancel")
    assert snapshot == {"gate_runs": ["doc"]}
    assert execution.get_status() == "cancelled"
    assert execution.lifecycle_state == "closed"
    assert interrupt(execution, "c-1")["status"] == "cancelled"
    assert execution.get_pending_interrupts() == {}
    cancelled = _events(flow, execution.id, "interrupt.cancelled")
    assert [e["interrupt_id"] for e in cancelled] == ["c-1"]
    head = execution.view.last_seq
    with pytest.raises(ExecutionClosedError, match="is closed") as refused:
        await execution.async_continue_with("c-1", "late")
    assert isinstance(refused.value, LifecycleError)
    assert (refused.value.execution_id, refused.value.status) == (
        execution.id,
        "cancelled",
    )
    assert "continue_with('c-1')" in str(refused.value)
    assert execution.view.last_seq == head
    assert seen == []
    assert await execution.async_close() is snapshot
    await assert_replay_equivalent(execution)


async def test_close_rejects_an_unknown_policy(make_flow):
    flow, _ = _gate_flow(make_flow, interrupt_id="c-1")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    with pytest.raises(ValueError, match="pending_interrupts"):
        await execution.async_close(pending_interrupts="ignore")
    await execution.async_close(pending_interrupts="cancel")


async def test_close_without_pending_interrupts_is_completed(make_flow):
    flow, _ = _gate_flow(make_flow, interrupt_id="c-1")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    await execution.async_continue_with("c-1", 1)
    await execution.async_close(pending_interrupts="cancel")
    assert execution.get_status() == "completed"


# -- the start() sugar has no handle -----------------------------------------------------------


async def test_async_start_sugar_refuses_pause_for(make_flow):
    """Issue 5: flow.async_start(...) has no handle: pause_for raises
    PauseNotAllowedError (RuntimeError) saying to use create_execution."""
    flow, _ = _gate_flow(make_flow, interrupt_id="x")
    with pytest.raises(PauseNotAllowedError) as info:
        await flow.async_start("doc")
    assert isinstance(info.value, RuntimeError)
    assert "create_execution" in str(info.value)


def test_start_sugar_refuses_pause_for(make_flow):
    """Issue 5: flow.start(...) likewise."""
    flow, _ = _gate_flow(make_flow, interrupt_id="x")
    with pytest.raises(PauseNotAllowedError, match="create_execution"):
        flow.start("doc")


async def test_auto_close_execution_waiting_on_interrupt_stays_open(make_flow):
    """Reference §4/§14.6: auto-close never closes an execution with a waiting
    interrupt; async_start returns with status waiting."""
    flow, _ = _gate_flow(make_flow, interrupt_id="w")
    execution = flow.create_execution()
    await execution.async_start("doc")
    assert execution.get_status() == "waiting"
    assert execution.lifecycle_state == "open"
    await execution.async_continue_with("w", "v")
    assert (await execution.async_close())["after"] == "v"


# -- the log -----------------------------------------------------------------------------------


async def test_pause_and_resume_replay_equivalent(make_flow):
    flow, _ = _gate_flow(make_flow, interrupt_id="r-1", payload={"a": [1, 2]})
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    view = await assert_replay_equivalent(execution)
    assert view.interrupts["r-1"]["status"] == "waiting"
    await execution.async_continue_with("r-1", {"b": None})
    view = await assert_replay_equivalent(execution)
    assert view.interrupts["r-1"]["status"] == "resolved"
    await execution.async_close()
    await assert_replay_equivalent(execution)
    types = _types(flow, execution.id)
    assert types.index("interrupt.raised") < types.index("interrupt.resolved")


async def test_get_execution_shows_the_pending_interrupt(make_flow, store_file):
    """Issue 5: a rebuilt handle (new flow object on the same file) shows it."""
    flow, _ = _gate_flow(make_flow, interrupt_id="g-1", payload="p")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    other, seen = _gate_flow(make_flow, interrupt_id="g-1", payload="p")
    rebuilt = other.get_execution(execution.id)
    assert rebuilt is not execution
    assert rebuilt.get_status() == "waiting"
    assert rebuilt.get_pending_interrupts() == execution.get_pending_interrupts()
    await rebuilt.async_continue_with("g-1", "from-rebuilt")
    assert seen == ["from-rebuilt"]
    assert (await rebuilt.async_close())["after"] == "from-rebuilt"


async def test_warning_free_run(make_flow):
    """The ordinary pause/continue/close path emits no warning at all."""
    flow, _ = _gate_flow(make_flow, interrupt_id="q")
    execution = flow.create_execution(auto_close=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await execution.async_start("doc")
        await execution.async_continue_with("q", 1)
        await execution.async_close()


# -- concurrent claims in one process ----------------------------------------------------------


async def test_concurrent_continue_with_on_one_handle_exactly_one_wins(make_flow):
    """Issue 5: of two concurrent continue_with calls for one interrupt exactly one
    wins, the other raises InterruptNotWaitingError; downstream runs once."""
    flow, seen = _gate_flow(make_flow, interrupt_id="race")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    results = await asyncio.gather(
        execution.async_continue_with("race", "a"),
        execution.async_continue_with("race", "b"),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    records = [r for r in results if not isinstance(r, BaseException)]
    assert len(records) == 1, results
    assert len(errors) == 1, results
    assert isinstance(errors[0], InterruptNotWaitingError), repr(errors[0])
    assert seen == [records[0]["resume_value"]]
    assert len(_events(flow, execution.id, "interrupt.resolved")) == 1
    await execution.async_close()


async def test_concurrent_continue_with_from_two_handles_exactly_one_wins(
    make_flow, store_file
):
    """Issue 5: two handles on one execution (two flow objects on one file, as two
    processes would be) race; exactly one wins, downstream runs once."""
    flow, seen_a = _gate_flow(make_flow, interrupt_id="race")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("doc")
    other, seen_b = _gate_flow(make_flow, interrupt_id="race")
    rebuilt = other.get_execution(execution.id)
    results = await asyncio.gather(
        execution.async_continue_with("race", "a"),
        rebuilt.async_continue_with("race", "b"),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], InterruptNotWaitingError), repr(errors[0])
    assert len(seen_a) + len(seen_b) == 1
    assert len(_events(flow, execution.id, "interrupt.resolved")) == 1


def test_sync_handlers_pausing_per_item_keep_their_own_item(make_flow):
    """§13.2 with sync handlers (worker threads): each item's interrupt keeps its
    own item; resumed out of order, results in input order."""
    flow = make_flow()

    def work(data: TriggerFlowRuntimeData) -> Any:
        return data.pause_for(type="sync-item", payload=data.value)

    def collect(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("collected", data.value)

    flow.for_each().to(work).end_for_each().to(collect)
    execution = flow.create_execution(auto_close=False)
    execution.start([1, 2, 3, 4])
    pending = execution.get_pending_interrupts()
    assert sorted(r["payload"] for r in pending.values()) == [1, 2, 3, 4]
    for record in pending.values():
        assert record["signal"]["value"] == record["payload"]
    by_item = {r["payload"]: i for i, r in pending.items()}
    for item in (4, 2, 3, 1):
        execution.continue_with(by_item[item], item * 100)
    assert execution.close() == {"collected": [100, 200, 300, 400]}
