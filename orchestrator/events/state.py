"""Writes to the execution-local ``state`` and changes of runtime-resource keys.

``run_id``/``op`` identify the operation inside a chunk run (None for writes from
outside a run); a re-executed run skips operations whose key is already logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from orchestrator.events.base import Event, event_type

if TYPE_CHECKING:
    from orchestrator.events.values import JsonValue

__all__ = [
    "ResourceKeyDeleted",
    "ResourceKeySet",
    "StateAppended",
    "StateDeleted",
    "StateSet",
]


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class StateSet(Event):
    """``state[key] = value`` (``key`` is a dot path)."""

    type_name: ClassVar[str] = "state.set"

    key: str
    value: JsonValue
    run_id: str | None = None
    op: int | None = None


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class StateAppended(Event):
    """``state[key].append(value)``; a missing key becomes ``[value]``, a scalar ``[old, value]``."""

    type_name: ClassVar[str] = "state.appended"

    key: str
    value: JsonValue
    run_id: str | None = None
    op: int | None = None


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class StateDeleted(Event):
    """``del state[key]`` (no-op when absent)."""

    type_name: ClassVar[str] = "state.deleted"

    key: str
    run_id: str | None = None
    op: int | None = None


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceKeySet(Event):
    """A chunk set a runtime resource: only its key enters the log."""

    type_name: ClassVar[str] = "resource.set"

    key: str
    run_id: str | None = None
    op: int | None = None


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceKeyDeleted(Event):
    """A chunk deleted a runtime resource."""

    type_name: ClassVar[str] = "resource.deleted"

    key: str
    run_id: str | None = None
    op: int | None = None
