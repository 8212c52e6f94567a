"""Errors of pause_for / continue_with."""

from __future__ import annotations

from orchestrator.errors.base import OrchestratorError
from orchestrator.errors.lifecycle import LifecycleError

__all__ = [
    "ExecutionClosedError",
    "InterruptError",
    "InterruptNotWaitingError",
    "PauseNotAllowedError",
    "PauseNotReturnedError",
    "ResumeConflictError",
    "ResumeLimitError",
    "ResumeValueError",
]


class InterruptError(OrchestratorError):
    """Base class of interrupt (pause_for / continue_with) errors."""


class InterruptNotWaitingError(InterruptError, ValueError):
    """continue_with on an interrupt that is not waiting."""


class ExecutionClosedError(LifecycleError, InterruptNotWaitingError):
    """``continue_with`` on a closed execution: nothing of it waits any more.

    Both a LifecycleError (the lifecycle refused it) and an
    InterruptNotWaitingError, so that code handling a lost resume race keeps
    working when the winner also closed the execution.
    """

    def __init__(
        self, execution_id: str, status: str, action: str, detail: str = ""
    ) -> None:
        self.execution_id = execution_id
        self.status = status
        self.action = action
        self.detail = detail
        why = f" ({detail})" if detail else ""
        super().__init__(
            f"execution {execution_id!r} is closed (status {status!r}); {action} was "
            f"refused and nothing was written{why}. A closed execution's interrupts "
            "can no longer be resumed: start a new execution instead."
        )


class ResumeConflictError(InterruptError, ValueError):
    """The same resume_request_id was used with a different value."""


class ResumeValueError(InterruptError, ValueError):
    """A resume value does not match the interrupt's response_payload_schema."""


class PauseNotAllowedError(InterruptError, RuntimeError):
    """pause_for was called where nobody holds a handle to resume it."""


class PauseNotReturnedError(InterruptError):
    """A chunk called pause_for but returned something other than its pause signal."""

    def __init__(
        self,
        execution_id: str,
        chunk: str,
        interrupt_ids: list[str],
        returned: str,
    ) -> None:
        self.execution_id = execution_id
        self.chunk = chunk
        self.interrupt_ids = interrupt_ids
        self.returned = returned
        super().__init__(
            f"execution {execution_id!r}: chunk {chunk!r} called pause_for (interrupt "
            f"{', '.join(map(repr, interrupt_ids))}) but returned {returned} instead of "
            "the pause signal, so its branch could neither wait nor continue. Return "
            "the result: `return await data.async_pause_for(...)` (in a sync handler "
            "`return data.pause_for(...)`). The interrupt was cancelled and this "
            "chunk run failed."
        )


class ResumeLimitError(InterruptError, RuntimeError):
    """A chunk resumed ``max_resumes`` times by ``resume_to="self"`` tried to pause again."""

    def __init__(
        self, execution_id: str, interrupt_id: str, resume_count: int, max_resumes: int
    ) -> None:
        self.execution_id = execution_id
        self.interrupt_id = interrupt_id
        self.resume_count = resume_count
        self.max_resumes = max_resumes
        super().__init__(
            f"execution {execution_id!r}: self resume limit reached for interrupt "
            f"{interrupt_id!r}: its branch was resumed {resume_count} time(s) "
            f"(max_resumes={max_resumes}), so it may not pause again. Pass a larger "
            "max_resumes (or None for no limit) to pause_for, or resume to 'next'."
        )
