"""Interrupts: pause_for / continue_with on the event log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.projection.execution import ExecutionView
    from orchestrator.runtime.engine import ExecutionEngine

__all__ = ["pending_interrupts", "settle_interrupts_for_close"]


async def settle_interrupts_for_close(
    engine: ExecutionEngine, policy: str
) -> str | None:
    """Apply the close policy to waiting interrupts; return a forced status or None."""
    return None


def pending_interrupts(view: ExecutionView) -> dict[str, Any]:
    """The waiting interrupts of a view, by id."""
    return {}
