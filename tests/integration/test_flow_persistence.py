"""save()/load(), get_execution, list_executions, blueprints, fresh processes.

Spec: /work/shared/reference/triggerflow-semantics.md §8 (save/load), §9 (blueprint),
§13 items 1, 6, 9, §14 items 1, 10, 11, 15. Uses real SQLite files in tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from orchestrator import (
    DefinitionMismatchError,
    ExecutionNotFoundError,
    FakeClock,
    FlowDefinitionError,
    MissingResourceError,
    SnapshotContractError,
    TriggerFlow,
)

REPO = Path(__file__).resolve().parents[2]

# -- a durable flow, importable by name from a fresh process ---------------------------------


async def persist_intake(data):
    await data.async_set_state("ticket", data.value)
    data.append_state("log", "intake")
    return data.value


async def persist_feedback(data):
    await data.async_set_state("feedback", data.value)
    data.append_state("log", "feedback")
    if data.get_resource("db") is not None:
        data.set_state("db_seen", data.require_resource("db")["name"])


def persist_is_urgent(data):
    return data.value == "urgent"


def build_persist_flow(name: str, store: str) -> TriggerFlow:
    flow = TriggerFlow(name=name, store=store)
    flow.to(persist_intake)
    flow.when("UserFeedback").to(persist_feedback)
    return flow


SAVE_KEYS = {
    "kind",
    "schema_version",
    "execution_id",
    "flow_name",
    "flow_definition_fingerprint",
    "status",
    "lifecycle_state",
    "state",
    "interrupts",
    "resource_keys",
    "log",
    "view",
    "created_at",
}


def run_python(script: str, *args: str) -> Any:
    """Run ``script`` in a fresh interpreter; it prints one JSON document."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(REPO), env.get("PYTHONPATH", "")] if p
    )
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- save() ----------------------------------------------------------------------------------


async def test_save_returns_json_friendly_contract(make_flow, store_file):
    flow = make_flow("persist")
    flow.to(persist_intake)
    ex = flow.create_execution(auto_close=False, runtime_resources={"db": object()})
    await ex.async_start("refund request")
    saved = ex.save()
    assert json.loads(json.dumps(saved)) == saved
    assert set(saved) >= SAVE_KEYS
    assert saved["kind"] == "triggerflow.execution_snapshot"
    assert saved["schema_version"] == 2
    assert saved["execution_id"] == ex.id
    assert saved["flow_name"] == "persist"
    assert saved["flow_definition_fingerprint"].startswith("sha256:")
    assert saved["status"] == "running"
    assert saved["lifecycle_state"] == "open"
    assert saved["state"] == {"ticket": "refund request", "log": ["intake"]}
    assert saved["interrupts"] == {}
    assert saved["resource_keys"] == ["db"]
    log = saved["log"]
    assert set(log) >= {"store", "stream_id", "seq", "position"}
    assert log["stream_id"] == ex.id
    assert log["seq"] >= 1
    assert store_file in log["store"]
    await ex.async_close()


async def test_async_save_matches_save(make_flow):
    flow = make_flow()
    flow.to(persist_intake)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start("t")
    saved = await ex.async_save()
    assert saved["state"] == {"ticket": "t", "log": ["intake"]}
    assert saved["log"]["seq"] == ex.save()["log"]["seq"]
    await ex.async_close()


async def test_save_after_close_reports_completed(make_flow):
    flow = make_flow()
    flow.to(persist_intake)
    ex = flow.create_execution()
    await ex.async_start("x")
    saved = ex.save()
    assert saved["status"] == "completed"
    assert saved["lifecycle_state"] == "closed"


async def test_save_created_at_is_snapshot_time(tmp_path):
    """§14 item 15: created_at is the snapshot time, not the execution's creation."""
    clock = FakeClock()
    flow = TriggerFlow(name="clocked", store=str(tmp_path / "c.db"), clock=clock)
    flow.to(persist_intake)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start("x")
    clock.advance(100)
    saved = ex.save()
    assert saved["created_at"] == clock.now()
    await ex.async_close()
    flow.store.close()


# -- load() ------------------------------------------------------------------------------------


