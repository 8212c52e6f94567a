"""Errors raised while wiring a flow or loading a saved execution: the definition or its contract is wrong."""

from __future__ import annotations

from orchestrator.errors.base import OrchestratorError

__all__ = [
    "DefinitionMismatchError",
    "ExecutionIdError",
    "FlowDefinitionError",
    "SnapshotContractError",
]


class FlowDefinitionError(OrchestratorError, ValueError):
    """The flow definition is invalid: raised while wiring, never while running."""


class ExecutionIdError(OrchestratorError, ValueError):
    """An execution id that could collide with another stream namespace, or is not text."""

    def __init__(self, execution_id: object, reason: str) -> None:
        self.execution_id = execution_id
        self.reason = reason
        super().__init__(
            f"execution id {execution_id!r} is refused: {reason}. Use 1-128 ASCII "
            "letters, digits, '-', '_' or '.', starting with a letter or digit "
            "(or pass no id for a random one); nothing was written."
        )


class SnapshotContractError(OrchestratorError, ValueError):
    """A saved execution does not satisfy the load contract."""


class DefinitionMismatchError(SnapshotContractError):
    """The stored execution was created by a different flow definition."""

    def __init__(
        self,
        execution_id: str,
        recorded: str,
        current: str,
        first_difference: str,
    ) -> None:
        self.execution_id = execution_id
        self.recorded = recorded
        self.current = current
        self.first_difference = first_difference
        super().__init__(
            f"execution {execution_id!r}: flow definition fingerprint mismatch: the log "
            f"recorded {recorded} but this flow is {current} (first difference: "
            f"{first_difference}). Let old executions finish on the old code, or pass "
            "allow_definition_change=True to continue on the new definition (recorded)."
        )
