"""LeaseKeeper: this process's hold on one execution's lease.

While an execution has work pending here, its appends carry the lease so that no
other process runs it; once idle, the next append releases it so another process
may continue it. The keeper decides what each append carries (renew only once a
third of the lease has passed: most appends leave the index's lease alone) and
keeps a timer that renews the lease while runs are pending but nothing writes.
It never writes itself: the stream writer asks it, and submits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from orchestrator.clock import Clock

__all__ = ["LeaseKeeper"]


class LeaseKeeper:
    """Who holds the lease (``owner``), for how long (``ttl``), and when it was renewed."""

    __slots__ = ("_clock", "_timer", "owner", "renewed_at", "ttl")

    def __init__(self, owner: str | None, ttl: float | None, clock: Clock) -> None:
        self.owner = owner
        self.ttl = ttl
        self._clock = clock
        # When this process last took or renewed the lease (None: not held).
        self.renewed_at: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    def ttl_for(self, busy: bool) -> float | None:
        """The lease_ttl an ordinary append carries (None: leave the lease alone)."""
        if self.owner is None or self.ttl is None:
            return None
        now = self._clock.now()
        if busy:
            renewed = self.renewed_at
            if renewed is not None and now - renewed < self.ttl / 3:
                return None
            self.renewed_at = now
            return self.ttl
        if self.renewed_at is None:
            return None
        self.renewed_at = None
        return 0.0

    def take(self, busy: bool, now: float) -> float | None:
        """The lease_ttl a decision carries: always explicit, take it or free it."""
        if self.owner is None or self.ttl is None:
            return None
        self.renewed_at = now if busy else None
        return self.ttl if busy else 0.0

    def due(self) -> bool:
        """Whether a third of the lease has passed since it was last renewed."""
        assert self.ttl is not None
        renewed = self.renewed_at
        return renewed is None or self._clock.now() - renewed >= self.ttl / 3

    def keep(self, loop: asyncio.AbstractEventLoop, tick: Callable[[], None]) -> None:
        """Call ``tick`` a third of a lease from now, unless a timer already waits.

        A timer on the loop rather than a task: an execution that finishes within
        a third of its lease never costs more than one cancelled timer.
        """
        if self.owner is None or self.ttl is None or self._timer is not None:
            return
        self._timer = loop.call_later(self.ttl / 3, self._fired, tick)

    def _fired(self, tick: Callable[[], None]) -> None:
        self._timer = None
        tick()

    def stop(self) -> None:
        """The execution is idle or closed: no more renewals."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
