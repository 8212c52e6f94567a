"""load() checks the whole saved document before it writes anything.

Issue 11 items 6 and 13: a save of flow ``alpha`` loaded into flow ``beta`` was
accepted (and then beta could neither list, rebuild nor recover it); tampered
views were written to the log and failed later with a bare TypeError; malformed
views raised KeyError/TypeError. Every one is now a SnapshotContractError naming
the field, raised before anything is written.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator import (
    MissingResourceError,
    SnapshotContractError,
    TriggerFlow,
)
from tests.tampering import json_paths, tamper


async def intake(data: Any) -> Any:
    await data.async_set_state("ticket", data.value)
    return data.value


async def ask(data: Any) -> Any:
    return await data.async_pause_for(interrupt_id="review")


def build(name: str, store: str) -> TriggerFlow:
    flow = TriggerFlow(name=name, store=store)
    flow.to(intake).to(ask)
    return flow


def contents(flow: TriggerFlow) -> tuple[list[Any], list[Any]]:
    return list(flow.store.read_all()), flow.store.list_streams()


@pytest.fixture
def saved(tmp_path: Path) -> Any:
    """A waiting execution of flow ``alpha`` (a run's interrupt, signals, state)."""
    source = build("alpha", str(tmp_path / "source.db"))
    execution = source.create_execution(auto_close=False)
    execution.start("refund")
    document = execution.save()
    assert document["status"] == "waiting"
    source.store.close()
    return document


@pytest.fixture
def target(tmp_path: Path) -> Any:
    flow = build("alpha", str(tmp_path / "target.db"))
    yield flow
    flow.store.close()


def test_a_save_of_another_flow_is_refused_naming_the_flow(
    tmp_path: Path, saved: dict[str, Any]
) -> None:
    # Same structure, so the same fingerprint: only the name tells them apart.
    beta = build("beta", str(tmp_path / "beta.db"))
    try:
        assert beta.definition.fingerprint == saved["flow_definition_fingerprint"]
        before = contents(beta)
        with pytest.raises(SnapshotContractError, match="flow_name") as caught:
            beta.create_execution(auto_close=False).load(saved)
        assert "'alpha'" in str(caught.value)
        assert "'beta'" in str(caught.value)
        assert contents(beta) == before
        assert beta.list_executions() == []
    finally:
        beta.store.close()


TAMPERED = [
    ("view.state", ["not", "a", "dict"]),
    ("view.signals", "a string"),
    ("view.runs", {"r1": 1}),
    ("view.resource_keys", "db"),
    ("view.status", "bogus"),
    ("view.last_seq", "7"),
    ("view.interrupts", []),
    ("view.parent", "p"),
    ("view.concurrency", 0),
    ("view.auto_close", "yes"),
    ("view", ["a list"]),
    ("flow_definition_fingerprint", 5),
    ("flow_name", None),
    ("state", ["top-level", "state"]),
    ("resource_keys", [1]),
    ("execution_kind", "child"),
]


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = document
    for key in parents:
        node = node[key]
    node[last] = value


@pytest.mark.parametrize(("path", "value"), TAMPERED)
def test_a_tampered_field_is_refused_by_name_and_nothing_is_written(
    target: TriggerFlow, saved: dict[str, Any], path: str, value: Any
) -> None:
    _set(saved, path, value)
    before = contents(target)
    with pytest.raises(SnapshotContractError) as caught:
        target.create_execution(auto_close=False).load(saved)
    assert path in str(caught.value)
    assert contents(target) == before


@pytest.mark.parametrize(
    "key", ["signals", "runs", "state", "fingerprint", "joins", "last_seq"]
)
def test_a_view_missing_a_field_is_refused_not_a_key_error(
    target: TriggerFlow, saved: dict[str, Any], key: str
) -> None:
    del saved["view"][key]
    with pytest.raises(
        SnapshotContractError, match=f"'view.{key}' of the saved execution: missing"
    ):
        target.create_execution(auto_close=False).load(saved)
    assert contents(target) == ([], [])


def test_ids_and_names_inside_the_view_must_match_the_document(
    target: TriggerFlow, saved: dict[str, Any]
) -> None:
    for path, value in [
        ("view.execution_id", "someone-else"),
        ("view.flow_name", "beta"),
        ("view.fingerprint", "sha256:0"),
    ]:
        document = copy.deepcopy(saved)
        _set(document, path, value)
        with pytest.raises(SnapshotContractError, match=path):
            target.create_execution(auto_close=False).load(document)
    assert contents(target) == ([], [])


def test_a_value_that_is_not_json_is_refused(
    target: TriggerFlow, saved: dict[str, Any]
) -> None:
    saved["view"]["state"]["tags"] = {"a", "b"}
    with pytest.raises(SnapshotContractError, match="not JSON"):
        target.create_execution(auto_close=False).load(saved)
    assert contents(target) == ([], [])


def test_a_missing_resource_writes_nothing(tmp_path: Path) -> None:
    source = build("alpha", str(tmp_path / "source.db"))
    execution = source.create_execution(
        auto_close=False, runtime_resources={"mailer": object()}
    )
    execution.start("refund")
    document = execution.save()
    source.store.close()
    target = build("alpha", str(tmp_path / "target.db"))
    try:
        with pytest.raises(MissingResourceError):
            target.create_execution(auto_close=False).load(document)
        assert contents(target) == ([], [])
        # With the resource the same document loads (nothing half-written before).
        restored = target.create_execution(auto_close=False)
        restored.load(document, runtime_resources={"mailer": object()})
        assert restored.get_status() == "waiting"
    finally:
        target.store.close()


def test_a_valid_save_still_loads_into_another_store(
    target: TriggerFlow, saved: dict[str, Any]
) -> None:
    restored = target.create_execution(auto_close=False)
    restored.load(saved)
    assert restored.get_status() == "waiting"
    assert [s.execution_id for s in target.list_executions()] == [saved["execution_id"]]


# -- any malformed document: SnapshotContractError and nothing written ---------------


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.sampled_from(["flow:alpha", "c0123456789abcdef", "waiting", "alpha", "x"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(deadline=None)
@given(data=st.data())
def test_any_tampering_is_refused_with_nothing_written_or_loads_cleanly(
    tmp_path_factory: Any, data: Any
) -> None:
    base = tmp_path_factory.mktemp("load")
    source = build("alpha", str(base / "source.db"))
    execution = source.create_execution(auto_close=False)
    execution.start("refund")
    document = execution.save()
    source.store.close()
    tamper(data, document, data.draw(st.sampled_from(json_paths(document))), _JUNK)
    target = build("alpha", str(base / "target.db"))
    try:
        try:
            target.create_execution(auto_close=False).load(document)
        except SnapshotContractError:
            assert contents(target) == ([], [])
            return
        # Accepted: then this flow can list and rebuild it, from a fresh object.
        again = build("alpha", str(base / "target.db"))
        try:
            listed = [s.execution_id for s in again.list_executions()]
            assert listed == [document["execution_id"]]
            rebuilt = again.get_execution(document["execution_id"])
            assert rebuilt.get_status() in ("waiting", "running", "created")
        finally:
            again.store.close()
    finally:
        target.store.close()
