"""Typed reads of the log and the streams index for the interrupt/sub-flow tests."""

from __future__ import annotations

from typing import Any

from orchestrator.events.codec import loads
from orchestrator.store.base import EventStore, StreamInfo


def stream(store: EventStore, stream_id: str) -> StreamInfo:
    """The index row of a stream that must exist."""
    info = store.get_stream(stream_id)
    assert info is not None, f"no stream {stream_id!r}"
    return info


def events(store: EventStore, stream_id: str, type_name: str) -> list[dict[str, Any]]:
    """The decoded payloads of one event type in a stream, in seq order."""
    return [loads(e.data) for e in store.read_stream(stream_id) if e.type == type_name]


def interrupt(execution: Any, interrupt_id: str) -> dict[str, Any]:
    """An interrupt record that must exist."""
    record: dict[str, Any] | None = execution.get_interrupt(interrupt_id)
    assert record is not None, f"no interrupt {interrupt_id!r}"
    return record
