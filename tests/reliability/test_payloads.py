"""T11, T12: non-JSON values and oversized payloads never reach the log.

Non-JSON values are refused by ``to_json_value`` (with the path of the bad part)
before an event exists; oversized events are refused by the store before they
are queued, so the writer thread never sees them.
"""

from __future__ import annotations

import math

import pytest

from orchestrator.errors import PayloadError, PayloadTooLargeError
from orchestrator.events import StateSet, encode, to_json_value
from orchestrator.store import (
    AppendRequest,
    InMemoryEventStore,
    NewEvent,
    PayloadSizeWarning,
    SQLiteEventStore,
)


@pytest.fixture(params=["sqlite", "memory"])
def small_store(request, db_path, clock):
    store: SQLiteEventStore | InMemoryEventStore
    if request.param == "sqlite":
        store = SQLiteEventStore(
            db_path, clock=clock, max_event_bytes=1000, warn_event_bytes=500
        )
    else:
        store = InMemoryEventStore(
            clock=clock, max_event_bytes=1000, warn_event_bytes=500
        )
    yield store
    store.close()


def _writer_untouched(store) -> bool:
    writer = getattr(store, "_writer", None)
    return writer is None or (writer._thread is None and store.commits == 0)


def test_oversized_event_is_refused_before_queueing(small_store) -> None:
    with pytest.raises(PayloadTooLargeError) as caught:
        small_store.append_blocking(
            [
                AppendRequest("ok", [NewEvent("t.x", b"1")]),
                AppendRequest("s", [NewEvent("t.big", b"x" * 1001)]),
            ]
        )
    assert (caught.value.size, caught.value.limit) == (1001, 1000)
    assert "nothing was written" in str(caught.value)
    assert _writer_untouched(small_store)
    assert small_store.read_all() == []
    assert small_store.list_streams() == []


async def test_oversized_event_is_refused_in_submit(small_store) -> None:
    with pytest.raises(PayloadTooLargeError):
        small_store.submit([AppendRequest("s", [NewEvent("t.big", b"x" * 5000)])])
    with pytest.raises(PayloadTooLargeError):
        await small_store.append("s", [NewEvent("t.big", b"x" * 1001)])
    assert _writer_untouched(small_store)
    assert small_store.read_all() == []


def test_large_event_warns_and_is_written(small_store) -> None:
    with pytest.warns(PayloadSizeWarning, match="501 bytes"):
        small_store.append_blocking(
            [AppendRequest("s", [NewEvent("t.warn", b"x" * 501)])]
        )
    small_store.append_blocking([AppendRequest("s", [NewEvent("t.ok", b"x" * 500)])])
    assert [len(e.data) for e in small_store.read_stream("s")] == [501, 500]


@pytest.mark.parametrize(
    ("value", "path", "found"),
    [
        ({"a": [1, math.nan]}, "$.a[1]", "nan"),
        ({"a": {"b": math.inf}}, "$.a.b", "inf"),
        ([-math.inf], "$[0]", "-inf"),
        ({"tags": {1, 2}}, "$.tags", "set"),
        ({"blob": b"\x00"}, "$.blob", "bytes"),
        ({"x": [{"y": object()}]}, "$.x[0].y", "object"),
        ({1: "one"}, "$[1]", "key of type int"),
        ({"k": {None: 1}}, "$.k[None]", "key of type NoneType"),
    ],
)
def test_non_json_values_are_refused_with_their_path(
    db_path, clock, value, path, found
) -> None:
    store = SQLiteEventStore(db_path, clock=clock)
    try:
        with pytest.raises(PayloadError) as caught:
            store.append_blocking(
                [
                    AppendRequest(
                        "s",
                        [
                            NewEvent(
                                *encode(
                                    StateSet(
                                        key="k", value=to_json_value(value, "state.set")
                                    )
                                )
                            )
                        ],
                    )
                ]
            )
        error = caught.value
        assert isinstance(error, TypeError)
        assert error.path == path
        assert found in error.found
        assert f"value at {path}" in str(error)
        assert "Nothing was written" in str(error)
        assert store.read_all() == []
        assert store.commits == 0
    finally:
        store.close()


def test_encode_refuses_what_slipped_past_to_json_value() -> None:
    with pytest.raises(PayloadError, match="not encodable"):
        encode(StateSet(key="k", value={"s": {1, 2}}))  # type: ignore[dict-item]
    # orjson stores 64-bit integers only; a bigger one is refused, not truncated
    with pytest.raises(PayloadError):
        encode(StateSet(key="k", value=to_json_value(2**64)))
    assert encode(StateSet(key="k", value=to_json_value(2**63 - 1)))[1]
