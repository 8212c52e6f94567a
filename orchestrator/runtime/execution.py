"""TriggerFlowExecution: the handle of one execution (start, emit, close, inspect).

Every method that returns to the caller after changing the execution waits until
what it did is durable. Async methods run on the loop the execution is bound to
(its first loop); the sync methods run on the process's background loop.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import TYPE_CHECKING, Any

from orchestrator.errors import (
    ExecutionCancelledError,
    ExecutionLoopClosedError,
)
from orchestrator.events.chunk import SignalRejected
from orchestrator.events.values import to_json_value
from orchestrator.projection.execution import (
    ExecutionStatus,
    ExecutionView,
    LifecycleState,
)
from orchestrator.projection.paths import MISSING, copy_json, get_path
from orchestrator.runtime import lifecycle
from orchestrator.runtime.child_frames import cancel_sub_flow, sub_flow_executions
from orchestrator.runtime.continuing import continue_interrupt
from orchestrator.runtime.emits import warn_if_unheard
from orchestrator.runtime.holder import refuse_if_held_elsewhere
from orchestrator.runtime.interrupts import pending_interrupts, resolve_by_emit
from orchestrator.runtime.lifecycle import LifecycleWarning
from orchestrator.runtime.loop import background_loop, run_in_loop, run_sync
from orchestrator.runtime.snapshot import load_execution, save_execution

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from orchestrator.runtime.engine import ExecutionEngine

__all__ = ["LifecycleWarning", "TriggerFlowExecution"]


class TriggerFlowExecution:
    """One execution of a flow, backed by its stream in the event log."""

    def __init__(self, engine: ExecutionEngine) -> None:
        self._bind(engine)

    def _bind(self, engine: ExecutionEngine) -> None:
        """Become the handle of ``engine`` (``load`` rebinds a fresh handle)."""
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
        return await self._call(lifecycle.start, self._engine, input, timeout)

    def start(self, input: Any = None, *, timeout: float | None = None) -> Any:
        """Synchronous :meth:`async_start`."""
        return self._sync(lifecycle.start, self._engine, input, timeout)

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
        return await self._call(  # type: ignore[no-any-return]
            lifecycle.close, self._engine, reason, timeout, pending_interrupts, seal
        )

    def close(
        self,
        *,
        reason: str = "manual",
        timeout: float | None = None,
        seal: bool = True,
        pending_interrupts: str = "error",
    ) -> dict[str, Any]:
        """Synchronous :meth:`async_close`."""
        return self._sync(  # type: ignore[no-any-return]
            lifecycle.close, self._engine, reason, timeout, pending_interrupts, seal
        )

    async def async_cancel(self, *, reason: str = "cancelled") -> dict[str, Any]:
        """Cancel: running chunks stop at their next await, the execution ends ``cancelled``.

        Recorded in the log; later emits are refused with ExecutionCancelledError.
        Returns the close snapshot (cancelling twice returns it again).
        """
        return await self._call(lifecycle.cancel, self._engine, reason)  # type: ignore[no-any-return]

    def cancel(self, *, reason: str = "cancelled") -> dict[str, Any]:
        """Synchronous :meth:`async_cancel`."""
        return self._sync(lifecycle.cancel, self._engine, reason)  # type: ignore[no-any-return]

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
        return sub_flow_executions(self._engine)

    async def async_cancel_sub_flow(
        self, child_id: str, *, reason: str = "cancelled"
    ) -> bool:
        """Cancel one child; its write-back and the continuation after it never happen.

        Returns False when the child had already finished.
        """
        return await self._call(cancel_sub_flow, self._engine, child_id, reason)  # type: ignore[no-any-return]

    def cancel_sub_flow(self, child_id: str, *, reason: str = "cancelled") -> bool:
        """Synchronous :meth:`async_cancel_sub_flow`."""
        return self._sync(cancel_sub_flow, self._engine, child_id, reason)  # type: ignore[no-any-return]

    async def async_wait_idle(self) -> None:
        """Wait until no chunk is running or owed (e.g. after recover), and all is durable.

        Returning only once the work's records are committed means a fresh
        reader (another store, another process) sees what the live handle sees.
        """
        await self._call(self._wait_idle)
        await self._call(lifecycle.durable_with_children, self._engine)

    async def _wait_idle(self) -> None:
        engine = self._engine
        engine.bind()
        # Never start runs another live process is running (twice-run effects).
        refuse_if_held_elsewhere(engine, "wait for")
        await engine.wait_idle()

    # -- persistence ------------------------------------------------------------------

    def save(self) -> dict[str, Any]:
        """A JSON dict describing this execution, taken once it is durable."""
        return save_execution(self._engine)

    async def async_save(self) -> dict[str, Any]:
        """:meth:`save` from async code (awaits durability without blocking)."""
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
        engine = load_execution(
            self._engine,
            saved,
            runtime_resources=runtime_resources,
            allow_definition_change=allow_definition_change,
        )
        self._bind(engine)
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
