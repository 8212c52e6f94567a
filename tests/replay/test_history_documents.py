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
    with pytest.raises(HistoryFormatError):
        import_history(store, history)
    _nothing_written(store)


def _bad_payload(how: str) -> tuple[dict[str, Any], str]:
    history = _history()
    stream = history["streams"][0]
    event = stream["events"][0]
    if how == "not-an-object":
        event["data"] = "hello"
    elif how == "unknown-field":
        event["data"]["surprise"] = 1
    elif how == "nan":
        event["data"] = float("nan")
    elif how == "nan-inside":
        event["data"]["flow_name"] = float("nan")
    elif how == "missing-field":
        del event["data"]["flow_name"]
    return history, stream["stream_id"]


@pytest.mark.parametrize(
    ("how", "field"),
    [
        ("not-an-object", "not an object"),
        ("unknown-field", "surprise"),
        ("nan", "NaN"),
        ("nan-inside", "NaN"),
        ("missing-field", "flow_name"),
    ],
)
def test_a_hand_edited_payload_is_a_format_error_not_a_damaged_database(
    store: EventStore, how: str, field: str
) -> None:
    """Review of issue 11, finding 4: the import said "restore the file from a backup"
    (CorruptEventError's advice for a damaged log) about a bad document."""
    history, stream_id = _bad_payload(how)
    with pytest.raises(HistoryFormatError) as caught:
        import_history(store, history)
    message = str(caught.value)
    assert f"stream {stream_id!r} seq 1" in message
    assert field in message
    assert message.endswith("Nothing was imported.")
    assert "backup" not in message
    assert not isinstance(caught.value, CorruptEventError)
    _nothing_written(store)


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("position", "x", "position must be an int"),
        ("position", None, "position must be an int"),
        ("created_at", "x", "created_at must be a number"),
    ],
)
def test_a_bad_position_or_time_says_which_and_why(
    store: EventStore, key: str, value: Any, said: str
) -> None:
    """ "position": "x" reported "needs position, created_at" though both were there."""
    history = _history()
    history["streams"][0]["events"][2][key] = value
    with pytest.raises(HistoryFormatError, match=said):
        import_history(store, history)
    _nothing_written(store)


def test_the_cli_reports_a_bad_payload_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestrator.cli import main

    history, _ = _bad_payload("not-an-object")
    document = tmp_path / "bad.json"
    document.write_bytes(orjson.dumps(history))
    db = tmp_path / "imp.db"
    assert main(["import", str(document), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "HistoryFormatError" in err or "not a triggerlog.history/1 document" in err
    assert "backup" not in err
    assert "Nothing was imported" in err


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
