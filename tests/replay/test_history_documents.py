"""export_history / import_history: round trips, and bad documents write nothing."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

from orchestrator import (
    ConcurrencyError,
    CorruptEventError,
    ExecutionNotFoundError,
    HistoryFormatError,
    SQLiteEventStore,
    UnknownEventTypeError,
)
from orchestrator.store.base import EventStore
from orchestrator.testing import export_history, import_history
from tests.replay.make_histories import HISTORIES


def _history() -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads((HISTORIES / "nested.json").read_bytes())
    return loaded


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = SQLiteEventStore(str(tmp_path / "import.db"))
    yield opened
    opened.close()


def _nothing_written(store: EventStore) -> None:
    assert store.head_position() == 0
    assert store.list_streams() == []


def _spoil(history: dict[str, Any], how: str) -> dict[str, Any]:
    spoiled = copy.deepcopy(history)
    last = spoiled["streams"][0]["events"]
    if how == "format":
        spoiled["format"] = "something/else"
    elif how == "gap":
        del last[1]
    elif how == "no-type":
        del last[-1]["type"]
    elif how == "position":
        last[-1]["position"] = "late"
    elif how == "streams":
        spoiled["streams"] = {"not": "a list"}
    return spoiled


@pytest.mark.parametrize("how", ["format", "gap", "no-type", "position", "streams"])
def test_a_malformed_document_is_refused_before_anything_is_written(
    store: EventStore, how: str
) -> None:
    with pytest.raises(HistoryFormatError) as caught:
        import_history(store, _spoil(_history(), how))
    assert "triggerlog.history/1" in str(caught.value)
    _nothing_written(store)


def test_an_event_this_build_cannot_read_is_refused_naming_stream_and_seq(
    store: EventStore,
) -> None:
    history = _history()
    last_stream = history["streams"][-1]
    last_stream["events"][-1]["type"] = "from.the_future"
    with pytest.raises(UnknownEventTypeError) as caught:
        import_history(store, history)
    assert caught.value.stream_id == last_stream["stream_id"]
    assert caught.value.seq == len(last_stream["events"])
    _nothing_written(store)
    history = _history()
    history["streams"][0]["events"][0]["data"] = ["not", "an", "object"]
    with pytest.raises(CorruptEventError):
        import_history(store, history)
    _nothing_written(store)


def test_importing_over_an_existing_stream_writes_nothing(store: EventStore) -> None:
    history = _history()
    import_history(store, history)
    head = store.head_position()
    with pytest.raises(ConcurrencyError):
        import_history(store, history)
    assert store.head_position() == head


def test_a_cut_before_the_execution_exists_is_refused(store: EventStore) -> None:
    history = _history()
    first = history["streams"][0]["events"][0]["position"]
    with pytest.raises(HistoryFormatError, match="cut it later"):
        import_history(store, history, up_to_position=first - 1)
    _nothing_written(store)


def test_export_names_a_missing_execution(store: EventStore) -> None:
    with pytest.raises(ExecutionNotFoundError):
        export_history(store, "no-such-execution")


def test_the_index_rows_of_an_import_match_the_histories_streams(
    store: EventStore,
) -> None:
    history = _history()
    execution_id = import_history(store, history)
    parent = store.get_stream(execution_id)
    assert parent is not None
    assert parent.kind == "execution"
    assert parent.status == history["expected"]["status"]
    [child] = store.list_streams(kind="child")
    assert child.parent_id == execution_id
    assert child.flow_name == "golden_child"
    # JSON all the way: the export is what orjson writes and reads back.
    again = export_history(store, execution_id)
    assert orjson.loads(orjson.dumps(again)) == again
