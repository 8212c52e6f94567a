"""Every code snippet of the three TriggerFlow seed docs, run against triggerlog.

Seeds (in /work/shared/seeds/):
  000_75f3bb2b7a8ac066.txt  "Persistence and Blueprint"              -> test_s000_*
  001_c75592c1ac3cbb52.txt  "State and Resources"                    -> test_s001_*
  003_7a78c0ea01a4ecf4.txt  "Runtime Data, Shared State, Resources"  -> test_s003_*

Snippet code is kept verbatim apart from the import (``from orchestrator import
TriggerFlow, TriggerFlowRuntimeData``); undefined names (``flow``, ``redis``, ``db``,
``make_agent``, ``new_db_client``...) are bound to fakes from :mod:`tests.compat.fakes`,
and literal placeholders (``runtime_resources={...}``) are filled in. The autouse
fixture in conftest.py points TRIGGERLOG_DB at a per-test SQLite file, so the bare
``TriggerFlow(name=...)`` of the snippets never writes to the current directory.
Snippets that need interrupts (issue 5) or sub-flows (issue 6) are skipped.
"""

from __future__ import annotations

import json
import warnings

import pytest

from orchestrator import (
    MissingResourceError,
    TriggerFlow,
    TriggerFlowRuntimeData,
)
from tests.compat import fakes
from tests.compat.fakes import (
    PROMPTS_DIR,
    FakeDB,
    FakeLogger,
    FakeRedis,
    make_agent,
    tenant_policy_doc,
)

# == seed 000: Persistence and Blueprint ======================================================

# -- module-level snippet code (seed 000, "Flow blueprint save / load") -------------------


def upper(data):
    return str(data.input).upper()


def store(data):
    return data.async_set_state("output", data.input)


# -- module-level snippet code (seed 000, service packaging shape) --------------------------


async def analyze(data):
    agent_factory = data.require_resource("agent_factory")
    prompts_path = data.require_resource("prompts_path")
    question = data.input
    data.set_state("question", question)
    agent = agent_factory()
    return agent.load_yaml_prompt(
        prompts_path,
        prompt_key_path="analyze",
        mappings={"question": question},
    ).start()


async def answer(data):
    policy_doc = data.require_resource("policy_doc")
    question = data.get_state("question")
    return f"{policy_doc}\n\nQ: {question}"


def build_policy_flow() -> TriggerFlow:
    flow = TriggerFlow(name="policy")
    flow.update_runtime_resources(
        agent_factory=make_agent,
        prompts_path=PROMPTS_DIR / "policy.yaml",
    )
    flow.to(analyze).to(answer)
    return flow


# -- the flow the execution save/load snippets assume as ``flow`` ----------------------------


async def triage(data: TriggerFlowRuntimeData):
    data.require_resource("logger").info(f"received: {data.input}")
    await data.async_set_state("request", data.input)


async def on_feedback(data: TriggerFlowRuntimeData):
    data.require_resource("logger").info(f"feedback: {data.value}")
    await data.async_set_state("feedback", data.value)


def build_refund_flow() -> TriggerFlow:
    flow = TriggerFlow(name="refunds")
    flow.update_runtime_resources(logger=FakeLogger("boot"))
    flow.to(triage)
    flow.when("UserFeedback").to(on_feedback)
    return flow


async def test_s000_execution_save_then_restore_and_continue():
    """Seed 000 "Execution save / load": save(), then load() + emit + close."""
    flow = build_refund_flow()
    new_db_client, new_logger = FakeDB("new"), FakeLogger("new")

    # -- snippet: save
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("refund request")

    saved_state = execution.save()
    # persist saved_state somewhere (Redis, DB, file, etc.)

    # -- snippet: restore later (possibly in a different process)
    flow = build_refund_flow()
    restored = flow.create_execution(
        auto_close=False,
        runtime_resources={"db": new_db_client, "logger": new_logger},
    )
    restored.load(saved_state)

    # Continue: emit, continue_with an interrupt, then close
    await restored.async_emit("UserFeedback", {"approved": True})
    snapshot = await restored.async_close()

    assert snapshot == {"request": "refund request", "feedback": {"approved": True}}
    assert restored.id == saved_state["execution_id"]
    assert new_logger.lines == ["feedback: {'approved': True}"]
    assert "logger" in saved_state["resource_keys"]
    assert json.loads(json.dumps(saved_state)) == saved_state


