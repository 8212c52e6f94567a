"""Execution ids never collide with the store's other stream namespaces.

Issue 11 item 1: ``create_execution(execution_id="flow:<name>")`` (or a ``load()``
of a save with that id) appended the execution's events into the flow's own
stream, and every later flow_data read of that flow raised CorruptEventError.
The rules (docs/api.md §2.6, "Execution id rules"): 1-128 ASCII letters, digits, ``-``, ``_``, ``.``,
starting with a letter or digit, and not the sub-flow child form ``c`` + 16 hex.
"""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator import ExecutionIdError, SnapshotContractError, TriggerFlow
from orchestrator.ids import check_execution_id, derive_id, new_execution_id


async def note(data: Any) -> Any:
    data.set_flow_data("seen", data.value, no_warning=True)
    await data.async_set_state("value", data.value)
    return data.value


def build(make_flow: Any, name: str = "ids") -> TriggerFlow:
    flow: TriggerFlow = make_flow(name)
    flow.to(note)
    return flow


def contents(flow: TriggerFlow) -> tuple[list[Any], list[Any]]:
    store = flow.store
    return list(store.read_all()), store.list_streams()


BAD_IDS = [
    "",
    "flow:ids",
    "flow:ids/c0123456789abcdef",
    "a/b",
    "a:b",
    " padded",
    "-leading-dash",
    ".hidden",
    "x" * 129,
    "ü",
    "line\nbreak",
    "c0123456789abcdef",  # the form of a derived sub-flow child id
    "None\x00",
]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_create_execution_refuses_an_id_outside_the_execution_namespace(
    make_flow: Any, bad: str
) -> None:
    flow = build(make_flow)
    ok = flow.create_execution(execution_id="first")
    await ok.async_start("before")
    before = contents(flow)
    with pytest.raises(ExecutionIdError) as caught:
        flow.create_execution(execution_id=bad)
    assert caught.value.execution_id == bad
    assert isinstance(caught.value, ValueError)
    assert contents(flow) == before


@pytest.mark.parametrize("bad", [42, b"bytes", ["a"]])
async def test_create_execution_refuses_an_id_that_is_not_text(
    make_flow: Any, bad: Any
) -> None:
    flow = build(make_flow)
    with pytest.raises(ExecutionIdError, match="must be a string"):
        flow.create_execution(execution_id=bad)
    assert flow.store.list_streams() == []


async def test_the_flow_stream_survives_a_refused_flow_id(make_flow: Any) -> None:
    flow = build(make_flow)
    with pytest.raises(ExecutionIdError, match="flow:ids"):
        await flow.create_execution(execution_id="flow:ids").async_start("evil")
    # Before the fix this wrote into flow:ids and every later run raised
    # CorruptEventError "restore from backup".
    again = flow.create_execution(execution_id="after")
    await again.async_start("fine")
    assert again.get_state("value") == "fine"
    assert flow.get_flow_data("seen", no_warning=True) == "fine"
    assert [s.stream_id for s in flow.store.list_streams(kind="flow")] == ["flow:ids"]


@pytest.mark.parametrize(
    "good",
    [
        "a",
        "order-42",
        "A.b_c-9",
        "x" * 128,
        "c0123",
        "c0123456789abcdeF",
        "C" + "0" * 16,
    ],
)
async def test_ordinary_ids_are_accepted(make_flow: Any, good: str) -> None:
    flow = build(make_flow)
    execution = flow.create_execution(execution_id=good)
    await execution.async_start("v")
    assert execution.id == good
    assert flow.has_execution(good)


def test_generated_and_derived_ids_follow_the_rules() -> None:
    assert check_execution_id(new_execution_id())
    child = derive_id("c", "parent", "run")
    with pytest.raises(ExecutionIdError, match="sub-flow child"):
        check_execution_id(child)


@pytest.mark.parametrize("bad", ["flow:ids", None, "c0123456789abcdef", 7])
async def test_load_refuses_a_saved_execution_id_outside_the_namespace(
    make_flow: Any, tmp_path: Any, bad: Any
) -> None:
    source = build(make_flow)
    execution = source.create_execution(auto_close=False)
    await execution.async_start("v")
    saved = execution.save()
    saved["execution_id"] = bad
    saved["view"]["execution_id"] = bad
    saved["log"]["stream_id"] = bad
    target = build(make_flow, "ids")
    target_flow = TriggerFlow(name="ids", store=str(tmp_path / "other.db"))
    target_flow.to(note)
    try:
        with pytest.raises(SnapshotContractError, match="execution_id"):
            target_flow.create_execution(auto_close=False).load(saved)
        # Not a stream named "None" nor one inside the flow's namespace.
        assert target_flow.store.list_streams() == []
        assert list(target_flow.store.read_all()) == []
    finally:
        target_flow.store.close()
    del target
