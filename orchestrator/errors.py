"""Every error the library raises, rooted in :class:`OrchestratorError`.

The tree::

    OrchestratorError
    ├── FlowDefinitionError (ValueError)   bad wiring, unregistered handler, bad path
    ├── ExecutionIdError (ValueError)      an execution id outside the allowed form
    ├── SnapshotContractError (ValueError) save()/load() contract: kind, version, ...
    │   └── DefinitionMismatchError        stored fingerprint != current definition
    ├── LifecycleError (RuntimeError)      refused in the sealed/closed lifecycle
    │   ├── ExecutionCancelledError        the execution was cancelled
    │   ├── ExecutionStoppedError          a chunk raised KeyboardInterrupt/SystemExit
    │   ├── ExecutionHeldElsewhereError    another live process holds the lease
    │   ├── ExecutionLoopClosedError       the handle's event loop has closed
    │   └── ExecutionClosedError           continue_with on a closed execution (*)
    ├── ChunkError                         a chunk raised; carries the recorded error
    ├── ChunkTimeoutError (TimeoutError)   a chunk attempt ran past its timeout
    ├── InterruptError
    │   ├── InterruptNotWaitingError (ValueError)
    │   │   └── ExecutionClosedError (*)   also a LifecycleError
    │   ├── ResumeConflictError (ValueError)
    │   ├── ResumeValueError (ValueError)  the value does not match the schema
    │   ├── PauseNotAllowedError (RuntimeError)
    │   ├── PauseNotReturnedError          a chunk paused but returned something else
    │   └── ResumeLimitError (RuntimeError) a self-resumed chunk paused past max_resumes
    ├── MissingResourceError (KeyError)    a runtime resource was not injected
    ├── PayloadError (TypeError)           a value that is not JSON
    ├── StoreError                         storage failures, translated at the backend
    │   ├── ConcurrencyError               expected seq != head of the stream
    │   │   └── LeaseLostError             another process owns the execution
    │   ├── SchemaVersionError             database schema != this build's
    │   ├── StorageFullError               disk or page limit reached
    │   ├── StorageIOError                 the OS refused a read or write
    │   ├── ReadOnlyStoreError             write attempted on a read-only store
    │   ├── PayloadTooLargeError           one event above the size cap
    │   ├── StoreBusyError                 the lock could not be taken in time
    │   ├── NetworkFilesystemError         WAL refused on a network filesystem
    │   ├── DatabasePathError              a directory, or a missing parent directory
    │   ├── NotADatabaseError              not SQLite, or another application's database
    │   └── StorageCorruptError            the file is damaged
    │       └── CorruptEventError          one row fails its checksum or decoding
    ├── ReplayError
    │   ├── HistoryFormatError (ValueError) an exported history is malformed
    │   ├── UnknownEventTypeError          a type name this build does not know
    │   └── NondeterminismError            re-execution diverged from the log
    └── ExecutionNotFoundError (KeyError)

Every message names the ids involved, what was expected, what was found and what
to do; the same values are kept as attributes. Where Agently's TriggerFlow raised
a builtin (``ValueError``, ``KeyError``, ``RuntimeError``), our class inherits it so
that code written for the original keeps catching it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ChunkError",
    "ChunkTimeoutError",
    "ConcurrencyError",
    "CorruptEventError",
    "DatabasePathError",
    "DefinitionMismatchError",
    "ExecutionCancelledError",
    "ExecutionClosedError",
    "ExecutionHeldElsewhereError",
    "ExecutionIdError",
    "ExecutionLoopClosedError",
    "ExecutionNotFoundError",
    "ExecutionStoppedError",
    "FlowDefinitionError",
    "HistoryFormatError",
    "InterruptError",
    "InterruptNotWaitingError",
    "LeaseLostError",
    "LifecycleError",
    "MissingResourceError",
    "NetworkFilesystemError",
    "NondeterminismError",
    "NotADatabaseError",
    "OrchestratorError",
    "PauseNotAllowedError",
    "PauseNotReturnedError",
    "PayloadError",
    "PayloadTooLargeError",
    "ReadOnlyStoreError",
    "ReplayError",
    "ResumeConflictError",
    "ResumeLimitError",
    "ResumeValueError",
    "SchemaVersionError",
    "SnapshotContractError",
    "StorageCorruptError",
    "StorageFullError",
    "StorageIOError",
    "StoreBusyError",
    "StoreError",
    "UnknownEventTypeError",
]


def _utc(timestamp: float) -> str:
    """A log timestamp as an ISO-8601 UTC instant (for messages)."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