async def test_load_in_same_store_binds_the_same_stream(make_flow, store_file):
    flow = build_persist_flow("persist", store_file)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start("refund request")
    saved = ex.save()

    worker = build_persist_flow("persist", store_file)
    restored = worker.create_execution(
        auto_close=False, runtime_resources={"db": {"name": "new-db"}}
    )
    restored.load(saved)
    assert restored.id == saved["execution_id"]
    assert restored.get_state() == saved["state"]
    assert restored.get_status() == "running"
    await restored.async_emit("UserFeedback", {"approved": True})
    snapshot = await restored.async_close()
    assert snapshot == {
        "ticket": "refund request",
        "log": ["intake", "feedback"],
        "feedback": {"approved": True},
        "db_seen": "new-db",
    }
    listed = worker.list_executions()
    assert [s.execution_id for s in listed] == [saved["execution_id"]]
    assert listed[0].status == "completed"
    worker.store.close()
    flow.store.close()


async def test_load_accepts_json_text(make_flow, store_file):
    flow = make_flow("persist")
    flow.to(persist_intake)
    flow.when("UserFeedback").to(persist_feedback)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start("t")
    text = json.dumps(ex.save())
    other = make_flow("persist")
    other.to(persist_intake)
    other.when("UserFeedback").to(persist_feedback)
    restored = other.create_execution(auto_close=False)
    restored.load(json.loads(text))
    assert restored.id == ex.id
    restored2 = other.create_execution(auto_close=False)
    restored2.load(text)
    assert restored2.get_state() == {"ticket": "t", "log": ["intake"]}


async def test_load_into_another_store_imports_the_execution(tmp_path):
    source = build_persist_flow("persist", str(tmp_path / "a.db"))
    ex = source.create_execution(auto_close=False)
    await ex.async_start("ticket-1")
    saved = json.loads(json.dumps(ex.save()))

    target = build_persist_flow("persist", str(tmp_path / "b.db"))
    restored = target.create_execution(auto_close=False)
    restored.load(saved)
    assert restored.id == saved["execution_id"]
    assert restored.get_state() == {"ticket": "ticket-1", "log": ["intake"]}
    assert [s.execution_id for s in target.list_executions()] == [restored.id]
    await restored.async_emit("UserFeedback", "ok")
    snapshot = await restored.async_close()
    assert snapshot == {
        "ticket": "ticket-1",
        "log": ["intake", "feedback"],
        "feedback": "ok",
    }
    # the import is durable: a third flow object on b.db rebuilds it
    reader = build_persist_flow("persist", str(tmp_path / "b.db"))
    again = reader.get_execution(restored.id)
    assert again.get_status() == "completed"
    assert again.get_state() == snapshot
    for flow in (source, target, reader):
        flow.store.close()


async def test_load_missing_resources_lists_them(make_flow):
    flow = make_flow("persist")
    flow.to(persist_intake)
    ex = flow.create_execution(
        auto_close=False, runtime_resources={"db": 1, "logger": 2, "search_tool": 3}
    )
    await ex.async_start("x")
    saved = ex.save()
    assert saved["resource_keys"] == ["db", "logger", "search_tool"]
    other = make_flow("persist")
    other.to(persist_intake)
    restored = other.create_execution(auto_close=False, runtime_resources={"db": 9})
    with pytest.raises(MissingResourceError) as info:
        restored.load(saved)
    assert isinstance(info.value, KeyError)
    assert sorted(info.value.missing) == ["logger", "search_tool"]
    assert "logger" in str(info.value)
    assert "search_tool" in str(info.value)
    fine = other.create_execution(auto_close=False, runtime_resources={"db": 9})
    fine.load(saved, runtime_resources={"logger": 1, "search_tool": 2})
    assert fine.id == ex.id


async def test_load_flow_level_resources_satisfy_requirements(make_flow):
    flow = make_flow("persist")
    flow.to(persist_intake)
    ex = flow.create_execution(auto_close=False, runtime_resources={"db": 1})
    await ex.async_start("x")
    saved = ex.save()
    other = make_flow("persist")
    other.to(persist_intake)
    other.update_runtime_resources(db="flow-db")
    restored = other.create_execution(auto_close=False)
    restored.load(saved)
    assert restored.runtime_resources["db"] == "flow-db"


