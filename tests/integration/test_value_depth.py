"""Deeply nested values: refused at the write, never wedging the log afterwards.

orjson encodes at most 254 nested lists/dicts. A value accepted at write time is
later wrapped in more containers (the snapshot of the view, ``save()``, an
exported history); if one of those cannot be encoded, the first snapshot after
it used to fail every flush of the execution. Values are capped at
``MAX_VALUE_DEPTH`` (dot-path segments counting) so that every derived record
still encodes, and a snapshot that cannot be encoded anyway is skipped with a
warning while the real events keep being appended.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from orchestrator import FlowDefinitionError, PayloadError, TriggerFlowRuntimeData
from orchestrator.events import values
from orchestrator.events.codec import encode
from orchestrator.events.execution import SnapshotTaken
from orchestrator.events.values import MAX_VALUE_DEPTH
from orchestrator.history import export_history
from orchestrator.runtime.journal import SnapshotSkippedWarning
from orchestrator.testing import fold_execution

ORJSON_MAX_DEPTH = 254  # measured: orjson.dumps of 255 nested lists raises


def nest(levels: int, leaf: Any = 0) -> Any:
    value = leaf
    for i in range(levels):
        value = [value] if i % 2 else {"d": value}
    return value


def depth(value: Any) -> int:
    """Nested lists/dicts in ``value`` (iterative: never hits the recursion limit)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            stack.extend((child, level + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, level + 1) for child in node)
        else:
            deepest = max(deepest, level)
    return deepest


def test_orjson_limit_is_what_the_margin_assumes() -> None:
    orjson.dumps(nest(ORJSON_MAX_DEPTH))
    with pytest.raises(TypeError):
        orjson.dumps(nest(ORJSON_MAX_DEPTH + 1))


