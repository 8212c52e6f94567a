"""Regression tests for the original's defects that triggerlog fixes.

Spec: /work/shared/reference/triggerflow-semantics.md §13 (defects to fix, not copy)
and the §14 decisions that fix observable defects. Each docstring names its defect.
Not covered yet (interrupts, issue 5): §13.2 pause_for source_signal, §13.3 global
wait dropping continuations.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from orchestrator import (
    FlowDefinitionError,
    PayloadError,
    TriggerFlow,
)
from orchestrator.runtime.runners import ConditionResultWarning

REPO = Path(__file__).resolve().parents[2]


async def joined(data):
    await data.async_append_state("joined", data.value)


def build_join_flow(store: str) -> TriggerFlow:
    flow = TriggerFlow(name="joins", store=store)
    flow.when(["A", "B", "C"]).to(joined)
    flow.when("X").collect("pair", "x")
    flow.when("Y").collect("pair", "y").to(("collected", joined))
    return flow


def run_python(script: str, *args: str) -> Any:
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


# -- §13.1 and-join fires early after load ---------------------------------------------------


async def test_and_join_three_ways_does_not_fire_early_after_load(store_file):
    """Defect §13.1: a 3-way and-join must not fire after load with C missing."""
    flow = build_join_flow(store_file)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("A", "a")
    await ex.async_emit("B", "b")
    saved = json.loads(json.dumps(ex.save()))
    joins_text = json.dumps(saved["view"].get("joins", {}))
    assert "object at 0x" not in joins_text
    assert '"C"' not in joins_text
    assert "event:C" not in joins_text

    worker = build_join_flow(store_file)
    restored = worker.create_execution(auto_close=False)
    restored.load(saved)
    await restored.async_emit("B", "b2")
    assert restored.get_state("joined") is None
    await restored.async_emit("C", "c")
    snapshot = await restored.async_close()
    assert snapshot["joined"] == [{"event": {"A": "a", "B": "b2", "C": "c"}}]
    worker.store.close()
    flow.store.close()


async def test_and_join_three_ways_after_import_into_another_store(tmp_path):
    """Defect §13.1: join state survives save() -> load() into a different store."""
    flow = build_join_flow(str(tmp_path / "a.db"))
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("A", 1)
    await ex.async_emit("C", 3)
    saved = ex.save()
    worker = build_join_flow(str(tmp_path / "b.db"))
    restored = worker.create_execution(auto_close=False)
    restored.load(saved)
    await restored.async_emit("A", 11)
    assert restored.get_state() == {}
    await restored.async_emit("B", 2)
    assert restored.get_state("joined") == [{"event": {"A": 11, "B": 2, "C": 3}}]
    await restored.async_close()
    worker.store.close()
    flow.store.close()


async def test_and_join_three_ways_after_rebuild_in_this_process(store_file):
    """Defect §13.1: get_execution() (fold of the log) keeps missing = absent."""
    flow = build_join_flow(store_file)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("B", "b")
    await ex.async_emit("C", "c")
    fresh = build_join_flow(store_file)
    rebuilt = fresh.get_execution(ex.id)
    await rebuilt.async_emit("C", "c2")
    assert rebuilt.get_state() == {}
    await rebuilt.async_emit("A", "a")
    assert rebuilt.get_state("joined") == [{"event": {"A": "a", "B": "b", "C": "c2"}}]
    await rebuilt.async_close()
    fresh.store.close()
    flow.store.close()


FRESH_JOIN = """
import asyncio, json, sys
from tests.integration.test_flow_defects import build_join_flow

async def main():
    flow = build_join_flow(sys.argv[1])
    ex = flow.get_execution(sys.argv[2])
    await ex.async_emit("B", "b-proc")
    early = ex.get_state("joined")
    await ex.async_emit("C", "c-proc")
    print(json.dumps({"early": early, "snapshot": await ex.async_close()}))