@pytest.mark.parametrize(
    ("patch", "value"),
    [
        ("kind", "something.else"),
        ("schema_version", 99),
        ("schema_version", None),
    ],
)
async def test_load_rejects_wrong_contract(make_flow, patch, value):
    flow = make_flow("persist")
    flow.to(persist_intake)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start("x")
    saved = dict(ex.save())
    saved[patch] = value
    with pytest.raises(SnapshotContractError):
        flow.create_execution(auto_close=False).load(saved)


async def test_load_rejects_non_snapshot_input(make_flow):
    flow = make_flow("persist")
    flow.to(persist_intake)
    with pytest.raises(SnapshotContractError):
        flow.create_execution(auto_close=False).load("not json {")
    with pytest.raises(SnapshotContractError):
        flow.create_execution(auto_close=False).load({"kind": "nope"})


async def test_load_rejects_different_definition(make_flow):
    flow = make_flow("persist")
    flow.to(persist_intake)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start("x")
    saved = ex.save()
    changed = make_flow("persist")
    changed.to(persist_intake).to(persist_feedback)
    with pytest.raises(DefinitionMismatchError) as info:
        changed.create_execution(auto_close=False).load(saved)
    assert isinstance(info.value, SnapshotContractError)
    assert "fingerprint" in str(info.value) or "definition" in str(info.value)


async def test_load_into_same_flow_object_uses_the_new_handles_resources(make_flow):
    """§8/seed 000: resources given to the fresh handle are the ones used after load.

    Here the saved execution is still live in this flow object (same process).
    """
    flow = make_flow("persist")

    async def who(data):
        await data.async_set_state("logger", data.require_resource("logger"))

    flow.when("E").to(who)
    ex = flow.create_execution(auto_close=False, runtime_resources={"logger": "old"})
    await ex.async_start(None)
    saved = ex.save()
    restored = flow.create_execution(
        auto_close=False, runtime_resources={"logger": "new"}
    )
    restored.load(saved)
    await restored.async_emit("E")
    assert restored.get_state("logger") == "new"
    await restored.async_close()


async def test_load_into_same_flow_object_checks_missing_resources(make_flow):
    """§8: load() with required resources missing raises MissingResourceError.

    Same flow object (the saved execution is still live in this process).
    """
    flow = make_flow("persist")
    flow.to(persist_intake)
    ex = flow.create_execution(auto_close=False, runtime_resources={"browser": 1})
    await ex.async_start("x")
    saved = ex.save()
    with pytest.raises(MissingResourceError, match="browser"):
        flow.create_execution(auto_close=False).load(saved)


async def test_load_of_a_closed_execution(make_flow):
    flow = make_flow("persist")
    flow.to(persist_intake)
    ex = flow.create_execution()
    snapshot = await ex.async_start("done")
    saved = ex.save()
    other = make_flow("persist")
    other.to(persist_intake)
    restored = other.create_execution(auto_close=False)
    restored.load(saved)
    assert restored.get_status() == "completed"
    assert restored.get_state() == snapshot
    assert await restored.async_close() == snapshot


# -- get_execution / list_executions --------------------------------------------------------------


async def test_get_execution_rebuilds_from_the_log(store_file):
    flow = build_persist_flow("persist", store_file)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start("t1")
    fresh = build_persist_flow("persist", store_file)
    rebuilt = fresh.get_execution(ex.id)
    assert rebuilt.id == ex.id
    assert rebuilt.get_status() == "running"
    assert rebuilt.get_state() == {"ticket": "t1", "log": ["intake"]}
    await rebuilt.async_emit("UserFeedback", "fb")
    snapshot = await rebuilt.async_close()
    assert snapshot["feedback"] == "fb"
    third = build_persist_flow("persist", store_file)
    assert third.get_execution(ex.id).get_status() == "completed"
    for f in (flow, fresh, third):
        f.store.close()


