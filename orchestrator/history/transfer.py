"""Histories in and out of a store: export reads an execution's streams, import writes.

Export reads each stream in its own short read transaction. Import is
all-or-nothing: the document is first prepared without a store (checked,
decoded and folded: :mod:`orchestrator.history.document`), then all its streams
go in as one atomic append at seq 1, so a store that already holds one of them
raises :class:`~orchestrator.errors.ConcurrencyError` and keeps nothing of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from orchestrator.errors import (
    ConcurrencyError,
    ExecutionNotFoundError,
    HistoryFormatError,
)
from orchestrator.history.document import prepare_history
from orchestrator.history.tree import HISTORY_FORMAT
from orchestrator.projection.flow_state import child_flow_stream_id, flow_stream_id
from orchestrator.projection.summary import EXECUTION_KINDS

if TYPE_CHECKING:
    from orchestrator.history.document import PreparedHistory
    from orchestrator.store.base import EventStore, StreamInfo

__all__ = ["export_history", "import_history", "write_history"]


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
    if root.kind == "child":
        raise _child_export_error(store, root)
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


def _child_export_error(store: EventStore, child: StreamInfo) -> HistoryFormatError:
    """A history starts at its root (import refuses a child root): name that root."""
    top, seen = child, {child.stream_id}
    while top.kind == "child" and top.parent_id is not None:
        parent = store.get_stream(top.parent_id)
        if parent is None or parent.stream_id in seen:
            break
        seen.add(parent.stream_id)
        top = parent
    return HistoryFormatError(
        f"cannot export execution {child.stream_id!r}: it is a sub-flow child of "
        f"{child.parent_id!r}, and a history starts at its root execution, which "
        f"holds its children; export {top.stream_id!r} instead. Nothing was exported."
    )
