"""Which streams a history document may hold: its root execution's own tree.

A history is one execution: the root stream (``kind: "execution"``, no
parent, an id that passes :func:`orchestrator.ids.execution_id_problem`), its
sub-flow children (``kind: "child"``, a derived child id, a parent in the
document, so every parent chain ends at the root), and the flow streams of the
flows those use: ``flow:<name>`` and a child's own ``flow:<name>/<child id>``.
Anything else would be written next to (or grafted onto) what the target
database already holds, so it is refused before anything is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.errors import HistoryFormatError
from orchestrator.ids import child_execution_id, execution_id_problem, is_child_id
from orchestrator.projection.flow_state import child_flow_stream_id, flow_stream_id
from orchestrator.projection.summary import EXECUTION_KINDS

if TYPE_CHECKING:
    from orchestrator.projection.execution import ExecutionView

__all__ = ["HISTORY_FORMAT", "check_folded", "check_tree", "format_error"]

HISTORY_FORMAT = "triggerlog.history/1"


def format_error(what: str) -> HistoryFormatError:
    """The error for a document that is not a well-formed history."""
    return HistoryFormatError(
        f"not a {HISTORY_FORMAT} document: {what}; export one with "
        "export_history() or `triggerlog export`. Nothing was imported."
    )


def check_tree(execution_id: str, streams: list[dict[str, Any]]) -> None:
    """Refuse a stream that is not part of ``execution_id``'s own tree.

    ``streams`` have passed the per-stream shape checks (string ids, known kinds).
    """
    problem = execution_id_problem(execution_id)
    if problem is not None:
        raise format_error(f"execution_id {execution_id!r} is refused ({problem})")
    by_id: dict[str, dict[str, Any]] = {}
    for stream in streams:
        sid = stream["stream_id"]
        if sid in by_id:
            raise format_error(f"stream {sid!r} appears twice")
        for key in ("flow_name", "parent_id"):
            value = stream.get(key)
            if value is not None and not isinstance(value, str):
                raise format_error(f"stream {sid!r}: {key} {value!r} is not a string")
        by_id[sid] = stream
    root = by_id.get(execution_id)
    if root is None:
        raise format_error(f"no stream {execution_id!r} (the execution itself)")
    if root["kind"] != "execution" or root.get("parent_id") is not None:
        raise format_error(
            f"the root stream {execution_id!r} must be kind 'execution' with no "
            f"parent, found kind {root['kind']!r}, parent {root.get('parent_id')!r}; "
            "export the root execution, not a sub-flow child"
        )
    flows: set[str] = set()
    for sid, stream in by_id.items():
        if stream["kind"] == "flow":
            continue
        name = stream.get("flow_name")
        if not isinstance(name, str):
            raise format_error(f"stream {sid!r} has no flow_name")
        flows.add(name)
        if sid != execution_id:
            _check_child(sid, stream, by_id, execution_id)
    for sid, stream in by_id.items():
        if stream["kind"] == "flow":
            _check_flow_stream(sid, stream, by_id, flows)


def _check_child(
    sid: str,
    stream: dict[str, Any],
    by_id: dict[str, dict[str, Any]],
    root_id: str,
) -> None:
    if stream["kind"] != "child":
        raise format_error(
            f"stream {sid!r} is a second execution; a history holds one execution "
            "and its sub-flow children"
        )
    if not is_child_id(sid):
        raise format_error(f"stream {sid!r} is kind 'child' but not a child id")
    seen = {sid}
    current = stream
    while current["stream_id"] != root_id:
        parent_id = current.get("parent_id")
        parent = by_id.get(parent_id) if isinstance(parent_id, str) else None
        if (
            parent is None
            or parent["kind"] not in EXECUTION_KINDS
            or not isinstance(parent_id, str)
        ):
            raise format_error(
                f"child stream {sid!r}: parent {parent_id!r} is not an execution of "
                f"this document (its root is {root_id!r})"
            )
        if parent_id in seen:
            raise format_error(f"child stream {sid!r}: its parent chain is a cycle")
        seen.add(parent_id)
        current = parent


def _check_flow_stream(
    sid: str,
    stream: dict[str, Any],
    by_id: dict[str, dict[str, Any]],
    flows: set[str],
) -> None:
    name = stream.get("flow_name")
    allowed = (
        isinstance(name, str) and name in flows and stream.get("parent_id") is None
    )
    if isinstance(name, str) and allowed and sid != flow_stream_id(name):
        owner = by_id.get(sid.removeprefix(f"flow:{name}/"))
        allowed = (
            owner is not None
            and owner["kind"] == "child"
            and owner.get("flow_name") == name
            and sid == child_flow_stream_id(name, owner["stream_id"])
        )
    if not allowed:
        raise format_error(
            f"flow stream {sid!r} (flow {name!r}) belongs to no execution of this "
            "document: a flow stream is flow:<name> of a flow the document runs, or "
            "flow:<name>/<child id> of one of its children"
        )


def check_folded(stream: dict[str, Any], view: ExecutionView) -> None:
    """The stream's index fields agree with its own execution.created."""
    sid = stream["stream_id"]
    if view.flow_name != stream["flow_name"] or view.kind != stream["kind"]:
        raise format_error(
            f"stream {sid!r}: flow_name {stream['flow_name']!r} / kind "
            f"{stream['kind']!r} disagree with its events ({view.flow_name!r} / "
            f"{view.kind!r})"
        )
    if view.kind != "child":
        return
    parent = view.parent or {}
    parent_id, run_id = parent.get("execution_id"), parent.get("run_id")
    if parent_id != stream["parent_id"]:
        raise format_error(
            f"child stream {sid!r}: parent_id {stream['parent_id']!r} disagrees with "
            f"its execution.created (parent {parent_id!r})"
        )
    if (
        not isinstance(parent_id, str)
        or not isinstance(run_id, str)
        or child_execution_id(parent_id, run_id) != sid
    ):
        raise format_error(
            f"child stream {sid!r} is not the id derived from its parent "
            f"{parent_id!r} and run {run_id!r}"
        )
