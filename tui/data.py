"""The console's read-only façade over the library: no SQL, no backend import.

The console is handed an :class:`~orchestrator.EventStore` (opened read-only by
its command, :mod:`tui.command`) and reads it only through the store protocol and
the library's public read model (:mod:`orchestrator.read_model`), so the console and
``triggerlog list/show`` describe executions in the same words. Every call is one
short read transaction; nothing is held open between calls, so a console left
running never pins the WAL.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from orchestrator.read_model import ExecutionHistory, list_executions, read_history

if TYPE_CHECKING:
    from orchestrator import EventStore
    from orchestrator.read_model import EventRow, ExecutionRow

__all__ = ["ConsoleData"]


class ConsoleData:
    """What the console shows, read incrementally.

    Args:
        store: the event store to read (the console never writes to it).
        cache_size: how many execution histories to keep folded in memory.
    """

    def __init__(self, store: EventStore, *, cache_size: int = 16) -> None:
        self._store = store
        self._cache_size = cache_size
        self._histories: OrderedDict[str, ExecutionHistory] = OrderedDict()

    @property
    def source(self) -> str:
        """The store's URL."""
        return self._store.url

    def head(self) -> int:
        """The log's highest position: a change marker that is cheap to poll."""
        return self._store.head_position()

    def executions(self) -> list[ExecutionRow]:
        """Every execution in the streams index, most recently updated first."""
        return list_executions(self._store)

    def history(self, execution_id: str) -> tuple[ExecutionHistory, list[EventRow]]:
        """The execution's history, and the rows that are new since the last call.

        The first call for an execution reads its whole stream; later calls read
        only the events after the last one seen.
        """
        history = self._histories.get(execution_id)
        if history is None:
            history = read_history(self._store, execution_id)
            new = list(history.rows)
            self._histories[execution_id] = history
            while len(self._histories) > self._cache_size:
                self._histories.popitem(last=False)
        else:
            self._histories.move_to_end(execution_id)
            new = history.advance(self._store)
        return history, new
