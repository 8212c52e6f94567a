"""A history document checked, decoded and cut into one append: no store is touched.

Everything :func:`~orchestrator.history.import_history` refuses about the
document itself is refused here, so a caller can check a file before it opens
(or creates) a database: the format and shape (:mod:`orchestrator.history.tree`
for which streams it may hold), every event decoded by this build's types and
upcasters, and each stream folded as the runtime would have, which also gives the
index status written with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from orchestrator.errors import (
    CorruptEventError,
    HistoryFormatError,
    OrchestratorError,
)
from orchestrator.events.codec import decode
from orchestrator.events.execution import SnapshotTaken
from orchestrator.events.values import MAX_RECORD_DEPTH, MAX_VALUE_DEPTH, nested_beyond
from orchestrator.history.tree import (
    HISTORY_FORMAT,
    check_folded,
    check_tree,
    format_error,
)
from orchestrator.log_mapper import LogMapper
from orchestrator.projection.execution import ExecutionView
from orchestrator.projection.flow_state import FlowStateView
from orchestrator.projection.projector import apply, apply_flow
from orchestrator.projection.summary import EXECUTION_KINDS
from orchestrator.store.base import NewEvent, StreamMeta

if TYPE_CHECKING:
    from orchestrator.store.base import AppendRequest

__all__ = ["PreparedHistory", "prepare_history"]

_SNAPSHOT_TYPE = SnapshotTaken.type_name


@dataclass(frozen=True, slots=True)
class PreparedHistory:
    """A history checked, decoded and cut, ready to be written as one append."""

    execution_id: str
    requests: list[AppendRequest]


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
    # Recorded bytes go in as they are (no re-encoding): the mapper only addresses them.
    return LogMapper.request(
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
            _check_depth(sid, expected, event["data"])
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


def _check_depth(stream_id: str, seq: int, data: Any) -> None:
    """Refuse nesting the log never writes: the fold copies it, snapshots encode it."""
    path = nested_beyond(data, MAX_RECORD_DEPTH)
    if path is not None:
        shown = path if len(path) <= 60 else path[:57] + "..."
        raise format_error(
            f"stream {stream_id!r} seq {seq}: data at {shown} is nested more than "
            f"{MAX_RECORD_DEPTH} lists/dicts deep (a value may hold {MAX_VALUE_DEPTH})"
        )
