"""Crash recovery: find the executions of a flow that are not closed and resume them.

A process that died left its executions' logs behind; the fold of each log says
exactly which chunk runs were owed or in flight. Recovery claims the execution's
lease (so two recovering processes never both run it), folds the log again
*after* claiming, and starts every pending run with its recorded id; operations
the dead process already logged are skipped by key, so only the unlogged tail of
each run takes effect. Executions waiting on an interrupt stay waiting.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from orchestrator.errors import MissingResourceError
from orchestrator.events.execution import ExecutionClosed
from orchestrator.projection.execution import ExecutionStatus, LifecycleState
from orchestrator.runtime.assembly import handle_of, open_engine
from orchestrator.runtime.interrupts import pending_interrupts
from orchestrator.runtime.leases import claim, held_elsewhere
from orchestrator.runtime.lifecycle import finish_cancel, resume
from orchestrator.runtime.owner import process_owner
from orchestrator.runtime.rebuild import check_definition, read_view
from orchestrator.runtime.recovery_report import (
    RecoveryOutcome,
    RecoveryReport,
    skipped_outcome,
)
from orchestrator.runtime.resources import RuntimeResources

if TYPE_CHECKING:
    from orchestrator.projection.execution import ExecutionView
    from orchestrator.runtime.engine import EngineHost, ExecutionEngine
    from orchestrator.runtime.execution import TriggerFlowExecution
    from orchestrator.store.base import StreamInfo

__all__ = ["RECOVERABLE_STATUSES", "recover_executions"]

RECOVERABLE_STATUSES = (
    ExecutionStatus.CREATED,
    ExecutionStatus.RUNNING,
    ExecutionStatus.WAITING,
    ExecutionStatus.FAILED,
)


async def recover_executions(
    flow: EngineHost,
    *,
    runtime_resources: dict[str, Any] | None = None,
    allow_definition_change: bool = False,
) -> RecoveryReport:
    """Resume every execution of ``flow`` that is not closed and not run elsewhere.

    Each execution on its own: one that cannot be resumed is reported as
    skipped (with its error) and the others are still recovered.
    """
    store = flow.store
    owner = process_owner()
    live = {engine.id: engine for engine in flow.live_engines()}
    # Children are driven by their parents (a parent re-attaches to its child),
    # never recovered on their own.
    infos = store.list_streams(
        kind="execution", flow_name=flow.name, status=RECOVERABLE_STATUSES
    )
    infos.sort(key=lambda info: (info.created_at, info.stream_id))
    cancelled = store.list_streams(
        kind="execution", flow_name=flow.name, status=ExecutionStatus.CANCELLED
    )
    cancelled.sort(key=lambda info: (info.created_at, info.stream_id))
    handles: list[TriggerFlowExecution] = []
    outcomes: list[RecoveryOutcome] = []
    # Cancellations a crash cut short are finished first, as before.
    work = [(info, True) for info in cancelled] + [(info, False) for info in infos]
    for info, finishing in work:
        try:
            if finishing:
                result = await _finish_cancellation(
                    flow, info, owner, live, runtime_resources
                )
            else:
                result = _resume(
                    flow, info, owner, live, runtime_resources, allow_definition_change
                )
        except Exception as error:  # noqa: BLE001 - reported, the others go on
            result = skipped_outcome(info.stream_id, error), None
        if result is None:
            continue
        outcome, handle = result
        outcomes.append(outcome)
        if handle is not None:
            handles.append(handle)
    report = RecoveryReport(tuple(handles), tuple(outcomes))
    report.log(flow.name)
    return report


_Result = tuple[RecoveryOutcome, "TriggerFlowExecution | None"] | None

_RUNS_ON = (
    "none: its work continues in the background (await handle.async_close() "
    "or handle.async_wait_idle() to wait for it)"
)


def _held(info: StreamInfo, why: str) -> _Result:
    until = info.lease_until
    return (
        RecoveryOutcome(
            info.stream_id,
            "held_elsewhere",
            f"{why} (lease owner {info.owner!r}"
            + (f", renewed until {_utc(until)})" if until is not None else ")"),
            "none: that process runs it; if it dies, recover() takes it over (at "
            "once on this host, after lease_ttl from another host)",
        ),
        None,
    )


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _recovered(handle: TriggerFlowExecution, reason: str, action: str) -> _Result:
    return RecoveryOutcome(handle.id, "recovered", reason, action), handle


def _resume(
    flow: EngineHost,
    info: StreamInfo,
    owner: str,
    live: dict[str, ExecutionEngine],
    runtime_resources: dict[str, Any] | None,
    allow_definition_change: bool,
) -> _Result:
    """Resume one execution; None if there is nothing to report (it is closed)."""
    store = flow.store
    engine = live.get(info.stream_id)
    if engine is not None:
        return _recovered(handle_of(engine), "already live in this process", _RUNS_ON)
    if held_elsewhere(info, owner, flow.clock.now()):
        return _held(info, "another live process runs it")
    view, info = read_view(store, info.stream_id)
    if view.lifecycle == LifecycleState.CLOSED:
        return None
    check_definition(flow, view, allow_definition_change)
    # Before the lease and any write: resuming without a resource the execution
    # recorded would only re-run its chunks into a MissingResourceError and fail
    # it for good, when passing the resource to recover() would have saved it.
    _check_resources(flow, view, runtime_resources)
    claimed_at: float | None = None
    if view.runs:
        if not claim(store, info, owner, flow.lease_ttl):
            latest = store.get_stream(info.stream_id) or info
            return _held(latest, "another process claimed it first")
        claimed_at = flow.clock.now()
        try:
            # Fold again after claiming: the previous owner may have appended.
            view, info = read_view(store, info.stream_id)
        except BaseException:
            store.release(info.stream_id, owner)
            raise
        if not view.runs or view.lifecycle == LifecycleState.CLOSED:
            # Another recovering process ran it to the end meanwhile: not ours.
            store.release(info.stream_id, owner)
            if view.lifecycle == LifecycleState.CLOSED:
                return None
            if view.status != ExecutionStatus.WAITING:
                return _held(info, "another process ran its pending runs meanwhile")
            claimed_at = None
    try:
        engine, handle = _adopt(
            flow, view, owner, runtime_resources, allow_definition_change
        )
    except BaseException:
        if claimed_at is not None:
            store.release(info.stream_id, owner)
        raise
    engine.lease.renewed_at = claimed_at
    resume(engine)
    if view.runs:
        return _recovered(
            handle, f"resumed {len(view.runs)} pending chunk run(s)", _RUNS_ON
        )
    waiting = len(pending_interrupts(view))
    if waiting:
        return _recovered(
            handle,
            f"waiting on {waiting} interrupt(s)",
            "resolve them with handle.continue_with(interrupt_id, value)",
        )
    if view.auto_close and view.started_at is not None:
        return _recovered(handle, "nothing pending; it closes itself", _RUNS_ON)
    return _recovered(
        handle,
        f"open ({view.status}) with nothing pending",
        "start, emit to or close it through the handle",
    )


async def _finish_cancellation(
    flow: EngineHost,
    info: StreamInfo,
    owner: str,
    live: dict[str, ExecutionEngine],
    runtime_resources: dict[str, Any] | None,
) -> _Result:
    """Cancel the children and close an execution whose cancel was cut short.

    The index cannot tell such an execution from a closed cancelled one, so
    its last event is read (one row): a finished cancellation ends with
    ``execution.closed``.
    """
    store = flow.store
    last = store.read_stream(info.stream_id, from_seq=max(info.last_seq, 1))
    if last and last[-1].type == ExecutionClosed.type_name:
        return None
    if info.stream_id in live:
        return None  # this process is cancelling it right now
    if held_elsewhere(info, owner, flow.clock.now()):
        return _held(info, "another live process is cancelling it")
    if not claim(store, info, owner, flow.lease_ttl):
        return _held(
            store.get_stream(info.stream_id) or info, "another process claimed it first"
        )
    try:
        view, info = read_view(store, info.stream_id)
        if view.lifecycle == LifecycleState.CLOSED:
            store.release(info.stream_id, owner)
            return None
        # No definition check: finishing a cancel runs no chunk, old or new.
        engine, handle = _adopt(flow, view, owner, runtime_resources, False)
    except BaseException:
        store.release(info.stream_id, owner)
        raise
    await finish_cancel(engine, view.close_reason or "cancelled")
    return _recovered(
        handle,
        "finished a cancellation a crash had cut short (closed cancelled)",
        "none: it is closed",
    )


def _check_resources(
    flow: EngineHost, view: ExecutionView, runtime_resources: dict[str, Any] | None
) -> None:
    available = RuntimeResources(flow.flow_resources, runtime_resources)
    missing = available.missing(sorted(view.resource_keys))
    if missing:
        raise MissingResourceError(view.execution_id, missing, list(available))


def _adopt(
    flow: EngineHost,
    view: ExecutionView,
    owner: str,
    runtime_resources: dict[str, Any] | None,
    allow_definition_change: bool,
) -> tuple[ExecutionEngine, TriggerFlowExecution]:
    """A live engine and handle for a folded execution this process now runs."""
    resources = RuntimeResources(flow.flow_resources, runtime_resources)
    engine = open_engine(
        flow,
        view,
        resources,
        owner=owner,
        lease_ttl=flow.lease_ttl,
        rebuilt=True,
        allow_definition_change=allow_definition_change,
    )
    engine.bind()
    return engine, handle_of(engine)
