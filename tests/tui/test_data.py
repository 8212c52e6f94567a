"""The console's read-only façade, its `triggerlog console` command, `python -m tui`."""

from __future__ import annotations

import pytest

from orchestrator.cli import Command
from orchestrator.store import SQLiteEventStore
from tests.tui.conftest import later_clock_flow
from tui.__main__ import main as tui_main
from tui.app import ConsoleApp
from tui.command import console
from tui.data import ConsoleData


def test_executions_come_from_the_index_newest_first(
    read_store: SQLiteEventStore,
) -> None:
    data = ConsoleData(read_store)
    rows = data.executions()
    assert [r.execution_id for r in rows] == ["exec-c", "exec-b", "exec-a"]
    assert [r.flow_name for r in rows] == ["returns", "orders", "orders"]
    assert data.source == read_store.url


def test_history_reads_only_new_events_after_the_first_call(
    console_db: str, read_store: SQLiteEventStore
) -> None:
    data = ConsoleData(read_store)
    history, new = data.history("exec-b")
    assert [row.seq for row in new] == list(range(1, history.last_seq + 1))
    assert history.view.status == "completed"
    again, new = data.history("exec-b")
    assert again is history
    assert new == []

    flow = later_clock_flow(console_db)
    try:
        execution = flow.create_execution(execution_id="exec-open", auto_close=False)
        execution.start({"sku": "X", "qty": 1})
        history, new = data.history("exec-open")
        first = history.last_seq
        head = data.head()
        execution.close()
        history, new = data.history("exec-open")
    finally:
        flow.store.close()
    assert [row.type for row in new] == ["execution.sealed", "execution.closed"]
    assert [row.seq for row in new] == [first + 1, first + 2]
    assert history.view.lifecycle == "closed"
    assert data.head() > head


def test_unknown_execution_raises_the_library_error(
    read_store: SQLiteEventStore,
) -> None:
    from orchestrator import ExecutionNotFoundError

    with pytest.raises(ExecutionNotFoundError):
        ConsoleData(read_store).history("nope")


def test_python_m_tui_is_the_console_command(
    console_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def fake_run(self: ConsoleApp) -> None:
        seen.append(self.source)

    monkeypatch.setattr(ConsoleApp, "run", fake_run)
    assert tui_main(["--db", console_db]) == 0
    assert seen == [console_db]


def test_the_console_command_is_a_triggerlog_command() -> None:
    command: Command = console  # mypy checks the protocol
    assert command.summary == "open the operator console (needs textual)"