asyncio.run(main())
"""


async def test_and_join_three_ways_in_a_fresh_process(store_file):
    """Defect §13.1: a fresh process rebuilding the execution must not fire early."""
    flow = build_join_flow(store_file)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("A", "a")
    result = run_python(FRESH_JOIN, store_file, ex.id)
    assert result["early"] is None
    assert result["snapshot"]["joined"] == [
        {"event": {"A": "a", "B": "b-proc", "C": "c-proc"}}
    ]
    flow.store.close()


async def test_collect_partial_state_survives_load(store_file):
    """Defect §13.1 (collect state): a half-filled collect must not fire after load."""
    flow = build_join_flow(store_file)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("X", "x1")
    saved = ex.save()
    worker = build_join_flow(store_file)
    restored = worker.create_execution(auto_close=False)
    restored.load(saved)
    await restored.async_emit("X", "x2")
    assert restored.get_state() == {}
    await restored.async_emit("Y", "y1")
    assert (await restored.async_close())["joined"] == [{"x": "x2", "y": "y1"}]
    worker.store.close()
    flow.store.close()


# -- §13.4 when({"collect": name}) ---------------------------------------------------------------


async def test_when_collect_dict_listens_to_collect_event(make_flow):
    """Defect §13.4: when({"collect": name}) raised KeyError 'event' in the original."""
    flow = make_flow()

    def a(data):
        return "A"

    def b(data):
        return "B"

    flow.to(a).collect("pair", "a")
    flow.to(b).collect("pair", "b")
    flow.when({"collect": "pair"}).to(joined)
    assert await flow.async_start(None) == {"joined": [{"a": "A", "b": "B"}]}


# -- §13.5 async conditions ----------------------------------------------------------------------


async def test_async_conditions_are_awaited(make_flow):
    """Defect §13.5: an async condition's coroutine counted as false (never awaited)."""
    flow = make_flow()

    async def is_big(data):
        return data.value > 10

    (
        flow.if_condition(is_big)
        .to(("big", lambda d: "big"))
        .else_condition()
        .to(("small", lambda d: "small"))
        .end_condition()
        .to(joined)
    )
    assert await flow.async_start(11) == {"joined": ["big"]}
    assert await flow.async_start(3) == {"joined": ["small"]}


async def test_async_condition_non_bool_warns_and_does_not_select(make_flow):
    """Defect §13.5: keep the `is True` rule, but warn on a non-bool result."""
    flow = make_flow()

    async def truthy(data):
        return "yes"

    (
        flow.match()
        .case(truthy)
        .to(("hit", lambda d: "hit"))
        .case_else()
        .to(("else", lambda d: "else"))
        .end_match()
        .to(joined)
    )
    with pytest.warns(ConditionResultWarning):
        snapshot = await flow.async_start(1)
    assert snapshot == {"joined": ["else"]}


# -- §13.6 identity from file/line -----------------------------------------------------------------

STAGE_MODULE = """
def stage_one(data):
    return data.value + 1


def stage_two(data):
    return data.value * 2


def condition(data):
    return data.value > 2
"""


