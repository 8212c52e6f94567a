"""Lifecycle calls on a handle whose execution another process may be running.

A handle from ``flow.get_execution(id)`` is a fold of the log at that moment.
Before it closes or cancels, it catches up with what other processes appended
since, and it refuses (writing nothing) while a live process holds the
execution's lease: that process is running chunks this handle can neither see
finish nor stop, so waiting for them here would wait forever, and running them
here would run them twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.errors import ExecutionHeldElsewhereError
from orchestrator.runtime.leases import held_elsewhere
from orchestrator.runtime.owner import process_owner

if TYPE_CHECKING:
    from orchestrator.runtime.engine import ExecutionEngine

__all__ = ["refuse_if_held_elsewhere"]


def refuse_if_held_elsewhere(engine: ExecutionEngine, action: str) -> None:
    """Catch up with the log; raise ExecutionHeldElsewhereError if another process runs it.

    ``action`` names the refused call in the message (``close``, ``cancel``).
    After a catch-up the engine's view may be a new object, and may be closed.
    """
    info = engine.store.get_stream(engine.id)
    if info is None:
        return
    if info.last_seq > engine.view.last_seq:
        # Another process appended since this handle was folded (its view can
        # never be ahead of the log by someone else's events). A no-op while
        # this process has work in flight on it.
        engine.refresh_from_log()
    if engine.view.lifecycle == "closed":
        return
    owner = engine.lease.owner or process_owner()
    if held_elsewhere(info, owner, engine.clock.now()):
        assert info.owner is not None  # held_elsewhere checked it
        raise ExecutionHeldElsewhereError(
            engine.id, action, info.owner, info.lease_until, info.updated_at
        )
