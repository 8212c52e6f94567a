"""import_history: every stream of a document belongs to its own root tree.

Issue 11 items 1, 5 and 13: a history could carry an extra ``kind: "child"``
stream whose parent is an execution already in the target database (import
grafted it there), a root id in the flow-stream namespace, or data that is not
JSON (orjson's bare TypeError). Each is now a HistoryFormatError (or the
CorruptEventError of an event that does not fold), raised before anything is
written.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator import (
    ConcurrencyError,
    CorruptEventError,
    HistoryFormatError,
    SQLiteEventStore,
    TriggerFlow,
    UnknownEventTypeError,
)
from orchestrator.history import prepare_history
from orchestrator.ids import derive_id
from orchestrator.runtime.rebuild import read_view
from orchestrator.store.base import EventStore
from orchestrator.testing import export_history, import_history
from tests.replay.make_histories import HISTORIES
from tests.tampering import json_paths, tamper


def _history(name: str = "nested") -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads((HISTORIES / f"{name}.json").read_bytes())
    return loaded


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = SQLiteEventStore(str(tmp_path / "import.db"))
    yield opened
    opened.close()


def _contents(store: EventStore) -> tuple[list[Any], list[Any]]:
    return list(store.read_all()), store.list_streams()


def _stream(history: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(s for s in history["streams"] if s["kind"] == kind)


def test_a_child_grafted_onto_an_execution_of_the_target_is_refused(
    store: EventStore,
) -> None:
    # The target already holds an unrelated execution "victim".
    victim = _history("pipeline")
    import_history(store, victim)
    before = _contents(store)
    history = _history("nested")
    graft = copy.deepcopy(_stream(history, "child"))
    graft["parent_id"] = victim["execution_id"]
    graft["stream_id"] = derive_id("c", victim["execution_id"], "r-forged")
    graft["events"][0]["data"]["parent"]["execution_id"] = victim["execution_id"]
    history["streams"].append(graft)
    with pytest.raises(HistoryFormatError, match="parent") as caught:
        import_history(store, history)
    assert graft["stream_id"] in str(caught.value)
    assert _contents(store) == before
    assert store.list_streams(parent_id=victim["execution_id"]) == []


@pytest.mark.parametrize(
    ("how", "match"),
    [
        ("second-root", "one execution"),
        ("child-orphan", "parent"),
        ("child-cycle", "parent"),
        ("child-not-derived", "derived"),
        ("child-id-form", "child id"),
        ("child-parent-disagrees", "parent"),
        ("child-flow-disagrees", "flow_name"),
        ("duplicate-stream", "twice"),
        ("root-id-flow", "execution_id"),
        ("root-id-none", "execution_id"),
        ("root-kind-child", "root"),
        ("root-has-parent", "root"),
        ("root-missing", "no stream"),
        ("foreign-flow-stream", "flow stream"),
        ("flow-stream-misnamed", "flow stream"),
        ("flow-name-not-text", "flow_name"),
        ("parent-id-not-text", "parent_id"),
        ("data-a-set", "not JSON"),
        ("data-bytes", "not JSON"),
        ("data-huge-int", "not JSON"),
    ],
)
def test_a_document_outside_its_own_tree_is_refused_and_writes_nothing(
    store: EventStore, how: str, match: str
) -> None:
    history = _history("deep")
    root, child, grandchild, flow = history["streams"]
    if how == "second-root":
        extra = copy.deepcopy(root)
        extra["stream_id"] = "another-execution"
        history["streams"].append(extra)
    elif how == "child-orphan":
        grandchild["parent_id"] = "not-in-the-document"
    elif how == "child-cycle":
        child["parent_id"] = grandchild["stream_id"]
    elif how == "child-not-derived":
        grandchild["stream_id"] = derive_id("c", "elsewhere", "r1")
    elif how == "child-id-form":
        grandchild["stream_id"] = "my-child"
    elif how == "child-parent-disagrees":
        grandchild["events"][0]["data"]["parent"]["execution_id"] = root["stream_id"]
    elif how == "child-flow-disagrees":
        grandchild["flow_name"] = "golden_deep"
    elif how == "duplicate-stream":
        history["streams"].append(copy.deepcopy(flow))
    elif how == "root-id-flow":
        history["execution_id"] = root["stream_id"] = "flow:golden_deep"
        child["parent_id"] = "flow:golden_deep"
    elif how == "root-id-none":
        history["execution_id"] = None
    elif how == "root-kind-child":
        root["kind"] = "child"
    elif how == "root-has-parent":
        root["parent_id"] = "someone"
    elif how == "root-missing":
        history["streams"].remove(root)
    elif how == "foreign-flow-stream":
        other = copy.deepcopy(flow)
        other["stream_id"], other["flow_name"] = "flow:victim", "victim"
        history["streams"].append(other)
    elif how == "flow-stream-misnamed":
        flow["stream_id"] = "flow:golden_deep-x"
    elif how == "flow-name-not-text":
        root["flow_name"] = 7
    elif how == "parent-id-not-text":
        child["parent_id"] = ["golden-deep"]
    elif how == "data-a-set":
        root["events"][-1]["data"] = {"x": {1, 2}}
    elif how == "data-bytes":
        root["events"][-1]["data"] = {"x": b"raw"}
    elif how == "data-huge-int":
        root["events"][-1]["data"] = {"x": 2**70}
    with pytest.raises(HistoryFormatError, match=match):
        import_history(store, history)
    assert _contents(store) == ([], [])


def test_the_shipped_histories_are_accepted(tmp_path: Path) -> None:
    for path in sorted(HISTORIES.glob("*.json")):
        history = orjson.loads(path.read_bytes())
        opened = SQLiteEventStore(str(tmp_path / f"{path.stem}.db"))
        try:
            assert import_history(opened, history) == history["execution_id"]
        finally:
            opened.close()


async def child_flow_data(data: Any) -> Any:
    data.set_flow_data("note", data.value * 2, no_warning=True)
    return data.value


async def test_a_childs_own_flow_data_stream_travels_with_its_history(
    tmp_path: Path,
) -> None:
    # A sub-flow child's flow data lives on flow:<child>/<child id>: part of the
    # tree, so export takes it and import accepts it.
    child = TriggerFlow(name="kid")
    child.to(child_flow_data)
    parent = TriggerFlow(name="mom", store=str(tmp_path / "a.db"))
    parent.to_sub_flow(child)
    execution = parent.create_execution(execution_id="mom-1")
    await execution.async_start(21)
    history = export_history(parent.store, "mom-1")
    ids = [s["stream_id"] for s in history["streams"]]
    [kid] = [s["stream_id"] for s in history["streams"] if s["kind"] == "child"]
    assert f"flow:kid/{kid}" in ids
    parent.store.close()
    target = SQLiteEventStore(str(tmp_path / "b.db"))
    try:
        import_history(target, history)
        assert target.get_stream(f"flow:kid/{kid}") is not None
    finally:
        target.close()


def test_prepare_checks_the_tree_without_a_store() -> None:
    history = _history("nested")
    _stream(history, "child")["parent_id"] = "elsewhere"
    with pytest.raises(HistoryFormatError):
        prepare_history(history)


# -- any malformed document: a typed error and nothing written ----------------------


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=40),
    st.text(max_size=4),
    st.sampled_from(
        ["flow:golden_nested", "golden-nested", "child", "execution", "flow", "x"]
    ),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just({1, 2}),
    st.just(2**80),
)
_BASE = _history("nested")
_BASE_PATHS = json_paths(_BASE)
_TYPED = (
    HistoryFormatError,
    UnknownEventTypeError,
    CorruptEventError,
    ConcurrencyError,
)


@settings(deadline=None)
@given(data=st.data())
def test_any_tampering_is_typed_and_writes_nothing_or_imports_a_foldable_tree(
    tmp_path_factory: Any, data: Any
) -> None:
    history = copy.deepcopy(_BASE)
    for _ in range(data.draw(st.integers(1, 2))):
        try:
            tamper(data, history, data.draw(st.sampled_from(_BASE_PATHS)), _JUNK)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    opened = SQLiteEventStore(str(tmp_path_factory.mktemp("h") / "h.db"))
    try:
        try:
            execution_id = import_history(opened, history)
        except _TYPED:
            assert _contents(opened) == ([], [])
            return
        # Accepted: every execution stream is one tree under the root, and folds.
        streams = {s.stream_id: s for s in opened.list_streams()}
        for info in streams.values():
            if info.kind == "child":
                assert info.parent_id in streams
            elif info.kind == "execution":
                assert info.stream_id == execution_id
            if info.kind in ("execution", "child"):
                read_view(opened, info.stream_id)
    finally:
        opened.close()


def test_bad_cut_and_boolean_numbers_are_format_errors(store: EventStore) -> None:
    with pytest.raises(HistoryFormatError, match="up_to_position"):
        import_history(store, _history(), up_to_position="10")  # type: ignore[arg-type]
    history = _history()
    history["streams"][0]["events"][0]["seq"] = True  # == 1 in Python
    with pytest.raises(HistoryFormatError, match="integer seq"):
        import_history(store, history)
    history = _history()
    history["streams"][0]["events"][0]["position"] = False
    with pytest.raises(HistoryFormatError, match="position"):
        import_history(store, history)
    assert _contents(store) == ([], [])


@pytest.mark.parametrize("depth", [1, 2])
def test_exporting_a_child_is_refused_naming_the_root(
    store: EventStore, depth: int
) -> None:
    """A history starts at its root: a child's would be refused by import."""
    history = _history("deep")
    import_history(store, history)
    child = [s for s in history["streams"] if s["kind"] == "child"][depth - 1]
    with pytest.raises(HistoryFormatError) as caught:
        export_history(store, child["stream_id"])
    message = str(caught.value)
    assert f"{child['stream_id']!r}: it is a sub-flow child of" in message
    assert "export 'golden-deep' instead" in message
    # The root's history holds the child, and imports again.
    whole = export_history(store, "golden-deep")
    assert child["stream_id"] in [s["stream_id"] for s in whole["streams"]]
