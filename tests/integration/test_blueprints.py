"""Issue 11, items 12, 13 and 18: node identity of anonymous handlers, blueprint
loading that is typed and all-or-nothing, and stable flow names on durable stores.

Spec: docs/api.md §2.1 (names), §2.2 (node identity), §2.8 (blueprints).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator import (
    FlowDefinitionError,
    InMemoryEventStore,
    PayloadError,
    SQLiteEventStore,
    TriggerFlow,
)


def upper(data):
    return str(data.value).upper()


def keep(data):
    data.set_state("out", data.value)


def is_long(data):
    return len(data.value) > 3


def memory_flow(name: str = "f") -> TriggerFlow:
    return TriggerFlow(name=name, store=":memory:")


def op_ids(flow: TriggerFlow) -> list[str]:
    return list(flow.definition.operators)


# -- item 12: anonymous handlers get distinct, stable ids ---------------------------------------


async def test_two_different_lambdas_on_one_trigger_are_two_nodes():
    """Two different lambdas on one trigger collided on one id (`<lambda>#hash`)."""
    flow = memory_flow()
    flow.side_branch(lambda d: d.set_state("a", d.value))
    flow.side_branch(lambda d: d.set_state("b", d.value * 2))
    assert len(set(op_ids(flow))) == 2
    assert await flow.async_start(3) == {"a": 3, "b": 6}


async def test_the_same_lambda_defined_again_keeps_its_id():
    """Re-running definition code (module-safe re-definition) is idempotent for lambdas."""
    flow = memory_flow()

    def build() -> None:
        flow.to(lambda d: d.value + 1).to(lambda d: d.set_state("out", d.value))
        flow.when("Ext").side_branch(lambda d: d.set_state("ext", d.value))

    build()
    ids, fingerprint = op_ids(flow), flow.definition.fingerprint
    build()
    assert op_ids(flow) == ids
    assert flow.definition.fingerprint == fingerprint
    assert await flow.async_start(1) == {"out": 2}


async def test_lambda_ids_are_the_same_in_a_rebuilt_flow_and_after_code_moves():
    """The id of a lambda comes from its place in the flow, not its file or line."""

    def build(source: str) -> TriggerFlow:
        namespace: dict[str, Any] = {"__name__": "flowmod"}
        exec(compile(source, "/somewhere/flowmod.py", "exec"), namespace)
        flow: TriggerFlow = namespace["make"]()
        return flow

    source = (
        "from orchestrator import TriggerFlow\n"
        "def make():\n"
        "    flow = TriggerFlow(name='moved', store=':memory:')\n"
        "    flow.side_branch(lambda d: d.set_state('a', 1))\n"
        "    flow.side_branch(lambda d: d.set_state('b', 2))\n"
        "    return flow\n"
    )
    moved = source.replace("def make", "\n\n# moved down\n\ndef make")
    first, again, shifted = build(source), build(source), build(moved)
    assert op_ids(first) == op_ids(again) == op_ids(shifted)
    assert first.definition.fingerprint == shifted.definition.fingerprint


async def test_lambdas_differing_only_in_default_values_are_distinct_stages():
    """The loop idiom ``lambda d, k=k: ...`` wires one stage per value."""
    flow = memory_flow()
    for key in ("x", "y", "z"):
        flow.side_branch(lambda d, key=key: d.set_state(key, d.value))
    assert len(op_ids(flow)) == 3
    assert await flow.async_start(7) == {"x": 7, "y": 7, "z": 7}


async def test_two_different_lambda_conditions_and_redefinition_of_a_match():
    flow = memory_flow()

    def build() -> None:
        (
            flow.to(upper)
            .match()
            .case(lambda d: d.value.startswith("A"))
            .to(("a", keep))
            .case(lambda d: d.value.startswith("B"))
            .to(("b", keep))
            .end_match()
        )

    build()
    config = flow.get_flow_config(validate_serializable=False)
    build()
    assert flow.get_flow_config(validate_serializable=False) == config
    route = next(op for op in config["operators"] if op["kind"] == "match_route")
    assert len({case["condition"] for case in route["options"]["cases"]}) == 2
    assert await flow.async_start("bee") == {"out": "BEE"}


async def test_get_flow_config_raises_for_a_lambda_condition():
    """§2.8: an anonymous handler makes get_flow_config() raise; conditions included."""
    flow = memory_flow()
    flow.to(upper).if_condition(lambda d: len(d.value) > 3).to(keep).end_condition()
    with pytest.raises(FlowDefinitionError, match="condition"):
        flow.get_flow_config()
    exported = flow.get_flow_config(validate_serializable=False)
    assert [op["kind"] for op in exported["operators"]][:2] == ["chunk", "match_route"]


async def test_get_flow_config_accepts_a_lambda_condition_registered_by_name():
    flow = memory_flow()
    longer = flow.register_condition_handler(lambda d: len(d.value) > 3, name="long")
    flow.to(upper).if_condition(longer).to(keep).end_condition()
    route = flow.get_flow_config()["operators"][1]
    assert [case["condition"] for case in route["options"]["cases"]] == ["long"]
    assert await flow.async_start("abcd") == {"out": "ABCD"}


def source_blueprint(meta: dict[str, Any] | None = None) -> dict[str, Any]:
    source = memory_flow("source")
    source.to(upper).if_condition(is_long).to(keep).end_condition()
    config = source.get_flow_config()
    config["meta"] = meta or {}
    return config


def target_flow(name: str = "target") -> TriggerFlow:
    flow = memory_flow(name)
    flow.register_chunk_handler(upper)
    flow.register_chunk_handler(keep)
    flow.register_condition_handler(is_long)
    return flow


async def test_load_flow_config_replace_false_keeps_the_flow_name_and_meta():
    """replace=False merges operators into this flow; it renamed the flow."""
    flow = target_flow()
    flow.definition.meta = {"owner": "me"}
    flow.when("Ext").to(("ext", keep))
    flow.load_flow_config(source_blueprint({"owner": "them"}), replace=False)
    assert flow.name == "target"
    assert flow.definition.meta == {"owner": "me"}
    assert len(op_ids(flow)) == 5
    assert await flow.async_start("abcd") == {"out": "ABCD"}


async def test_load_flow_config_replace_true_takes_the_name_and_meta():
    flow = target_flow()
    flow.when("Ext").to(("ext", keep))
    flow.load_flow_config(source_blueprint({"owner": "them"}))
    assert flow.name == "source"
    assert flow.definition.meta == {"owner": "them"}
    assert len(op_ids(flow)) == 4


# -- item 13: malformed blueprints raise typed errors and change nothing ------------------------


def flow_state(flow: TriggerFlow) -> tuple[Any, ...]:
    return (
        flow.name,
        copy.deepcopy(flow.definition.meta),
        json.dumps(flow.get_flow_config(), sort_keys=True),
        {k: list(v) for k, v in flow.definition.listeners.items()},
    )


def _mutate(path: list[Any], value: Any) -> dict[str, Any]:
    config = source_blueprint()
    target: Any = config
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return config


_DELETE = object()

MALFORMED: list[tuple[str, Any]] = [
    ("not json", "{"),
    ("json list", "[1, 2]"),
    ("a number", 5),
    ("no version", _mutate(["version"], _DELETE)),
    ("meta is a list", _mutate(["meta"], [1, 2])),
    ("meta not json", _mutate(["meta"], {"x": object()})),
    ("name is a number", _mutate(["name"], 5)),
    ("operators is a number", _mutate(["operators"], 5)),
    ("operator is a number", _mutate(["operators", 0], 5)),
    ("operator is empty", _mutate(["operators", 0], {})),
    ("unknown kind", _mutate(["operators", 0, "kind"], "teleport")),
    ("id is a list", _mutate(["operators", 0, "id"], ["x"])),
    ("listen is a dict", _mutate(["operators", 0, "listen_signals"], {})),
    ("listen entry is a str", _mutate(["operators", 0, "listen_signals", 0], "x")),
    (
        "bad trigger type",
        _mutate(["operators", 0, "listen_signals", 0, "trigger_type"], "x"),
    ),
    (
        "no trigger event",
        _mutate(["operators", 0, "listen_signals", 0, "trigger_event"], _DELETE),
    ),
    ("emit is a str", _mutate(["operators", 0, "emit_signals"], "x")),
    ("options is a list", _mutate(["operators", 0, "options"], [1])),
    ("handler_ref is a str", _mutate(["operators", 0, "handler_ref"], "upper")),
    ("chunk without handler", _mutate(["operators", 0, "handler_ref"], None)),
    ("unregistered handler", _mutate(["operators", 0, "handler_ref", "name"], "nope")),
    ("bad timeout", _mutate(["operators", 0, "options", "timeout"], -1)),
    ("cases is a dict", _mutate(["operators", 1, "options", "cases"], {})),
    (
        "case without id",
        _mutate(["operators", 1, "options", "cases", 0, "case_id"], _DELETE),
    ),
    ("bad match mode", _mutate(["operators", 1, "options", "mode"], "sometimes")),
    (
        "unregistered condition",
        _mutate(["operators", 1, "options", "cases", 0, "condition"], "no"),
    ),
    ("group id a number", _mutate(["operators", 1, "group_id"], 3)),
    ("sub flows", _mutate(["sub_flows"], {"x": {}})),
    (
        "listens to nothing emitted",
        _mutate(
            ["operators", 2, "listen_signals", 0, "trigger_event"], "Match-zz-Case-1"
        ),
    ),
]


@pytest.mark.parametrize(("label", "config"), MALFORMED, ids=[m[0] for m in MALFORMED])
@pytest.mark.parametrize("replace", [True, False])
async def test_malformed_blueprint_raises_typed_error_and_changes_nothing(
    label: str, config: Any, replace: bool
):
    """Malformed blueprints raised JSONDecodeError/TypeError/KeyError, some half-applied."""
    flow = target_flow()
    flow.when("Ext").to(("ext", keep))
    before = flow_state(flow)
    with pytest.raises((FlowDefinitionError, PayloadError)):
        flow.load_flow_config(config, replace=replace)
    assert flow_state(flow) == before, label


async def test_blueprint_with_list_meta_does_not_rename_or_clear_the_flow():
    """`meta: [1, 2]` renamed the flow and cleared its operators before raising."""
    flow = target_flow()
    flow.when("Ext").to(("ext", keep))
    config = source_blueprint()
    config["meta"] = [1, 2]
    with pytest.raises(FlowDefinitionError, match="meta"):
        flow.load_flow_config(config)
    assert flow.name == "target"
    assert len(op_ids(flow)) == 1


async def test_unknown_operator_kind_fails_at_load_not_at_run_time():
    flow = target_flow()
    config = source_blueprint()
    config["operators"][0]["kind"] = "teleport"
    with pytest.raises(FlowDefinitionError, match="teleport"):
        flow.load_flow_config(config)


async def test_loaded_blueprint_does_not_alias_the_callers_dict():
    flow = target_flow()
    config = source_blueprint()
    flow.load_flow_config(config)
    before = flow.get_flow_config()
    config["operators"][1]["options"]["cases"].clear()
    assert flow.get_flow_config() == before


# -- item 18: durable flows need a stable name --------------------------------------------------


@pytest.mark.parametrize("spelling", ["path", "url", "object", "env", "default"])
def test_anonymous_flow_on_a_durable_store_raises(
    spelling: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A random name on a durable store made executions unfindable after a restart."""
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "flows.db"
    monkeypatch.delenv("TRIGGERLOG_DB", raising=False)
    store: Any = None
    if spelling == "path":
        store = str(db)
    elif spelling == "url":
        store = f"sqlite:///{db}"
    elif spelling == "object":
        store = SQLiteEventStore(str(db))
    elif spelling == "env":
        monkeypatch.setenv("TRIGGERLOG_DB", str(db))
    with pytest.raises(FlowDefinitionError, match="name="):
        TriggerFlow(store=store)
    if spelling == "object":
        store.close()
    else:
        assert not db.exists()
        assert not (tmp_path / "triggerlog.db").exists()


