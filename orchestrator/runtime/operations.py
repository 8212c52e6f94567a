"""Operations a chunk run performs on the log, each with a deterministic key.

An operation's key is ``(run_id, index)``: the run's id plus the position of the
operation in it. When a run is executed again after a crash, an operation whose
key is already in the log is not applied again (an emit does not re-trigger its
handlers, an append is not appended twice, a step returns its recorded result);
a *different* operation at a recorded index is a :class:`NondeterminismError`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, TypeVar

from orchestrator.errors import NondeterminismError
from orchestrator.projection.execution import op_kind, op_seq, op_target
from orchestrator.runtime.loop import call_in_loop

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from orchestrator.events.records import SignalRecord
    from orchestrator.flow.operators import Operator
    from orchestrator.projection.execution import OpKind, RecordedOp, RunRecord
    from orchestrator.runtime.engine import ExecutionEngine

__all__ = ["RunOperations"]

_T = TypeVar("_T")


class RunOperations:
    """The operation counter of one run attempt, and the bridge to the engine's loop."""

    __slots__ = (
        "_index",
        "_recorded",
        "engine",
        "op",
        "paused",
        "permits",
        "run",
        "signal",
    )

    def __init__(
        self,
        engine: ExecutionEngine,
        run: RunRecord,
        signal: SignalRecord,
        op: Operator,
    ) -> None:
        self.engine = engine
        self.run = run
        self.signal = signal
        self.op = op
        self.permits: list[asyncio.Semaphore] = []
        # Interrupts this attempt raised (or replayed): it must return a pause.
        self.paused: list[str] | None = None
        self._index = 0
        # Operations recorded by earlier attempts of this run (crash, retry).
        self._recorded: dict[int, RecordedOp] = {
            rec[0]: rec for rec in run.ops if rec[0] is not None
        }

    @property
    def replaying(self) -> bool:
        """True while this attempt is still inside what an earlier one recorded."""
        return self._index in self._recorded

    def recorded_seq(self) -> int:
        """The log seq of the recorded operation at the current index."""
        return op_seq(self._recorded[self._index])

    def peek(self) -> int:
        """The index the next operation will get."""
        return self._index

    def next(self, kind: OpKind, target: Any) -> tuple[int, RecordedOp | None]:
        """Claim the next operation index; return it and its recorded form, if any."""
        index = self._index
        self._index += 1
        recorded = self._recorded.get(index)
        if recorded is not None and (
            op_kind(recorded) != kind or op_target(recorded) != target
        ):
            raise NondeterminismError(
                self.engine.id,
                self.op.name,
                index,
                {"kind": op_kind(recorded), "target": op_target(recorded)},
                {"kind": kind, "target": target},
                seq=recorded[4],
            )
        return index, recorded

    # -- thread bridge ----------------------------------------------------------------

    def in_loop_thread(self) -> bool:
        """True on the thread of the engine's event loop."""
        thread = self.engine.loop_thread
        return thread is None or thread == threading.get_ident()

    def call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run ``fn`` on the engine's loop thread (sync handlers run in workers)."""
        if self.in_loop_thread():
            return fn(*args)
        assert self.engine.loop is not None
        return call_in_loop(self.engine.loop, fn, *args)

    async def release_while(self, awaitable: Any) -> Any:
        """Await ``awaitable`` without holding this handler's concurrency permits."""
        for permit in self.permits:
            permit.release()
        try:
            return await awaitable
        finally:
            for permit in self.permits:
                await permit.acquire()
