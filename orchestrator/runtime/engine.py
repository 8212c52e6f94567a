"""ExecutionEngine: turns what an execution does into events, and runs its chunks.

Every change goes through :meth:`ExecutionEngine.record`: the event is encoded
(refusing non-JSON before anything happens), applied to the live view with the
same fold that replay uses, and buffered. Buffered events are submitted to the
store once per event-loop turn as one atomic append, so a chunk does not wait
for its own events to be durable before the next one runs (pipelining). Every
boundary a caller can observe (``async_start``, ``async_emit``, ``async_close``,
``save``) awaits :meth:`durable` first.

Runs are flat tasks: a signal spawns one task per target operator, and an awaited
emit waits for its *cascade* (every run descended from it through continuations)
to drain, counted in the view itself, so a rebuilt execution waits the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import traceback
from typing import TYPE_CHECKING, Any

from orchestrator.errors import (
    ExecutionCancelledError,
    LifecycleError,
    OrchestratorError,
    PayloadTooLargeError,
    StoreError,
)
from orchestrator.events.chunk import ChunkCompleted, ChunkFailed, SignalEmitted
from orchestrator.events.codec import encode
from orchestrator.ids import derive_id
from orchestrator.projection.projector import apply, run_id_for
from orchestrator.store.base import (
    DEFAULT_MAX_EVENT_BYTES,
    AppendRequest,
    NewEvent,
    StreamMeta,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from orchestrator.events.base import Event
    from orchestrator.events.records import ErrorRecord, LayerMark, SignalRecord
    from orchestrator.events.values import JsonValue
    from orchestrator.projection.execution import ExecutionView, RunRecord
    from orchestrator.runtime.host import FlowHost
    from orchestrator.runtime.resources import RuntimeResources

__all__ = ["ExecutionEngine", "error_record", "layers_key"]

# Whether the store's append requests can carry a lease (claim/renew/release).
_LEASES = "lease_ttl" in AppendRequest._fields


def layers_key(layers: list[LayerMark]) -> str:
    """The join scope of a signal: its fan-out marks, or ``__root__``."""
    if not layers:
        return "__root__"
    return ".".join(f"{mark[0]}:{mark[1]}" for mark in layers)


def error_record(error: BaseException) -> ErrorRecord:
    """Type, message and traceback text of an exception, for the log."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return {
        "type": type(error).__qualname__,
        "message": str(error),
        "traceback": text[-8000:],
    }


