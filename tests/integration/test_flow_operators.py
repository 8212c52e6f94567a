"""Definition operators: to, side_branch, when, batch, for_each, match/if, collect, end.

Spec: /work/shared/reference/triggerflow-semantics.md §2 (operators), §6 (joins).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from orchestrator import FlowDefinitionError, TriggerFlowRuntimeData
from orchestrator.runtime.runners import ConditionResultWarning

# -- helpers (module level: named handlers have stable identities) ---------------------


def upper(data: TriggerFlowRuntimeData) -> str:
    return str(data.value).upper()


def add_one(data: TriggerFlowRuntimeData) -> int:
    return int(data.value) + 1


def double(data: TriggerFlowRuntimeData) -> int:
    return int(data.value) * 2


async def square(data: TriggerFlowRuntimeData) -> int:
    return int(data.value) ** 2


async def record(data: TriggerFlowRuntimeData) -> Any:
    await data.async_append_state("seen", data.value)
    return data.value


async def keep(data: TriggerFlowRuntimeData) -> Any:
    await data.async_set_state("result", data.value)
    return data.value


# -- to / side_branch / end ------------------------------------------------------------


async def test_to_chains_return_values(make_flow):
    flow = make_flow()
    flow.to(add_one).to(double).to(square).to(keep)
    snapshot = await flow.async_start(2)
    assert snapshot == {"result": 36}


async def test_to_accepts_chunk_objects_tuples_and_registered_names(make_flow):
    flow = make_flow()
    flow.register_chunk_handler(double, name="twice")
    named = flow.chunk(add_one, name="inc")

    @flow.chunk("shout")
    def shout(data):
        return f"{data.value}!"

    flow.to(named).to("twice").to(("tag", lambda d: f"n={d.value}")).to(shout).to(keep)
    assert await flow.async_start(4) == {"result": "n=10!"}
    assert {"inc", "twice", "tag", "shout", "keep"} <= set(flow.chunks)


async def test_to_unregistered_name_raises(make_flow):
    flow = make_flow()
    with pytest.raises(FlowDefinitionError):
        flow.to("no_such_handler")


async def test_side_branch_keeps_main_value(make_flow):
    flow = make_flow()

    async def side(data):
        await data.async_set_state("side", data.value * 100)
        return "side-result"

    flow.to(add_one).side_branch(side).to(double).to(keep)
    snapshot = await flow.async_start(1)
    assert snapshot == {"side": 200, "result": 4}


async def test_to_side_branch_flag_same_as_side_branch(make_flow):
    flow = make_flow()

    async def side(data):
        await data.async_set_state("side", data.value)
        return "ignored"

    flow.to(add_one).to(side, side_branch=True).to(keep)
    assert await flow.async_start(1) == {"side": 2, "result": 2}


async def test_end_writes_final_result(make_flow):
    flow = make_flow()
    flow.to(add_one).end()
    assert await flow.async_start(41) == {"$final_result": 42}


async def test_separator_is_a_no_op(make_flow):
    flow = make_flow()
    flow.to(add_one).____("stage", log_info=False).to(keep)
    assert await flow.async_start(1) == {"result": 2}


# -- when -------------------------------------------------------------------------------


async def test_when_single_event_has_no_gate(make_flow):
    flow = make_flow()
    flow.when("Ping").to(record)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("Ping", 1)
    await ex.async_emit("Ping", 2)
    assert await ex.async_close() == {"seen": [1, 2]}


async def test_when_and_waits_for_every_trigger_and_groups_payload(make_flow):
    flow = make_flow()
    flow.when(["A", "B"], mode="and").to(record)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("A", "a")
    assert ex.get_state("seen") is None
    await ex.async_emit("B", "b")
    snapshot = await ex.async_close()
    assert snapshot["seen"] == [{"event": {"A": "a", "B": "b"}}]


async def test_when_and_is_one_shot_per_complete_set(make_flow):
    flow = make_flow()
    flow.when(["A", "B"]).to(record)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    for event, value in [("A", 1), ("B", 1), ("A", 2), ("B", 2)]:
        await ex.async_emit(event, value)
    snapshot = await ex.async_close()
    assert snapshot["seen"] == [
        {"event": {"A": 1, "B": 1}},
        {"event": {"A": 2, "B": 2}},
    ]


async def test_when_or_emits_type_event_value_per_arrival(make_flow):
    flow = make_flow()
    flow.when(["A", "B"], mode="or").to(record)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("A", 1)
    await ex.async_emit("B", 2)
    snapshot = await ex.async_close()
    assert [list(v) for v in snapshot["seen"]] == [["event", "A", 1], ["event", "B", 2]]


async def test_when_simple_or_emits_raw_value(make_flow):
    flow = make_flow()
    flow.when(["A", "B"], mode="simple_or").to(record)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("B", {"x": 1})
    await ex.async_emit("A", 7)
    assert (await ex.async_close())["seen"] == [{"x": 1}, 7]


async def test_when_dict_forms_event_and_runtime_data(make_flow):
    flow = make_flow()

    async def writer(data):
        await data.async_set_state("flag", "on")
        return

    flow.to(writer)
    flow.when({"event": "Go", "runtime_data": "flag"}).to(record)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    assert ex.get_state("seen") is None
    await ex.async_emit("Go", 1)
    snapshot = await ex.async_close()
    assert snapshot["seen"] == [{"event": {"Go": 1}, "runtime_data": {"flag": "on"}}]


async def test_when_on_chunks_keys_payload_by_continuation_events(make_flow):
    flow = make_flow()

    def a(data):
        return "A"

    def b(data):
        return "B"

    flow.to(a)
    flow.to(b)
    flow.when([a, "b"]).to(record)
    snapshot = await flow.async_start(None)
    (payload,) = snapshot["seen"]
    keys = sorted(payload["event"])
    assert len(keys) == 2
    assert keys[0].startswith("Chunk[a]-chunk-")
    assert keys[1].startswith("Chunk[b]-chunk-")
    assert sorted(payload["event"].values()) == ["A", "B"]
    suffix = keys[0].removeprefix("Chunk[a]-chunk-")
    assert len(suffix) == 16
    assert all(c in "0123456789abcdef" for c in suffix)


async def test_when_chunk_object_trigger(make_flow):
    flow = make_flow()
    chunk = flow.chunk(add_one, name="inc")
    flow.to(chunk)
    flow.when(chunk).to(keep)
    assert await flow.async_start(1) == {"result": 2}


async def test_when_starts_a_new_top_level_chain(make_flow):
    flow = make_flow()
    flow.to(add_one).when("Later").to(keep)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(1)
    assert ex.get_state() == {}
    await ex.async_emit("Later", "x")
    assert await ex.async_close() == {"result": "x"}


async def test_when_rejects_unknown_mode_and_kind(make_flow):
    flow = make_flow()
    with pytest.raises(FlowDefinitionError):
        flow.when(["A", "B"], mode="xor")
    with pytest.raises(FlowDefinitionError):
        flow.when({"nonsense": "A"})


# -- batch -------------------------------------------------------------------------------


async def test_batch_returns_dict_by_chunk_name(make_flow):
    flow = make_flow()
    flow.batch(add_one, double, square).to(keep)
    assert await flow.async_start(3) == {
        "result": {"add_one": 4, "double": 6, "square": 9}
    }


async def test_batch_uses_explicit_names(make_flow):
    flow = make_flow()
    flow.batch(("plus", add_one), flow.chunk(double, name="times")).to(keep)
    assert await flow.async_start(5) == {"result": {"plus": 6, "times": 10}}


async def test_batch_side_branch_keeps_value(make_flow):
    flow = make_flow()

    async def seen_double(data):
        await data.async_set_state("doubled", data.value * 2)
        return data.value * 2

    flow.to(add_one).batch(seen_double, square, side_branch=True).to(keep)
    snapshot = await flow.async_start(1)
    assert snapshot == {"doubled": 4, "result": 2}


async def test_batch_concurrency_cap_serialises_branches(make_flow):
    flow = make_flow()

    def branch(label):
        async def run(data):
            await data.async_append_state("trace", f"{label}:start")
            for _ in range(3):
                await asyncio.sleep(0)
            await data.async_append_state("trace", f"{label}:end")
            return label

        run.__name__ = run.__qualname__ = f"branch_{label}"
        return run

    flow.batch(branch("a"), branch("b"), branch("c"), concurrency=1).to(keep)
    snapshot = await flow.async_start(0)
    trace = snapshot["trace"]
    assert len(trace) == 6
    for i in range(0, 6, 2):
        label = trace[i].split(":")[0]
        assert trace[i : i + 2] == [f"{label}:start", f"{label}:end"], trace
    assert snapshot["result"] == {"branch_a": "a", "branch_b": "b", "branch_c": "c"}


# -- for_each ------------------------------------------------------------------------------


async def test_for_each_returns_list_in_input_order(make_flow):
    flow = make_flow()

    async def slow_inverse(data):
        # later items finish first
        for _ in range(10 - int(data.value)):
            await asyncio.sleep(0)
        await data.async_append_state("finish", data.value)
        return data.value * 10

    flow.for_each().to(slow_inverse).end_for_each().to(keep)
    snapshot = await flow.async_start([1, 2, 3, 4])
    assert snapshot["result"] == [10, 20, 30, 40]
    assert sorted(snapshot["finish"]) == [1, 2, 3, 4]


async def test_for_each_empty_list_emits_empty_list(make_flow):
    flow = make_flow()
    flow.for_each().to(record).end_for_each().to(keep)
    assert await flow.async_start([]) == {"result": []}


async def test_for_each_string_is_one_item(make_flow):
    flow = make_flow()
    flow.for_each().to(upper).end_for_each().to(keep)
    assert await flow.async_start("abc") == {"result": ["ABC"]}


async def test_for_each_scalar_is_one_item(make_flow):
    flow = make_flow()
    flow.for_each().to(add_one).end_for_each().to(keep)
    assert await flow.async_start(5) == {"result": [6]}


async def test_for_each_tuple_and_dict_items(make_flow):
    flow = make_flow()

    def key_of(data):
        return data.value["k"]

    flow.for_each().to(key_of).end_for_each().to(keep)
    assert await flow.async_start([{"k": "x"}, {"k": "y"}]) == {"result": ["x", "y"]}


async def test_nested_for_each(make_flow):
    flow = make_flow()
    (flow.for_each().for_each().to(double).end_for_each().end_for_each().to(keep))
    assert await flow.async_start([[1, 2], [3], []]) == {"result": [[2, 4], [6], []]}


async def test_for_each_multi_step_item_chain(make_flow):
    flow = make_flow()
    flow.for_each().to(add_one).to(double).end_for_each().to(keep)
    assert await flow.async_start([0, 1, 2]) == {"result": [2, 4, 6]}


async def test_for_each_concurrency_cap(make_flow):
    flow = make_flow()
    active = {"now": 0, "max": 0}

    async def work(data):
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])
        for _ in range(3):
            await asyncio.sleep(0)
        active["now"] -= 1
        return data.value

    flow.for_each(concurrency=2).to(work).end_for_each().to(keep)
    snapshot = await flow.async_start(list(range(6)))
    assert snapshot == {"result": list(range(6))}
    assert active["max"] == 2


async def test_for_each_runs_are_scoped_per_start(make_flow):
    flow = make_flow()
    flow.for_each().to(double).end_for_each().to(keep)
    first, second = await asyncio.gather(
        flow.async_start([1, 2]), flow.async_start([10, 20, 30])
    )
    assert first == {"result": [2, 4]}
    assert second == {"result": [20, 40, 60]}


# -- match / case ------------------------------------------------------------------------


def is_big(data):
    return data.value > 10


def is_even(data):
    return data.value % 2 == 0


async def test_match_hit_first_takes_first_true_case(make_flow):
    flow = make_flow()
    (
        flow.match()
        .case(is_big)
        .to(("big", lambda d: "big"))
        .case(is_even)
        .to(("even", lambda d: "even"))
        .case_else()
        .to(("other", lambda d: "other"))
        .end_match()
        .to(keep)
    )
    assert await flow.async_start(12) == {"result": "big"}
    assert await flow.async_start(4) == {"result": "even"}
    assert await flow.async_start(3) == {"result": "other"}


async def test_match_hit_all_runs_every_hit_and_returns_list(make_flow):
    flow = make_flow()
    (
        flow.match(mode="hit_all")
        .case(is_big)
        .to(("big", lambda d: "big"))
        .case(is_even)
        .to(("even", lambda d: "even"))
        .end_match()
        .to(keep)
    )
    snapshot = await flow.async_start(12)
    assert snapshot == {"result": ["big", "even"]}
    assert await flow.async_start(14) == {"result": ["big", "even"]}
    assert await flow.async_start(2) == {"result": ["even"]}


async def test_match_literal_cases_compare_with_equality(make_flow):
    flow = make_flow()
    (
        flow.match()
        .case("refund")
        .to(("r", lambda d: "R"))
        .case(3)
        .to(("three", lambda d: "3"))
        .case_else()
        .to(("e", lambda d: "E"))
        .end_match()
        .to(keep)
    )
    assert await flow.async_start("refund") == {"result": "R"}
    assert await flow.async_start(3) == {"result": "3"}
    assert await flow.async_start("other") == {"result": "E"}


async def test_match_without_hit_or_else_passes_value_through(make_flow):
    flow = make_flow()
    flow.match().case(is_big).to(("big", lambda d: "big")).end_match().to(keep)
    assert await flow.async_start(5) == {"result": 5}


async def test_match_only_true_selects_and_non_bool_warns(make_flow):
    flow = make_flow()

    def truthy_one(data):
        return 1

    (
        flow.match()
        .case(truthy_one)
        .to(("hit", lambda d: "hit"))
        .case_else()
        .to(("else", lambda d: "else"))
        .end_match()
        .to(keep)
    )
    with pytest.warns(ConditionResultWarning):
        snapshot = await flow.async_start(1)
    assert snapshot == {"result": "else"}


async def test_match_condition_reads_data_and_state(make_flow):
    flow = make_flow()

    async def prepare(data):
        await data.async_set_state("threshold", 5)
        return data.value

    def above(data):
        return data.value > data.get_state("threshold")

    (
        flow.to(prepare)
        .if_condition(above)
        .to(("yes", lambda d: "yes"))
        .else_condition()
        .to(("no", lambda d: "no"))
        .end_condition()
        .to(keep)
    )
    assert (await flow.async_start(6))["result"] == "yes"
    assert (await flow.async_start(5))["result"] == "no"


async def test_if_elif_else_aliases(make_flow):
    flow = make_flow()
    (
        flow.if_condition(is_big)
        .to(("big", lambda d: "big"))
        .elif_condition(is_even)
        .to(("even", lambda d: "even"))
        .else_condition()
        .to(("odd", lambda d: "odd"))
        .end_condition()
        .to(keep)
    )
    assert await flow.async_start(20) == {"result": "big"}
    assert await flow.async_start(2) == {"result": "even"}
    assert await flow.async_start(1) == {"result": "odd"}


async def test_match_branch_with_several_steps(make_flow):
    flow = make_flow()
    (
        flow.if_condition(is_even)
        .to(add_one)
        .to(double)
        .else_condition()
        .to(square)
        .end_condition()
        .to(keep)
    )
    assert await flow.async_start(2) == {"result": 6}
    assert await flow.async_start(3) == {"result": 9}


async def test_match_inside_for_each(make_flow):
    flow = make_flow()
    (
        flow.for_each()
        .if_condition(is_even)
        .to(("e", lambda d: f"even:{d.value}"))
        .else_condition()
        .to(("o", lambda d: f"odd:{d.value}"))
        .end_condition()
        .end_for_each()
        .to(keep)
    )
    assert await flow.async_start([1, 2, 3]) == {"result": ["odd:1", "even:2", "odd:3"]}


async def test_case_after_else_is_rejected(make_flow):
    flow = make_flow()
    process = flow.match().case(is_big).to(add_one).case_else().to(double)
    with pytest.raises(FlowDefinitionError):
        process.case(is_even)


# -- collect ----------------------------------------------------------------------------


async def test_collect_joins_named_branches(make_flow):
    flow = make_flow()
    flow.to(add_one).collect("both", "inc")
    flow.to(double).collect("both", "dbl").to(keep)
    assert await flow.async_start(5) == {"result": {"inc": 6, "dbl": 10}}


async def test_collect_continues_from_when_collect_event(make_flow):
    flow = make_flow()
    flow.to(add_one).collect("pair", "a")
    flow.to(double).collect("pair", "b")
    flow.when("Collect-pair").to(keep)
    assert await flow.async_start(1) == {"result": {"a": 2, "b": 2}}


async def test_collect_filled_and_update_re_emits_on_updates(make_flow):
    flow = make_flow()
    flow.when("X").collect("c", "x")
    flow.when("Y").collect("c", "y").to(record)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("X", 1)
    assert ex.get_state("seen") is None
    await ex.async_emit("Y", 1)
    await ex.async_emit("X", 2)
    snapshot = await ex.async_close()
    assert snapshot["seen"] == [{"x": 1, "y": 1}, {"x": 2, "y": 1}]


async def test_collect_filled_then_empty_waits_for_a_full_new_set(make_flow):
    flow = make_flow()
    flow.when("X").collect("c", "x", mode="filled_then_empty")
    flow.when("Y").collect("c", "y", mode="filled_then_empty").to(record)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("X", 1)
    await ex.async_emit("Y", 1)
    await ex.async_emit("X", 2)
    assert ex.get_state("seen") == [{"x": 1, "y": 1}]
    await ex.async_emit("Y", 2)
    snapshot = await ex.async_close()
    assert snapshot["seen"] == [{"x": 1, "y": 1}, {"x": 2, "y": 2}]


async def test_collect_rejects_unknown_mode(make_flow):
    flow = make_flow()
    with pytest.raises(FlowDefinitionError):
        flow.to(add_one).collect("c", "x", mode="whenever")


# -- config shape ---------------------------------------------------------------------------


async def test_operator_kinds_in_flow_config(make_flow):
    flow = make_flow()
    flow.to(add_one).batch(double, square).to(keep)
    flow.when(["A", "B"]).to(record)
    flow.when("L").for_each().to(upper).end_for_each().end()
    (
        flow.when("M")
        .match()
        .case(is_big)
        .to(("m1", lambda d: 1))
        .end_match()
        .collect("k", "m")
    )
    kinds = {
        op["kind"]
        for op in flow.get_flow_config(validate_serializable=False)["operators"]
    }
    assert {
        "chunk",
        "signal_gate",
        "batch_fanout",
        "batch_collect",
        "for_each_split",
        "for_each_collect",
        "match_route",
        "match_collect",
        "collect_branch",
        "result_sink",
    } <= kinds
