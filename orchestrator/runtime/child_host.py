"""ChildHost: how a sub-flow child sees its flow.

The child runs the child flow's definition and handlers, but writes to the
parent's store and clock, and has flow_data of its own (an isolated stream per
child execution): child mutations never change the parent except through
write_back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.projection.flow_state import child_flow_stream_id
from orchestrator.runtime.flow_data import FlowDataService

if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from orchestrator.clock import Clock
    from orchestrator.flow.definition import FlowDefinition
    from orchestrator.runtime.engine import ExecutionEngine
    from orchestrator.store.base import EventStore

__all__ = ["ChildHost"]


class ChildHost:
    """A FlowHost for one child execution of a sub-flow."""

    def __init__(self, parent: ExecutionEngine, child_flow: Any, child_id: str) -> None:
        self._parent = parent
        self._flow = child_flow
        self._engines: list[ExecutionEngine] = []
        self._flow_data = FlowDataService(
            self, stream_id=child_flow_stream_id(child_flow.name, child_id)
        )

    @property
    def name(self) -> str:
        """The child flow's name."""
        return str(self._flow.name)

    @property
    def definition(self) -> FlowDefinition:
        """The child flow's operators and handlers."""
        definition: FlowDefinition = self._flow.definition
        return definition

    @property
    def store(self) -> EventStore:
        """The parent's store: parent and child share one log."""
        return self._parent.store

    @property
    def clock(self) -> Clock:
        """The parent's clock."""
        return self._parent.clock

    @property
    def flow_data(self) -> FlowDataService:
        """The child's isolated flow_data."""
        return self._flow_data

    @property
    def flow_resources(self) -> MutableMapping[str, Any]:
        """The child flow's own flow-level resources (the parent's are not forwarded)."""
        resources: MutableMapping[str, Any] = self._flow.flow_resources
        return resources

    @property
    def skip_exceptions(self) -> bool:
        """The child flow's setting."""
        return bool(self._flow.skip_exceptions)

    @property
    def lease_ttl(self) -> float:
        """The parent's lease duration."""
        return float(self._parent.lease.ttl or 30.0)

    def live_engines(self) -> list[ExecutionEngine]:
        """Only this child: its flow_data is its own."""
        return list(self._engines)

    def register_engine(self, engine: ExecutionEngine) -> None:
        """The child engine is live."""
        if engine not in self._engines:
            self._engines.append(engine)

    def forget_engine(self, engine: ExecutionEngine) -> None:
        """The child engine closed (the parent keeps its frame)."""
        if engine in self._engines:
            self._engines.remove(engine)

    def sub_flow(self, op_id: str) -> Any:
        """A grandchild flow."""
        return self._flow.definition.sub_flows[op_id]
