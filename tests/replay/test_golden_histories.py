"""T17: histories recorded by an earlier build replay on this code.

``histories/*.json`` were recorded once (``python -m tests.replay.make_histories``)
and are never rewritten by the tests. For each one:

* the whole history imports and rebuilds to the recorded outcome;
* cut at every instant a crash could have cut it (the end of every append unit)
  and just before every chunk run's completion (so that every run recorded in
  it is re-executed on today's code with all its operations), it recovers and
  finishes with exactly the recorded outcome;
* a build that records something else in an in-flight chunk fails with a
  NondeterminismError naming the recorded seq; a changed definition is refused.

A change to the codec, the fold, id derivation or the definition fingerprint that
breaks old logs fails here.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from orchestrator import (
    DefinitionMismatchError,
    FakeClock,
    InMemoryEventStore,
    SQLiteEventStore,
)
from orchestrator.store.base import EventStore
from orchestrator.testing import (
    export_history,
    history_cuts,
    import_history,
    replay_history,
)
from tests.replay.flows import SCENARIOS, pipeline
from tests.replay.make_histories import HISTORIES, answered_in, drive, outcome

NAMES = sorted(p.stem for p in HISTORIES.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    history: dict[str, Any] = orjson.loads((HISTORIES / f"{name}.json").read_bytes())
    return history


def cut(history: dict[str, Any], position: int) -> dict[str, Any]:
    """The history as a crash at ``position`` would have left the log."""
    prefix = copy.deepcopy(history)
    for stream in prefix["streams"]:
        stream["events"] = [e for e in stream["events"] if e["position"] <= position]
    return prefix


def clock_after(history: dict[str, Any]) -> FakeClock:
    """A restarted process's clock: at the time of the last logged event."""
    times = [e["created_at"] for s in history["streams"] for e in s["events"]]
    return FakeClock(max(times))


def execution_cuts(history: dict[str, Any]) -> list[int]:
    """Every append-unit boundary, and just before every chunk completion."""
    return history_cuts(history)


def open_store(kind: str, tmp_path: Path, clock: FakeClock) -> EventStore:
    if kind == "sqlite":
        return SQLiteEventStore(str(tmp_path / "replay.db"), clock=clock)
    return InMemoryEventStore(clock=clock)


def test_there_is_a_fixture_for_every_scenario() -> None:
    assert sorted(SCENARIOS) == NAMES


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("name", NAMES)
async def test_a_whole_history_rebuilds_to_its_recorded_outcome(
    name: str, kind: str, tmp_path: Path
) -> None:
    history = load(name)
    clock = clock_after(history)
    store = open_store(kind, tmp_path, clock)
    try:
        flow = SCENARIOS[name].build(store, clock)
        execution_id = import_history(store, history)
        execution = flow.get_execution(execution_id)
        expected = history["expected"]
        assert outcome(execution, execution.get_state()) == expected
        # Export of the import gives back the same events (positions are the
        # store's own): nothing is lost or rewritten on the way through.
        again = export_history(store, execution_id)
        assert _without_positions(again) == _without_positions(history)
    finally:
        store.close()


def _without_positions(history: dict[str, Any]) -> list[Any]:
    return [
        (
            s["stream_id"],
            s["kind"],
            s["flow_name"],
            s["parent_id"],
            [(e["seq"], e["type"], e["created_at"], e["data"]) for e in s["events"]],
        )
        for s in sorted(history["streams"], key=lambda s: s["stream_id"])
    ]


async def _replay_cut(
    name: str, history: dict[str, Any], position: int, store_kind: str, tmp: Path
) -> dict[str, Any]:
    prefix = cut(history, position)
    clock = clock_after(prefix)
    store = open_store(store_kind, tmp, clock)
    try:
        scenario = SCENARIOS[name]
        flow = scenario.build(store, clock)
        execution = await replay_history(flow, prefix)
        await drive(execution, clock, scenario.answers, answered_in(prefix))
        snapshot = await execution.async_close()
        return outcome(execution, snapshot)
    finally:
        store.close()


