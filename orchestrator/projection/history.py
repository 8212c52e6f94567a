"""Execution histories as JSON documents: export one from a store, import one into a store.

A history holds every stream an execution's replay needs: the execution's own
stream, its sub-flow children (recursively) and the flow streams of every flow
involved (flow_data and the recorded definitions). Payloads are JSON values, not
bytes, so a history reads and diffs as text: it is what goes into a bug report,
and what golden-history tests replay against new code (docs/testing.md).

Importing is all-or-nothing: every event is decoded (known type, current
upcasters) before anything is written, and all streams go in as one atomic
append at seq 1, so a store that already holds one of them raises
:class:`~orchestrator.errors.ConcurrencyError` and keeps nothing of the import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from orchestrator.errors import (
    ConcurrencyError,
    CorruptEventError,
    ExecutionNotFoundError,
    HistoryFormatError,
    OrchestratorError,
)
from orchestrator.events.codec import decode
from orchestrator.events.execution import SnapshotTaken
from orchestrator.projection.execution import ExecutionView
from orchestrator.projection.flow_state import (
    FlowStateView,
    child_flow_stream_id,
    flow_stream_id,
)
from orchestrator.projection.history_tree import (
    HISTORY_FORMAT,
    check_folded,
    check_tree,
    format_error,
)
from orchestrator.projection.projector import apply, apply_flow
from orchestrator.projection.summary import EXECUTION_KINDS
from orchestrator.store.base import AppendRequest, NewEvent, StreamMeta

if TYPE_CHECKING:
    from orchestrator.store.base import EventStore, StreamInfo

__all__ = [
    "HISTORY_FORMAT",
    "PreparedHistory",
    "export_history",
    "import_history",
    "prepare_history",
    "write_history",
]

_SNAPSHOT_TYPE = SnapshotTaken.type_name


def export_history(
    store: EventStore, execution_id: str, *, commits: list[int] | None = None
) -> dict[str, Any]:
    """The history of ``execution_id`` as a JSON-ready dict (see the module doc).

    ``commits`` optionally lists the positions at which append units ended, so
    that tests can cut the history only where a crash could have cut it. Each
    stream is read in its own short transaction: export a settled execution
    (closed, or idle/waiting), not one another process is appending to.
    """
    root = store.get_stream(execution_id)
    if root is None or root.kind not in EXECUTION_KINDS:
        raise ExecutionNotFoundError(execution_id, store.url)
    infos = _descendants(store, root)
    flows = sorted({i.flow_name for i in infos if i.flow_name is not None})
    # A child's flow data is isolated on a stream of its own: part of its tree.
    flow_ids = [flow_stream_id(name) for name in flows] + [
        child_flow_stream_id(i.flow_name, i.stream_id)
        for i in infos
        if i.kind == "child" and i.flow_name is not None
    ]
    for stream_id in flow_ids:
        info = store.get_stream(stream_id)
        if info is not None:
            infos.append(info)
    streams = [_export_stream(store, info) for info in infos]
    document: dict[str, Any] = {
        "format": HISTORY_FORMAT,
        "execution_id": execution_id,
        "flow_name": root.flow_name,
        "streams": streams,
    }
    if commits is not None:
        document["commits"] = sorted(commits)
    return document


def _descendants(store: EventStore, root: StreamInfo) -> list[StreamInfo]:
    found, queue = [root], [root]
    while queue:
        parent = queue.pop(0)
        children = store.list_streams(kind="child", parent_id=parent.stream_id)
        children.sort(key=lambda i: (i.created_at, i.stream_id))
        found.extend(children)
        queue.extend(children)
    return found


def _export_stream(store: EventStore, info: StreamInfo) -> dict[str, Any]:
    return {
        "stream_id": info.stream_id,
        "kind": info.kind,
        "flow_name": info.flow_name,
        "parent_id": info.parent_id,
        "events": [
            {
                "seq": e.seq,
                "position": e.position,
                "type": e.type,
                "created_at": e.created_at,
                # Parsed, not sorted: keys keep their recorded order, so an
                # import writes back byte-identical payloads.
                "data": orjson.loads(e.data),
            }
            for e in store.read_stream(info.stream_id)
        ],
    }


def import_history(
    store: EventStore, history: Any, *, up_to_position: int | None = None
) -> str:
    """Write ``history`` into ``store`` as new streams; returns the execution id.

    With ``up_to_position`` only the events at or before that position (as
    recorded in the history) are imported: the log as a crash at that instant
    would have left it. Raises :class:`HistoryFormatError` for a malformed
    document, :class:`UnknownEventTypeError` / :class:`CorruptEventError` for an
    event the current code cannot read, and :class:`ConcurrencyError` when a
    stream already exists; in every case nothing is written.
    """
    return write_history(store, prepare_history(history, up_to_position=up_to_position))


@dataclass(frozen=True, slots=True)
class PreparedHistory:
    """A history checked, decoded and cut, ready to be written as one append."""

    execution_id: str
    requests: list[AppendRequest]


def write_history(store: EventStore, prepared: PreparedHistory) -> str:
    """Write a :func:`prepare_history` result into ``store``: all of it or nothing."""
    execution_id = prepared.execution_id
    try:
        store.append_blocking(prepared.requests)
    except ConcurrencyError as error:
        # The store's message is about racing writers; here the cause is simpler.
        error.message = (
            f"cannot import the history of {execution_id!r}: stream "
            f"{error.stream_id!r} already exists in {store.url} (at seq "
            f"{error.actual}); nothing was imported. Import into another database."
        )
        error.args = (error.message,)
        raise
    return execution_id


def prepare_history(
    history: Any, *, up_to_position: int | None = None
) -> PreparedHistory:
    """Everything :func:`import_history` checks, done without a store.

    Raises what ``import_history`` raises for the document itself (format,
    unknown or undecodable events), so a caller can refuse a bad file before it
    opens (or creates) a database.
    """
    if up_to_position is not None and (
        isinstance(up_to_position, bool) or not isinstance(up_to_position, int)
    ):
        raise HistoryFormatError(
            f"up_to_position must be an event position (int) or None, got "
            f"{up_to_position!r}"
        )
    execution_id, streams = _parse(history)
    requests = []
    for stream in streams:
        events = [
            e
            for e in stream["events"]
            if up_to_position is None or e["position"] <= up_to_position
        ]
        if events:
            requests.append(_request(stream, events))
    if not any(r.stream_id == execution_id for r in requests):
        raise HistoryFormatError(
            f"the history of {execution_id!r} has no events of that execution at or "
            f"before position {up_to_position}; cut it later"
        )
    return PreparedHistory(execution_id, requests)


def _request(stream: dict[str, Any], events: list[dict[str, Any]]) -> AppendRequest:
    stream_id = stream["stream_id"]
    # An execution's index status is its fold's, as the runtime would have written;
    # a flow stream is folded too, so an event that cannot apply is refused now.
    view = ExecutionView(stream_id) if stream["kind"] in EXECUTION_KINDS else None
    flow_view = FlowStateView(str(stream.get("flow_name"))) if view is None else None
    new_events = []
    snapshot_index = None
    for index, raw in enumerate(events):
        seq = raw["seq"]
        at = f"stream {stream_id!r} seq {seq}: data"
        try:
            data = orjson.dumps(raw["data"])
        except TypeError as error:  # orjson.JSONEncodeError: a set, bytes, 2**70...
            raise format_error(f"{at} is not JSON ({error})") from None
        if _non_finite(raw["data"]):  # orjson would write it as null
            raise format_error(f"{at} holds NaN or an infinity, which is not JSON")
        created_at = float(raw["created_at"])
        # A payload that does not decode or fold is a bad document, not a damaged
        # database: HistoryFormatError, not CorruptEventError's "restore a backup".
        try:
            event = decode(raw["type"], data, stream_id, seq)  # refuse before writing
            if view is not None:
                apply(view, event, seq, created_at)
            elif flow_view is not None:
                apply_flow(flow_view, event, seq)
        except CorruptEventError as error:
            raise format_error(
                f"{at} does not decode as {raw['type']} ({error.reason})"
            ) from None
        except OrchestratorError:
            raise
        except (TypeError, KeyError, ValueError, AttributeError, IndexError) as error:
            # The fold trusts decoded payloads; a hand-edited one must not get in.
            raise format_error(
                f"{at} does not fold as {raw['type']} ({error!r})"
            ) from None
        new_events.append(NewEvent(raw["type"], data, created_at))
        if raw["type"] == _SNAPSHOT_TYPE:
            snapshot_index = index
    if view is not None:
        check_folded(stream, view)
    status = view.status if view is not None else "open"
    meta = StreamMeta(
        stream["kind"], stream.get("flow_name"), stream.get("parent_id"), status
    )
    return AppendRequest(
        stream_id,
        new_events,
        expected_seq=0,
        meta=meta,
        snapshot_index=snapshot_index,
    )


def _non_finite(value: Any) -> bool:
    # Called after orjson.dumps succeeded, so the nesting is at most orjson's 255.
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list | tuple):
        return False
    return any(_non_finite(item) for item in value)


def _parse(history: Any) -> tuple[str, list[dict[str, Any]]]:
    bad = format_error
    if not isinstance(history, dict):
        raise bad(f"expected an object, found {type(history).__name__}")
    if history.get("format") != HISTORY_FORMAT:
        raise bad(f"format is {history.get('format')!r}")
    execution_id = history.get("execution_id")
    streams = history.get("streams")
    if not isinstance(execution_id, str) or not isinstance(streams, list):
        raise bad("execution_id must be a string and streams a list")
    for stream in streams:
        if not isinstance(stream, dict) or not isinstance(stream.get("stream_id"), str):
            raise bad("every stream needs a string stream_id")
        sid = stream["stream_id"]
        if stream.get("kind") not in (*EXECUTION_KINDS, "flow"):
            raise bad(f"stream {sid!r} has kind {stream.get('kind')!r}")
        events = stream.get("events")
        if not isinstance(events, list):
            raise bad(f"stream {sid!r} has no events list")
        for expected, event in enumerate(events, start=1):
            if not isinstance(event, dict) or type(event.get("seq")) is not int:
                raise bad(f"stream {sid!r}: event #{expected} has no integer seq")
            if event["seq"] != expected:
                raise bad(f"stream {sid!r}: event #{expected} is not at seq {expected}")
            if not isinstance(event.get("type"), str) or "data" not in event:
                raise bad(f"stream {sid!r} seq {expected}: needs type and data")
            position, created_at = event.get("position"), event.get("created_at")
            if type(position) is not int:
                raise bad(
                    f"stream {sid!r} seq {expected}: position must be an int, found {position!r}"
                )
            if isinstance(created_at, bool) or not isinstance(created_at, int | float):
                raise bad(
                    f"stream {sid!r} seq {expected}: created_at must be a number, found {created_at!r}"
                )
    check_tree(execution_id, streams)
    return execution_id, streams
