"""StreamWriter: how an execution writes its log.

The engine holds one (``engine.journal``). Every change goes through
:meth:`StreamWriter.record`: the event is encoded
(refusing non-JSON before anything happens), applied to the live view with the
same fold that replay uses, and buffered. Buffered events are submitted to the
store once per event-loop turn as one atomic append, so a chunk does not wait
for its own events to be durable before the next one runs (pipelining). Every
boundary a caller can observe awaits :meth:`durable` first. The lease that keeps
other processes from running the execution rides on these appends (the
:class:`~orchestrator.runtime.lease_keeper.LeaseKeeper` says what each carries).
The writer never references its engine: what the engine must do when the log
refuses a write is one callback, dropped by :meth:`StreamWriter.detach`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import warnings
from typing import TYPE_CHECKING, Any

from orchestrator.errors import (
    ExecutionCancelledError,
    ExecutionStoppedError,
    LifecycleError,
    OrchestratorError,
    PayloadError,
    PayloadTooLargeError,
    StoreError,
)
from orchestrator.events.execution import SnapshotTaken
from orchestrator.log_mapper import LogMapper
from orchestrator.projection.projector import apply, fold
from orchestrator.runtime.records import restated_store_error
from orchestrator.store.base import (
    DEFAULT_MAX_EVENT_BYTES,
    AppendRequest,
    NewEvent,
    StreamMeta,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from orchestrator.clock import Clock
    from orchestrator.events.base import Event
    from orchestrator.events.values import JsonValue
    from orchestrator.projection.execution import ExecutionView
    from orchestrator.runtime.lease_keeper import LeaseKeeper
    from orchestrator.runtime.tasks import TaskSet
    from orchestrator.store.base import EventStore

__all__ = ["SnapshotSkippedWarning", "StreamWriter", "stream_meta_for"]


class SnapshotSkippedWarning(RuntimeWarning):
    """A periodic snapshot could not be encoded and was skipped; the log goes on."""


# The journal's own callbacks (flush, write completions) run in this empty
# context: with the default, each pending store future would hold a copy of the
# chunk's context, and through it the chunk's runtime data, until its batch
# commits; under a backlog that kept thousands of finished runs alive.
_BARE_CONTEXT = contextvars.Context()


class StreamWriter:
    """One execution's stream: encode, apply, buffer, append (see the module docstring)."""

    def __init__(
        self,
        view: ExecutionView,
        store: EventStore,
        clock: Clock,
        meta: StreamMeta,
        lease: LeaseKeeper,
        tasks: TaskSet,
        on_refused: Callable[[bool], None],
    ) -> None:
        self.id = view.execution_id
        self.view = view
        self.store = store
        self.clock = clock
        self.stream_meta = meta
        self.lease = lease
        # Read only: while runs of this process are alive, decisions pipeline.
        self._tasks = tasks
        # The engine's reaction to a refused append (first: the first refusal).
        self._on_refused: Callable[[bool], None] | None = on_refused
        self.mapper = LogMapper(
            int(getattr(store, "max_event_bytes", DEFAULT_MAX_EVENT_BYTES))
        )
        self.loop: asyncio.AbstractEventLoop | None = None
        self.snapshot_every = 1000
        self._snapshot_seq = view.last_seq
        self.last_position = 0
        self._buffer: list[NewEvent] = []
        self._buffer_base = view.last_seq
        self._flush_handle: asyncio.Handle | None = None
        self._flush_deferred = False
        self._last_future: asyncio.Future[Any] | None = None
        self._written_status: str | None = None
        self._store_error: BaseException | None = None
        self._extra: list[AppendRequest] = []
        self._replay_states: dict[int, dict[str, JsonValue]] = {}

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The engine bound to ``loop``: flushes are scheduled on it from now on."""
        self.loop = loop

    def detach(self) -> None:
        """Forget the engine's callback (it closed): no cycle keeps either alive."""
        self._on_refused = None

    def _closed_error(self) -> LifecycleError:
        """The error a write to a closed execution raises."""
        if self.view.status == "cancelled":
            return ExecutionCancelledError(
                f"execution {self.id!r} was cancelled ({self.view.close_reason}); this "
                "write arrived after the cancellation and was refused"
            )
        return LifecycleError(
            f"execution {self.id!r} is closed; nothing more is written to its log"
        )

    def record(self, event: Event, *, flush: bool = True) -> int:
        """Apply ``event`` to the live view and queue it for the log; return its seq."""
        self.raise_store_error()
        if self.view.lifecycle == "closed":
            # A straggler (a sync handler's thread outliving a cancel) must not
            # write after the close: the closed log is final.
            raise self._closed_error()
        now = self.clock.now()
        new_event = self.mapper.new_event(event, now, self.id)  # refuses non-JSON first
        seq = self.view.last_seq + 1
        apply(self.view, event, seq, now)
        self._buffer.append(new_event)
        if flush and self._flush_handle is None and self.loop is not None:
            self._flush_handle = self.loop.call_soon(
                self._auto_flush, context=_BARE_CONTEXT
            )
        return seq

    def _auto_flush(self) -> None:
        """The flush that ``record`` schedules: one append of this execution in flight.

        While an append is being committed, the events recorded meanwhile wait
        for it and then go as one unit. Under load this turns many one-chunk
        appends into few larger ones (less writer work, no backlog of pending
        futures for the garbage collector to walk); alone, it costs at most one
        commit of delay. Explicit flushes (``durable``, sub-flow and flow_data
        records) never wait.
        """
        self._flush_handle = None
        pending = self._last_future
        if pending is not None and not pending.done():
            self._flush_deferred = True
            return
        self.flush()

    def flush(
        self, extra: list[AppendRequest] | None = None
    ) -> asyncio.Future[Any] | None:
        """Submit buffered events (plus ``extra`` requests) as one atomic unit."""
        self._flush_handle = None
        self._flush_deferred = False
        status_changed = (
            self.view.status != self._written_status and self._buffer_base > 0
        )
        if not self._buffer and not extra and not self._extra and not status_changed:
            return self._last_future
        requests: list[AppendRequest] = []
        if self._buffer or status_changed:
            snapshot_index = self._maybe_snapshot()
            request = self._take_buffer()
            if snapshot_index is not None:
                request = request._replace(snapshot_index=snapshot_index)
            requests.append(request)
        if self._extra:
            requests.extend(self._extra)
            self._extra = []
        if extra:
            requests.extend(extra)
        try:
            future = self.store.submit(requests)
        except BaseException as error:
            self.poison(error)
            raise
        future.add_done_callback(self._on_written, context=_BARE_CONTEXT)
        self._last_future = future
        return future

    def _take_buffer(self) -> AppendRequest:
        """This stream's buffered events as one request, now counted as submitted.

        The index's status rides along only when it changed since the last one.
        """
        events, self._buffer = self._buffer, []
        status = self.view.status
        meta = self.stream_meta
        if status != self._written_status:
            meta = StreamMeta(meta.kind, meta.flow_name, meta.parent_id, status)
        request = self._request(events, meta)
        self._buffer_base += len(events)
        self._written_status = status
        return request

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
        now = self.clock.now()
        try:
            new_event = self.mapper.new_event(
                SnapshotTaken(view=self.view.to_json()), now, self.id
            )
        except PayloadTooLargeError:
            return None  # too big to snapshot; folding from the start still works
        except PayloadError as error:
            # A snapshot is an optimisation: one that cannot be encoded must never
            # hold back the real events. Try again only after another batch of them.
            self._snapshot_seq = self.view.last_seq
            warnings.warn(
                f"execution {self.id!r}: the snapshot at seq {self.view.last_seq} "
                f"was skipped, its view is {error.found}; the events are appended as "
                "usual and a rebuild folds from the previous snapshot",
                SnapshotSkippedWarning,
                stacklevel=2,
            )
            return None
        self.view.last_seq += 1
        self.view.updated_at = now
        self._buffer.append(new_event)
        self._snapshot_seq = self.view.last_seq
        return len(self._buffer) - 1

    def adopt(self) -> None:
        """The view was folded from the log: its status is what the index holds."""
        self._written_status = self.view.status

    def _request(self, events: list[NewEvent], meta: StreamMeta) -> AppendRequest:
        return self.mapper.request(
            self.id,
            events,
            expected_seq=self._buffer_base,
            meta=meta,
            owner=self.lease.owner,
            lease_ttl=self.lease.ttl_for(bool(self.view.runs)),
        )

    def keep_lease(self) -> None:
        """Renew the lease while runs are pending, even if none of them writes."""
        if self.loop is not None:
            self.lease.keep(self.loop, self._lease_tick)

    def _lease_tick(self) -> None:
        if not self.view.runs or self.view.lifecycle == "closed" or self._store_error:
            return
        if self.lease.due():
            future = self.store.submit([self._request([], self.stream_meta)])
            future.add_done_callback(self._on_written, context=_BARE_CONTEXT)
            self._last_future = future
        self.keep_lease()

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
        now = self.clock.now()
        new_event = self.mapper.new_event(event, now, self.id)
        request = self.mapper.request(
            self.id,
            [new_event],
            expected_seq=self._buffer_base,
            meta=self.stream_meta,
            owner=self.lease.owner,
            lease_ttl=self.lease.take(busy, now),
        )
        (result,) = await self.store.submit([request])
        seq = self.view.last_seq + 1
        apply(self.view, event, seq, now)
        self._buffer_base = seq
        self.last_position = result.last_position
        if self.view.status != self._written_status:
            self.flush()

    def refresh_from_log(self) -> ExecutionView | None:
        """Re-fold the view from the log when nothing of this process is in flight."""
        if self._tasks or self._buffer:
            return None
        view = fold(self.id, self.store.read_stream(self.id))
        self.view = view
        self._buffer_base = view.last_seq
        self._written_status = view.status
        self._replay_states.clear()
        return view

    def take_requests(self) -> list[AppendRequest]:
        """The buffered events as requests, for a caller that appends them itself.

        Used to create a sub-flow child atomically with its parent's record.
        """
        if not self._buffer:
            return []
        request = self._take_buffer()
        extra, self._extra = self._extra, []
        return [request, *extra]

    def add_extra(self, request: AppendRequest) -> None:
        """Write ``request`` (another stream) atomically with the next flush."""
        self._extra.append(request)

    def discard_unwritten(self) -> None:
        """Forget buffered events that were never submitted (``load`` rebinding)."""
        self._buffer = []
        self._extra = []
        self._buffer_base = self.view.last_seq

    def _on_written(self, future: asyncio.Future[Any]) -> None:
        if not future.cancelled():
            error = future.exception()
            if error is not None:
                self.poison(error)
                return
            for result in future.result():
                if result.stream_id == self.id:
                    self.last_position = result.last_position
        if self._flush_deferred and future is self._last_future:
            self.flush()

    def poison(self, error: BaseException) -> None:
        """The log refused a write: refuse every later one, and tell the engine."""
        first = self._store_error is None
        if first:
            self._store_error = error
        if self._on_refused is not None:
            self._on_refused(first)

    def refuse(self, error: BaseException) -> None:
        """Refuse every later write with ``error`` (unless one already refused)."""
        if self._store_error is None:
            self._store_error = error

    @property
    def refused(self) -> bool:
        """True once a write was refused (or the execution stopped)."""
        return self._store_error is not None

    @property
    def submitted(self) -> int:
        """How many events of this stream were submitted to the store."""
        return self._buffer_base

    def store_failure(self) -> OrchestratorError:
        """The error every later call raises once the log refused a write."""
        error = self._store_error
        if isinstance(error, ExecutionStoppedError):
            return error  # not the store: a chunk stopped the program
        if isinstance(error, StoreError) and "execution" in str(error):
            return error
        return restated_store_error(
            error,
            f"execution {self.id!r}: the log refused a write ({error}); the live "
            "execution no longer matches its log and stops here. Rebuild it from "
            "the log with flow.get_execution(id) once the store is healthy.",
        )

    def raise_store_error(self) -> None:
        """Raise if an earlier append of this execution failed."""
        if self._store_error is not None:
            raise self.store_failure()

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
            self.store.flush_blocking()
        self.raise_store_error()

    def durable_events(self) -> int:
        """How many of this execution's events the store holds (0: no log at all)."""
        try:
            head = self.store.get_stream(self.id)
        except Exception:  # noqa: BLE001 - unknown: report the usual advice
            return self._buffer_base
        return 0 if head is None else head.last_seq

    def state_before(self, seq: int) -> dict[str, JsonValue]:
        """The execution state just before ``seq`` (for re-executed runs' reads)."""
        state = self._replay_states.get(seq)
        if state is None:
            view = fold(self.id, self.store.read_stream(self.id, 1, seq - 1))
            state = view.state
            self._replay_states[seq] = state
        return state


def stream_meta_for(view: ExecutionView, flow_name: str) -> StreamMeta:
    """What the index says of an execution's stream: kind, flow, parent."""
    parent = view.parent
    value = parent.get("execution_id") if parent else None
    return StreamMeta(
        kind="child" if view.kind == "child" else "execution",
        flow_name=flow_name,
        parent_id=value if isinstance(value, str) else None,
    )
