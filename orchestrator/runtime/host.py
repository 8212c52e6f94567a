"""What the runtime needs from a flow, as a Protocol (the facade sits above it).

The live set (``live_engines``, ``register_engine``, ``forget_engine``) names the
engine, so it is declared with the engine: :class:`~orchestrator.runtime.engine.EngineHost`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from orchestrator.clock import Clock
    from orchestrator.flow.definition import FlowDefinition
    from orchestrator.runtime.flow_data import FlowDataService
    from orchestrator.store.base import EventStore

__all__ = ["FlowHost"]


class FlowHost(Protocol):
    """A flow as seen by its executions."""

    @property
    def name(self) -> str:
        """The flow's name (its executions are listed under it)."""
        ...

    @property
    def definition(self) -> FlowDefinition:
        """Operators and handlers."""
        ...

    @property
    def store(self) -> EventStore:
        """The event store executions write to."""
        ...

    @property
    def clock(self) -> Clock:
        """Time source."""
        ...

    @property
    def flow_data(self) -> FlowDataService:
        """The flow-shared data layer."""
        ...

    @property
    def flow_resources(self) -> MutableMapping[str, Any]:
        """Flow-level runtime resources (defaults for every execution)."""
        ...

    @property
    def skip_exceptions(self) -> bool:
        """Default of ``create_execution(skip_exceptions=...)``."""
        ...

    @property
    def lease_ttl(self) -> float:
        """Seconds an execution lease outlives its last renewal."""
        ...

    def sub_flow(self, op_id: str) -> Any:
        """The child flow of a sub_flow operator."""
        ...
