"""The public API is curated: ``orchestrator.__all__`` and the public modules'
``__all__`` are pinned here, every export is documented, and each module declares
what it exports."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import orchestrator
import orchestrator.cli
import orchestrator.read_model

PINNED = [
    "ChunkError",
    "ChunkTimeoutError",
    "Clock",
    "ConcurrencyError",
    "ConditionResultWarning",
    "CorruptEventError",
    "DefinitionMismatchError",
    "EventStore",
    "ExecutionCancelledError",
    "ExecutionClosedError",
    "ExecutionHeldElsewhereError",
    "ExecutionIdError",
    "ExecutionNotFoundError",
    "ExecutionStatus",
    "ExecutionSummary",
    "ExecutionView",
    "FakeClock",
    "FlowDataWarning",
    "FlowDefinitionError",
    "HistoryFormatError",
    "InMemoryEventStore",
    "InterruptError",
    "InterruptNotWaitingError",
    "LeaseLostError",
    "LifecycleError",
    "LifecycleState",
    "LifecycleWarning",
    "MissingResourceError",
    "NondeterminismError",
    "OrchestratorError",
    "PauseNotAllowedError",
    "PayloadError",
    "PayloadSizeWarning",
    "PayloadTooLargeError",
    "ReadOnlyStoreError",
    "RecoveryOutcome",
    "RecoveryReport",
    "ResumeConflictError",
    "ResumeLimitError",
    "ResumeValueError",
    "RetryPolicy",
    "RuntimeResources",
    "SQLiteEventStore",
    "SchemaVersionError",
    "SnapshotContractError",
    "StorageCorruptError",
    "StorageFullError",
    "StorageIOError",
    "StoreError",
    "SystemClock",
    "TriggerFlow",
    "TriggerFlowChunk",
    "TriggerFlowEventData",
    "TriggerFlowExecution",
    "TriggerFlowPauseSignal",
    "TriggerFlowProcess",
    "TriggerFlowRuntimeData",
    "UnheardEventWarning",
    "UnknownEventTypeError",
    "step",
]


# The read model the CLI and the console share (docs/api.md §12).
READ_MODEL = [
    "EXECUTION_KINDS",
    "EventRow",
    "ExecutionHistory",
    "ExecutionRow",
    "ExecutionState",
    "HistoryEvent",
    "JsonChange",
    "SeqOutOfRangeError",
    "ViewDiff",
    "apply_changes",
    "describe",
    "diff_json",
    "diff_states",
    "format_path",
    "format_time",
    "list_executions",
    "read_events",
    "read_history",
    "short_event_name",
    "short_value",
    "state_at",
    "view_at",
]

# The `triggerlog` command, and the protocol of the commands packages add (§13).
CLI = [
    "COMMANDS_GROUP",
    "INSTALL_CONSOLE_HINT",
    "Command",
    "build_parser",
    "main",
    "open_read_only",
    "resolve_db",
]


def test_all_is_pinned() -> None:
    assert orchestrator.__all__ == PINNED
    assert orchestrator.read_model.__all__ == READ_MODEL
    assert orchestrator.cli.__all__ == CLI


def test_public_modules_document_their_exports() -> None:
    for module in (orchestrator.read_model, orchestrator.cli):
        assert inspect.getdoc(module)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                assert inspect.getdoc(value), (
                    f"{module.__name__}.{name} has no docstring"
                )


def test_every_export_exists_and_is_documented() -> None:
    for name in orchestrator.__all__:
        value = getattr(orchestrator, name)
        assert inspect.getdoc(value), f"orchestrator.{name} has no docstring"


def test_errors_share_one_root() -> None:
    for name in orchestrator.__all__:
        value = getattr(orchestrator, name)
        if inspect.isclass(value) and issubclass(value, Exception):
            if issubclass(value, Warning):
                continue
            assert issubclass(value, orchestrator.OrchestratorError), name


def test_modules_declare_their_exports() -> None:
    for module_info in pkgutil.walk_packages(orchestrator.__path__, "orchestrator."):
        module = importlib.import_module(module_info.name)
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{module_info.name} has no __all__"
        for name in exported:
            assert hasattr(module, name), (
                f"{module_info.name}.__all__ names missing {name}"
            )
        public = {
            n
            for n, v in vars(module).items()
            if not n.startswith("_")
            and getattr(v, "__module__", None) == module.__name__
            and (inspect.isclass(v) or inspect.isfunction(v))
        }
        missing = public - set(exported)
        assert not missing, f"{module_info.name} does not export {sorted(missing)}"
