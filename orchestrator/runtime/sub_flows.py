"""Running sub-flow operators as child executions with streams of their own.

A child's id is derived from the parent chunk run, so a parent run executed again
after a crash finds (and resumes) the child it already started instead of
starting a second one. The child is created in the same atomic append as the
parent's SubFlowStarted, with the captured values in its first event. While the
child waits on an interrupt, the parent run ends without a continuation and the
parent projects the child's interrupts; ``continue_with`` on a projected
interrupt resumes the child, then writes back and continues the parent.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from orchestrator.errors import (
    ChunkError,
    InterruptNotWaitingError,
    MissingResourceError,
    PayloadError,
)
from orchestrator.events.chunk import ChunkCompleted, ChunkStarted
from orchestrator.events.execution import ExecutionCreated
from orchestrator.events.sub_flow import (
    SubFlowCancelled,
    SubFlowCompleted,
    SubFlowStarted,
    SubFlowWaiting,
)
from orchestrator.events.values import copy_json, to_json_value
from orchestrator.ids import child_execution_id, derive_id
from orchestrator.projection.execution import (
    ExecutionStatus,
    ExecutionView,
    LifecycleState,
)
from orchestrator.projection.paths import MISSING, get_path, set_path, write_depth
from orchestrator.runtime import lifecycle
from orchestrator.runtime.child_host import ChildHost
from orchestrator.runtime.interrupts import already_settled
from orchestrator.runtime.operations import RunOperations
from orchestrator.runtime.rebuild import read_view
from orchestrator.runtime.resources import RuntimeResources
from orchestrator.store.base import StreamMeta

if TYPE_CHECKING:
    from orchestrator.events.records import SignalRecord
    from orchestrator.flow.operators import Operator
    from orchestrator.projection.execution import RunRecord
    from orchestrator.runtime.engine import ExecutionEngine
    from orchestrator.store.base import AppendRequest

__all__ = [
    "attach_child",
    "capture",
    "child_id_for",
    "drive_child",
    "finish_frame",
    "projections",
    "refuse_settled",
    "run_sub_flow",
]


def child_id_for(parent_id: str, run_id: str) -> str:
    """The child of a sub-flow run: derived, so a re-run finds the same child."""
    return child_execution_id(parent_id, run_id)


def _read(source: list[str], value: Any, state: Any, flow_data: Any) -> Any:
    scope, path = source
    root = {"value": value, "state": state, "flow_data": flow_data}[scope]
    if not path:
        return copy_json(root)
    found = get_path(root, path, MISSING) if isinstance(root, dict) else MISSING
    return None if found is MISSING else copy_json(found)


def capture(
    engine: ExecutionEngine, op: Operator, value: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The captured values (JSON) and resources (live, by identity) of one call."""
    spec = op.options["capture"]
    state = engine.view.state
    flow_data = engine.flow_data.view.flow_data
    captured_state: dict[str, Any] = {}
    for path, source in (spec.get("state") or {}).items():
        set_path(captured_state, path, _read(source, value, state, flow_data))
    captured_flow: dict[str, Any] = {}
    for path, source in (spec.get("flow_data") or {}).items():
        set_path(captured_flow, path, _read(source, value, state, flow_data))
    captured_input = _read(spec["input"], value, state, flow_data)
    resources = {
        child_key: engine.resources[parent_key]
        for child_key, parent_key in (spec.get("resources") or {}).items()
        if parent_key in engine.resources
    }
    missing = [
        p for p in (spec.get("resources") or {}).values() if p not in engine.resources
    ]
    if missing:
        raise MissingResourceError(engine.id, missing, list(engine.resources.keys()))
    # Each part is capped where the child keeps it (its input, its state root),
    # as set_state would cap it there, not by this dict's own wrapping.
    where = f"sub-flow {op.name!r} capture"
    captured = {
        "input": to_json_value(captured_input, where, "$.input"),
        "state": to_json_value(captured_state, where, "$.state", depth=-1),
        "flow_data": to_json_value(captured_flow, where, "$.flow_data", depth=-1),
    }
    return captured, resources


def _new_child(
    parent: ExecutionEngine,
    op: Operator,
    run_id: str,
    child_id: str,
    captured: dict[str, Any],
    resources: dict[str, Any],
) -> tuple[ExecutionEngine, list[AppendRequest]]:
    child_flow = parent.host.sub_flow(op.id)
    host = ChildHost(parent, child_flow, child_id)
    child_flow.definition.validate()
    view = ExecutionView(child_id, kind="child")
    engine = _open_child(parent, child_flow, host, view, resources, rebuilt=False)
    engine.record(
        ExecutionCreated(
            flow_name=child_flow.name,
            fingerprint=child_flow.definition.fingerprint,
            kind="child",
            resource_keys=sorted(engine.resources.keys()),
            auto_close=False,
            concurrency=op.options.get("concurrency"),
            skip_exceptions=child_flow.skip_exceptions,
            parent={"execution_id": parent.id, "run_id": run_id, "operator_id": op.id},
            initial_state=captured["state"] or None,
            captured={**captured, "resources": list(sorted(resources))},  # noqa: C413 - JsonValue list
        ),
        flush=False,
    )
    extra = [
        host.flow_data.write_request(key, value, child_id)
        for key, value in (captured["flow_data"] or {}).items()
    ]
    return engine, [*engine.journal.take_requests(), *extra]


