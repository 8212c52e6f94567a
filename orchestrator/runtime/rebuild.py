"""Rebuilding executions from the log, and listing them from the index."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.errors import (
    DefinitionMismatchError,
    ExecutionNotFoundError,
    FlowDefinitionError,
    StorageCorruptError,
)
from orchestrator.events.execution import ExecutionCreated, SnapshotTaken
from orchestrator.projection.execution import ExecutionView, LifecycleState
from orchestrator.projection.projector import fold
from orchestrator.projection.summary import EXECUTION_KINDS, ExecutionSummary

if TYPE_CHECKING:
    from orchestrator.runtime.host import FlowHost
    from orchestrator.store.base import EventStore, StreamInfo

__all__ = [
    "check_definition",
    "ExecutionSummary",
    "read_view",
    "rebuild_view",
    "summaries",
]


def summaries(
    store: EventStore, flow_name: str, status: str | list[str] | None, limit: int | None
) -> list[ExecutionSummary]:
    """Executions (and sub-flow children) of a flow, newest update first."""
    infos = [
        info
        for kind in EXECUTION_KINDS
        for info in store.list_streams(
            kind=kind, flow_name=flow_name, status=status, limit=limit
        )
    ]
    infos.sort(key=lambda i: (-i.updated_at, i.stream_id))
    result = [ExecutionSummary.from_info(i) for i in infos]
    return result[:limit] if limit is not None else result


def read_view(store: EventStore, execution_id: str) -> tuple[ExecutionView, StreamInfo]:
    """Fold an execution stream (from its latest snapshot)."""
    info = store.get_stream(execution_id)
    if info is None:
        raise ExecutionNotFoundError(execution_id, store.url)
    if info.kind not in EXECUTION_KINDS:
        first = store.read_stream(execution_id, 1, 1)
        if first and first[0].type in (
            ExecutionCreated.type_name,
            SnapshotTaken.type_name,
        ):
            # The log says execution, the (unchecksummed) index row says not.
            raise StorageCorruptError(
                f"stream {execution_id!r}: the streams index says kind {info.kind!r} "
                f"but its log starts with {first[0].type} at seq 1: the index row is "
                "damaged (the events are intact). Restore the file from a backup."
            )
        raise FlowDefinitionError(
            f"stream {execution_id!r} is a {info.kind} stream, not an execution"
        )
    start = info.snapshot_seq if info.snapshot_seq > 0 else 1
    events = store.read_stream(execution_id, from_seq=start)
    if start > 1 and (not events or events[0].type != SnapshotTaken.type_name):
        # The index row carries no checksum: a snapshot_seq that does not point
        # at a snapshot is damage there, not in the log. Folding from seq 1 is
        # always right (a snapshot only saves time); a bit flip found this.
        events = store.read_stream(execution_id)
    view = fold(execution_id, events)
    return view, info


def check_definition(host: FlowHost, view: ExecutionView, allow_change: bool) -> None:
    """Refuse to continue an execution under a different definition (unless allowed)."""
    current = host.definition.fingerprint
    if (
        view.fingerprint == current
        or allow_change
        or view.lifecycle == LifecycleState.CLOSED
    ):
        return
    recorded = host.flow_data.view.definitions.get(view.fingerprint)
    difference = (
        host.definition.first_difference(recorded)
        if recorded is not None
        else "the recorded definition is not in the flow stream"
    )
    raise DefinitionMismatchError(
        view.execution_id, view.fingerprint, current, difference
    )


def rebuild_view(
    host: FlowHost, execution_id: str, *, allow_definition_change: bool
) -> ExecutionView:
    """The folded view of an execution of ``host``, checked against its definition."""
    view, _ = read_view(host.store, execution_id)
    if view.flow_name != host.name:
        raise FlowDefinitionError(
            f"execution {execution_id!r} belongs to flow {view.flow_name!r}, not "
            f"{host.name!r}; rebuild it with that flow"
        )
    check_definition(host, view, allow_definition_change)
    return view
