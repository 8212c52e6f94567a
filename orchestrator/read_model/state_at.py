"""State at an event: an execution's three-layer view after any seq of its stream.

Exact by construction: the view is the library's own fold of the stream prefix
``1..seq``. Fast because the fold starts at the nearest ``execution.snapshot``
event at or before ``seq`` (the runtime writes one every ``snapshot_every``
events; folding from a snapshot equals folding from seq 1, since the snapshot
handler restores the whole view). ``flow_state`` is the flow stream folded up to
the global position of that event, so it is the flow data as it was then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ExecutionNotFoundError, OrchestratorError
from orchestrator.events.execution import SnapshotTaken
from orchestrator.projection.flow_state import (
    FlowStateView,
    child_flow_stream_id,
    flow_stream_id,
)
from orchestrator.projection.paths import copy_json
from orchestrator.projection.projector import fold, fold_flow
from orchestrator.projection.summary import EXECUTION_KINDS

if TYPE_CHECKING:
    from orchestrator.events.values import JsonValue
    from orchestrator.projection.execution import ExecutionView
    from orchestrator.store.base import EventStore, StoredEvent, StreamInfo

__all__ = ["ExecutionState", "SeqOutOfRangeError", "state_at", "view_at"]

# How far back one read looks for a snapshot: small, so that little more than
# the events to fold is read (the runtime writes one about every 1,000 events).
_WINDOW = 256


class SeqOutOfRangeError(OrchestratorError, ValueError):
    """A seq outside ``1..last_seq`` of an execution stream."""

    def __init__(self, execution_id: str, seq: int, last_seq: int) -> None:
        self.execution_id = execution_id
        self.seq = seq
        self.last_seq = last_seq
        super().__init__(
            f"execution {execution_id!r} has events 1..{last_seq}; there is no "
            f"seq {seq}"
        )


@dataclass(frozen=True, slots=True)
class ExecutionState:
    """An execution's three layers as they were after event ``seq``.

    ``interrupts`` are the waiting ones with their full records; ``runs`` the
    runs in flight (owed or started); ``children`` the sub-flow children the
    execution had started, with their frame status; ``view`` the whole fold.
    """

    execution_id: str
    seq: int
    position: int
    created_at: float
    flow_name: str
    kind: str
    parent_id: str | None
    status: str
    lifecycle: str
    close_reason: str | None
    state: dict[str, JsonValue]
    flow_state: dict[str, JsonValue]
    interrupts: dict[str, dict[str, Any]]
    runs: list[dict[str, JsonValue]]
    children: dict[str, str]
    resource_keys: list[str]
    errors: list[dict[str, Any]]
    view: ExecutionView

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``triggerlog state --json``; the view is left out)."""
        return {
            "execution_id": self.execution_id,
            "seq": self.seq,
            "position": self.position,
            "created_at": self.created_at,
            "flow_name": self.flow_name,
            "kind": self.kind,
            "parent_id": self.parent_id,
            "status": self.status,
            "lifecycle": self.lifecycle,
            "close_reason": self.close_reason,
            "state": copy_json(self.state),
            "flow_state": copy_json(self.flow_state),
            "interrupts": copy_json(self.interrupts),
            "runs": copy_json(self.runs),
            "children": dict(self.children),
            "resource_keys": list(self.resource_keys),
            "errors": copy_json(self.errors),
        }


def _execution_info(store: EventStore, execution_id: str) -> StreamInfo:
    info = store.get_stream(execution_id)
    if info is None or info.kind not in EXECUTION_KINDS:
        raise ExecutionNotFoundError(execution_id, store.url)
    return info


