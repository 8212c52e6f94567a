"""Execution lifecycle: start/close, statuses, failures, emits after close, stores.

Spec: /work/shared/reference/triggerflow-semantics.md §4 (lifecycle, close snapshot),
§13 item 10 (default store), §14 items 6 and 7.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator import (
    InMemoryEventStore,
    SQLiteEventStore,
    TriggerFlow,
    TriggerFlowExecution,
)
from orchestrator.runtime.execution import LifecycleWarning

TIMEOUT = 10


async def keep(data):
    await data.async_set_state("result", data.value)
    return data.value


def boom(data):
    raise ValueError(f"boom {data.value}")


# -- start / close ----------------------------------------------------------------------------


async def test_async_start_auto_close_returns_close_snapshot(make_flow):
    flow = make_flow()
    flow.to(keep)
    ex = flow.create_execution()
    assert ex.get_status() == "created"
    assert ex.lifecycle_state == "open"
    snapshot = await ex.async_start(3)
    assert snapshot == {"result": 3}
    assert ex.get_status() == "completed"
    assert ex.lifecycle_state == "closed"
    again = await ex.async_close()
    assert again is snapshot


async def test_auto_close_false_keeps_running_until_close(make_flow):
    flow = make_flow()
    flow.to(keep)
    ex = flow.create_execution(auto_close=False)
    assert await ex.async_start(1) is None
    assert ex.get_status() == "running"
    assert ex.lifecycle_state == "open"
    snapshot = await ex.async_close()
    assert snapshot == {"result": 1}
    assert ex.get_status() == "completed"
    assert ex.lifecycle_state == "closed"
    assert await ex.async_close() is snapshot


async def test_second_start_is_a_no_op(make_flow):
    flow = make_flow()

    async def count(data):
        await data.async_append_state("starts", data.value)

    flow.to(count)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(1)
    await ex.async_start(2)
    assert await ex.async_close() == {"starts": [1]}


async def test_flow_async_start_returns_close_snapshot(make_flow):
    flow = make_flow()
    flow.to(keep).end()
    assert await flow.async_start("v") == {"result": "v", "$final_result": "v"}


def test_flow_start_sync(make_flow):
    flow = make_flow()
    flow.to(keep)
    assert flow.start(5) == {"result": 5}
    assert flow.start(6, runtime_resources={"x": 1}) == {"result": 6}


def test_execution_start_and_close_sync(make_flow):
    flow = make_flow()
    flow.to(keep)
    ex = flow.create_execution()
    snapshot = ex.start(9)
    assert snapshot == {"result": 9}
    assert ex.close() is snapshot


async def test_flow_start_has_no_polling_delay():
    flow = TriggerFlow(name="fast", store=":memory:")
    flow.to(lambda d: d.value)
    await flow.async_start(0)  # warm up
    runs = 10
    started = time.perf_counter()
    for i in range(runs):
        await flow.async_start(i)
    elapsed = time.perf_counter() - started
    assert elapsed / runs < 0.04, f"{elapsed / runs * 1000:.1f} ms per start"


async def test_async_start_does_not_wait_for_idle_timeout(make_flow):
    """§14 item 6: async_start closes as soon as the execution is quiescent."""
    flow = make_flow()
    flow.to(keep)
    ex = flow.create_execution()
    snapshot = await asyncio.wait_for(ex.async_start(1), 2.0)
    assert snapshot == {"result": 1}


async def test_close_snapshot_is_state_only(make_flow):
    flow = make_flow()
    flow.update_runtime_resources(res="live")

    async def chunk(data):
        data.set_flow_data("fd", 1, no_warning=True)
        await data.async_set_state("s", {"n": 1})
        return "ret"

    flow.to(chunk)
    assert await flow.async_start(None) == {"s": {"n": 1}}


async def test_close_snapshot_is_frozen(make_flow):
    flow = make_flow()
    flow.to(keep)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start({"a": 1})
    snapshot = await ex.async_close()
    snapshot_copy = dict(snapshot)
    with pytest.warns(LifecycleWarning):
        await ex.async_emit("Anything", 1)
    assert await ex.async_close() == snapshot_copy


async def test_start_execution_returns_open_handle(make_flow):
    flow = make_flow()
    flow.to(keep)
    flow.when("More").to(("more", keep))
    ex = await flow.async_start_execution(1)
    assert isinstance(ex, TriggerFlowExecution)
    assert ex.get_status() == "running"
    await ex.async_emit("More", 2)
    assert await ex.async_close() == {"result": 2}


async def test_create_execution_rejects_renamed_keyword(make_flow):
    """§14 item 7: execution_environments was renamed execution_resources."""
    flow = make_flow()
    flow.to(keep)
    with pytest.raises(TypeError, match="execution_resources"):
        flow.create_execution(execution_environments=[])
    with pytest.raises(TypeError):
        flow.create_execution(no_such_option=True)


# -- statuses and failures --------------------------------------------------------------------


async def test_emits_before_start_run_and_status_stays_created(make_flow):
    flow = make_flow()
    flow.when("Early").to(keep)
    ex = flow.create_execution(auto_close=False)
    await ex.async_emit("Early", "e")
    assert ex.get_state() == {"result": "e"}
    assert ex.get_status() == "created"
    await ex.async_start(None)
    assert ex.get_status() == "running"
    await ex.async_close()


async def test_chunk_exception_fails_execution_and_propagates(make_flow):
    flow = make_flow()
    flow.to(keep).to(boom)
    ex = flow.create_execution()
    with pytest.raises(ValueError, match="boom 1"):
        await ex.async_start(1)
    assert ex.get_status() == "failed"
    assert ex.lifecycle_state == "closed"
    assert ex.get_state() == {"result": 1}


async def test_chunk_exception_without_auto_close(make_flow):
    flow = make_flow()
    flow.to(boom)
    ex = flow.create_execution(auto_close=False)
    with pytest.raises(ValueError, match="boom 2"):
        await ex.async_start(2)
    assert ex.get_status() == "failed"
    snapshot = await ex.async_close()
    assert snapshot == {}
    assert ex.get_status() == "failed"


async def test_flow_async_start_propagates_chunk_error(make_flow):
    flow = make_flow()
    flow.to(boom)
    with pytest.raises(ValueError, match="boom 3"):
        await flow.async_start(3)
    (summary,) = flow.list_executions()
    assert summary.status == "failed"


def test_flow_start_sync_propagates_chunk_error(make_flow):
    flow = make_flow()
    flow.to(boom)
    with pytest.raises(ValueError, match="boom 4"):
        flow.start(4)


async def test_error_in_emitted_handler_propagates_to_emitter(make_flow):
    flow = make_flow()
    caught = {}

    async def emitter(data):
        try:
            await data.async_emit("Bad", 5)
        except ValueError as error:
            caught["error"] = str(error)
            raise

    flow.to(emitter)
    flow.when("Bad").to(boom)
    ex = flow.create_execution()
    with pytest.raises(ValueError, match="boom 5"):
        await ex.async_start(None)
    assert caught == {"error": "boom 5"}
    assert ex.get_status() == "failed"


async def test_external_emit_error_propagates(make_flow):
    flow = make_flow()
    flow.when("Bad").to(boom)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    with pytest.raises(ValueError, match="boom 6"):
        await ex.async_emit("Bad", 6)
    assert ex.get_status() == "failed"
    await ex.async_close()
    assert ex.get_status() == "failed"


async def test_skip_exceptions_keeps_running(make_flow):
    flow = make_flow(skip_exceptions=True)
    flow.to(boom)
    flow.to(keep)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(7)
    assert ex.get_status() == "running"
    assert ex.get_state() == {"result": 7}
    snapshot = await ex.async_close()
    assert snapshot == {"result": 7}


async def test_skip_exceptions_per_execution(make_flow):
    flow = make_flow()
    flow.to(boom)
    ex = flow.create_execution(auto_close=False, skip_exceptions=True)
    await ex.async_start(8)
    assert ex.get_status() == "running"
    await ex.async_close()


async def test_failed_chain_does_not_run_downstream(make_flow):
    flow = make_flow()
    flow.to(boom).to(keep)
    ex = flow.create_execution()
    with pytest.raises(ValueError, match="boom 1"):
        await ex.async_start(1)
    assert ex.get_state() == {}


async def test_error_in_for_each_item_fails_execution(make_flow):
    flow = make_flow()

    def item(data):
        if data.value == 2:
            raise ValueError("item 2")
        return data.value

    flow.for_each().to(item).end_for_each().to(keep)
    ex = flow.create_execution()
    with pytest.raises(ValueError, match="item 2"):
        await ex.async_start([1, 2, 3])
    assert ex.get_status() == "failed"
    assert "result" not in ex.get_state()


# -- emits after close ---------------------------------------------------------------------------


async def test_emit_after_close_is_ignored_with_lifecycle_warning(make_flow):
    flow = make_flow()
    flow.when("E").to(keep)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_close()
    assert issubclass(LifecycleWarning, RuntimeWarning)
    with pytest.warns(LifecycleWarning, match="ignored event 'E'"):
        await ex.async_emit("E", 1)
    assert ex.get_state() == {}
    assert ex.get_status() == "completed"


async def test_emit_after_auto_close_is_ignored(make_flow):
    flow = make_flow()
    flow.when("E").to(keep)
    ex = flow.create_execution()
    await ex.async_start(None)
    with pytest.warns(LifecycleWarning):
        await ex.async_emit("E", 1)
    assert ex.get_state() == {}


# -- identity and listing ----------------------------------------------------------------------


async def test_execution_identity(make_flow):
    flow = make_flow("named-flow")
    flow.to(keep)
    ex = flow.create_execution()
    assert isinstance(ex.id, str)
    assert ex.id
    assert ex.execution_id == ex.id
    assert ex.flow_name == "named-flow"
    other = flow.create_execution()
    assert other.id != ex.id


async def test_flow_name_defaults_to_random_hex(store_file):
    first = TriggerFlow(store=":memory:")
    second = TriggerFlow(store=":memory:")
    assert first.name != second.name
    assert all(c in "0123456789abcdef" for c in first.name)


# -- stores (§13 item 10) --------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["path", "url", "memory", "object"])
async def test_store_specs(tmp_path: Path, spec):
    path = tmp_path / "spec.db"
    makers: dict[str, Callable[[], Any]] = {
        "path": lambda: str(path),
        "url": lambda: f"sqlite:///{path}",
        "memory": lambda: ":memory:",
        "object": lambda: SQLiteEventStore(path),
    }
    store = makers[spec]()
    flow = TriggerFlow(name="s", store=store)
    flow.to(keep)
    assert await flow.async_start(1) == {"result": 1}
    assert len(flow.list_executions()) == 1
    assert path.exists() == (spec != "memory")
    flow.store.close()


async def test_in_memory_event_store_object():
    flow = TriggerFlow(name="m", store=InMemoryEventStore())
    flow.to(keep)
    assert await flow.async_start(2) == {"result": 2}
    assert [s.status for s in flow.list_executions()] == ["completed"]


async def test_default_store_is_triggerlog_db_env(tmp_path, monkeypatch):
    """Defect §13.10 (default store files): $TRIGGERLOG_DB names the default store."""
    target = tmp_path / "env.db"
    monkeypatch.setenv("TRIGGERLOG_DB", str(target))
    monkeypatch.chdir(tmp_path)
    flow = TriggerFlow(name="dflt")
    flow.to(keep)
    assert await flow.async_start(1) == {"result": 1}
    assert target.exists()
    assert not (tmp_path / "triggerlog.db").exists()
    flow.store.close()


async def test_default_store_is_cwd_triggerlog_db(tmp_path, monkeypatch):
    """Defect §13.10 (default store files): else triggerlog.db in the cwd."""
    monkeypatch.delenv("TRIGGERLOG_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    flow = TriggerFlow(name="dflt")
    flow.to(keep)
    assert await flow.async_start(1) == {"result": 1}
    assert (tmp_path / "triggerlog.db").exists()
    again = TriggerFlow(name="dflt", store=str(tmp_path / "triggerlog.db"))
    assert len(again.list_executions()) == 1
    flow.store.close()
    again.store.close()
