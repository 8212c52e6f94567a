"""The run tasks of one execution, and the concurrency permits they share.

One asyncio task per pending run, named after the run; the execution-wide
``concurrency`` semaphore and one semaphore per concurrency-capped fan-out.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from orchestrator.runtime.records import mark_group, mark_limit

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from typing import Any

    from orchestrator.events.records import SignalRecord

__all__ = ["TaskSet"]

_PREFIX = "triggerlog-run-"


class TaskSet:
    """Run tasks by run id, and the semaphores that cap how many run at once."""

    __slots__ = ("_groups", "_limit", "_tasks")

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._limit: asyncio.Semaphore | None = None
        self._groups: dict[str, asyncio.Semaphore] = {}

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._tasks

    def __len__(self) -> int:
        return len(self._tasks)

    def limit(self, concurrency: int | None) -> None:
        """Cap the execution's runs at ``concurrency`` (on binding to a loop)."""
        if concurrency:
            self._limit = asyncio.Semaphore(concurrency)

    def start(
        self,
        loop: asyncio.AbstractEventLoop,
        run_id: str,
        coro: Coroutine[Any, Any, None],
        done: Callable[[asyncio.Task[None]], None],
    ) -> None:
        """Run ``coro`` as the task of ``run_id``; ``done`` is called when it ends."""
        task = loop.create_task(coro, name=f"{_PREFIX}{run_id}")
        self._tasks[run_id] = task
        task.add_done_callback(done)

    def finished(self, task: asyncio.Task[None]) -> str:
        """Forget an ended task; return its run id."""
        run_id = task.get_name().removeprefix(_PREFIX)
        self._tasks.pop(run_id, None)
        return run_id

    def cancel_all(self) -> list[asyncio.Task[None]]:
        """Cancel every run task (close timeout, cancellation); return them."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        return tasks

    def permits_for(self, signal: SignalRecord) -> list[asyncio.Semaphore]:
        """The execution-wide and fan-out concurrency semaphores a handler needs.

        A plain list (usually empty) rather than a context manager: the common
        case then costs no generator or awaits per chunk run.
        """
        layers = signal["layers"]
        needed: list[asyncio.Semaphore] = []
        limit = mark_limit(layers[-1]) if layers else 0
        if limit:
            group = mark_group(layers[-1])
            semaphore = self._groups.get(group)
            if semaphore is None:
                semaphore = asyncio.Semaphore(limit)
                self._groups[group] = semaphore
            needed.append(semaphore)
        if self._limit is not None:
            needed.append(self._limit)
        return needed
