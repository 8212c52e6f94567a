"""The lifecycle of an execution: start, close, cancel, finish a cancel, auto-close.

One service for every caller: the public handle, a sub-flow starting or closing
its child, recovery finishing a cancellation a crash cut short, and the engine
closing a rebuilt auto-closing execution once it is idle. Each function takes
the engine and returns once what it did is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ExecutionCancelledError, LifecycleError
from orchestrator.events.execution import (
    DefinitionChanged,
    ExecutionCancelled,
    ExecutionClosed,
    ExecutionSealed,
    ExecutionStarted,
)
from orchestrator.events.interrupt import InterruptCancelled
from orchestrator.events.values import to_json_value
from orchestrator.flow.operators import START
from orchestrator.projection.execution import ExecutionStatus, LifecycleState
from orchestrator.projection.paths import copy_json
from orchestrator.runtime.holder import refuse_if_held_elsewhere
from orchestrator.runtime.interrupts import pending_interrupts
from orchestrator.runtime.leases import claim, held_elsewhere

if TYPE_CHECKING:
    from orchestrator.runtime.engine import ExecutionEngine

__all__ = [
    "LifecycleWarning",
    "adopt_definition",
    "cancel",
    "close",
    "drive",
    "drive_to_close",
    "durable_with_children",
    "finish_cancel",
    "reconcile",
    "resume",
    "resume_rebuilt",
    "settle_interrupts_for_close",
    "start",
]


class LifecycleWarning(RuntimeWarning):
    """An external event was ignored because the execution is sealed or closed."""


async def start(
    engine: ExecutionEngine,
    value: Any,
    timeout: float | None,  # noqa: ASYNC109 - the handle's public timeout=
) -> Any:
    """Run START with ``value`` (see ``TriggerFlowExecution.async_start``)."""
    engine.bind()
    view = engine.view
    if view.started_at is not None or view.status != ExecutionStatus.CREATED:
        return engine.close_snapshot
    if view.lifecycle != LifecycleState.OPEN:
        raise LifecycleError(
            f"execution {engine.id!r} is {view.lifecycle}; it can no longer be started"
        )
    json_value = to_json_value(value, "start input")
    engine.record(ExecutionStarted())
    signal = engine.external_signal(START, json_value, source="start")
    engine.emit_signal(signal)
    try:
        await asyncio.wait_for(engine.wait_cascade(signal["cascade"]), timeout)
    except TimeoutError:
        if view.auto_close and engine.view.lifecycle != LifecycleState.CLOSED:
            # The hidden/auto-closing execution cannot be left running.
            await cancel(engine, f"start timed out after {timeout}s")
        raise
    except asyncio.CancelledError:
        # The caller gave up. An auto-closing execution would be left running
        # with nobody to close it: cancel it (at once, not after its chunks
        # finish). A handle's execution keeps running for its holder.
        if view.auto_close and engine.view.lifecycle != LifecycleState.CLOSED:
            await _cancel_for_caller(engine)
        raise
    except Exception:
        if view.auto_close and engine.view.lifecycle != LifecycleState.CLOSED:
            engine.error_observed = True
            await close(engine, "failed", None, "cancel", True)
        raise
    # KeyboardInterrupt / SystemExit propagate untouched: the program stops,
    # and the log keeps the execution open for recovery.
    if view.auto_close and _quiescent_closable(engine):
        await engine.wait_idle()
        if _quiescent_closable(engine):
            return await close(engine, "auto_close", None, "error", True)
    await engine.durable()
    return engine.close_snapshot


async def _cancel_for_caller(engine: ExecutionEngine) -> None:
    """Cancel the execution because the task awaiting ``async_start`` was cancelled.

    Shielded, so a second cancellation of the caller does not cut the cancel
    short; a failure of it (the store) is reported by the next call on the
    execution, while the caller gets its CancelledError.
    """
    if engine.stopped is not None:
        return
    with contextlib.suppress(Exception):
        await asyncio.shield(
            cancel(engine, "the task awaiting async_start was cancelled")
        )


def _quiescent_closable(engine: ExecutionEngine) -> bool:
    view = engine.view
    return (
        view.lifecycle != LifecycleState.CLOSED
        and view.status != ExecutionStatus.WAITING
    )


async def close(
    engine: ExecutionEngine,
    reason: str,
    timeout: float | None,  # noqa: ASYNC109 - the handle's public timeout=
    pending_interrupts: str,
    seal: bool,
) -> dict[str, Any]:
    """Seal, drain running work, close; return the close snapshot (idempotent)."""
    engine.bind()
    if engine.close_snapshot is not None:
        return engine.close_snapshot
    refuse_if_held_elsewhere(engine, "close")
    view = engine.view  # after the catch-up, which may replace it
    if view.lifecycle == LifecycleState.CLOSED:
        engine.close_snapshot = copy_json(view.close_snapshot or {})
        return engine.close_snapshot
    status_override = await settle_interrupts_for_close(engine, pending_interrupts)
    if seal and view.lifecycle == LifecycleState.OPEN:
        engine.record(ExecutionSealed(reason=reason))
    try:
        await asyncio.wait_for(engine.wait_idle(), timeout)
    except TimeoutError:
        cancelled = len(engine.cancel_tasks())
        warnings.warn(
            f"execution {engine.id!r}: close timed out after {timeout}s; "
            f"{cancelled} running chunk(s) were cancelled",
            LifecycleWarning,
            stacklevel=3,
        )
    status = status_override or (
        view.status
        if view.status in ExecutionStatus.TERMINAL
        else ExecutionStatus.COMPLETED
    )
    engine.record(ExecutionClosed(reason=reason, status=status))
    await engine.durable()
    engine.close_snapshot = copy_json(view.close_snapshot or {})
    engine.host_forget()
    if engine.first_error is not None and not engine.error_observed:
        engine.error_observed = True
        raise engine.first_error
    return engine.close_snapshot


async def cancel(engine: ExecutionEngine, reason: str) -> dict[str, Any]:
    """Record the cancellation, then finish it (see :func:`finish_cancel`)."""
    engine.bind()
    refuse_if_held_elsewhere(engine, "cancel")
    view = engine.view
    if view.lifecycle == LifecycleState.CLOSED:
        if view.status == ExecutionStatus.CANCELLED:
            return await close(engine, "cancelled", None, "cancel", True)
        raise LifecycleError(
            f"execution {engine.id!r} is already closed ({view.status}); there is "
            "nothing to cancel"
        )
    engine.record(ExecutionCancelled(reason=reason))
    return await finish_cancel(engine, reason)


async def finish_cancel(engine: ExecutionEngine, reason: str) -> dict[str, Any]:
    """Cancel children and runs, then close: the rest of a cancellation.

    Recovery calls it for an execution whose cancellation a crash cut short
    (``execution.cancelled`` in the log, not ``execution.closed``).
    """
    await engine.driver.cancel_children(engine, reason)
    tasks = engine.cancel_tasks()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    engine.abort_waiters(
        ExecutionCancelledError(f"execution {engine.id!r} was cancelled ({reason})")
    )
    engine.record(
        ExecutionClosed(reason=f"cancelled: {reason}", status=ExecutionStatus.CANCELLED)
    )
    await engine.durable()
    engine.close_snapshot = copy_json(engine.view.close_snapshot or {})
    engine.host_forget()
    return engine.close_snapshot


async def drive(engine: ExecutionEngine) -> None:
    """After a rebuild: once idle, auto-close (if the execution asked for it)."""
    with contextlib.suppress(Exception):
        if engine.reconciling is not None:
            await engine.reconciling
        await engine.wait_idle()
    view = engine.view
    if (
        view.auto_close
        and view.started_at is not None
        and view.lifecycle == "open"
        and view.status not in ("waiting", "cancelled")
        and engine.handle is not None
    ):
        with contextlib.suppress(Exception):
            await close(engine, "auto_close", None, "error", True)
    else:
        engine.flush()


async def settle_interrupts_for_close(
    engine: ExecutionEngine, policy: str
) -> str | None:
    """Apply the close policy to waiting interrupts; return a forced status or None."""
    if policy not in ("error", "cancel"):
        raise ValueError(
            f"pending_interrupts must be 'error' or 'cancel', got {policy!r}"
        )
    waiting = sorted(pending_interrupts(engine.view))
    if not waiting:
        return None
    if policy == "error":
        raise LifecycleError(
            f"Can not close execution {engine.id!r} while pending interrupts are "
            f"waiting: {waiting}. Resolve them with continue_with(...), or close with "
            "pending_interrupts='cancel'."
        )
    if any(
        f.get("status") in ("running", "waiting") for f in engine.view.frames.values()
    ):
        await engine.driver.cancel_children(
            engine, "closed with pending_interrupts='cancel'"
        )
    for interrupt_id in sorted(pending_interrupts(engine.view)):
        engine.record(InterruptCancelled(interrupt_id=interrupt_id, reason="closed"))
    return ExecutionStatus.CANCELLED


def adopt_definition(engine: ExecutionEngine, allow_definition_change: bool) -> None:
    """A rebuilt execution runs on this definition: record the change if allowed."""
    current = engine.definition.fingerprint
    if (
        allow_definition_change
        and engine.view.fingerprint != current
        and engine.view.lifecycle != "closed"
    ):
        engine.record(
            DefinitionChanged(previous=engine.view.fingerprint, current=current),
            flush=False,
        )


def resume_rebuilt(engine: ExecutionEngine) -> None:
    """Resume the pending runs of a rebuilt execution if nobody else runs them."""
    if not engine.view.runs:
        return
    owner, ttl = engine.lease.owner, engine.lease.ttl
    if owner is not None and ttl is not None:
        info = engine.store.get_stream(engine.id)
        if info is not None and info.owner not in (None, owner):
            if held_elsewhere(info, owner, engine.clock.now()) or not claim(
                engine.store, info, owner, ttl
            ):
                return
            engine.lease.renewed_at = engine.clock.now()
    resume(engine)


def resume(engine: ExecutionEngine) -> None:
    """Run what a rebuilt execution owes: its pending runs, its frames, its close."""
    engine.resume_pending()
    reconcile(engine)
    drive_to_close(engine)


def drive_to_close(engine: ExecutionEngine) -> None:
    """After a rebuild: once idle, auto-close (if the execution asked for it)."""
    if engine.drive_task is None or engine.drive_task.done():
        engine.drive_task = engine.bind().create_task(drive(engine))


def reconcile(engine: ExecutionEngine) -> None:
    """After a rebuild: finish sub-flow frames whose child moved on unobserved.

    Once per rebuild: binding a rebuilt engine with pending runs and recovery
    both ask for it, and two concurrent passes could finish one frame twice.
    """
    if engine.reconciling is None and any(
        f.get("status") in ("running", "waiting", "cancelled")
        for f in engine.view.frames.values()
    ):
        engine.reconciling = engine.bind().create_task(engine.driver.reconcile(engine))


async def durable_with_children(engine: ExecutionEngine) -> None:
    """:meth:`durable` for this execution and its live sub-flow children."""
    await engine.durable()
    for child in list(engine.children.values()):
        await durable_with_children(child)
