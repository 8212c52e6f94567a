"""The ``load()`` contract: a saved execution checked whole before anything is written.

Every field the loader reads is checked for type, the ids against the
execution-id rule (:func:`orchestrator.ids.execution_id_problem`), the flow
name against the loading flow, and the view against the fields the runtime
reads (:mod:`orchestrator.projection.view_contract`). The top-level projections
that ``load()`` does not read (``state``, ``interrupts``, ...) are checked for
type when present, so a tampered document is refused rather than half-trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from orchestrator.errors import SnapshotContractError
from orchestrator.events.codec import loads
from orchestrator.events.values import MAX_RECORD_DEPTH, MAX_VALUE_DEPTH, nested_beyond
from orchestrator.ids import execution_id_problem
from orchestrator.projection.execution import ExecutionView
from orchestrator.projection.view_contract import view_problem

__all__ = [
    "SNAPSHOT_KIND",
    "SNAPSHOT_SCHEMA_VERSION",
    "SavedExecution",
    "check_saved",
]

SNAPSHOT_KIND = "triggerflow.execution_snapshot"
SNAPSHOT_SCHEMA_VERSION = 2

# Projections save() writes and load() does not read: (JSON type, may be null).
_NUMBER = (int, float)
_OPTIONAL_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "format": ((str,), False),
    "created_at": (_NUMBER, False),
    "execution_kind": ((str,), False),
    "status": ((str,), False),
    "lifecycle_state": ((str,), False),
    "execution_created_at": (_NUMBER, True),
    "started_at": (_NUMBER, True),
    "updated_at": (_NUMBER, True),
    "closed_at": (_NUMBER, True),
    "close_reason": ((str,), True),
    "state": ((dict,), False),
    "runtime_data": ((dict,), False),
    "interrupts": ((dict,), False),
    "resource_keys": ((list,), False),
    "pending": ((list,), False),
    "log": ((dict,), False),
}


@dataclass(frozen=True, slots=True)
class SavedExecution:
    """A checked save() document: what load() reads from it."""

    execution_id: str
    flow_name: str
    fingerprint: str
    view: ExecutionView


def _bad(field: str, what: str) -> SnapshotContractError:
    return SnapshotContractError(
        f"load(): field {field!r} of the saved execution: {what}; pass the dict "
        "execution.save() returned, unchanged. Nothing was written."
    )


def _json_document(saved: object) -> dict[str, Any]:
    if not isinstance(saved, str):
        _check_depth(saved)  # before orjson, whose own refusal names no field
    try:
        if isinstance(saved, str):
            document = loads(saved)
            _check_depth(document)
        else:
            # A copy through JSON: refuses a non-JSON value now (not at the
            # append) and keeps the caller's later edits out of the log.
            document = loads(orjson.dumps(saved))
    except (ValueError, TypeError) as error:
        if isinstance(error, SnapshotContractError):
            raise
        raise SnapshotContractError(
            f"load(): the saved execution is not JSON ({error}); pass the dict "
            "execution.save() returned. Nothing was written."
        ) from None
    if not isinstance(document, dict):
        raise SnapshotContractError(
            f"load(): expected the dict save() returned, got {type(document).__name__}"
        )
    return document


def _check_depth(document: object) -> None:
    """Refuse nesting no save() makes: its copies, snapshots and exports must encode.

    orjson parses up to 1,024 levels, but the log's own records stop at
    MAX_VALUE_DEPTH per value; deeper, the next snapshot of the loaded execution
    could not be encoded (and copying it could hit the recursion limit).
    """
    path = nested_beyond(document, MAX_RECORD_DEPTH)
    if path is not None:
        shown = path[2:] if len(path) <= 62 else path[2:59] + "..."
        raise _bad(
            shown,
            f"nested more than {MAX_RECORD_DEPTH} lists/dicts deep (a value may hold "
            f"{MAX_VALUE_DEPTH}; save() never writes deeper)",
        )


def check_saved(saved: object, *, flow_name: str) -> SavedExecution:
    """``saved`` checked for loading into flow ``flow_name``, or SnapshotContractError."""
    document = _json_document(saved)
    if document.get("kind") != SNAPSHOT_KIND:
        raise SnapshotContractError(
            f"load(): kind is {document.get('kind')!r}, expected {SNAPSHOT_KIND!r}; pass "
            "the dict returned by execution.save()"
        )
    if document.get("schema_version") != SNAPSHOT_SCHEMA_VERSION:
        raise SnapshotContractError(
            f"load(): schema_version {document.get('schema_version')!r} is not "
            f"supported (this build reads {SNAPSHOT_SCHEMA_VERSION})"
        )
    for key in ("execution_id", "flow_name", "flow_definition_fingerprint", "view"):
        if key not in document:
            raise SnapshotContractError(f"load(): the saved execution has no {key!r}")
    execution_id = document["execution_id"]
    problem = execution_id_problem(execution_id)
    if problem is not None:
        raise _bad("execution_id", f"{execution_id!r} is refused ({problem})")
    saved_flow = document["flow_name"]
    if not isinstance(saved_flow, str):
        raise _bad("flow_name", f"{saved_flow!r} is not a string")
    if saved_flow != flow_name:
        raise SnapshotContractError(
            f"load(): field 'flow_name' is {saved_flow!r} but this handle belongs to "
            f"flow {flow_name!r}; load execution {execution_id!r} with a handle of "
            f"flow {saved_flow!r}. Nothing was written."
        )
    fingerprint = document["flow_definition_fingerprint"]
    if not isinstance(fingerprint, str):
        raise _bad("flow_definition_fingerprint", f"{fingerprint!r} is not a string")
    _check_projections(document)
    problem = view_problem(document["view"])
    if problem is not None:
        field, _, detail = problem.partition(": ")
        raise _bad(field, detail)
    view = ExecutionView.from_json(document["view"])
    for field, found, expected in (
        ("view.execution_id", view.execution_id, execution_id),
        ("view.flow_name", view.flow_name, saved_flow),
        ("view.fingerprint", view.fingerprint, fingerprint),
        ("execution_kind", document.get("execution_kind", view.kind), view.kind),
    ):
        if found != expected:
            raise _bad(field, f"{found!r} disagrees with the document's {expected!r}")
    if view.kind != "execution":
        raise _bad(
            "view.kind",
            f"{view.kind!r}: a sub-flow child is loaded with its parent, not alone",
        )
    return SavedExecution(execution_id, saved_flow, fingerprint, view)


def _check_projections(document: dict[str, Any]) -> None:
    for key, (types, nullable) in _OPTIONAL_FIELDS.items():
        if key not in document:
            continue
        value = document[key]
        if (value is None and nullable) or (
            isinstance(value, types) and not isinstance(value, bool)
        ):
            continue
        names = " or ".join(t.__name__ for t in types) + (
            " or null" if nullable else ""
        )
        raise _bad(key, f"expected {names}, found {type(value).__name__} {value!r:.40}")
    for n, key in enumerate(document.get("resource_keys", [])):
        if not isinstance(key, str):
            raise _bad(f"resource_keys[{n}]", f"{key!r} is not a string")
