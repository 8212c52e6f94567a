"""Crash recovery: find the executions of a flow that are not closed and resume them.

A process that died left its executions' logs behind; the fold of each log says
exactly which chunk runs were owed or in flight. Recovery claims the execution's
lease (so two recovering processes never both run it), folds the log again
*after* claiming, and starts every pending run with its recorded id; operations
the dead process already logged are skipped by key, so only the unlogged tail of
each run takes effect. Executions waiting on an interrupt stay waiting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.events.execution import ExecutionClosed
from orchestrator.projection.execution import ExecutionStatus, LifecycleState
from orchestrator.runtime.engine import ExecutionEngine
from orchestrator.runtime.execution import TriggerFlowExecution
from orchestrator.runtime.owner import owner_is_dead, process_owner
from orchestrator.runtime.rebuild import check_definition, read_view
from orchestrator.runtime.resources import RuntimeResources

if TYPE_CHECKING:
    from orchestrator.projection.execution import ExecutionView
    from orchestrator.runtime.host import FlowHost
    from orchestrator.store.base import StreamInfo

__all__ = [
    "claim",
    "held_elsewhere",
    "recover_executions",
    "RECOVERABLE_STATUSES",
]

RECOVERABLE_STATUSES = (
    ExecutionStatus.CREATED,
    ExecutionStatus.RUNNING,
    ExecutionStatus.WAITING,
    ExecutionStatus.FAILED,
)


def held_elsewhere(info: StreamInfo, owner: str, now: float) -> bool:
    """True while another live process holds the execution's lease."""
    if info.owner is None or info.owner == owner:
        return False
    if info.lease_until is None or info.lease_until <= now:
        return False
    return not owner_is_dead(info.owner)


def claim(store: Any, info: StreamInfo, owner: str, ttl: float) -> bool:
    """Take the lease of an execution (stealing it from a provably dead owner)."""
    steal = (
        info.owner
        if info.owner and info.owner != owner and owner_is_dead(info.owner)
        else None
    )
    if steal is not None:
        try:
            return bool(store.claim(info.stream_id, owner, ttl, steal_from=steal))
        except TypeError:  # a backend without lease stealing: wait for expiry
            pass
    return bool(store.claim(info.stream_id, owner, ttl))


async def recover_executions(
    flow: FlowHost,
    *,
    runtime_resources: dict[str, Any] | None = None,
    allow_definition_change: bool = False,
) -> list[TriggerFlowExecution]:
    """Resume every execution of ``flow`` that is not closed and not run elsewhere."""
    store = flow.store
    owner = process_owner()
    ttl = flow.lease_ttl
    live = {engine.id: engine for engine in flow.live_engines()}
    # Children are driven by their parents (a parent re-attaches to its child),
    # never recovered on their own.
    infos = store.list_streams(
        kind="execution", flow_name=flow.name, status=RECOVERABLE_STATUSES
    )
    infos.sort(key=lambda info: (info.created_at, info.stream_id))
    handles: list[TriggerFlowExecution] = []
    for info in _cancelled_but_open(store, flow.name):
        if info.stream_id in live or held_elsewhere(info, owner, flow.clock.now()):
            continue
        handle = await _finish_cancellation(flow, info, owner, runtime_resources)
        if handle is not None:
            handles.append(handle)
    for info in infos:
        engine = live.get(info.stream_id)
        if engine is not None:
            handles.append(engine.handle)
            continue
        if held_elsewhere(info, owner, flow.clock.now()):
            continue
        view, info = read_view(store, info.stream_id)
        if view.lifecycle == LifecycleState.CLOSED:
            continue
        check_definition(flow, view, allow_definition_change)
        claimed_at: float | None = None
        if view.runs:
            if not claim(store, info, owner, ttl):
                continue
            claimed_at = flow.clock.now()
            # Fold again after claiming: the previous owner may have appended.
            view, info = read_view(store, info.stream_id)
            if not view.runs or view.lifecycle == LifecycleState.CLOSED:
                # Another recovering process ran it to the end meanwhile: not ours.
                store.release(info.stream_id, owner)
                if view.lifecycle == LifecycleState.CLOSED or view.status != "waiting":
                    continue
                claimed_at = None
        engine, handle = _adopt(
            flow, view, owner, runtime_resources, allow_definition_change
        )
        engine.lease_renewed_at = claimed_at
        engine.resume_pending()
        engine.reconcile()
        engine.drive_to_close()
        handles.append(handle)
    return handles


def _cancelled_but_open(store: Any, flow_name: str) -> list[StreamInfo]:
    """Cancelled executions whose close a crash cut short.

    The index cannot tell them from closed ones, so each one's last event is
    read (one row): a finished cancellation ends with ``execution.closed``.
    """
    found = []
    for info in store.list_streams(
        kind="execution", flow_name=flow_name, status=ExecutionStatus.CANCELLED
    ):
        last = store.read_stream(info.stream_id, from_seq=max(info.last_seq, 1))
        if not last or last[-1].type != ExecutionClosed.type_name:
            found.append(info)
    found.sort(key=lambda info: (info.created_at, info.stream_id))
    return found


async def _finish_cancellation(
    flow: FlowHost,
    info: StreamInfo,
    owner: str,
    runtime_resources: dict[str, Any] | None,
) -> TriggerFlowExecution | None:
    """Cancel the children and close an execution whose cancel was cut short."""
    if not claim(flow.store, info, owner, flow.lease_ttl):
        return None
    view, info = read_view(flow.store, info.stream_id)
    if view.lifecycle == LifecycleState.CLOSED:
        flow.store.release(info.stream_id, owner)
        return None
    # No definition check: finishing a cancel runs no chunk, old or new.
    _, handle = _adopt(flow, view, owner, runtime_resources, False)
    await handle._finish_cancel(view.close_reason or "cancelled")
    return handle


def _adopt(
    flow: FlowHost,
    view: ExecutionView,
    owner: str,
    runtime_resources: dict[str, Any] | None,
    allow_definition_change: bool,
) -> tuple[ExecutionEngine, TriggerFlowExecution]:
    """A live engine and handle for a folded execution this process now runs."""
    resources = RuntimeResources(flow.flow_resources, runtime_resources)
    engine = ExecutionEngine(
        flow, view, resources, owner=owner, lease_ttl=flow.lease_ttl
    )
    engine.after_rebuild(allow_definition_change)
    flow.register_engine(engine)
    handle = TriggerFlowExecution(engine)
    engine.bind()
    return engine, handle