def test_anonymous_flow_in_memory_keeps_a_random_name(monkeypatch: pytest.MonkeyPatch):
    """Agently's behaviour where nothing outlives the process."""
    first = TriggerFlow(store=":memory:")
    second = TriggerFlow(store=InMemoryEventStore())
    assert first.name != second.name
    monkeypatch.setenv("TRIGGERLOG_DB", ":memory:")
    assert isinstance(TriggerFlow().store, InMemoryEventStore)


def test_anonymous_flow_named_by_its_blueprint_is_accepted(tmp_path: Path):
    config = source_blueprint()
    flow = TriggerFlow(
        config,
        store=str(tmp_path / "x.db"),
        handlers=[upper, keep],
        conditions=[is_long],
    )
    assert flow.name == "source"
    assert flow.start("abcd") == {"out": "ABCD"}
    flow.store.close()


# -- review of issue 11, findings 2 and 9: one rule for flow names -------------------------------


def test_empty_name_on_a_durable_store_is_refused_like_none(tmp_path: Path):
    """name="" fell through `name or random` and got a random, unfindable name."""
    db = tmp_path / "flows.db"
    with pytest.raises(FlowDefinitionError, match="name="):
        TriggerFlow(name="", store=str(db))
    assert not db.exists()
    assert len(TriggerFlow(name="", store=":memory:").name) == 16


