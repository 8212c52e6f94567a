"""The interrupt side of the runtime data: ``pause_for`` and what a resumed chunk sees."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.errors import PauseNotReturnedError
from orchestrator.events.chunk import ChunkCompleted
from orchestrator.events.interrupt import InterruptCancelled
from orchestrator.projection.execution import op_kind, op_target
from orchestrator.projection.paths import copy_json
from orchestrator.runtime.interrupts import (
    TriggerFlowPauseSignal,
    default_interrupt_id,
    pending_interrupts,
    raise_interrupt,
)
from orchestrator.runtime.loop import run_sync

if TYPE_CHECKING:
    from orchestrator.events.records import SignalRecord
    from orchestrator.runtime.engine import ExecutionEngine
    from orchestrator.runtime.operations import RunOperations

__all__ = ["PauseMixin", "ResumeInfo"]


class ResumeInfo:
    """``data.resume``: the interrupt that resumed this chunk and the value given."""

    __slots__ = ("interrupt", "interrupt_id", "value")

    def __init__(
        self, interrupt_id: str, value: Any, interrupt: dict[str, Any] | None
    ) -> None:
        self.interrupt_id = interrupt_id
        self.value = value
        self.interrupt = interrupt

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of the resume information."""
        return {
            "interrupt_id": self.interrupt_id,
            "value": copy_json(self.value),
            "interrupt": copy_json(self.interrupt),
        }

    def __repr__(self) -> str:
        return f"ResumeInfo({self.interrupt_id!r}, value={self.value!r})"


