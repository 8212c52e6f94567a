"""The flows whose recorded histories are kept as golden fixtures (``histories/``).

Each scenario builds its flow on a given store and clock and says how to drive
an execution of it: the input, and the value each interrupt type is answered
with. Handlers are deterministic (no wall time, no randomness, side effects
through ``data.step``), so a history replays to the same final state.

Changing what a handler here records (a state key, an emit, a step name) is a
change of recorded behaviour: the golden-history tests fail with a
NondeterminismError naming the seq, exactly as they would for a user's flow.
Regenerate the fixtures only for a deliberate change (``python -m
tests.replay.make_histories``) and review the diff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator import TriggerFlow, TriggerFlowRuntimeData
from orchestrator.flow.retry import RetryPolicy

if TYPE_CHECKING:
    from collections.abc import Callable

    from orchestrator import Clock, EventStore

T0 = 1_767_225_600.0  # 2026-01-01T00:00Z: the fake clock every fixture starts at


def _echo(value: Any) -> Any:
    return {"echo": value}


def pipeline(
    store: EventStore, clock: Clock, *, item_key: str = "items"
) -> TriggerFlow:
    """Chains, batch, for_each, an and-join, state appends, emits and steps.

    ``item_key`` changes what ``per_item`` records: a new build of the same flow.
    """
    flow = TriggerFlow(name="golden_pipeline", store=store, clock=clock)

    async def intake(data: TriggerFlowRuntimeData) -> Any:
        receipt = await data.step("register", _echo, data.value["n"])
        data.set_state("receipt", receipt)
        data.append_state("trail", "intake")
        return data.value

    def double(data: TriggerFlowRuntimeData) -> Any:  # a sync chunk (worker thread)
        return {"n": data.value["n"] * 2, "items": data.value["items"]}

    async def square(data: TriggerFlowRuntimeData) -> Any:
        return data.value["n"] ** 2

    async def negate(data: TriggerFlowRuntimeData) -> Any:
        return -data.value["n"]

    async def merge(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("batch", data.value)
        data.append_state("trail", "merge")
        return data.value["square"] + data.value["negate"]

    async def items(data: TriggerFlowRuntimeData) -> Any:
        return list(range(data.get_state("receipt.echo")))

    async def per_item(data: TriggerFlowRuntimeData) -> Any:
        charged = await data.step("charge", _echo, data.value)
        data.set_state(f"{item_key}.i{data.value}", charged["echo"] * 10)
        await data.async_emit("item_done", data.value)
        return charged["echo"] * 10

    async def tally(data: TriggerFlowRuntimeData) -> None:
        data.set_state("tally", data.value)
        data.append_state("trail", "tally")

    async def count_item(data: TriggerFlowRuntimeData) -> None:
        data.set_state(f"done.i{data.value}", True)

    async def joined(data: TriggerFlowRuntimeData) -> None:
        data.set_state("joined", sorted(str(k) for k in data.value.get("event", {})))

    (
        flow.to(intake)
        .to(double)
        .batch(square, negate)
        .to(merge)
        .to(items)
        .for_each(concurrency=2)
        .to(per_item)
        .end_for_each()
        .to(tally)
    )
    flow.when("item_done").to(count_item)
    flow.when([merge, tally], mode="and").to(joined)
    return flow


def approval(store: EventStore, clock: Clock) -> TriggerFlow:
    """Interrupts: resume_to next, self (re-pausing once) and an event, in branches."""
    flow = TriggerFlow(name="golden_approval", store=store, clock=clock)

    async def draft(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("draft", f"doc-{data.value}")
        return data.value

    async def review(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(
            type="review", payload={"draft": data.get_state("draft")}
        )

    async def publish(data: TriggerFlowRuntimeData) -> None:
        data.set_state("published", data.value)
        data.append_state("log", "publish")

    async def sign(data: TriggerFlowRuntimeData) -> Any:
        resume = data.resume
        if resume is not None:
            data.append_state("signatures", resume.value)
            if len(data.get_state("signatures")) < 2:
                return await data.async_pause_for(
                    type="signature", resume_to="self", max_resumes=3
                )
            return resume.value
        return await data.async_pause_for(
            type="signature", resume_to="self", max_resumes=3
        )

    async def legal(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(type="legal", resume_event="legal_ok")

    async def cleared(data: TriggerFlowRuntimeData) -> None:
        data.set_state("legal", data.value)
        data.append_state("log", "legal")

    flow.to(draft).to(review).to(publish)
    flow.to(sign, side_branch=True)
    flow.to(legal, side_branch=True)
    flow.when("legal_ok").to(cleared)
    return flow


def nested(store: EventStore, clock: Clock) -> TriggerFlow:
    """A sub-flow with capture and write_back, whose child pauses once."""
    child = TriggerFlow(name="golden_child", store=store, clock=clock)

    async def child_work(data: TriggerFlowRuntimeData) -> Any:
        done = await data.step("work", _echo, data.value)
        data.set_state("work", done)
        data.set_state("seen", data.get_state("seed"))
        return done

    async def child_confirm(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(type="confirm", payload=data.value)

    async def child_finish(data: TriggerFlowRuntimeData) -> None:
        data.set_state("confirmed", data.value)
        data.set_state("$final_result", {"total": data.get_state("work.echo")})

    child.to(child_work).to(child_confirm).to(child_finish)

    parent = TriggerFlow(name="golden_nested", store=store, clock=clock)

    async def prepare(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("seed", data.value * 3)
        return data.value + 1

    async def after(data: TriggerFlowRuntimeData) -> None:
        data.set_state("after", data.value)

    parent.to(prepare).to(
        child,
        capture={"input": "value", "state": {"seed": "state.seed"}},
        write_back={"value": "result", "state": {"child_work": "snapshot.work"}},
    ).to(after)
    return parent


def repause(store: EventStore, clock: Clock) -> TriggerFlow:
    """A child resumed through its parent that pauses again (resume_to="self")."""
    child = TriggerFlow(name="golden_repause_child", store=store, clock=clock)

    async def ask(data: TriggerFlowRuntimeData) -> Any:
        resume = data.resume
        if resume is not None:
            data.append_state("answers", resume.value)
            if len(data.get_state("answers")) < 2:
                return await data.async_pause_for(
                    type="confirm", resume_to="self", max_resumes=3
                )
            data.set_state("$final_result", {"answers": data.get_state("answers")})
            return None
        return await data.async_pause_for(
            type="confirm", resume_to="self", max_resumes=3
        )

    child.to(ask)
    parent = TriggerFlow(name="golden_repause", store=store, clock=clock)

    async def after(data: TriggerFlowRuntimeData) -> None:
        data.set_state("after", data.value)

    parent.to(child).to(after)
    return parent


def deep(store: EventStore, clock: Clock) -> TriggerFlow:
    """Three levels: the bottom child pauses; resumed from the top."""
    bottom = TriggerFlow(name="golden_deep_bottom", store=store, clock=clock)

    async def ask(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("asked", data.value)
        return await data.async_pause_for(type="deep")

    async def answered(data: TriggerFlowRuntimeData) -> None:
        data.set_state("$final_result", {"answer": data.value})

    bottom.to(ask).to(answered)
    mid = TriggerFlow(name="golden_deep_mid", store=store, clock=clock)

    async def prepare(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("mid", True)
        return data.value

    async def report(data: TriggerFlowRuntimeData) -> None:
        data.set_state("$final_result", {"from_bottom": data.value})

    mid.to(prepare).to(bottom).to(report)
    top = TriggerFlow(name="golden_deep", store=store, clock=clock)

    async def after(data: TriggerFlowRuntimeData) -> None:
        data.set_state("after", data.value)

    top.to(mid).to(after)
    return top


def fanout(store: EventStore, clock: Clock) -> TriggerFlow:
    """A sub-flow per for_each item; the even items' children pause."""
    child = TriggerFlow(name="golden_fanout_child", store=store, clock=clock)

    async def work(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("item", data.value)
        if data.value % 2 == 0:
            return await data.async_pause_for(type="item", payload=data.value)
        return data.value

    async def finish(data: TriggerFlowRuntimeData) -> None:
        data.set_state("$final_result", {"item": data.value})

    child.to(work).to(finish)
    parent = TriggerFlow(name="golden_fanout", store=store, clock=clock)

    async def items(data: TriggerFlowRuntimeData) -> Any:
        return list(range(data.value))

    async def collect(data: TriggerFlowRuntimeData) -> None:
        data.set_state("results", data.value)

    parent.to(items).for_each(concurrency=3).to(child).end_for_each().to(collect)
    return parent


def shared(store: EventStore, clock: Clock) -> TriggerFlow:
    """A chunk's flow_data write triggers a handler; an interrupt resumes by event."""
    flow = TriggerFlow(name="golden_shared", store=store, clock=clock)

    async def begin(data: TriggerFlowRuntimeData) -> Any:
        data.set_flow_data("mode", f"on-{data.value}", no_warning=True)
        return data.value

    async def on_mode(data: TriggerFlowRuntimeData) -> None:
        data.set_state("mode_seen", data.value)

    async def wait(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(type="go", resume_event="resume_now")

    async def resumed(data: TriggerFlowRuntimeData) -> None:
        data.set_state("resumed", data.value)

    flow.to(begin).to(wait)
    flow.when({"flow_data": "mode"}).to(on_mode)
    flow.when("resume_now").to(resumed)
    return flow


def timers(store: EventStore, clock: Clock) -> TriggerFlow:
    """A durable sleep and a retried chunk whose backoffs are durable timers."""
    flow = TriggerFlow(name="golden_timers", store=store, clock=clock)

    async def wait(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("slept_at", clock.now())
        await data.sleep(600)
        data.set_state("woke", True)
        return data.value

    def probe() -> str:
        # The upstream is down until 50 s after the sleep ends: the first
        # attempt fails, a retry after its 30 s durable backoff may too.
        if clock.now() < T0 + 650:
            raise ConnectionError("upstream down")
        return "up"

    async def flaky(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("probe", await data.step("probe", probe))
        return "done"

    flow.to(wait).to(
        flaky,
        retry=RetryPolicy(attempts=4, initial_backoff=30, multiplier=2, jitter=0),
    )
    return flow


@dataclass(frozen=True)
class Scenario:
    """A fixture: how to build the flow, the execution's input, interrupt answers."""

    name: str
    build: Callable[[EventStore, Clock], TriggerFlow]
    start_input: Any
    answers: dict[str, list[Any]] = field(default_factory=dict)


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("pipeline", pipeline, {"n": 2, "items": 3}),
        Scenario(
            "approval",
            approval,
            7,
            {
                "review": ["approved"],
                "signature": ["alice", "bob"],
                "legal": ["cleared"],
            },
        ),
        Scenario("nested", nested, 4, {"confirm": ["yes"]}),
        Scenario("repause", repause, 0, {"confirm": ["one", "two"]}),
        Scenario("deep", deep, "in", {"deep": ["answer"]}),
        Scenario("fanout", fanout, 4, {"item": ["zero", "two"]}),
        Scenario("shared", shared, "x", {"go": ["went"]}),
        Scenario("timers", timers, "tick"),
    )
}
