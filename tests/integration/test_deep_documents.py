"""Over-deep values from outside: a save() given to load(), an imported history.

Issue 11 loose end: values written by the runtime are capped at MAX_VALUE_DEPTH
nested lists/dicts, but ``load()`` and ``import_history`` took values nested up
to orjson's parse limit (1,024): a copy could then hit the recursion limit, and
the next snapshot of the execution could not be encoded. Both now refuse them
naming the field (load) or the stream and seq (import), writing nothing.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from orchestrator import HistoryFormatError, SnapshotContractError, SQLiteEventStore
from orchestrator.events.values import MAX_RECORD_DEPTH, nested_beyond
from orchestrator.testing import import_history
from tests.integration.test_load_contract import build, contents
from tests.replay.make_histories import HISTORIES

DEPTHS = [200, 1_000, 10_000]


def nest(levels: int, leaf: Any = 0) -> Any:
    value = leaf
    for i in range(levels):
        value = [value] if i % 2 else {"d": value}
    return value


def deep_json(levels: int) -> str:
    """``nest(levels)`` as JSON text, built without recursion."""
    opening = "".join("[" if i % 2 else '{"d":' for i in reversed(range(levels)))
    closing = "".join("]" if i % 2 else "}" for i in range(levels))
    return opening + "0" + closing


@pytest.fixture
def saved(tmp_path: Path) -> Any:
    source = build("alpha", str(tmp_path / "source.db"))
    execution = source.create_execution(auto_close=False)
    execution.start("refund")
    document = execution.save()
    source.store.close()
    return document


@pytest.fixture
def target(tmp_path: Path) -> Any:
    flow = build("alpha", str(tmp_path / "target.db"))
    yield flow
    flow.store.close()


def test_nested_beyond_is_iterative_and_names_the_path() -> None:
    assert nested_beyond(nest(MAX_RECORD_DEPTH), MAX_RECORD_DEPTH) is None
    assert nested_beyond({"a": [nest(3)]}, 4) == "$.a[0].d[0]"
    looped: dict[str, Any] = {}
    looped["self"] = looped
    assert nested_beyond(looped, 3) == "$.self.self.self"
    path = nested_beyond(nest(100_000), MAX_RECORD_DEPTH)
    assert path is not None
    assert path.startswith("$[0].d[0].d")


@pytest.mark.parametrize("levels", DEPTHS)
@pytest.mark.parametrize("field", ["view.state", "state"])
def test_load_refuses_an_over_deep_value_naming_the_field(
    target: Any, saved: dict[str, Any], levels: int, field: str
) -> None:
    node = saved
    for key in field.split("."):
        node = node[key]
    node["deep"] = nest(levels)
    before = contents(target)
    with pytest.raises(SnapshotContractError) as caught:
        target.create_execution(auto_close=False).load(saved)
    message = str(caught.value)
    assert f"'{field}.deep[0].d[0].d" in message
    assert f"nested more than {MAX_RECORD_DEPTH} lists/dicts" in message
    assert "Nothing was written" in message
    assert contents(target) == before


@pytest.mark.parametrize("levels", [200, 1_000])
def test_load_of_a_json_string_refuses_an_over_deep_value(
    target: Any, saved: dict[str, Any], levels: int
) -> None:
    saved["view"]["state"]["deep"] = "PLACEHOLDER"
    text = orjson.dumps(saved).decode().replace('"PLACEHOLDER"', deep_json(levels))
    with pytest.raises(SnapshotContractError, match=r"'view\.state\.deep\[0\]\.d"):
        target.create_execution(auto_close=False).load(text)
    assert contents(target) == ([], [])


def test_load_of_a_json_string_beyond_the_parser_is_refused(
    target: Any, saved: dict[str, Any]
) -> None:
    saved["view"]["state"]["deep"] = "PLACEHOLDER"
    text = orjson.dumps(saved).decode().replace('"PLACEHOLDER"', deep_json(10_000))
    with pytest.raises(SnapshotContractError, match="not JSON"):
        target.create_execution(auto_close=False).load(text)
    assert contents(target) == ([], [])


def test_load_still_takes_a_value_at_the_cap(
    target: Any, saved: dict[str, Any]
) -> None:
    saved["view"]["state"]["deep"] = nest(128)
    saved["state"]["deep"] = nest(128)
    execution = target.create_execution(auto_close=False)
    execution.load(saved)
    assert execution.get_state("deep") == nest(128)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = SQLiteEventStore(str(tmp_path / "import.db"))
    yield opened
    opened.close()


def _history() -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads((HISTORIES / "nested.json").read_bytes())
    return loaded


@pytest.mark.parametrize("levels", DEPTHS)
def test_import_refuses_an_over_deep_value_naming_stream_and_seq(
    store: Any, levels: int
) -> None:
    history = _history()
    stream = history["streams"][1]
    seq = next(e["seq"] for e in stream["events"] if e["type"] == "state.set")
    stream["events"][seq - 1]["data"]["value"] = nest(levels)
    with pytest.raises(HistoryFormatError) as caught:
        import_history(store, history)
    message = str(caught.value)
    assert f"stream {stream['stream_id']!r} seq {seq}" in message
    assert f"nested more than {MAX_RECORD_DEPTH} lists/dicts" in message
    assert "value[0].d[0].d" in message
    assert store.head_position() == 0
    assert store.list_streams() == []


def test_import_still_takes_a_value_at_the_cap(store: Any) -> None:
    history = _history()
    stream = history["streams"][1]
    at = next(e for e in stream["events"] if e["type"] == "state.set")
    at["data"]["value"] = nest(128)
    import_history(store, copy.deepcopy(history))
    assert store.head_position() > 0