async def research(data: TriggerFlowRuntimeData):
    return await data.async_pause_for(
        type="approval", payload={"topic": data.input}, interrupt_id="approval-1"
    )


async def after_approval(data: TriggerFlowRuntimeData):
    data.require_resource("search_tool")
    await data.async_set_state("approval", data.value)


async def test_s000_resuming_around_a_pause_for():
    """Seed 000 "Resuming around a pause_for"."""
    flow = TriggerFlow(name="research")
    flow.to(research).to(after_approval)
    new_search_function = fakes.search_function

    execution = flow.create_execution(auto_close=False)
    await execution.async_start("topic")

    # at this point the flow may have called pause_for(...)
    saved = execution.save()

    # ... days later, in a different worker ...
    restored = flow.create_execution(
        auto_close=False,
        runtime_resources={"search_tool": new_search_function},
    )
    restored.load(saved)

    interrupt_id = next(iter(restored.get_pending_interrupts()))
    await restored.async_continue_with(interrupt_id, {"approved": True})
    snapshot = await restored.async_close()

    assert interrupt_id == "approval-1"
    assert snapshot == {"approval": {"approved": True}}


def test_s000_blueprint_save_and_restore():
    """Seed 000 "Flow blueprint save / load": save_blueprint() -> load_blueprint()."""
    source = TriggerFlow(name="source")
    source.register_chunk_handler(upper)
    source.register_chunk_handler(store)
    source.to(upper).to(store)

    blueprint = source.save_blueprint()  # dict, can be JSON / YAML serialized

    assert isinstance(blueprint, dict)
    assert json.loads(json.dumps(blueprint)) == blueprint

    # Restore on the other end:
    restored = TriggerFlow(name="restored")
    restored.register_chunk_handler(upper)  # same function bodies must be available
    restored.register_chunk_handler(store)
    restored.load_blueprint(blueprint)

    assert restored.save_blueprint() == blueprint
    assert restored.start("hello") == {"output": "HELLO"}
    assert source.start("abc") == {"output": "ABC"}


def test_s000_blueprint_restore_without_registration_fails():
    """Seed 000 "Key constraint": without register_chunk_handler the load fails."""
    source = TriggerFlow(name="source")
    source.register_chunk_handler(upper)
    source.register_chunk_handler(store)
    source.to(upper).to(store)
    blueprint = source.save_blueprint()

    restored = TriggerFlow(name="restored")
    restored.register_chunk_handler(upper)
    with pytest.raises(ValueError, match="store"):
        restored.load_blueprint(blueprint)


def test_s000_service_packaging_shape():
    """Seed 000 packaging: module-level handlers, flow and per-execution resources."""
    flow = build_policy_flow()
    snapshot = flow.start(
        "travel subsidy?",
        runtime_resources={"policy_doc": tenant_policy_doc},
    )

    assert snapshot == {"question": "travel subsidy?"}
    (agent,) = fakes.AGENTS
    assert agent.calls == [
        {
            "path": str(PROMPTS_DIR / "policy.yaml"),
            "key": "analyze",
            "mappings": {"question": "travel subsidy?"},
        }
    ]
    # the answer stage ran with the execution-level resource
    probe = build_policy_flow()
    probe.when(answer).end()
    result = probe.start("q?", runtime_resources={"policy_doc": tenant_policy_doc})
    assert result["$final_result"] == f"{tenant_policy_doc}\n\nQ: q?"
    # module-safe definitions: building the same flow again is idempotent
    assert build_policy_flow().save_blueprint() == flow.save_blueprint()


async def test_s000_single_server_resume_with_redis():
    """Seed 000 "Single-server resume" (redis is a dict-backed fake)."""
    redis = FakeRedis()
    flow = build_refund_flow()
    execution = flow.create_execution(auto_close=False)
    await execution.async_start("refund request")
    exec_id = execution.id

    # -- snippet
    saved = execution.save()
    redis.set(f"flow:{exec_id}", json.dumps(saved))

    # later
    saved = json.loads(redis.get(f"flow:{exec_id}"))  # type: ignore[arg-type]
    restored = flow.create_execution(
        auto_close=False, runtime_resources={"logger": FakeLogger()}
    )
    restored.load(saved)

    await restored.async_emit("UserFeedback", "thanks")
    assert await restored.async_close() == {
        "request": "refund request",
        "feedback": "thanks",
    }


