"""Errors of the execution lifecycle: refused, cancelled, stopped, held elsewhere, not found."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.errors.base import OrchestratorError

__all__ = [
    "ExecutionCancelledError",
    "ExecutionHeldElsewhereError",
    "ExecutionLoopClosedError",
    "ExecutionNotFoundError",
    "ExecutionStoppedError",
    "LifecycleError",
]


def _utc(timestamp: float) -> str:
    """A log timestamp as an ISO-8601 UTC instant (for messages)."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


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


class ExecutionNotFoundError(OrchestratorError, KeyError):
    """No execution with this id exists in the store."""

    def __init__(self, execution_id: str, where: str) -> None:
        self.execution_id = execution_id
        super().__init__(
            f"no execution {execution_id!r} in {where}; check the id with "
            "flow.list_executions() and that TRIGGERLOG_DB points at the right file."
        )
