"""Lifecycle events of an execution stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from orchestrator.events.base import Event, event_type

if TYPE_CHECKING:
    from orchestrator.events.values import JsonValue

__all__ = [
    "DefinitionChanged",
    "ExecutionCancelled",
    "ExecutionClosed",
    "ExecutionCreated",
    "ExecutionSealed",
    "ExecutionStarted",
    "SnapshotTaken",
]


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionCreated(Event):
    """The first event of every execution stream."""

    type_name: ClassVar[str] = "execution.created"

    flow_name: str
    fingerprint: str
    kind: str = "execution"
    resource_keys: list[str] = field(default_factory=list)
    auto_close: bool = False
    concurrency: int | None = None
    skip_exceptions: bool = False
    parent: dict[str, JsonValue] | None = None
    initial_state: dict[str, JsonValue] | None = None
    captured: dict[str, JsonValue] | None = None


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionStarted(Event):
    """``async_start`` ran: the START signal follows in the same append."""

    type_name: ClassVar[str] = "execution.started"


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionSealed(Event):
    """External signals are refused from here on; internal work may finish."""

    type_name: ClassVar[str] = "execution.sealed"

    reason: str = "close"


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionClosed(Event):
    """Closed: the state at this point is the close snapshot."""

    type_name: ClassVar[str] = "execution.closed"

    reason: str
    status: str


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionCancelled(Event):
    """Cancellation was requested; running chunks stop at their next await."""

    type_name: ClassVar[str] = "execution.cancelled"

    reason: str


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class DefinitionChanged(Event):
    """The execution continues on a definition other than the one it was created by."""

    type_name: ClassVar[str] = "execution.definition_changed"

    previous: str
    current: str


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotTaken(Event):
    """The whole execution view at this seq, so folds can start here."""

    type_name: ClassVar[str] = "execution.snapshot"

    view: dict[str, JsonValue]