async def test_get_execution_refuses_a_changed_definition(store_file):
    """§8: an open execution is not continued under a different definition."""
    flow = build_persist_flow("persist", store_file)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start("t")
    changed = build_persist_flow("persist", store_file)
    changed.when("Other").to(persist_intake, name="intake_again")
    with pytest.raises(DefinitionMismatchError):
        changed.get_execution(ex.id)
    other_name = TriggerFlow(name="not-persist", store=store_file)
    other_name.to(persist_intake)
    with pytest.raises(FlowDefinitionError):
        other_name.get_execution(ex.id)
    for f in (flow, changed, other_name):
        f.store.close()


async def test_get_execution_returns_the_live_handle(make_flow):
    flow = make_flow()
    flow.to(persist_intake)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start("t")
    assert flow.get_execution(ex.id) is ex
    assert flow.has_execution(ex.id)
    await ex.async_close()


async def test_get_execution_unknown_id(make_flow):
    flow = make_flow()
    flow.to(persist_intake)
    with pytest.raises(ExecutionNotFoundError) as info:
        flow.get_execution("does-not-exist")
    assert isinstance(info.value, KeyError)
    assert flow.has_execution("does-not-exist") is False


async def test_list_executions_filters_by_status(make_flow):
    flow = make_flow("lister")

    async def maybe_fail(data):
        if data.value == "fail":
            raise RuntimeError("no")
        await data.async_set_state("v", data.value)

    flow.to(maybe_fail)
    done = flow.create_execution()
    await done.async_start("ok")
    running = flow.create_execution(auto_close=False)
    await running.async_start("ok")
    failed = flow.create_execution()
    with pytest.raises(RuntimeError):
        await failed.async_start("fail")
    by_status = {s.execution_id: s.status for s in flow.list_executions()}
    assert by_status == {
        done.id: "completed",
        running.id: "running",
        failed.id: "failed",
    }
    assert [s.execution_id for s in flow.list_executions(status="completed")] == [
        done.id
    ]
    assert [s.execution_id for s in flow.list_executions(status="running")] == [
        running.id
    ]
    assert {
        s.execution_id for s in flow.list_executions(status=["failed", "running"])
    } == {
        failed.id,
        running.id,
    }
    assert all(s.flow_name == "lister" for s in flow.list_executions())
    other = make_flow("someone-else")
    assert other.list_executions() == []
    await running.async_close()


# -- fresh process -----------------------------------------------------------------------------


FRESH_READ = """
import json, sys
from tests.integration.test_flow_persistence import build_persist_flow
flow = build_persist_flow("persist", sys.argv[1])
ex = flow.get_execution(sys.argv[2])
print(json.dumps({"status": ex.get_status(), "state": ex.get_state(),
                  "listed": [[s.execution_id, s.status] for s in flow.list_executions()]}))
"""

FRESH_CONTINUE = """
import asyncio, json, sys
from tests.integration.test_flow_persistence import build_persist_flow

async def main():
    flow = build_persist_flow("persist", sys.argv[1])
    ex = flow.get_execution(sys.argv[2], runtime_resources={"db": {"name": "proc-db"}})
    before = ex.get_status()
    await ex.async_emit("UserFeedback", {"approved": True})
    snapshot = await ex.async_close()
    print(json.dumps({"before": before, "snapshot": snapshot, "status": ex.get_status()}))

asyncio.run(main())
"""


async def test_fresh_process_rebuilds_completed_execution(store_file):
    flow = build_persist_flow("persist", store_file)
    ex = flow.create_execution()
    snapshot = await ex.async_start("from-parent")
    result = run_python(FRESH_READ, store_file, ex.id)
    assert result["status"] == "completed"
    assert result["state"] == snapshot
    assert result["listed"] == [[ex.id, "completed"]]
    flow.store.close()


