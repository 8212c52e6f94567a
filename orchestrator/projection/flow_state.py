"""FlowStateView: the fold of a flow's own stream (flow_data and definitions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.events.values import JsonValue

__all__ = ["FlowStateView", "child_flow_stream_id", "flow_stream_id"]


def flow_stream_id(flow_name: str) -> str:
    """The stream that holds the flow-shared data of ``flow_name``."""
    return f"flow:{flow_name}"


def child_flow_stream_id(flow_name: str, child_id: str) -> str:
    """The isolated flow-data stream of sub-flow child ``child_id`` of ``flow_name``."""
    return f"flow:{flow_name}/{child_id}"


@dataclass(slots=True)
class FlowStateView:
    """Flow-shared ``flow_data`` plus the definitions executions were created with."""

    flow_name: str
    flow_data: dict[str, JsonValue] = field(default_factory=dict)
    definitions: dict[str, dict[str, JsonValue]] = field(default_factory=dict)
    last_seq: int = 0