class OrchestratorError(Exception):
    """Root of every error raised by triggerlog."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        # KeyError subclasses would otherwise repr() the message.
        return self.message


class FlowDefinitionError(OrchestratorError, ValueError):
    """The flow definition is invalid: raised while wiring, never while running."""


class ExecutionIdError(OrchestratorError, ValueError):
    """An execution id that could collide with another stream namespace, or is not text."""

    def __init__(self, execution_id: object, reason: str) -> None:
        self.execution_id = execution_id
        self.reason = reason
        super().__init__(
            f"execution id {execution_id!r} is refused: {reason}. Use 1-128 ASCII "
            "letters, digits, '-', '_' or '.', starting with a letter or digit "
            "(or pass no id for a random one); nothing was written."
        )


class SnapshotContractError(OrchestratorError, ValueError):
    """A saved execution does not satisfy the load contract."""


class DefinitionMismatchError(SnapshotContractError):
    """The stored execution was created by a different flow definition."""

    def __init__(
        self,
        execution_id: str,
        recorded: str,
        current: str,
        first_difference: str,
    ) -> None:
        self.execution_id = execution_id
        self.recorded = recorded
        self.current = current
        self.first_difference = first_difference
        super().__init__(
            f"execution {execution_id!r}: flow definition fingerprint mismatch: the log "
            f"recorded {recorded} but this flow is {current} (first difference: "
            f"{first_difference}). Let old executions finish on the old code, or pass "
            "allow_definition_change=True to continue on the new definition (recorded)."
        )


class LifecycleError(OrchestratorError, RuntimeError):
    """The operation is not allowed in the execution's lifecycle state."""


class ExecutionCancelledError(LifecycleError):
    """The execution was cancelled; further work on it is refused."""


class ExecutionStoppedError(LifecycleError):
    """A chunk raised KeyboardInterrupt or SystemExit: this process stopped running it.

    Not a chunk failure: nothing is recorded after it, the run stays pending in the
    log (``durable_events`` is None) and a rebuild runs the chunk again.
    """

    def __init__(
        self,
        execution_id: str,
        chunk: str,
        run_id: str,
        raised: str,
        *,
        durable_events: int | None = None,
    ) -> None:
        self.execution_id, self.chunk, self.run_id = execution_id, chunk, run_id
        self.raised, self.durable_events = raised, durable_events
        tail = (
            "The store is fine and the log intact: nothing was recorded after it, "
            "and that run is still pending there. To continue, rebuild the execution "
            f"from the log with flow.get_execution({execution_id!r}) or "
            "flow.recover(): the chunk runs again."
            if durable_events is None
            else "The store refused what it had recorded, so nothing of the execution "
            "was recorded and there is no log to rebuild: create and start it again."
            if durable_events == 0
            else f"The store holds only its first {durable_events} events (a write "
            "failed), so that run may not be pending there: rebuild it with "
            f"flow.get_execution({execution_id!r}) to see where it stands."
        )
        super().__init__(
            f"execution {execution_id!r} stopped in this process: chunk {chunk!r} "
            f"(run {run_id}) raised {raised}, which stops the program instead of "
            f"failing the chunk. {tail}"
        )


class ExecutionLoopClosedError(LifecycleError):
    """The event loop the handle ran on has closed (its ``asyncio.run`` returned)."""

    def __init__(self, execution_id: str, action: str) -> None:
        self.execution_id, self.action = execution_id, action
        super().__init__(
            f"cannot {action} execution {execution_id!r}: the event loop it ran on is "
            "closed (its asyncio.run() returned), its tasks with it. Use it inside "
            "that loop (await execution.async_close()), or get a fresh handle rebuilt "
            f"from the log with flow.get_execution({execution_id!r}) where you are now."
        )


