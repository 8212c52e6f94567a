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

One submodule per family (base, definition, inputs, lifecycle, chunks, interrupts,
store, replay); import from ``orchestrator.errors``, the public home. A flow's
``retry_on=`` records an error class under that home (``orchestrator.errors.<Name>``,
see :func:`orchestrator.flow.retry.class_name`), not under its submodule.
"""

from __future__ import annotations

from orchestrator.errors.base import OrchestratorError
from orchestrator.errors.chunks import ChunkError, ChunkTimeoutError
from orchestrator.errors.definition import (
    DefinitionMismatchError,
    ExecutionIdError,
    FlowDefinitionError,
    SnapshotContractError,
)
from orchestrator.errors.inputs import MissingResourceError, PayloadError
from orchestrator.errors.interrupts import (
    ExecutionClosedError,
    InterruptError,
    InterruptNotWaitingError,
    PauseNotAllowedError,
    PauseNotReturnedError,
    ResumeConflictError,
    ResumeLimitError,
    ResumeValueError,
)
from orchestrator.errors.lifecycle import (
    ExecutionCancelledError,
    ExecutionHeldElsewhereError,
    ExecutionLoopClosedError,
    ExecutionNotFoundError,
    ExecutionStoppedError,
    LifecycleError,
)
from orchestrator.errors.replay import (
    HistoryFormatError,
    NondeterminismError,
    ReplayError,
    UnknownEventTypeError,
)
from orchestrator.errors.store import (
    ConcurrencyError,
    CorruptEventError,
    DatabasePathError,
    LeaseLostError,
    NetworkFilesystemError,
    NotADatabaseError,
    PayloadTooLargeError,
    ReadOnlyStoreError,
    SchemaVersionError,
    StorageCorruptError,
    StorageFullError,
    StorageIOError,
    StoreBusyError,
    StoreError,
)

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
