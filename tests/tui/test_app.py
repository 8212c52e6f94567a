"""Pilot tests of the console shell: executions table, event timeline, refresh."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from orchestrator import StoreError
from orchestrator.read_model import EXECUTION_KINDS, format_time
from orchestrator.store import SQLiteEventStore
from tests.tui.conftest import later_clock_flow
from tui.app import ConsoleApp
from tui.data import ConsoleData

SIZE = (120, 40)


def table_ids(app: ConsoleApp) -> list[str]:
    table = app.query_one("#executions", DataTable)
    return [str(key.value) for key in table.rows]


def column(app: ConsoleApp, table_id: str, index: int) -> list[str]:
    table = app.query_one(table_id, DataTable)
    return [str(table.get_row_at(row)[index]) for row in range(table.row_count)]


def summary(app: ConsoleApp) -> str:
    return str(app.query_one("#summary", Static).render())


async def test_table_rows_equal_the_executions_in_the_db(
    read_store: SQLiteEventStore,
) -> None:
    app = ConsoleApp(read_store, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        infos = [i for i in read_store.list_streams() if i.kind in EXECUTION_KINDS]
        assert table_ids(app) == [i.stream_id for i in infos]
        assert table_ids(app) == ["exec-c", "exec-b", "exec-a"]
        table = app.query_one("#executions", DataTable)
        for index, info in enumerate(infos):
            assert [str(cell) for cell in table.get_row_at(index)] == [
                info.stream_id,
                info.flow_name,
                info.status,
                format_time(info.updated_at),
                str(info.last_seq),
            ]
        assert column(app, "#executions", 2) == ["failed", "completed", "completed"]
        assert "console.db (read-only)" in app.sub_title


async def test_selecting_a_row_shows_its_events(read_store: SQLiteEventStore) -> None:
    app = ConsoleApp(read_store, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # the newest execution is selected first
        assert app.selected == "exec-c"
        stored = read_store.read_stream("exec-c")
        assert column(app, "#events", 2) == [e.type for e in stored]
        assert "chunk.failed" in column(app, "#events", 2)
        assert "status    failed" in summary(app)

        await pilot.press("down")
        await pilot.pause()
        assert app.selected == "exec-b"
        stored = read_store.read_stream("exec-b")
        assert column(app, "#events", 0) == [str(e.seq) for e in stored]
        assert column(app, "#events", 2) == [e.type for e in stored]
        text = summary(app)
        assert "execution exec-b" in text
        assert "status    completed" in text
        assert '"sku": "EXEC-B"' in text
        # payloads are shown literally, brackets included (no console markup)
        assert 'lines += ["EXEC-B"]' in column(app, "#events", 3)

        # border, header, then rows: y=4 is the third row (exec-a)
        await pilot.click("#executions", offset=(4, 4))
        await pilot.pause()
        assert app.selected == "exec-a"
        assert "execution exec-a" in summary(app)


async def test_r_refresh_picks_up_a_new_execution(
    console_db: str, read_store: SQLiteEventStore
) -> None:
    flow = later_clock_flow(console_db)
    app = ConsoleApp(read_store, poll_interval=None)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("down")
            await pilot.pause()
            assert app.selected == "exec-b"

            execution = flow.create_execution(execution_id="exec-d")
            await execution.async_start({"sku": "NEW", "qty": 1})
            await pilot.pause()
            assert "exec-d" not in table_ids(app)  # no polling in this test

            await pilot.press("r")
            await pilot.pause()
            assert table_ids(app) == ["exec-d", "exec-c", "exec-b", "exec-a"]
            # the selection stays on the execution, not on the row number
            assert app.selected == "exec-b"
            table = app.query_one("#executions", DataTable)
            assert table.cursor_row == 2
            assert "execution exec-b" in summary(app)
    finally:
        flow.store.close()


async def test_refresh_appends_the_new_events_of_the_selected_execution(
    console_db: str, read_store: SQLiteEventStore
) -> None:
    flow = later_clock_flow(console_db)
    execution = flow.create_execution(execution_id="exec-live", auto_close=False)
    app = ConsoleApp(read_store, poll_interval=None)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await execution.async_start({"sku": "LIVE", "qty": 3})
            await pilot.press("r")
            await pilot.pause()
            assert app.selected == "exec-c"  # a new row does not steal the cursor
            await pilot.press("up")
            await pilot.pause()
            assert app.selected == "exec-live"
            before = column(app, "#events", 2)
            assert before[-1] != "execution.closed"
            assert column(app, "#executions", 2)[0] == "running"

            await execution.async_close()
            await pilot.press("r")
            await pilot.pause()
            after = column(app, "#events", 2)
            assert after[: len(before)] == before
            assert after[len(before) :] == ["execution.sealed", "execution.closed"]
            assert column(app, "#executions", 2)[0] == "completed"
            assert "lifecycle closed (manual)" in summary(app)
    finally:
        flow.store.close()


async def test_polling_picks_up_a_new_execution_by_itself(
    console_db: str, read_store: SQLiteEventStore
) -> None:
    flow = later_clock_flow(console_db)
    app = ConsoleApp(read_store, poll_interval=0.05)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert len(table_ids(app)) == 3
            execution = flow.create_execution(execution_id="exec-d")
            await execution.async_start({"sku": "NEW", "qty": 1})
            await pilot.pause(0.3)
            assert table_ids(app)[0] == "exec-d"
    finally:
        flow.store.close()


async def test_an_empty_database_says_how_to_make_an_execution(empty_db: str) -> None:
    store = SQLiteEventStore(empty_db, read_only=True)
    app = ConsoleApp(store, poll_interval=None)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.query_one("#executions", DataTable).row_count == 0
            assert app.query_one("#events", DataTable).row_count == 0
            assert "No executions" in summary(app)
            assert "triggerlog demo" in summary(app)
    finally:
        store.close()


async def test_a_read_error_is_shown_not_raised(
    read_store: SQLiteEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: ConsoleData) -> list[object]:
        raise StoreError("disk unplugged")

    app = ConsoleApp(read_store, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        monkeypatch.setattr(ConsoleData, "executions", broken)
        await pilot.press("r")
        await pilot.pause()
        assert "StoreError: disk unplugged" in summary(app)
        assert app.is_running
        assert table_ids(app) == ["exec-c", "exec-b", "exec-a"]  # last good read
        await pilot.press("r")  # the same error again is not notified twice
        await pilot.pause()
        assert len(app._notifications) == 1

        monkeypatch.undo()
        await pilot.press("r")
        await pilot.pause()
        assert "execution exec-c" in summary(app)


async def test_q_quits(read_store: SQLiteEventStore) -> None:
    app = ConsoleApp(read_store, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
