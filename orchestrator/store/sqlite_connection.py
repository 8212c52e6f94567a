"""Opening SQLite connections the way the reliability battery requires.

WAL, ``synchronous=FULL`` unless the caller chose ``durability="fast"``, a busy
timeout of at least 5 s, a bounded WAL file, autocommit mode so that every write
transaction is an explicit ``BEGIN IMMEDIATE``, the schema created in one
transaction, and a refusal to run WAL on a network filesystem.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from orchestrator.errors import (
    DatabasePathError,
    NetworkFilesystemError,
    NotADatabaseError,
    SchemaVersionError,
    StorageCorruptError,
    StoreError,
)
from orchestrator.store.sqlite_errors import (
    DRIVER_ERRORS,
    is_busy,
    is_not_a_database,
    translate,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "LIB_SCHEMA_VERSION",
    "NETWORK_FILESYSTEMS",
    "ConnectionSettings",
    "filesystem_type",
    "open_connection",
    "ensure_schema",
    "read_transaction",
    "retry_busy",
]

# Kept in step with store.schema.SCHEMA_VERSION (a test pins them equal) so that
# opening an existing database never has to import SQLModel.
LIB_SCHEMA_VERSION = 1

NETWORK_FILESYSTEMS = (
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "lustre",
    "gpfs",
    "ceph",
    "glusterfs",
    "9p",
    "afs",
)

Durability = Literal["full", "fast"]


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """How every connection of one store is configured."""

    path: str
    read_only: bool = False
    durability: Durability = "full"
    busy_timeout_ms: int = 10_000
    journal_size_limit: int = 64 * 1024 * 1024
    max_page_count: int | None = None
    allow_network_fs: bool = False


def filesystem_type(path: str, mountinfo: str = "/proc/self/mountinfo") -> str | None:
    """The filesystem type holding ``path`` (Linux mountinfo), or None if unknown."""
    try:
        with open(mountinfo, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    target = os.path.realpath(os.path.dirname(os.path.abspath(path)) or ".")
    best: tuple[int, str] | None = None
    for line in lines:
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) < 5 or not right:
            continue
        mount_point = fields[4].replace("\\040", " ")
        inside = target == mount_point or target.startswith(
            mount_point.rstrip("/") + "/"
        )
        if inside and (best is None or len(mount_point) > best[0]):
            best = (len(mount_point), right.split()[0])
    return best[1] if best else None


def _check_filesystem(settings: ConnectionSettings) -> None:
    if settings.allow_network_fs:
        return
    fs = filesystem_type(settings.path)
    if fs is None:
        return
    base = fs.split(".")[0]
    if base in NETWORK_FILESYSTEMS or fs.startswith("fuse.sshfs"):
        raise NetworkFilesystemError(
            f"{settings.path}: the database is on a {fs!r} filesystem. SQLite's WAL "
            "mode does not work over a network filesystem (sqlite.org/wal.html: "
            "'All processes using a database must be on the same host computer'); "
            "put the file on a local disk, use the Postgres backend, or pass "
            "allow_network_fs=True if you know this mount is local to one host."
        )


_T = TypeVar("_T")


def retry_busy(attempt: Callable[[], _T], budget_s: float = 60.0) -> _T:
    """Run ``attempt`` again while SQLite reports the database as locked.

    ``busy_timeout`` already waits inside SQLite; this outer loop covers the
    cases where SQLite returns BUSY without calling the busy handler.
    """
    deadline = time.monotonic() + budget_s
    delay = 0.005
    while True:
        try:
            return attempt()
        except sqlite3.Error as error:
            if not is_busy(error) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


def open_connection(settings: ConnectionSettings) -> sqlite3.Connection:
    """Open one connection with every PRAGMA of the battery applied."""
    _check_path(settings)
    if not settings.read_only:
        _check_filesystem(settings)
        target, uri = settings.path, False
    else:
        target, uri = Path(settings.path).absolute().as_uri() + "?mode=ro", True
    try:
        conn = sqlite3.connect(
            target, uri=uri, isolation_level=None, check_same_thread=False, timeout=0
        )
    except DRIVER_ERRORS as error:
        raise translate(error, f"opening {settings.path}") from error
    try:
        conn.execute(f"PRAGMA busy_timeout={int(settings.busy_timeout_ms)}")
        if not settings.read_only:
            # Before WAL: switching the journal mode rewrites the file header, and
            # another application's database must be left byte for byte alone.
            retry_busy(lambda: _refuse_foreign(conn, settings))
            mode = retry_busy(
                lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone()[0],
            )
            if str(mode).lower() != "wal":
                raise StoreError(
                    f"{settings.path}: SQLite refused WAL mode (got {mode!r}); the log "
                    "needs WAL for concurrent readers. Use a regular local file."
                )
        sync = "FULL" if settings.durability == "full" else "NORMAL"
        conn.execute(f"PRAGMA synchronous={sync}")
        conn.execute(f"PRAGMA journal_size_limit={int(settings.journal_size_limit)}")
        if settings.max_page_count is not None:
            conn.execute(f"PRAGMA max_page_count={int(settings.max_page_count)}")
    except DRIVER_ERRORS as error:
        conn.close()
        if is_not_a_database(error) and not _has_sqlite_header(settings.path):
            raise NotADatabaseError(
                settings.path,
                f"it is not an SQLite file ({_first_bytes(settings.path)})",
            ) from error
        raise translate(error, f"configuring {settings.path}") from error
    except BaseException:
        conn.close()
        raise
    return conn


def _check_path(settings: ConnectionSettings) -> None:
    """Refuse a path that cannot be the database, before SQLite creates anything."""
    path = settings.path
    if os.path.isdir(path):
        raise DatabasePathError(
            path,
            "the path is a directory, not a database file",
            f"give the path of a file, e.g. {os.path.join(path, 'triggerlog.db')}",
        )
    if os.path.exists(path):
        return
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        # A mistyped path must not silently grow directories (and a new log).
        if os.path.exists(parent):
            raise DatabasePathError(
                path, f"{parent} is not a directory", "correct the path"
            )
        raise DatabasePathError(
            path,
            f"its directory {parent} does not exist",
            f"create the directory first (mkdir -p {parent}) or correct the path",
        )
    if settings.read_only:
        raise DatabasePathError(
            path,
            "no such file",
            "a read-only store opens an existing database; check the path",
        )


_SQLITE_HEADER = b"SQLite format 3\x00"


def _has_sqlite_header(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER
    except OSError:
        return False


def _first_bytes(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(24)
    except OSError as error:
        return f"it cannot be read: {error.strerror}"
    if all(32 <= byte < 127 or byte in b"\t\r\n" for byte in head):
        return f"it holds text starting {head.decode()!r}"
    return (
        f"it starts with the bytes {head[:12].hex(' ')}; if it was a triggerlog "
        "database, its header is damaged: restore it from a backup"
    )


@contextmanager
def read_transaction(
    conn: sqlite3.Connection, where: str
) -> Iterator[sqlite3.Connection]:
    """A short read transaction: one consistent snapshot, released at once."""
    try:
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")
    except DRIVER_ERRORS as error:
        raise translate(error, where) from error


def ensure_schema(conn: sqlite3.Connection, settings: ConnectionSettings) -> None:
    """Check the schema version; create the schema in one transaction if absent."""
    version = _read_version(conn, settings)
    if version is not None:
        _check_version(version, settings)
        return

    def create() -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            found = _read_version(conn, settings)
            if found is None:
                _create_schema(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if found is not None:
            _check_version(found, settings)

    try:
        retry_busy(create)
    except DRIVER_ERRORS as error:
        raise translate(error, f"creating the schema in {settings.path}") from error


def _read_version(conn: sqlite3.Connection, settings: ConnectionSettings) -> str | None:
    try:
        tables = {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "meta" not in tables:
            if "events" in tables or "streams" in tables:
                raise SchemaVersionError(
                    settings.path,
                    "none (tables without a meta row)",
                    LIB_SCHEMA_VERSION,
                )
            _refuse_foreign(conn, settings)
            return None
        row = conn.execute(
            "SELECT value FROM meta WHERE key='schema_version'"
        ).fetchone()
    except DRIVER_ERRORS as error:
        if isinstance(error, sqlite3.OperationalError) and not is_busy(error):
            # e.g. another application's own "meta" table without our columns
            _refuse_foreign(conn, settings, ours=False)
        raise translate(error, f"reading the schema of {settings.path}") from error
    if row is None:
        raise SchemaVersionError(
            settings.path, "none (meta has no schema_version)", LIB_SCHEMA_VERSION
        )
    value = row[0]
    if isinstance(value, bytes):
        try:
            value = value.decode()
        except UnicodeDecodeError:
            raise StorageCorruptError(
                f"{settings.path}: the schema_version row is not text"
            ) from None
    return str(value)


_OWN_TABLES = frozenset({"meta", "events", "streams"})


def _refuse_foreign(
    conn: sqlite3.Connection, settings: ConnectionSettings, *, ours: bool = True
) -> None:
    """Refuse a database holding another application's schema (never add ours to it).

    ``ours=False``: a table named like ours was found not to be ours. An empty
    database is where a new log goes; opened read-only it has nothing to read.
    """
    names = sorted(
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
        )
    )
    if names and (not ours or _OWN_TABLES.isdisjoint(names)):
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        raise NotADatabaseError(
            settings.path,
            "it is an SQLite database of another application "
            f"(tables: {', '.join(names[:10])}{more})",
            names,
        )
    if not names and settings.read_only:
        raise NotADatabaseError(
            settings.path, "it is an empty SQLite database (it has no tables)"
        )


def _check_version(found: str, settings: ConnectionSettings) -> None:
    if found != str(LIB_SCHEMA_VERSION):
        raise SchemaVersionError(settings.path, found, LIB_SCHEMA_VERSION)


def _create_schema(conn: sqlite3.Connection) -> None:
    # lazy: schema.py loads sqlalchemy/sqlmodel, needed only to create a database
    from orchestrator.store.schema import SCHEMA_VERSION, ddl_statements

    for statement in ddl_statements("sqlite"):
        conn.execute(statement)
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('created_by', ?)", ("triggerlog",)
    )
