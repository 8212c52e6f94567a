"""Periodic snapshots: a rebuild folds from the latest snapshot and equals the live view."""

from __future__ import annotations

from pathlib import Path

from orchestrator import TriggerFlow, TriggerFlowRuntimeData
from orchestrator.testing import assert_replay_equivalent, fold_execution


async def write_many(data: TriggerFlowRuntimeData) -> None:
    for i in range(40):
        data.set_state(f"k{i % 5}", i)
        data.append_state("log", i)


def build(db: str) -> TriggerFlow:
    flow = TriggerFlow(name="snapshots", store=db)
    flow.when("go").to(write_many)
    return flow


async def test_rebuild_starts_at_the_latest_snapshot(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    flow = build(db)
    execution = flow.create_execution(auto_close=False)
    execution._engine.journal.snapshot_every = 60
    await execution.async_start(None)
    for _ in range(6):
        await execution.async_emit("go")
    await assert_replay_equivalent(execution)  # folding from seq 1 agrees too
    info = flow.store.get_stream(execution.id)
    assert info is not None
    assert info.snapshot_seq > 1
    types = [e.type for e in flow.store.read_stream(execution.id)]
    assert types.count("execution.snapshot") >= 4
    assert types[info.snapshot_seq - 1] == "execution.snapshot"

    tail = flow.store.read_stream(execution.id, from_seq=info.snapshot_seq)
    assert len(tail) < len(types) / 3
    rebuilt = build(db).get_execution(execution.id)
    assert rebuilt.view.to_json() == execution.view.to_json()
    assert (
        fold_execution(flow.store, execution.id).to_json() == execution.view.to_json()
    )
    await rebuilt.async_emit("go")
    assert len(rebuilt.get_state("log")) == 7 * 40
