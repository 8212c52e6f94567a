"""A parent's sub-flow frames: cancel, list, and reconcile them after a rebuild.

Cancelling a child fences its frame first (``sub_flow.cancelled`` on the
parent), so its write-back and continuation never happen, then cancels the
child itself. After a crash, :func:`reconcile_frames` finishes what the
parent and its children recorded only halfway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.errors import ExecutionNotFoundError
from orchestrator.events.interrupt import InterruptResolved
from orchestrator.events.sub_flow import SubFlowCancelled, SubFlowWaiting
from orchestrator.events.values import copy_json
from orchestrator.projection.execution import ExecutionStatus, LifecycleState
from orchestrator.runtime import lifecycle
from orchestrator.runtime.sub_flows import (
    attach_child,
    drive_child,
    finish_frame,
    projections,
)

if TYPE_CHECKING:
    from orchestrator.runtime.engine import ExecutionEngine

__all__ = [
    "cancel_children",
    "cancel_open_child",
    "cancel_sub_flow",
    "reconcile_frames",
    "sub_flow_executions",
]


async def cancel_sub_flow(parent: ExecutionEngine, child_id: str, reason: str) -> bool:
    """Cancel one child: its write-back and the continuation after it are fenced."""
    frame = parent.view.frames.get(child_id)
    if frame is None:
        raise ExecutionNotFoundError(
            child_id, f"the sub-flows of execution {parent.id!r}"
        )
    if frame.get("status") not in ("running", "waiting"):
        return False
    parent.record(SubFlowCancelled(child_id=child_id, reason=reason))
    child = attach_child(parent, child_id)
    if child.view.lifecycle != LifecycleState.CLOSED:
        await lifecycle.cancel(child, reason)
    await parent.durable()
    return True


async def cancel_children(parent: ExecutionEngine, reason: str) -> None:
    """Cancel every child that is still running or waiting (the parent is cancelled)."""
    await parent.durable()  # a child started this loop turn is in the log after this
    for child_id, frame in list(parent.view.frames.items()):
        if frame.get("status") in ("running", "waiting"):
            await cancel_sub_flow(parent, child_id, f"parent cancelled: {reason}")
        elif frame.get("status") == "cancelled":  # a crash cut its cancel short
            await cancel_open_child(parent, child_id, f"parent cancelled: {reason}")


def sub_flow_executions(parent: ExecutionEngine) -> list[dict[str, Any]]:
    """The parent's children: frame status plus the child's own status from the index."""
    listed = []
    for child_id, frame in parent.view.frames.items():
        info = parent.store.get_stream(child_id)
        listed.append(
            {
                "child_id": child_id,
                "flow_name": frame.get("child_flow"),
                "frame_status": frame.get("status"),
                "status": info.status if info is not None else None,
                "operator_id": frame.get("operator_id"),
                "run_id": frame.get("run_id"),
            }
        )
    return listed


async def reconcile_frames(parent: ExecutionEngine) -> None:
    """After a rebuild: finish frames whose child moved on while nobody watched."""
    for child_id, frame in list(parent.view.frames.items()):
        if frame.get("status") == "cancelled":
            await cancel_open_child(parent, child_id, str(frame.get("cancel_reason")))
            continue
        if frame.get("status") not in ("running", "waiting"):
            continue
        if frame.get("run_id") in parent.view.runs:
            continue  # the resumed parent run re-attaches to it
        info = parent.store.get_stream(child_id)
        if info is None:
            continue
        child = attach_child(parent, child_id)
        # Grandchildren first: a child can only report what its own frames did
        # once they are reconciled (a resumed bottom level, say, whose middle
        # level had not yet written it back when the process died).
        await reconcile_frames(child)
        _record_child_resolutions(parent, child)
        if child.view.status == ExecutionStatus.WAITING and not child.view.runs:
            _project_child_pauses(parent, child)
            continue
        child.resume_pending()
        error = await drive_child(child, None)
        await finish_frame(parent, child, run=None, error=error)


def _record_child_resolutions(parent: ExecutionEngine, child: ExecutionEngine) -> None:
    """Finish a continue_with that a crash cut between the child and the parent.

    ``continue_projected`` resolves the child's interrupt, then records the
    resolution in the parent: two appends. A process that died between them
    left the parent showing the interrupt as waiting though the child has moved
    on; record it now, with the child's value and resolver, as it would have.
    """
    for projected_id, record in list(parent.view.interrupts.items()):
        origin = record.get("sub_flow") or {}
        if record.get("status") != "waiting" or origin.get("child_id") != child.id:
            continue
        local = child.view.interrupts.get(origin.get("local_interrupt_id", ""))
        if local is None or local.get("status") != "resolved":
            continue
        parent.record(
            InterruptResolved(
                interrupt_id=projected_id,
                value=copy_json(local.get("resume_value")),
                resume_request_id=local.get("resume_request_id"),
                via="sub_flow",
                resolved_by=str(local.get("resolved_by") or parent.lease.owner),
            )
        )


async def cancel_open_child(
    parent: ExecutionEngine, child_id: str, reason: str
) -> None:
    """A frame cancelled in the parent whose child a crash left open: cancel it."""
    info = parent.store.get_stream(child_id)
    if info is None or info.status in ExecutionStatus.TERMINAL:
        return
    child = attach_child(parent, child_id)
    if child.view.lifecycle != LifecycleState.CLOSED:
        await lifecycle.cancel(child, reason)


def _project_child_pauses(parent: ExecutionEngine, child: ExecutionEngine) -> None:
    """Make every waiting interrupt of a paused child visible on its parent.

    A child resumed through its parent can pause again (``resume_to="self"``,
    or a later chunk); the parent projects the new pause after the child's own
    appends. A crash between them left the parent not listing it: nobody could
    see or resume it, and the parent would close around a child still waiting.
    """
    projected = projections(child)
    if any(
        parent.view.interrupts.get(projected_id, {}).get("status") != "waiting"
        for projected_id in projected
    ):
        parent.record(SubFlowWaiting(child_id=child.id, interrupts=projected))
