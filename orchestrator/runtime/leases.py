"""Execution leases: whether another live process holds an execution, and taking it.

The lease lives in the store's stream index (owner, lease_until); appends renew
it (see :mod:`orchestrator.runtime.journal`). These two questions are asked by
the engine (before resuming a rebuilt execution), by the handle's lifecycle
calls and by recovery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.runtime.owner import owner_is_dead

if TYPE_CHECKING:
    from orchestrator.store.base import StreamInfo

__all__ = ["claim", "held_elsewhere"]


def held_elsewhere(info: StreamInfo, owner: str, now: float) -> bool:
    """True while another live process holds the execution's lease."""
    if info.owner is None or info.owner == owner:
        return False
    if info.lease_until is None or info.lease_until <= now:
        return False
    return not owner_is_dead(info.owner)


def claim(store: Any, info: StreamInfo, owner: str, ttl: float) -> bool:
    """Take the lease of an execution (stealing it from a provably dead owner)."""
    steal = (
        info.owner
        if info.owner and info.owner != owner and owner_is_dead(info.owner)
        else None
    )
    if steal is not None:
        try:
            return bool(store.claim(info.stream_id, owner, ttl, steal_from=steal))
        except TypeError:  # a backend without lease stealing: wait for expiry
            pass
    return bool(store.claim(info.stream_id, owner, ttl))
