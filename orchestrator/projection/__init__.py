"""Replay: pure folds of streams into the three-layer model."""

from orchestrator.projection.execution import (
    ExecutionStatus,
    ExecutionView,
    LifecycleState,
    RunRecord,
)
from orchestrator.projection.flow_state import FlowStateView, flow_stream_id
from orchestrator.projection.projector import (
    apply,
    apply_flow,
    fold,
    fold_flow,
    run_id_for,
)

__all__ = [
    "ExecutionStatus",
    "ExecutionView",
    "FlowStateView",
    "LifecycleState",
    "RunRecord",
    "apply",
    "apply_flow",
    "flow_stream_id",
    "fold",
    "fold_flow",
    "run_id_for",
]
