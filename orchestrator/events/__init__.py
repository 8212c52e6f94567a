"""Event types and the codec: pure data, no I/O (public for log consumers)."""

from orchestrator.events.base import EVENT_TYPES, Event, event_type
from orchestrator.events.chunk import (
    ChunkCompleted,
    ChunkFailed,
    ChunkStarted,
    SignalEmitted,
    SignalRejected,
)
from orchestrator.events.codec import decode, encode
from orchestrator.events.execution import (
    DefinitionChanged,
    ExecutionCancelled,
    ExecutionClosed,
    ExecutionCreated,
    ExecutionSealed,
    ExecutionStarted,
    SnapshotTaken,
)
from orchestrator.events.flow_state import (
    FlowDataAppended,
    FlowDataDeleted,
    FlowDataSet,
    FlowDataWritten,
    FlowDefined,
)
from orchestrator.events.interrupt import (
    InterruptCancelled,
    InterruptRaised,
    InterruptResolved,
)
from orchestrator.events.records import ErrorRecord, JoinUpdate, LayerMark, SignalRecord
from orchestrator.events.state import (
    ResourceKeyDeleted,
    ResourceKeySet,
    StateAppended,
    StateDeleted,
    StateSet,
)
from orchestrator.events.step import (
    ChunkRetrying,
    StepCompleted,
    StepFailed,
    TimerFired,
    TimerStarted,
)
from orchestrator.events.sub_flow import (
    SubFlowCancelled,
    SubFlowCompleted,
    SubFlowStarted,
    SubFlowWaiting,
)
from orchestrator.events.values import JsonValue, to_json_value

__all__ = [
    "EVENT_TYPES",
    "ChunkCompleted",
    "ChunkFailed",
    "ChunkRetrying",
    "ChunkStarted",
    "DefinitionChanged",
    "ErrorRecord",
    "Event",
    "ExecutionCancelled",
    "ExecutionClosed",
    "ExecutionCreated",
    "ExecutionSealed",
    "ExecutionStarted",
    "FlowDataAppended",
    "FlowDataDeleted",
    "FlowDataSet",
    "FlowDataWritten",
    "FlowDefined",
    "InterruptCancelled",
    "InterruptRaised",
    "InterruptResolved",
    "JoinUpdate",
    "JsonValue",
    "LayerMark",
    "ResourceKeyDeleted",
    "ResourceKeySet",
    "SignalEmitted",
    "SignalRecord",
    "SignalRejected",
    "SnapshotTaken",
    "StateAppended",
    "StateDeleted",
    "StateSet",
    "StepCompleted",
    "StepFailed",
    "SubFlowCancelled",
    "SubFlowCompleted",
    "SubFlowStarted",
    "SubFlowWaiting",
    "TimerFired",
    "TimerStarted",
    "decode",
    "encode",
    "event_type",
    "to_json_value",
]
