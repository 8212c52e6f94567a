"""``continue_with``: resolve a waiting interrupt and resume its branch.

An interrupt a sub-flow child raised is projected onto its parent; resuming
it resumes the child (the same function, one level down), then finishes the
parent's frame: write back and continue. Of two concurrent resumes, in this
process or another, exactly one wins (the claim lock here, the append at the
expected head across processes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.errors import (
    ConcurrencyError,
    ExecutionClosedError,
    InterruptError,
    ResumeValueError,
    StoreError,
)
from orchestrator.events.interrupt import InterruptResolved
from orchestrator.events.json_schema import validation_error
from orchestrator.events.values import to_json_value
from orchestrator.projection.execution import LifecycleState
from orchestrator.projection.paths import copy_json
from orchestrator.runtime.interrupts import already_settled, resume_signals
from orchestrator.runtime.sub_flows import (
    attach_child,
    drive_child,
    finish_frame,
    refuse_settled,
)

if TYPE_CHECKING:
    from orchestrator.runtime.engine import ExecutionEngine

__all__ = ["continue_interrupt", "continue_projected"]


async def continue_interrupt(
    engine: ExecutionEngine,
    interrupt_id: str,
    value: Any,
    resume_request_id: str | None,
) -> dict[str, Any]:
    """Resolve a waiting interrupt and resume its branch; return its record.

    A closed execution refuses with ExecutionClosedError, which is also an
    InterruptNotWaitingError: a resume that cannot happen is an error, as for an
    unknown or settled interrupt, not a warning the caller may never see.
    """
    engine.bind()
    json_value = to_json_value(value, f"continue_with({interrupt_id!r})")
    if _closed_retry(engine, interrupt_id, json_value, resume_request_id):
        return copy_json(engine.view.interrupts[interrupt_id])  # type: ignore[no-any-return]
    await engine.durable()
    # Two calls in this process decide one after the other; calls in other
    # processes are decided by the log (the append at the expected head).
    async with engine.claim_lock():
        return await _continue(engine, interrupt_id, json_value, resume_request_id)


def _closed_retry(
    engine: ExecutionEngine,
    interrupt_id: str,
    value: Any,
    resume_request_id: str | None,
) -> bool:
    """On a closed execution: True for an idempotent retry, else raise why not.

    An idempotent retry repeats a resume that happened (same
    ``resume_request_id`` and value); it returns the record even after the close.
    """
    view = engine.view
    if view.lifecycle != LifecycleState.CLOSED:
        return False
    record = view.interrupts.get(interrupt_id)
    if (
        record is not None
        and resume_request_id is not None
        and record.get("resume_request_id") == resume_request_id
        and already_settled(engine, record, interrupt_id, value, resume_request_id)
    ):
        return True
    if record is None:
        detail = f"it has no interrupt {interrupt_id!r}"
    else:
        by = record.get("resolved_by") or "a continue_with"
        how = (
            f"cancelled ({record.get('cancelled_reason')})"
            if record.get("status") == "cancelled"
            else f"resolved by {by}"
        )
        detail = (
            f"interrupt {interrupt_id!r} is not waiting: it was {how} at seq "
            f"{record.get('resolved_seq')}"
        )
    raise ExecutionClosedError(
        engine.id, view.status, f"continue_with({interrupt_id!r})", detail
    )


async def _continue(
    engine: ExecutionEngine,
    interrupt_id: str,
    json_value: Any,
    resume_request_id: str | None,
) -> dict[str, Any]:
    for _ in range(5):
        # Checked on every pass: another process may have closed it meanwhile.
        if _closed_retry(engine, interrupt_id, json_value, resume_request_id):
            return copy_json(engine.view.interrupts[interrupt_id])  # type: ignore[no-any-return]
        record = engine.view.interrupts.get(interrupt_id)
        if already_settled(engine, record, interrupt_id, json_value, resume_request_id):
            return copy_json(record)  # type: ignore[no-any-return]
        assert record is not None
        schema = record.get("response_payload_schema")
        if schema is not None:
            problem = validation_error(json_value, schema)
            if problem:
                raise ResumeValueError(
                    f"execution {engine.id!r}: continue_with({interrupt_id!r}) value does "
                    f"not match response_payload_schema: {problem}; nothing was written"
                )
        if record.get("sub_flow"):
            await continue_projected(engine, record, json_value, resume_request_id)
            return copy_json(engine.view.interrupts[interrupt_id])  # type: ignore[no-any-return]
        emits = resume_signals(engine, record, json_value)
        event = InterruptResolved(
            interrupt_id=interrupt_id,
            value=json_value,
            resume_request_id=resume_request_id,
            resolved_by=engine.lease.owner,
            emits=emits,
        )
        try:
            await engine.journal.record_confirmed(
                event, busy=any(s["targets"] for s in emits)
            )
        except ConcurrencyError:
            # Someone else appended first (another process resolving it?): read
            # the log again and decide on what it now says.
            if not engine.refresh_from_log():
                raise
            continue
        for signal in emits:
            engine.spawn(signal)
        for signal in emits:
            if signal["targets"]:
                await engine.wait_cascade(signal["cascade"])
        await engine.durable()
        return copy_json(engine.view.interrupts[interrupt_id])  # type: ignore[no-any-return]
    raise InterruptError(
        f"execution {engine.id!r}: continue_with({interrupt_id!r}) kept conflicting"
    )


async def continue_projected(
    parent: ExecutionEngine,
    record: dict[str, Any],
    value: Any,
    resume_request_id: str | None,
) -> None:
    """Resume a child through its projected interrupt; finish the frame if it ends."""
    child = attach_child(parent, record["sub_flow"]["child_id"])
    local_id = record["sub_flow"]["local_interrupt_id"]
    if child.view.lifecycle == LifecycleState.CLOSED:
        # Another process resumed it and the child ran to its end: this parent's
        # view is older than the log. Say who did, as for any settled interrupt.
        refuse_settled(child, local_id, value, resume_request_id)
        return
    failure: BaseException | None = None
    try:
        await continue_interrupt(child, local_id, value, resume_request_id)
    except ExecutionClosedError:
        # The child closed meanwhile: not resolved here; say who settled it.
        refuse_settled(child, local_id, value, resume_request_id)
        return
    except (InterruptError, StoreError):
        raise  # not resolved here (another process won, or the log refused it)
    except Exception as child_failure:  # noqa: BLE001 - the resumed child failed
        failure = child_failure
    parent.record(
        InterruptResolved(
            interrupt_id=record["id"],
            value=value,
            resume_request_id=resume_request_id,
            via="sub_flow",
            resolved_by=parent.lease.owner,
        )
    )
    error = await drive_child(child, None)
    await finish_frame(parent, child, run=None, error=failure or error)
    await parent.durable()
    if failure is not None:
        raise failure
