"""The flow-shared data layer (``flow_data`` / ``flow_state``) on the flow's stream.

flow_data is shared by every execution of a flow, so it lives on a stream of its
own (``flow:<name>``), read from the log the first time this process touches it
and kept in step with this process's writes. Before each use the cached fold is
checked against the log (the store's cheap change probe, then the stream's head
seq), so writes committed by other processes are seen too. A change broadcasts a
``flow_data`` signal to every live execution of the flow in this process that
listens to the key. Every call warns, as TriggerFlow does, unless
``no_warning=True``: per-request data belongs in ``state``.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import TYPE_CHECKING, Any, Protocol

from orchestrator.events.chunk import SignalEmitted
from orchestrator.events.flow_state import (
    FlowDataAppended,
    FlowDataDeleted,
    FlowDataSet,
    FlowDataWritten,
    FlowDefined,
)
from orchestrator.events.values import JsonValue, to_json_value
from orchestrator.log_mapper import LogMapper
from orchestrator.projection.flow_state import FlowStateView, flow_stream_id
from orchestrator.projection.paths import MISSING, copy_json, get_path, write_depth
from orchestrator.projection.projector import apply_flow, fold_flow
from orchestrator.runtime.loop import on_loop
from orchestrator.store.base import AppendRequest, StreamMeta

if TYPE_CHECKING:
    from collections.abc import Sequence

    from orchestrator.clock import Clock
    from orchestrator.events.base import Event
    from orchestrator.events.records import SignalRecord
    from orchestrator.flow.definition import FlowDefinition
    from orchestrator.projection.execution import ExecutionView
    from orchestrator.runtime.records import WriteAction
    from orchestrator.store.base import EventStore

__all__ = ["FlowDataHost", "FlowDataService", "FlowDataWarning", "LiveExecution"]


class LiveExecution(Protocol):
    """What flow_data does with a live execution: write with it, signal it.

    The execution engine (a floor above) is one; flow_data needs no more of it.
    """

    id: str
    view: ExecutionView
    definition: FlowDefinition
    loop: asyncio.AbstractEventLoop | None

    def record(self, event: Event, *, flush: bool = True) -> int: ...  # noqa: D102
    def flush(  # noqa: D102
        self, extra: list[AppendRequest] | None = None
    ) -> asyncio.Future[Any] | None: ...
    def spawn(self, signal: SignalRecord) -> None: ...  # noqa: D102
    def emit_signal(  # noqa: D102
        self, signal: SignalRecord, run_id: str | None = None, op: int | None = None
    ) -> None: ...
    def external_signal(  # noqa: D102
        self,
        event: str,
        value: JsonValue,
        *,
        trigger_type: str = "event",
        source: str = "runtime",
    ) -> SignalRecord: ...


class FlowDataHost(Protocol):
    """The flow whose shared data this is, as flow_data sees it."""

    @property
    def name(self) -> str: ...  # noqa: D102
    @property
    def store(self) -> EventStore: ...  # noqa: D102
    @property
    def clock(self) -> Clock: ...  # noqa: D102
    def live_engines(self) -> Sequence[LiveExecution]: ...  # noqa: D102


_WARNING = (
    "flow_data is shared by every execution of flow {flow!r} ({what}); concurrent "
    "executions overwrite each other. Use state for per-execution data, or pass "
    "no_warning=True if sharing is intended."
)


# flow_data events are not capped here (the store's cap applies), as before.
_MAPPER = LogMapper()


class FlowDataWarning(RuntimeWarning):
    """flow_data was used without ``no_warning=True``."""


class FlowDataService:
    """Reads and writes of one flow's shared data."""

    def __init__(self, host: FlowDataHost, stream_id: str | None = None) -> None:
        self._host = host
        self._stream_id = stream_id
        self._view: FlowStateView | None = None
        self._version: object = None
        self._last: asyncio.Future[Any] | None = None

    @property
    def stream_id(self) -> str:
        """The flow's own stream (a sub-flow child has an isolated one)."""
        return self._stream_id or flow_stream_id(self._host.name)

    @property
    def view(self) -> FlowStateView:
        """The folded flow stream, as of the latest commit to it by anyone."""
        store = self._host.store
        version = _change_probe(store)
        view = self._view
        if view is not None and version == self._version:
            return view  # nothing was committed since the last check: the hot path
        # This process's own writes are applied to the view when submitted, so
        # a head at or below the view's seq holds nothing new. Above it, another
        # writer committed: fold again. (A write of ours still in flight then
        # shows once it commits, at its place in the log.)
        if view is not None and _stream_head(store, self.stream_id) <= view.last_seq:
            self._version = version
            return view
        events = store.read_stream(self.stream_id)
        self._view = fold_flow(self._host.name, events)
        self._version = version
        return self._view

    @property
    def cached(self) -> FlowStateView:
        """The view as last checked (right after :attr:`view`: no second probe)."""
        return self._view if self._view is not None else self.view

    def reset(self) -> None:
        """Forget the folded view (the store or the flow name changed)."""
        self._view = None
        self._version = None

    def warn(self, what: str, no_warning: bool, stacklevel: int = 3) -> None:
        """Warn about shared scope unless silenced."""
        if not no_warning:
            warnings.warn(
                _WARNING.format(flow=self._host.name, what=what),
                FlowDataWarning,
                stacklevel=stacklevel,
            )

    def get(
        self,
        key: str | None,
        default: Any = None,
        *,
        no_warning: bool = False,
        stacklevel: int = 3,
    ) -> Any:
        """A copy of ``flow_data[key]`` (or all of it)."""
        self.warn("get_flow_data", no_warning, stacklevel + 1)
        data = self.view.flow_data
        if key is None:
            return copy_json(data)
        found = get_path(data, key, MISSING)
        return default if found is MISSING else copy_json(found)

    # -- writes ---------------------------------------------------------------------

    def _event(
        self, action: WriteAction, key: str, value: JsonValue, execution_id: str | None
    ) -> Event:
        if action == "set":
            return FlowDataSet(key=key, value=value, execution_id=execution_id)
        if action == "append":
            return FlowDataAppended(key=key, value=value, execution_id=execution_id)
        return FlowDataDeleted(key=key, execution_id=execution_id)

    def _request(self, event: Event) -> AppendRequest:
        now = self._host.clock.now()
        new_event = _MAPPER.new_event(event, now, self.stream_id)  # refuses first
        view = self.view
        apply_flow(view, event, view.last_seq + 1)
        meta = StreamMeta(kind="flow", flow_name=self._host.name, status="open")
        return _MAPPER.request(self.stream_id, [new_event], meta=meta)

    def write(
        self, action: WriteAction, key: str, value: Any, *, emit: bool = True
    ) -> str | None:
        """A write from outside any execution (``flow.set_flow_data``)."""
        json_value = (
            None
            if action == "delete"
            else to_json_value(
                value,
                f"{action}_flow_data({key!r})",
                depth=write_depth(key, action == "append"),
            )
        )
        request = self._request(self._event(action, key, json_value, None))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._last = self._host.store.submit([request])
        else:
            self._host.store.append_blocking([request])
        if emit:
            self._broadcast(key, None)
        return None

    async def durable(self) -> None:
        """Wait for this flow's own writes to be durable."""
        if self._last is not None and not self._last.done():
            await asyncio.shield(self._last)

    def write_request(
        self, key: str, value: JsonValue, execution_id: str
    ) -> AppendRequest:
        """Set ``key`` (applied to the view now); the caller appends the request."""
        return self._request(self._event("set", key, value, execution_id))

    def write_from_run(
        self,
        engine: LiveExecution,
        action: WriteAction,
        key: str,
        value: JsonValue,
        run_id: str,
        index: int,
        emit: bool,
    ) -> str | None:
        """A chunk run's write: op marker, flow event and own signal, one append.

        The signal to this execution must go with the marker: a re-executed run skips the logged
        write, so a signal left for a later append would be lost by a crash in
        between (found by replaying a recorded history cut at every commit).
        """
        request = self._request(self._event(action, key, value, engine.id))
        engine.record(
            FlowDataWritten(action=action, key=key, run_id=run_id, op=index),
            flush=False,
        )
        signal = self._signal_for(engine, key) if emit else None
        if signal is not None:
            engine.record(SignalEmitted(signal=signal), flush=False)
        engine.flush(extra=[request])
        if signal is not None:
            engine.spawn(signal)
        if emit:
            self._broadcast(key, engine)
        return signal["cascade"] if signal is not None else None

    def _signal_for(self, engine: LiveExecution, key: str) -> SignalRecord | None:
        """The flow_data signal ``engine`` gets for ``key``, if it listens to it."""
        if not engine.definition.targets("flow_data", key) or engine.loop is None:
            return None
        if engine.view.lifecycle == "closed":
            return None
        value = copy_json(get_path(self.cached.flow_data, key, None))
        return engine.external_signal(
            key, value, trigger_type="flow_data", source="flow_data"
        )

    def _broadcast(self, key: str, origin: LiveExecution | None) -> None:
        """Deliver a change to every other live execution listening to ``key``."""
        value = copy_json(get_path(self.cached.flow_data, key, None))
        for engine in self._host.live_engines():
            if engine is origin:
                continue  # signalled with the write itself
            if not engine.definition.targets("flow_data", key) or engine.loop is None:
                continue
            if engine.view.lifecycle == "closed":
                continue
            if on_loop(engine.loop):
                _deliver(engine, key, copy_json(value))
            else:
                engine.loop.call_soon_threadsafe(
                    _deliver, engine, key, copy_json(value)
                )

    def definition_request(self, definition: FlowDefinition) -> AppendRequest | None:
        """The FlowDefined event to log with an execution, unless already logged.

        The blueprint is built only when it is written: ``to_config`` of a large
        flow is costly, and every execution after the first finds it logged.
        """
        fingerprint = definition.fingerprint
        # Definitions are only ever added: one already seen needs no probe of
        # the log (this runs for every new execution).
        if (
            fingerprint in self.cached.definitions
            or fingerprint in self.view.definitions
        ):
            return None
        blueprint = definition.to_config()
        return self._request(FlowDefined(fingerprint=fingerprint, blueprint=blueprint))


def _change_probe(store: EventStore) -> object:
    """A value that changes whenever anything is committed to ``store``.

    SQLite's ``PRAGMA data_version`` costs no read transaction; a store without
    a probe is asked for its head position.
    """
    probe = getattr(store, "data_version", None)
    return probe() if probe is not None else store.head_position()


def _stream_head(store: EventStore, stream_id: str) -> int:
    """The stream's last seq (0 when absent), by the cheapest read the store has."""
    head = getattr(store, "stream_head", None)
    if head is not None:
        return int(head(stream_id))
    info = store.get_stream(stream_id)
    return info.last_seq if info is not None else 0


def _deliver(engine: LiveExecution, key: str, value: JsonValue) -> None:
    if engine.view.lifecycle == "closed":
        return
    signal = engine.external_signal(
        key, value, trigger_type="flow_data", source="flow_data"
    )
    engine.emit_signal(signal)
