"""Journaled steps, durable timers and retries: the events of exactly-once effects.

A step's result (or error) is recorded under the operation key of the chunk run
that performed it; a re-executed run gets the recorded result back instead of
calling the step again. Timers and retry backoffs record the wall time they wake
at, so a recovered execution wakes then, not a full duration later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from orchestrator.events.base import Event, event_type

if TYPE_CHECKING:
    from orchestrator.events.records import ErrorRecord
    from orchestrator.events.values import JsonValue

__all__ = ["ChunkRetrying", "StepCompleted", "StepFailed", "TimerFired", "TimerStarted"]


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class StepCompleted(Event):
    """Step ``name`` (operation ``op`` of ``run_id``) returned ``result``."""

    type_name: ClassVar[str] = "step.completed"

    run_id: str
    op: int
    name: str
    result: JsonValue


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class StepFailed(Event):
    """Step ``name`` raised; a later attempt of the run calls it again."""

    type_name: ClassVar[str] = "step.failed"

    run_id: str
    op: int
    name: str
    error: ErrorRecord


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class TimerStarted(Event):
    """``data.sleep``: the run sleeps until ``wake_at`` (epoch seconds)."""

    type_name: ClassVar[str] = "timer.started"

    run_id: str
    op: int
    wake_at: float


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired(Event):
    """The timer of operation ``op`` woke the run."""

    type_name: ClassVar[str] = "timer.fired"

    run_id: str
    op: int


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkRetrying(Event):
    """Attempt ``attempt`` failed; attempt ``attempt + 1`` starts at ``retry_at``."""

    type_name: ClassVar[str] = "chunk.retrying"

    run_id: str
    attempt: int
    error: ErrorRecord
    retry_at: float
