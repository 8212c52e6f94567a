"""triggerlog: durable, event-sourced TriggerFlow orchestration on an SQLite log.

``from orchestrator import TriggerFlow`` gives Agently's TriggerFlow API with
every state write, emit, chunk step and interrupt appended to an event log, so an
execution can be rebuilt by replay in any process. The names below are the public
API; deep import paths (``orchestrator.runtime.engine`` ...) are not, except the
public subpackages ``orchestrator.events``, ``orchestrator.store`` and
``orchestrator.testing``.
"""

from orchestrator.clock import Clock, FakeClock, SystemClock
from orchestrator.errors import (
    ChunkError,
    ConcurrencyError,
    CorruptEventError,
    DefinitionMismatchError,
    ExecutionCancelledError,
    ExecutionNotFoundError,
    FlowDefinitionError,
    InterruptNotWaitingError,
    LeaseLostError,
    LifecycleError,
    MissingResourceError,
    NondeterminismError,
    OrchestratorError,
    PauseNotAllowedError,
    PayloadError,
    ResumeConflictError,
    SchemaVersionError,
    SnapshotContractError,
    StoreError,
    UnknownEventTypeError,
)
from orchestrator.flow.chunk import TriggerFlowChunk
from orchestrator.flow.process import TriggerFlowProcess
from orchestrator.projection.execution import (
    ExecutionStatus,
    ExecutionView,
    LifecycleState,
)
from orchestrator.runtime.execution import TriggerFlowExecution
from orchestrator.runtime.rebuild import ExecutionSummary
from orchestrator.runtime.resources import RuntimeResources
from orchestrator.runtime.runtime_data import (
    TriggerFlowEventData,
    TriggerFlowRuntimeData,
)
from orchestrator.store.base import EventStore
from orchestrator.store.memory import InMemoryEventStore
from orchestrator.store.sqlite import SQLiteEventStore
from orchestrator.trigger_flow import TriggerFlow

__all__ = [
    "ChunkError",
    "Clock",
    "ConcurrencyError",
    "CorruptEventError",
    "DefinitionMismatchError",
    "EventStore",
    "ExecutionCancelledError",
    "ExecutionNotFoundError",
    "ExecutionStatus",
    "ExecutionSummary",
    "ExecutionView",
    "FakeClock",
    "FlowDefinitionError",
    "InMemoryEventStore",
    "InterruptNotWaitingError",
    "LeaseLostError",
    "LifecycleError",
    "LifecycleState",
    "MissingResourceError",
    "NondeterminismError",
    "OrchestratorError",
    "PauseNotAllowedError",
    "PayloadError",
    "ResumeConflictError",
    "RuntimeResources",
    "SQLiteEventStore",
    "SchemaVersionError",
    "SnapshotContractError",
    "StoreError",
    "SystemClock",
    "TriggerFlow",
    "TriggerFlowChunk",
    "TriggerFlowEventData",
    "TriggerFlowExecution",
    "TriggerFlowProcess",
    "TriggerFlowRuntimeData",
    "UnknownEventTypeError",
]
