"""Errors of one chunk run: it raised, or ran past its timeout."""

from __future__ import annotations

from orchestrator.errors.base import OrchestratorError

__all__ = [
    "ChunkError",
    "ChunkTimeoutError",
]


class ChunkError(OrchestratorError):
    """A chunk raised; the error was recorded in the log and failed the execution."""

    def __init__(
        self,
        execution_id: str,
        chunk: str,
        error_type: str,
        error_message: str,
        seq: int | None = None,
    ) -> None:
        self.execution_id = execution_id
        self.chunk = chunk
        self.error_type = error_type
        self.error_message = error_message
        self.seq = seq
        where = f" (seq {seq})" if seq is not None else ""
        super().__init__(
            f"execution {execution_id!r}: chunk {chunk!r} raised "
            f"{error_type}: {error_message}{where}"
        )


class ChunkTimeoutError(OrchestratorError, TimeoutError):
    """A chunk attempt ran longer than its ``timeout=``."""

    def __init__(
        self, execution_id: str, chunk: str, timeout: float, attempt: int
    ) -> None:
        self.execution_id = execution_id
        self.chunk = chunk
        self.timeout = timeout
        self.attempt = attempt
        super().__init__(
            f"execution {execution_id!r}: chunk {chunk!r} attempt {attempt} did not "
            f"finish within its {timeout}s timeout and was cancelled; raise timeout= "
            "or give it a retry= policy"
        )
