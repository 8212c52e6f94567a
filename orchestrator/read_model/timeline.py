"""History: an execution's events (and optionally its children's), decoded and paged.

Each :class:`HistoryEvent` carries its time, its place in the log (seq and global
position), the chunk run it belongs to, a one-line summary and its payload. A
page that starts after seq 1 names its runs from the view folded just before it
(:func:`~orchestrator.read_model.state_at.view_at`, from the nearest snapshot),
so paging deep into a long history reads only the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from orchestrator.errors import ExecutionNotFoundError, OrchestratorError
from orchestrator.events import chunk as ev_chunk
from orchestrator.events.base import EVENT_TYPES
from orchestrator.events.codec import decode, encode
from orchestrator.projection.projector import run_id_for
from orchestrator.projection.summary import EXECUTION_KINDS
from orchestrator.read_model.describe import describe, short_event_name
from orchestrator.read_model.state_at import SeqOutOfRangeError, view_at

if TYPE_CHECKING:
    from collections.abc import Sequence

    from orchestrator.events.base import Event
    from orchestrator.events.records import SignalRecord
    from orchestrator.store.base import EventStore, StoredEvent

__all__ = ["EventTypeFilterError", "HistoryEvent", "read_events"]

_PAGE = 1000


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One decoded event of an execution's history."""

    execution_id: str
    seq: int
    position: int
    created_at: float
    type: str
    run_id: str | None
    chunk: str | None
    summary: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``triggerlog history --json``)."""
        return {
            "execution_id": self.execution_id,
            "seq": self.seq,
            "position": self.position,
            "created_at": self.created_at,
            "type": self.type,
            "run_id": self.run_id,
            "chunk": self.chunk,
            "summary": self.summary,
            "data": self.data,
        }


def _matches(type_name: str, types: Sequence[str] | None) -> bool:
    """``chunk.completed`` matches ``chunk.completed`` and the family ``chunk``."""
    if not types:
        return True
    return any(type_name == t or type_name.startswith(t + ".") for t in types)


class _Runs:
    """Run id -> what performed it, learnt from the events as they pass."""

    def __init__(self, known: dict[str, str]) -> None:
        self.names = known

    def learn(self, event: Event) -> None:
        if isinstance(event, ev_chunk.SignalEmitted):
            self._signal(event.signal)
        elif isinstance(event, ev_chunk.ChunkStarted):
            self.names[event.run_id] = event.chunk
        elif isinstance(event, ev_chunk.ChunkCompleted):
            for signal in event.emits:
                self._signal(signal)

    def _signal(self, signal: SignalRecord) -> None:
        for op_id in signal["targets"]:
            self.names.setdefault(
                run_id_for(signal["id"], op_id), short_event_name(op_id)
            )


def _stream_events(
    store: EventStore,
    execution_id: str,
    from_seq: int,
    to_seq: int | None,
    limit: int | None,
    types: Sequence[str] | None,
) -> list[HistoryEvent]:
    info = store.get_stream(execution_id)
    if info is None or info.kind not in EXECUTION_KINDS:
        raise ExecutionNotFoundError(execution_id, store.url)
    if from_seq < 1:
        raise SeqOutOfRangeError(execution_id, from_seq, info.last_seq)
    last = info.last_seq if to_seq is None else min(to_seq, info.last_seq)
    start = max(from_seq, 1)
    known: dict[str, str] = {}
    if start > 1 and start <= last:
        view, _ = view_at(store, execution_id, start - 1)
        known = {
            r.run_id: r.chunk or short_event_name(r.op_id) for r in view.runs.values()
        }
    runs = _Runs(known)
    found: list[HistoryEvent] = []
    low = start
    while low <= last and (limit is None or len(found) < limit):
        high = min(last, low + _PAGE - 1)
        if limit is not None and not types:
            high = min(high, low + limit - len(found) - 1)
        for stored in store.read_stream(execution_id, low, high):
            event = decode(stored.type, stored.data, stored.stream_id, stored.seq)
            runs.learn(event)
            if _matches(stored.type, types):
                found.append(_entry(stored, event, runs.names))
                if limit is not None and len(found) >= limit:
                    break
        low = high + 1
    return found


def _entry(stored: StoredEvent, event: Event, runs: dict[str, str]) -> HistoryEvent:
    run_id = getattr(event, "run_id", None)
    run_id = run_id if isinstance(run_id, str) else None
    chunk = getattr(event, "chunk", None)
    if not isinstance(chunk, str):
        chunk = runs.get(run_id) if run_id is not None else None
    return HistoryEvent(
        execution_id=stored.stream_id,
        seq=stored.seq,
        position=stored.position,
        created_at=stored.created_at,
        type=stored.type,
        run_id=run_id,
        chunk=chunk,
        summary=describe(event, runs),
        data=orjson.loads(encode(event)[1]),
    )


def _descendants(store: EventStore, execution_id: str) -> list[str]:
    found: list[str] = []
    parents = [execution_id]
    while parents:
        parent = parents.pop()
        children = sorted(
            info.stream_id
            for info in store.list_streams(kind="child", parent_id=parent)
        )
        found.extend(children)
        parents.extend(children)
    return found


def read_events(
    store: EventStore,
    execution_id: str,
    *,
    from_seq: int = 1,
    to_seq: int | None = None,
    limit: int | None = None,
    types: Sequence[str] | None = None,
    children: bool = False,
) -> list[HistoryEvent]:
    """The events of an execution with ``from_seq <= seq <= to_seq``, decoded.

    ``types`` keeps only those type names (``chunk.completed``) or families
    (``chunk``); ``limit`` cuts the page (page on with ``from_seq`` = last seq +
    1). With ``children``, the events of its sub-flow children (and theirs) that
    were logged within the same range of the log are merged in, in log order.
    ``ExecutionNotFoundError`` for an unknown id; :class:`EventTypeFilterError`
    for a type that names no event type or family (a typo would otherwise give
    an empty page).
    """
    _check_types(types)
    own = _stream_events(
        store, execution_id, from_seq, to_seq, None if children else limit, types
    )
    if not children:
        return own
    bounds = _stream_events(store, execution_id, from_seq, to_seq, None, None)
    if not bounds:
        return []
    low = bounds[0].position
    high = bounds[-1].position if to_seq is not None else float("inf")
    merged = list(own)
    for child in _descendants(store, execution_id):
        merged.extend(
            e
            for e in _stream_events(store, child, 1, None, None, types)
            if low <= e.position <= high
        )
    merged.sort(key=lambda e: e.position)
    return merged[:limit] if limit is not None else merged


def _check_types(types: Sequence[str] | None) -> None:
    known = set(EVENT_TYPES)
    families = {name.split(".", 1)[0] for name in known}
    unknown = [t for t in types or () if t not in known and t not in families]
    if unknown:
        raise EventTypeFilterError(
            f"unknown event type {', '.join(map(repr, unknown))}; give a type such as "
            f"'chunk.completed' or a family: {', '.join(sorted(families))}"
        )


class EventTypeFilterError(OrchestratorError, ValueError):
    """``types=`` names no event type (``chunk.completed``) and no family (``chunk``)."""
