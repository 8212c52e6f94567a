"""Flow-shared ``flow_data`` (``flow_state``): its own stream per flow name.

The flow stream also records each definition (fingerprint and blueprint) that
executions were created with, so a mismatch can name the first differing chunk.
In an execution stream, :class:`FlowDataWritten` marks the operation of a chunk
run that changed flow_data, for exactly-once re-execution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from orchestrator.events.base import Event, event_type

if TYPE_CHECKING:
    from orchestrator.events.values import JsonValue

__all__ = [
    "FlowDataAppended",
    "FlowDataDeleted",
    "FlowDataSet",
    "FlowDataWritten",
    "FlowDefined",
]


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class FlowDefined(Event):
    """A definition of this flow that executions were created with."""

    type_name: ClassVar[str] = "flow.defined"

    fingerprint: str
    blueprint: dict[str, JsonValue]


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class FlowDataSet(Event):
    """``flow_data[key] = value``."""

    type_name: ClassVar[str] = "flow_data.set"

    key: str
    value: JsonValue
    execution_id: str | None = None


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class FlowDataAppended(Event):
    """``flow_data[key].append(value)``."""

    type_name: ClassVar[str] = "flow_data.appended"

    key: str
    value: JsonValue
    execution_id: str | None = None


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class FlowDataDeleted(Event):
    """``del flow_data[key]``."""

    type_name: ClassVar[str] = "flow_data.deleted"

    key: str
    execution_id: str | None = None


@event_type
@dataclass(frozen=True, slots=True, kw_only=True)
class FlowDataWritten(Event):
    """In an execution stream: operation ``op`` of ``run_id`` changed flow_data ``key``."""

    type_name: ClassVar[str] = "flow_data.written"

    action: str
    key: str
    run_id: str | None = None
    op: int | None = None