class ExecutionEngine:
    """The live side of one execution: its view, its pending writes and its tasks."""

    def __init__(
        self,
        host: FlowHost,
        view: ExecutionView,
        resources: RuntimeResources,
        *,
        owner: str | None = None,
        lease_ttl: float | None = None,
        hidden: bool = False,
    ) -> None:
        self.host = host
        self.view = view
        self.id = view.execution_id
        self.resources = resources
        self.owner = owner
        self.lease_ttl = lease_ttl
        self.hidden = hidden
        self._needs_resume = False
        self._lease_task: asyncio.Task[None] | None = None
        self._driver: asyncio.Task[None] | None = None
        # When this process last took or renewed the lease (None: not held).
        self.lease_renewed_at: float | None = None
        self._replay_states: dict[int, dict[str, JsonValue]] = {}
        self._claim_lock: asyncio.Lock | None = None
        self.snapshot_every = 1000
        self._snapshot_seq = view.last_seq
        self.store = host.store
        self.clock = host.clock
        self.definition = host.definition
        self.flow_data = host.flow_data
        self.children: dict[str, ExecutionEngine] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: int | None = None
        self._max_event_bytes = int(
            getattr(self.store, "max_event_bytes", DEFAULT_MAX_EVENT_BYTES)
        )
        self._buffer: list[NewEvent] = []
        self._buffer_base = view.last_seq
        self._flush_handle: asyncio.Handle | None = None
        self._last_future: asyncio.Future[Any] | None = None
        self._written_status: str | None = None
        self._store_error: BaseException | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cascade_waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._cascade_errors: dict[str, BaseException] = {}
        self._idle_waiters: list[asyncio.Future[None]] = []
        self.first_error: BaseException | None = None
        self.error_observed = False
        self._semaphore: asyncio.Semaphore | None = None
        self._group_semaphores: dict[str, asyncio.Semaphore] = {}
        self.close_snapshot: dict[str, JsonValue] | None = None
        self.handle: Any = None
        self.last_position = 0
        self._extra: list[AppendRequest] = []
        self.stream_meta = StreamMeta(
            kind="child" if view.kind == "child" else "execution",
            flow_name=host.name,
            parent_id=_parent_stream(view),
        )

    # -- binding --------------------------------------------------------------------

    def bind(self) -> asyncio.AbstractEventLoop:
        """Bind to the running loop on first async use; return the bound loop."""
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            self.loop_thread = threading.get_ident()
            if self.view.concurrency:
                self._semaphore = asyncio.Semaphore(self.view.concurrency)
            if self._needs_resume:
                self._claim_and_resume()
        return self.loop

    def _claim_and_resume(self) -> None:
        """Resume the pending runs of a rebuilt execution if nobody else runs them."""
        self._needs_resume = False
        if not self.view.runs:
            return
        if self.owner is not None and self.lease_ttl is not None:
            info = self.store.get_stream(self.id)
            if info is not None and info.owner not in (None, self.owner):
                from orchestrator.runtime.recovery import claim, held_elsewhere

                if held_elsewhere(info, self.owner, self.clock.now()) or not claim(
                    self.store, info, self.owner, self.lease_ttl
                ):
                    return
                self.lease_renewed_at = self.clock.now()
        self.resume_pending()
        self.reconcile()
        self.drive_to_close()

    # -- recording ------------------------------------------------------------------

    def record(self, event: Event, *, flush: bool = True) -> int:
        """Apply ``event`` to the live view and queue it for the log; return its seq."""
        self.raise_store_error()
        if self.view.lifecycle == "closed":
            # A straggler (a sync handler's thread outliving a cancel) must not
            # write after the close: the closed log is final.
            raise self._closed_error()
        type_name, data = encode(event)
        if len(data) > self._max_event_bytes:
            raise PayloadTooLargeError(
                self.id, type_name, len(data), self._max_event_bytes
            )
        seq = self.view.last_seq + 1
        now = self.clock.now()
        apply(self.view, event, seq, now)
        self._buffer.append(NewEvent(type_name, data, now))
        if flush and self._flush_handle is None and self.loop is not None:
            self._flush_handle = self.loop.call_soon(self.flush)
        return seq

    def flush(
        self, extra: list[AppendRequest] | None = None
    ) -> asyncio.Future[Any] | None:
        """Submit buffered events (plus ``extra`` requests) as one atomic unit."""
        self._flush_handle = None
        status_changed = (
            self.view.status != self._written_status and self._buffer_base > 0
        )
        if not self._buffer and not extra and not self._extra and not status_changed:
            return self._last_future
        requests: list[AppendRequest] = []
        if self._buffer or status_changed:
            snapshot_index = self._maybe_snapshot()
            events, self._buffer = self._buffer, []
            status = self.view.status
            meta = self.stream_meta
            if status != self._written_status:
                meta = StreamMeta(meta.kind, meta.flow_name, meta.parent_id, status)
            request = self._request(events, meta)
            if snapshot_index is not None:
                request = request._replace(snapshot_index=snapshot_index)
            requests.append(request)
            self._buffer_base += len(events)
            self._written_status = status
        if self._extra:
            requests.extend(self._extra)
            self._extra = []
        if extra:
            requests.extend(extra)
        try:
            future = self.store.submit(requests)
        except BaseException as error:
            self._poison(error)
            raise
        future.add_done_callback(self._on_written)
        self._last_future = future
        return future

    def _maybe_snapshot(self) -> int | None:
        """Every ``snapshot_every`` events, end the batch with a snapshot of the view.

        Folds start at the latest snapshot instead of seq 1, so rebuilding a long
        execution reads only its tail. The live view is not re-applied: a snapshot
        of it is, by construction, the view itself.
        """
        every = self.snapshot_every
        if (
            not every
            or not self._buffer
            or self.view.last_seq - self._snapshot_seq < every
        ):
            return None
        from orchestrator.events.execution import SnapshotTaken

        type_name, data = encode(SnapshotTaken(view=self.view.to_json()))
        if len(data) > self._max_event_bytes:
            return None  # too big to snapshot; folding from the start still works
        now = self.clock.now()
        self.view.last_seq += 1
        self.view.updated_at = now
        self._buffer.append(NewEvent(type_name, data, now))
        self._snapshot_seq = self.view.last_seq
        return len(self._buffer) - 1

    def after_rebuild(self, allow_definition_change: bool) -> None:
        """Adopt a view folded from the log (its status is what the index holds)."""
        self._written_status = self.view.status
        self._needs_resume = bool(self.view.runs) and self.loop is None
        current = self.definition.fingerprint
        if allow_definition_change and self.view.fingerprint != current:
            from orchestrator.events.execution import DefinitionChanged

            if self.view.lifecycle != "closed":
                self.record(
                    DefinitionChanged(previous=self.view.fingerprint, current=current),
                    flush=False,
                )

    def _request(self, events: list[NewEvent], meta: StreamMeta) -> AppendRequest:
        request = AppendRequest(self.id, events, self._buffer_base, meta, self.owner)
        lease = self._lease_for(bool(self.view.runs))
        return request if lease is None else request._replace(lease_ttl=lease)

    def _lease_for(self, busy: bool) -> float | None:
        """The lease_ttl this append should carry (None: leave the lease alone).

        The lease is held while work is pending and released when idle, so that
        another process may continue the execution. It is renewed only once a
        third of its time has passed: most appends leave the index's lease alone.
        """
        if self.owner is None or self.lease_ttl is None or not _LEASES:
            return None
        now = self.clock.now()
        if busy:
            renewed = self.lease_renewed_at
            if renewed is not None and now - renewed < self.lease_ttl / 3:
                return None
            self.lease_renewed_at = now
            return self.lease_ttl
        if self.lease_renewed_at is None:
            return None
        self.lease_renewed_at = None
        return 0.0

    def keep_lease(self) -> None:
        """Renew the lease while runs are pending, even if none of them writes."""
        if self.owner is None or self.lease_ttl is None or not _LEASES:
            return
        if self._lease_task is None or self._lease_task.done():
            self._lease_task = self.bind().create_task(self._lease_keeper())

    async def _lease_keeper(self) -> None:
        assert self.lease_ttl is not None
        period = self.lease_ttl / 3
        while self.view.runs or self._tasks:
            renewed = self.lease_renewed_at or self.clock.now()
            await self.clock.sleep_until(renewed + period)
            if self.view.runs and self._lease_due(period):
                requests = [self._request([], self.stream_meta)]
                future = self.store.submit(requests)
                future.add_done_callback(self._on_written)
                self._last_future = future

    def _lease_due(self, period: float) -> bool:
        renewed = self.lease_renewed_at
        return renewed is None or self.clock.now() - renewed >= period

    def drive_to_close(self) -> None:
        """After a rebuild: once idle, auto-close (if the execution asked for it)."""
        if self._driver is None or self._driver.done():
            self._driver = self.bind().create_task(self._drive())

    def reconcile(self) -> None:
        """After a rebuild: finish sub-flow frames whose child moved on unobserved."""
        if any(
            f.get("status") in ("running", "waiting") for f in self.view.frames.values()
        ):
            from orchestrator.runtime.sub_flows import reconcile_frames

            self._reconciling = self.bind().create_task(reconcile_frames(self))

    async def _drive(self) -> None:
        with contextlib.suppress(Exception):
            reconciling = getattr(self, "_reconciling", None)
            if reconciling is not None:
                await reconciling
            await self.wait_idle()
        view = self.view
        if (
            view.auto_close
            and view.started_at is not None
            and view.lifecycle == "open"
            and view.status not in ("waiting", "cancelled")
            and self.handle is not None
        ):
            with contextlib.suppress(Exception):
                await self.handle.async_close(reason="auto_close")
        else:
            self.flush()

    async def record_confirmed(self, event: Event, *, busy: bool) -> None:
        """Append ``event`` and apply it only once the log accepted it.

        For decisions other processes may race on (resolving an interrupt): the
        append names the head this process expects, so a ConcurrencyError means
        someone else appended first and the live view is left untouched.
        While this process is itself running chunks of the execution, it holds
        the lease (others are fenced), so the ordinary pipelined path is used.
        """
        if self._tasks:
            self.record(event)
            return
        await self.durable()
        type_name, data = encode(event)
        if len(data) > self._max_event_bytes:
            raise PayloadTooLargeError(
                self.id, type_name, len(data), self._max_event_bytes
            )
        now = self.clock.now()
        request = AppendRequest(
            self.id,
            [NewEvent(type_name, data, now)],
            self._buffer_base,
            self.stream_meta,
            self.owner,
        )
        if self.owner is not None and self.lease_ttl is not None and _LEASES:
            # Always explicit here: the decision must take (or free) the lease.
            request = request._replace(lease_ttl=self.lease_ttl if busy else 0.0)
            self.lease_renewed_at = now if busy else None
        (result,) = await self.store.submit([request])
        seq = self.view.last_seq + 1
        apply(self.view, event, seq, now)
        self._buffer_base = seq
        self.last_position = result.last_position
        if self.view.status != self._written_status:
            self.flush()

    def refresh_from_log(self) -> bool:
        """Re-fold the view from the log when nothing of this process is in flight."""
        if self._tasks or self._buffer:
            return False
        from orchestrator.projection.projector import fold

        view = fold(self.id, self.store.read_stream(self.id))
        self.view = view
        self._buffer_base = view.last_seq
        self._written_status = view.status
        self._replay_states.clear()
        return True

    def take_requests(self) -> list[AppendRequest]:
        """The buffered events as requests, for a caller that appends them itself.

        Used to create a sub-flow child atomically with its parent's record.
        """
        if not self._buffer:
            return []
        events, self._buffer = self._buffer, []
        meta = StreamMeta(
            self.stream_meta.kind,
            self.stream_meta.flow_name,
            self.stream_meta.parent_id,
            self.view.status,
        )
        request = self._request(events, meta)
        self._buffer_base += len(events)
        self._written_status = self.view.status
        extra, self._extra = self._extra, []
        return [request, *extra]

    def claim_lock(self) -> asyncio.Lock:
        """Serialises decisions that must happen once (resolving an interrupt)."""
        if self._claim_lock is None:
            self._claim_lock = asyncio.Lock()
        return self._claim_lock

    def add_extra(self, request: AppendRequest) -> None:
        """Write ``request`` (another stream) atomically with the next flush."""
        self._extra.append(request)

    def host_forget(self) -> None:
        """Tell the flow this execution is closed (drop it from the live set)."""
        keeper = self._lease_task
        if keeper is not None and not keeper.done():
            keeper.cancel()
        forget = getattr(self.host, "forget_engine", None)
        if forget is not None:
            forget(self)

    def discard_unwritten(self) -> None:
        """Forget buffered events that were never submitted (``load`` rebinding)."""
        self._buffer = []
        self._extra = []
        self._buffer_base = self.view.last_seq

    def _on_written(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            self._poison(error)
            return
        for result in future.result():
            if result.stream_id == self.id:
                self.last_position = result.last_position

    def _poison(self, error: BaseException) -> None:
        if self._store_error is None:
            self._store_error = error
            # The log refuses this execution's writes (fenced, disk full...): stop
            # running its chunks, whose effects could no longer be recorded.
            self.cancel_tasks()
        for waiters in self._cascade_waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(self._store_failure())
        self._cascade_waiters.clear()

    def _store_failure(self) -> StoreError:
        error = self._store_error
        if isinstance(error, StoreError) and "execution" in str(error):
            return error
        wrapped = StoreError(
            f"execution {self.id!r}: the log refused a write ({error}); the live "
            "execution no longer matches its log and stops here. Rebuild it from "
            "the log with flow.get_execution(id) once the store is healthy."
        )
        wrapped.__cause__ = error
        return wrapped

    def raise_store_error(self) -> None:
        """Raise if an earlier append of this execution failed."""
        if self._store_error is not None:
            raise self._store_failure()

    async def durable(self) -> None:
        """Wait until every event recorded so far is durable in the store."""
        self.flush()
        future = self._last_future
        if future is not None and not future.done():
            # A failed append is reported by raise_store_error below; a
            # cancellation of this task must propagate, never be swallowed.
            with contextlib.suppress(Exception):
                await asyncio.shield(future)
        self.raise_store_error()

    def durable_blocking(self) -> None:
        """Like :meth:`durable` for synchronous callers on the engine's thread."""
        self.flush()
        if self._last_future is not None and not self._last_future.done():
            barrier = getattr(self.store, "flush_blocking", None)
            if barrier is not None:
                barrier()
        self.raise_store_error()

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
    ) -> SignalRecord:
        """A signal record routed to the operators listening to it now."""
        return {
            "id": signal_id,
            "event": event,
            "type": trigger_type,
            "value": value,
            "source": source,
            "cascade": cascade,
            "layers": layers,
            "targets": list(self.definition.targets(trigger_type, event)),
        }

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
        if run_id in self._tasks or run_id not in self.view.runs:
            return
        task = self.bind().create_task(
            self._execute(run_id), name=f"triggerlog-run-{run_id}"
        )
        self._tasks[run_id] = task
        task.add_done_callback(self._task_done)
        self.keep_lease()

    def _task_done(self, task: asyncio.Task[None]) -> None:
        run_id = task.get_name().removeprefix("triggerlog-run-")
        self._tasks.pop(run_id, None)
        if not task.cancelled() and task.exception() is not None:
            # An engine failure (not a chunk's): nothing else will report it.
            self._poison(task.exception())  # type: ignore[arg-type]
        self._check_idle()

    async def _execute(self, run_id: str) -> None:
        from orchestrator.runtime.runners import run_operator

        run = self.view.runs.get(run_id)
        if run is None:
            return
        await run_operator(self, run)

    def finish_run(self, run: RunRecord, event: ChunkCompleted) -> None:
        """Record a run's completion and start the runs of what it emits."""
        if self.view.lifecycle == "closed":
            return
        cascade = self._cascade_of(run)
        self.record(event)
        for signal in event.emits:
            self.spawn(signal)
        self._after_run(cascade)

    def _closed_error(self) -> LifecycleError:
        if self.view.status == "cancelled":
            return ExecutionCancelledError(
                f"execution {self.id!r} was cancelled ({self.view.close_reason}); this "
                "write arrived after the cancellation and was refused"
            )
        return LifecycleError(
            f"execution {self.id!r} is closed; nothing more is written to its log"
        )

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
                self._cascade_errors.setdefault(cascade, error)
        self._after_run(cascade)

    def _cascade_of(self, run: RunRecord) -> str | None:
        signal = self.view.signals.get(run.signal_id)
        return signal["cascade"] if signal is not None else None

    def _after_run(self, cascade: str | None) -> None:
        if cascade is not None and cascade not in self.view.cascades:
            waiters = self._cascade_waiters.pop(cascade, [])
            error = self._cascade_errors.pop(cascade, None)
            for waiter in waiters:
                if waiter.done():
                    continue
                if error is not None:
                    waiter.set_exception(error)
                else:
                    waiter.set_result(None)
        self._check_idle()

    def _check_idle(self) -> None:
        if not self.view.runs and not self._tasks:
            keeper = self._lease_task
            if keeper is not None and not keeper.done():
                keeper.cancel()  # idle: the next flush releases the lease
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def wait_cascade(self, cascade: str) -> None:
        """Wait until no run of ``cascade`` is pending; raise its first error."""
        self.raise_store_error()
        if cascade not in self.view.cascades:
            error = self._cascade_errors.pop(cascade, None)
            if error is not None:
                self.error_observed = True
                raise error
            return
        waiter: asyncio.Future[None] = self.bind().create_future()
        self._cascade_waiters.setdefault(cascade, []).append(waiter)
        try:
            await waiter
        except OrchestratorError:
            raise
        except Exception:
            self.error_observed = True
            raise

    async def wait_idle(self) -> None:
        """Wait until no run is pending and no run task is alive."""
        while self.view.runs or self._tasks:
            if self._store_error is not None:
                self.raise_store_error()
            if self.view.runs and not self._tasks:
                # Pending runs nobody is running: a rebuilt execution.
                self.resume_pending()
            waiter: asyncio.Future[None] = self.bind().create_future()
            self._idle_waiters.append(waiter)
            await waiter

    def cancel_tasks(self) -> list[asyncio.Task[None]]:
        """Cancel every run task (close timeout, cancellation); return them."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        return tasks

    def abort_waiters(self, error: BaseException) -> None:
        """Fail everyone awaiting a cascade or idleness (the execution was cancelled)."""
        waiters = [
            w for ws in self._cascade_waiters.values() for w in ws
        ] + self._idle_waiters
        self._cascade_waiters.clear()
        self._idle_waiters = []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(error)

    def state_before(self, seq: int) -> dict[str, JsonValue]:
        """The execution state just before ``seq`` (for re-executed runs' reads)."""
        state = self._replay_states.get(seq)
        if state is None:
            from orchestrator.projection.projector import fold

            view = fold(self.id, self.store.read_stream(self.id, 1, seq - 1))
            state = view.state
            self._replay_states[seq] = state
        return state

    # -- concurrency ----------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def permits(
        self, signal: SignalRecord
    ) -> AsyncIterator[list[asyncio.Semaphore]]:
        """Hold the execution-wide and fan-out concurrency permits of a handler."""
        held: list[asyncio.Semaphore] = []
        layers = signal["layers"]
        if layers and len(layers[-1]) > 3 and layers[-1][3]:
            group = str(layers[-1][0])
            semaphore = self._group_semaphores.get(group)
            if semaphore is None:
                semaphore = asyncio.Semaphore(int(layers[-1][3]))
                self._group_semaphores[group] = semaphore
            held.append(semaphore)
        if self._semaphore is not None:
            held.append(self._semaphore)
        for semaphore in held:
            await semaphore.acquire()
        try:
            yield held
        finally:
            for semaphore in reversed(held):
                semaphore.release()

    # -- derived ids ----------------------------------------------------------------

    @staticmethod
    def op_signal_id(run_id: str, op: int | str) -> str:
        """The id of the signal that operation ``op`` of a run emits."""
        return derive_id("s", run_id, op)


def _parent_stream(view: ExecutionView) -> str | None:
    parent = view.parent
    if not parent:
        return None
    value = parent.get("execution_id")
    return value if isinstance(value, str) else None