BAD_NAMES = [
    "flow:x",
    "a:b",
    "kid/c0123456789abcdef",
    "a\nb",
    " lead",
    "a b",
    "-x",
    "x" * 129,
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_flow_name_outside_the_rule_is_refused_before_anything_is_written(
    name: str, tmp_path: Path
):
    """'kid/<child id>' wrote flow data into a sub-flow child's own flow stream."""
    db = tmp_path / "flows.db"
    with pytest.raises(FlowDefinitionError, match=r"\[A-Za-z0-9._-\]|characters long"):
        TriggerFlow(name=name, store=str(db))
    assert not db.exists()


@pytest.mark.parametrize("name", [*BAD_NAMES, ""])
def test_a_blueprint_name_outside_the_rule_is_refused(name: str):
    flow = TriggerFlow(name="kept", store=":memory:", handlers=[upper, keep])
    config = source_blueprint()
    config["name"] = name
    flow.register_condition_handler(is_long)
    with pytest.raises(FlowDefinitionError, match=r"load_blueprint: name must be"):
        flow.load_blueprint(config)
    assert flow.name == "kept"


@pytest.mark.parametrize(
    "name",
    ["orders", "golden_fanout_child", "discount-approval", "v1.2", "7days", "x" * 128],
)
def test_legitimate_flow_names_are_accepted(name: str):
    assert TriggerFlow(name=name, store=":memory:").name == name


# -- review of issue 11, finding 10b: a blueprint must list its operators -------------------------


@pytest.mark.parametrize("operators", ["missing", None])
def test_a_blueprint_without_an_operator_list_is_refused(operators: Any):
    """`operators: null` (or no key) emptied the flow without a word."""
    flow = TriggerFlow(name="kept", store=":memory:", handlers=[upper, keep])
    flow.register_condition_handler(is_long)
    flow.load_blueprint(source_blueprint())
    before = flow.get_flow_config()
    config = source_blueprint()
    if operators == "missing":
        del config["operators"]
    else:
        config["operators"] = operators
    with pytest.raises(FlowDefinitionError, match=r"operators must be a list"):
        flow.load_blueprint(config)
    assert flow.get_flow_config() == before


def test_a_blueprint_with_an_empty_operator_list_empties_the_flow():
    flow = TriggerFlow(name="kept", store=":memory:", handlers=[upper, keep])
    flow.register_condition_handler(is_long)
    flow.load_blueprint(source_blueprint())
    config = source_blueprint()
    config["operators"] = []
    assert flow.load_blueprint(config).get_flow_config()["operators"] == []
