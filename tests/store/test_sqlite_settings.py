"""SQLite-specific behaviour: every PRAGMA read back, the schema, reopening.

The lesson of opencodelists #2344 (reliability-battery.md §2, rule 2): a setting
that is never read back may silently not apply, so each one is asserted on the
reader's and on the writer's connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import SQLModel

from orchestrator.errors import ConcurrencyError, SchemaVersionError, StoreError
from orchestrator.store import NewEvent, SQLiteEventStore, open_store
from orchestrator.store import sqlite_connection as conn_module
from orchestrator.store import sqlite_writer as writer_module
from orchestrator.store.batch import plan_unit
from orchestrator.store.schema import (
    SCHEMA_VERSION,
    EventTable,
    MetaTable,
    StreamTable,
    ddl_statements,
)
from orchestrator.store.sqlite_connection import LIB_SCHEMA_VERSION
from tests.store.contract import ev, req

SYNC_FULL, SYNC_NORMAL = 2, 1


def writer_pragma(store: SQLiteEventStore, name: str):
    store.append_blocking([req("pragma-probe", 1)])  # opens the writer connection
    conn = store._writer._conn
    assert conn is not None
    return conn.execute(f"PRAGMA {name}").fetchone()[0]


def file_digest(path: str) -> tuple[str, list[str]]:
    data = Path(path).read_bytes()  # only after every connection is closed
    leftovers = [
        suffix
        for suffix in ("-wal", "-journal")
        if os.path.exists(path + suffix) and os.path.getsize(path + suffix) > 0
    ]
    return hashlib.sha256(data).hexdigest(), leftovers


# -- PRAGMAs -----------------------------------------------------------------------------


def test_default_pragmas_on_reader_and_writer(db_path, clock) -> None:
    store = SQLiteEventStore(db_path, clock=clock)
    try:
        for read in (store.pragma, lambda name: writer_pragma(store, name)):
            assert str(read("journal_mode")).lower() == "wal"
            assert read("synchronous") == SYNC_FULL
            assert read("busy_timeout") == 10_000
            assert read("journal_size_limit") == 64 * 1024 * 1024
        writer = store._writer._conn
        assert writer is not None
        assert writer.isolation_level is None  # autocommit: explicit BEGIN IMMEDIATE
        assert store.durability == "full"
    finally:
        store.close()


def test_fast_durability_and_custom_settings(db_path, clock) -> None:
    store = SQLiteEventStore(
        db_path,
        clock=clock,
        durability="fast",
        busy_timeout_ms=7_500,
        journal_size_limit=1 << 20,
        max_page_count=5_000,
    )
    try:
        for read in (store.pragma, lambda name: writer_pragma(store, name)):
            assert read("synchronous") == SYNC_NORMAL
            assert read("busy_timeout") == 7_500
            assert read("journal_size_limit") == 1 << 20
            assert read("max_page_count") == 5_000
    finally:
        store.close()


def test_every_write_transaction_is_begin_immediate(db_path, clock) -> None:
    """Rule 1: a deferred transaction that upgrades its lock fails at once with
    SQLITE_BUSY, without waiting on busy_timeout."""
    store = SQLiteEventStore(db_path, clock=clock)
    try:
        store.append_blocking([req("s", 1)])
        writer = store._writer._conn
        assert writer is not None
        statements: list[str] = []
        writer.set_trace_callback(statements.append)
        store.append_blocking([req("s", 2), req("t", 1)])
        store.claim("s", "w1", 10)
        with pytest.raises(ConcurrencyError):
            store.append_blocking([req("s", 3, expected_seq=0)])
        writer.set_trace_callback(None)
    finally:
        store.close()
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE"] * 3
    writes = [
        i for i, s in enumerate(statements) if s.split()[0] in ("INSERT", "UPDATE")
    ]
    for i in writes:  # every write sits inside a BEGIN IMMEDIATE ... COMMIT
        before = [s for s in statements[:i] if s.startswith(("BEGIN", "COMMIT"))]
        assert before[-1] == "BEGIN IMMEDIATE"
    assert statements.count("COMMIT") == 3
    assert not [s for s in statements if "ROLLBACK" in s]


def test_every_reader_thread_gets_a_configured_connection(db_path, clock) -> None:
    store = SQLiteEventStore(db_path, clock=clock, busy_timeout_ms=6_000)
    seen: list[tuple[object, ...]] = []

    def probe() -> None:
        seen.append(
            (store.pragma("busy_timeout"), store.pragma("synchronous"), store._reader())
        )

    try:
        threads = [threading.Thread(target=probe) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [s[:2] for s in seen] == [(6_000, SYNC_FULL)] * 3
        assert len({id(s[2]) for s in seen} | {id(store._reader())}) == 4
    finally:
        store.close()


@pytest.mark.parametrize("timeout", [0, 1_000, 4_999])
def test_short_busy_timeout_is_refused(db_path, timeout: int) -> None:
    with pytest.raises(StoreError, match="busy_timeout_ms must be at least 5000"):
        SQLiteEventStore(db_path, busy_timeout_ms=timeout)
    assert not os.path.exists(db_path)


def test_unknown_durability_is_refused(db_path) -> None:
    with pytest.raises(StoreError, match="durability"):
        SQLiteEventStore(db_path, durability="paranoid")  # type: ignore[arg-type]


def test_open_store_passes_options_through(tmp_path, clock) -> None:
    path = tmp_path / "via url.db"
    store = open_store(f"sqlite:///{path}", clock=clock, durability="fast")
    try:
        assert isinstance(store, SQLiteEventStore)
        assert store.path == str(path)
        assert store.pragma("synchronous") == SYNC_NORMAL
    finally:
        store.close()
    assert open_store(":memory:").url == "memory://"
    with pytest.raises(StoreError, match="scheme"):
        open_store("ftp://x/y.db")


# -- schema ----------------------------------------------------------------------------


def test_lib_schema_version_is_pinned_to_the_sqlmodel_schema() -> None:
    assert LIB_SCHEMA_VERSION == SCHEMA_VERSION


def test_tables_are_what_sqlmodel_declares(db_path, clock) -> None:
    SQLiteEventStore(db_path, clock=clock).close()
    conn = sqlite3.connect(db_path)
    try:
        master = dict(
            conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        )
        declared = {}
        for statement in ddl_statements("sqlite"):
            name = statement.split()[2]  # CREATE TABLE x / CREATE INDEX x
            declared[name] = statement
        assert {k for k in master if k != "sqlite_sequence"} == set(declared)
        for name, statement in declared.items():
            assert master[name].strip() == statement
        for table in (MetaTable, EventTable, StreamTable):
            sa_table = SQLModel.metadata.tables[str(table.__tablename__)]
            info = conn.execute(f"PRAGMA table_info({sa_table.name})").fetchall()
            assert [row[1] for row in info] == [c.name for c in sa_table.columns]
            assert {row[1]: bool(row[3]) for row in info} == {
                c.name: not c.nullable for c in sa_table.columns
            }
            assert {row[1] for row in info if row[5]} == {
                c.name for c in sa_table.primary_key.columns
            }
        [(version,)] = conn.execute("SELECT value FROM meta WHERE key='schema_version'")
        assert version == str(SCHEMA_VERSION)
        [(ok,)] = conn.execute("PRAGMA integrity_check")
        assert ok == "ok"
    finally:
        conn.close()


def test_schema_is_created_in_one_transaction(db_path, monkeypatch) -> None:
    real = conn_module._create_schema
    created: list[int] = []

    def create_then_crash(conn: sqlite3.Connection) -> None:
        real(conn)
        created.append(
            conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table'"
            ).fetchone()[0]
        )
        raise RuntimeError("crash after the last CREATE")

    monkeypatch.setattr(conn_module, "_create_schema", create_then_crash)
    with pytest.raises(RuntimeError, match="crash after"):
        SQLiteEventStore(db_path)
    assert created
    assert created[0] >= 3
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    finally:
        conn.close()
    monkeypatch.setattr(conn_module, "_create_schema", real)
    store = SQLiteEventStore(db_path)  # a later open creates the schema normally
    try:
        store.append_blocking([req("s", 1)])
        assert len(store.read_stream("s")) == 1
    finally:
        store.close()


def _set_meta(path: str, sql: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(sql)
    finally:
        conn.close()


@pytest.mark.parametrize("read_only", [False, True])
def test_newer_schema_version_is_refused_and_nothing_written(
    db_path, clock, read_only: bool
) -> None:
    store = SQLiteEventStore(db_path, clock=clock)
    store.append_blocking([req("s", 1, 2)])
    store.close()
    _set_meta(db_path, "UPDATE meta SET value='99' WHERE key='schema_version'")
    before = file_digest(db_path)
    with pytest.raises(SchemaVersionError) as caught:
        SQLiteEventStore(db_path, clock=clock, read_only=read_only)
    error = caught.value
    assert (error.db_version, error.lib_version) == ("99", LIB_SCHEMA_VERSION)
    assert "version is 99" in str(error)
    assert f"uses version {LIB_SCHEMA_VERSION}" in str(error)
    assert "nothing was written" in str(error)
    assert file_digest(db_path) == before
    assert before[1] == []


@pytest.mark.parametrize(
    ("sql", "found"),
    [
        ("DELETE FROM meta WHERE key='schema_version'", "meta has no schema_version"),
        ("DROP TABLE meta", "tables without a meta row"),
        ("UPDATE meta SET value='0' WHERE key='schema_version'", "version is 0"),
    ],
)
def test_damaged_or_older_schema_is_refused(db_path, sql: str, found: str) -> None:
    SQLiteEventStore(db_path).close()
    _set_meta(db_path, sql)
    with pytest.raises(SchemaVersionError, match=found):
        SQLiteEventStore(db_path)


def test_read_only_open_of_a_missing_database_is_refused(tmp_path) -> None:
    with pytest.raises(StoreError):
        SQLiteEventStore(tmp_path / "absent.db", read_only=True)
    assert not (tmp_path / "absent.db").exists()


# -- reopening, several store objects, group commit -------------------------------------


def test_everything_survives_a_reopen(db_path, clock) -> None:
    store = SQLiteEventStore(db_path, clock=clock)
    store.append_blocking([req("a", 1, 2), req("b", 3)])
    store.claim("a", "w1", 60)
    log, info = store.read_all(), store.get_stream("a")
    store.close()
    again = SQLiteEventStore(db_path, clock=clock)
    try:
        assert again.read_all() == log
        assert again.get_stream("a") == info
        [result] = again.append_blocking([req("a", 4, expected_seq=2, owner="w1")])
        assert result.last_position == log[-1].position + 1
    finally:
        again.close()


def test_two_store_objects_on_one_file_stay_consistent(db_path, clock) -> None:
    """Each writer caches heads; data_version must invalidate them."""
    one = SQLiteEventStore(db_path, clock=clock)
    two = SQLiteEventStore(db_path, clock=clock)
    try:
        for i in range(6):
            store = (one, two)[i % 2]
            store.append_blocking([req("shared", i, expected_seq=i)])
            store.append_blocking([req(f"own{i % 2}", i)])
        assert [e.seq for e in one.read_stream("shared")] == list(range(1, 7))
        positions = [e.position for e in two.read_all()]
        assert positions == list(range(1, 13))
        one.claim("shared", "w1", 30)
        assert two.claim("shared", "w2", 30) is False
    finally:
        one.close()
        two.close()


async def test_concurrent_appends_share_commits(db_path, clock) -> None:
    store = SQLiteEventStore(db_path, clock=clock)
    try:
        await store.append("warm", [ev(0)])
        before = store.commits

        async def writer(k: int) -> None:
            for i in range(10):
                await store.append(f"s{k}", [ev(i)], expected_seq=i)

        await asyncio.gather(*(writer(k) for k in range(50)))
        commits = store.commits - before
        assert commits < 500 / 5, f"{commits} commits for 500 appends: no group commit"
        assert all(len(store.read_stream(f"s{k}")) == 10 for k in range(50))
    finally:
        store.close()


async def test_a_writer_bug_fails_only_its_unit(db_path, clock, monkeypatch) -> None:
    real = plan_unit

    def plan(requests, *args, **kwargs):
        if requests[0].stream_id == "boom":
            raise TypeError("a bug in planning")
        return real(requests, *args, **kwargs)

    monkeypatch.setattr(writer_module, "plan_unit", plan)
    store = SQLiteEventStore(db_path, clock=clock)
    try:
        futures = [store.submit([req(f"s{i}", i)]) for i in range(3)]
        futures.insert(1, store.submit([req("boom", 1)]))
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        assert isinstance(outcomes[1], StoreError)
        assert isinstance(outcomes[1].__cause__, TypeError)
        assert [type(o) for o in outcomes[::2]] == [list, list]
        assert isinstance(outcomes[3], list)
        await store.append("after", [ev(1)])  # the writer thread survived
        assert {s.stream_id for s in store.list_streams()} == {
            "s0",
            "s1",
            "s2",
            "after",
        }
    finally:
        store.close()


def test_close_commits_what_is_queued(db_path, clock) -> None:
    store = SQLiteEventStore(db_path, clock=clock)

    async def submit_and_close() -> list[asyncio.Future[Any]]:
        futures = [store.submit([req(f"s{i % 4}", i)]) for i in range(40)]
        store.close()
        return futures

    futures = asyncio.run(submit_and_close())
    assert len(futures) == 40
    again = SQLiteEventStore(db_path, clock=clock)
    try:
        assert len(again.read_all()) == 40
    finally:
        again.close()


def test_clock_skew_never_reorders_the_log(db_path, clock) -> None:
    """T14: order is seq/position, never created_at."""
    store = SQLiteEventStore(db_path, clock=clock)
    try:
        for t in (1000.0, 5.0, 999_999.0, 5.0):
            clock.set(t)
            store.append_blocking([req("s", int(t))])
        events = store.read_stream("s")
        assert [e.seq for e in events] == [1, 2, 3, 4]
        assert [e.created_at for e in events] == [1000.0, 5.0, 999_999.0, 5.0]
        assert [e.seq for e in store.read_all()] == [1, 2, 3, 4]
    finally:
        store.close()


def test_event_columns_are_stored_verbatim(db_path, clock) -> None:
    store = SQLiteEventStore(db_path, clock=clock)
    store.append_blocking([req("s", 1)])
    store.close()
    conn = sqlite3.connect(db_path)
    try:
        row = conn.execute(
            "SELECT stream_id, seq, type, data, typeof(data), created_at FROM events"
        ).fetchone()
    finally:
        conn.close()
    assert row == ("s", 1, "test.event", ev(1).data, "blob", clock.now())
    assert NewEvent("test.event", row[3]) == ev(1)
