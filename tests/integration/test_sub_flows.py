"""Sub-flows: the capture / write_back table of seed 003, case by case, and isolation.

Spec: issue 6 (quoted in docstrings), seed 003 §6 "How sub_flow capture /
write_back relate to these layers" and §7 "Isolation in child flows", reference
§10 (binding grammar) and §14 items 2-3 (``state.`` / ``snapshot.`` accepted).
Child streams, pauses, cancellation and nesting are in test_sub_flows_streams.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator import (
    FlowDefinitionError,
    MissingResourceError,
    TriggerFlowRuntimeData,
)
from orchestrator.events.codec import loads
from orchestrator.runtime.flow_data import FlowDataWarning
from tests.integration.scripts.flows import set_final_result


class Logger:
    """A live resource with identity (never serialisable)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __repr__(self) -> str:
        return "<Logger SECRET-OBJECT-MARKER>"


def _echo_child(make_flow: Any, name: str = "child") -> tuple[Any, list[Any]]:
    """A child that records its input, state and flow_data, and returns its input."""
    child = make_flow(name)
    seen: list[Any] = []

    async def look(data: TriggerFlowRuntimeData) -> Any:
        seen.append(
            {
                "input": data.value,
                "state": data.get_state(),
                "flow_data": data.get_flow_data(no_warning=True),
            }
        )
        return data.value

    child.to(look)
    return child, seen


async def _run(parent: Any, value: Any, **kw: Any) -> tuple[Any, dict[str, Any]]:
    execution = parent.create_execution(auto_close=False, **kw)
    await execution.async_start(value)
    snapshot = await execution.async_close()
    return execution, snapshot


def _record_value(process: Any) -> None:
    """Chain a chunk that keeps the incoming value (the sub-flow's output)."""

    async def record(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("got", data.value)

    process.to(record)


# -- capture: the child's input ----------------------------------------------------------------


async def test_default_capture_child_input_is_the_parent_value(make_flow):
    """Issue 6: default child input = parent value."""
    child, seen = _echo_child(make_flow)
    parent = make_flow("parent")
    parent.to_sub_flow(child)
    await _run(parent, {"topic": "pricing"})
    assert seen[0]["input"] == {"topic": "pricing"}
    assert seen[0]["state"] == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("value", {"doc": {"title": "T", "n": 2}}),
        ("value.doc", {"title": "T", "n": 2}),
        ("value.doc.title", "T"),
        ("value.doc.missing", None),
    ],
)
async def test_capture_input_from_the_parent_value(make_flow, source, expected):
    """Issue 6: input from the parent value ("value", "value.path")."""
    child, seen = _echo_child(make_flow)
    parent = make_flow("parent")
    parent.to_sub_flow(child, capture={"input": source})
    await _run(parent, {"doc": {"title": "T", "n": 2}})
    assert seen[0]["input"] == expected


