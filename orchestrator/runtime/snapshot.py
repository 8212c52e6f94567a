"""``execution.save()`` and ``execution.load(saved)``.

``save()`` is a projection of the log taken once everything before it is
durable: JSON-friendly, with the whole folded view so another store can import
it. ``load()`` binds a fresh execution handle to the saved execution: the same
stream when it is in this store (the log, not the dict, is the truth), otherwise
the saved view is imported as a new stream with the same id.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from orchestrator.errors import (
    DefinitionMismatchError,
    LifecycleError,
    MissingResourceError,
)
from orchestrator.events.execution import ExecutionCreated, SnapshotTaken
from orchestrator.log_mapper import LogMapper
from orchestrator.projection.execution import ExecutionView
from orchestrator.projection.paths import copy_json
from orchestrator.projection.projector import apply
from orchestrator.runtime.interrupts import pending_interrupts
from orchestrator.runtime.loop import run_sync
from orchestrator.runtime.rebuild import rebuild_view
from orchestrator.runtime.resources import RuntimeResources
from orchestrator.runtime.snapshot_contract import (
    SNAPSHOT_KIND,
    SNAPSHOT_SCHEMA_VERSION,
    SavedExecution,
    check_saved,
)
from orchestrator.store.base import StreamMeta

if TYPE_CHECKING:
    from orchestrator.runtime.engine import ExecutionEngine

__all__ = [
    "SNAPSHOT_KIND",
    "SNAPSHOT_SCHEMA_VERSION",
    "load_execution",
    "save_execution",
]


def save_execution(
    engine: ExecutionEngine, *, already_durable: bool = False
) -> dict[str, Any]:
    """The saved form of an execution (waits for durability first)."""
    if not already_durable:
        _wait_durable(engine)
    view = engine.view
    return {
        "kind": SNAPSHOT_KIND,
        "schema_version": SNAPSHOT_SCHEMA_VERSION,
        "format": "triggerlog/1",
        "created_at": engine.clock.now(),
        "execution_id": view.execution_id,
        "execution_kind": view.kind,
        "flow_name": view.flow_name,
        "flow_definition_fingerprint": view.fingerprint,
        "status": view.status,
        "lifecycle_state": view.lifecycle,
        "execution_created_at": view.created_at,
        "started_at": view.started_at,
        "updated_at": view.updated_at,
        "closed_at": view.closed_at,
        "close_reason": view.close_reason,
        "state": copy_json(view.state),
        "runtime_data": copy_json(view.state),
        "interrupts": pending_interrupts(view),
        "resource_keys": sorted(view.resource_keys),
        "pending": [
            {
                "run_id": r.run_id,
                "operator_id": r.op_id,
                "chunk": r.chunk,
                "status": r.status,
            }
            for r in view.runs.values()
        ],
        "log": {
            "store": engine.store.url,
            "stream_id": view.execution_id,
            "seq": view.last_seq,
            "position": engine.journal.last_position,
        },
        "view": view.to_json(),
    }


def _wait_durable(engine: ExecutionEngine) -> None:
    loop = engine.loop
    if loop is None or not loop.is_running():
        return
    if engine.loop_thread is not None and engine.loop_thread != _thread_id():
        run_sync(engine.durable(), loop)
    else:
        engine.journal.durable_blocking()


def _thread_id() -> int:
    return threading.get_ident()


def load_execution(
    fresh: ExecutionEngine,
    saved: dict[str, Any] | str,
    *,
    runtime_resources: dict[str, Any] | None,
    allow_definition_change: bool,
) -> ExecutionEngine:
    """The engine of the saved execution, for a fresh handle (``fresh``'s) to bind to."""
    host = fresh.host
    # The whole document first: a refused load writes nothing and leaves the
    # fresh handle as it was.
    record = check_saved(saved, flow_name=host.name)
    if fresh.view.started_at is not None or fresh.view.last_seq > 1:
        raise LifecycleError(
            f"load(): execution {fresh.id!r} already ran; call load() on a fresh "
            "flow.create_execution(...) handle"
        )
    execution_id = record.execution_id
    current = host.definition.fingerprint
    if record.fingerprint != current and not allow_definition_change:
        recorded = host.flow_data.view.definitions.get(record.fingerprint)
        difference = (
            host.definition.first_difference(recorded)
            if recorded is not None
            else "the saved definition is not recorded in this store"
        )
        raise DefinitionMismatchError(
            execution_id, record.fingerprint, current, difference
        )
    injected = fresh.resources.own()
    if runtime_resources:
        injected.update(runtime_resources)
    live = {e.id: e for e in host.live_engines()}.get(execution_id)
    in_store = live is not None or host.store.get_stream(execution_id) is not None
    if not in_store:
        # Checked before the import, so a missing resource writes nothing.
        _check_resources(
            execution_id, record.view, RuntimeResources(host.flow_resources, injected)
        )
    fresh.journal.discard_unwritten()
    host_forget = getattr(host, "forget_engine", None)
    if host_forget is not None:
        host_forget(fresh)
    if live is not None:
        # Loaded into the flow object that still runs it: the new handle's
        # resources are the ones to use from now on, checked like any load.
        _check_resources(
            execution_id, live.view, RuntimeResources(host.flow_resources, injected)
        )
        live.resources.replace_local(injected)
        return live
    if in_store:
        view = rebuild_view(
            host, execution_id, allow_definition_change=allow_definition_change
        )
    else:
        view = _import(host.store, record, host.clock.now())
    resources = fresh.resources
    if runtime_resources:
        resources.update_local(runtime_resources)
    missing = resources.missing(sorted(view.resource_keys))
    if missing:
        raise MissingResourceError(execution_id, missing, list(resources.keys()))
    return fresh.driver.open_engine(
        host,
        view,
        RuntimeResources(host.flow_resources, dict(resources.items())),
        rebuilt=True,
        allow_definition_change=allow_definition_change,
    )


def _check_resources(
    execution_id: str, view: ExecutionView, resources: RuntimeResources
) -> None:
    missing = resources.missing(sorted(view.resource_keys))
    if missing:
        raise MissingResourceError(execution_id, missing, list(resources.keys()))


def _import(store: Any, record: SavedExecution, now: float) -> ExecutionView:
    """Write the saved view as a new stream: ExecutionCreated then a snapshot."""
    source = record.view
    execution_id = record.execution_id
    created = ExecutionCreated(
        flow_name=source.flow_name,
        fingerprint=source.fingerprint,
        kind=source.kind,
        resource_keys=sorted(source.resource_keys),
        auto_close=source.auto_close,
        concurrency=source.concurrency,
        skip_exceptions=source.skip_exceptions,
        parent=source.parent,
    )
    view = ExecutionView(execution_id)
    apply(view, created, 1, now)
    snapshot = SnapshotTaken(view=source.to_json())
    apply(view, snapshot, 2, now)
    meta_kind = "child" if source.kind == "child" else "execution"
    request = LogMapper().to_append(
        execution_id,
        [created, snapshot],
        now,
        expected_seq=0,
        meta=StreamMeta(meta_kind, source.flow_name, None, view.status),
        snapshot_index=1,
    )
    store.append_blocking([request])
    return view
