"""The read model: executions and their events as people read them, shared by the CLI and the console.

``triggerlog list`` / ``show`` and the operator console (``tui/``) read through
these functions, so both describe an execution and its events in the same words.
Everything here only reads: the streams index for listings (no payload is read),
and one execution's stream, in one short read transaction per call, folded with
the library's own projection, so a view here is exactly what a rebuild from the
log gives. No SQL and no backend: callers hand in an
:class:`~orchestrator.EventStore` (open SQLite files read-only to be sure nothing
writes). See docs/api.md §12.
"""

from orchestrator.read_model.describe import (
    describe,
    format_time,
    short_event_name,
    short_value,
)
from orchestrator.read_model.diff import (
    JsonChange,
    ViewDiff,
    apply_changes,
    diff_json,
    diff_states,
    format_path,
)
from orchestrator.read_model.executions import (
    EXECUTION_KINDS,
    EventRow,
    ExecutionHistory,
    ExecutionRow,
    list_executions,
    read_history,
)
from orchestrator.read_model.state_at import (
    ExecutionState,
    SeqOutOfRangeError,
    state_at,
    view_at,
)
from orchestrator.read_model.timeline import HistoryEvent, read_events

__all__ = [
    "EXECUTION_KINDS",
    "EventRow",
    "ExecutionHistory",
    "ExecutionRow",
    "ExecutionState",
    "HistoryEvent",
    "JsonChange",
    "SeqOutOfRangeError",
    "ViewDiff",
    "apply_changes",
    "describe",
    "diff_json",
    "diff_states",
    "format_path",
    "format_time",
    "list_executions",
    "read_events",
    "read_history",
    "short_event_name",
    "short_value",
    "state_at",
    "view_at",
]