@pytest.mark.parametrize("scope", ["state", "runtime_data"])
async def test_capture_input_from_the_parent_state(make_flow, scope):
    """Issue 6: accept ``state.x`` as well as ``runtime_data.x``."""
    child, seen = _echo_child(make_flow)
    parent = make_flow("parent")

    async def prepare(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("request", {"topic": "t"})
        return "ignored"

    parent.to(prepare).to_sub_flow(child, capture={"input": f"{scope}.request.topic"})
    await _run(parent, None)
    assert seen[0]["input"] == "t"


@pytest.mark.parametrize("scope", ["flow_state", "flow_data"])
async def test_capture_input_from_the_parent_flow_state(make_flow, scope):
    """Issue 6: accept ``flow_state.x`` as well as ``flow_data.x``."""
    child, seen = _echo_child(make_flow)
    parent = make_flow("parent")
    parent.set_flow_data("mode", {"speed": "fast"}, no_warning=True)
    parent.to_sub_flow(child, capture={"input": f"{scope}.mode.speed"})
    await _run(parent, None)
    assert seen[0]["input"] == "fast"


# -- capture: the child's state and flow_data --------------------------------------------------


@pytest.mark.parametrize("key", ["state", "runtime_data"])
async def test_capture_child_state_from_parent_state_and_value(make_flow, key):
    """Issue 6 / seed 003: child state from the parent state (and the value)."""
    child, seen = _echo_child(make_flow)
    parent = make_flow("parent")

    async def prepare(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("request", {"topic": "t", "user": "u"})
        data.set_state("budget", 3)
        return {"v": 1}

    parent.to(prepare).to_sub_flow(
        child,
        capture={
            key: {
                "request": "state.request",
                "limits.budget": "runtime_data.budget",
                "from_value": "value.v",
                "missing": "state.nope",
            }
        },
    )
    await _run(parent, None)
    assert seen[0]["state"] == {
        "request": {"topic": "t", "user": "u"},
        "limits": {"budget": 3},
        "from_value": 1,
        "missing": None,
    }


@pytest.mark.parametrize("key", ["flow_data", "flow_state"])
async def test_capture_child_flow_data_from_parent_flow_state(make_flow, key):
    """Issue 6 / seed 003: child flow_data from the parent's flow_state."""
    child, seen = _echo_child(make_flow)
    parent = make_flow("parent")
    parent.set_flow_data("mode", "fast", no_warning=True)
    parent.to_sub_flow(
        child,
        capture={key: {"mode": "flow_state.mode", "copied": "value"}},
    )
    await _run(parent, "v")
    assert seen[0]["flow_data"] == {"mode": "fast", "copied": "v"}


async def test_capture_resources_by_identity_only_keys_in_the_log(make_flow):
    """Issue 6: resources from the parent runtime_resources, passed by identity,
    never written to the log (only the key)."""
    logger = Logger()
    got: list[Any] = []
    child = make_flow("child")

    async def use(data: TriggerFlowRuntimeData) -> Any:
        got.append(data.require_resource("log"))
        got.append(data.get_resource("logger"))  # not forwarded under its own key
        data.require_resource("log").lines.append(f"child got {data.value}")

    child.to(use)
    parent = make_flow("parent")
    parent.to_sub_flow(child, capture={"resources": {"log": "resources.logger"}})
    execution, _ = await _run(parent, "x", runtime_resources={"logger": logger})
    assert got[0] is logger
    assert got[1] is None
    assert logger.lines == ["child got x"]

    (info,) = parent.store.list_streams(parent_id=execution.id)
    child_events = parent.store.read_stream(info.stream_id)
    created = loads(child_events[0].data)
    assert child_events[0].type == "execution.created"
    assert created["resource_keys"] == ["log"]
    assert created["captured"]["resources"] == ["log"]
    everything = b"".join(e.data for e in parent.store.read_all(0, 100_000))
    assert b"SECRET-OBJECT-MARKER" not in everything
    assert b"Logger" not in everything


async def test_parent_resources_are_not_forwarded_by_default(make_flow):
    """Reference §10: the child sees only captured resources and its own flow's."""
    child = make_flow("child")
    child.update_runtime_resources(own="child-own")
    seen: list[Any] = []

    async def look(data: TriggerFlowRuntimeData) -> Any:
        seen.append((data.get_resource("logger"), data.get_resource("own")))

    child.to(look)
    parent = make_flow("parent")
    parent.to_sub_flow(child)
    await _run(parent, None, runtime_resources={"logger": Logger()})
    assert seen == [(None, "child-own")]


async def test_capturing_a_missing_parent_resource_fails_the_call(make_flow):
    child, seen = _echo_child(make_flow)
    parent = make_flow("parent")
    parent.to_sub_flow(child, capture={"resources": {"log": "resources.logger"}})
    execution = parent.create_execution(auto_close=False)
    with pytest.raises(Exception) as info:  # noqa: PT011 - the class is checked below
        await execution.async_start(None)
    assert "logger" in str(info.value)
    assert isinstance(
        info.value, MissingResourceError
    ) or "MissingResourceError" in str(info.value)
    assert seen == []


async def test_capture_is_a_snapshot_not_a_live_binding(make_flow):
    """Seed 003: snapshot once when the parent node executes; no live binding."""
    child = make_flow("child")

    async def mutate(data: TriggerFlowRuntimeData) -> Any:
        request = data.get_state("request")
        request["topic"] = "changed by child"
        data.set_state("request", request)
        data.set_state("request.extra", True)
        return request

    child.to(mutate)
    parent = make_flow("parent")

    async def prepare(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("request", {"topic": "original"})
        return data.value

    parent.to(prepare).to_sub_flow(
        child, capture={"state": {"request": "state.request"}}
    ).to(lambda data: data.set_state("child_result", data.value), name="keep")
    _, snapshot = await _run(parent, None)
    assert snapshot["request"] == {"topic": "original"}
    assert snapshot["child_result"]["request"] == {
        "topic": "changed by child",
        "extra": True,
    }


# -- write_back --------------------------------------------------------------------------------


def _result_child(make_flow: Any, final: bool) -> Any:
    """A child whose close snapshot is {"title", "n"} and, if ``final``, with a
    $final_result of {"report": {...}}."""
    child = make_flow("child")

    async def work(data: TriggerFlowRuntimeData) -> Any:
        await data.async_set_state("title", str(data.value).upper())
        await data.async_set_state("n", 3)
        if final:
            set_final_result(
                data, {"report": {"title": str(data.value).upper(), "n": 3}}
            )

    child.to(work)
    return child


async def test_default_write_back_value_is_the_final_result(make_flow):
    """Issue 6: default parent value = child result ($final_result if set)."""
    parent = make_flow("parent")
    _record_value(parent.to_sub_flow(_result_child(make_flow, final=True)))
    _, snapshot = await _run(parent, "x")
    assert snapshot["got"] == {"report": {"title": "X", "n": 3}}


async def test_default_write_back_value_is_the_close_snapshot_without_result(make_flow):
    """Issue 6: "result" is the close snapshot when no $final_result was set."""
    parent = make_flow("parent")
    _record_value(parent.to_sub_flow(_result_child(make_flow, final=False)))
    _, snapshot = await _run(parent, "x")
    assert snapshot["got"] == {"title": "X", "n": 3}


@pytest.mark.parametrize(
    ("final", "source", "expected"),
    [
        (True, "result", {"report": {"title": "X", "n": 3}}),
        (True, "result.report.title", "X"),
        (True, "result.title", None),
        (False, "result.title", "X"),
        (True, "snapshot", None),  # filled below: the whole close snapshot
        (True, "snapshot.n", 3),
        (False, "snapshot.title", "X"),
    ],
)
async def test_write_back_value_sources(make_flow, final, source, expected):
    """Issue 6: write_back reads only from the child result (`result`,
    `result.path`; `snapshot[.path]` = close snapshot) into the parent value."""
    parent = make_flow("parent")
    _record_value(
        parent.to_sub_flow(
            _result_child(make_flow, final), write_back={"value": source}
        )
    )
    _, snapshot = await _run(parent, "x")
    if source == "snapshot":
        assert snapshot["got"]["title"] == "X"
        assert snapshot["got"]["n"] == 3
        assert snapshot["got"]["$final_result"] == {"report": {"title": "X", "n": 3}}
    else:
        assert snapshot["got"] == expected


@pytest.mark.parametrize("key", ["state", "runtime_data"])
async def test_write_back_into_parent_state(make_flow, key):
    """Issue 6: write_back writes into the parent state (alias runtime_data)."""
    parent = make_flow("parent")
    call = parent.to_sub_flow(
        _result_child(make_flow, final=True),
        write_back={
            key: {"report.title": "result.report.title", "count": "snapshot.n"}
        },
    )
    _record_value(call)
    _, snapshot = await _run(parent, "x")
    assert snapshot["report"] == {"title": "X"}
    assert snapshot["count"] == 3
    # Without a "value" target the parent's next value is the incoming value.
    assert snapshot["got"] == "x"


@pytest.mark.parametrize("key", ["flow_data", "flow_state"])
async def test_write_back_into_parent_flow_state(make_flow, key):
    """Issue 6: write_back writes into the parent flow_state (alias flow_data)."""
    parent = make_flow("parent")
    call = parent.to_sub_flow(
        _result_child(make_flow, final=True),
        write_back={key: {"last_title": "result.report.title"}, "value": "result"},
    )
    _record_value(call)
    _, snapshot = await _run(parent, "x")
    assert parent.get_flow_data("last_title", no_warning=True) == "X"
    assert "last_title" not in snapshot


async def test_seed003_capture_and_write_back_together(make_flow):
    """Seed 003 §6 end to end (reference §10's parent close snapshot)."""
    logger = Logger()
    child = make_flow("child")

    async def child_step(data: TriggerFlowRuntimeData) -> Any:
        data.require_resource("logger").lines.append(f"child got {data.value}")
        await data.async_set_state("child_title", str(data.value["topic"]).upper())
        data.state.set("seen_request", data.get_state("request"))
        set_final_result(data, {"title": str(data.value["topic"]).upper(), "n": 3})

    child.to(child_step)
    parent = make_flow("parent")
    parent.update_runtime_resources(logger=logger)

    async def intake(data: TriggerFlowRuntimeData) -> Any:
        data.state.set("request", {"topic": data.value})
        data.set_state("budget", 3)
        return {"topic": data.value}

    async def finish(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("final", data.value)

    parent.to(intake).to_sub_flow(
        child,
        capture={
            "input": "value",
            "runtime_data": {"request": "runtime_data.request"},
            "resources": {"logger": "resources.logger"},
        },
        write_back={"value": "result", "runtime_data": {"child_title": "result.title"}},
    ).to(finish)
    _, snapshot = await _run(parent, "pricing")
    assert snapshot == {
        "request": {"topic": "pricing"},
        "budget": 3,
        "child_title": "PRICING",
        "final": {"title": "PRICING", "n": 3},
    }
    assert logger.lines == ["child got {'topic': 'pricing'}"]


async def test_to_with_a_flow_takes_capture_and_write_back(make_flow):
    """Issue 6: flow.to(child_flow, capture=..., write_back=...)."""
    child, seen = _echo_child(make_flow)
    parent = make_flow("parent")
    parent.to(
        child,
        capture={"input": "value.a", "state": {"k": "value.b"}},
        write_back={"state": {"echo": "result"}},
    )
    _, snapshot = await _run(parent, {"a": 1, "b": 2})
    assert seen[0]["input"] == 1
    assert seen[0]["state"] == {"k": 2}
    assert snapshot["echo"] == {"k": 2}


# -- refused at definition time ----------------------------------------------------------------


@pytest.mark.parametrize(
    "write_back",
    [
        {"resources": {"logger": "result.logger"}},
        {"resources": "result"},
    ],
)
def test_write_back_into_resources_is_refused(make_flow, write_back):
    """Issue 6: resources can never be written back (FlowDefinitionError)."""
    parent = make_flow("parent")
    with pytest.raises(FlowDefinitionError, match="resources") as info:
        parent.to_sub_flow(make_flow("child"), write_back=write_back)
    assert "value" in str(info.value)  # lists the allowed targets


@pytest.mark.parametrize(
    ("capture", "allowed"),
    [
        ({"input": "parent.x"}, "value"),
        ({"input": "resources.logger"}, "value"),
        ({"input": "result"}, "value"),
        ({"state": {"k": "snapshot.x"}}, "value"),
        ({"resources": {"k": "state.logger"}}, "resources"),
        ({"resources": {"k": "value"}}, "resources"),
        ({"bogus": {"k": "value"}}, "input"),
    ],
)
def test_capture_with_a_bad_scope_is_refused_listing_allowed(
    make_flow, capture, allowed
):
    """Issue 6: invalid scopes fail at definition time with an error listing the
    allowed ones."""
    parent = make_flow("parent")
    with pytest.raises(FlowDefinitionError) as info:
        parent.to_sub_flow(make_flow("child"), capture=capture)
    assert "allowed" in str(info.value)
    assert allowed in str(info.value)


@pytest.mark.parametrize(
    "write_back",
    [
        {"value": "state.x"},
        {"value": "value"},
        {"state": {"x": "flow_data.y"}},
        {"flow_data": {"x": "resources.y"}},
        {"bogus": {"x": "result"}},
    ],
)
def test_write_back_with_a_bad_scope_is_refused_listing_allowed(make_flow, write_back):
    """Issue 6: write_back reads only from the child result (result / snapshot)."""
    parent = make_flow("parent")
    with pytest.raises(FlowDefinitionError, match="allowed"):
        parent.to_sub_flow(make_flow("child"), write_back=write_back)


@pytest.mark.parametrize(
    ("capture", "write_back"),
    [
        ({"input": "value.1abc"}, None),
        ({"input": "state.a-b"}, None),
        ({"input": "state.a..b"}, None),
        ({"input": "value."}, None),
        ({"state": {"bad key": "value"}}, None),
        ({"state": {"ok": "flow_state.x.$y"}}, None),
        (None, {"value": "result.a b"}),
        (None, {"state": {"x.9": "result"}}),
        (None, {"flow_data": {"x": "result.é"}}),
    ],
)
def test_bad_path_segments_are_refused(make_flow, capture, write_back):
    """Issue 6 / reference §10: segments match [A-Za-z_][A-Za-z0-9_]*."""
    parent = make_flow("parent")
    with pytest.raises(FlowDefinitionError, match=r"segment|path"):
        parent.to_sub_flow(make_flow("child"), capture=capture, write_back=write_back)


@pytest.mark.parametrize(
    ("capture", "write_back"),
    [
        ({"state": {"x": "value"}, "runtime_data": {"x": "value.y"}}, None),
        ({"flow_data": {"m": "value"}, "flow_state": {"m": "value"}}, None),
        (None, {"state": {"x": "result.a"}, "runtime_data": {"x": "result.b"}}),
        (None, {"flow_data": {"x": "result"}, "flow_state": {"x": "result"}}),
    ],
)
def test_duplicate_targets_are_refused(make_flow, capture, write_back):
    """Issue 6: duplicate targets fail at definition time."""
    parent = make_flow("parent")
    with pytest.raises(FlowDefinitionError, match="duplicate"):
        parent.to_sub_flow(make_flow("child"), capture=capture, write_back=write_back)


@pytest.mark.parametrize(
    ("capture", "write_back"),
    [
        ({"state": {"a": "value", "a.b": "value"}}, None),
        (None, {"state": {"report": "result", "report.title": "result.t"}}),
    ],
)
def test_conflicting_targets_are_refused(make_flow, capture, write_back):
    """Reference §10: "Duplicate or conflicting targets raise ValueError at
    definition time" (a path and a path below it would overwrite each other)."""
    parent = make_flow("parent")
    with pytest.raises(FlowDefinitionError):
        parent.to_sub_flow(make_flow("child"), capture=capture, write_back=write_back)


def test_refusals_are_value_errors_and_nothing_is_wired(make_flow):
    parent = make_flow("parent")
    before = len(parent.definition.operators)
    with pytest.raises(ValueError):  # noqa: PT011 - FlowDefinitionError is a ValueError
        parent.to_sub_flow(make_flow("child"), capture={"input": "nope"})
    assert len(parent.definition.operators) == before


def test_to_a_chunk_with_sub_flow_options_is_refused(make_flow):
    parent = make_flow("parent")
    with pytest.raises((FlowDefinitionError, TypeError)):
        parent.to(lambda data: None, capture={"input": "value"})


# -- isolation ---------------------------------------------------------------------------------


async def test_child_state_and_flow_state_are_isolated_from_the_parent(make_flow):
    """Issue 6: the child has its own state and its own isolated flow_state; child
    mutations never change the parent except through write_back."""
    child = make_flow("iso-child")

    async def mutate(data: TriggerFlowRuntimeData) -> Any:
        await data.async_set_state("child_only", True)
        await data.async_set_state("shared_name", "child")
        data.flow_state.set("child_flag", 1, no_warning=True)
        data.flow_state.set("mode", "child-mode", no_warning=True)
        set_final_result(data, {"done": True})

    child.to(mutate)
    parent = make_flow("iso-parent")
    parent.set_flow_data("mode", "parent-mode", no_warning=True)

    async def prepare(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("shared_name", "parent")
        return data.value

    parent.to(prepare).to_sub_flow(
        child,
        capture={"flow_data": {"mode": "flow_state.mode"}},
        write_back={"state": {"child_done": "result.done"}},
    )
    _, snapshot = await _run(parent, None)
    assert snapshot == {"shared_name": "parent", "child_done": True}
    assert parent.get_flow_data(no_warning=True) == {"mode": "parent-mode"}
    assert child.get_flow_data(no_warning=True) in (None, {})


async def test_two_children_of_one_flow_do_not_share_flow_state(make_flow):
    """Issue 6: each child's flow_state belongs to its own isolated instance."""
    child = make_flow("counter-child")

    async def count(data: TriggerFlowRuntimeData) -> Any:
        data.flow_state.append("hits", data.value, no_warning=True)
        data.set_state("hits", data.flow_state.get("hits", no_warning=True))

    child.to(count)
    parent = make_flow("parent")
    parent.for_each().to_sub_flow(
        child, write_back={"value": "result.hits"}
    ).end_for_each().to(lambda data: data.set_state("all", data.value), name="keep_all")
    _, snapshot = await _run(parent, ["a", "b", "c"])
    assert snapshot["all"] == [["a"], ["b"], ["c"]]


async def test_child_flow_state_warns_like_any_flow_state(make_flow):
    """Reference §5: flow_state calls warn (FlowDataWarning) unless no_warning."""
    child = make_flow("warn-child")

    async def touch(data: TriggerFlowRuntimeData) -> Any:
        data.flow_state.set("k", 1)

    child.to(touch)
    parent = make_flow("parent")
    parent.to_sub_flow(child)
    with pytest.warns(FlowDataWarning):
        await _run(parent, None)
    assert parent.get_flow_data("k", no_warning=True) is None
