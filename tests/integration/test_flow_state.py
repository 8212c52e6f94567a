"""Data layers: state, flow_data / flow_state, runtime resources.

Spec: /work/shared/reference/triggerflow-semantics.md §3 (runtime data), §5 (data
layers), §14 items 9, 11, 12.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import warnings
from typing import Any

import pytest

from orchestrator import (
    FlowDefinitionError,
    MissingResourceError,
    PayloadError,
    TriggerFlowRuntimeData,
)
from orchestrator.runtime.flow_data import FlowDataWarning


async def run_chunk(
    make_flow, chunk, value: Any = None, **create: Any
) -> dict[str, Any]:
    flow = make_flow()
    flow.to(chunk)
    ex = flow.create_execution(**create)
    snapshot: dict[str, Any] = await ex.async_start(value)
    return snapshot


# -- state semantics --------------------------------------------------------------------


async def test_set_state_replaces_values_and_mappings(make_flow):
    async def chunk(data: TriggerFlowRuntimeData):
        data.set_state("a", {"x": 1, "y": 2})
        data.set_state("a", {"z": 3})
        data.set_state("n", 1)
        data.set_state("n", 2)

    assert await run_chunk(make_flow, chunk) == {"a": {"z": 3}, "n": 2}


async def test_dot_paths_create_and_read_nested_dicts(make_flow):
    seen: dict[str, Any] = {}

    async def chunk(data):
        data.set_state("m.c", 4)
        data.set_state("m.d.e", "deep")
        seen["c"] = data.get_state("m.c")
        seen["e"] = data.get_state("m.d.e")
        seen["missing"] = data.get_state("m.nope", "dflt")

    snapshot = await run_chunk(make_flow, chunk)
    assert snapshot == {"m": {"c": 4, "d": {"e": "deep"}}}
    assert seen == {"c": 4, "e": "deep", "missing": "dflt"}


async def test_get_state_returns_deep_copies(make_flow):
    seen: dict[str, Any] = {}

    async def chunk(data):
        data.set_state("cfg", {"items": [1, 2]})
        copy = data.get_state("cfg")
        copy["items"].append(99)
        whole = data.get_state()
        whole["cfg"]["items"].append(100)
        seen["after"] = data.get_state("cfg")

    snapshot = await run_chunk(make_flow, chunk)
    assert seen["after"] == {"items": [1, 2]}
    assert snapshot == {"cfg": {"items": [1, 2]}}


async def test_set_state_copies_the_callers_object(make_flow):
    async def chunk(data):
        value = {"k": [1]}
        data.set_state("v", value)
        value["k"].append(2)

    assert await run_chunk(make_flow, chunk) == {"v": {"k": [1]}}


async def test_append_state_missing_scalar_and_list(make_flow):
    async def chunk(data):
        data.append_state("missing", 1)
        data.set_state("scalar", 5)
        data.append_state("scalar", 6)
        data.set_state("lst", [1])
        data.append_state("lst", [2])

    assert await run_chunk(make_flow, chunk) == {
        "missing": [1],
        "scalar": [5, 6],
        "lst": [1, [2]],
    }


async def test_del_state_and_async_variants(make_flow):
    async def chunk(data):
        await data.async_set_state("a", 1)
        await data.async_set_state("b.c", 2)
        await data.async_append_state("l", "x")
        await data.async_del_state("a")
        data.del_state("b.c")

    assert await run_chunk(make_flow, chunk) == {"b": {}, "l": ["x"]}


async def test_state_is_execution_local(make_flow):
    flow = make_flow()

    async def chunk(data):
        data.append_state("mine", data.value)

    flow.to(chunk)
    assert await flow.async_start(1) == {"mine": [1]}
    assert await flow.async_start(2) == {"mine": [2]}


async def test_sync_handler_state_api_from_worker_thread(make_flow):
    def chunk(data):
        data.set_state("a", data.value)
        data.append_state("l", 1)
        data.append_state("l", 2)
        data.set_state("copy", data.get_state("a"))
        return

    assert await run_chunk(make_flow, chunk, 3) == {"a": 3, "l": [1, 2], "copy": 3}


async def test_state_namespace(make_flow):
    seen: dict[str, Any] = {}

    async def chunk(data):
        data.state.set("request", {"topic": data.value})
        data.state.append("log", 1)
        await data.state.async_set("x", 1)
        await data.state.async_append("log", 2)
        data.state["y"] = 2
        data.state.set("gone", True)
        data.state.delete("gone")
        await data.state.async_set("gone2", 1)
        await data.state.async_delete("gone2")
        seen["get"] = data.state.get("request.topic")
        seen["item"] = data.state["x"]
        seen["in"] = ("y" in data.state, "nope" in data.state)
        seen["len"] = len(data.state)
        seen["keys"] = sorted(data.state.keys())
        seen["items"] = dict(data.state.items())
        seen["dict"] = data.state.to_dict()
        with pytest.raises(KeyError):
            data.state["nope"]
        del data.state["y"]

    snapshot = await run_chunk(make_flow, chunk, "t")
    assert snapshot == {"request": {"topic": "t"}, "log": [1, 2], "x": 1}
    assert seen["get"] == "t"
    assert seen["item"] == 1
    assert seen["in"] == (True, False)
    assert seen["len"] == 4
    assert seen["keys"] == ["log", "request", "x", "y"]
    assert seen["items"]["x"] == 1
    assert seen["dict"] == {"request": {"topic": "t"}, "log": [1, 2], "x": 1, "y": 2}


async def test_deprecated_runtime_data_aliases_warn_and_work(make_flow):
    async def chunk(data):
        with pytest.warns(DeprecationWarning, match="deprecated"):
            data.set_runtime_data("a", 1)
        with pytest.warns(DeprecationWarning, match="deprecated"):
            data.append_runtime_data("l", 1)
        with pytest.warns(DeprecationWarning, match="deprecated"):
            value = data.get_runtime_data("a")
        data.set_state("read", value)
        with pytest.warns(DeprecationWarning, match="deprecated"):
            data.del_runtime_data("a")

    assert await run_chunk(make_flow, chunk) == {"l": [1], "read": 1}


async def test_state_write_signals_runtime_data_listeners_awaited(make_flow):
    flow = make_flow()
    seen: dict[str, Any] = {}

    async def writer(data):
        await data.async_set_state("k", "v1")
        seen["after_write"] = data.get_state("listener")

    async def listener(data):
        await data.async_set_state("listener", [data.trigger_type, data.value])

    flow.to(writer)
    flow.when({"runtime_data": "k"}).to(listener)
    snapshot = await flow.async_start(None)
    assert seen["after_write"] == ["runtime_data", "v1"]
    assert snapshot == {"k": "v1", "listener": ["runtime_data", "v1"]}


async def test_state_write_with_emit_false_does_not_signal(make_flow):
    flow = make_flow()

    async def writer(data):
        await data.async_set_state("k", "v1", emit=False)

    async def listener(data):
        await data.async_set_state("listener", True)

    flow.to(writer)
    flow.when({"runtime_data": "k"}).to(listener)
    assert await flow.async_start(None) == {"k": "v1"}


async def test_execution_get_state_reads_live_state(make_flow):
    flow = make_flow()

    async def chunk(data):
        await data.async_set_state("a.b", data.value)

    flow.to(chunk)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(7)
    assert ex.get_state() == {"a": {"b": 7}}
    assert ex.get_state("a.b") == 7
    assert ex.get_state("zzz", "d") == "d"
    copy = ex.get_state("a")
    copy["b"] = 0
    assert ex.get_state("a.b") == 7
    await ex.async_close()


# -- JSON only (§14 item 12) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [{1, 2}, b"bytes", math.nan, object(), {"nested": {"x": float("inf")}}, {1: "k"}],
    ids=["set", "bytes", "nan", "object", "nested-inf", "int-key"],
)
async def test_non_json_state_raises_payload_error_and_writes_nothing(make_flow, bad):
    caught = {}

    async def chunk(data):
        try:
            data.set_state("bad", bad)
        except PayloadError as error:
            caught["set"] = isinstance(error, TypeError)
        try:
            data.append_state("bad_list", bad)
        except PayloadError:
            caught["append"] = True
        try:
            await data.async_set_state("bad2", bad)
        except PayloadError:
            caught["async"] = True

    snapshot = await run_chunk(make_flow, chunk)
    assert caught == {"set": True, "append": True, "async": True}
    assert snapshot == {}


async def test_dataclass_is_stored_as_dict(make_flow):
    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    async def chunk(data):
        data.set_state("p", Point(1, 2))
        data.set_state("t", (1, 2))

    assert await run_chunk(make_flow, chunk) == {"p": {"x": 1, "y": 2}, "t": [1, 2]}


async def test_non_json_start_input_and_emit_raise_payload_error(make_flow):
    flow = make_flow()
    flow.to(lambda d: None)
    ex = flow.create_execution(auto_close=False)
    with pytest.raises(PayloadError):
        await ex.async_start({1, 2})
    await ex.async_start(1)
    with pytest.raises(TypeError):
        await ex.async_emit("E", b"raw")
    await ex.async_close()


async def test_non_json_chunk_result_fails_execution(make_flow):
    flow = make_flow()
    flow.to(("bad", lambda d: {1, 2}))
    ex = flow.create_execution()
    with pytest.raises(PayloadError):
        await ex.async_start(None)
    assert ex.get_status() == "failed"


async def test_invalid_state_keys_are_rejected(make_flow):
    caught = []

    async def chunk(data):
        for key in ["", ".a", "a.", "a..b"]:
            try:
                data.set_state(key, 1)
            except FlowDefinitionError:
                caught.append(key)

    assert await run_chunk(make_flow, chunk) == {}
    assert caught == ["", ".a", "a.", "a..b"]


# -- flow_data -------------------------------------------------------------------------------


def test_flow_data_calls_warn_unless_no_warning(make_flow):
    flow = make_flow()
    with pytest.warns(FlowDataWarning):
        flow.set_flow_data("counter", 0)
    with pytest.warns(FlowDataWarning):
        assert flow.get_flow_data("counter") == 0
    with pytest.warns(FlowDataWarning):
        flow.append_flow_data("items", 1)
    with pytest.warns(FlowDataWarning):
        flow.del_flow_data("counter")
    assert issubclass(FlowDataWarning, RuntimeWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flow.set_flow_data("counter", 1, no_warning=True)
        flow.append_flow_data("items", 2, no_warning=True)
        assert flow.get_flow_data("counter", no_warning=True) == 1
        assert flow.get_flow_data("items", no_warning=True) == [1, 2]
        flow.del_flow_data("items", no_warning=True)
        assert flow.get_flow_data("items", "gone", no_warning=True) == "gone"
        assert flow.get_flow_data(no_warning=True) == {"counter": 1}


async def test_async_flow_data_methods(make_flow):
    flow = make_flow()
    with pytest.warns(FlowDataWarning):
        await flow.async_set_flow_data("a", 1)
    await flow.async_append_flow_data("l", 1, no_warning=True)
    await flow.async_set_flow_data("b", 2, no_warning=True)
    await flow.async_del_flow_data("b", no_warning=True)
    assert flow.get_flow_data(no_warning=True) == {"a": 1, "l": [1]}


async def test_flow_data_is_shared_across_executions_and_not_in_snapshot(make_flow):
    flow = make_flow()

    async def bump(data):
        current = data.get_flow_data("count", 0, no_warning=True)
        data.set_flow_data("count", current + 1, no_warning=True)
        data.set_state("saw", current)

    flow.to(bump)
    assert await flow.async_start(None) == {"saw": 0}
    assert await flow.async_start(None) == {"saw": 1}
    assert flow.get_flow_data("count", no_warning=True) == 2


async def test_chunk_flow_data_warns(make_flow):
    flow = make_flow()

    async def chunk(data):
        with pytest.warns(FlowDataWarning):
            data.set_flow_data("k", 1)
        with pytest.warns(FlowDataWarning):
            data.set_state("k", data.get_flow_data("k"))
        with pytest.warns(FlowDataWarning):
            data.append_flow_data("l", 1)
        with pytest.warns(FlowDataWarning):
            data.del_flow_data("l")
        with pytest.warns(FlowDataWarning):
            await data.async_set_flow_data("k2", 2)

    flow.to(chunk)
    assert await flow.async_start(None) == {"k": 1}
    assert flow.get_flow_data(no_warning=True) == {"k": 1, "k2": 2}


async def test_flow_state_namespace_warns_and_works(make_flow):
    flow = make_flow()

    async def chunk(data):
        with pytest.warns(FlowDataWarning):
            data.flow_state.set("mode", "fast")
        with pytest.warns(FlowDataWarning):
            data.set_state("mode", data.flow_state.get("mode"))
        with pytest.warns(FlowDataWarning):
            data.flow_state.append("l", 1)
        with pytest.warns(FlowDataWarning):
            await data.flow_state.async_append("l", 2)
        with pytest.warns(FlowDataWarning):
            data.flow_state.delete("mode")
        data.flow_state.set("quiet", 1, no_warning=True)
        await data.flow_state.async_set("quiet2", 2, no_warning=True)
        await data.flow_state.async_delete("quiet2", no_warning=True)
        data.set_state("all", data.flow_state.to_dict(no_warning=True))

    flow.to(chunk)
    snapshot = await flow.async_start(None)
    assert snapshot == {"mode": "fast", "all": {"l": [1, 2], "quiet": 1}}


async def test_flow_data_change_signals_live_listeners(make_flow):
    flow = make_flow()

    async def on_mode(data):
        await data.async_append_state("modes", [data.trigger_type, data.value])

    flow.when({"flow_data": "mode"}).to(on_mode)
    ex1 = flow.create_execution(auto_close=False)
    ex2 = flow.create_execution(auto_close=False)
    await ex1.async_start(None)
    await ex2.async_start(None)
    await flow.async_set_flow_data("mode", "fast", no_warning=True)
    for _ in range(50):
        if ex1.get_state("modes") and ex2.get_state("modes"):
            break
        await asyncio.sleep(0)
    s1 = await ex1.async_close()
    s2 = await ex2.async_close()
    assert s1 == {"modes": [["flow_data", "fast"]]}
    assert s2 == {"modes": [["flow_data", "fast"]]}


async def test_flow_data_is_durable_on_the_flow_stream(make_flow, store_file):
    flow = make_flow("shared")
    await flow.async_set_flow_data("cfg", {"limit": 3}, no_warning=True)
    again = make_flow("shared")
    assert again.get_flow_data("cfg", no_warning=True) == {"limit": 3}
    other = make_flow("other")
    assert other.get_flow_data("cfg", no_warning=True) is None


def test_non_json_flow_data_raises_payload_error(make_flow):
    flow = make_flow()
    with pytest.raises(PayloadError):
        flow.set_flow_data("bad", {1}, no_warning=True)
    assert flow.get_flow_data(no_warning=True) == {}


# -- resources ----------------------------------------------------------------------------


async def test_flow_resources_are_defaults_and_execution_overrides(make_flow):
    flow = make_flow()
    seen = []

    async def chunk(data):
        seen.append(
            (
                data.require_resource("logger"),
                data.get_resource("db"),
                data.get_resource("absent", "dflt"),
            )
        )

    flow.to(chunk)
    flow.update_runtime_resources(logger="flow-logger", db="flow-db")
    await flow.async_start(None)
    ex = flow.create_execution(runtime_resources={"db": "exec-db"})
    await ex.async_start(None)
    await flow.async_start(None, runtime_resources={"logger": "start-logger"})
    assert seen == [
        ("flow-logger", "flow-db", "dflt"),
        ("flow-logger", "exec-db", "dflt"),
        ("start-logger", "flow-db", "dflt"),
    ]
    assert flow.get_runtime_resource("db") == "flow-db"


async def test_update_runtime_resources_mapping_and_kwargs(make_flow):
    flow = make_flow()
    flow.update_runtime_resources({"a": 1}, b=2)
    flow.set_runtime_resource("c", 3)
    assert flow.runtime_resources == {"a": 1, "b": 2, "c": 3}
    flow.del_runtime_resource("a")
    assert flow.get_runtime_resource("a") is None
    flow.clear_runtime_resources()
    assert flow.runtime_resources == {}


async def test_require_resource_missing_names_key_and_available(make_flow):
    flow = make_flow()
    caught: dict[str, Any] = {}

    async def chunk(data):
        try:
            data.require_resource("missing_tool")
        except MissingResourceError as error:
            caught["error"] = error

    flow.to(chunk)
    flow.update_runtime_resources(logger=object())
    await flow.async_start(None, runtime_resources={"db": object()})
    error = caught["error"]
    assert isinstance(error, KeyError)
    message = str(error)
    assert "missing_tool" in message
    assert "logger" in message
    assert "db" in message


async def test_require_resource_missing_fails_the_execution(make_flow):
    flow = make_flow()

    async def chunk(data):
        data.require_resource("nope")

    flow.to(chunk)
    ex = flow.create_execution()
    with pytest.raises(MissingResourceError):
        await ex.async_start(None)
    assert ex.get_status() == "failed"


async def test_set_resource_is_execution_local(make_flow):
    flow = make_flow()
    flow.update_runtime_resources(shared="flow")
    seen = []

    async def setter(data):
        if data.value == "first":
            data.set_resource("temp", "mine")
            data.set_resource("shared", "overridden")
        return data.value

    async def reader(data):
        seen.append(
            (data.value, data.get_resource("temp"), data.get_resource("shared"))
        )

    flow.to(setter).to(reader)
    await flow.async_start("first")
    await flow.async_start("second")
    assert seen == [("first", "mine", "overridden"), ("second", None, "flow")]
    assert flow.runtime_resources == {"shared": "flow"}


async def test_del_resource_hides_resource_in_execution_only(make_flow):
    flow = make_flow()
    flow.update_runtime_resources(tool="t")
    seen = []

    async def chunk(data):
        data.del_resource("tool")
        seen.append(data.get_resource("tool", "gone"))

    flow.to(chunk)
    await flow.async_start(None)
    assert seen == ["gone"]
    assert flow.get_runtime_resource("tool") == "t"


async def test_resources_view_is_read_only_and_includes_flow_entries(make_flow):
    flow = make_flow()
    flow.update_runtime_resources(a=1)
    seen: dict[str, Any] = {}

    async def chunk(data):
        view = data.resources
        seen["items"] = dict(view)
        try:
            view["b"] = 2
        except TypeError:
            seen["read_only"] = True

    flow.to(chunk)
    await flow.async_start(None, runtime_resources={"c": 3})
    assert seen == {"items": {"a": 1, "c": 3}, "read_only": True}


async def test_resources_never_enter_state_or_snapshot(make_flow):
    flow = make_flow()
    client = object()

    async def chunk(data):
        data.set_state("used", data.require_resource("client") is client)

    flow.to(chunk)
    ex = flow.create_execution(auto_close=False, runtime_resources={"client": client})
    await ex.async_start(None)
    saved = ex.save()
    assert saved["resource_keys"] == ["client"]
    assert "client" not in str(saved["state"])
    assert await ex.async_close() == {"used": True}
    assert ex.runtime_resources == {"client": client}
