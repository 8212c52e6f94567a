"""Executions and their histories as people read them: listing rows and event rows.

Everything here only *reads*: the streams index for listings, one stream (in one
short read transaction per call) for a history, folded with the library's own
projection. No SQL, no backend import: callers hand in an
:class:`~orchestrator.store.base.EventStore`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.errors import ExecutionNotFoundError
from orchestrator.events import chunk as ev_chunk
from orchestrator.events.codec import decode
from orchestrator.projection.execution import ExecutionView
from orchestrator.projection.projector import apply, run_id_for
from orchestrator.projection.summary import EXECUTION_KINDS, ExecutionSummary
from orchestrator.read_model.describe import describe, short_event_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    from orchestrator.events.base import Event
    from orchestrator.events.records import SignalRecord
    from orchestrator.store.base import EventStore, StreamInfo

__all__ = [
    "EXECUTION_KINDS",
    "EventRow",
    "ExecutionHistory",
    "ExecutionRow",
    "list_executions",
    "read_history",
]


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
    offset: int = 0,
    kinds: Sequence[str] = EXECUTION_KINDS,
    parent_id: str | None = None,
    since: float | None = None,
    until: float | None = None,
) -> list[ExecutionRow]:
    """Executions (and sub-flow children) from the streams index, newest update first.

    ``kinds`` keeps ``"execution"`` and/or ``"child"``; ``since``/``until`` keep
    those created in that range; ``offset``/``limit`` page. No payload is read.
    """

    def keep(info: StreamInfo) -> bool:
        return (
            info.kind in kinds
            and (since is None or info.created_at >= since)
            and (until is None or info.created_at <= until)
        )

    wanted = None if limit is None else offset + limit
    unfiltered = flow_name is None and status is None and parent_id is None
    if unfiltered and wanted is None:
        # The whole index in one read (which also checks it adds up).
        kept = [info for info in store.list_streams() if keep(info)]
    elif unfiltered and wanted is not None:
        # Only the updated_at index orders the unfiltered index cheaply: read
        # growing windows of it, newest first, until the page is full.
        window = max(wanted * 2, 256)
        while True:
            infos = store.list_streams(limit=window)
            kept = [info for info in infos if keep(info)]
            if len(kept) >= wanted or len(infos) < window:
                break
            window *= 4
    else:
        bound = wanted if since is None and until is None else None
        kept = [
            info
            for kind in kinds
            for info in store.list_streams(
                kind=kind,
                flow_name=flow_name,
                status=status,
                parent_id=parent_id,
                limit=bound,
            )
            if keep(info)
        ]
        kept.sort(key=lambda i: (-i.updated_at, i.stream_id))
    page = kept[offset:wanted]
    return [ExecutionRow.from_info(info) for info in page]


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
