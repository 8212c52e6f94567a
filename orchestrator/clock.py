"""The only place that reads wall time.

Everything that records or compares time takes a :class:`Clock`, so tests drive
time with :class:`FakeClock` and never sleep for real, and replay never depends on
when it runs.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of wall time (seconds since the epoch) and of waiting."""

    def now(self) -> float:
        """Current wall time in seconds since the epoch."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Return once ``now() >= deadline``."""
        ...


class SystemClock:
    """The real clock: ``time.time()`` and ``asyncio.sleep``."""

    def now(self) -> float:
        """Current wall time."""
        return time.time()

    async def sleep_until(self, deadline: float) -> None:
        """Sleep for real until the deadline."""
        delay = deadline - time.time()
        if delay > 0:
            await asyncio.sleep(delay)


class FakeClock:
    """A clock that only moves when told to; sleepers wake when it passes them."""

    def __init__(self, start: float = 1_735_689_600.0) -> None:  # 2025-01-01T00:00Z
        self._now = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        """The fake current time."""
        return self._now

    def set(self, value: float) -> None:
        """Jump to ``value`` (may go backwards, to test clock skew)."""
        self._now = value
        self._wake()

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds`` and wake every sleeper whose deadline passed."""
        self._now += seconds
        self._wake()

    async def sleep_until(self, deadline: float) -> None:
        """Wait until the fake time reaches ``deadline``."""
        if self._now >= deadline:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((deadline, fut))
        await fut

    @property
    def sleepers(self) -> int:
        """How many tasks are waiting on this clock."""
        return sum(1 for _, f in self._sleepers if not f.done())

    def _wake(self) -> None:
        still: list[tuple[float, asyncio.Future[None]]] = []
        for deadline, fut in self._sleepers:
            if fut.done():
                continue
            if deadline <= self._now:
                fut.get_loop().call_soon_threadsafe(_resolve, fut)
            else:
                still.append((deadline, fut))
        self._sleepers = still


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
