"""Interrupt state machine: random pause / resume / emit / rebuild programs.

Spec: issue 5 ("a hypothesis test: random sequences of pause / resume / emit /
rebuild-from-log keep the live view equal to the fold of the log
(orchestrator.testing.assert_replay_equivalent) and every interrupt resolves at
most once"). A RuleBasedStateMachine keeps a model of every interrupt (waiting or
resolved, by which value and request id) and of the state the resumed branches
must have written, and checks after every step:

- the live view equals the fold of the log;
- the pending interrupts are exactly the model's waiting ones, and the status is
  ``waiting`` iff one is;
- the log holds at most one ``interrupt.resolved`` per interrupt (exactly one for
  every resolved interrupt);
- the execution state is what the model predicts (answers, replies, notes).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from orchestrator import (
    ExecutionClosedError,
    InterruptNotWaitingError,
    ResumeConflictError,
    TriggerFlow,
    TriggerFlowRuntimeData,
)
from orchestrator.events.codec import loads
from orchestrator.testing import assert_replay_equivalent, json_values

MODES = st.sampled_from(["next", "self", "event"])
REPLY_EVENTS = ["reply_a", "reply_b"]
VALUES = json_values(max_leaves=3)


async def ask(data: TriggerFlowRuntimeData) -> Any:
    request = data.value
    if data.is_resume:
        assert data.resume is not None
        return {"n": request["n"], "resumed": data.resume.value}
    pause: dict[str, Any] = {
        "type": "question",
        "payload": request["n"],
        "interrupt_id": f"q{request['n']}",
    }
    if request["mode"] == "self":
        pause["resume_to"] = "self"
    elif request["mode"] == "event":
        pause["resume_event"] = request["event"]
    return await data.async_pause_for(**pause)


async def answered(data: TriggerFlowRuntimeData) -> None:
    data.append_state("answers", data.value)


async def on_reply(data: TriggerFlowRuntimeData) -> None:
    data.append_state("replies", [data.trigger_event, data.value])


async def note(data: TriggerFlowRuntimeData) -> None:
    data.append_state("notes", data.value)


def build_flow(store: str) -> TriggerFlow:
    flow = TriggerFlow(name="interrupt-machine", store=store)
    flow.when("ask").to(ask).to(answered)
    for event in REPLY_EVENTS:
        flow.when(event).to(on_reply, name=f"on_{event}")
    flow.when("note").to(note)
    return flow


class InterruptMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="triggerlog-interrupts-"))
        self.path = str(self.tmp / "interrupts.db")
        self.flows: list[TriggerFlow] = []
        self.flow = self._new_flow()
        self.execution: Any = None
        self.closed = False
        self.n = 0
        # interrupt id -> {"mode", "event", "status", "value", "request_id"}
        self.model: dict[str, dict[str, Any]] = {}
        self.expected: dict[str, list[Any]] = {
            "answers": [],
            "replies": [],
            "notes": [],
        }

    def _new_flow(self) -> TriggerFlow:
        flow = build_flow(self.path)
        self.flows.append(flow)
        return flow

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def _waiting(self) -> list[str]:
        return sorted(i for i, m in self.model.items() if m["status"] == "waiting")

    def _resolved(self) -> list[str]:
        return sorted(i for i, m in self.model.items() if m["status"] == "resolved")

    @initialize()
    def start(self) -> None:
        self.execution = self.flow.create_execution(auto_close=False)
        self.run(self.execution.async_start(None))

    # -- rules ---------------------------------------------------------------------------

    @precondition(lambda self: not self.closed)
    @rule(mode=MODES, event=st.sampled_from(REPLY_EVENTS))
    def pause(self, mode: str, event: str) -> None:
        self.n += 1
        self.run(
            self.execution.async_emit(
                "ask", {"n": self.n, "mode": mode, "event": event}
            )
        )
        self.model[f"q{self.n}"] = {
            "n": self.n,
            "mode": mode,
            "event": event,
            "status": "waiting",
        }

    @precondition(lambda self: not self.closed and self._waiting())
    @rule(
        pick=st.integers(0, 50),
        value=VALUES,
        request_id=st.sampled_from([None, "r1", "r2"]),
    )
    def resume(self, pick: int, value: Any, request_id: str | None) -> None:
        waiting = self._waiting()
        interrupt_id = waiting[pick % len(waiting)]
        entry = self.model[interrupt_id]
        record = self.run(
            self.execution.async_continue_with(
                interrupt_id, value, resume_request_id=request_id
            )
        )
        assert record["status"] == "resolved"
        assert record["resume_value"] == value
        entry.update(status="resolved", value=value, request_id=request_id)
        if entry["mode"] == "next":
            self.expected["answers"].append(value)
        elif entry["mode"] == "self":
            self.expected["answers"].append({"n": entry["n"], "resumed": value})
        else:
            self.expected["replies"].append([entry["event"], value])

    @precondition(lambda self: not self.closed and self._resolved())
    @rule(pick=st.integers(0, 50), value=VALUES)
    def resume_again_is_refused(self, pick: int, value: Any) -> None:
        resolved = self._resolved()
        interrupt_id = resolved[pick % len(resolved)]
        head = self.execution.view.last_seq
        with pytest.raises(InterruptNotWaitingError, match="not waiting"):
            self.run(self.execution.async_continue_with(interrupt_id, value))
        assert self.execution.view.last_seq == head

    @precondition(
        lambda self: (
            not self.closed
            and any(
                m["status"] == "resolved" and m.get("request_id")
                for m in self.model.values()
            )
        )
    )
    @rule(pick=st.integers(0, 50), same_value=st.booleans())
    def repeat_request_id(self, pick: int, same_value: bool) -> None:
        candidates = sorted(
            i
            for i, m in self.model.items()
            if m["status"] == "resolved" and m.get("request_id")
        )
        interrupt_id = candidates[pick % len(candidates)]
        entry = self.model[interrupt_id]
        head = self.execution.view.last_seq
        if same_value:
            record = self.run(
                self.execution.async_continue_with(
                    interrupt_id, entry["value"], resume_request_id=entry["request_id"]
                )
            )
            assert record["status"] == "resolved"
        else:
            other = ["not", "the", "same", entry["value"]]
            with pytest.raises(ResumeConflictError):
                self.run(
                    self.execution.async_continue_with(
                        interrupt_id, other, resume_request_id=entry["request_id"]
                    )
                )
        assert self.execution.view.last_seq == head

    @precondition(lambda self: not self.closed)
    @rule(event=st.sampled_from([*REPLY_EVENTS, "note"]), value=VALUES)
    def emit(self, event: str, value: Any) -> None:
        self.run(self.execution.async_emit(event, value))
        if event == "note":
            self.expected["notes"].append(value)
            return
        self.expected["replies"].append([event, value])
        for entry in self.model.values():
            if (
                entry["status"] == "waiting"
                and entry["mode"] == "event"
                and entry["event"] == event
            ):
                entry.update(status="resolved", value=value, request_id=None)

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
        waiting = self._waiting()
        self.run(
            self.execution.async_close(
                pending_interrupts="cancel" if waiting else "error"
            )
        )
        for interrupt_id in waiting:
            self.model[interrupt_id]["status"] = "cancelled"
        expected_status = "cancelled" if waiting else "completed"
        assert self.execution.get_status() == expected_status
        self.closed = True

    @precondition(lambda self: self.closed)
    @rule(pick=st.integers(0, 50), value=VALUES)
    def continue_after_close(self, pick: int, value: Any) -> None:
        ids = sorted(self.model) or ["q-never-raised"]
        head = self.execution.view.last_seq
        with pytest.raises(ExecutionClosedError):
            self.run(self.execution.async_continue_with(ids[pick % len(ids)], value))
        assert self.execution.view.last_seq == head

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def live_equals_fold(self) -> None:
        if self.execution is not None:
            self.run(assert_replay_equivalent(self.execution))

    @invariant()
    def pending_matches_the_model(self) -> None:
        if self.execution is None:
            return
        assert sorted(self.execution.get_pending_interrupts()) == self._waiting()
        for interrupt_id, entry in self.model.items():
            record = self.execution.get_interrupt(interrupt_id)
            assert record is not None
            assert record["status"] == entry["status"], interrupt_id
            if entry["status"] == "resolved":
                assert record["resume_value"] == entry["value"]
        if not self.closed:
            waiting = self.execution.get_status() == "waiting"
            assert waiting == bool(self._waiting())

    @invariant()
    def every_interrupt_resolves_at_most_once(self) -> None:
        if self.execution is None:
            return
        store = self.flow.store
        resolutions = Counter(
            loads(e.data)["interrupt_id"]
            for e in store.read_stream(self.execution.id)
            if e.type == "interrupt.resolved"
        )
        assert all(count == 1 for count in resolutions.values()), resolutions
        assert sorted(resolutions) == self._resolved()

    @invariant()
    def state_is_what_the_resumed_branches_wrote(self) -> None:
        if self.execution is None:
            return
        expected = {k: v for k, v in self.expected.items() if v}
        assert self.execution.get_state() == expected

    def teardown(self) -> None:
        for flow in self.flows:
            if flow._store is not None:
                flow._store.close()
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


# Examples are cheap (tens of ms): run at least 150 programs of up to 30 steps,
# more under a bigger profile ("nightly").
_PROFILE = settings.default
assert _PROFILE is not None
InterruptMachine.TestCase.settings = settings(
    _PROFILE,
    max_examples=max(_PROFILE.max_examples, 150),
    stateful_step_count=max(_PROFILE.stateful_step_count, 30),
)
TestInterruptMachine = InterruptMachine.TestCase


@pytest.mark.timeout(120)
def test_machine_smoke_program() -> None:
    """One fixed program (every rule once), independent of hypothesis' search."""
    machine = InterruptMachine()
    try:
        machine.start()
        machine.pause("next", "reply_a")
        machine.pause("self", "reply_a")
        machine.pause("event", "reply_b")
        machine.pause("event", "reply_b")
        machine.live_equals_fold()
        machine.resume(1, {"x": 1}, "r1")  # q2 (self)
        machine.emit("reply_b", "both")  # resolves q3 and q4
        machine.rebuild_from_log()
        machine.pending_matches_the_model()
        machine.resume(0, [1, 2], None)  # q1 (next)
        machine.repeat_request_id(0, True)
        machine.repeat_request_id(0, False)
        machine.resume_again_is_refused(0, "late")
        machine.emit("note", None)
        machine.live_equals_fold()
        machine.every_interrupt_resolves_at_most_once()
        machine.state_is_what_the_resumed_branches_wrote()
        machine.pause("next", "reply_a")
        machine.close()
        machine.continue_after_close(0, 1)
        machine.live_equals_fold()
        machine.pending_matches_the_model()
    finally:
        machine.teardown()
