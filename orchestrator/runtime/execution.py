"""TriggerFlowExecution: the handle of one execution (start, emit, close, inspect).

Every method that returns to the caller after changing the execution waits until
what it did is durable. Async methods run on the loop the execution is bound to
(its first loop); the sync methods run on the process's background loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from typing import TYPE_CHECKING, Any

from orchestrator.errors import (
    ExecutionCancelledError,
    ExecutionLoopClosedError,
    LifecycleError,
)
from orchestrator.events.chunk import SignalRejected
from orchestrator.events.execution import (
    ExecutionCancelled,
    ExecutionClosed,
    ExecutionSealed,
    ExecutionStarted,
)
from orchestrator.events.values import to_json_value
from orchestrator.flow.operators import START
from orchestrator.projection.execution import ExecutionStatus, LifecycleState
from orchestrator.projection.paths import MISSING, copy_json, get_path
from orchestrator.runtime.emits import warn_if_unheard
from orchestrator.runtime.interrupts import (
    continue_interrupt,
    pending_interrupts,
    resolve_by_emit,
)
from orchestrator.runtime.loop import background_loop, run_in_loop, run_sync

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from orchestrator.projection.execution import ExecutionView
    from orchestrator.runtime.engine import ExecutionEngine

__all__ = ["LifecycleWarning", "TriggerFlowExecution"]


class LifecycleWarning(RuntimeWarning):
    """An external event was ignored because the execution is sealed or closed."""


class TriggerFlowExecution:
    """One execution of a flow, backed by its stream in the event log."""

    def __init__(self, engine: ExecutionEngine) -> None:
        self._engine = engine
        engine.handle = self

    def __repr__(self) -> str:
        view = self._engine.view
        return f"<TriggerFlowExecution {view.execution_id} {view.flow_name!r} {view.status}>"

    # -- identity and inspection ------------------------------------------------------

    @property
    def id(self) -> str:
        """The execution id (also its stream id in the log)."""
        return self._engine.id

    execution_id = id

    @property
    def flow_name(self) -> str:
        """The name of the flow this execution runs."""
        return self._engine.view.flow_name

    @property
    def lifecycle_state(self) -> str:
        """``open``, ``sealed`` or ``closed``."""
        return self._engine.view.lifecycle

    def get_status(self) -> str:
        """``created``, ``running``, ``waiting``, ``completed``, ``failed`` or ``cancelled``."""
        return self._engine.view.status

    def is_waiting(self) -> bool:
        """True while at least one interrupt waits for ``continue_with``."""
        return self._engine.view.status == ExecutionStatus.WAITING

    def get_state(self, key: str | None = None, default: Any = None) -> Any:
        """A deep copy of the whole state, or of ``state[key]`` (dot path)."""
        state = self._engine.view.state
        if key is None:
            return copy_json(state)
        found = get_path(state, key, MISSING)
        return default if found is MISSING else copy_json(found)

    @property
    def view(self) -> ExecutionView:
        """A copy of the folded view (what replaying the log gives)."""
        from orchestrator.projection.execution import ExecutionView

        return ExecutionView.from_json(self._engine.view.to_json())

    @property
    def runtime_resources(self) -> dict[str, Any]:
        """The live resources this execution sees (not in the log)."""
        return dict(self._engine.resources.items())

    # -- running ----------------------------------------------------------------------

    async def _call(
        self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any
    ) -> Any:
        loop = self._engine.loop
        if loop is None or loop is asyncio.get_running_loop():
            return await fn(*args)
        self._check_loop(loop, fn)
        return await run_in_loop(loop, fn(*args))

    def _sync(self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
        loop = self._engine.loop
        if loop is not None:
            self._check_loop(loop, fn)
        return run_sync(fn(*args), loop or background_loop())

    def _check_loop(
        self, loop: asyncio.AbstractEventLoop, fn: Callable[..., Any]
    ) -> None:
        """Refuse, with what to do, a call on a handle whose loop has closed.

        Not rebound transparently: that loop's tasks, futures and waiters died
        with it, and only a rebuild from the log (get_execution) knows what is
        still owed. The live set forgets the engine so that rebuild is fresh.
        """
        if not loop.is_closed():
            return
        if self._engine.stopped is not None:
            raise self._engine.stopped  # the truer story: a chunk stopped it
        forget = getattr(self._engine.host, "forget_engine", None)
        if forget is not None:
            forget(self._engine)
        raise ExecutionLoopClosedError(self.id, fn.__name__.strip("_"))

    async def async_start(
        self, input: Any = None, *, timeout: float | None = None
    ) -> Any:
        """Run START with ``input``.

        With ``auto_close=True`` this waits until the execution is quiescent, closes
        it and returns the close snapshot (``None`` if an interrupt is waiting: the
        execution stays open for ``continue_with``); otherwise it returns once the
        START cascade has settled (status stays ``running``). A second start is a
        no-op. ``timeout`` bounds the wait; on expiry an auto-closing execution is
        cancelled, and TimeoutError is raised.
        """
        return await self._call(self._start, input, timeout)

    def start(self, input: Any = None, *, timeout: float | None = None) -> Any:
        """Synchronous :meth:`async_start`."""
        return self._sync(self._start, input, timeout)

    async def _start(self, value: Any, timeout: float | None) -> Any:
        engine = self._engine
        engine.bind()
        view = engine.view
        if view.started_at is not None or view.status != ExecutionStatus.CREATED:
            return engine.close_snapshot
        if view.lifecycle != LifecycleState.OPEN:
            raise LifecycleError(
                f"execution {engine.id!r} is {view.lifecycle}; it can no longer be started"
            )
        json_value = to_json_value(value, "start input")
        engine.record(ExecutionStarted())
        signal = engine.external_signal(START, json_value, source="start")
        engine.emit_signal(signal)
        try:
            await asyncio.wait_for(engine.wait_cascade(signal["cascade"]), timeout)
        except TimeoutError:
            if view.auto_close and engine.view.lifecycle != LifecycleState.CLOSED:
                # The hidden/auto-closing execution cannot be left running.
                await self._cancel(f"start timed out after {timeout}s")
            raise
        except asyncio.CancelledError:
            # The caller gave up. An auto-closing execution would be left running
            # with nobody to close it: cancel it (at once, not after its chunks
            # finish). A handle's execution keeps running for its holder.
            if view.auto_close and engine.view.lifecycle != LifecycleState.CLOSED:
                await self._cancel_for_caller()
            raise
        except Exception:
            if view.auto_close and engine.view.lifecycle != LifecycleState.CLOSED:
                engine.error_observed = True
                await self._close("failed", None, "cancel", True)
            raise
        # KeyboardInterrupt / SystemExit propagate untouched: the program stops,
        # and the log keeps the execution open for recovery.
        if view.auto_close and self._quiescent_closable():
            await engine.wait_idle()
            if self._quiescent_closable():
                return await self._close("auto_close", None, "error", True)
        await engine.durable()
        return engine.close_snapshot

    async def _cancel_for_caller(self) -> None:
        """Cancel the execution because the task awaiting ``async_start`` was cancelled.

        Shielded, so a second cancellation of the caller does not cut the cancel
        short; a failure of it (the store) is reported by the next call on the
        execution, while the caller gets its CancelledError.
        """
        if self._engine.stopped is not None:
            return
        with contextlib.suppress(Exception):
            await asyncio.shield(
                self._cancel("the task awaiting async_start was cancelled")
            )

    def _quiescent_closable(self) -> bool:
        view = self._engine.view
        return (
            view.lifecycle != LifecycleState.CLOSED
            and view.status != ExecutionStatus.WAITING
        )

    async def async_emit(self, event: str, value: Any = None, **_: Any) -> None:
        """Emit an external event and return after the handlers it triggers finish."""
        return await self._call(self._emit, event, value)  # type: ignore[no-any-return]

    def emit(self, event: str, value: Any = None, **_: Any) -> None:
        """Synchronous :meth:`async_emit`."""
        self._sync(self._emit, event, value)

    async def _emit(self, event: str, value: Any) -> None:
        engine = self._engine
        engine.bind()
        view = engine.view
        if view.status == ExecutionStatus.CANCELLED:
            raise ExecutionCancelledError(
                f"execution {engine.id!r} was cancelled ({view.close_reason}); event "
                f"{event!r} is refused. Start a new execution instead."
            )
        if view.lifecycle != LifecycleState.OPEN:
            warnings.warn(
                f"Execution {engine.id!r} ignored event {event!r} because lifecycle "
                f"state is {view.lifecycle!r}",
                LifecycleWarning,
                stacklevel=3,
            )
            if view.lifecycle != LifecycleState.CLOSED:
                engine.record(SignalRejected(event=event, lifecycle=view.lifecycle))
                await engine.durable()
            return
        json_value = to_json_value(value, f"emit({event!r})")
        signal = engine.external_signal(event, json_value, source="runtime")
        warn_if_unheard(engine, event, signal["targets"], stacklevel=4)
        resolve_by_emit(engine, event, json_value)
        engine.emit_signal(signal)
        await engine.wait_cascade(signal["cascade"])
        await engine.durable()

    async def async_close(
        self,
        *,
        reason: str = "manual",
        timeout: float | None = None,
        seal: bool = True,
        pending_interrupts: str = "error",
    ) -> dict[str, Any]:
        """Seal, drain running work, close; return the close snapshot (idempotent)."""
        return await self._call(self._close, reason, timeout, pending_interrupts, seal)  # type: ignore[no-any-return]

    def close(
        self,
        *,
        reason: str = "manual",
        timeout: float | None = None,
        seal: bool = True,
        pending_interrupts: str = "error",
    ) -> dict[str, Any]:
        """Synchronous :meth:`async_close`."""
        return self._sync(self._close, reason, timeout, pending_interrupts, seal)  # type: ignore[no-any-return]

    async def _close(
        self, reason: str, timeout: float | None, pending_interrupts: str, seal: bool
    ) -> dict[str, Any]:
        engine = self._engine
        engine.bind()
        if engine.close_snapshot is not None:
            return engine.close_snapshot
        from orchestrator.runtime.holder import refuse_if_held_elsewhere

        refuse_if_held_elsewhere(engine, "close")
        view = engine.view  # after the catch-up, which may replace it
        if view.lifecycle == LifecycleState.CLOSED:
            engine.close_snapshot = copy_json(view.close_snapshot or {})
            return engine.close_snapshot
        from orchestrator.runtime.interrupts import settle_interrupts_for_close

        status_override = await settle_interrupts_for_close(engine, pending_interrupts)
        if seal and view.lifecycle == LifecycleState.OPEN:
            engine.record(ExecutionSealed(reason=reason))
        try:
            await asyncio.wait_for(engine.wait_idle(), timeout)
        except TimeoutError:
            cancelled = len(engine.cancel_tasks())
            warnings.warn(
                f"execution {engine.id!r}: close timed out after {timeout}s; "
                f"{cancelled} running chunk(s) were cancelled",
                LifecycleWarning,
                stacklevel=3,
            )
        status = status_override or (
            view.status
            if view.status in ExecutionStatus.TERMINAL
            else ExecutionStatus.COMPLETED
        )
        engine.record(ExecutionClosed(reason=reason, status=status))
        await engine.durable()
        engine.close_snapshot = copy_json(view.close_snapshot or {})
        engine.host_forget()
        if engine.first_error is not None and not engine.error_observed:
            engine.error_observed = True
            raise engine.first_error
        return engine.close_snapshot

    async def async_cancel(self, *, reason: str = "cancelled") -> dict[str, Any]:
        """Cancel: running chunks stop at their next await, the execution ends ``cancelled``.

        Recorded in the log; later emits are refused with ExecutionCancelledError.
        Returns the close snapshot (cancelling twice returns it again).
        """
        return await self._call(self._cancel, reason)  # type: ignore[no-any-return]

    def cancel(self, *, reason: str = "cancelled") -> dict[str, Any]:
        """Synchronous :meth:`async_cancel`."""
        return self._sync(self._cancel, reason)  # type: ignore[no-any-return]

    async def _cancel(self, reason: str) -> dict[str, Any]:
        engine = self._engine
        engine.bind()
        from orchestrator.runtime.holder import refuse_if_held_elsewhere

        refuse_if_held_elsewhere(engine, "cancel")
        view = engine.view
        if view.lifecycle == LifecycleState.CLOSED:
            if view.status == ExecutionStatus.CANCELLED:
                return await self._close("cancelled", None, "cancel", True)
            raise LifecycleError(
                f"execution {engine.id!r} is already closed ({view.status}); there is "
                "nothing to cancel"
            )
        engine.record(ExecutionCancelled(reason=reason))
        return await self._finish_cancel(reason)

    async def _finish_cancel(self, reason: str) -> dict[str, Any]:
        """Cancel children and runs, then close: the rest of a cancellation.

        Recovery calls it for an execution whose cancellation a crash cut short
        (``execution.cancelled`` in the log, not ``execution.closed``).
        """
        engine = self._engine
        from orchestrator.runtime.sub_flows import cancel_children

        await cancel_children(engine, reason)
        tasks = engine.cancel_tasks()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        engine.abort_waiters(
            ExecutionCancelledError(f"execution {engine.id!r} was cancelled ({reason})")
        )
        engine.record(
            ExecutionClosed(
                reason=f"cancelled: {reason}", status=ExecutionStatus.CANCELLED
            )
        )
        await engine.durable()
        engine.close_snapshot = copy_json(engine.view.close_snapshot or {})
        engine.host_forget()
        return engine.close_snapshot

    # -- interrupts -------------------------------------------------------------------

    def get_pending_interrupts(self) -> dict[str, Any]:
        """Waiting interrupts by id: type, payload, resume_to, the chunk that paused..."""
        return pending_interrupts(self._engine.view)

    def get_interrupt(self, interrupt_id: str) -> dict[str, Any] | None:
        """One interrupt record (waiting, resolved or cancelled), or None."""
        record = self._engine.view.interrupts.get(interrupt_id)
        return copy_json(record) if record is not None else None

    async def async_continue_with(
        self,
        interrupt_id: str,
        value: Any = None,
        *,
        resume_request_id: str | None = None,
    ) -> dict[str, Any]:
        """Resolve a waiting interrupt with ``value`` and resume its branch.

        Returns after the resumed branch's handlers finished and everything is
        durable. Of two concurrent calls (even in different processes) exactly one
        wins; the other raises InterruptNotWaitingError. Repeating a call with the
        same ``resume_request_id`` and value is a no-op returning the record. A
        closed execution raises ExecutionClosedError.
        """
        return await self._call(  # type: ignore[no-any-return]
            continue_interrupt, self._engine, interrupt_id, value, resume_request_id
        )

    def continue_with(
        self,
        interrupt_id: str,
        value: Any = None,
        *,
        resume_request_id: str | None = None,
    ) -> dict[str, Any]:
        """Synchronous :meth:`async_continue_with`."""
        return self._sync(  # type: ignore[no-any-return]
            continue_interrupt, self._engine, interrupt_id, value, resume_request_id
        )

    # -- sub-flows ----------------------------------------------------------------------

    def get_sub_flow_executions(self) -> list[dict[str, Any]]:
        """The children this execution started, with their status."""
        from orchestrator.runtime.sub_flows import sub_flow_executions

        return sub_flow_executions(self._engine)

    async def async_cancel_sub_flow(
        self, child_id: str, *, reason: str = "cancelled"
    ) -> bool:
        """Cancel one child; its write-back and the continuation after it never happen.

        Returns False when the child had already finished.
        """
        from orchestrator.runtime.sub_flows import cancel_sub_flow

        return await self._call(cancel_sub_flow, self._engine, child_id, reason)  # type: ignore[no-any-return]

    def cancel_sub_flow(self, child_id: str, *, reason: str = "cancelled") -> bool:
        """Synchronous :meth:`async_cancel_sub_flow`."""
        from orchestrator.runtime.sub_flows import cancel_sub_flow

        return self._sync(cancel_sub_flow, self._engine, child_id, reason)  # type: ignore[no-any-return]

    async def async_wait_idle(self) -> None:
        """Wait until no chunk is running or owed (e.g. after recover), and all is durable.

        Returning only once the work's records are committed means a fresh
        reader (another store, another process) sees what the live handle sees.
        """
        await self._call(self._wait_idle)
        await self._call(self._engine.durable_with_children)

    async def _wait_idle(self) -> None:
        engine = self._engine
        engine.bind()
        from orchestrator.runtime.holder import refuse_if_held_elsewhere

        # Never start runs another live process is running (twice-run effects).
        refuse_if_held_elsewhere(engine, "wait for")
        await engine.wait_idle()

    # -- persistence ------------------------------------------------------------------

    def save(self) -> dict[str, Any]:
        """A JSON dict describing this execution, taken once it is durable."""
        from orchestrator.runtime.snapshot import save_execution

        return save_execution(self._engine)

    async def async_save(self) -> dict[str, Any]:
        """:meth:`save` from async code (awaits durability without blocking)."""
        from orchestrator.runtime.snapshot import save_execution

        await self._call(self._engine.durable)
        return save_execution(self._engine, already_durable=True)

    def load(
        self,
        saved: dict[str, Any] | str,
        *,
        runtime_resources: dict[str, Any] | None = None,
        allow_definition_change: bool = False,
    ) -> TriggerFlowExecution:
        """Bind this (fresh) handle to the saved execution; see docs/api.md."""
        from orchestrator.runtime.snapshot import load_execution

        load_execution(
            self,
            saved,
            runtime_resources=runtime_resources,
            allow_definition_change=allow_definition_change,
        )
        return self

    async def async_load(
        self,
        saved: dict[str, Any] | str,
        *,
        runtime_resources: dict[str, Any] | None = None,
        allow_definition_change: bool = False,
    ) -> TriggerFlowExecution:
        """Async spelling of :meth:`load`."""
        return self.load(
            saved,
            runtime_resources=runtime_resources,
            allow_definition_change=allow_definition_change,
        )

    def _rebind(self, engine: ExecutionEngine) -> None:
        self._engine = engine
        engine.handle = self
