"""triggerlog: durable, event-sourced TriggerFlow orchestration on an SQLite log.

``from orchestrator import TriggerFlow`` gives Agently's TriggerFlow API with
every state write, emit, chunk step and interrupt appended to an event log, so an
execution can be rebuilt by replay in any process. The names below are the public
API; deep import paths (``orchestrator.runtime.engine`` ...) are not, except the
public modules ``orchestrator.events``, ``orchestrator.store``,
``orchestrator.testing``, ``orchestrator.read_model`` (reading executions, as the
CLI and the console do) and ``orchestrator.cli`` (the ``triggerlog`` command).
"""

from orchestrator.clock import Clock, FakeClock, SystemClock
from orchestrator.errors import (
    ChunkError,
    ChunkTimeoutError,
    ConcurrencyError,
    CorruptEventError,
    DefinitionMismatchError,
    ExecutionCancelledError,
    ExecutionClosedError,
    ExecutionHeldElsewhereError,
    ExecutionIdError,
    ExecutionNotFoundError,
    FlowDefinitionError,
    HistoryFormatError,
    InterruptError,
    InterruptNotWaitingError,
    LeaseLostError,
    LifecycleError,
    MissingResourceError,
    NondeterminismError,
    OrchestratorError,
    PauseNotAllowedError,
    PayloadError,
    PayloadTooLargeError,
    ReadOnlyStoreError,
    ResumeConflictError,
    ResumeLimitError,
    ResumeValueError,
    SchemaVersionError,
    SnapshotContractError,
    StorageCorruptError,
    StorageFullError,
    StorageIOError,
    StoreError,
    UnknownEventTypeError,
)
from orchestrator.flow.chunk import TriggerFlowChunk
from orchestrator.flow.process import TriggerFlowProcess
from orchestrator.flow.retry import RetryPolicy
from orchestrator.projection.execution import (
    ExecutionStatus,
    ExecutionView,
    LifecycleState,
)
from orchestrator.projection.summary import ExecutionSummary
from orchestrator.runtime.emits import UnheardEventWarning
from orchestrator.runtime.execution import LifecycleWarning, TriggerFlowExecution
from orchestrator.runtime.flow_data import FlowDataWarning
from orchestrator.runtime.interrupts import TriggerFlowPauseSignal
from orchestrator.runtime.recovery_report import RecoveryOutcome, RecoveryReport
from orchestrator.runtime.resources import RuntimeResources
from orchestrator.runtime.runners import ConditionResultWarning
from orchestrator.runtime.runtime_data import (
    TriggerFlowEventData,
    TriggerFlowRuntimeData,
)
from orchestrator.runtime.steps import step
from orchestrator.store.base import EventStore
from orchestrator.store.batch import PayloadSizeWarning
from orchestrator.store.memory import InMemoryEventStore
from orchestrator.store.sqlite import SQLiteEventStore
from orchestrator.trigger_flow import TriggerFlow

__all__ = [
    "ChunkError",
    "ChunkTimeoutError",
    "Clock",
    "ConcurrencyError",
    "ConditionResultWarning",
    "CorruptEventError",
    "DefinitionMismatchError",
    "EventStore",
    "ExecutionCancelledError",
    "ExecutionClosedError",
    "ExecutionHeldElsewhereError",
    "ExecutionIdError",
    "ExecutionNotFoundError",
    "ExecutionStatus",
    "ExecutionSummary",
    "ExecutionView",
    "FakeClock",
    "FlowDataWarning",
    "FlowDefinitionError",
    "HistoryFormatError",
    "InMemoryEventStore",
    "InterruptError",
    "InterruptNotWaitingError",
    "LeaseLostError",
    "LifecycleError",
    "LifecycleState",
    "LifecycleWarning",
    "MissingResourceError",
    "NondeterminismError",
    "OrchestratorError",
    "PauseNotAllowedError",
    "PayloadError",
    "PayloadSizeWarning",
    "PayloadTooLargeError",
    "ReadOnlyStoreError",
    "RecoveryOutcome",
    "RecoveryReport",
    "ResumeConflictError",
    "ResumeLimitError",
    "ResumeValueError",
    "RetryPolicy",
    "RuntimeResources",
    "SQLiteEventStore",
    "SchemaVersionError",
    "SnapshotContractError",
    "StorageCorruptError",
    "StorageFullError",
    "StorageIOError",
    "StoreError",
    "SystemClock",
    "TriggerFlow",
    "TriggerFlowChunk",
    "TriggerFlowEventData",
    "TriggerFlowExecution",
    "TriggerFlowPauseSignal",
    "TriggerFlowProcess",
    "TriggerFlowRuntimeData",
    "UnheardEventWarning",
    "UnknownEventTypeError",
    "step",
]
