"""Events in words: the one-line summaries that ``triggerlog show`` and the console print.

A value is compact JSON cut to a width; an event family with no wording of its
own (one added later) shows its payload; times are UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from orchestrator.events import chunk as ev_chunk
from orchestrator.events import execution as ev_exec
from orchestrator.events import flow_state as ev_flow
from orchestrator.events import state as ev_state
from orchestrator.events.codec import encode

if TYPE_CHECKING:
    from collections.abc import Sequence

    from orchestrator.events.base import Event
    from orchestrator.events.records import SignalRecord

__all__ = ["describe", "format_time", "short_event_name", "short_value"]

# Structural ids end in a 16-hex short hash: "Chunk[classify]-chunk-22f6...",
# "ForEach-d91e...-Send". People read the name without it.
_HASH_SUFFIX = re.compile(r"-(?:chunk-)?[0-9a-f]{16}\b")


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
