"""Emitting events from a chunk: awaited cascades and detached emits."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from orchestrator.events.values import to_json_value
from orchestrator.flow.operators import INTERNAL_EVENT_PREFIXES
from orchestrator.projection.execution import op_result
from orchestrator.runtime.interrupts import resolve_by_emit, resumes_on
from orchestrator.runtime.loop import run_sync
from orchestrator.runtime.records import op_signal_id

if TYPE_CHECKING:
    from orchestrator.events.records import SignalRecord
    from orchestrator.runtime.engine import ExecutionEngine
    from orchestrator.runtime.operations import RunOperations

__all__ = ["EmitMixin", "UnheardEventWarning", "warn_if_unheard"]


class UnheardEventWarning(RuntimeWarning):
    """An emitted event reaches nothing: no operator listens and no interrupt resumes on it."""


def warn_if_unheard(
    engine: ExecutionEngine, event: str, targets: list[str], stacklevel: int
) -> None:
    """Warn when an emit of ``event`` would reach nothing (a typo'd name, usually).

    The emit itself is still recorded: an event nobody hears is legal, and a
    flow may listen to it later. Checked before anything is written, so that a
    warnings filter turning it into an error leaves the log untouched.
    """
    if targets or resumes_on(engine, event):
        return
    listened = sorted(
        name
        for trigger_type, name in engine.definition.listeners
        if trigger_type == "event" and not name.startswith(INTERNAL_EVENT_PREFIXES)
    )
    warnings.warn(
        f"execution {engine.id!r}: nothing listens to event {event!r} (no when() or "
        f"chunk trigger, no waiting interrupt's resume_event); the events this flow "
        f"listens to are {listened}. Check the name, or wire a listener.",
        UnheardEventWarning,
        stacklevel=stacklevel + 1,
    )


class EmitMixin:
    """``emit``/``async_emit`` (await the downstream cascade) and the nowait forms."""

    __slots__ = ()

    _ops: RunOperations
    _engine: ExecutionEngine
    _signal: SignalRecord

    async def async_emit(self, event: str, value: Any = None, **_: Any) -> None:
        """Emit ``event`` and return after every handler it triggers has finished.

        "Finished" includes their continuations (the whole awaited cascade), as in
        TriggerFlow; use :meth:`emit_nowait` to fan out without waiting.
        """
        cascade = self._emit(event, value, detached=False)
        await self._await_signal(cascade)

    def emit(self, event: str, value: Any = None, **_: Any) -> None:
        """Emit from sync code.

        In a sync handler (a worker thread) this blocks until the cascade is done;
        on the event loop itself it cannot block, so it behaves like
        :meth:`emit_nowait` (the handlers run, and close waits for them).
        """
        if self._ops.in_loop_thread():
            self._emit(event, value, detached=True)
            return
        assert self._engine.loop is not None
        run_sync(self.async_emit(event, value), self._engine.loop)

    def emit_nowait(self, event: str, value: Any = None, **_: Any) -> None:
        """Emit and return at once; close() drains the triggered handlers."""
        self._ops.call(self._emit, event, value, True)

    async def async_emit_nowait(self, event: str, value: Any = None, **_: Any) -> None:
        """Async spelling of :meth:`emit_nowait`."""
        self._emit(event, value, detached=True)

    def _emit(self, event: Any, value: Any, detached: bool) -> str | None:
        if not isinstance(event, str) or not event:
            raise TypeError(
                f"emit(): the event name must be a non-empty str, got {event!r}"
            )
        json_value = to_json_value(value, f"emit({event!r})")
        index, recorded = self._ops.next("emit", event)
        if recorded is not None:
            # Emitted before a crash: its handlers are already owed in the log.
            return None if detached else str(op_result(recorded))
        engine = self._engine
        run_id = self._ops.run.run_id
        signal_id = op_signal_id(run_id, index)
        signal = engine.signal(
            signal_id,
            event,
            json_value,
            source="chunk",
            cascade=signal_id,
            layers=self._signal["layers"],
            origin=self._signal.get("origin"),
        )
        warn_if_unheard(engine, event, signal["targets"], stacklevel=4)
        resolve_by_emit(engine, event, json_value)
        engine.emit_signal(signal, run_id, index)
        return None if detached else signal_id

    async def _await_signal(self, cascade: str | None) -> None:
        if cascade is None:
            return
        await self._ops.release_while(self._engine.wait_cascade(cascade))
