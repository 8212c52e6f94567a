"""What ``flow.recover()`` did with each execution it looked at, and why.

Recovery handles every execution on its own: one that cannot be resumed
(another definition, a damaged log, anything) is skipped and reported with
what the operator can do, and the others are still recovered. The report is a
sequence of the recovered handles, so code written when ``recover()`` returned
a plain list keeps working; ``report.outcomes`` says the rest.

Each outcome is also logged under ``triggerlog.recovery``: ids, outcomes and
reasons only, never a payload value (an unexpected error is logged by type).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, overload

from orchestrator.errors import (
    DefinitionMismatchError,
    MissingResourceError,
    OrchestratorError,
    ReplayError,
    StorageCorruptError,
    StoreError,
    UnknownEventTypeError,
)

if TYPE_CHECKING:
    from orchestrator.runtime.execution import TriggerFlowExecution

__all__ = ["LOGGER", "RecoveryOutcome", "RecoveryReport", "skipped_outcome"]

LOGGER = logging.getLogger("triggerlog.recovery")


@dataclass(frozen=True, slots=True)
class RecoveryOutcome:
    """What recovery did with one execution.

    ``outcome`` is ``recovered`` (this process now runs it: its handle is in
    the report), ``held_elsewhere`` (another live process runs it; left alone)
    or ``skipped`` (it could not be resumed; ``error`` says why). ``reason``
    explains in words, ``action`` is the operator's next step.
    """

    execution_id: str
    outcome: Literal["recovered", "held_elsewhere", "skipped"]
    reason: str
    action: str
    error: Exception | None = None


@dataclass(frozen=True, slots=True)
class RecoveryReport(Sequence["TriggerFlowExecution"]):
    """The result of ``recover()``: the recovered handles, plus every outcome.

    Iterating, indexing, ``len`` and unpacking see the recovered handles
    (oldest first), as the list ``recover()`` used to return did.
    """

    recovered: tuple[TriggerFlowExecution, ...]
    outcomes: tuple[RecoveryOutcome, ...]

    @property
    def skipped(self) -> tuple[RecoveryOutcome, ...]:
        """The executions that could not be recovered, with why and what to do."""
        return tuple(o for o in self.outcomes if o.outcome == "skipped")

    @property
    def held_elsewhere(self) -> tuple[RecoveryOutcome, ...]:
        """The executions another live process runs (left alone)."""
        return tuple(o for o in self.outcomes if o.outcome == "held_elsewhere")

    def __len__(self) -> int:
        return len(self.recovered)

    def __iter__(self) -> Iterator[TriggerFlowExecution]:
        return iter(self.recovered)

    @overload
    def __getitem__(self, index: int) -> TriggerFlowExecution: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[TriggerFlowExecution, ...]: ...

    def __getitem__(
        self, index: int | slice
    ) -> TriggerFlowExecution | tuple[TriggerFlowExecution, ...]:
        return self.recovered[index]

    def log(self, flow_name: str) -> None:
        """Log every outcome and a summary under ``triggerlog.recovery``."""
        for outcome in self.outcomes:
            level = logging.WARNING if outcome.outcome == "skipped" else logging.INFO
            LOGGER.log(
                level,
                "flow %r: execution %r %s: %s. Next: %s",
                flow_name,
                outcome.execution_id,
                outcome.outcome,
                _loggable_reason(outcome).rstrip("."),
                outcome.action,
            )
        LOGGER.log(
            logging.WARNING if self.skipped else logging.INFO,
            "flow %r: recovery done: %d recovered, %d held by another process, "
            "%d skipped",
            flow_name,
            len(self.recovered),
            len(self.held_elsewhere),
            len(self.skipped),
        )


def _loggable_reason(outcome: RecoveryOutcome) -> str:
    """The reason, unless it is the message of an error we did not write.

    Our errors' messages name ids, seqs, types and fingerprints; any other
    exception's message could quote a payload value, so only its type is logged
    (the report itself keeps the full message).
    """
    error = outcome.error
    if error is None or isinstance(error, OrchestratorError):
        return outcome.reason
    return f"{type(error).__name__} (message not logged; see the report)"


def skipped_outcome(execution_id: str, error: Exception) -> RecoveryOutcome:
    """The outcome of an execution whose recovery raised ``error``."""
    return RecoveryOutcome(
        execution_id,
        "skipped",
        f"{type(error).__name__}: {error}",
        _action_for(error),
        error,
    )


def _action_for(error: Exception) -> str:
    if isinstance(error, DefinitionMismatchError):
        return (
            "recover it in a process that runs the definition it was created "
            f"with ({error.recorded}); or, if the new definition can continue "
            "it, flow.get_execution(id, allow_definition_change=True) (or "
            "recover(allow_definition_change=True)); or cancel it that way"
        )
    if isinstance(error, UnknownEventTypeError):
        return "recover it with the (newer) release that wrote the event"
    if isinstance(error, StorageCorruptError):
        return (
            "its log is damaged (`triggerlog show <id>` names the event): "
            "restore the database file from a backup; the other executions "
            "were recovered without it"
        )
    if isinstance(error, MissingResourceError):
        return "pass the missing resources in recover(runtime_resources=...)"
    if isinstance(error, ReplayError):
        return (
            "fix the code so that it replays the recorded history, then recover again"
        )
    if isinstance(error, StoreError):
        return "fix the store problem the error names, then call recover() again"
    return "fix the cause the error names, then call recover() again"