async def test_values_at_the_limit_keep_every_derived_record_encodable(make_flow):
    """Every slot a user value can reach, filled to the limit: the snapshot of each
    view, save() and the exported history (holding those snapshots) all encode."""
    top = MAX_VALUE_DEPTH
    child = make_flow("child")

    async def child_work(data: TriggerFlowRuntimeData) -> None:
        data.set_state("mine", nest(top))
        data.set_state("seen", data.value)

    child.to(child_work)
    flow = make_flow("parent")

    async def fill(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("deep", nest(top))
        data.set_state(".".join(["p"] * 40), nest(top - 39))
        data.append_state("log", nest(top - 1))
        data.set_flow_data("deep.x", nest(top - 1), no_warning=True)
        await data.step("s", nest, top)
        await data.async_emit("side", nest(top))
        return nest(top)

    async def side(data: TriggerFlowRuntimeData) -> Any:
        return data.value

    async def ask(data: TriggerFlowRuntimeData) -> Any:
        return await data.async_pause_for(
            type="deep", payload=data.value, interrupt_id="q"
        )

    flow.to(fill).to_sub_flow(
        child,
        capture={"input": "value", "state": {"a": "state.deep", "b.c": "state.p.p"}},
        write_back={"value": "snapshot.mine", "state": {"back": "snapshot.seen"}},
    ).to(ask)
    flow.when("side").to(side)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    await execution.async_continue_with("q", nest(top))

    saved = execution.save()
    orjson.dumps(saved)
    history = export_history(flow.store, execution.id)
    streams = history["streams"]
    assert len(streams) >= 3  # the parent, the child, flow data
    deepest = 0
    for stream in streams:
        if stream["kind"] not in ("execution", "child"):
            continue
        view = fold_execution(flow.store, stream["stream_id"])
        _, data = encode(SnapshotTaken(view=view.to_json()))
        stream["events"].append(
            {"type": "execution.snapshot", "data": orjson.loads(data)}
        )
        deepest = max(deepest, depth(view.to_json()))
    encoded = orjson.dumps(history)  # the deepest record there is
    assert depth(orjson.loads(encoded)) <= ORJSON_MAX_DEPTH
    # The documented overhead (docs/api.md §4.2): the deepest slot of a view is
    # 5 containers deep, an exported snapshot wraps the view in 6 more.
    assert deepest <= top + 5
    assert depth(orjson.loads(encoded)) <= top + 5 + 6 < ORJSON_MAX_DEPTH
    await execution.async_close()


@pytest.mark.parametrize(
    ("key", "value", "append"),
    [
        ("k", nest(MAX_VALUE_DEPTH + 1), False),
        ("k", nest(MAX_VALUE_DEPTH), True),
        ("a.b", nest(MAX_VALUE_DEPTH), False),
        (".".join(["p"] * (MAX_VALUE_DEPTH + 2)), 1, False),
        ("k", nest(10_000), False),
    ],
)
async def test_too_deep_a_state_write_is_refused_and_writes_nothing(
    make_flow, key: str, value: Any, append: bool
):
    flow = make_flow()
    caught: list[PayloadError] = []

    async def write(data: TriggerFlowRuntimeData) -> None:
        data.set_state("before", 1)
        try:
            if append:
                data.append_state(key, value)
            else:
                data.set_state(key, value)
        except PayloadError as error:
            caught.append(error)

    flow.to(write)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    [error] = caught
    assert f"more than {MAX_VALUE_DEPTH} lists/dicts" in str(error)
    assert "Nothing was written" in str(error)
    assert execution.get_state() == {"before": 1}
    types = [e.type for e in flow.store.read_stream(execution.id)]
    assert types.count("state.set") == 1
    assert "state.appended" not in types
    await execution.async_close()


async def test_the_deepest_accepted_writes(make_flow):
    flow = make_flow()

    async def write(data: TriggerFlowRuntimeData) -> None:
        data.set_state("k", nest(MAX_VALUE_DEPTH))
        data.append_state("l", nest(MAX_VALUE_DEPTH - 1))
        data.set_state("a.b", nest(MAX_VALUE_DEPTH - 1))
        data.set_state(".".join(["p"] * (MAX_VALUE_DEPTH + 1)), 1)

    flow.to(write)
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    assert execution.get_state("k") == nest(MAX_VALUE_DEPTH)
    await execution.async_close()


async def test_deep_flow_data_is_refused_from_the_flow_too(make_flow):
    flow = make_flow()
    with pytest.raises(PayloadError, match="lists/dicts"):
        flow.set_flow_data("a.b", nest(MAX_VALUE_DEPTH), no_warning=True)
    flow.set_flow_data("a.b", nest(MAX_VALUE_DEPTH - 1), no_warning=True)


async def test_a_snapshot_that_cannot_be_encoded_never_blocks_the_log(
    make_flow, monkeypatch: pytest.MonkeyPatch
):
    """A view deeper than orjson can encode (only possible past the cap, raised
    here: write_back paths are capped too now): the snapshot is skipped with a
    warning, every event still reaches the log, close() works, and a rebuild
    from the log equals the live view."""
    monkeypatch.setattr(values, "MAX_VALUE_DEPTH", ORJSON_MAX_DEPTH)
    flow = make_flow("parent")

    async def deep(data: TriggerFlowRuntimeData) -> None:
        # Its event encodes; the snapshot, wrapping the view, cannot.
        data.set_state("w", nest(ORJSON_MAX_DEPTH - 2))

    async def many(data: TriggerFlowRuntimeData) -> None:
        for i in range(30):
            data.set_state(f"k{i % 3}", i)

    flow.to(deep).to(many)
    execution = flow.create_execution(auto_close=False)
    execution._engine.journal.snapshot_every = 10

    async def run() -> Any:
        await execution.async_start(None)
        return await execution.async_close()

    with pytest.warns(SnapshotSkippedWarning, match="snapshot at seq"):
        snapshot = await run()
    assert execution.get_status() == "completed"
    assert snapshot["k2"] == 29
    types = [e.type for e in flow.store.read_stream(execution.id)]
    assert "execution.snapshot" not in types
    assert types[-1] == "execution.closed"
    assert types.count("state.set") == 31
    rebuilt = fold_execution(flow.store, execution.id)
    assert rebuilt.to_json() == execution.view.to_json()


# Review of issue 11, finding 5: a write_back target path was never checked, so
# a child's deep result written back under a long path went into the parent's
# state unchecked, and save() raised orjson's bare TypeError.

LONG_PATH = ".".join(["a"] * (MAX_VALUE_DEPTH + 2))  # 129 dicts above its value


@pytest.mark.parametrize(
    "options",
    [
        {"write_back": {"state": {LONG_PATH: "result"}}},
        {"write_back": {"flow_data": {LONG_PATH: "result"}}},
        {"capture": {"state": {LONG_PATH: "state.x"}}},
    ],
)
def test_a_target_path_deeper_than_the_cap_is_a_definition_error(
    make_flow, options: dict[str, Any]
) -> None:
    child = make_flow("child")
    child.to(lambda data: 1)
    parent = make_flow("parent")
    with pytest.raises(FlowDefinitionError, match=f"{MAX_VALUE_DEPTH} lists/dicts"):
        parent.to_sub_flow(child, **options)
    # The deepest path a scalar fits under is accepted, as set_state accepts it.
    deepest = ".".join(["a"] * (MAX_VALUE_DEPTH + 1))
    parent.to_sub_flow(child, write_back={"state": {deepest: "result"}})


@pytest.mark.parametrize("target", ["state", "flow_data"])
async def test_a_written_back_value_too_deep_under_its_path_fails_the_parent_run(
    make_flow, target: str
) -> None:
    child = make_flow("child")

    def deep(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("mine", nest(MAX_VALUE_DEPTH - 2))

    child.to(deep)
    parent = make_flow("parent")
    path = ".".join(["a"] * 10)  # nine dicts above the value: 135 in all
    parent.to_sub_flow(child, write_back={target: {path: "snapshot.mine"}})
    execution = parent.create_execution(auto_close=False)
    with pytest.raises(PayloadError, match=f"more than {MAX_VALUE_DEPTH} lists/dicts"):
        await execution.async_start(1)
    assert execution.get_status() == "failed"
    assert execution.get_state() == {}
    assert parent.get_flow_data("a", no_warning=True) is None
    # Every derived record still encodes: save() never raises orjson's TypeError.
    saved = execution.save()
    assert orjson.loads(orjson.dumps(saved))["execution_id"] == execution.id
    await execution.async_close()