async def test_fresh_process_continues_running_execution(store_file):
    flow = build_persist_flow("persist", store_file)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start("T-001")
    saved = ex.save()
    result = run_python(FRESH_CONTINUE, store_file, ex.id)
    assert result["before"] == "running"
    assert result["status"] == "completed"
    assert result["snapshot"] == {
        "ticket": "T-001",
        "log": ["intake", "feedback"],
        "feedback": {"approved": True},
        "db_seen": "proc-db",
    }
    reader = build_persist_flow("persist", store_file)
    rebuilt = reader.get_execution(saved["execution_id"])
    assert rebuilt.get_status() == "completed"
    assert rebuilt.get_state() == result["snapshot"]
    reader.store.close()
    flow.store.close()


FRESH_LOAD = """
import asyncio, json, sys
from tests.integration.test_flow_persistence import build_persist_flow

async def main():
    saved = json.loads(open(sys.argv[2]).read())
    flow = build_persist_flow("persist", sys.argv[1])
    ex = flow.create_execution(auto_close=False)
    ex.load(saved)
    await ex.async_emit("UserFeedback", "late")
    print(json.dumps({"id": ex.id, "snapshot": await ex.async_close()}))

asyncio.run(main())
"""


async def test_fresh_process_loads_saved_dict_into_new_store(tmp_path):
    flow = build_persist_flow("persist", str(tmp_path / "origin.db"))
    ex = flow.create_execution(auto_close=False)
    await ex.async_start("T-2")
    saved_file = tmp_path / "saved.json"
    saved_file.write_text(json.dumps(ex.save()))
    result = run_python(FRESH_LOAD, str(tmp_path / "worker.db"), str(saved_file))
    assert result["id"] == ex.id
    assert result["snapshot"] == {
        "ticket": "T-2",
        "log": ["intake", "feedback"],
        "feedback": "late",
    }
    flow.store.close()


# -- blueprints ----------------------------------------------------------------------------------


def bp_upper(data):
    return str(data.input).upper()


def bp_store(data):
    return data.async_set_state("output", data.input)


def bp_short(data):
    return len(data.value) < 4


def build_bp_source(make_flow) -> TriggerFlow:
    source: TriggerFlow = make_flow("source")
    source.register_chunk_handler(bp_upper)
    source.register_chunk_handler(bp_store)
    source.register_condition_handler(bp_short)
    (
        source.to(bp_upper)
        .if_condition(bp_short)
        .to(("short", bp_store))
        .else_condition()
        .to(("long", bp_store))
        .end_condition()
    )
    return source


async def test_save_blueprint_is_json_dict_equal_to_flow_config(make_flow):
    source = build_bp_source(make_flow)
    blueprint = source.save_blueprint()
    assert isinstance(blueprint, dict)
    assert blueprint == source.get_flow_config()
    assert json.loads(json.dumps(blueprint)) == blueprint
    assert blueprint["version"] == "trigger_flow/v1"
    assert blueprint["name"] == "source"
    kinds = [op["kind"] for op in blueprint["operators"]]
    assert "chunk" in kinds
    assert "match_route" in kinds
    for op in blueprint["operators"]:
        ref = op.get("handler_ref") or {}
        assert "file" not in ref
        assert "line" not in ref


async def test_load_blueprint_with_registered_handlers_runs_the_same(make_flow):
    source = build_bp_source(make_flow)
    blueprint = json.loads(json.dumps(source.save_blueprint()))
    restored = make_flow("restored")
    restored.register_chunk_handler(bp_upper)
    restored.register_chunk_handler(bp_store)
    restored.register_chunk_handler(bp_store, name="short")
    restored.register_chunk_handler(bp_store, name="long")
    restored.register_condition_handler(bp_short)
    restored.load_blueprint(blueprint)
    assert restored.name == "source"
    assert restored.get_flow_config() == source.get_flow_config()
    assert await restored.async_start("abc") == {"output": "ABC"}
    assert await restored.async_start("abcdef") == {"output": "ABCDEF"}


async def test_load_blueprint_lists_every_unregistered_handler(make_flow):
    source = build_bp_source(make_flow)
    blueprint = source.save_blueprint()
    restored = make_flow("restored")
    restored.register_chunk_handler(bp_store)
    with pytest.raises(FlowDefinitionError) as info:
        restored.load_blueprint(blueprint)
    message = str(info.value)
    for name in ("bp_upper", "short", "long", "bp_short"):
        assert name in message, message


