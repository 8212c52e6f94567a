"""ExecutionSummary: one execution as the streams index lists it (no payload read)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.store.base import StreamInfo

__all__ = ["EXECUTION_KINDS", "ExecutionSummary"]

EXECUTION_KINDS = ("execution", "child")


@dataclass(frozen=True, slots=True)
class ExecutionSummary:
    """One execution as the streams index lists it (no payload is read)."""

    execution_id: str
    flow_name: str | None
    status: str
    kind: str
    parent_id: str | None
    created_at: float
    updated_at: float
    last_seq: int
    owner: str | None

    @classmethod
    def from_info(cls, info: StreamInfo) -> ExecutionSummary:
        """Build from a streams-index row."""
        return cls(
            info.stream_id,
            info.flow_name,
            info.status,
            info.kind,
            info.parent_id,
            info.created_at,
            info.updated_at,
            info.last_seq,
            info.owner,
        )
