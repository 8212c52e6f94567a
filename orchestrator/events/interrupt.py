"""Interrupts: a branch waits for a value from outside (human in the loop).

An interrupt is raised as an operation of the chunk run that paused (so a
re-executed run does not raise it twice) and resolved exactly once: the event
that resolves it also carries the signals it resumes, so the resolution and its
continuation are one atomic append.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from orchestrator.events.base import Event, event_type

if TYPE_CHECKING:
    from orchestrator.events.records import SignalRecord
    from orchestrator.events.values import JsonValue

__all__ = ["InterruptCancelled", "InterruptRaised", "InterruptResolved"]


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class InterruptRaised(Event):
    """Operation ``op`` of ``run_id`` paused its branch; ``interrupt`` is the record."""

    type_name: ClassVar[str] = "interrupt.raised"

    run_id: str | None
    op: int | None
    interrupt: dict[str, Any]


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class InterruptResolved(Event):
    """The interrupt was resolved with ``value``; ``emits`` resume the branch."""

    type_name: ClassVar[str] = "interrupt.resolved"

    interrupt_id: str
    value: JsonValue
    resume_request_id: str | None = None
    via: str = "continue_with"
    resolved_by: str | None = None
    emits: list[SignalRecord] = field(default_factory=list)


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class InterruptCancelled(Event):
    """The interrupt will never be resolved (closed with pending_interrupts="cancel")."""

    type_name: ClassVar[str] = "interrupt.cancelled"

    interrupt_id: str
    reason: str
