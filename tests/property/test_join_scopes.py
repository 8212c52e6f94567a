"""And-joins pair values per originating signal, whatever the interleaving (issue 11, item 10).

Spec: reference §6 "Join scoping" (Agently keys partial join state by the layer
marks, else by the aggregation scope that chunk-emitted signals inherit from the
signal their chain started from, else ``__root__``). Concurrent external emits
each start their own chain, so a ``when([...], mode="and")`` over events their
chunks emit must fire once per external emit, with that emit's own values.
Before the fix every signal outside a fan-out shared ``__root__``: of two
concurrent cascades, the later value overwrote the earlier one in the join and
a pair was lost.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orchestrator import InMemoryEventStore, TriggerFlow, TriggerFlowRuntimeData
from orchestrator.testing import assert_replay_equivalent

# One external emit's chunk: the order it emits A and B in, how it emits each
# (awaited or detached), and how often it yields to the loop before each.
EMIT_PLAN = st.tuples(
    st.booleans(),  # A first?
    st.sampled_from(["await", "nowait"]),
    st.sampled_from(["await", "nowait"]),
    st.integers(0, 3),
    st.integers(0, 3),
)


def _flow(store: InMemoryEventStore, plans: list[Any]) -> TriggerFlow:
    flow = TriggerFlow(name="pairs", store=store)

    async def split(data: TriggerFlowRuntimeData) -> None:
        index = data.value
        a_first, how_a, how_b, yields_a, yields_b = plans[index]
        steps = [("A", how_a, yields_a), ("B", how_b, yields_b)]
        for event, how, yields in steps if a_first else steps[::-1]:
            for _ in range(yields):
                await asyncio.sleep(0)
            if how == "await":
                await data.async_emit(event, index)
            else:
                await data.async_emit_nowait(event, index)

    async def joined(data: TriggerFlowRuntimeData) -> None:
        pair = data.value["event"]
        data.append_state("pairs", [pair["A"], pair["B"]])

    flow.when("go").to(split)
    flow.when(["A", "B"], mode="and").to(joined)
    return flow


async def _run(plans: list[Any]) -> tuple[list[list[int]], dict[str, Any]]:
    store = InMemoryEventStore()
    try:
        flow = _flow(store, plans)
        execution = flow.create_execution(auto_close=False)
        await execution.async_start(None)
        await asyncio.gather(
            *(execution.async_emit("go", index) for index in range(len(plans)))
        )
        await execution.async_wait_idle()
        view = await assert_replay_equivalent(execution)
        leftover = view.joins
        snapshot = await execution.async_close()
        return snapshot.get("pairs", []), leftover
    finally:
        store.close()


@given(plans=st.lists(EMIT_PLAN, min_size=1, max_size=6))
def test_each_originating_emit_gets_exactly_its_own_pair(plans: list[Any]) -> None:
    pairs, leftover = asyncio.run(_run(plans))
    assert sorted(pairs) == [[index, index] for index in range(len(plans))]
    # Every scope's partial state was cleared when its join fired.
    assert all(not scopes for scopes in leftover.values()), leftover


def test_two_concurrent_cascades_interleaved_a_a_b_b() -> None:
    """The interleaving that lost a pair: both A's arrive before either B."""
    plans = [(True, "nowait", "await", 0, 2), (True, "nowait", "await", 0, 2)]
    pairs, _ = asyncio.run(_run(plans))
    assert sorted(pairs) == [[0, 0], [1, 1]]


def test_collect_pairs_per_originating_emit_too() -> None:
    """collect() joins in the same scope as when(..., mode="and")."""

    async def run() -> list[dict[str, Any]]:
        store = InMemoryEventStore()
        flow = TriggerFlow(name="collects", store=store)

        async def left(data: TriggerFlowRuntimeData) -> Any:
            await asyncio.sleep(0)
            return data.value

        async def right(data: TriggerFlowRuntimeData) -> Any:
            return data.value

        async def done(data: TriggerFlowRuntimeData) -> None:
            data.append_state("sets", data.value)

        flow.when("go").to(left).collect("c", "l", mode="filled_then_empty")
        flow.when("go").to(right).collect("c", "r", mode="filled_then_empty")
        flow.when("Collect-c").to(done)
        execution = flow.create_execution(auto_close=False)
        await execution.async_start(None)
        await asyncio.gather(*(execution.async_emit("go", i) for i in range(3)))
        snapshot = await execution.async_close()
        store.close()
        sets: list[dict[str, Any]] = snapshot["sets"]
        return sets

    sets = asyncio.run(run())
    assert sorted(sets, key=lambda s: s["l"]) == [{"l": i, "r": i} for i in range(3)]


def test_a_join_across_a_pause_still_pairs_with_its_sibling() -> None:
    """A "next" resume keeps its branch's origin: the join after it completes."""

    async def run() -> dict[str, Any]:
        store = InMemoryEventStore()
        flow = TriggerFlow(name="paused_join", store=store)

        async def ask(data: TriggerFlowRuntimeData) -> Any:
            return await data.async_pause_for(interrupt_id="ask")

        async def other(data: TriggerFlowRuntimeData) -> Any:
            return "other"

        async def joined(data: TriggerFlowRuntimeData) -> None:
            data.set_state("joined", sorted(data.value["event"].values()))

        flow.to(ask)
        flow.to(other)
        flow.when([ask, other], mode="and").to(joined)
        execution = flow.create_execution(auto_close=False)
        await execution.async_start(None)
        await execution.async_continue_with("ask", "answer")
        snapshot = await execution.async_close()
        store.close()
        return snapshot

    assert asyncio.run(run()) == {"joined": ["answer", "other"]}