class ExecutionHeldElsewhereError(LifecycleError):
    """Another live process runs the execution (holds its lease): this one may not."""

    def __init__(
        self,
        execution_id: str,
        action: str,
        holder: str,
        lease_until: float | None,
        last_write: float,
    ) -> None:
        self.execution_id = execution_id
        self.holder = holder
        self.lease_until = lease_until
        self.last_write = last_write
        host, _, rest = holder.partition("|")
        pid = rest.partition("|")[0]
        until = _utc(lease_until) if lease_until is not None else "unknown"
        super().__init__(
            f"execution {execution_id!r}: cannot {action} it here: another live "
            f"process runs it (pid {pid} on host {host!r}, owner {holder!r}; the "
            f"execution's last write was at {_utc(last_write)}; the lease, renewed "
            f"while that process works, runs until {until}). Nothing was written. Wait for "
            "that process to finish it (close() then returns the close snapshot), "
            "or close or cancel it in that process; if that process dies, "
            "flow.recover() takes the execution over."
        )


class ChunkError(OrchestratorError):
    """A chunk raised; the error was recorded in the log and failed the execution."""

    def __init__(
        self,
        execution_id: str,
        chunk: str,
        error_type: str,
        error_message: str,
        seq: int | None = None,
    ) -> None:
        self.execution_id = execution_id
        self.chunk = chunk
        self.error_type = error_type
        self.error_message = error_message
        self.seq = seq
        where = f" (seq {seq})" if seq is not None else ""
        super().__init__(
            f"execution {execution_id!r}: chunk {chunk!r} raised "
            f"{error_type}: {error_message}{where}"
        )


class ChunkTimeoutError(OrchestratorError, TimeoutError):
    """A chunk attempt ran longer than its ``timeout=``."""

    def __init__(
        self, execution_id: str, chunk: str, timeout: float, attempt: int
    ) -> None:
        self.execution_id = execution_id
        self.chunk = chunk
        self.timeout = timeout
        self.attempt = attempt
        super().__init__(
            f"execution {execution_id!r}: chunk {chunk!r} attempt {attempt} did not "
            f"finish within its {timeout}s timeout and was cancelled; raise timeout= "
            "or give it a retry= policy"
        )


class InterruptError(OrchestratorError):
    """Base class of interrupt (pause_for / continue_with) errors."""


class InterruptNotWaitingError(InterruptError, ValueError):
    """continue_with on an interrupt that is not waiting."""


class ExecutionClosedError(LifecycleError, InterruptNotWaitingError):
    """``continue_with`` on a closed execution: nothing of it waits any more.

    Both a LifecycleError (the lifecycle refused it) and an
    InterruptNotWaitingError, so that code handling a lost resume race keeps
    working when the winner also closed the execution.
    """

    def __init__(
        self, execution_id: str, status: str, action: str, detail: str = ""
    ) -> None:
        self.execution_id = execution_id
        self.status = status
        self.action = action
        self.detail = detail
        why = f" ({detail})" if detail else ""
        super().__init__(
            f"execution {execution_id!r} is closed (status {status!r}); {action} was "
            f"refused and nothing was written{why}. A closed execution's interrupts "
            "can no longer be resumed: start a new execution instead."
        )


class ResumeConflictError(InterruptError, ValueError):
    """The same resume_request_id was used with a different value."""


class ResumeValueError(InterruptError, ValueError):
    """A resume value does not match the interrupt's response_payload_schema."""


class PauseNotAllowedError(InterruptError, RuntimeError):
    """pause_for was called where nobody holds a handle to resume it."""


class PauseNotReturnedError(InterruptError):
    """A chunk called pause_for but returned something other than its pause signal."""

    def __init__(
        self,
        execution_id: str,
        chunk: str,
        interrupt_ids: list[str],
        returned: str,
    ) -> None:
        self.execution_id = execution_id
        self.chunk = chunk
        self.interrupt_ids = interrupt_ids
        self.returned = returned
        super().__init__(
            f"execution {execution_id!r}: chunk {chunk!r} called pause_for (interrupt "
            f"{', '.join(map(repr, interrupt_ids))}) but returned {returned} instead of "
            "the pause signal, so its branch could neither wait nor continue. Return "
            "the result: `return await data.async_pause_for(...)` (in a sync handler "
            "`return data.pause_for(...)`). The interrupt was cancelled and this "
            "chunk run failed."
        )