def attach_child(parent: ExecutionEngine, child_id: str) -> ExecutionEngine:
    """The live engine of a child, rebuilt from its stream when needed."""
    live = parent.children.get(child_id)
    if live is not None:
        return live
    frame = parent.view.frames[child_id]
    op = parent.definition.operators[frame["operator_id"]]
    child_flow = parent.host.sub_flow(op.id)
    host = ChildHost(parent, child_flow, child_id)
    view, _ = read_view(parent.store, child_id)
    spec = op.options["capture"].get("resources") or {}
    resources = {
        k: parent.resources[p] for k, p in spec.items() if p in parent.resources
    }
    return _open_child(parent, child_flow, host, view, resources, rebuilt=True)


def _open_child(
    parent: ExecutionEngine,
    child_flow: Any,
    host: ChildHost,
    view: ExecutionView,
    resources: dict[str, Any],
    *,
    rebuilt: bool,
) -> ExecutionEngine:
    """A child's live engine: the parent's lease, its own stream (kind ``child``)."""
    engine = parent.driver.open_engine(
        host,
        view,
        RuntimeResources(child_flow.flow_resources, resources),
        owner=parent.lease.owner,
        lease_ttl=parent.lease.ttl,
        rebuilt=rebuilt,
    )
    engine.journal.stream_meta = StreamMeta("child", child_flow.name, parent.id)
    parent.children[view.execution_id] = engine
    return engine


async def drive_child(child: ExecutionEngine, start_input: Any) -> BaseException | None:
    """Start the child if it never started; wait until it is idle."""
    child.bind()
    error: BaseException | None = None
    if child.view.started_at is None and child.view.lifecycle == LifecycleState.OPEN:
        try:
            await lifecycle.start(child, start_input, None)
        except Exception as failure:  # noqa: BLE001 - reported through the frame
            error = failure
    try:
        await child.wait_idle()
    except Exception as failure:  # noqa: BLE001
        error = error or failure
    return error or child.first_error


