"""Reading executions for people: the read model behind ``triggerlog list/show``.

The console (``tui/``) reads through the same functions, so the CLI and the console
describe an event in the same words. Everything here only *reads*: the streams
index for listings, one stream (in one short read transaction per call) for a
history, folded with the library's own projection. No SQL, no backend import:
callers hand in an :class:`~orchestrator.store.base.EventStore`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from orchestrator.errors import ExecutionNotFoundError
from orchestrator.events import chunk as ev_chunk
from orchestrator.events import execution as ev_exec
from orchestrator.events import flow_state as ev_flow
from orchestrator.events import state as ev_state
from orchestrator.events.codec import decode, encode
from orchestrator.projection.execution import ExecutionView
from orchestrator.projection.projector import apply, run_id_for
from orchestrator.projection.summary import EXECUTION_KINDS, ExecutionSummary

if TYPE_CHECKING:
    from collections.abc import Sequence

    from orchestrator.events.base import Event
    from orchestrator.events.records import SignalRecord
    from orchestrator.store.base import EventStore

__all__ = [
    "EXECUTION_KINDS",
    "EventRow",
    "ExecutionHistory",
    "ExecutionRow",
    "describe",
    "format_time",
    "list_executions",
    "read_history",
    "short_event_name",
    "short_value",
]

# Structural ids end in a 16-hex short hash: "Chunk[classify]-chunk-22f6...",
# "ForEach-d91e...-Send". People read the name without it.
_HASH_SUFFIX = re.compile(r"-(?:chunk-)?[0-9a-f]{16}\b")


# The console and the CLI list executions with the library's own summary record.
ExecutionRow = ExecutionSummary


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event as a line of a history: what ``show`` prints, a console row."""

    seq: int
    created_at: float
    type: str
    summary: str


def list_executions(
    store: EventStore,
    *,
    flow_name: str | None = None,
    status: str | Sequence[str] | None = None,
    limit: int | None = None,
) -> list[ExecutionRow]:
    """Executions (and sub-flow children) from the streams index, newest first.

    One read of the index; no payload is read.
    """
    infos = store.list_streams(flow_name=flow_name, status=status)
    rows = [
        ExecutionRow.from_info(info) for info in infos if info.kind in EXECUTION_KINDS
    ]
    return rows[:limit] if limit is not None else rows


class ExecutionHistory:
    """One execution stream read incrementally: display rows plus the folded view.

    :meth:`advance` reads only the events after the last one seen, so a console
    can poll it cheaply; the view is folded with the library's ``apply``, i.e. it
    is exactly what a rebuild from the log gives.
    """

    def __init__(self, execution_id: str) -> None:
        self.execution_id = execution_id
        self.view = ExecutionView(execution_id)
        self.rows: list[EventRow] = []
        # run id -> what performed it (chunk name or operator kind)
        self._runs: dict[str, str] = {}

    @property
    def last_seq(self) -> int:
        """The seq of the last event read (0 before the first read)."""
        return self.view.last_seq

    def advance(self, store: EventStore) -> list[EventRow]:
        """Read the events appended since the last call; return their rows."""
        stored = store.read_stream(self.execution_id, from_seq=self.last_seq + 1)
        new: list[EventRow] = []
        for item in stored:
            event = decode(item.type, item.data, item.stream_id, item.seq)
            new.append(
                EventRow(item.seq, item.created_at, item.type, self._describe(event))
            )
            apply(self.view, event, item.seq, item.created_at)
        self.rows.extend(new)
        return new

    def _describe(self, event: Event) -> str:
        if isinstance(event, ev_chunk.SignalEmitted):
            self._remember(event.signal)
        elif isinstance(event, ev_chunk.ChunkStarted):
            self._runs[event.run_id] = event.chunk
        elif isinstance(event, ev_chunk.ChunkCompleted):
            for signal in event.emits:
                self._remember(signal)
        return describe(event, self._runs)

    def _remember(self, signal: SignalRecord) -> None:
        for op_id in signal["targets"]:
            self._runs.setdefault(
                run_id_for(signal["id"], op_id), short_event_name(op_id)
            )