def register_all_handlers(flow: TriggerFlow) -> None:
    flow.register_chunk_handler(triage)
    flow.register_chunk_handler(on_feedback)


async def test_s000_distributed_worker_pickup(tmp_path):
    """Seed 000 "Distributed worker pickup": blueprint stored once + execution save."""
    db = FakeDB()
    blueprint_id = "refunds-v1"
    source_flow = build_refund_flow()
    source_execution = source_flow.create_execution(auto_close=False)
    await source_execution.async_start("refund request")
    saved = source_execution.save()

    # -- snippet
    blueprint = source_flow.save_blueprint()
    db.save("flow_blueprints", blueprint_id, blueprint)

    # in worker
    flow = TriggerFlow(name="loaded", store=str(tmp_path / "worker.db"))
    register_all_handlers(flow)  # whatever your registration entry is
    flow.load_blueprint(db.load("flow_blueprints", blueprint_id))

    execution = flow.create_execution(
        auto_close=False, runtime_resources={"logger": FakeLogger("worker")}
    )
    execution.load(saved)

    assert execution.id == saved["execution_id"]
    await execution.async_emit("UserFeedback", "ok")
    assert await execution.async_close() == {
        "request": "refund request",
        "feedback": "ok",
    }


# == seed 001: State and Resources ===============================================================


async def test_s001_state_main_path():
    """Seed 001 "state — the main path"."""
    seen = {}

    async def step(data: TriggerFlowRuntimeData):
        await data.async_set_state("greeting", f"hello {data.input}")
        current = data.get_state("greeting")
        seen["current"] = current

    flow = TriggerFlow(name="state-main")
    flow.to(step)
    execution = flow.create_execution()
    snapshot = await execution.async_start("World")
    assert snapshot == {"greeting": "hello World"}
    assert seen == {"current": "hello World"}
    assert await execution.async_close() is snapshot


async def test_s001_state_api_list():
    """Seed 001 state API: set/get/append/del and their async variants."""

    async def step(data: TriggerFlowRuntimeData):
        await data.async_set_state("a", 1)
        data.set_state("b", 2)
        await data.async_append_state("items", "x")
        data.append_state("items", "y")
        await data.async_del_state("a")
        data.del_state("b")
        data.set_state("default", data.get_state("missing", default="dflt"))

    flow = TriggerFlow(name="state-api")
    flow.to(step)
    assert await flow.async_start(None) == {"items": ["x", "y"], "default": "dflt"}


def test_s001_flow_data_warns_unless_silenced():
    """Seed 001 "flow_data — risky shared scope": every call warns (RuntimeWarning)."""
    flow = TriggerFlow(name="counter-flow")
    with pytest.warns(RuntimeWarning):
        flow.set_flow_data("counter", 0)  # RuntimeWarning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flow.set_flow_data("counter", 0, no_warning=True)  # silenced


async def test_s001_flow_data_api():
    """Seed 001 flow_data API: get/set/append/del and async equivalents."""
    flow = TriggerFlow(name="fd-api")
    with pytest.warns(RuntimeWarning):
        flow.set_flow_data("key", "v")
    with pytest.warns(RuntimeWarning):
        assert flow.get_flow_data("key") == "v"
    with pytest.warns(RuntimeWarning):
        flow.append_flow_data("list", 1)
    with pytest.warns(RuntimeWarning):
        flow.del_flow_data("key")
    with pytest.warns(RuntimeWarning):
        await flow.async_set_flow_data("k2", 2)
    with pytest.warns(RuntimeWarning):
        await flow.async_append_flow_data("list", 2)
    with pytest.warns(RuntimeWarning):
        await flow.async_del_flow_data("k2")
    assert flow.get_flow_data(no_warning=True) == {"list": [1, 2]}


