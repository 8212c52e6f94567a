"""ConsoleApp: the executions table and the selected execution's event timeline.

A read-only shell (the full console comes later): the top table lists executions
from the streams index; moving the cursor shows that execution's events and its
folded state below. Every second the app reads the log's head position (one short
read) and re-reads only when it moved, appending just the new events of the
selected execution.

| Key | Action |
|-----|--------|
| ``q`` | quit |
| ``r`` | refresh now |
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import orjson
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from orchestrator import OrchestratorError
from orchestrator.read_model import format_time
from tui.data import ConsoleData

if TYPE_CHECKING:
    from orchestrator import EventStore
    from orchestrator.read_model import EventRow, ExecutionHistory, ExecutionRow

__all__ = ["STATUS_STYLES", "ConsoleApp"]

STATUS_STYLES: dict[str, str] = {
    "created": "dim",
    "running": "cyan",
    "waiting": "yellow",
    "completed": "green",
    "failed": "bold red",
    "cancelled": "magenta",
}

EXECUTION_COLUMNS = (
    ("id", "id"),
    ("flow", "flow"),
    ("status", "status"),
    ("updated (UTC)", "updated"),
    ("events", "events"),
)
EVENT_COLUMNS = (
    ("seq", "seq"),
    ("time", "time"),
    ("type", "type"),
    ("payload", "payload"),
)


class ConsoleApp(App[None]):
    """The triggerlog operator console (read-only shell).

    Args:
        store: the event store to show; the caller opens it (read-only) and closes it.
        source: how to name the store in the header (default: its URL).
        poll_interval: seconds between change checks; ``None`` polls never (tests).

    Example:
        ```python
        store = SQLiteEventStore("triggerlog.db", read_only=True)
        ConsoleApp(store).run()
        ```
    """

    TITLE = "triggerlog console"
    CSS_PATH = "styles.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(
        self,
        store: EventStore,
        *,
        source: str | None = None,
        poll_interval: float | None = 1.0,
    ) -> None:
        super().__init__()
        self.data = ConsoleData(store)
        self.source = source or store.url
        self.poll_interval = poll_interval
        self.selected: str | None = None
        self._head = -1
        self._shown: str | None = None
        self._last_error: str | None = None

    # -- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Header, executions table, events table beside the execution summary."""
        yield Header()
        yield DataTable(id="executions", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="detail"):
            yield DataTable(id="events", cursor_type="row")
            with VerticalScroll(id="summary-pane"):
                yield Static(id="summary", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Set up the columns, read once, start polling."""
        self.sub_title = f"{self.source} (read-only)"
        executions = self.query_one("#executions", DataTable)
        for label, key in EXECUTION_COLUMNS:
            executions.add_column(label, key=key)
        events = self.query_one("#events", DataTable)
        for label, key in EVENT_COLUMNS:
            events.add_column(label, key=key)
        self.reload()
        if self.poll_interval:
            self.set_interval(self.poll_interval, self.poll)
        executions.focus()

    # -- reading ----------------------------------------------------------------------

    def action_refresh(self) -> None:
        """``r``: read the index and the selected execution again now."""
        self.reload()

    def poll(self) -> None:
        """Re-read only if the log moved (one short read of its head)."""
        try:
            head = self.data.head()
        except OrchestratorError as error:
            self._show_error(error)
            return
        if head != self._head:
            self.reload()

    def reload(self) -> None:
        """Read the executions and the selected execution's new events."""
        try:
            head = self.data.head()
            rows = self.data.executions()
        except OrchestratorError as error:
            self._show_error(error)
            return
        self._head = head
        self._last_error = None
        self._fill_executions(rows)
        ids = [row.execution_id for row in rows]
        if self.selected not in ids:
            self.selected = ids[0] if ids else None
        self.show_execution(self.selected)

    def _fill_executions(self, rows: list[ExecutionRow]) -> None:
        table = self.query_one("#executions", DataTable)
        cells = {row.execution_id: _execution_cells(row) for row in rows}
        current = [key.value for key in table.rows]
        if current == list(cells):
            # Same executions in the same order: update the cells in place.
            for execution_id, values in cells.items():
                for (_, column), value in zip(EXECUTION_COLUMNS, values, strict=True):
                    table.update_cell(execution_id, column, value)
            return
        table.clear()
        for execution_id, values in cells.items():
            table.add_row(*values, key=execution_id)
        if self.selected in cells:
            table.move_cursor(row=list(cells).index(self.selected))

    def show_execution(self, execution_id: str | None) -> None:
        """Show (or extend) the events and summary of ``execution_id``."""
        events = self.query_one("#events", DataTable)
        summary = self.query_one("#summary", Static)
        if execution_id is None:
            events.clear()
            self._shown = None
            summary.update(
                f"No executions in {self.source} yet.\n\n"
                f"Run `triggerlog demo --db {self.source}` to make one; "
                "this console picks it up by itself."
            )
            return
        try:
            history, new = self.data.history(execution_id)
        except OrchestratorError as error:
            self._show_error(error)
            return
        if execution_id != self._shown:
            events.clear()
            new = history.rows
            self._shown = execution_id
        for row in new:
            events.add_row(*_event_cells(row), key=str(row.seq))
        summary.update(_summary_text(history))

    def _show_error(self, error: OrchestratorError) -> None:
        text = f"{type(error).__name__}: {error}"
        self.query_one("#summary", Static).update(Text(text, style="bold red"))
        if text != self._last_error:  # polling must not repeat it every second
            self._last_error = text
            self.notify(text, severity="error", title="read failed")

    # -- events -----------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Moving the cursor in the executions table selects that execution."""
        table = event.data_table
        if table.id != "executions" or event.cursor_row != table.cursor_row:
            return  # another table, or a stale highlight from a table rebuild
        execution_id = event.row_key.value
        if execution_id is not None and execution_id != self.selected:
            self.selected = execution_id
            self.show_execution(execution_id)


# -- cells ----------------------------------------------------------------------------


# Cells are Text, never str: DataTable reads a str as console markup, and event
# payloads are full of brackets ("resources=[classifier]").


def _execution_cells(row: ExecutionRow) -> tuple[Text, ...]:
    return (
        Text(row.execution_id),
        Text(row.flow_name or "-"),
        Text(row.status, style=STATUS_STYLES.get(row.status, "")),
        Text(format_time(row.updated_at)),
        Text(str(row.last_seq), justify="right"),
    )


def _event_cells(row: EventRow) -> tuple[Text, ...]:
    style = "bold red" if row.type == "chunk.failed" else ""
    return (
        Text(str(row.seq), justify="right"),
        Text(format_time(row.created_at, date=False)),
        Text(row.type, style=style),
        Text(row.summary),
    )


def _summary_text(history: ExecutionHistory) -> str:
    view = history.view
    lines = [
        f"execution {view.execution_id}",
        f"flow      {view.flow_name}",
        f"status    {view.status}",
        f"lifecycle {view.lifecycle}"
        + (f" ({view.close_reason})" if view.close_reason else ""),
        f"events    {view.last_seq}",
        f"updated   {format_time(view.updated_at)} UTC",
    ]
    if view.kind != "execution":
        lines.append(f"kind      {view.kind}")
    if view.resource_keys:
        lines.append(f"resources {', '.join(sorted(view.resource_keys))} (not logged)")
    if view.errors:
        lines.append(f"errors    {len(view.errors)}")
    state = orjson.dumps(view.state, option=orjson.OPT_INDENT_2).decode()
    return "\n".join([*lines, "", "state", state])
