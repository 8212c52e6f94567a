"""What opening a store does with a path that is not (or cannot be) a triggerlog log.

A missing file is created (with its schema); everything else that is not a
triggerlog database is refused with a typed error that says what the path is,
and the path is left exactly as it was: a text file is not "damaged", a
directory is not "disk full", a mistyped directory is not created, and another
application's SQLite database never gets our tables added to it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from orchestrator import TriggerFlow
from orchestrator.errors import (
    DatabasePathError,
    NotADatabaseError,
    StorageCorruptError,
    StoreError,
)
from orchestrator.store import SQLiteEventStore, open_store

MODES = pytest.mark.parametrize("read_only", [False, True], ids=["rw", "ro"])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


@MODES
def test_a_text_file_is_not_a_database_not_a_damaged_one(
    tmp_path: Path, read_only: bool
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list: milk, eggs\n" * 50)
    before = _digest(path)
    with pytest.raises(NotADatabaseError) as caught:
        SQLiteEventStore(path, read_only=read_only)
    message = str(caught.value)
    assert message.startswith(f"{path} is not a triggerlog database")
    assert "not an SQLite file" in message
    assert "shopping list" in message
    assert "damaged" not in message
    assert caught.value.path == str(path)
    assert not isinstance(caught.value, StorageCorruptError)
    assert _digest(path) == before
    assert _siblings(path) == ["notes.txt"]


def test_random_bytes_mention_a_damaged_header_too(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(NotADatabaseError, match="header is damaged"):
        SQLiteEventStore(path)


def test_a_damaged_sqlite_file_is_still_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    SQLiteEventStore(path).close()
    data = bytearray(path.read_bytes())
    data[16:18] = b"\x00\x07"  # page size 7: SQLite refuses the header
    path.write_bytes(bytes(data))
    with pytest.raises(StorageCorruptError, match="restore it from a backup"):
        SQLiteEventStore(path)


@MODES
def test_a_directory_is_refused_as_a_path(tmp_path: Path, read_only: bool) -> None:
    with pytest.raises(DatabasePathError) as caught:
        SQLiteEventStore(tmp_path, read_only=read_only)
    message = str(caught.value)
    assert "is a directory, not a database file" in message
    assert "disk" not in message
    assert "rolled back" not in message
    assert os.path.join(str(tmp_path), "triggerlog.db") in message
    assert list(tmp_path.iterdir()) == []


@MODES
def test_a_missing_directory_is_refused_not_created(
    tmp_path: Path, read_only: bool
) -> None:
    path = tmp_path / "typo" / "deeper" / "flows.db"
    with pytest.raises(DatabasePathError) as caught:
        SQLiteEventStore(path, read_only=read_only)
    message = str(caught.value)
    assert f"its directory {path.parent} does not exist" in message
    assert f"mkdir -p {path.parent}" in message
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DatabasePathError):
        open_store(f"sqlite:///{path}")
    with pytest.raises(DatabasePathError):
        TriggerFlow(name="typo", store=str(path)).store  # noqa: B018 - opens it
    assert list(tmp_path.iterdir()) == []


def test_a_file_as_the_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DatabasePathError, match="is not a directory"):
        SQLiteEventStore(tmp_path / "notes.txt" / "flows.db")


def test_a_missing_file_in_an_existing_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    SQLiteEventStore(path).close()
    assert path.exists()
    with pytest.raises(DatabasePathError, match="no such file"):
        SQLiteEventStore(tmp_path / "absent.db", read_only=True)
    assert not (tmp_path / "absent.db").exists()


def _foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("CREATE TABLE orders(id INTEGER PRIMARY KEY AUTOINCREMENT)")
    conn.execute("INSERT INTO users(name) VALUES ('ada')")
    conn.commit()
    conn.close()


@MODES
def test_another_applications_database_is_refused_and_left_alone(
    tmp_path: Path, read_only: bool
) -> None:
    path = tmp_path / "app.db"
    _foreign(path)
    before = _digest(path)
    with pytest.raises(NotADatabaseError) as caught:
        SQLiteEventStore(path, read_only=read_only)
    error = caught.value
    assert error.tables == ["orders", "users"]
    assert "another application (tables: orders, users)" in str(error)
    assert _digest(path) == before
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert tables == {"users", "orders", "sqlite_sequence"}


def test_a_foreign_meta_table_is_not_mistaken_for_ours(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta(name TEXT, size INT)")
    conn.commit()
    conn.close()
    with pytest.raises(NotADatabaseError, match=r"tables: meta"):
        SQLiteEventStore(path)


def test_an_empty_database_gets_the_schema_but_cannot_be_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(NotADatabaseError, match="empty SQLite database"):
        SQLiteEventStore(path, read_only=True)
    SQLiteEventStore(path).close()  # an empty file is where a new log goes
    store = SQLiteEventStore(path, read_only=True)
    try:
        assert store.list_streams() == []
    finally:
        store.close()
    assert isinstance(NotADatabaseError("p", "x"), StoreError)