def read_history(store: EventStore, execution_id: str) -> ExecutionHistory:
    """The whole history of one execution; :class:`ExecutionNotFoundError` if absent."""
    info = store.get_stream(execution_id)
    if info is None or info.kind not in EXECUTION_KINDS:
        raise ExecutionNotFoundError(execution_id, store.url)
    history = ExecutionHistory(execution_id)
    history.advance(store)
    return history


# -- describing one event ------------------------------------------------------------


def short_event_name(name: str) -> str:
    """``Chunk[classify]-chunk-22f6...`` -> ``Chunk[classify]`` (hash suffixes dropped)."""
    return _HASH_SUFFIX.sub("", name)


def short_value(value: Any, width: int = 48) -> str:
    """Compact JSON of ``value``, cut to ``width`` characters."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _signals(emits: Sequence[SignalRecord], own: str | None = None) -> str:
    """``Event value``; a fan-out to one event reads ``Event x3``; ``own`` is elided."""
    names = [short_event_name(s["event"]) for s in emits]
    if len(emits) > 1 and len(set(names)) == 1:
        return f"{names[0]} x{len(emits)}"
    parts = []
    for name, signal in zip(names, emits, strict=True):
        value = short_value(signal["value"], 36)
        parts.append(value if name == own else f"{name} {value}")
    return ", ".join(parts)


def describe(event: Event, runs: dict[str, str] | None = None) -> str:
    """A one-line, human summary of an event (``runs`` names chunk runs)."""
    runs = runs or {}
    text = _describe_known(event, runs)
    if text is not None:
        return text
    # An event family this reader has no wording for (added later): its payload.
    return short_value(orjson.loads(encode(event)[1]), 64)


def _describe_known(event: Event, runs: dict[str, str]) -> str | None:
    match event:
        case ev_exec.ExecutionCreated():
            text = f"flow={event.flow_name}"
            if event.resource_keys:
                text += f" resources=[{','.join(event.resource_keys)}]"
            return text + (" auto_close" if event.auto_close else "")
        case ev_exec.ExecutionStarted():
            return ""
        case ev_exec.ExecutionSealed():
            return f"reason={event.reason}"
        case ev_exec.ExecutionClosed():
            return f"status={event.status} reason={event.reason}"
        case ev_exec.ExecutionCancelled():
            return f"reason={event.reason}"
        case ev_exec.DefinitionChanged():
            return f"{event.previous[:15]} -> {event.current[:15]}"
        case ev_exec.SnapshotTaken():
            return f"view at seq {event.view.get('last_seq')}"
        case ev_chunk.SignalEmitted():
            return _signals([event.signal])
        case ev_chunk.SignalRejected():
            return f"{event.event} refused ({event.lifecycle})"
        case ev_chunk.ChunkStarted():
            attempt = f" (attempt {event.attempt})" if event.attempt > 1 else ""
            return f"{event.chunk}{attempt}"
        case ev_chunk.ChunkCompleted():
            label = runs.get(event.run_id, event.run_id)
            parts = [label]
            if event.emits:
                parts.append("-> " + _signals(event.emits, own=f"Chunk[{label}]"))
            if event.join is not None:
                join = event.join
                value = join["value"]
                arrived = "" if value is None else f" <- {short_value(value, 24)}"
                parts.append(f"join[{join['key']}]{arrived}")
            return " ".join(parts)
        case ev_chunk.ChunkFailed():
            error = event.error
            skipped = " (skipped)" if event.skipped else ""
            label = runs.get(event.run_id, event.run_id)
            return f"{label} {error['type']}: {error['message']}{skipped}"
        case ev_state.StateSet():
            return f"{event.key} = {short_value(event.value)}"
        case ev_state.StateAppended():
            return f"{event.key} += {short_value(event.value)}"
        case ev_state.StateDeleted():
            return f"del {event.key}"
        case ev_state.ResourceKeySet():
            return f"{event.key} (the object is not logged)"
        case ev_state.ResourceKeyDeleted():
            return f"del {event.key}"
        case ev_flow.FlowDataWritten():
            return f"flow_data {event.action} {event.key}"
    return None


def format_time(timestamp: float | None, *, date: bool = True) -> str:
    """``2025-01-01 00:00:03`` (UTC), or ``00:00:03.250`` with ``date=False``."""
    if timestamp is None:
        return "-"
    moment = datetime.fromtimestamp(timestamp, UTC)
    if date:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.strftime("%H:%M:%S.%f")[:-3]
