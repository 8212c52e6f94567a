"""Signals and chunk runs: what moves an execution forward."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from orchestrator.events.base import Event, event_type

if TYPE_CHECKING:
    from orchestrator.events.records import ErrorRecord, JoinUpdate, SignalRecord

__all__ = [
    "ChunkCompleted",
    "ChunkFailed",
    "ChunkStarted",
    "SignalEmitted",
    "SignalRejected",
]


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class SignalEmitted(Event):
    """A signal entered the execution: START, an emit, a state or flow_data change.

    When a chunk run emits it, ``run_id``/``op`` are the operation's key.
    """

    type_name: ClassVar[str] = "signal.emitted"

    signal: SignalRecord
    run_id: str | None = None
    op: int | None = None


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class SignalRejected(Event):
    """An external signal refused by the lifecycle (sealed or closed)."""

    type_name: ClassVar[str] = "signal.rejected"

    event: str
    lifecycle: str


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkStarted(Event):
    """A chunk run began (attempt ``attempt``) on the signal it listens to."""

    type_name: ClassVar[str] = "chunk.started"

    run_id: str
    op_id: str
    chunk: str
    signal_id: str
    attempt: int = 1


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkCompleted(Event):
    """A run finished: the signals it emits next and any join progress, atomically."""

    type_name: ClassVar[str] = "chunk.completed"

    run_id: str
    emits: list[SignalRecord] = field(default_factory=list)
    join: JoinUpdate | None = None


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkFailed(Event):
    """A run raised. Unless ``skipped``, the execution is failed."""

    type_name: ClassVar[str] = "chunk.failed"

    run_id: str
    error: ErrorRecord
    skipped: bool = False
