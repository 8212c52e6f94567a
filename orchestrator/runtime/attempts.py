"""One chunk attempt: its deadline, and telling a cancellation from a failure.

A run task is cancelled only when someone asks for it (``cancel``, a close
timeout, a store failure, the loop shutting down); a CancelledError that leaves
a handler without such a request is the handler's own failure and is recorded
as one, else the run would stay pending forever.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ChunkError, ChunkTimeoutError

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from orchestrator.runtime.engine import ExecutionEngine

__all__ = ["cancel_requested", "stray_cancellation", "with_timeout"]


def cancel_requested() -> bool:
    """True when someone asked to cancel the running task (close, cancel, shutdown).

    A CancelledError raised while nobody did came from something the code
    awaited being cancelled by another party: that is a failure of the code,
    not a cancellation of the run (which would leave the run pending forever).
    """
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


def stray_cancellation(
    execution_id: str, chunk: str, cancelled: asyncio.CancelledError
) -> ChunkError:
    """The failure recorded for a CancelledError nobody asked this run for."""
    error = ChunkError(
        execution_id,
        chunk,
        "CancelledError",
        "a CancelledError left the handler although nobody cancelled its run: "
        "something it awaited (a future or task) was cancelled by another party. "
        "Recorded as a failure of the chunk",
    )
    error.__cause__ = cancelled
    return error


async def with_timeout(
    engine: ExecutionEngine,
    work: Awaitable[Any],
    limit: float | None,
    chunk: str,
    attempt: int,
) -> Any:
    """Await ``work`` with a deadline measured on the engine's clock.

    Not ``asyncio.timeout``: the deadline must follow the injected clock so that
    tests drive it with a FakeClock.
    """
    if limit is None:
        return await work
    task = asyncio.ensure_future(work)
    timer = asyncio.ensure_future(engine.clock.sleep_until(engine.clock.now() + limit))
    try:
        await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        timer.cancel()
        raise
    if task.done():
        timer.cancel()
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    raise ChunkTimeoutError(engine.id, chunk, float(limit), attempt)