async def test_load_blueprint_rejects_wrong_version(make_flow):
    source = build_bp_source(make_flow)
    blueprint = dict(source.save_blueprint(), version="trigger_flow/v0")
    with pytest.raises(FlowDefinitionError):
        make_flow("x").load_blueprint(blueprint)


async def test_blueprint_constructor_argument(make_flow, store_file):
    source = build_bp_source(make_flow)
    blueprint = source.save_blueprint()
    flow = TriggerFlow(blueprint=None, name="ctor", store=store_file)
    flow.register_chunk_handler(bp_upper)
    flow.register_chunk_handler(bp_store, name="short")
    flow.register_chunk_handler(bp_store, name="long")
    flow.register_condition_handler(bp_short)
    flow.load_blueprint(blueprint)
    assert await flow.async_start("ab") == {"output": "AB"}
    with pytest.raises(FlowDefinitionError):
        TriggerFlow(blueprint=blueprint, name="unregistered", store=store_file)
    flow.store.close()


async def test_lambda_chunk_makes_save_blueprint_raise(make_flow):
    flow = make_flow()
    flow.to(lambda d: d.value).to(bp_upper)
    with pytest.raises(FlowDefinitionError, match=r"lambda|serializ"):
        flow.save_blueprint()
    with pytest.raises(FlowDefinitionError):
        flow.get_flow_config()
    assert "flowchart" in flow.to_mermaid()


async def test_named_lambda_is_serialisable(make_flow):
    flow = make_flow()
    flow.to(("shout", lambda d: d.value))
    config = flow.save_blueprint()
    assert [op["name"] for op in config["operators"]] == ["shout"]


async def test_to_mermaid_returns_flowchart_text(make_flow):
    flow = make_flow()
    flow.to(bp_upper).batch(bp_store, ("other", bp_upper)).to(("after", bp_upper))
    flow.when("External").to(("ext", bp_upper))
    text = flow.to_mermaid()
    assert isinstance(text, str)
    assert text.startswith("flowchart")
    assert "bp_upper" in text
    assert "batch" in text
    assert "External" in text
    detailed = flow.to_mermaid(mode="detailed")
    assert "START" in detailed
    assert "Chunk[bp_upper]" in detailed


async def test_blueprint_restored_flow_loads_executions_of_the_source(tmp_path):
    """Distributed pickup: blueprint + save() on a worker with a different store."""
    source = TriggerFlow(name="pickup", store=str(tmp_path / "a.db"))
    source.to(persist_intake)
    source.when("UserFeedback").to(persist_feedback)
    ex = source.create_execution(auto_close=False)
    await ex.async_start("job")
    saved, blueprint = ex.save(), source.save_blueprint()

    worker = TriggerFlow(name="loaded", store=str(tmp_path / "b.db"))
    worker.register_chunk_handler(persist_intake)
    worker.register_chunk_handler(persist_feedback)
    worker.load_blueprint(blueprint)
    restored = worker.create_execution(auto_close=False)
    restored.load(saved)
    await restored.async_emit("UserFeedback", "yes")
    assert (await restored.async_close())["feedback"] == "yes"
    source.store.close()
    worker.store.close()


FRESH_BLUEPRINT = """
import json
from orchestrator import TriggerFlow
from tests.integration.test_flow_persistence import persist_intake, persist_feedback
flow = TriggerFlow(name="fp", store=":memory:")
flow.to(persist_intake)
flow.when("UserFeedback").to(persist_feedback)
ex = flow.create_execution(auto_close=False)
print(json.dumps({"config": flow.save_blueprint(),
                  "fingerprint": ex.save()["flow_definition_fingerprint"]}))
"""


async def test_blueprint_and_fingerprint_identical_in_fresh_process():
    flow = TriggerFlow(name="fp", store=":memory:")
    flow.to(persist_intake)
    flow.when("UserFeedback").to(persist_feedback)
    ex = flow.create_execution(auto_close=False)
    result = run_python(FRESH_BLUEPRINT)
    assert result["config"] == flow.save_blueprint()
    assert result["fingerprint"] == ex.save()["flow_definition_fingerprint"]
