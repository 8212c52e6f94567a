"""The core durability claim: kill -9 at random instants, recover, same result.

A worker process runs M executions of a flow mixing chains, batch, for_each, an
and-join, state appends, awaited emits and journaled steps into an idempotent
sink. The test SIGKILLs workers at random instants and starts recovering ones
until a worker finishes by itself, then compares with an uninterrupted golden
run: identical final state and status for every execution, every step recorded
exactly once in the log, and no step key applied twice by the sink (a step may
be *called* more than once: that is the documented at-least-once window).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.recovery.harness import (
    final_views,
    integrity,
    kill_until_done,
    run_to_completion,
    sink_counts,
    step_records,
)

EXECUTIONS = 24
STEPS_PER_EXECUTION = 4  # register + one charge per for_each item (3)


def _battery(
    tmp_path: Path, kills_wanted: int, seed: int, max_delay: float
) -> dict[str, int]:
    golden_db, golden_sink = tmp_path / "golden.db", tmp_path / "golden-sink.db"
    run_to_completion(golden_db, golden_sink, EXECUTIONS)
    golden = final_views(golden_db, EXECUTIONS)
    assert all(status == "completed" for status, _ in golden.values())
    rng = random.Random(seed)
    totals = {"kills": 0, "rounds": 0, "duplicate_calls": 0}
    while totals["kills"] < kills_wanted:
        totals["rounds"] += 1
        db = tmp_path / f"round-{totals['rounds']}.db"
        sink = tmp_path / f"round-{totals['rounds']}-sink.db"
        result = kill_until_done(db, sink, EXECUTIONS, rng, max_delay)
        totals["kills"] += result.kills
        assert integrity(db) == "ok"
        assert final_views(db, EXECUTIONS) == golden, (
            f"round {totals['rounds']} diverged"
        )
        steps = step_records(db, EXECUTIONS)
        assert len(steps) == EXECUTIONS * STEPS_PER_EXECUTION
        assert set(steps.values()) == {1}, "a step was recorded twice"
        effects, calls, doubled = sink_counts(sink)
        assert effects == EXECUTIONS * STEPS_PER_EXECUTION
        assert doubled == 0
        totals["duplicate_calls"] += calls - effects
    return totals


@pytest.mark.timeout(600)
def test_kill_nine_battery_matches_the_golden_run(tmp_path: Path) -> None:
    seed = int(os.environ.get("TRIGGERLOG_BATTERY_SEED", "20261121"))
    totals = _battery(tmp_path, kills_wanted=100, seed=seed, max_delay=0.12)
    print(f"battery seed={seed}: {totals}")
    assert totals["kills"] >= 100


@pytest.mark.slow
@pytest.mark.timeout(7200)
def test_kill_nine_battery_nightly(tmp_path: Path) -> None:
    seed = random.SystemRandom().randrange(2**32)
    totals = _battery(tmp_path, kills_wanted=2000, seed=seed, max_delay=0.3)
    print(f"nightly battery seed={seed}: {totals}")
