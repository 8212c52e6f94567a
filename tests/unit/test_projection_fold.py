"""The fold: prefix-consistent, so snapshots and time travel are safe.

Generates valid execution streams (ExecutionCreated first, signals with targets,
the runs they owe started, completed or failed, state writes on dot paths,
resources, steps and timers, lifecycle events) and checks, with every event
stored and decoded through the codec:

* ``fold(prefix)`` then ``fold(rest)`` equals ``fold(all)``, for every split;
* the same through JSON (``ExecutionView.from_json(view.to_json())``);
* a ``SnapshotTaken`` of ``view.to_json()`` lets a fold that starts at the
  snapshot equal the fold of the whole stream.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.events import (
    ChunkCompleted,
    ChunkFailed,
    ChunkRetrying,
    ChunkStarted,
    DefinitionChanged,
    ErrorRecord,
    Event,
    ExecutionCancelled,
    ExecutionClosed,
    ExecutionCreated,
    ExecutionSealed,
    ExecutionStarted,
    FlowDataWritten,
    ResourceKeyDeleted,
    ResourceKeySet,
    SignalEmitted,
    SignalRejected,
    SnapshotTaken,
    StateAppended,
    StateDeleted,
    StateSet,
    StepCompleted,
    StepFailed,
    TimerFired,
    TimerStarted,
    encode,
)
from orchestrator.projection import ExecutionView, fold, run_id_for
from orchestrator.store import StoredEvent
from tests.unit.test_codec import json_values

STREAM = "exec-1"
KEYS = ["a", "a.b", "a.b.c", "list", "x.y", "z", "a.list"]
OPS = ["op-a", "op-b", "op-c"]
text = st.text(max_size=8)


@st.composite
def execution_streams(draw: st.DrawFn, max_steps: int = 30) -> list[Event]:
    created = ExecutionCreated(
        flow_name=draw(text),
        fingerprint=draw(text),
        resource_keys=draw(st.lists(st.sampled_from(["db", "llm"]), unique=True)),
        auto_close=draw(st.booleans()),
        concurrency=draw(st.none() | st.integers(1, 8)),
        skip_exceptions=draw(st.booleans()),
        parent=draw(st.none() | st.dictionaries(text, json_values, max_size=2)),
        initial_state=draw(
            st.none()
            | st.dictionaries(st.sampled_from(["a", "z"]), json_values, max_size=2)
        ),
    )
    events: list[Event] = [created]
    owed: dict[str, tuple[str, str]] = {}  # run id -> (signal id, op id)
    started: list[str] = []
    signals = 0

    def record(targets: list[str]) -> dict[str, Any]:
        nonlocal signals
        signals += 1
        sid = f"sig-{signals}"
        for op in targets:
            owed[run_id_for(sid, op)] = (sid, op)
        return {
            "id": sid,
            "event": draw(st.sampled_from(["START", "done", "next"])),
            "type": "event",
            "value": draw(json_values),
            "source": draw(st.sampled_from(["start", "op-a"])),
            "cascade": draw(st.sampled_from(["c1", "c2"])),
            "layers": draw(
                st.lists(
                    st.tuples(text, st.integers(0, 3), st.integers(1, 4)).map(list),
                    max_size=2,
                )
            ),
            "targets": targets,
        }

    def targets() -> list[str]:
        return draw(st.lists(st.sampled_from(OPS), unique=True, max_size=3))

    def some_run() -> tuple[str | None, int | None]:
        chosen: str | None = draw(st.sampled_from([None, *started]))
        if chosen is None:
            return None, None
        return chosen, draw(st.integers(0, 5))

    for _ in range(draw(st.integers(0, max_steps))):
        action = draw(
            st.sampled_from(
                [
                    "signal",
                    "signal",
                    "start",
                    "complete",
                    "fail",
                    "state",
                    "state",
                    "state",
                    "resource",
                    "written",
                    "lifecycle",
                    "step",
                ]
            )
        )
        if action == "signal":
            run_id, op = some_run()
            events.append(SignalEmitted(signal=record(targets()), run_id=run_id, op=op))  # type: ignore[arg-type]
        elif action == "start" and owed:
            run = draw(st.sampled_from(sorted(owed)))
            sid, op_id = owed[run]
            events.append(
                ChunkStarted(
                    run_id=run,
                    op_id=op_id,
                    chunk=op_id.upper(),
                    signal_id=sid,
                    attempt=draw(st.integers(1, 3)),
                )
            )
            started.append(run)
        elif action in ("complete", "fail") and owed:
            run = draw(st.sampled_from(sorted(owed)))
            del owed[run]
            if run in started:
                started.remove(run)
            if action == "complete":
                join = draw(
                    st.none()
                    | st.fixed_dictionaries(
                        {
                            "op": st.sampled_from(["j1", "j2"]),
                            "scope": st.sampled_from(["s1", "s2"]),
                            "key": text,
                            "value": json_values,
                            "clear": st.booleans(),
                        }
                    )
                )
                emits = [record(targets()) for _ in range(draw(st.integers(0, 2)))]
                events.append(ChunkCompleted(run_id=run, emits=emits, join=join))  # type: ignore[arg-type]
            else:
                failure: ErrorRecord = {
                    "type": "ValueError",
                    "message": draw(text),
                    "traceback": "",
                }
                skipped = draw(st.booleans())
                events.append(ChunkFailed(run_id=run, error=failure, skipped=skipped))
        elif action == "state":
            run_id, op = some_run()
            key = draw(st.sampled_from(KEYS))
            kind = draw(st.sampled_from([StateSet, StateAppended, StateDeleted]))
            if kind is StateDeleted:
                events.append(StateDeleted(key=key, run_id=run_id, op=op))
            else:
                events.append(
                    kind(key=key, value=draw(json_values), run_id=run_id, op=op)
                )
        elif action == "resource":
            run_id, op = some_run()
            kind = draw(st.sampled_from([ResourceKeySet, ResourceKeyDeleted]))
            events.append(
                kind(key=draw(st.sampled_from(["db", "cache"])), run_id=run_id, op=op)
            )
        elif action == "written":
            run_id, op = some_run()
            events.append(
                FlowDataWritten(
                    action=draw(st.sampled_from(["set", "append", "delete"])),
                    key=draw(text),
                    run_id=run_id,
                    op=op,
                )
            )
        elif action == "lifecycle":
            events.append(
                draw(
                    st.sampled_from(
                        [
                            ExecutionStarted(),
                            ExecutionSealed(reason="close"),
                            ExecutionCancelled(reason="user"),
                            DefinitionChanged(previous="f1", current="f2"),
                            SignalRejected(event="late", lifecycle="sealed"),
                            ExecutionClosed(
                                reason="done",
                                status=draw(st.sampled_from(["completed", "failed"])),
                            ),
                        ]
                    )
                )
            )
        elif action == "step" and started:
            run = draw(st.sampled_from(started))
            op = draw(st.integers(0, 5))
            error: ErrorRecord = {"type": "E", "message": draw(text), "traceback": ""}
            events.append(
                draw(
                    st.sampled_from(
                        [
                            StepCompleted(
                                run_id=run, op=op, name="call", result=draw(json_values)
                            ),
                            StepFailed(run_id=run, op=op, name="call", error=error),
                            TimerStarted(run_id=run, op=op, wake_at=2000.0 + op),
                            TimerFired(run_id=run, op=op),
                            ChunkRetrying(
                                run_id=run, attempt=2, error=error, retry_at=2001.0
                            ),
                        ]
                    )
                )
            )
    return events


def stored(events: list[Event], first_seq: int = 1) -> list[StoredEvent]:
    out = []
    for offset, event in enumerate(events):
        seq = first_seq + offset
        type_name, data = encode(event)
        out.append(StoredEvent(STREAM, seq, seq, type_name, data, 1000.0 + seq * 0.5))
    return out


def state_of(view: ExecutionView) -> dict[str, Any]:
    """Every field of the view, independent of to_json (which is under test)."""
    return dataclasses.asdict(view)


@given(execution_streams())
def test_the_fold_is_deterministic_and_json(events: list[Event]) -> None:
    log = stored(events)
    first, second = fold(STREAM, log), fold(STREAM, log)
    assert state_of(first) == state_of(second)
    assert first.last_seq == len(events)
    snapshot = first.to_json()
    assert (
        orjson.loads(orjson.dumps(snapshot)) == snapshot
    )  # a snapshot payload is JSON
    assert state_of(
        ExecutionView.from_json(orjson.loads(orjson.dumps(snapshot)))
    ) == state_of(first)


@given(execution_streams())
def test_prefix_then_rest_equals_all(events: list[Event]) -> None:
    log = stored(events)
    full = state_of(fold(STREAM, log))
    for split in range(len(log) + 1):
        view = fold(STREAM, log[:split])
        assert state_of(fold(STREAM, log[split:], view)) == full, f"split at {split}"


@given(execution_streams(), st.data())
def test_prefix_through_json_then_rest_equals_all(
    events: list[Event], data: st.DataObject
) -> None:
    log = stored(events)
    split = data.draw(st.integers(1, len(log)))
    restored = ExecutionView.from_json(
        orjson.loads(orjson.dumps(fold(STREAM, log[:split]).to_json()))
    )
    assert state_of(fold(STREAM, log[split:], restored)) == state_of(fold(STREAM, log))


@given(execution_streams(), st.data())
def test_a_fold_may_start_at_a_snapshot(
    events: list[Event], data: st.DataObject
) -> None:
    split = data.draw(st.integers(1, len(events)))
    prefix = stored(events[:split])
    snapshot = SnapshotTaken(view=fold(STREAM, prefix).to_json())
    log = prefix + stored([snapshot, *events[split:]], first_seq=split + 1)
    full = fold(STREAM, log)
    from_snapshot = fold(STREAM, log[split:])  # a fresh view, starting at the snapshot
    assert state_of(from_snapshot) == state_of(full)
    assert full.last_seq == len(events) + 1
