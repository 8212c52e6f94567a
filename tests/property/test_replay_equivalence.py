"""Replay-equivalence: after every step the live execution equals the fold of its log.

A RuleBasedStateMachine drives random programs of external emits (state writes,
for_each fan-outs, a 3-way and-join, batch, nested awaited emits, runtime_data
and flow_data triggers), flow_data writes, rebuilds from the log (a new flow
object on the same file, as another process would) and closes.
"""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from orchestrator import TriggerFlow, TriggerFlowRuntimeData
from orchestrator.runtime.execution import LifecycleWarning
from orchestrator.testing import assert_replay_equivalent, json_values

KEYS = st.sampled_from(["a", "b", "n.x", "n.y", "list"])


def build_flow(store: str) -> TriggerFlow:
    flow = TriggerFlow(name="property", store=store)

    async def write(data: TriggerFlowRuntimeData) -> Any:
        op, key, value = data.value
        if op == "set":
            await data.async_set_state(key, value)
        elif op == "append":
            data.append_state(key, value)
        else:
            data.del_state(key)
        return key

    def double(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("fan_items", data.value)
        return [data.value, data.value]

    async def fan_done(data: TriggerFlowRuntimeData) -> None:
        data.append_state("fan_results", data.value)

    async def joined(data: TriggerFlowRuntimeData) -> None:
        data.append_state("joins", data.value)

    async def left(data: TriggerFlowRuntimeData) -> Any:
        return {"left": data.value}

    async def right(data: TriggerFlowRuntimeData) -> Any:
        return {"right": data.value}

    async def batched(data: TriggerFlowRuntimeData) -> None:
        data.append_state("batches", data.value)

    async def cascade(data: TriggerFlowRuntimeData) -> None:
        await data.async_emit("write", ["append", "cascade", data.value])
        data.set_state("after_cascade", data.get_state("cascade"))

    async def watched(data: TriggerFlowRuntimeData) -> None:
        data.append_state("watch_log", data.value)

    async def on_mode(data: TriggerFlowRuntimeData) -> None:
        data.set_state("mode_seen", data.value)

    flow.when("write").to(write)
    flow.when("fan").for_each().to(double).end_for_each().to(fan_done)
    flow.when(["ja", "jb", "jc"], mode="and").to(joined)
    flow.when("bat").batch(left, right).to(batched)
    flow.when("cascade").to(cascade)
    flow.when({"runtime_data": "a"}).to(watched)
    flow.when({"flow_data": "mode"}).to(on_mode)
    return flow


class ReplayMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(self.loop.run_until_complete(_mkdtemp()))
        self.path = str(self.tmp / "replay.db")
        self.flows: list[TriggerFlow] = []
        self.flow = self._new_flow()
        self.execution: Any = None
        self.closed = False

    def _new_flow(self) -> TriggerFlow:
        flow = build_flow(self.path)
        self.flows.append(flow)
        return flow

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    @initialize(start=json_values(max_leaves=3))
    def start(self, start: Any) -> None:
        self.execution = self.flow.create_execution(auto_close=False)
        self.run(self.execution.async_start(start))

    @precondition(lambda self: not self.closed)
    @rule(
        op=st.sampled_from(["set", "append", "delete"]),
        key=KEYS,
        value=json_values(max_leaves=3),
    )
    def write(self, op: str, key: str, value: Any) -> None:
        self.run(self.execution.async_emit("write", [op, key, value]))

    @precondition(lambda self: not self.closed)
    @rule(items=st.lists(st.integers(-5, 5), max_size=4))
    def fan(self, items: list[int]) -> None:
        self.run(self.execution.async_emit("fan", items))

    @precondition(lambda self: not self.closed)
    @rule(part=st.sampled_from(["ja", "jb", "jc"]), value=st.integers(0, 9))
    def join_part(self, part: str, value: int) -> None:
        self.run(self.execution.async_emit(part, value))

    @precondition(lambda self: not self.closed)
    @rule(value=st.integers(0, 9))
    def batch(self, value: int) -> None:
        self.run(self.execution.async_emit("bat", value))

    @precondition(lambda self: not self.closed)
    @rule(value=st.text(max_size=3))
    def cascade(self, value: str) -> None:
        self.run(self.execution.async_emit("cascade", value))

    @precondition(lambda self: not self.closed)
    @rule(value=json_values(max_leaves=2))
    def flow_data(self, value: Any) -> None:
        self.run(self.flow.async_set_flow_data("mode", value, no_warning=True))
        self.run(self.execution.async_wait_idle())

    @precondition(lambda self: not self.closed)
    @rule()
    def rebuild_from_log(self) -> None:
        # A new flow object on the same file sees only what the log holds.
        execution_id = self.execution.id
        self.flow = self._new_flow()
        self.execution = self.flow.get_execution(execution_id)

    @precondition(lambda self: not self.closed)
    @rule()
    def close(self) -> None:
        self.run(self.execution.async_close())
        self.closed = True

    @precondition(lambda self: self.closed)
    @rule(value=st.integers())
    def emit_after_close(self, value: int) -> None:
        before = self.execution.view.last_seq
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.run(self.execution.async_emit("write", ["set", "a", value]))
        assert any(issubclass(w.category, LifecycleWarning) for w in caught)
        assert self.execution.view.last_seq == before

    @invariant()
    def live_equals_fold(self) -> None:
        if self.execution is not None:
            self.run(assert_replay_equivalent(self.execution))

    def teardown(self) -> None:
        for flow in self.flows:
            if flow._store is not None:
                flow._store.close()
        self.loop.close()


async def _mkdtemp() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="triggerlog-replay-")


TestReplayEquivalence = ReplayMachine.TestCase


@pytest.mark.timeout(120)
async def test_fresh_process_folds_the_same_view(tmp_path: Path) -> None:
    flow = build_flow(str(tmp_path / "fresh.db"))
    execution = flow.create_execution(auto_close=False)
    await execution.async_start({"doc": 1})
    await execution.async_emit("write", ["set", "n.x", [1, 2]])
    await execution.async_emit("fan", [1, 2, 3])
    await execution.async_emit("ja", 1)
    await execution.async_emit("jb", 2)
    await execution.async_emit("cascade", "z")
    await assert_replay_equivalent(execution, fresh_process=True)
    await execution.async_close()
    await assert_replay_equivalent(execution, fresh_process=True)