def _from_nearest_snapshot(
    store: EventStore, info: StreamInfo, seq: int
) -> list[StoredEvent]:
    """Events ``k..seq`` where ``k`` is the last snapshot at or before ``seq`` (else 1)."""
    sid = info.stream_id
    snap = SnapshotTaken.type_name
    if 0 < info.snapshot_seq <= seq:
        # The index row names the latest snapshot: if it is at or before seq, it
        # is the nearest. It carries no checksum, so check that it is one.
        events = store.read_stream(sid, info.snapshot_seq, seq)
        if events and events[0].type == snap:
            return events
    windows: list[list[StoredEvent]] = []
    high = seq
    while high >= 1:
        low = max(1, high - _WINDOW + 1)
        window = store.read_stream(sid, low, high)
        for index in range(len(window) - 1, -1, -1):
            if window[index].type == snap:
                found = window[index:]
                for later in reversed(windows):
                    found.extend(later)
                return found
        windows.append(window)
        high = low - 1
    return [event for window in reversed(windows) for event in window]


def view_at(
    store: EventStore, execution_id: str, seq: int | None = None
) -> tuple[ExecutionView, StoredEvent]:
    """The folded view after ``seq`` (default: the last event) and that event.

    Equal to folding the prefix ``1..seq``; reads from the nearest snapshot.
    """
    info = _execution_info(store, execution_id)
    last = info.last_seq
    target = last if seq is None else seq
    if not 1 <= target <= last:
        raise SeqOutOfRangeError(execution_id, target, last)
    events = _from_nearest_snapshot(store, info, target)
    if not events or events[-1].seq != target:
        raise SeqOutOfRangeError(execution_id, target, events[-1].seq if events else 0)
    return fold(execution_id, events), events[-1]


def _flow_data_at(
    store: EventStore, stream_id: str, flow_name: str, position: int
) -> FlowStateView:
    """The flow stream folded over its events at or before global ``position``."""
    info = store.get_stream(stream_id)
    view = FlowStateView(flow_name)
    if info is None or info.last_seq == 0:
        return view
    # Positions grow with seq in a stream: find the last seq at or before
    # ``position`` by bisection with one-event reads, then fold up to it.
    low, high = 0, info.last_seq
    while low < high:
        middle = (low + high + 1) // 2
        probe = store.read_stream(stream_id, middle, middle)
        if probe and probe[0].position <= position:
            low = middle
        else:
            high = middle - 1
    if low == 0:
        return view
    return fold_flow(flow_name, store.read_stream(stream_id, 1, low), view)


def state_at(
    store: EventStore, execution_id: str, seq: int | None = None
) -> ExecutionState:
    """The execution's three-layer view after event ``seq`` (default: the last).

    ``ExecutionNotFoundError`` for an unknown id, ``SeqOutOfRangeError`` for a seq
    outside ``1..last_seq``.
    """
    view, event = view_at(store, execution_id, seq)
    parent = view.parent or {}
    parent_id = parent.get("execution_id") if view.kind == "child" else None
    flow_stream = (
        child_flow_stream_id(view.flow_name, execution_id)
        if view.kind == "child"
        else flow_stream_id(view.flow_name)
    )
    flow = _flow_data_at(store, flow_stream, view.flow_name, event.position)
    return ExecutionState(
        execution_id=execution_id,
        seq=event.seq,
        position=event.position,
        created_at=event.created_at,
        flow_name=view.flow_name,
        kind=view.kind,
        parent_id=parent_id if isinstance(parent_id, str) else None,
        status=view.status,
        lifecycle=view.lifecycle,
        close_reason=view.close_reason,
        state=copy_json(view.state),
        flow_state=copy_json(flow.flow_data),
        interrupts={
            k: copy_json(r)
            for k, r in view.interrupts.items()
            if r.get("status") == "waiting"
        },
        runs=[
            {
                "run_id": r.run_id,
                "op_id": r.op_id,
                "chunk": r.chunk,
                "status": r.status,
                "attempt": r.attempt,
            }
            for r in view.runs.values()
        ],
        children={cid: str(f.get("status")) for cid, f in view.frames.items()},
        resource_keys=sorted(view.resource_keys),
        errors=copy_json(view.errors),
        view=view,
    )
