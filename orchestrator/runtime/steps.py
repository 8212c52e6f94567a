"""Journaled steps and durable timers inside chunks.

``await data.step(name, fn, *args)`` calls ``fn`` once and records its result
(or its error) under the operation key of the chunk run; when the run executes
again (a crash, a retry), the recorded result is returned without calling
``fn``. The one window in which ``fn`` can run twice — the process dies after
``fn`` returned and before its record is durable — is covered by
``data.step_key``: a deterministic idempotency key to hand to the outside world.

``await data.sleep(seconds)`` records the wall time it wakes at before sleeping,
so a recovered execution wakes at that time, not a full duration later.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, overload

import anyio

from orchestrator.errors import LifecycleError
from orchestrator.events.step import StepCompleted, StepFailed, TimerFired, TimerStarted
from orchestrator.events.values import to_json_value
from orchestrator.projection.execution import op_result
from orchestrator.projection.paths import copy_json
from orchestrator.runtime.records import error_record

if TYPE_CHECKING:
    from collections.abc import Callable

    from orchestrator.runtime.engine import ExecutionEngine
    from orchestrator.runtime.operations import RunOperations

__all__ = ["CURRENT_DATA", "StepMixin", "step"]

CURRENT_DATA: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "triggerlog_current_data"
)

_F = TypeVar("_F", bound="Callable[..., Any]")


class StepMixin:
    """``step``, ``step_key``, ``sleep`` and ``sleep_until`` of the runtime data."""

    __slots__ = ("_step_key",)

    _ops: RunOperations
    _engine: ExecutionEngine
    _step_key: str | None

    @property
    def step_key(self) -> str:
        """Idempotency key of the step being run (or the next operation).

        ``"<execution_id>:<run_id>:<op index>"``: the same on every re-execution,
        so an external system can drop the duplicate of a step that ran twice.
        """
        if self._step_key is not None:
            return self._step_key
        return self._key(self._ops.peek())

    def _key(self, index: int) -> str:
        return f"{self._engine.id}:{self._ops.run.run_id}:{index}"

    async def step(
        self, name: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Any:
        """Run a side effect once and record its result; replay returns the record."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"step(): name must be a non-empty str, got {name!r}")
        index, recorded = self._ops.next("step", name)
        if recorded is not None and "result" in op_result(recorded):
            return copy_json(op_result(recorded)["result"])
        engine = self._engine
        run_id = self._ops.run.run_id
        self._step_key = self._key(index)
        try:
            if inspect.iscoroutinefunction(fn):
                result = await fn(*args, **kwargs)
            else:
                result = await anyio.to_thread.run_sync(
                    functools.partial(fn, *args, **kwargs)
                )
            while inspect.isawaitable(result):
                result = await result
        except Exception as error:
            engine.record(
                StepFailed(
                    run_id=run_id, op=index, name=name, error=error_record(error)
                )
            )
            raise
        finally:
            self._step_key = None
        value = to_json_value(result, f"step {name!r} result")
        engine.record(StepCompleted(run_id=run_id, op=index, name=name, result=value))
        # The record is the only thing that stops a second call: wait for it.
        await engine.durable()
        return copy_json(value)

    async def sleep(self, seconds: float) -> None:
        """A durable timer: wake ``seconds`` from now, even across a crash."""
        if seconds < 0:
            raise ValueError(f"sleep(): seconds must be >= 0, got {seconds}")
        await self._sleep_until(self._engine.clock.now() + float(seconds))

    async def sleep_until(self, when: datetime | float) -> None:
        """A durable timer until ``when`` (an aware datetime or epoch seconds)."""
        if isinstance(when, datetime):
            if when.tzinfo is None:
                raise ValueError(
                    "sleep_until(): pass a timezone-aware datetime (e.g. datetime.now(UTC)); "
                    "a naive one is ambiguous across machines"
                )
            wake_at = when.timestamp()
        else:
            wake_at = float(when)
        await self._sleep_until(wake_at)

    async def _sleep_until(self, wake_at: float) -> None:
        index, recorded = self._ops.next("sleep", "timer")
        engine = self._engine
        run_id = self._ops.run.run_id
        if recorded is not None:
            if op_result(recorded).get("fired"):
                return
            wake_at = float(op_result(recorded)["wake_at"])
        else:
            engine.record(TimerStarted(run_id=run_id, op=index, wake_at=wake_at))
            await engine.durable()
        await self._ops.release_while(engine.clock.sleep_until(wake_at))
        engine.record(TimerFired(run_id=run_id, op=index))


@overload
def step(name: _F, /) -> _F: ...
@overload
def step(name: str | None = None, /) -> Callable[[_F], _F]: ...


def step(name: Any = None, /) -> Any:
    """Decorator form of ``data.step``: ``@step`` or ``@step("charge")``.

    Calling the decorated function inside a chunk runs it as a journaled step of
    that chunk (``await charge(order)``); it must be awaited.
    """
    if callable(name):
        return _wrap(name, getattr(name, "__name__", "step"))

    def decorate(fn: _F) -> _F:
        wrapped: _F = _wrap(fn, name or getattr(fn, "__name__", "step"))
        return wrapped

    return decorate


def _wrap(fn: Any, name: str) -> Any:
    @functools.wraps(fn)
    async def journaled(*args: Any, **kwargs: Any) -> Any:
        data = CURRENT_DATA.get(None)
        if data is None:
            raise LifecycleError(
                f"@step function {name!r} was called outside a chunk; call it from a "
                "chunk handler (it is journaled in that chunk run)"
            )
        return await data.step(name, fn, *args, **kwargs)

    return journaled
