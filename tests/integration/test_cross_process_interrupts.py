"""Interrupts across real processes: pause here, continue there; racing continue_with.

Spec: issue 5 ("Across processes", "Claims atomic across processes"), reference
§7 (the seed-000 fresh-process run), seed 000 "Resuming around a pause_for".
Workers are real interpreters running tests/integration/scripts/worker.py on the
same SQLite file; they rebuild the flow from tests/integration/scripts/flows.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from orchestrator import InterruptNotWaitingError, TriggerFlow
from orchestrator.events.codec import loads
from orchestrator.testing import assert_replay_equivalent, fold_execution
from tests.integration.scripts import flows
from tests.integration.scripts.logs import interrupt, stream
from tests.integration.scripts.runner import release, run_worker, start_workers

pytestmark = pytest.mark.timeout(120)


def _resolutions(
    flow: TriggerFlow, execution_id: str, interrupt_id: str
) -> list[dict[str, Any]]:
    return [
        loads(e.data)
        for e in flow.store.read_stream(execution_id)
        if e.type == "interrupt.resolved"
        and loads(e.data).get("interrupt_id") == interrupt_id
    ]


def _close_stores(*flows_: TriggerFlow) -> None:
    for flow in flows_:
        if flow._store is not None:
            flow._store.close()


# -- seed 000: pause after async_start, continue in a fresh process ---------------------------


@pytest.mark.parametrize("mode", ["get_execution", "load"])
async def test_seed000_pause_here_continue_in_fresh_process(
    tmp_path: Path, mode: str
) -> None:
    """Seed 000: start pauses; a fresh process re-injects resources, continues, closes.

    The close snapshot holds state written by both processes. No save() is needed
    for get_execution (only the shared store); load(saved) works as well.
    """
    db = str(tmp_path / "seed.db")
    flow = flows.build_approval_flow(db)
    execution = flow.create_execution(
        auto_close=False, runtime_resources={"search_tool": flows.SearchTool("here")}
    )
    await execution.async_start("topic")
    assert execution.get_status() == "waiting"
    assert list(execution.get_pending_interrupts()) == ["approval-1"]
    saved_path = tmp_path / "saved.json"
    if mode == "load":
        saved_path.write_text(json.dumps(await execution.async_save()))
    _close_stores(flow)

    out = run_worker("seed_continue", db, execution.id, mode, str(saved_path))

    assert out["execution_id"] == execution.id
    assert out["status_before"] == "waiting"
    assert out["pending"] == ["approval-1"]
    record = out["pending_record"]
    assert record["type"] == "approval"
    assert record["payload"] == {"topic": "topic"}
    assert record["status"] == "waiting"
    assert out["record_status"] == "resolved"
    assert out["status"] == "completed"
    snapshot = out["snapshot"]
    assert snapshot["topic"] == "topic"
    assert snapshot["decision"] == {"approved": True}
    assert snapshot["search"] == "fresh:topic"  # the re-injected resource was used
    assert snapshot["paused_in_pid"] == os.getpid()
    assert snapshot["resumed_in_pid"] not in (None, os.getpid())
    assert snapshot["is_resume"] is True

    # A third process (here, a new flow object) sees the closed execution.
    reader = flows.build_approval_flow(db)
    again = reader.get_execution(execution.id)
    assert again.get_status() == "completed"
    assert again.lifecycle_state == "closed"
    assert interrupt(again, "approval-1")["status"] == "resolved"
    assert len(_resolutions(reader, execution.id, "approval-1")) == 1
    assert fold_execution(reader.store, execution.id).close_snapshot == snapshot
    _close_stores(reader)


async def test_fresh_process_fold_of_a_waiting_execution(tmp_path: Path) -> None:
    """The pending interrupt is in the log, not in this process's memory."""
    flow = flows.build_approval_flow(str(tmp_path / "fold.db"))
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("topic")
    view = await assert_replay_equivalent(execution, fresh_process=True)
    assert list(view.interrupts) == ["approval-1"]
    assert view.status == "waiting"
    await execution.async_close(pending_interrupts="cancel")
    _close_stores(flow)