class PauseMixin:
    """``pause_for``, ``is_resume``/``resume`` and interrupt queries on ``data``."""

    __slots__ = ()

    _ops: RunOperations
    _engine: ExecutionEngine
    _signal: SignalRecord

    async def async_pause_for(
        self,
        type: str = "pause",  # noqa: A002 - TriggerFlow's keyword
        payload: Any = None,
        resume_to: Any = None,
        resume_event: str | None = None,
        interrupt_id: str | None = None,
        max_resumes: int | None = 1,
        request_payload_schema: dict[str, Any] | None = None,
        response_payload_schema: dict[str, Any] | None = None,
        **extra: Any,
    ) -> TriggerFlowPauseSignal:
        """Pause this branch until ``continue_with``; return the signal to return.

        The interrupt is durable before this returns, so no other process can
        see it before it is in the log. Other branches keep running.
        """
        pause = self._pause(
            type,
            payload,
            resume_to,
            resume_event,
            interrupt_id,
            max_resumes,
            request_payload_schema,
            response_payload_schema,
            extra,
        )
        await self._engine.durable()
        return pause

    def pause_for(
        self,
        type: str = "pause",  # noqa: A002 - TriggerFlow's keyword
        payload: Any = None,
        resume_to: Any = None,
        resume_event: str | None = None,
        interrupt_id: str | None = None,
        max_resumes: int | None = 1,
        request_payload_schema: dict[str, Any] | None = None,
        response_payload_schema: dict[str, Any] | None = None,
        **extra: Any,
    ) -> TriggerFlowPauseSignal:
        """Synchronous :meth:`async_pause_for` (durable by the next boundary)."""
        args = (
            type,
            payload,
            resume_to,
            resume_event,
            interrupt_id,
            max_resumes,
            request_payload_schema,
            response_payload_schema,
            extra,
        )
        if self._ops.in_loop_thread():
            return self._pause(*args)
        assert self._engine.loop is not None
        return run_sync(self._pause_durably(*args), self._engine.loop)

    async def _pause_durably(self, *args: Any) -> TriggerFlowPauseSignal:
        pause = self._pause(*args)
        await self._engine.durable()
        return pause

    def _pause(
        self,
        kind: str,
        payload: Any,
        resume_to: Any,
        resume_event: str | None,
        interrupt_id: str | None,
        max_resumes: int | None,
        request_schema: Any,
        response_schema: Any,
        extra: dict[str, Any],
    ) -> TriggerFlowPauseSignal:
        run_id = self._ops.run.run_id
        index = self._ops.peek()
        chosen = interrupt_id or default_interrupt_id(run_id, index)
        index, recorded = self._ops.next("pause", chosen)
        if recorded is not None:
            self._note_pause(chosen)
            record = self._engine.view.interrupts.get(chosen, {})
            return TriggerFlowPauseSignal(
                interrupt_id=chosen,
                type=record.get("type", kind),
                payload=copy_json(record.get("payload")),
                status=record.get("status", "waiting"),
            )
        pause = raise_interrupt(
            self._engine,
            run_id,
            index,
            self._ops.op,
            self._signal,
            kind=kind,
            payload=payload,
            resume_to=resume_to,
            resume_event=resume_event,
            interrupt_id=chosen,
            max_resumes=max_resumes,
            explicit_id=interrupt_id is not None,
            request_payload_schema=request_schema,
            response_payload_schema=response_schema,
            extra=extra,
        )
        self._note_pause(chosen)
        return pause

    def _note_pause(self, interrupt_id: str) -> None:
        ops = self._ops
        if ops.paused is None:
            ops.paused = []
        ops.paused.append(interrupt_id)

    def is_pause_result(self, result: Any) -> bool:
        """True when a handler returned the signal of ``pause_for``."""
        return isinstance(result, TriggerFlowPauseSignal)

    def complete_paused(self, _result: Any) -> None:
        """The run ends with no continuation: its branch waits on the interrupt."""
        run = self._ops.run
        self._engine.finish_run(run, ChunkCompleted(run_id=run.run_id, emits=[]))

    def fail_unreturned_pause(self, result: Any) -> bool:
        """End a run that paused but returned ``result`` instead; False if it did not pause.

        Its branch must neither continue (the next chunk would run with whatever
        was returned, and again on a "next" resume) nor wait (nothing would ever
        continue it rightly): its waiting interrupts are cancelled and the run
        fails with PauseNotReturnedError, in one append.
        """
        paused = self._ops.paused
        if not paused:
            return False
        chunk = self._ops.op.name
        error = PauseNotReturnedError(
            self._engine.id, chunk, paused, type(result).__name__
        )
        self.fail_paused_run(error, f"chunk {chunk!r} did not return its pause signal")
        return True

    def fail_paused_run(self, error: BaseException, reason: str | None = None) -> None:
        """The run's final failure: its waiting interrupts are cancelled with it.

        A failed chunk's branch must not wait: a later ``continue_with`` would
        run the downstream of a chunk that failed. Every interrupt this run
        raised (in any attempt) and still waiting is cancelled in the same
        append as ``chunk.failed``. Only the final failure does this: a retried
        attempt replays its pause by key and must find it still waiting.
        """
        if reason is None:
            reason = f"chunk {self._ops.op.name!r} failed after pausing"
        self.cancel_run_interrupts(reason)
        self._engine.fail_run(self._ops.run, error)

    def cancel_run_interrupts(self, reason: str) -> None:
        """Cancel the interrupts this run raised that still wait (recorded, not flushed).

        Called as the run ends without its pause: failed, or completed with a
        value by a retry that did not pause again (the branch went on, so a
        resume would run its downstream a second time).
        """
        engine = self._engine
        run = self._ops.run
        for op in run.ops:
            if op_kind(op) != "pause":
                continue
            interrupt_id = op_target(op)
            record = engine.view.interrupts.get(interrupt_id)
            if (
                record is not None
                and record.get("status") == "waiting"
                and record.get("run_id") == run.run_id
            ):
                engine.record(
                    InterruptCancelled(interrupt_id=interrupt_id, reason=reason)
                )

    @property
    def is_resume(self) -> bool:
        """True when this chunk runs because an interrupt was continued."""
        return bool((self._signal.get("meta") or {}).get("resume"))

    @property
    def resume(self) -> ResumeInfo | None:
        """The interrupt id and value this chunk was resumed with (or None)."""
        info = (self._signal.get("meta") or {}).get("resume")
        if not info:
            return None
        record = self._engine.view.interrupts.get(info["interrupt_id"])
        return ResumeInfo(
            info["interrupt_id"], copy_json(info.get("value")), copy_json(record)
        )

    def get_pending_interrupts(self) -> dict[str, Any]:
        """Waiting interrupts of this execution, by id."""
        return pending_interrupts(self._engine.view)

    def get_interrupt(self, interrupt_id: str) -> dict[str, Any] | None:
        """One interrupt record (any status), or None."""
        record = self._engine.view.interrupts.get(interrupt_id)
        return copy_json(record) if record is not None else None

    def get_status(self) -> str:
        """The execution's status."""
        return self._engine.view.status

    def is_waiting(self) -> bool:
        """True while an interrupt of this execution waits."""
        return self._engine.view.status == "waiting"
