"""Sub-flow pauses resumed from another process, after the parent was rebuilt from the log.

Spec: issue 6 ("Pauses inside a child surface on the parent ... Works across
processes (parent rebuilt from the log in a fresh process)"; the test "child
pause projected to the parent, resumed from ANOTHER PROCESS after the parent
was rebuilt from the log"), reference §10 (pause projection across save/load).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.projection import fold
from orchestrator.testing import fold_execution
from tests.integration.scripts import flows
from tests.integration.scripts.logs import stream
from tests.integration.scripts.runner import release, run_worker, start_workers

pytestmark = pytest.mark.timeout(120)


async def test_child_pause_resumed_from_another_process(tmp_path: Path) -> None:
    db = str(tmp_path / "legal.db")
    parent = flows.build_legal_parent(db)
    execution = parent.create_execution(
        auto_close=False, runtime_resources={"reviewer": object()}
    )
    await execution.async_start("pricing")
    pending_here = execution.get_pending_interrupts()
    (interrupt_id,) = pending_here
    (child,) = execution.get_sub_flow_executions()
    parent.store.close()

    out = run_worker("legal_continue", db, execution.id, "approved")

    assert list(out["pending"]) == [interrupt_id]
    projected = out["pending"][interrupt_id]
    assert projected["local_interrupt_id"] == "legal"
    assert projected["child_execution_id"] == child["child_id"]
    assert out["status"] == "completed"
    snapshot = out["snapshot"]
    assert snapshot["request"] == {"topic": "pricing"}  # written here
    assert snapshot["verdict"] == "approved"  # written back there
    assert snapshot["final"] == {"verdict": "approved", "topic": "pricing"}
    assert snapshot["finish_runs"] != [os.getpid()]
    assert len(snapshot["finish_runs"]) == 1
    assert [c["status"] for c in out["children"]] == ["completed"]

    reader = flows.build_legal_parent(db)
    store = reader.store
    again = reader.get_execution(execution.id)
    assert again.get_status() == "completed"
    assert again.get_pending_interrupts() == {}
    assert fold_execution(store, execution.id).close_snapshot == snapshot
    child_view = fold(child["child_id"], store.read_stream(child["child_id"]))
    assert child_view.status == "completed"
    assert child_view.state["verdict"] == "approved"
    assert child_view.state["child_pid"] != os.getpid()
    assert child_view.interrupts["legal"]["status"] == "resolved"
    assert stream(store, child["child_id"]).status == "completed"
    store.close()


async def test_three_levels_resumed_from_another_process(tmp_path: Path) -> None:
    db = str(tmp_path / "nested.db")
    top = flows.build_nested(db)
    execution = top.create_execution(auto_close=False)
    await execution.async_start("q")
    assert execution.get_status() == "waiting"
    top.store.close()

    out = run_worker("nested_continue", db, execution.id, "from afar")

    assert len(out["pending"]) == 1
    assert out["status"] == "completed"
    assert out["snapshot"]["deep_answer"] == "from afar"
    assert out["snapshot"]["top_result"] == {
        "mid_saw": {"answer": "from afar", "level": "bottom"}
    }
    assert out["snapshot"]["top_done_runs"] == [1]

    reader = flows.build_nested(db)
    store = reader.store
    (mid,) = store.list_streams(parent_id=execution.id)
    (bottom,) = store.list_streams(parent_id=mid.stream_id)
    assert stream(store, mid.stream_id).status == "completed"
    assert stream(store, bottom.stream_id).status == "completed"
    store.close()


async def test_two_processes_race_one_projected_interrupt(tmp_path: Path) -> None:
    """Issue 5 claims (atomic across processes) through a sub-flow: of two
    processes continuing the same projected interrupt exactly one wins; the
    child resumes once and the parent continuation runs once."""
    db = str(tmp_path / "legal-race.db")
    parent = flows.build_legal_parent(db)
    execution = parent.create_execution(
        auto_close=False, runtime_resources={"reviewer": object()}
    )
    await execution.async_start("pricing")
    (child,) = execution.get_sub_flow_executions()
    parent.store.close()

    procs = start_workers(
        [
            ["legal_race", db, execution.id, "first"],
            ["legal_race", db, execution.id, "second"],
        ]
    )
    results = release(procs)
    winners = [r for r in results if r.get("won")]
    assert len(winners) == 1, results
    loser = next(r for r in results if not r.get("won"))
    assert loser["error"] == "InterruptNotWaitingError", loser

    reader = flows.build_legal_parent(db)
    store = reader.store
    again = reader.get_execution(execution.id, runtime_resources={"reviewer": object()})
    assert again.get_pending_interrupts() == {}
    assert again.get_state("verdict") == winners[0]["value"]
    assert len(again.get_state("finish_runs")) == 1
    child_events = [e.type for e in store.read_stream(child["child_id"])]
    assert child_events.count("interrupt.resolved") == 1
    parent_events = [e.type for e in store.read_stream(execution.id)]
    assert parent_events.count("sub_flow.completed") == 1
    await again.async_close()
    store.close()


async def test_a_stale_parent_cannot_continue_a_child_that_already_finished(
    tmp_path: Path,
) -> None:
    """The deterministic form of the race's losing side: the parent was rebuilt
    before another handle resumed the child and the child ran to its end. The
    stale continue_with must be refused as not waiting, writing nothing, not
    fail on the parent's moved head (found by the race test under load)."""
    from orchestrator import InterruptNotWaitingError

    db = str(tmp_path / "stale.db")
    resources = {"reviewer": object()}
    first = flows.build_legal_parent(db)
    execution = first.create_execution(auto_close=False, runtime_resources=resources)
    await execution.async_start("pricing")
    second = flows.build_legal_parent(db)  # another store object: another writer
    stale = second.get_execution(execution.id, runtime_resources=resources)
    (interrupt_id,) = stale.get_pending_interrupts()
    await execution.async_continue_with(interrupt_id, "approved")
    (child,) = execution.get_sub_flow_executions()
    assert child["status"] == "completed"
    head = first.store.head_position()
    with pytest.raises(InterruptNotWaitingError, match="not waiting"):
        await stale.async_continue_with(interrupt_id, "rejected")
    assert second.store.head_position() == head
    assert execution.get_state("verdict") == "approved"
    first.store.close()
    second.store.close()
