"""Sub-flow operators: ``to_sub_flow(child, capture=..., write_back=...)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.errors import FlowDefinitionError

if TYPE_CHECKING:
    from orchestrator.flow.definition import FlowDefinition
    from orchestrator.flow.operators import Operator, SignalKey

__all__ = ["add_sub_flow"]


def add_sub_flow(
    definition: FlowDefinition, flow: Any, listen: SignalKey, **options: Any
) -> Operator:
    """Add a sub-flow operator (implemented with the sub-flow issue)."""
    raise FlowDefinitionError(
        f"flow {definition.name!r}: sub-flows are not available in this build yet"
    )
