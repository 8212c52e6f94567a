"""Sub-flow frames: a parent's record of a child execution it runs.

The child is a stream of its own (kind ``child``), whose id is derived from the
parent chunk run, so a re-executed parent run finds the existing child instead
of starting a second one. The parent never folds child events: it records when
the child started (with the captured values), when it waits (the interrupts it
projects), and when it completed (with the values written back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from orchestrator.events.base import Event, event_type

if TYPE_CHECKING:
    from orchestrator.events.records import SignalRecord
    from orchestrator.events.values import JsonValue

__all__ = ["SubFlowCancelled", "SubFlowCompleted", "SubFlowStarted", "SubFlowWaiting"]


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class SubFlowStarted(Event):
    """Operation ``op`` of ``run_id`` started child ``child_id`` of ``child_flow``."""

    type_name: ClassVar[str] = "sub_flow.started"

    run_id: str
    op: int
    child_id: str
    child_flow: str
    operator_id: str
    captured: dict[str, JsonValue]
    resource_keys: list[str] = field(default_factory=list)


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class SubFlowWaiting(Event):
    """The child waits on interrupts; ``interrupts`` are their parent projections."""

    type_name: ClassVar[str] = "sub_flow.waiting"

    child_id: str
    interrupts: dict[str, dict[str, Any]]


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class SubFlowCompleted(Event):
    """The child finished; ``state`` paths were written back and ``emits`` continue."""

    type_name: ClassVar[str] = "sub_flow.completed"

    child_id: str
    status: str
    state: dict[str, JsonValue] = field(default_factory=dict)
    emits: list[SignalRecord] = field(default_factory=list)
    run_id: str | None = None


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class SubFlowCancelled(Event):
    """The parent cancelled the child: no write-back, no continuation."""

    type_name: ClassVar[str] = "sub_flow.cancelled"

    child_id: str
    reason: str
