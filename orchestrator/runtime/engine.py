"""ExecutionEngine: runs an execution's chunks; its journal writes the log.

The engine is composed of objects that each read alone: ``journal`` (the
:class:`~orchestrator.runtime.journal.StreamWriter`: record, pipelined flush,
durability, snapshots), ``lease`` (the
:class:`~orchestrator.runtime.lease_keeper.LeaseKeeper`), ``tasks`` and ``waiters``.
``engine.record``, ``flush``, ``durable`` and ``raise_store_error`` are the
journal's own bound methods (no extra call on the hot path).

Runs are flat tasks: a signal spawns one task per target operator, and an awaited
emit waits for its *cascade* (every run descended from it through continuations)
to drain, counted in the view itself, so a rebuilt execution waits the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING, Any, Protocol

from orchestrator.errors import (
    ExecutionStoppedError,
    OrchestratorError,
)
from orchestrator.events.chunk import ChunkCompleted, ChunkFailed, SignalEmitted
from orchestrator.projection.projector import run_id_for
from orchestrator.runtime.host import FlowHost
from orchestrator.runtime.journal import StreamWriter, stream_meta_for
from orchestrator.runtime.lease_keeper import LeaseKeeper
from orchestrator.runtime.records import error_record
from orchestrator.runtime.tasks import TaskSet
from orchestrator.runtime.waiters import Waiters

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from orchestrator.events.records import LayerMark, SignalRecord
    from orchestrator.events.values import JsonValue
    from orchestrator.projection.execution import ExecutionView, RunRecord
    from orchestrator.runtime.resources import RuntimeResources

__all__ = [
    "EngineDriver",
    "EngineHost",
    "ExecutionEngine",
    "ExecutionHandle",
]


class EngineHost(FlowHost, Protocol):
    """A flow with its set of executions live in this process."""

    def live_engines(self) -> list[ExecutionEngine]:
        """Executions of this flow running in this process."""
        ...

    def register_engine(self, engine: ExecutionEngine) -> None:
        """An execution became live in this process."""
        ...

    def forget_engine(self, engine: ExecutionEngine) -> None:
        """A live execution closed."""
        ...


class ExecutionHandle(Protocol):
    """The public handle of an execution, as far as the floors below it know it."""

    @property
    def id(self) -> str:
        """The execution id."""
        ...


class EngineDriver(Protocol):
    """What an engine asks of the floors above it (wired in runtime.assembly).

    The engine runs tasks; what a run, a reconciliation or an auto-close does
    is decided higher up (runners, sub_flows, lifecycle). Calling them through
    this seam keeps every import of this module pointing downward.
    """

    def run(self, engine: ExecutionEngine, run: RunRecord) -> Coroutine[Any, Any, None]:
        """Run one pending operator run to its ChunkCompleted or ChunkFailed."""
        ...

    def reconcile(self, engine: ExecutionEngine) -> Coroutine[Any, Any, None]:
        """After a rebuild: finish sub-flow frames whose child moved on."""
        ...

    def resume_rebuilt(self, engine: ExecutionEngine) -> None:
        """On binding a rebuilt engine: resume its pending runs unless held elsewhere."""
        ...

    def cancel_children(
        self, engine: ExecutionEngine, reason: str
    ) -> Coroutine[Any, Any, None]:
        """Cancel every sub-flow child still running or waiting."""
        ...

    def open_engine(
        self,
        host: EngineHost,
        view: ExecutionView,
        resources: RuntimeResources,
        *,
        owner: str | None = None,
        lease_ttl: float | None = None,
        rebuilt: bool = False,
        allow_definition_change: bool = False,
    ) -> ExecutionEngine:
        """A live engine (with its handle) for ``view``, registered with ``host``."""
        ...


class ExecutionEngine:
    """The live side of one execution: its view, its pending writes and its tasks."""

    def __init__(
        self,
        host: EngineHost,
        view: ExecutionView,
        resources: RuntimeResources,
        driver: EngineDriver,
        *,
        owner: str | None = None,
        lease_ttl: float | None = None,
        hidden: bool = False,
    ) -> None:
        self.host = host
        self.driver = driver
        self.view = view
        self.id = view.execution_id
        self.resources = resources
        self.hidden = hidden
        self._needs_resume = False
        # The auto-close-once-idle of a rebuilt execution, while it waits.
        self.drive_task: asyncio.Task[None] | None = None
        # The reconciliation of sub-flow frames after a rebuild, while it runs.
        self.reconciling: asyncio.Task[None] | None = None
        self._claim_lock: asyncio.Lock | None = None
        self.store = host.store
        self.clock = host.clock
        self.definition = host.definition
        self.flow_data = host.flow_data
        self.children: dict[str, ExecutionEngine] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: int | None = None
        self.tasks = TaskSet()
        self.waiters = Waiters()
        self.lease = LeaseKeeper(owner, lease_ttl, host.clock)
        journal = self.journal = StreamWriter(
            view,
            host.store,
            host.clock,
            stream_meta_for(view, host.name),
            self.lease,
            self.tasks,
            self._refused,
        )
        self.record = journal.record
        self.flush = journal.flush
        self.durable = journal.durable
        self.raise_store_error = journal.raise_store_error
        self.first_error: BaseException | None = None
        # Set when a run raised KeyboardInterrupt/SystemExit (see _stop).
        self.stopped: ExecutionStoppedError | None = None
        self.error_observed = False
        self.close_snapshot: dict[str, JsonValue] | None = None
        self.handle: ExecutionHandle | None = None

    # -- binding --------------------------------------------------------------------

    def bind(self) -> asyncio.AbstractEventLoop:
        """Bind to the running loop on first async use; return the bound loop."""
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            self.loop_thread = threading.get_ident()
            self.journal.bind(self.loop)
            self.tasks.limit(self.view.concurrency)
            if self._needs_resume:
                self._needs_resume = False
                self.driver.resume_rebuilt(self)
        return self.loop

    def claim_lock(self) -> asyncio.Lock:
        """Serialises decisions that must happen once (resolving an interrupt)."""
        if self._claim_lock is None:
            self._claim_lock = asyncio.Lock()
        return self._claim_lock

    def after_rebuild(self) -> None:
        """Adopt a view folded from the log (its status is what the index holds)."""
        self.journal.adopt()
        self._needs_resume = bool(self.view.runs) and self.loop is None

    def refresh_from_log(self) -> bool:
        """Re-fold the view from the log when nothing of this process is in flight."""
        view = self.journal.refresh_from_log()
        if view is not None:
            self.view = view
        return view is not None

    def host_forget(self) -> None:
        """Tell the flow this execution is closed (drop it from the live set)."""
        self.lease.stop()
        self.journal.detach()
        forget = getattr(self.host, "forget_engine", None)
        if forget is not None:
            forget(self)
        # Break the engine <-> handle cycle: a closed execution's objects are then
        # freed by reference counting instead of waiting for a full GC pass
        # (measured: ~18 cyclic objects per execution piling up under load).
        self.handle = None

    # -- signals and runs -------------------------------------------------------------

    def signal(
        self,
        signal_id: str,
        event: str,
        value: JsonValue,
        *,
        trigger_type: str = "event",
        source: str = "chunk",
        cascade: str,
        layers: list[LayerMark],
        origin: str | None = None,
    ) -> SignalRecord:
        """A signal record routed to the operators listening to it now.

        ``origin``: the parent signal's (``signal.get("origin")``), so that a
        signal descended from one recorded without origins has none either.
        """
        record: SignalRecord = {
            "id": signal_id,
            "event": event,
            "type": trigger_type,
            "value": value,
            "source": source,
            "cascade": cascade,
            "layers": layers,
            "targets": list(self.definition.targets(trigger_type, event)),
        }
        if origin is not None:
            record["origin"] = origin
        return record

    def external_signal(
        self,
        event: str,
        value: JsonValue,
        *,
        trigger_type: str = "event",
        source: str = "runtime",
    ) -> SignalRecord:
        """A signal from outside any run: its id is the next external counter."""
        signal_id = f"x{self.view.external_signals + 1}"
        return self.signal(
            signal_id,
            event,
            value,
            trigger_type=trigger_type,
            source=source,
            cascade=signal_id,
            layers=[],
            origin=signal_id,
        )

    def emit_signal(
        self, signal: SignalRecord, run_id: str | None = None, op: int | None = None
    ) -> None:
        """Record a SignalEmitted and start its runs."""
        self.record(SignalEmitted(signal=signal, run_id=run_id, op=op))
        self.spawn(signal)

    def spawn(self, signal: SignalRecord) -> None:
        """Start one task per target of ``signal``."""
        for op_id in signal["targets"]:
            self._start_run(run_id_for(signal["id"], op_id))

    def resume_pending(self) -> None:
        """Start every owed or started run of the view (after a rebuild)."""
        for run_id in list(self.view.runs):
            self._start_run(run_id)

    def _start_run(self, run_id: str) -> None:
        if run_id in self.tasks or run_id not in self.view.runs:
            return
        self.tasks.start(self.bind(), run_id, self._execute(run_id), self._task_done)
        self.journal.keep_lease()

    def _task_done(self, task: asyncio.Task[None]) -> None:
        run_id = self.tasks.finished(task)
        error = None if task.cancelled() else task.exception()
        if isinstance(error, Exception):
            # An engine failure (not a chunk's): nothing else will report it.
            self.journal.poison(error)
        elif error is not None:
            self._stop(error, run_id)
        self._check_idle()

    def _stop(self, error: BaseException, run_id: str) -> None:
        """A run raised KeyboardInterrupt or SystemExit: stop, as a crash would.

        Nothing is recorded (the run stays pending in the log, so recovery runs
        it again); later calls on this engine raise ExecutionStoppedError, and
        whoever awaits it gets the exception itself, so that it stops the
        program as Python means it to (a sync caller included).
        """
        if self.stopped is not None:
            return
        run = self.view.runs.get(run_id)
        op = self.definition.operators.get(run.op_id) if run is not None else None
        # What was recorded before goes to the log now, while the program still
        # runs (it is a true prefix); nothing is recorded after this point. It
        # is waited for, so the message below can say what the log holds.
        with contextlib.suppress(Exception):
            self.flush()
            self.store.flush_blocking()
        durable = self.journal.durable_events()
        stopped = ExecutionStoppedError(
            self.id,
            op.name if op is not None else "?",
            run_id,
            type(error).__name__,
            durable_events=None if durable >= self.journal.submitted else durable,
        )
        stopped.__cause__ = error
        self.stopped = stopped
        self.journal.refuse(stopped)  # every later write, with that message
        self.cancel_tasks()
        self.abort_waiters(error)
        # The live set no longer holds it: get_execution/recover rebuild it.
        forget = getattr(self.host, "forget_engine", None)
        if forget is not None:
            forget(self)
        self.lease.stop()

    async def _execute(self, run_id: str) -> None:
        run = self.view.runs.get(run_id)
        if run is None:
            return
        await self.driver.run(self, run)

    def finish_run(self, run: RunRecord, event: ChunkCompleted) -> None:
        """Record a run's completion and start the runs of what it emits."""
        if self.view.lifecycle == "closed":
            return
        cascade = self._cascade_of(run)
        self.record(event)
        for signal in event.emits:
            self.spawn(signal)
        self._after_run(cascade)

    def fail_run(self, run: RunRecord, error: BaseException) -> None:
        """Record a run's failure; it fails the execution unless skip_exceptions."""
        if self.view.lifecycle == "closed":
            return
        cascade = self._cascade_of(run)
        skipped = self.view.skip_exceptions
        self.record(
            ChunkFailed(run_id=run.run_id, error=error_record(error), skipped=skipped)
        )
        if not skipped:
            if self.first_error is None:
                self.first_error = error
            if cascade is not None:
                self.waiters.cascade_failed(cascade, error)
        self._after_run(cascade)

    def _cascade_of(self, run: RunRecord) -> str | None:
        signal = self.view.signals.get(run.signal_id)
        return signal["cascade"] if signal is not None else None

    def _after_run(self, cascade: str | None) -> None:
        if cascade is not None and cascade not in self.view.cascades:
            self.waiters.cascade_drained(cascade)
        self._check_idle()

    def _check_idle(self) -> None:
        if not self.view.runs and not self.tasks:
            self.lease.stop()  # idle: the next flush releases the lease
            self.waiters.now_idle()

    async def wait_cascade(self, cascade: str) -> None:
        """Wait until no run of ``cascade`` is pending; raise its first error."""
        self.raise_store_error()
        if cascade not in self.view.cascades:
            error = self.waiters.take_error(cascade)
            if error is not None:
                self.error_observed = True
                raise error
            return
        waiter = self.waiters.for_cascade(self.bind(), cascade)
        try:
            await waiter
        except OrchestratorError as error:
            # A store or lifecycle error is not the chunk's; a chunk failure the
            # library typed (a stray cancellation, a pause not returned) is.
            if error is self.first_error:
                self.error_observed = True
            raise
        except Exception:
            self.error_observed = True
            raise

    async def wait_idle(self) -> None:
        """Wait until no run is pending and no run task is alive."""
        reconciling = self.reconciling
        if reconciling is not None and not reconciling.done():
            # A rebuilt parent finishing a child that moved on: work of this
            # execution even though no run of its own is pending.
            with contextlib.suppress(Exception):
                await asyncio.shield(reconciling)
        while self.view.runs or self.tasks:
            if self.journal.refused:
                self.raise_store_error()
            if self.view.runs and not self.tasks:
                # Pending runs nobody is running: a rebuilt execution.
                self.resume_pending()
            await self.waiters.for_idle(self.bind())

    def cancel_tasks(self) -> list[asyncio.Task[None]]:
        """Cancel every run task (close timeout, cancellation); return them."""
        return self.tasks.cancel_all()

    def _refused(self, first: bool) -> None:
        """The log refused a write of this execution (the journal's callback)."""
        if first:
            # Stop running its chunks, whose effects could no longer be recorded,
            # and leave the flow's live set (as a stopped engine does), so that
            # get_execution(id) rebuilds it from the log, as the error advises.
            self.cancel_tasks()
            forget = getattr(self.host, "forget_engine", None)
            if forget is not None:
                forget(self)
            self.lease.stop()
        # Idle waiters too: the refused runs stay pending, so idleness (what
        # close() waits for) would otherwise never come.
        self.waiters.fail_all(self.journal.store_failure)

    def abort_waiters(self, error: BaseException) -> None:
        """Fail everyone awaiting a cascade or idleness (the execution was cancelled)."""
        self.waiters.fail_all(lambda: error)
