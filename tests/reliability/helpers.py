"""Shared pieces of the reliability battery: child processes, raw SQLite checks."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]


def child_env(**extra: str) -> dict[str, str]:
    """Environment for a child interpreter that imports this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    env.update(extra)
    return env


def run_python(
    code: str, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (``sys.executable -c``)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def raw_connect(
    path: str | os.PathLike[str], read_only: bool = False
) -> sqlite3.Connection:
    """A plain sqlite3 connection, outside the store (for checks and tampering)."""
    if read_only:
        uri = Path(path).absolute().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, isolation_level=None)
    return sqlite3.connect(os.fspath(path), isolation_level=None)


def integrity(path: str | os.PathLike[str]) -> str:
    conn = raw_connect(path)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    return "; ".join(str(r[0]) for r in rows)


def execute(
    path: str | os.PathLike[str], sql: str, params: tuple[Any, ...] = ()
) -> None:
    conn = raw_connect(path)
    try:
        conn.execute(sql, params)
    finally:
        conn.close()


def query(
    path: str | os.PathLike[str], sql: str, params: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    conn = raw_connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# -- a small database with realistic executions ----------------------------------------


def realistic_events(execution_id: str, n: int) -> list[Any]:
    """An execution's events as the runtime writes them: created, started, a
    START signal with targets, chunk runs that write state and emit, closed."""
    from orchestrator.events import (
        ChunkCompleted,
        ChunkStarted,
        ExecutionClosed,
        ExecutionCreated,
        ExecutionStarted,
        SignalEmitted,
        StateAppended,
        StateDeleted,
        StateSet,
    )
    from orchestrator.projection import run_id_for

    def signal(sid: str, event: str, targets: list[str], value: Any) -> Any:
        return {
            "id": sid,
            "event": event,
            "type": "event",
            "value": value,
            "source": "start" if event == "START" else "chunk",
            "cascade": f"c-{execution_id}",
            "layers": [],
            "targets": targets,
        }

    start = signal(f"{execution_id}-s0", "START", ["op-a", "op-b"], {"n": n})
    events: list[Any] = [
        ExecutionCreated(
            flow_name="orders", fingerprint="f" * 16, resource_keys=["db"]
        ),
        ExecutionStarted(),
        SignalEmitted(signal=start),
    ]
    for op in ("op-a", "op-b"):
        run = run_id_for(start["id"], op)
        events += [
            ChunkStarted(run_id=run, op_id=op, chunk=op.upper(), signal_id=start["id"]),
            StateSet(
                key=f"results.{op}",
                value={"items": list(range(n)), "ok": True},
                run_id=run,
                op=0,
            ),
            StateAppended(key="log", value=f"{op} done", run_id=run, op=1),
        ]
        nxt = signal(
            f"{execution_id}-{op}-next",
            f"{op}.done",
            [] if op == "op-a" else ["op-c"],
            n,
        )
        events.append(ChunkCompleted(run_id=run, emits=[nxt]))
    run_c = run_id_for(f"{execution_id}-op-b-next", "op-c")
    events += [
        ChunkStarted(
            run_id=run_c, op_id="op-c", chunk="C", signal_id=f"{execution_id}-op-b-next"
        ),
        StateDeleted(key="results.op-a", run_id=run_c, op=0),
        StateSet(key="total", value=n * 1.5, run_id=run_c, op=1),
        ChunkCompleted(run_id=run_c),
        ExecutionClosed(reason="done", status="completed"),
    ]
    return events


def build_realistic_db(
    path: str | os.PathLike[str], executions: int = 4, clock: Any = None
) -> None:
    """Executions and a flow stream written through the store API, then closed
    (so the whole database is in the main file)."""
    from orchestrator.events import FlowDataSet, FlowDefined, encode
    from orchestrator.store import AppendRequest, NewEvent, SQLiteEventStore, StreamMeta

    store = SQLiteEventStore(path, clock=clock)
    try:
        flow: list[Any] = [
            FlowDefined(fingerprint="f" * 16, blueprint={"chunks": ["A", "B", "C"]})
        ]
        flow.append(FlowDataSet(key="counter", value=executions))
        store.append_blocking(
            [
                AppendRequest(
                    "flow:orders",
                    [NewEvent(*encode(e)) for e in flow],
                    meta=StreamMeta(kind="flow", flow_name="orders"),
                )
            ]
        )
        for i in range(executions):
            eid = f"exec-{i:02d}"
            events = [NewEvent(*encode(e)) for e in realistic_events(eid, i + 2)]
            meta = StreamMeta(kind="execution", flow_name="orders", status="running")
            # written in a few appends, as a live execution would
            store.append_blocking([AppendRequest(eid, events[:3], 0, meta)])
            store.append_blocking([AppendRequest(eid, events[3:9], 3)])
            store.append_blocking(
                [AppendRequest(eid, events[9:], 9, StreamMeta(status="completed"))]
            )
    finally:
        store.close()


def replay_outcome(
    path: str | os.PathLike[str], read_only: bool = False
) -> dict[str, Any]:
    """Open, list, read every stream and fold it: what a process would rebuild."""
    from orchestrator.projection import fold_flow
    from orchestrator.runtime.rebuild import read_view
    from orchestrator.store import SQLiteEventStore

    store = SQLiteEventStore(path, read_only=read_only)
    try:
        streams = store.list_streams()
        outcome: dict[str, Any] = {
            # which streams exist and how long they are (sorted: the listing's
            # order comes from the updated_at index, which is not replayed
            # state; snapshot_seq is a hint, checked where it is used)
            "streams": sorted((s.stream_id, s.last_seq) for s in streams),
            "index": streams,
            "events": {},
            "views": {},
        }
        for info in streams:
            events = store.read_stream(info.stream_id)
            outcome["events"][info.stream_id] = [
                (e.seq, e.type, e.data, e.created_at) for e in events
            ]
            if events and events[0].type == "execution.created":
                # As recovery rebuilds it: from the snapshot the index points at.
                execution, _ = read_view(store, info.stream_id)
                outcome["views"][info.stream_id] = execution.to_json()
            elif events and events[0].type == "flow.defined":
                flow = fold_flow(info.stream_id.removeprefix("flow:"), events)
                outcome["views"][info.stream_id] = (flow.flow_data, flow.definitions)
        outcome["log"] = [(e.stream_id, e.seq) for e in store.read_all(0, 10**6)]
        return outcome
    finally:
        store.close()
