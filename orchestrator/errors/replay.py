"""Errors folding or re-executing a log this build cannot follow."""

from __future__ import annotations

from typing import Any

from orchestrator.errors.base import OrchestratorError

__all__ = [
    "HistoryFormatError",
    "NondeterminismError",
    "ReplayError",
    "UnknownEventTypeError",
]


class ReplayError(OrchestratorError):
    """The log cannot be folded by this build."""


class HistoryFormatError(ReplayError, ValueError):
    """An execution history document (export_history / triggerlog export) is malformed."""


class UnknownEventTypeError(ReplayError):
    """A stored event's type name is not registered in this build."""

    def __init__(self, stream_id: str, seq: int, type_name: str) -> None:
        self.stream_id = stream_id
        self.seq = seq
        self.type_name = type_name
        super().__init__(
            f"stream {stream_id!r} seq {seq}: unknown event type {type_name!r}; it "
            "was written by a newer triggerlog. Upgrade this process to read it."
        )


class NondeterminismError(ReplayError):
    """Re-executing a chunk run produced a different operation than the log recorded."""

    def __init__(
        self,
        execution_id: str,
        chunk: str,
        index: int,
        recorded: Any,
        attempted: Any,
        seq: int | None = None,
    ) -> None:
        self.execution_id = execution_id
        self.chunk = chunk
        self.index = index
        self.recorded = recorded
        self.attempted = attempted
        self.seq = seq
        at = f" seq {seq}" if seq is not None else ""
        super().__init__(
            f"execution {execution_id!r}{at}: chunk {chunk!r} operation #{index}: the "
            f"log recorded {recorded!r} but the re-run attempted {attempted!r}. The "
            "chunk is not deterministic in what it writes or emits (read time, "
            "randomness and I/O through data.step), or its code changed under a "
            "live execution."
        )