async def test_s001_runtime_resources_injection_and_use():
    """Seed 001 "runtime_resources — live objects": inject, update, require."""
    my_db_client, my_logger = FakeDB(), FakeLogger()
    search_function = fakes.search_function

    async def step(data: TriggerFlowRuntimeData):
        logger = data.require_resource("logger")
        logger.info(f"received: {data.input}")  # noqa: G004
        db = data.require_resource("db")
        rows = await db.fetch("SELECT 1")
        await data.async_set_state("rows", rows)

    flow = TriggerFlow(name="resources")
    flow.to(step)

    execution = flow.create_execution(
        runtime_resources={
            "db": my_db_client,
            "logger": my_logger,
            "search_tool": search_function,
        },
    )
    snapshot = await execution.async_start("hi")
    assert snapshot == {"rows": [{"1": 1}]}
    assert my_logger.lines == ["received: hi"]
    assert my_db_client.queries == ["SELECT 1"]

    # Or update on the flow itself (default for all executions of that flow):
    flow_logger = FakeLogger("flow")
    flow.update_runtime_resources(logger=flow_logger)
    flow.update_runtime_resources(db=my_db_client)
    await flow.async_start("again")
    assert flow_logger.lines == ["received: again"]


async def test_s001_require_resource_raises_when_not_injected():
    """Seed 001: require_resource(name) raises if the resource isn't injected."""

    async def step(data: TriggerFlowRuntimeData):
        data.require_resource("logger")

    flow = TriggerFlow(name="resources-missing")
    flow.to(step)
    with pytest.raises(KeyError, match="logger"):
        await flow.async_start("x")


async def test_s001_save_records_resource_keys_and_restore_reinjects():
    """Seed 001 "Why resources don't enter the snapshot": save, re-inject, load."""
    new_db_client, new_logger = FakeDB("new"), FakeLogger("new")
    search_function = fakes.search_function
    flow = build_refund_flow()
    execution = flow.create_execution(
        auto_close=False,
        runtime_resources={"db": FakeDB(), "search_tool": search_function},
    )
    await execution.async_start("req")

    saved = execution.save()
    # saved contains state, lifecycle metadata, interrupt state, and resource_keys
    # but NOT the live objects themselves
    restored = flow.create_execution(
        auto_close=False,
        runtime_resources={
            "db": new_db_client,
            "logger": new_logger,
            "search_tool": search_function,
        },
    )
    restored.load(saved)

    assert saved["resource_keys"] == ["db", "logger", "search_tool"]
    assert saved["state"] == {"request": "req"}
    assert "status" in saved
    assert "interrupts" in saved
    await restored.async_emit("UserFeedback", 1)
    assert new_logger.lines == ["feedback: 1"]
    await restored.async_close()


async def test_s001_execution_environments_keyword_was_renamed():
    """Seed 001 "Managed execution resources": execution_environments=[...] -> §14.7."""
    flow = build_refund_flow()
    with pytest.raises(TypeError, match="execution_resources"):
        flow.create_execution(execution_environments=[])


# == seed 003: Runtime Data, Shared State, and Runtime Resources ==================================


async def test_s003_data_state_set():
    """Seed 003 §2 "data.state"."""

    async def intake(data):
        data.state.set("request", {"topic": data.value})

    flow = TriggerFlow(name="three-layers")
    flow.to(intake)
    assert await flow.async_start("pricing") == {"request": {"topic": "pricing"}}


async def test_s003_legacy_runtime_data_apis_still_work():
    """Seed 003 §2: get/set/append_runtime_data still work (deprecated)."""

    async def legacy(data):
        with pytest.warns(DeprecationWarning, match="deprecated"):
            data.set_runtime_data("request", {"topic": data.value})
        with pytest.warns(DeprecationWarning, match="deprecated"):
            data.append_runtime_data("history", 1)
        with pytest.warns(DeprecationWarning, match="deprecated"):
            topic = data.get_runtime_data("request")["topic"]
        data.state.set("topic", topic)

    flow = TriggerFlow(name="legacy")
    flow.to(legacy)
    assert await flow.async_start("t") == {
        "request": {"topic": "t"},
        "history": [1],
        "topic": "t",
    }


async def test_s003_flow_state_shared_counter():
    """Seed 003 §3 "data.flow_state": small shared values across executions (warns)."""

    async def count(data):
        with pytest.warns(RuntimeWarning):
            current = data.flow_state.get("counter", 0)
        with pytest.warns(RuntimeWarning):
            data.flow_state.set("counter", current + 1)

    flow = TriggerFlow(name="shared-counter")
    flow.to(count)
    assert await flow.async_start(None) == {}
    assert await flow.async_start(None) == {}
    assert flow.get_flow_data("counter", no_warning=True) == 2


