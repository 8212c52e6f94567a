"""Interrupts: ``pause_for`` / ``continue_with`` on the event log.

A pause blocks only its own branch: the chunk run that paused completes with no
continuation, the interrupt record keeps that run's own signal (its value and
fan-out marks), and every other branch keeps running. Resolving it appends one
event that both marks it resolved and carries the signals that resume the
branch, appended only if the log's head is where this process expects it: of
two processes racing to resolve one interrupt, exactly one append lands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.errors import (
    FlowDefinitionError,
    InterruptNotWaitingError,
    PauseNotAllowedError,
    ResumeConflictError,
    ResumeLimitError,
    ResumeValueError,
)
from orchestrator.events.interrupt import (
    InterruptRaised,
    InterruptResolved,
)
from orchestrator.events.json_schema import check_schema, validation_error
from orchestrator.events.values import to_json_value
from orchestrator.ids import derive_id
from orchestrator.projection.paths import copy_json

if TYPE_CHECKING:
    from orchestrator.events.records import SignalRecord
    from orchestrator.projection.execution import ExecutionView
    from orchestrator.runtime.engine import ExecutionEngine

__all__ = [
    "already_settled",
    "default_interrupt_id",
    "pending_interrupts",
    "raise_interrupt",
    "resolve_by_emit",
    "resume_signals",
    "resumes_on",
    "TriggerFlowPauseSignal",
]


class TriggerFlowPauseSignal(dict[str, Any]):
    """What ``pause_for`` returns; a chunk returns it to pause its branch."""


def pending_interrupts(view: ExecutionView) -> dict[str, Any]:
    """The waiting interrupts of a view, by id (copies)."""
    return {
        interrupt_id: copy_json(record)
        for interrupt_id, record in view.interrupts.items()
        if record.get("status") == "waiting"
    }


def _resume_target(resume_to: Any, resume_event: str | None) -> Any:
    if resume_to is None:
        return {"event": resume_event} if resume_event else "next"
    if resume_to in ("next", "self"):
        return resume_to
    if (
        isinstance(resume_to, dict)
        and set(resume_to) == {"event"}
        and isinstance(resume_to["event"], str)
    ):
        return {"event": resume_to["event"]}
    raise FlowDefinitionError(
        f"pause_for(resume_to=...): use 'next', 'self' or {{'event': name}}, got {resume_to!r}"
    )


def raise_interrupt(
    engine: ExecutionEngine,
    run_id: str,
    index: int,
    op: Any,
    signal: SignalRecord,
    *,
    kind: str,
    payload: Any,
    resume_to: Any,
    resume_event: str | None,
    interrupt_id: str,
    max_resumes: int | None,
    explicit_id: bool,
    request_payload_schema: Any,
    response_payload_schema: Any,
    extra: dict[str, Any],
) -> TriggerFlowPauseSignal:
    """Record an InterruptRaised for operation ``index`` of ``run_id``."""
    if engine.hidden:
        raise PauseNotAllowedError(
            "pause_for(...) requires an exposed execution handle: flow.start() and "
            "flow.async_start() hide theirs, so nothing could continue_with(). Use "
            "execution = flow.create_execution(auto_close=False) and "
            "await execution.async_start(...) instead."
        )
    for name, schema in (
        ("request_payload_schema", request_payload_schema),
        ("response_payload_schema", response_payload_schema),
    ):
        if schema is not None:
            problem = check_schema(schema)
            if problem:
                raise FlowDefinitionError(f"pause_for({name}=...): {problem}")
    target = _resume_target(resume_to, resume_event)
    json_payload = to_json_value(payload, "pause_for(payload=...)")
    if request_payload_schema is not None:
        problem = validation_error(json_payload, request_payload_schema)
        if problem:
            raise ResumeValueError(
                f"pause_for(payload=...) does not match request_payload_schema: {problem}"
            )
    _check_max_resumes(max_resumes)
    resume_count = 0
    if target == "self":
        resume_count = _self_resume_count(engine, signal, interrupt_id, explicit_id)
        if max_resumes is not None and resume_count >= max_resumes:
            raise ResumeLimitError(engine.id, interrupt_id, resume_count, max_resumes)
    record: dict[str, Any] = {
        "id": interrupt_id,
        "type": kind,
        "payload": json_payload,
        "resume_to": target,
        "resume_event": target["event"] if isinstance(target, dict) else None,
        "max_resumes": max_resumes,
        "resume_count": resume_count,
        "request_payload_schema": to_json_value(
            request_payload_schema, "request_payload_schema"
        ),
        "response_payload_schema": to_json_value(
            response_payload_schema, "response_payload_schema"
        ),
        "execution_id": engine.id,
        "flow_name": engine.view.flow_name,
        "run_id": run_id,
        "op_id": op.id,
        "chunk": op.name,
        "signal": copy_json(dict(signal)),
        "continuation_event": op.continuation,
        "extra": to_json_value(extra, "pause_for extra"),
    }
    previous = engine.view.interrupts.get(interrupt_id)
    if previous is not None:
        # The same id raised again (a loop pausing under one name): counted, so
        # that its resume gets a signal id of its own (see _resume_signal_id).
        record["raise_count"] = int(previous.get("raise_count", 1)) + 1
    engine.record(InterruptRaised(run_id=run_id, op=index, interrupt=record))
    return TriggerFlowPauseSignal(
        interrupt_id=interrupt_id,
        type=kind,
        payload=copy_json(json_payload),
        status="waiting",
    )


def _check_max_resumes(max_resumes: Any) -> None:
    if max_resumes is None:
        return
    if (
        isinstance(max_resumes, bool)
        or not isinstance(max_resumes, int)
        or max_resumes < 0
    ):
        raise FlowDefinitionError(
            "pause_for(max_resumes=...): use a non-negative int (or None for no "
            f"limit), got {max_resumes!r}"
        )


def _self_resume_count(
    engine: ExecutionEngine, signal: SignalRecord, interrupt_id: str, explicit_id: bool
) -> int:
    """How many ``resume_to="self"`` resumes led to this run (Agently's count).

    Only a self resume counts: a chunk reached by a "next" or event resume starts
    at 0, and so does a pause under another explicit id (a new pause point with
    its own budget), as in Agently.
    """
    resume = (signal.get("meta") or {}).get("resume")
    if not resume:
        return 0
    resumed_from = resume.get("interrupt_id")
    source = engine.view.interrupts.get(resumed_from) if resumed_from else None
    if source is None or source.get("resume_to") != "self":
        return 0
    if explicit_id and interrupt_id != resumed_from:
        return 0
    return int(resume.get("resume_count", 0)) + 1


def default_interrupt_id(run_id: str, index: int) -> str:
    """A deterministic id: re-executing the run raises the same interrupt."""
    return derive_id("i", run_id, index)


def _resume_signal_id(record: dict[str, Any], kind: str) -> str:
    """The id of the signal that resumes ``record``: one per raise of its id.

    The first raise of an id keeps the form older logs recorded; a later raise of
    the same id adds its raise count, so each resume is a new signal (and its
    runs new runs) instead of a replay of the previous resume's.
    """
    raised = record.get("raise_count")
    if raised:
        return derive_id("s", record["id"], kind, raised)
    return derive_id("s", record["id"], kind)


def resume_signals(
    engine: ExecutionEngine, record: dict[str, Any], value: Any
) -> list[SignalRecord]:
    """The signals that resolving ``record`` with ``value`` emits (its resume target)."""
    signal = record["signal"]
    target = record["resume_to"]
    interrupt_id = record["id"]
    resume_meta = {
        "resume": {
            "interrupt_id": interrupt_id,
            "value": copy_json(value),
            "resume_count": record.get("resume_count", 0),
        }
    }
    if target == "next":
        event = record.get("continuation_event")
        if not event:
            return []
        signal_id = _resume_signal_id(record, "next")
        resumed = engine.signal(
            signal_id,
            event,
            value,
            source="interrupt",
            cascade=signal_id,
            layers=signal["layers"],
            origin=signal.get("origin"),
        )
    elif target == "self":
        signal_id = _resume_signal_id(record, "self")
        resumed = engine.signal(
            signal_id,
            signal["event"],
            signal["value"],
            trigger_type=signal["type"],
            source="interrupt",
            cascade=signal_id,
            layers=signal["layers"],
            origin=signal.get("origin"),
        )
        resumed["targets"] = [record["op_id"]]
    else:
        signal_id = _resume_signal_id(record, "event")
        resumed = engine.signal(
            signal_id,
            target["event"],
            value,
            source="interrupt",
            cascade=signal_id,
            layers=signal["layers"],
            # Like an emit of the event (which resolves it too): its own origin.
            origin=signal_id if "origin" in signal else None,
        )
    resumed["meta"] = resume_meta
    return [resumed]


def already_settled(
    engine: ExecutionEngine,
    record: dict[str, Any] | None,
    interrupt_id: str,
    value: Any,
    resume_request_id: str | None,
) -> bool:
    """True for an idempotent retry; False if still waiting; else raise why not."""
    if record is None:
        pending = sorted(pending_interrupts(engine.view))
        raise InterruptNotWaitingError(
            f"execution {engine.id!r} has no interrupt {interrupt_id!r}; waiting: {pending}"
        )
    status = record.get("status")
    if status == "waiting":
        return False
    if (
        status == "resolved"
        and resume_request_id is not None
        and (record.get("resume_request_id") == resume_request_id)
    ):
        if record.get("resume_value") == value:
            return True
        raise ResumeConflictError(
            f"execution {engine.id!r}: conflicting resume_request_id {resume_request_id!r} "
            f"for interrupt {interrupt_id!r}: it resolved it with "
            f"{record.get('resume_value')!r}, not {value!r}"
        )
    by = record.get("resolved_by") or "another continue_with"
    raise InterruptNotWaitingError(
        f"execution {engine.id!r}: interrupt {interrupt_id!r} is not waiting: it was "
        f"{status} by {by} at seq {record.get('resolved_seq')}. Check "
        "get_pending_interrupts() for what is still waiting."
    )


def resumes_on(engine: ExecutionEngine, event: str) -> bool:
    """True when an emit of ``event`` would resolve a waiting interrupt."""
    return any(
        record.get("status") == "waiting" and record.get("resume_event") == event
        for record in engine.view.interrupts.values()
    )


def resolve_by_emit(engine: ExecutionEngine, event: str, value: Any) -> None:
    """An emit of an interrupt's resume event resolves it (the emit itself resumes)."""
    for interrupt_id, record in list(engine.view.interrupts.items()):
        if record.get("status") == "waiting" and record.get("resume_event") == event:
            engine.record(
                InterruptResolved(
                    interrupt_id=interrupt_id,
                    value=value,
                    via="emit",
                    resolved_by=engine.lease.owner,
                )
            )
