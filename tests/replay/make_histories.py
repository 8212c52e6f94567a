"""Record the golden histories: ``python -m tests.replay.make_histories``.

Runs each scenario of :mod:`tests.replay.flows` once, uninterrupted, on an
in-memory store and a fake clock, and writes ``histories/<name>.json``: the
exported history (with the position at which every append unit ended, i.e.
every instant a crash could have cut the log) and the expected outcome.

Run it only for a deliberate change of recorded behaviour or of the event
format, and review the diff: the point of the fixtures is that old logs keep
replaying on new code.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from orchestrator import FakeClock, InMemoryEventStore
from orchestrator.testing import export_history
from tests.replay.flows import SCENARIOS, T0, Scenario

if TYPE_CHECKING:
    from collections.abc import Sequence

    from orchestrator import TriggerFlowExecution
    from orchestrator.store.base import AppendRequest, AppendResult

HISTORIES = Path(__file__).resolve().parent / "histories"
TICK = 60.0  # how far the fake clock moves while work waits on a timer


class CommitRecordingStore(InMemoryEventStore):
    """An in-memory store that remembers where each atomic append unit ended."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.commits: list[int] = []

    def _commit(
        self, requests: Sequence[AppendRequest], *, checked: bool = False
    ) -> list[AppendResult]:
        results = super()._commit(requests, checked=checked)
        if results:
            self.commits.append(max(r.last_position for r in results))
        return results


async def drive(
    execution: TriggerFlowExecution,
    clock: FakeClock,
    answers: dict[str, list[Any]],
    answered: dict[str, int] | None = None,
) -> None:
    """Run ``execution`` until nothing is owed: answer interrupts, move the clock.

    ``answers[type]`` are the values interrupts of that type get, in order;
    ``answered`` counts how many of each type were already given (a replayed
    history has answered some before it was cut).
    """
    given = dict(answered or {})
    for _ in range(2000):
        idle = asyncio.ensure_future(execution.async_wait_idle())
        # Yield to the run tasks (sync chunks hop to worker threads); if they
        # are still busy, they may be waiting on a durable timer: move the clock.
        done, _ = await asyncio.wait({idle}, timeout=0.02)
        if not done:
            idle.cancel()
            if clock.sleepers:
                clock.advance(TICK)
            continue
        idle.result()
        pending = execution.get_pending_interrupts()
        if not pending:
            return
        for interrupt_id, interrupt in sorted(pending.items()):
            kind = interrupt["type"]
            value = answers[kind][given.get(kind, 0)]
            given[kind] = given.get(kind, 0) + 1
            await execution.async_continue_with(interrupt_id, value)
    raise AssertionError(f"execution {execution.id} did not settle")


def answered_in(history: dict[str, Any]) -> dict[str, int]:
    """How many interrupts of each type the history resolved.

    Counted in the stream that raised them: a parent's record of resolving its
    child's interrupt (a projected id) is not counted again.
    """
    counts: dict[str, int] = {}
    for stream in history["streams"]:
        raised: dict[str, str] = {}
        for event in stream["events"]:
            data = event["data"]
            if event["type"] == "interrupt.raised":
                raised[data["interrupt"]["id"]] = data["interrupt"]["type"]
            elif event["type"] == "interrupt.resolved":
                kind = raised.get(data["interrupt_id"])
                if kind is not None:
                    counts[kind] = counts.get(kind, 0) + 1
    return counts


def outcome(execution: TriggerFlowExecution, snapshot: Any) -> dict[str, Any]:
    """What a replay must reproduce: status, close snapshot, interrupts left."""
    return {
        "status": execution.get_status(),
        "snapshot": snapshot,
        "pending_interrupts": sorted(execution.get_pending_interrupts()),
    }


async def record(scenario: Scenario) -> dict[str, Any]:
    clock = FakeClock(T0)
    store = CommitRecordingStore(clock)
    flow = scenario.build(store, clock)
    execution = flow.create_execution(
        auto_close=False, execution_id=f"golden-{scenario.name}"
    )
    started = asyncio.ensure_future(execution.async_start(scenario.start_input))
    await drive(execution, clock, scenario.answers)
    await started
    snapshot = await execution.async_close()
    history = export_history(store, execution.id, commits=store.commits)
    history["expected"] = outcome(execution, snapshot)
    return history


def main(names: Sequence[str]) -> int:
    HISTORIES.mkdir(exist_ok=True)
    for name in names or sorted(SCENARIOS):
        history = asyncio.run(record(SCENARIOS[name]))
        path = HISTORIES / f"{name}.json"
        path.write_bytes(orjson.dumps(history, option=orjson.OPT_INDENT_2) + b"\n")
        events = sum(len(s["events"]) for s in history["streams"])
        print(f"{path}: {events} events, {len(history['commits'])} commits")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
