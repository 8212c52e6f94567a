"""T13: hostile stream ids, names and keys are stored and read back verbatim.

Only ``?`` parameters reach SQL and ids never become file paths, so quotes, SQL,
NUL, long non-ASCII text and path traversal are just text.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.store import (
    AppendRequest,
    InMemoryEventStore,
    NewEvent,
    SQLiteEventStore,
    StreamMeta,
)
from tests.reliability.helpers import integrity, query

HOSTILE = [
    "it's",
    'say "hi"',
    "x'); DROP TABLE events;--",
    '"; DELETE FROM streams; --',
    "\x00",
    "a\x00b",
    "ü" * 300,
    "../../etc/passwd",
    "..\\..\\windows",
    "%s %d ? :name $1",
    "line\nbreak\ttab\r",
    "\u202eevil\u202c",
    "🚀" * 10,
    " ",
    "x" * 5000,
]


def make_store(kind: str, path: str, clock):
    if kind == "sqlite":
        return SQLiteEventStore(path, clock=clock)
    return InMemoryEventStore(clock=clock)


def roundtrip(store, sid: str, text: str, parent: str) -> None:
    meta = StreamMeta(kind=text, flow_name=text, parent_id=parent, status=text)
    events = [NewEvent(f"t.{text}", text.encode()), NewEvent("t.x", b'{"k": 1}')]
    [result] = store.append_blocking([AppendRequest(sid, events, 0, meta)])
    assert (result.stream_id, result.last_seq) == (sid, 2)
    stored = store.read_stream(sid)
    assert [(e.stream_id, e.type, e.data) for e in stored] == [
        (sid, f"t.{text}", text.encode()),
        (sid, "t.x", b'{"k": 1}'),
    ]
    info = store.get_stream(sid)
    assert info is not None
    assert (info.stream_id, info.kind, info.flow_name, info.parent_id, info.status) == (
        sid,
        text,
        text,
        parent,
        text,
    )
    assert [s.stream_id for s in store.list_streams(flow_name=text)] == [sid]
    assert [s.stream_id for s in store.list_streams(parent_id=parent)] == [sid]
    assert [s.stream_id for s in store.list_streams(kind=text, status=[text])] == [sid]
    assert [s.stream_id for s in store.list_streams(status=text)] == [sid]
    assert store.claim(sid, text, 10) is True
    assert store.get_stream(sid).owner == text
    store.append_blocking([AppendRequest(sid, [NewEvent("t.y", b"1")], 2, owner=text)])
    store.release(sid, text)
    assert [e.stream_id for e in store.read_all(stored[-1].position - 2)][-3:] == [
        sid
    ] * 3


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_hostile_ids_are_stored_verbatim(tmp_path, clock, kind: str) -> None:
    db = str(tmp_path / "log.db")
    store = make_store(kind, db, clock)
    try:
        for n, text in enumerate(HOSTILE):
            roundtrip(store, text, text, f"parent-{n}")
            roundtrip(store, f"{text}#{n}", f"k{n}", text)
        listed = {s.stream_id for s in store.list_streams()}
        assert listed == set(HOSTILE) | {f"{t}#{n}" for n, t in enumerate(HOSTILE)}
    finally:
        store.close()
    if kind == "sqlite":
        assert sorted(os.listdir(tmp_path)) in (
            ["log.db"],
            ["log.db", "log.db-shm", "log.db-wal"],
        )
        assert integrity(db) == "ok"
        names = {
            r[0] for r in query(db, "SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert {"events", "streams", "meta"} <= names
        assert query(db, "SELECT count(*) FROM events") == [(6 * len(HOSTILE),)]


texts = st.text(min_size=1, max_size=60)


@given(sid=texts, name=texts, parent=texts)
def test_any_text_round_trips(
    tmp_path_factory, clock, sid: str, name: str, parent: str
) -> None:
    db = str(tmp_path_factory.mktemp("hyp") / "log.db")
    sqlite, memory = SQLiteEventStore(db, clock=clock), InMemoryEventStore(clock=clock)
    try:
        for store in (sqlite, memory):
            roundtrip(store, sid, name, parent)
        assert sqlite.read_all() == memory.read_all()
        assert sqlite.list_streams() == memory.list_streams()
    finally:
        sqlite.close()
        memory.close()
