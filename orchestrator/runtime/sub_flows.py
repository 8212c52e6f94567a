"""Running sub-flow operators as child executions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.errors import FlowDefinitionError

if TYPE_CHECKING:
    from orchestrator.events.records import SignalRecord
    from orchestrator.flow.operators import Operator
    from orchestrator.projection.execution import RunRecord
    from orchestrator.runtime.engine import ExecutionEngine

__all__ = ["run_sub_flow"]


async def run_sub_flow(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    """Run a child execution for one parent run."""
    raise FlowDefinitionError("sub-flows are not available in this build yet")