def _load_module(path: Path):
    spec = importlib.util.spec_from_file_location("stagemod", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build_stage_flow(module, store: str) -> TriggerFlow:
    flow = TriggerFlow(name="stages", store=store)
    (
        flow.to(module.stage_one)
        .if_condition(module.condition)
        .to(module.stage_two)
        .end_condition()
        .end()
    )
    return flow


async def test_identity_does_not_depend_on_file_or_line(tmp_path, store_file):
    """Defect §13.6: ids and fingerprint must not include the file path or line."""
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    (tmp_path / "v1" / "stagemod.py").write_text(STAGE_MODULE)
    (tmp_path / "v2" / "stagemod.py").write_text("\n\n\n# moved\n" + STAGE_MODULE)
    old = _build_stage_flow(_load_module(tmp_path / "v1" / "stagemod.py"), store_file)
    new = _build_stage_flow(_load_module(tmp_path / "v2" / "stagemod.py"), store_file)
    assert old.save_blueprint() == new.save_blueprint()
    text = json.dumps(old.save_blueprint())
    assert "stagemod.py" not in text
    assert str(tmp_path) not in text

    ex = old.create_execution(auto_close=False)
    await ex.async_start(5)
    saved = ex.save()
    restored = new.create_execution(auto_close=False)
    restored.load(saved)
    assert (
        saved["flow_definition_fingerprint"]
        == restored.save()["flow_definition_fingerprint"]
    )
    assert await restored.async_close() == {"$final_result": 12}
    old.store.close()
    new.store.close()


def _lambda_flow(store: str) -> TriggerFlow:
    flow = TriggerFlow(name="anon", store=store)
    flow.to(lambda d: d.value + 1).to(lambda d: d.value * 3).end()
    flow.when("More").to(lambda d: d.value).end()
    return flow


async def test_lambda_flow_can_load_its_own_snapshots_after_rebuild(store_file):
    """Defect §13.6: lambdas got random ids, so a rebuilt flow rejected its snapshots."""
    first = _lambda_flow(store_file)
    ex = first.create_execution(auto_close=False)
    await ex.async_start(1)
    saved = ex.save()
    rebuilt = _lambda_flow(store_file)
    restored = rebuilt.create_execution(auto_close=False)
    restored.load(saved)
    assert (
        restored.save()["flow_definition_fingerprint"]
        == saved["flow_definition_fingerprint"]
    )
    await restored.async_emit("More", "m")
    assert await restored.async_close() == {"$final_result": "m"}
    again = _lambda_flow(store_file)
    assert again.get_execution(ex.id).get_status() == "completed"
    for flow in (first, rebuilt, again):
        flow.store.close()


# -- §13.7 reusing a callable merges nodes -----------------------------------------------------------


def f(data):
    data.append_state("trace", ["f", data.value])
    return data.value * 10 if data.value > 1 else data.value + 1


def g(data):
    data.append_state("trace", ["g", data.value])
    return data.value * 10


def h(data):
    data.append_state("trace", ["h", data.value + 1])


async def test_reused_callable_as_two_stages_raises(make_flow):
    """Defect §13.7: f placed twice as different stages must raise, naming f and name=."""
    flow = make_flow()
    with pytest.raises(FlowDefinitionError) as info:
        flow.to(f).to(g).to(f).to(h)
    message = str(info.value)
    assert "'f'" in message or " f " in message or "f (" in message
    assert "name=" in message


async def test_reused_callable_with_name_runs_as_distinct_stages(make_flow):
    """Defect §13.7: with name= each stage runs once: f, g, f_again, h."""
    flow = make_flow()
    flow.to(f).to(g).to(f, name="f_again").to(h)
    snapshot = await flow.async_start(1)
    assert snapshot == {"trace": [["f", 1], ["g", 2], ["f", 20], ["h", 201]]}


async def test_identical_rewiring_is_idempotent(make_flow):
    """Defect §13.7: module-safe definitions — the same wiring twice is one node."""
    flow = make_flow()

    def wire(target):
        target.to(f).to(g).end()
        target.when("Ext").to(h)

    wire(flow)
    before = flow.save_blueprint()
    wire(flow)
    assert flow.save_blueprint() == before
    snapshot = await flow.async_start(1)
    assert snapshot == {"trace": [["f", 1], ["g", 2]], "$final_result": 20}


async def test_same_function_in_two_chains_without_name_raises(make_flow):
    """Defect §13.7: the same callable in two different places is ambiguous."""
    flow = make_flow()
    flow.to(f)
    with pytest.raises(FlowDefinitionError):
        flow.when("Other").to(f)


# -- §13.8 unbounded ledger ------------------------------------------------------------------------


async def test_save_does_not_hold_settled_history(make_flow):
    """Defect §13.8: the ledger grew without bound; save() keeps no settled signals."""
    flow = make_flow()

    async def count(data):
        await data.async_append_state("n", 1)

    flow.when("Tick").to(count)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("Tick")
    size_one = len(json.dumps(ex.save()))
    for _ in range(60):
        await ex.async_emit("Tick")
    saved = ex.save()
    assert saved["view"]["signals"] == {}
    assert saved["view"]["runs"] == {}
    # state grows by 60 list items (x2: state and its alias); nothing else may grow
    assert len(json.dumps(saved)) - size_one < 60 * 4 * 3 + 200
    await ex.async_close()


# -- §13.9 load() side effects ---------------------------------------------------------------------


async def test_load_does_not_touch_flow_data_or_inject_keys(make_flow):
    """Defect §13.9 / §14.11: load() must not overwrite flow_data nor add '$interventions'."""
    flow = make_flow("persist")

    async def intake(data):
        await data.async_set_state("ticket", data.value)

    flow.to(intake)
    flow.set_flow_data("mode", "at-save", no_warning=True)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start("x")
    saved = ex.save()
    never_saved = flow.create_execution()
    expected = await never_saved.async_start("x")
    flow.set_flow_data("mode", "later", no_warning=True)
    restored = flow.create_execution(auto_close=False)
    restored.load(saved)
    assert flow.get_flow_data("mode", no_warning=True) == "later"
    snapshot = await restored.async_close()
    assert "$interventions" not in snapshot
    assert snapshot == expected == {"ticket": "x"}


# -- §14.12 state must be JSON ----------------------------------------------------------------------


async def test_non_json_state_raises_type_error_before_writing(make_flow):
    """§14 item 12: non-JSON values were saved as repr strings; now TypeError, no write."""
    flow = make_flow()
    caught = []

    class Client:
        pass

    async def chunk(data):
        data.set_state("ok", 1)
        for bad in ({1}, b"x", float("nan"), Client()):
            try:
                data.set_state("client", bad)
            except TypeError as error:
                caught.append(isinstance(error, PayloadError))

    flow.to(chunk)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    assert caught == [True, True, True, True]
    assert ex.get_state() == {"ok": 1}
    assert ex.save()["state"] == {"ok": 1}
    await ex.async_close()


# -- §14.14 internal-looking event names -------------------------------------------------------------


async def test_unknown_internal_looking_trigger_raises(make_flow):
    """§14 item 14: when("Chunk[...]") on no operator made a gate that never fires."""
    flow = make_flow()
    flow.to(f)

    def define_and_create() -> None:
        # the error may come at when() or when the definition is validated
        flow.when("Chunk[nope]-chunk-0123456789abcdef").to(g)
        flow.create_execution()

    with pytest.raises(FlowDefinitionError, match="Chunk"):
        define_and_create()


async def test_plain_unknown_event_name_stays_external(make_flow):
    """§14 item 14: plain names stay external events (no error)."""
    flow = make_flow()
    flow.when("SomethingExternal").to(h)
    ex = flow.create_execution(auto_close=False)
    await ex.async_start(None)
    await ex.async_emit("SomethingExternal", 1)
    assert await ex.async_close() == {"trace": [["h", 2]]}