async def run_sub_flow(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    """The runner of a sub_flow operator: start (or re-attach) the child, then finish."""
    engine.record(
        ChunkStarted(
            run_id=run.run_id,
            op_id=op.id,
            chunk=op.name,
            signal_id=signal["id"],
            attempt=max(run.attempt, 1),
        )
    )
    ops = RunOperations(engine, run, signal, op)
    child_id = child_id_for(engine.id, run.run_id)
    index, recorded = ops.next("sub_flow", child_id)
    if recorded is None:
        captured, resources = capture(engine, op, signal["value"])
        child, requests = _new_child(
            engine, op, run.run_id, child_id, captured, resources
        )
        engine.record(
            SubFlowStarted(
                run_id=run.run_id,
                op=index,
                child_id=child_id,
                child_flow=child.view.flow_name,
                operator_id=op.id,
                captured=captured,
                resource_keys=sorted(resources),
            ),
            flush=False,
        )
        engine.flush(extra=requests)
        start_input = captured["input"]
    else:
        child = attach_child(engine, child_id)
        start_input = engine.view.frames[child_id]["captured"]["input"]
    error = await drive_child(child, start_input)
    await finish_frame(engine, child, run=run, error=error)


def _write_back(
    engine: ExecutionEngine, op: Operator, snapshot: dict[str, Any], incoming: Any
) -> tuple[Any, dict[str, Any], list[AppendRequest]]:
    spec = op.options["write_back"]
    result = snapshot.get("$final_result", snapshot)
    roots = {"result": result, "snapshot": snapshot}

    def read(source: list[str]) -> Any:
        scope, path = source
        root = roots[scope]
        if not path:
            return copy_json(root)
        found = get_path(root, path, MISSING) if isinstance(root, dict) else MISSING
        return None if found is MISSING else copy_json(found)

    def placed(target: str, path: str, source: list[str]) -> Any:
        # Capped where it lands, as set_state caps it: the path's segments count,
        # so value + path still encodes in every record that wraps it (save()).
        where = f"sub-flow {op.name!r} write_back[{target!r}][{path!r}]"
        return to_json_value(read(source), where, depth=write_depth(path))

    value = read(spec["value"]) if "value" in spec else copy_json(incoming)
    state = {p: placed("state", p, s) for p, s in (spec.get("state") or {}).items()}
    flow = {
        p: placed("flow_data", p, s) for p, s in (spec.get("flow_data") or {}).items()
    }
    requests = [
        engine.flow_data.write_request(p, v, engine.id) for p, v in flow.items()
    ]
    return value, state, requests


async def finish_frame(
    parent: ExecutionEngine,
    child: ExecutionEngine,
    *,
    run: RunRecord | None,
    error: BaseException | None = None,
) -> None:
    """Project a waiting child, or close it, write back and continue the parent."""
    frame = parent.view.frames.get(child.id, {})
    op = parent.definition.operators[frame["operator_id"]]
    signal = frame.get("signal") or {}
    if (
        frame.get("status") != "cancelled"
        and child.view.status == ExecutionStatus.CANCELLED
    ):
        # The child was cancelled but the parent's record of it is missing (a
        # crash between the two appends of cancel_sub_flow, or a cancel sent to
        # the child itself): a cancelled child never writes back. Fence it.
        reason = child.view.close_reason or "the child execution was cancelled"
        parent.record(SubFlowCancelled(child_id=child.id, reason=reason))
        frame = parent.view.frames.get(child.id, {})
    if frame.get("status") == "cancelled":
        # Fenced: a cancelled child writes nothing back and continues nothing.
        if run is not None and run.run_id in parent.view.runs:
            parent.finish_run(run, ChunkCompleted(run_id=run.run_id, emits=[]))
        return
    if child.view.status == ExecutionStatus.WAITING and error is None:
        parent.record(SubFlowWaiting(child_id=child.id, interrupts=projections(child)))
        if run is not None:
            parent.finish_run(run, ChunkCompleted(run_id=run.run_id, emits=[]))
        return
    snapshot: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        snapshot = await lifecycle.close(child, "sub_flow", None, "cancel", True)
    if error is not None or child.view.status == ExecutionStatus.FAILED:
        parent.record(
            SubFlowCompleted(
                child_id=child.id, status="failed", run_id=run.run_id if run else None
            )
        )
        failure = error or _child_error(child)
        if run is not None:
            parent.fail_run(run, failure)
        return
    try:
        value, state, requests = _write_back(parent, op, snapshot, signal.get("value"))
    except PayloadError as refused:  # nothing written back: the parent's run fails
        parent.record(
            SubFlowCompleted(
                child_id=child.id, status="failed", run_id=run.run_id if run else None
            )
        )
        if run is not None:
            parent.fail_run(run, refused)
        return
    cascade = (
        signal.get("cascade")
        if run is not None
        else derive_id("s", child.id, "cascade")
    )
    continuation = parent.signal(
        derive_id("s", child.id, "result"),
        op.continuation or "",
        value,
        source="sub_flow",
        cascade=str(cascade),
        layers=list(signal.get("layers") or []),
        origin=signal.get("origin"),
    )
    for request in requests:
        parent.journal.add_extra(request)  # written atomically with SubFlowCompleted
    parent.record(
        SubFlowCompleted(
            child_id=child.id,
            status="completed",
            state=state,
            emits=[continuation],
            run_id=run.run_id if run else None,
        )
    )
    if run is not None:
        parent.finish_run(run, ChunkCompleted(run_id=run.run_id, emits=[]))
    parent.spawn(continuation)
    if run is None and continuation["targets"]:
        await parent.wait_cascade(continuation["cascade"])


def projections(child: ExecutionEngine) -> dict[str, dict[str, Any]]:
    """The waiting interrupts of ``child`` as its parent lists them (``<child>:<id>``)."""
    projected: dict[str, dict[str, Any]] = {}
    for local_id, record in child.view.interrupts.items():
        if record.get("status") != "waiting":
            continue
        entry = copy_json(record)
        entry["id"] = f"{child.id}:{local_id}"
        entry["local_interrupt_id"] = local_id
        entry["child_execution_id"] = child.id
        entry["sub_flow"] = {
            "child_id": child.id,
            "local_interrupt_id": local_id,
            "child_flow": child.view.flow_name,
        }
        projected[entry["id"]] = entry
    return projected


def _child_error(child: ExecutionEngine) -> BaseException:
    record = (
        child.view.errors[-1]
        if child.view.errors
        else {"type": "Error", "message": "failed"}
    )
    seq = record.get("seq")
    return ChunkError(
        child.id,
        str(record.get("chunk", "")),
        str(record["type"]),
        str(record["message"]),
        seq if isinstance(seq, int) else None,
    )


def refuse_settled(
    child: ExecutionEngine, local_id: str, value: Any, resume_request_id: str | None
) -> None:
    """Raise why a closed child's interrupt cannot be continued (or accept a retry)."""
    record = child.view.interrupts.get(local_id)
    if already_settled(child, record, local_id, value, resume_request_id):
        return  # the same resume_request_id and value: already done
    raise InterruptNotWaitingError(
        f"execution {child.id!r}: interrupt {local_id!r} is not waiting: the "
        f"execution is closed ({child.view.status}). Check get_pending_interrupts() "
        "for what is still waiting."
    )
