"""kill -9 while sub-flow children run: one child per call, parent state as golden.

Each parent execution makes two sub-flow calls; the worker is SIGKILLed at
random instants (>= 30 per run) and recovered until it finishes. A re-executed
parent run must re-attach to the child it started (child ids derive from the
parent chunk run) instead of starting a second one.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from orchestrator.store.sqlite import SQLiteEventStore
from tests.recovery.harness import (
    integrity,
    kill_until_done,
    run_to_completion,
    sink_counts,
)
from tests.recovery.sub_flow_battery import build_parent, inputs

MODULE = "tests.recovery.sub_flow_battery"
PARENTS = 16
CALLS = 2


def _parents(db: Path) -> dict[str, tuple[str, Any]]:
    flow = build_parent(str(db))
    views = {
        execution_id: (
            flow.get_execution(execution_id).get_status(),
            flow.get_execution(execution_id).get_state(),
        )
        for execution_id in inputs(PARENTS)
    }
    flow.store.close()
    return views


def _children(db: Path) -> dict[str, list[str]]:
    store = SQLiteEventStore(str(db), read_only=True)
    try:
        return {
            execution_id: sorted(
                i.status for i in store.list_streams(parent_id=execution_id)
            )
            for execution_id in inputs(PARENTS)
        }
    finally:
        store.close()


@pytest.mark.timeout(600)
def test_kill_nine_while_children_run(tmp_path: Path) -> None:
    run_to_completion(
        tmp_path / "golden.db", tmp_path / "golden-sink.db", PARENTS, module=MODULE
    )
    golden = _parents(tmp_path / "golden.db")
    assert {status for status, _ in golden.values()} == {"completed"}
    rng = random.Random(614)
    kills = rounds = 0
    while kills < 30:
        rounds += 1
        db, sink = tmp_path / f"r{rounds}.db", tmp_path / f"r{rounds}-sink.db"
        kills += kill_until_done(db, sink, PARENTS, rng, 0.1, module=MODULE).kills
        assert integrity(db) == "ok"
        assert _parents(db) == golden, f"round {rounds}: parent state diverged"
        children = _children(db)
        assert all(
            statuses == ["completed"] * CALLS for statuses in children.values()
        ), children
        effects, _, doubled = sink_counts(sink)
        assert effects == PARENTS * CALLS
        assert doubled == 0
    assert kills >= 30
