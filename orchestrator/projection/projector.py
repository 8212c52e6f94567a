"""The pure fold: one ``apply`` per event type, shared by live runs and replay.

``fold(events)`` == applying each event in order to a fresh view; because the
live runtime applies exactly the events it appends, a view rebuilt from the log
in any process equals the live one. Folding a prefix and then the rest equals
folding everything, which is what makes snapshots and time travel safe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from orchestrator.errors import CorruptEventError
from orchestrator.events import chunk as ev_chunk
from orchestrator.events import execution as ev_exec
from orchestrator.events import flow_state as ev_flow
from orchestrator.events import interrupt as ev_interrupt
from orchestrator.events import state as ev_state
from orchestrator.events import step as ev_step
from orchestrator.events import sub_flow as ev_sub
from orchestrator.events.codec import decode
from orchestrator.ids import derive_id
from orchestrator.projection.execution import (
    ExecutionStatus,
    ExecutionView,
    LifecycleState,
    OpKind,
    RunRecord,
    op_kind,
    op_result,
)
from orchestrator.projection.flow_state import FlowStateView
from orchestrator.projection.paths import append_path, copy_json, delete_path, set_path
from orchestrator.projection.view_contract import view_problem

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from orchestrator.events.base import Event
    from orchestrator.events.records import SignalRecord
    from orchestrator.store.base import StoredEvent

__all__ = [
    "apply",
    "apply_flow",
    "fold",
    "fold_flow",
    "run_id_for",
]


def run_id_for(signal_id: str, op_id: str) -> str:
    """The run an operator performs for a signal: derived, so replays agree."""
    return derive_id("r", signal_id, op_id)


# -- runs and signals -------------------------------------------------------------


def _add_signal(view: ExecutionView, signal: SignalRecord) -> None:
    targets = signal["targets"]
    if not targets:
        return
    sid = signal["id"]
    view.signals[sid] = signal
    view.signal_refs[sid] = view.signal_refs.get(sid, 0) + len(targets)
    cascade = signal["cascade"]
    view.cascades[cascade] = view.cascades.get(cascade, 0) + len(targets)
    runs = view.runs
    for op_id in targets:
        run_id = run_id_for(sid, op_id)
        runs[run_id] = RunRecord(run_id, op_id, sid)


def _finish_run(view: ExecutionView, run_id: str) -> RunRecord | None:
    run = view.runs.pop(run_id, None)
    if run is None:
        return None
    sid = run.signal_id
    signal = view.signals.get(sid)
    refs = view.signal_refs.get(sid, 1) - 1
    if refs <= 0:
        view.signal_refs.pop(sid, None)
        view.signals.pop(sid, None)
    else:
        view.signal_refs[sid] = refs
    if signal is not None:
        cascade = signal["cascade"]
        left = view.cascades.get(cascade, 1) - 1
        if left <= 0:
            view.cascades.pop(cascade, None)
        else:
            view.cascades[cascade] = left
    return run


def _record_op(
    view: ExecutionView,
    run_id: str | None,
    op: int | None,
    kind: OpKind,
    target: Any,
    result: Any,
    seq: int,
) -> None:
    if run_id is None or op is None:
        return
    run = view.runs.get(run_id)
    if run is not None:
        run.ops.append([op, kind, target, result, seq])


# -- handlers ---------------------------------------------------------------------


def _created(
    view: ExecutionView, e: ev_exec.ExecutionCreated, seq: int, at: float
) -> None:
    view.flow_name = e.flow_name
    view.fingerprint = e.fingerprint
    view.kind = e.kind
    view.parent = copy_json(e.parent)
    view.resource_keys = set(e.resource_keys)
    view.auto_close = e.auto_close
    view.concurrency = e.concurrency
    view.skip_exceptions = e.skip_exceptions
    view.status = ExecutionStatus.CREATED
    view.lifecycle = LifecycleState.OPEN
    view.created_at = at
    if e.initial_state:
        view.state = copy_json(e.initial_state)


def _started(
    view: ExecutionView, e: ev_exec.ExecutionStarted, seq: int, at: float
) -> None:
    if view.status == ExecutionStatus.CREATED:
        view.status = ExecutionStatus.RUNNING
        view.started_at = at


def _signal(
    view: ExecutionView, e: ev_chunk.SignalEmitted, seq: int, at: float
) -> None:
    if e.run_id is None:
        view.external_signals += 1
    else:
        _record_op(view, e.run_id, e.op, "emit", e.signal["event"], e.signal["id"], seq)
    _add_signal(view, e.signal)


def _rejected(
    view: ExecutionView, e: ev_chunk.SignalRejected, seq: int, at: float
) -> None:
    return


def _step_completed(
    view: ExecutionView, e: ev_step.StepCompleted, seq: int, at: float
) -> None:
    _record_op(view, e.run_id, e.op, "step", e.name, {"result": e.result}, seq)


def _step_failed(
    view: ExecutionView, e: ev_step.StepFailed, seq: int, at: float
) -> None:
    _record_op(view, e.run_id, e.op, "step", e.name, {"error": e.error}, seq)


def _timer_started(
    view: ExecutionView, e: ev_step.TimerStarted, seq: int, at: float
) -> None:
    _record_op(
        view,
        e.run_id,
        e.op,
        "sleep",
        "timer",
        {"wake_at": e.wake_at, "fired": False},
        seq,
    )
    run = view.runs.get(e.run_id)
    if run is not None:
        run.wake_at = e.wake_at


def _timer_fired(
    view: ExecutionView, e: ev_step.TimerFired, seq: int, at: float
) -> None:
    run = view.runs.get(e.run_id)
    if run is None:
        return
    run.wake_at = None
    for op in run.ops:
        if op[0] == e.op and op_kind(op) == "sleep":
            op[3] = {**op_result(op), "fired": True}


def _chunk_retrying(
    view: ExecutionView, e: ev_step.ChunkRetrying, seq: int, at: float
) -> None:
    run = view.runs.get(e.run_id)
    if run is not None:
        run.status = "retrying"
        run.attempt = e.attempt
        run.wake_at = e.retry_at


def _refresh_waiting(view: ExecutionView) -> None:
    if view.status in ExecutionStatus.TERMINAL:
        return
    waiting = any(i.get("status") == "waiting" for i in view.interrupts.values())
    if waiting:
        view.status = ExecutionStatus.WAITING
    elif view.status == ExecutionStatus.WAITING:
        view.status = (
            ExecutionStatus.RUNNING
            if view.started_at is not None
            else ExecutionStatus.CREATED
        )


def _interrupt_raised(
    view: ExecutionView, e: ev_interrupt.InterruptRaised, seq: int, at: float
) -> None:
    record = dict(e.interrupt)
    record["status"] = "waiting"
    record["created_at"] = at
    record["seq"] = seq
    view.interrupts[record["id"]] = record
    _record_op(view, e.run_id, e.op, "pause", record["id"], record["id"], seq)
    _refresh_waiting(view)


def _interrupt_resolved(
    view: ExecutionView, e: ev_interrupt.InterruptResolved, seq: int, at: float
) -> None:
    record = view.interrupts.get(e.interrupt_id)
    if record is not None:
        record["status"] = "resolved"
        record["resolved_at"] = at
        record["resolved_seq"] = seq
        record["resume_value"] = copy_json(e.value)
        record["resume_request_id"] = e.resume_request_id
        record["resolved_by"] = e.resolved_by
        record["resolved_via"] = e.via
    for signal in e.emits:
        _add_signal(view, signal)
    _refresh_waiting(view)


def _interrupt_cancelled(
    view: ExecutionView, e: ev_interrupt.InterruptCancelled, seq: int, at: float
) -> None:
    record = view.interrupts.get(e.interrupt_id)
    if record is not None:
        record["status"] = "cancelled"
        record["cancelled_reason"] = e.reason
        record["resolved_seq"] = seq
    _refresh_waiting(view)


def _sub_flow_started(
    view: ExecutionView, e: ev_sub.SubFlowStarted, seq: int, at: float
) -> None:
    run = view.runs.get(e.run_id)
    signal = view.signals.get(run.signal_id) if run is not None else None
    view.frames[e.child_id] = {
        "child_id": e.child_id,
        "child_flow": e.child_flow,
        "operator_id": e.operator_id,
        "run_id": e.run_id,
        "status": "running",
        "signal": copy_json(signal),
        "captured": copy_json(e.captured),
        "resource_keys": list(e.resource_keys),
        "started_seq": seq,
    }
    _record_op(view, e.run_id, e.op, "sub_flow", e.child_id, e.child_id, seq)


def _frame_interrupts(view: ExecutionView, child_id: str) -> list[dict[str, Any]]:
    return [
        record
        for record in view.interrupts.values()
        if (record.get("sub_flow") or {}).get("child_id") == child_id
    ]


def _sub_flow_waiting(
    view: ExecutionView, e: ev_sub.SubFlowWaiting, seq: int, at: float
) -> None:
    frame = view.frames.get(e.child_id)
    if frame is not None:
        frame["status"] = "waiting"
    for projected_id, record in e.interrupts.items():
        existing = view.interrupts.get(projected_id)
        if (
            existing is not None
            and existing.get("status") != "waiting"
            # The child raised the same local id again (a loop pausing under
            # one name): a new pause to project, not a stale copy of the old.
            and existing.get("raise_count") == record.get("raise_count")
        ):
            continue
        entry = copy_json(record)
        entry["status"] = "waiting"
        entry["created_at"] = at
        entry["seq"] = seq
        view.interrupts[projected_id] = entry
    _refresh_waiting(view)


def _sub_flow_completed(
    view: ExecutionView, e: ev_sub.SubFlowCompleted, seq: int, at: float
) -> None:
    frame = view.frames.get(e.child_id)
    if frame is not None:
        frame["status"] = e.status
        frame["completed_seq"] = seq
    for record in _frame_interrupts(view, e.child_id):
        if record.get("status") == "waiting":
            record["status"] = "resolved"
            record["resolved_seq"] = seq
    for path, value in e.state.items():
        set_path(view.state, path, copy_json(value))
        view.state_version += 1
    for signal in e.emits:
        _add_signal(view, signal)
    if (
        e.status == "failed"
        and not view.skip_exceptions
        and view.status not in ExecutionStatus.TERMINAL
    ):
        view.status = ExecutionStatus.FAILED
    _refresh_waiting(view)


def _sub_flow_cancelled(
    view: ExecutionView, e: ev_sub.SubFlowCancelled, seq: int, at: float
) -> None:
    frame = view.frames.get(e.child_id)
    if frame is not None:
        frame["status"] = "cancelled"
        frame["cancel_reason"] = e.reason
    for record in _frame_interrupts(view, e.child_id):
        if record.get("status") == "waiting":
            record["status"] = "cancelled"
            record["resolved_seq"] = seq
    _refresh_waiting(view)


def _chunk_started(
    view: ExecutionView, e: ev_chunk.ChunkStarted, seq: int, at: float
) -> None:
    run = view.runs.get(e.run_id)
    if run is not None:
        run.status = "started"
        run.chunk = e.chunk
        run.attempt = e.attempt
        run.wake_at = None


def _chunk_completed(
    view: ExecutionView, e: ev_chunk.ChunkCompleted, seq: int, at: float
) -> None:
    for signal in e.emits:
        _add_signal(view, signal)
    join = e.join
    if join is not None:
        scopes = view.joins.setdefault(join["op"], {})
        if join["clear"]:
            scopes.pop(join["scope"], None)
            if not scopes:
                view.joins.pop(join["op"], None)
        else:
            scopes.setdefault(join["scope"], {})[join["key"]] = join["value"]
    _finish_run(view, e.run_id)


def _chunk_failed(
    view: ExecutionView, e: ev_chunk.ChunkFailed, seq: int, at: float
) -> None:
    run = _finish_run(view, e.run_id)
    error: dict[str, Any] = dict(e.error)
    error["chunk"] = run.chunk if run is not None and run.chunk else ""
    error["seq"] = seq
    view.errors.append(error)
    if not e.skipped and view.status not in ExecutionStatus.TERMINAL:
        view.status = ExecutionStatus.FAILED


def _state_set(view: ExecutionView, e: ev_state.StateSet, seq: int, at: float) -> None:
    set_path(view.state, e.key, e.value)
    view.state_version += 1
    _record_op(view, e.run_id, e.op, "state.set", e.key, None, seq)


def _state_appended(
    view: ExecutionView, e: ev_state.StateAppended, seq: int, at: float
) -> None:
    append_path(view.state, e.key, e.value)
    view.state_version += 1
    _record_op(view, e.run_id, e.op, "state.append", e.key, None, seq)


def _state_deleted(
    view: ExecutionView, e: ev_state.StateDeleted, seq: int, at: float
) -> None:
    delete_path(view.state, e.key)
    view.state_version += 1
    _record_op(view, e.run_id, e.op, "state.delete", e.key, None, seq)


def _resource_set(
    view: ExecutionView, e: ev_state.ResourceKeySet, seq: int, at: float
) -> None:
    view.resource_keys.add(e.key)
    _record_op(view, e.run_id, e.op, "resource.set", e.key, None, seq)


def _resource_deleted(
    view: ExecutionView, e: ev_state.ResourceKeyDeleted, seq: int, at: float
) -> None:
    view.resource_keys.discard(e.key)
    _record_op(view, e.run_id, e.op, "resource.delete", e.key, None, seq)


def _flow_data_written(
    view: ExecutionView, e: ev_flow.FlowDataWritten, seq: int, at: float
) -> None:
    kind = cast("OpKind", f"flow_data.{e.action}")  # as recorded: set, append, delete
    _record_op(view, e.run_id, e.op, kind, e.key, None, seq)


def _sealed(
    view: ExecutionView, e: ev_exec.ExecutionSealed, seq: int, at: float
) -> None:
    if view.lifecycle == LifecycleState.OPEN:
        view.lifecycle = LifecycleState.SEALED


def _closed(
    view: ExecutionView, e: ev_exec.ExecutionClosed, seq: int, at: float
) -> None:
    view.lifecycle = LifecycleState.CLOSED
    view.status = e.status
    view.close_reason = e.reason
    view.closed_at = at
    view.close_snapshot = copy_json(view.state)
    # Close abandons what is still pending (a close timeout cancelled it).
    view.joins.clear()
    view.runs.clear()
    view.signals.clear()
    view.signal_refs.clear()
    view.cascades.clear()


def _cancelled(
    view: ExecutionView, e: ev_exec.ExecutionCancelled, seq: int, at: float
) -> None:
    if view.status not in ExecutionStatus.TERMINAL:
        view.status = ExecutionStatus.CANCELLED
    view.close_reason = e.reason


def _definition_changed(
    view: ExecutionView, e: ev_exec.DefinitionChanged, seq: int, at: float
) -> None:
    view.fingerprint = e.current


def _snapshot(
    view: ExecutionView, e: ev_exec.SnapshotTaken, seq: int, at: float
) -> None:
    problem = view_problem(e.view)
    if problem is not None:
        # from_json trusts its input: a damaged view would surface as a bare
        # TypeError somewhere later.
        raise CorruptEventError(view.execution_id, seq, f"snapshot view {problem}")
    restored = ExecutionView.from_json(e.view)
    for name in ExecutionView.__slots__:
        setattr(view, name, getattr(restored, name))


_HANDLERS: dict[type[Event], Callable[[ExecutionView, Any, int, float], None]] = {
    ev_exec.ExecutionCreated: _created,
    ev_exec.ExecutionStarted: _started,
    ev_exec.ExecutionSealed: _sealed,
    ev_exec.ExecutionClosed: _closed,
    ev_exec.ExecutionCancelled: _cancelled,
    ev_exec.DefinitionChanged: _definition_changed,
    ev_exec.SnapshotTaken: _snapshot,
    ev_chunk.SignalEmitted: _signal,
    ev_chunk.SignalRejected: _rejected,
    ev_chunk.ChunkStarted: _chunk_started,
    ev_chunk.ChunkCompleted: _chunk_completed,
    ev_chunk.ChunkFailed: _chunk_failed,
    ev_state.StateSet: _state_set,
    ev_state.StateAppended: _state_appended,
    ev_state.StateDeleted: _state_deleted,
    ev_state.ResourceKeySet: _resource_set,
    ev_state.ResourceKeyDeleted: _resource_deleted,
    ev_flow.FlowDataWritten: _flow_data_written,
    ev_step.StepCompleted: _step_completed,
    ev_step.StepFailed: _step_failed,
    ev_step.TimerStarted: _timer_started,
    ev_step.TimerFired: _timer_fired,
    ev_step.ChunkRetrying: _chunk_retrying,
    ev_interrupt.InterruptRaised: _interrupt_raised,
    ev_interrupt.InterruptResolved: _interrupt_resolved,
    ev_interrupt.InterruptCancelled: _interrupt_cancelled,
    ev_sub.SubFlowStarted: _sub_flow_started,
    ev_sub.SubFlowWaiting: _sub_flow_waiting,
    ev_sub.SubFlowCompleted: _sub_flow_completed,
    ev_sub.SubFlowCancelled: _sub_flow_cancelled,
}


def apply(view: ExecutionView, event: Event, seq: int, created_at: float) -> None:
    """Apply one event at ``seq`` to ``view`` in place."""
    handler = _HANDLERS.get(type(event))
    if handler is None:
        raise CorruptEventError(
            view.execution_id,
            seq,
            f"{event.type_name} does not belong in an execution stream",
        )
    handler(view, event, seq, created_at)
    view.last_seq = seq
    view.updated_at = created_at


def fold(
    stream_id: str, events: Iterable[StoredEvent], view: ExecutionView | None = None
) -> ExecutionView:
    """Fold stored events (in seq order) into ``view`` (a fresh one by default)."""
    if view is None:
        view = ExecutionView(stream_id)
    for stored in events:
        event = decode(stored.type, stored.data, stored.stream_id, stored.seq)
        apply(view, event, stored.seq, stored.created_at)
    return view


# -- the flow stream ----------------------------------------------------------------


def apply_flow(view: FlowStateView, event: Event, seq: int) -> None:
    """Apply one flow-stream event."""
    if isinstance(event, ev_flow.FlowDataSet):
        set_path(view.flow_data, event.key, event.value)
    elif isinstance(event, ev_flow.FlowDataAppended):
        append_path(view.flow_data, event.key, event.value)
    elif isinstance(event, ev_flow.FlowDataDeleted):
        delete_path(view.flow_data, event.key)
    elif isinstance(event, ev_flow.FlowDefined):
        view.definitions[event.fingerprint] = event.blueprint
    else:
        raise CorruptEventError(
            f"flow:{view.flow_name}",
            seq,
            f"{event.type_name} does not belong in a flow stream",
        )
    view.last_seq = seq


def fold_flow(
    flow_name: str, events: Iterable[StoredEvent], view: FlowStateView | None = None
) -> FlowStateView:
    """Fold a flow stream."""
    if view is None:
        view = FlowStateView(flow_name)
    for stored in events:
        event = decode(stored.type, stored.data, stored.stream_id, stored.seq)
        apply_flow(view, event, stored.seq)
    return view