async def test_s003_injection_patterns_and_override_rules():
    """Seed 003 §4-§5: flow defaults, execution overrides, set_resource in a handler."""
    my_logger, custom_search_tool = FakeLogger(), fakes.search_function
    seen = []

    async def handler(data):
        seen.append(data.get_resource("logger") is my_logger)
        seen.append(data.require_resource("search_tool")("x"))
        data.set_resource("temp", "only-here")
        seen.append(data.get_resource("temp"))

    flow = TriggerFlow(name="inject")
    flow.to(handler)
    flow.update_runtime_resources(logger=my_logger)

    execution = flow.create_execution(
        runtime_resources={"search_tool": custom_search_tool},
    )
    await execution.async_start(None)
    assert seen == [True, ["result for x"], "only-here"]
    assert "temp" not in flow.runtime_resources


async def test_s003_only_resource_keys_persist_and_must_be_reinjected():
    """Seed 003 §5: save() persists resource_keys; after load() inject them again."""

    async def handler(data):
        await data.async_set_state("ok", True)

    flow = TriggerFlow(name="reinject")
    flow.to(handler)
    execution = flow.create_execution(
        auto_close=False, runtime_resources={"browser": object()}
    )
    await execution.async_start(None)
    saved = execution.save()
    assert saved["resource_keys"] == ["browser"]
    with pytest.raises(MissingResourceError, match="browser"):
        flow.create_execution(auto_close=False).load(saved)
    restored = flow.create_execution(
        auto_close=False, runtime_resources={"browser": object()}
    )
    restored.load(saved)
    assert await restored.async_close() == {"ok": True}


async def test_s003_public_resource_apis():
    """Seed 003 §8: get_resource / require_resource / set_resource / del_resource."""
    seen = {}

    async def handler(data):
        seen["optional"] = data.get_resource("cache", default=None)
        seen["required"] = data.require_resource("logger").name
        data.set_resource("cache", {"hits": 0})
        seen["after_set"] = data.get_resource("cache")
        data.del_resource("cache")
        seen["after_del"] = data.get_resource("cache", "none")

    flow = TriggerFlow(name="resource-apis")
    flow.to(handler)
    await flow.async_start(None, runtime_resources={"logger": FakeLogger("L")})
    assert seen == {
        "optional": None,
        "required": "L",
        "after_set": {"hits": 0},
        "after_del": "none",
    }


# -- seed 003 §6-§7: sub_flow capture / write_back (issue 6) -------------------------------------


async def child_step(data):
    data.require_resource("logger").info(f"child got {data.value}")
    await data.async_set_state("child_title", str(data.value["topic"]).upper())
    data.state.set("seen_request", data.get_state("request"))


async def test_s003_sub_flow_capture_and_write_back():
    """Seed 003 §6: capture input/state/flow_state/resources; write back from result."""
    logger = FakeLogger()
    child = TriggerFlow(name="child")
    child.to(child_step)

    async def intake(data):
        data.state.set("request", {"topic": data.value})
        return {"topic": data.value}

    parent = TriggerFlow(name="parent")
    parent.update_runtime_resources(logger=logger)
    parent.to(intake).to_sub_flow(
        child,
        capture={
            "input": "value",
            "runtime_data": {"request": "runtime_data.request"},
            "resources": {"logger": "resources.logger"},
        },
        write_back={
            "value": "result",
            "runtime_data": {"child_title": "result.child_title"},
        },
    )
    snapshot = await parent.async_start("pricing")
    assert snapshot["child_title"] == "PRICING"
    assert logger.lines == ["child got {'topic': 'pricing'}"]


async def test_s003_child_flow_is_isolated():
    """Seed 003 §7: child state and flow_state are the child's own."""
    child = TriggerFlow(name="iso-child")

    async def mutate(data):
        await data.async_set_state("child_only", True)
        data.flow_state.set("child_flag", 1, no_warning=True)

    child.to(mutate)
    parent = TriggerFlow(name="iso-parent")
    parent.to_sub_flow(child, write_back={"value": "result"})
    snapshot = await parent.async_start(None)
    assert "child_only" not in snapshot
    assert parent.get_flow_data("child_flag", no_warning=True) is None
