"""State at an event equals the fold of the log prefix (issue 14).

At every seq of every recorded golden history, and of random programs run with
frequent snapshots (pauses, resumes, sub-flows, state and flow_data writes),
``state_at`` (which folds from the nearest snapshot) equals folding events
``1..seq`` from scratch, and its ``flow_state`` equals the flow stream folded up
to that event's position. A diff of a view with itself is empty, and the diff
of consecutive views applied to the first gives the second (state, flow_state).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator import InMemoryEventStore, TriggerFlow, TriggerFlowRuntimeData
from orchestrator.projection import fold, fold_flow
from orchestrator.projection.flow_state import child_flow_stream_id, flow_stream_id
from orchestrator.read_model import apply_changes, diff_states, read_events, state_at
from orchestrator.store.base import EventStore
from orchestrator.testing import event_programs, import_history, run_program
from tests.replay.test_golden_histories import NAMES, load


def _check_every_seq(store: EventStore, execution_id: str) -> int:
    info = store.get_stream(execution_id)
    assert info is not None
    events = store.read_stream(execution_id)
    view = None
    previous = None
    for index, stored in enumerate(events):
        view = fold(execution_id, [stored], view)
        at = state_at(store, execution_id, stored.seq)
        assert at.view.to_json() == view.to_json(), (execution_id, stored.seq)
        assert at.seq == stored.seq
        assert at.position == stored.position
        assert at.state == view.state
        assert at.status == view.status
        flow_id = (
            child_flow_stream_id(view.flow_name, execution_id)
            if view.kind == "child"
            else flow_stream_id(view.flow_name)
        )
        flow_events = [
            e for e in store.read_stream(flow_id) if e.position <= stored.position
        ]
        assert at.flow_state == fold_flow(flow_id, flow_events).flow_data
        waiting = {
            k: r for k, r in view.interrupts.items() if r.get("status") == "waiting"
        }
        assert at.interrupts == waiting
        assert diff_states(at, at).empty
        if previous is not None:
            # diff(a, b) applied to a gives b, layer by layer.
            changes = diff_states(previous, at).changes
            for layer in ("state", "flow_state"):
                mine = [c for c in changes if c.layer == layer]
                old, new = getattr(previous, layer), getattr(at, layer)
                assert apply_changes(old, mine) == new
        previous = at
        if index == 0:
            assert at.status == "created"
    return len(events)


def _executions(store: EventStore) -> list[str]:
    return [
        info.stream_id
        for kind in ("execution", "child")
        for info in store.list_streams(kind=kind)
    ]


@pytest.mark.parametrize("name", NAMES)
def test_state_at_every_seq_of_a_golden_history_is_the_prefix_fold(name: str) -> None:
    store = InMemoryEventStore()
    import_history(store, load(name))
    checked = sum(_check_every_seq(store, sid) for sid in _executions(store))
    assert checked > 10


# -- random programs ----------------------------------------------------------------


def build_flow(store: EventStore) -> TriggerFlow:
    child = TriggerFlow(name="tt-child", store=store)

    async def child_work(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("got", data.value)
        await data.async_set_flow_data("seen", data.value, no_warning=True)
        return {"done": data.value}

    child.to(child_work)

    flow = TriggerFlow(name="time-travel", store=store)

    async def write(data: TriggerFlowRuntimeData) -> None:
        data.set_state("last", data.value)
        data.append_state("log", data.value)

    async def ask(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(type="ask", payload={"q": data.value})

    async def answered(data: TriggerFlowRuntimeData) -> None:
        data.set_state("answer", data.value)

    async def drop(data: TriggerFlowRuntimeData) -> None:
        if data.get_state("last") is not None:
            data.del_state("last")

    async def after_child(data: TriggerFlowRuntimeData) -> None:
        data.append_state("children", data.value)

    flow.when("write").to(write)
    flow.when("ask").to(ask).to(answered)
    flow.when("drop").to(drop)
    flow.when("sub").to(child, capture={"input": "value"}).to(after_child)
    return flow


def _run(program: Any) -> None:
    store = InMemoryEventStore()
    flow = build_flow(store)
    create = flow.create_execution

    def frequent_snapshots(*args: Any, **kwargs: Any) -> Any:
        execution = create(*args, **kwargs)
        execution._engine.journal.snapshot_every = 4
        return execution

    flow.create_execution = frequent_snapshots  # type: ignore[method-assign]
    execution = asyncio.run(
        run_program(flow, program, check_every_step=False, start_input="go")
    )
    assert (
        any(e.type == "execution.snapshot" for e in store.read_stream(execution.id))
        or len(store.read_stream(execution.id)) < 8
    )
    for sid in _executions(store):
        _check_every_seq(store, sid)
    # Paging with names learnt from the folded view agrees with one full read.
    whole = read_events(store, execution.id)
    middle = len(whole) // 2 + 1
    page = read_events(store, execution.id, from_seq=middle)
    assert page == whole[middle - 1 :]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    event_programs(
        ["write", "ask", "drop", "sub"],
        flow_data_keys=["shared", "other.x"],
        resolve_interrupts=True,
        max_steps=10,
    )
)
def test_state_at_every_seq_of_a_random_program_is_the_prefix_fold(
    program: Any,
) -> None:
    _run(program)


def test_a_program_with_every_feature_is_checked() -> None:
    from orchestrator.testing import ProgramStep

    program = [
        ProgramStep("emit", "write", {"a": 1}),
        ProgramStep("emit", "ask", "q1"),
        ProgramStep("set_flow_data", "shared", [1, 2]),
        ProgramStep("emit", "sub", "c1"),
        ProgramStep("resolve", "", {"ok": True}),
        ProgramStep("emit", "drop", None),
        ProgramStep("emit", "write", 2.5),
        ProgramStep("close"),
    ]
    _run(program)


@given(st.data())
@settings(max_examples=5, deadline=None)
def test_state_json_is_json(data: st.DataObject) -> None:
    store = InMemoryEventStore()
    flow = build_flow(store)
    execution = flow.create_execution(auto_close=False)
    execution.start(data.draw(st.integers()))
    assert orjson.loads(orjson.dumps(state_at(store, execution.id).to_json()))
