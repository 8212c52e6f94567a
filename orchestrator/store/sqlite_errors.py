"""The one place where sqlite3 errors become typed store errors."""

from __future__ import annotations

import sqlite3

from orchestrator.errors import (
    ReadOnlyStoreError,
    StorageCorruptError,
    StorageFullError,
    StorageIOError,
    StoreBusyError,
    StoreError,
)

__all__ = ["DRIVER_ERRORS", "is_busy", "is_not_a_database", "translate"]

# What a driver call may raise. Python's sqlite3 raises a bare UnicodeDecodeError
# when SQLite's own error message quotes damaged text (e.g. a flipped bit in the
# schema), so it is translated like a driver error.
DRIVER_ERRORS = (sqlite3.Error, UnicodeDecodeError)

_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26


def _primary_code(error: sqlite3.Error) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_busy(error: BaseException) -> bool:
    """True for "database is locked" style errors that a retry can cure."""
    if not isinstance(error, sqlite3.Error):
        return False
    return _primary_code(error) in (_SQLITE_BUSY, _SQLITE_LOCKED)


def is_not_a_database(error: BaseException) -> bool:
    """True for SQLITE_NOTADB: the file does not read as an SQLite database."""
    return isinstance(error, sqlite3.Error) and _primary_code(error) == _SQLITE_NOTADB


def translate(error: sqlite3.Error | UnicodeDecodeError, where: str) -> StoreError:
    """Map a driver error to the typed tree, keeping the original message."""
    if isinstance(error, UnicodeDecodeError):
        return StorageCorruptError(
            f"{where}: the database holds text that is not UTF-8 ({error}). The "
            "file is damaged; restore it from a backup."
        )
    code = _primary_code(error)
    text = f"{where}: {error}"
    if code == _SQLITE_FULL:
        return StorageFullError(
            f"{text}. The batch was rolled back and nothing of it was written; "
            "free disk space (or raise max_page_count) and retry."
        )
    if code == _SQLITE_IOERR:
        return StorageIOError(
            f"{text}. The write failed at the OS level (disk full, file size "
            "limit or I/O fault); the batch was rolled back. Check the disk and retry."
        )
    if code == _SQLITE_READONLY:
        return ReadOnlyStoreError(
            f"{text}. The database cannot be written (read-only file, directory "
            "or mode=ro open); nothing was written."
        )
    if code == _SQLITE_CORRUPT:
        return StorageCorruptError(
            f"{text}. The database file is damaged; restore it from a backup "
            "(take backups with Connection.backup or VACUUM INTO)."
        )
    if code == _SQLITE_NOTADB:
        # Opening a store tells a file that is not SQLite at all apart (see
        # sqlite_connection); here the file's header was readable before.
        return StorageCorruptError(
            f"{text}. The file no longer reads as an SQLite database: its header "
            "is damaged or the file was replaced; restore it from a backup."
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return StoreBusyError(
            f"{text}. Other processes kept the database locked beyond the retry "
            "budget; check for a stuck writer or raise busy_timeout."
        )
    if code == _SQLITE_CANTOPEN:
        return StoreError(
            f"{text}. SQLite cannot open the file: check that its directory exists "
            "and that this user may read (and, to write, create files in) it."
        )
    if isinstance(error, sqlite3.DataError):
        return StoreError(
            f"{text}. A value exceeds an SQLite limit; nothing was written."
        )
    return StoreError(text)
