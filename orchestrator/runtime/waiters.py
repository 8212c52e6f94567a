"""Who awaits a cascade draining, or the execution going idle.

A cascade is every run descended from one signal; an awaited emit waits for
its cascade, ``close()`` and ``wait_idle()`` for no run at all. The engine says
when a cascade drained (with its first error) or the execution went idle; a
store failure or a cancellation fails every waiter at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

__all__ = ["Waiters"]


class Waiters:
    """The futures awaiting cascades and idleness, and the cascades' first errors."""

    __slots__ = ("_cascades", "_errors", "_idle")

    def __init__(self) -> None:
        self._cascades: dict[str, list[asyncio.Future[None]]] = {}
        self._errors: dict[str, BaseException] = {}
        self._idle: list[asyncio.Future[None]] = []

    def for_cascade(
        self, loop: asyncio.AbstractEventLoop, cascade: str
    ) -> asyncio.Future[None]:
        """A future resolved when ``cascade`` drains (failed with its first error)."""
        waiter: asyncio.Future[None] = loop.create_future()
        self._cascades.setdefault(cascade, []).append(waiter)
        return waiter

    def for_idle(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """A future resolved when the execution is next idle."""
        waiter: asyncio.Future[None] = loop.create_future()
        self._idle.append(waiter)
        return waiter

    def cascade_failed(self, cascade: str, error: BaseException) -> None:
        """Keep the first error of ``cascade`` for whoever awaits it."""
        self._errors.setdefault(cascade, error)

    def take_error(self, cascade: str) -> BaseException | None:
        """The first error of a drained ``cascade``, handed out once."""
        return self._errors.pop(cascade, None)

    def cascade_drained(self, cascade: str) -> None:
        """Resolve the waiters of ``cascade`` (with its first error, if any)."""
        waiters = self._cascades.pop(cascade, [])
        error = self._errors.pop(cascade, None)
        for waiter in waiters:
            if waiter.done():
                continue
            if error is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result(None)

    def now_idle(self) -> None:
        """Resolve every idleness waiter."""
        waiters, self._idle = self._idle, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def fail_all(self, error_for: Callable[[], BaseException]) -> None:
        """Fail every waiter, cascade and idle, with ``error_for()`` each."""
        waiters = [w for ws in self._cascades.values() for w in ws] + self._idle
        self._cascades.clear()
        self._idle = []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(error_for())