class ResumeLimitError(InterruptError, RuntimeError):
    """A chunk resumed ``max_resumes`` times by ``resume_to="self"`` tried to pause again."""

    def __init__(
        self, execution_id: str, interrupt_id: str, resume_count: int, max_resumes: int
    ) -> None:
        self.execution_id = execution_id
        self.interrupt_id = interrupt_id
        self.resume_count = resume_count
        self.max_resumes = max_resumes
        super().__init__(
            f"execution {execution_id!r}: self resume limit reached for interrupt "
            f"{interrupt_id!r}: its branch was resumed {resume_count} time(s) "
            f"(max_resumes={max_resumes}), so it may not pause again. Pass a larger "
            "max_resumes (or None for no limit) to pause_for, or resume to 'next'."
        )


class MissingResourceError(OrchestratorError, KeyError):
    """A runtime resource the execution needs was not injected."""

    def __init__(
        self, execution_id: str, missing: list[str], available: list[str]
    ) -> None:
        self.execution_id = execution_id
        self.missing = missing
        self.available = available
        names = ", ".join(repr(m) for m in missing)
        super().__init__(
            f"Execution {execution_id!r} missing required runtime resource {names}. "
            f"Available resources: {sorted(available)!r}. Inject it with "
            "create_execution(runtime_resources={...}) or flow.update_runtime_resources()."
        )


class PayloadError(OrchestratorError, TypeError):
    """A value is not JSON (NaN, a set, bytes, an arbitrary object, a non-str key)."""

    def __init__(
        self,
        where: str,
        path: str,
        found: str,
        hint: str,
        *,
        problem: str = "not a JSON value",
    ) -> None:
        self.where = where
        self.path = path
        self.found = found
        super().__init__(
            f"{where}: value at {path} is {found}, which is {problem}; {hint}. "
            "Nothing was written."
        )


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


class ReplayError(OrchestratorError):
    """The log cannot be folded by this build."""


class HistoryFormatError(ReplayError, ValueError):
    """An execution history document (export_history / triggerlog export) is malformed."""


class UnknownEventTypeError(ReplayError):
    """A stored event's type name is not registered in this build."""

    def __init__(self, stream_id: str, seq: int, type_name: str) -> None:
        self.stream_id = stream_id
        self.seq = seq
        self.type_name = type_name
        super().__init__(
            f"stream {stream_id!r} seq {seq}: unknown event type {type_name!r}; it "
            "was written by a newer triggerlog. Upgrade this process to read it."
        )


class NondeterminismError(ReplayError):
    """Re-executing a chunk run produced a different operation than the log recorded."""

    def __init__(
        self,
        execution_id: str,
        chunk: str,
        index: int,
        recorded: Any,
        attempted: Any,
        seq: int | None = None,
    ) -> None:
        self.execution_id = execution_id
        self.chunk = chunk
        self.index = index
        self.recorded = recorded
        self.attempted = attempted
        self.seq = seq
        at = f" seq {seq}" if seq is not None else ""
        super().__init__(
            f"execution {execution_id!r}{at}: chunk {chunk!r} operation #{index}: the "
            f"log recorded {recorded!r} but the re-run attempted {attempted!r}. The "
            "chunk is not deterministic in what it writes or emits (read time, "
            "randomness and I/O through data.step), or its code changed under a "
            "live execution."
        )


class ExecutionNotFoundError(OrchestratorError, KeyError):
    """No execution with this id exists in the store."""

    def __init__(self, execution_id: str, where: str) -> None:
        self.execution_id = execution_id
        super().__init__(
            f"no execution {execution_id!r} in {where}; check the id with "
            "flow.list_executions() and that TRIGGERLOG_DB points at the right file."
        )