async def test_stale_handle_after_another_process_resolved_it(tmp_path: Path) -> None:
    """Issue 5: the loser raises InterruptNotWaitingError, also from a handle that
    still believes the interrupt waits (this process paused it, another one
    resolved it and closed the execution); nothing is appended."""
    db = str(tmp_path / "stale.db")
    flow = flows.build_approval_flow(db)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("topic")
    assert execution.get_status() == "waiting"  # this handle stays live and stale

    out = run_worker("seed_continue", db, execution.id, "get_execution", "")
    assert out["status"] == "completed"
    head = stream(flow.store, execution.id).last_seq

    with pytest.raises(InterruptNotWaitingError, match="not waiting"):
        await execution.async_continue_with("approval-1", {"approved": False})
    assert stream(flow.store, execution.id).last_seq == head
    assert len(_resolutions(flow, execution.id, "approval-1")) == 1
    _close_stores(flow)


# -- racing continue_with from two processes ------------------------------------------------


async def _paused_race(db: str) -> str:
    flow = flows.build_race_flow(db)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("go")
    assert execution.get_status() == "waiting"
    _close_stores(flow)
    return execution.id


@pytest.mark.parametrize("round_", [1, 2])
async def test_two_processes_race_one_interrupt_exactly_one_wins(
    tmp_path: Path, round_: int
) -> None:
    """Issue 5: of two concurrent continue_with calls exactly one wins, the other
    raises InterruptNotWaitingError ("not waiting ... at seq N"); downstream runs once.
    """
    db = str(tmp_path / f"race{round_}.db")
    execution_id = await _paused_race(db)
    procs = start_workers(
        [["race", db, execution_id, "p0", ""], ["race", db, execution_id, "p1", ""]]
    )
    results = release(procs)

    winners = [r for r in results if r.get("won")]
    losers = [r for r in results if not r.get("won")]
    assert len(winners) == 1, results
    assert len(losers) == 1, results
    assert losers[0]["error"] == "InterruptNotWaitingError", losers
    assert "not waiting" in losers[0]["message"]
    assert "seq" in losers[0]["message"]
    won_value = winners[0]["record"]["resume_value"]

    reader = flows.build_race_flow(db)
    execution = reader.get_execution(execution_id)
    runs = execution.get_state("downstream_runs")
    assert [r["value"] for r in runs] == [won_value]
    assert len(_resolutions(reader, execution_id, "race-1")) == 1
    assert interrupt(execution, "race-1")["resume_value"] == won_value
    snapshot = await execution.async_close()
    assert len(snapshot["downstream_runs"]) == 1
    _close_stores(reader)


async def test_race_with_same_resume_request_id_is_idempotent(tmp_path: Path) -> None:
    """Same resume_request_id + same value from two processes: both return the
    record (idempotent), one resolution, downstream once."""
    db = str(tmp_path / "same.db")
    execution_id = await _paused_race(db)
    procs = start_workers(
        [
            ["race", db, execution_id, "same", "req-1"],
            ["race", db, execution_id, "same", "req-1"],
        ]
    )
    results = release(procs)
    assert all(r.get("won") for r in results), results
    assert {r["record"]["status"] for r in results} == {"resolved"}

    reader = flows.build_race_flow(db)
    execution = reader.get_execution(execution_id)
    assert [r["value"] for r in execution.get_state("downstream_runs")] == ["same"]
    assert len(_resolutions(reader, execution_id, "race-1")) == 1
    await execution.async_close()
    _close_stores(reader)


async def test_race_with_same_request_id_different_values_conflicts(
    tmp_path: Path,
) -> None:
    """Same resume_request_id, different values: one wins, the other gets
    ResumeConflictError; downstream once with the winner's value."""
    db = str(tmp_path / "conflict.db")
    execution_id = await _paused_race(db)
    procs = start_workers(
        [
            ["race", db, execution_id, "a", "req-1"],
            ["race", db, execution_id, "b", "req-1"],
        ]
    )
    results = release(procs)
    winners = [r for r in results if r.get("won")]
    assert len(winners) == 1, results
    loser = next(r for r in results if not r.get("won"))
    assert loser["error"] == "ResumeConflictError", loser
    assert "conflicting resume_request_id" in loser["message"]

    reader = flows.build_race_flow(db)
    execution = reader.get_execution(execution_id)
    runs = execution.get_state("downstream_runs")
    assert [r["value"] for r in runs] == [winners[0]["record"]["resume_value"]]
    await execution.async_close()
    _close_stores(reader)
