"""Storage failures, translated from the backend's own errors."""

from __future__ import annotations

from orchestrator.errors.base import OrchestratorError

__all__ = [
    "ConcurrencyError",
    "CorruptEventError",
    "DatabasePathError",
    "LeaseLostError",
    "NetworkFilesystemError",
    "NotADatabaseError",
    "PayloadTooLargeError",
    "ReadOnlyStoreError",
    "SchemaVersionError",
    "StorageCorruptError",
    "StorageFullError",
    "StorageIOError",
    "StoreBusyError",
    "StoreError",
]


class StoreError(OrchestratorError):
    """A storage failure, translated from the backend's own error."""


class ConcurrencyError(StoreError):
    """The stream's head is not where the writer expected it."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id!r}: expected head seq {expected} but found {actual}; "
            "another writer appended first. Re-read the stream (e.g. "
            "flow.get_execution(id)) and retry on the new head."
        )


class LeaseLostError(ConcurrencyError):
    """Another process took over the execution's lease: this writer is fenced."""

    def __init__(self, stream_id: str, owner: str, holder: str | None) -> None:
        self.owner = owner
        self.holder = holder
        StoreError.__init__(
            self,
            f"stream {stream_id!r}: this process ({owner}) no longer holds the "
            f"execution lease (held by {holder or 'nobody'}); its appends are "
            "refused so the execution is never run twice. Drop this handle and "
            "let the lease holder continue, or recover it with flow.get_execution(id).",
        )
        self.stream_id = stream_id
        self.expected = -1
        self.actual = -1


class SchemaVersionError(StoreError):
    """The database was created by a build with another schema version."""

    def __init__(self, path: str, db_version: int | str, lib_version: int) -> None:
        self.path = path
        self.db_version = db_version
        self.lib_version = lib_version
        super().__init__(
            f"{path}: database schema version is {db_version} but this build of "
            f"triggerlog uses version {lib_version}. Open it with the triggerlog "
            "release that wrote it, or migrate it; nothing was written."
        )


class StorageFullError(StoreError):
    """The disk (or the configured page limit) is full; the batch was rolled back."""


class StorageIOError(StoreError):
    """The OS refused a write (file size limit, I/O fault); the batch was rolled back."""


class ReadOnlyStoreError(StoreError):
    """A write was attempted on a store opened read-only."""


class PayloadTooLargeError(StoreError):
    """One event's payload is above the configured cap."""

    def __init__(self, stream_id: str, event_type: str, size: int, limit: int) -> None:
        self.stream_id = stream_id
        self.event_type = event_type
        self.size = size
        self.limit = limit
        super().__init__(
            f"stream {stream_id!r}: {event_type} event is {size} bytes, above the "
            f"{limit}-byte limit; nothing was written. Keep large blobs outside the "
            "log (a file or object store) and record a reference, or raise "
            "max_event_bytes."
        )


class StoreBusyError(StoreError):
    """The database stayed locked by other processes beyond the retry budget."""


class NetworkFilesystemError(StoreError):
    """SQLite WAL does not work over a network filesystem."""


class DatabasePathError(StoreError):
    """The path cannot hold a database file: a directory, or no such directory."""

    def __init__(self, path: str, problem: str, hint: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}; {hint}. Nothing was created.")


class NotADatabaseError(StoreError):
    """The file is not a triggerlog database: not SQLite, or another application's."""

    def __init__(self, path: str, found: str, tables: list[str] | None = None) -> None:
        self.path = path
        self.found = found
        self.tables = tables or []
        super().__init__(
            f"{path} is not a triggerlog database: {found}. Point the store (--db, "
            "TRIGGERLOG_DB, store=) at a triggerlog database, or at a new file to "
            "create one; the file was left unchanged."
        )


class StorageCorruptError(StoreError):
    """The database file is damaged."""


class CorruptEventError(StorageCorruptError):
    """One stored event fails its checksum, decoding or position in the stream."""

    def __init__(self, stream_id: str, seq: int, reason: str) -> None:
        self.stream_id = stream_id
        self.seq = seq
        self.reason = reason
        super().__init__(
            f"stream {stream_id!r} seq {seq}: corrupt event ({reason}). The log "
            "cannot be replayed past this point; restore the file from a backup."
        )
