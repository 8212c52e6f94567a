"""ExecutionView: everything an execution is, rebuilt by folding its stream.

The live runtime applies each event to its own view as it appends it, and a
fresh process folds the stored events into a new view with the same function, so
the two are equal by construction (replay-equivalence). The view is mutable for
speed (a chain of N state writes would otherwise copy the state N times); callers
outside the projector get copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from orchestrator.projection.paths import copy_json

if TYPE_CHECKING:
    from orchestrator.events.records import SignalRecord
    from orchestrator.events.values import JsonValue

__all__ = [
    "ExecutionStatus",
    "ExecutionView",
    "LifecycleState",
    "OpKind",
    "RecordedOp",
    "RunRecord",
    "op_kind",
    "op_result",
    "op_seq",
    "op_target",
]

VIEW_FORMAT = 1


class ExecutionStatus:
    """The status values of an execution (plain strings, as TriggerFlow spells them)."""

    CREATED = "created"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ALL = (CREATED, RUNNING, WAITING, COMPLETED, FAILED, CANCELLED)
    TERMINAL = (COMPLETED, FAILED, CANCELLED)


class LifecycleState:
    """The lifecycle values of an execution."""

    OPEN = "open"
    SEALED = "sealed"
    CLOSED = "closed"


# [op index, kind, target, result, seq]: one operation a chunk run recorded. A JSON
# list (as snapshots and exported views hold it); read it through the op_* accessors.
RecordedOp = list[Any]

# The kinds of operation a chunk run records (its deterministic key's kind).
OpKind = Literal[
    "emit",
    "step",
    "sleep",
    "pause",
    "sub_flow",
    "state.set",
    "state.append",
    "state.delete",
    "flow_data.set",
    "flow_data.append",
    "flow_data.delete",
    "resource.set",
    "resource.delete",
]


def op_kind(op: RecordedOp) -> OpKind:
    """What the recorded operation was."""
    return cast("OpKind", op[1])


def op_target(op: RecordedOp) -> Any:
    """What it named: an event, a step or state key, an interrupt or child id."""
    return op[2]


def op_result(op: RecordedOp) -> Any:
    """What it produced (an emitted signal id, a step's result or error, a timer)."""
    return op[3]


def op_seq(op: RecordedOp) -> int:
    """The log seq of the event that recorded it."""
    return int(op[4])


@dataclass(slots=True)
class RunRecord:
    """A run that is owed (its signal is logged) or started, but not finished."""

    run_id: str
    op_id: str
    signal_id: str
    status: str = "owed"
    chunk: str | None = None
    attempt: int = 0
    ops: list[RecordedOp] = field(default_factory=list)
    wake_at: float | None = None

    def to_json(self) -> dict[str, JsonValue]:
        """JSON form (for snapshots and comparisons)."""
        return {
            "run_id": self.run_id,
            "op_id": self.op_id,
            "signal_id": self.signal_id,
            "status": self.status,
            "chunk": self.chunk,
            "attempt": self.attempt,
            "ops": copy_json(self.ops),
            "wake_at": self.wake_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        """Inverse of :meth:`to_json`."""
        return cls(
            data["run_id"],
            data["op_id"],
            data["signal_id"],
            data["status"],
            data["chunk"],
            data["attempt"],
            copy_json(data["ops"]),
            data.get("wake_at"),
        )


@dataclass(slots=True)
class ExecutionView:
    """The fold of one execution stream."""

    execution_id: str
    flow_name: str = ""
    fingerprint: str = ""
    kind: str = "execution"
    parent: dict[str, JsonValue] | None = None
    status: str = ExecutionStatus.CREATED
    lifecycle: str = LifecycleState.OPEN
    close_reason: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    updated_at: float | None = None
    closed_at: float | None = None
    auto_close: bool = False
    concurrency: int | None = None
    skip_exceptions: bool = False
    state: dict[str, JsonValue] = field(default_factory=dict)
    state_version: int = 0
    close_snapshot: dict[str, JsonValue] | None = None
    resource_keys: set[str] = field(default_factory=set)
    signals: dict[str, SignalRecord] = field(default_factory=dict)
    signal_refs: dict[str, int] = field(default_factory=dict)
    runs: dict[str, RunRecord] = field(default_factory=dict)
    cascades: dict[str, int] = field(default_factory=dict)
    joins: dict[str, dict[str, dict[str, JsonValue]]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    interrupts: dict[str, dict[str, Any]] = field(default_factory=dict)
    frames: dict[str, dict[str, Any]] = field(default_factory=dict)
    external_signals: int = 0
    last_seq: int = 0

    @property
    def pending_runs(self) -> int:
        """How many runs are owed or started."""
        return len(self.runs)

    def to_json(self) -> dict[str, JsonValue]:
        """A JSON dict holding the whole view (the payload of a snapshot event)."""
        return {
            "format": VIEW_FORMAT,
            "execution_id": self.execution_id,
            "flow_name": self.flow_name,
            "fingerprint": self.fingerprint,
            "kind": self.kind,
            "parent": copy_json(self.parent),
            "status": self.status,
            "lifecycle": self.lifecycle,
            "close_reason": self.close_reason,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "closed_at": self.closed_at,
            "auto_close": self.auto_close,
            "concurrency": self.concurrency,
            "skip_exceptions": self.skip_exceptions,
            "state": copy_json(self.state),
            "state_version": self.state_version,
            "close_snapshot": copy_json(self.close_snapshot),
            "resource_keys": sorted(self.resource_keys),
            "signals": copy_json(self.signals),
            "signal_refs": dict(self.signal_refs),
            "runs": {k: r.to_json() for k, r in self.runs.items()},
            "cascades": dict(self.cascades),
            "joins": copy_json(self.joins),
            "errors": copy_json(self.errors),
            "interrupts": copy_json(self.interrupts),
            "frames": copy_json(self.frames),
            "external_signals": self.external_signals,
            "last_seq": self.last_seq,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExecutionView:
        """Rebuild a view from :meth:`to_json` output."""
        return cls(
            execution_id=data["execution_id"],
            flow_name=data["flow_name"],
            fingerprint=data["fingerprint"],
            kind=data["kind"],
            parent=copy_json(data["parent"]),
            status=data["status"],
            lifecycle=data["lifecycle"],
            close_reason=data["close_reason"],
            created_at=data["created_at"],
            started_at=data["started_at"],
            updated_at=data["updated_at"],
            closed_at=data["closed_at"],
            auto_close=data["auto_close"],
            concurrency=data["concurrency"],
            skip_exceptions=data["skip_exceptions"],
            state=copy_json(data["state"]),
            state_version=data["state_version"],
            close_snapshot=copy_json(data["close_snapshot"]),
            resource_keys=set(data["resource_keys"]),
            signals=copy_json(data["signals"]),
            signal_refs=dict(data["signal_refs"]),
            runs={k: RunRecord.from_json(r) for k, r in data["runs"].items()},
            cascades=dict(data["cascades"]),
            joins=copy_json(data["joins"]),
            errors=copy_json(data["errors"]),
            interrupts=copy_json(data.get("interrupts", {})),
            frames=copy_json(data.get("frames", {})),
            external_signals=data["external_signals"],
            last_seq=data["last_seq"],
        )