@pytest.mark.parametrize("name", NAMES)
async def test_every_crash_cut_recovers_to_the_recorded_outcome(
    name: str, tmp_path: Path
) -> None:
    history = load(name)
    cuts = execution_cuts(history)
    assert len(cuts) >= 5, "a fixture must have work in flight to replay"
    for position in cuts:
        result = await _replay_cut(name, history, position, "memory", tmp_path)
        assert result == history["expected"], f"cut at position {position}"


@pytest.mark.parametrize("name", ["pipeline", "nested"])
async def test_crash_cuts_recover_on_a_real_sqlite_file(
    name: str, tmp_path: Path
) -> None:
    history = load(name)
    for index, position in enumerate(execution_cuts(history)[::3]):
        tmp = tmp_path / str(index)
        tmp.mkdir()
        result = await _replay_cut(name, history, position, "sqlite", tmp)
        assert result == history["expected"], f"cut at position {position}"


async def test_new_code_that_records_differently_fails_naming_the_seq() -> None:
    history = load("pipeline")
    stream = next(s for s in history["streams"] if s["stream_id"] == "golden-pipeline")
    item_writes = {
        e["seq"]
        for e in stream["events"]
        if e["type"] == "state.set" and e["data"]["key"].startswith("items.")
    }
    diverged = 0
    for position in execution_cuts(history):
        prefix = cut(history, position)
        clock = clock_after(prefix)
        store = InMemoryEventStore(clock=clock)
        flow = pipeline(store, clock, item_key="charged")  # the new build
        execution = await replay_history(flow, prefix)
        await drive(execution, clock, {})
        if execution.get_status() == "failed":
            [error] = execution.view.errors
            assert error["type"] == "NondeterminismError"
            message = error["message"]
            assert "chunk 'per_item'" in message
            assert "charged.i" in message
            named = {seq for seq in item_writes if f"seq {seq}:" in message}
            assert len(named) == 1, message
            diverged += 1
        else:
            # The in-flight per_item runs (if any) had not logged the write yet:
            # the new build's write is simply the one recorded.
            assert execution.get_status() in ("running", "completed")
        store.close()
    assert diverged, "some cut must leave per_item in flight with its write logged"


async def test_a_changed_definition_is_refused_unless_allowed() -> None:
    history = load("pipeline")
    position = execution_cuts(history)[2]
    prefix = cut(history, position)
    clock = clock_after(prefix)
    store = InMemoryEventStore(clock=clock)
    flow = pipeline(store, clock)
    flow.to(lambda data: None, name="audit")  # a new chunk: a new definition
    with pytest.raises(DefinitionMismatchError) as caught:
        await replay_history(flow, prefix)
    assert caught.value.execution_id == "golden-pipeline"
    assert caught.value.recorded != caught.value.current
    store.close()


async def test_a_crash_between_child_and_parent_resolution_is_completed() -> None:
    """continue_with on a projected interrupt appends to the child, then the parent.

    Cut between the two, the recovered parent records the resolution itself
    (the child's value and resolver) and waits for the child before it is idle.
    """
    history = load("nested")
    child = next(s for s in history["streams"] if s["kind"] == "child")
    resolved = next(e for e in child["events"] if e["type"] == "interrupt.resolved")
    prefix = cut(history, resolved["position"])
    parent = next(s for s in prefix["streams"] if s["kind"] == "execution")
    assert not any(e["type"] == "interrupt.resolved" for e in parent["events"])
    clock = clock_after(prefix)
    store = InMemoryEventStore(clock=clock)
    flow = SCENARIOS["nested"].build(store, clock)
    execution = await replay_history(flow, prefix)
    await execution.async_wait_idle()
    assert execution.get_pending_interrupts() == {}
    records = [
        e for e in store.read_stream(execution.id) if e.type == "interrupt.resolved"
    ]
    [record] = [orjson.loads(e.data) for e in records]
    assert record["value"] == resolved["data"]["value"]
    assert record["resolved_by"] == resolved["data"]["resolved_by"]
    assert record["via"] == "sub_flow"
    assert execution.get_state() == history["expected"]["snapshot"]
    store.close()
