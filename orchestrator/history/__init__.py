"""Execution histories as JSON documents: export one from a store, import one into a store.

A history holds every stream an execution's replay needs: the execution's own
stream, its sub-flow children (recursively) and the flow streams of every flow
involved (flow_data and the recorded definitions). Payloads are JSON values, not
bytes, so a history reads and diffs as text: it is what goes into a bug report,
and what golden-history tests replay against new code (docs/testing.md).

Importing is all-or-nothing: every event is decoded (known type, current
upcasters) before anything is written, and all streams go in as one atomic
append at seq 1, so a store that already holds one of them raises
:class:`~orchestrator.errors.ConcurrencyError` and keeps nothing of the import.

This package sits above :mod:`orchestrator.projection` (pure folds, no I/O) and
:mod:`orchestrator.store`: :mod:`~orchestrator.history.tree` and
:mod:`~orchestrator.history.document` check a document and turn it into one
append without a store; :mod:`~orchestrator.history.transfer` reads and writes
the store. The public names are re-exported by :mod:`orchestrator.testing`
(``export_history``, ``import_history``) and used by ``triggerlog export/import``.
"""

from orchestrator.history.document import PreparedHistory, prepare_history
from orchestrator.history.transfer import export_history, import_history, write_history
from orchestrator.history.tree import HISTORY_FORMAT

__all__ = [
    "HISTORY_FORMAT",
    "PreparedHistory",
    "export_history",
    "import_history",
    "prepare_history",
    "write_history",
]
