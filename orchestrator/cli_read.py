"""The read verbs of ``triggerlog``: ``list`` and ``show`` here; all of them registered.

Each verb opens the database read-only and reads through
:mod:`orchestrator.read_model`; each takes ``--json`` (one JSON document;
``tail``: one per line), whose shape docs/api.md §13 documents and tests pin. An
execution id may be given by a unique prefix. ``history``, ``state`` and
``diff`` live in :mod:`orchestrator.cli_travel`, ``tail`` in
:mod:`orchestrator.cli_tail`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from orchestrator.cli_access import Reader
from orchestrator.cli_output import (
    colour_status,
    write_indented,
    write_json,
    write_table,
)
from orchestrator.cli_tail import tail
from orchestrator.cli_travel import diff, history, state
from orchestrator.errors import OrchestratorError
from orchestrator.projection.execution import ExecutionStatus
from orchestrator.projection.summary import EXECUTION_KINDS
from orchestrator.read_model import (
    ExecutionRow,
    format_time,
    list_executions,
    read_history,
    state_at,
)

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import TextIO

    from orchestrator.cli_access import AddCommand, Handler, Opener
    from orchestrator.store.base import EventStore, StreamInfo

__all__ = ["add_read_commands"]


def _count(text: str) -> int:
    """A non-negative integer option (argparse turns the ValueError into usage)."""
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _seconds(text: str) -> float:
    """A positive number of seconds."""
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


# argparse names the type in its message: "invalid count value: '-1'".
_count.__name__ = "count"
_seconds.__name__ = "positive seconds"


# -- list -----------------------------------------------------------------------------


def _moment(text: str) -> float:
    """``2025-01-01``, ``2025-01-01T10:00:00`` (UTC unless it says) or a Unix time."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OrchestratorError(
            f"{text!r} is not a time; give an ISO date or time (2025-01-01, "
            "2025-01-01T10:00:00, UTC unless it has an offset) or a Unix timestamp"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _list_rows(store: EventStore, args: argparse.Namespace) -> list[ExecutionRow]:
    if args.kind:
        kinds: tuple[str, ...] = (args.kind,)
    elif args.children or args.parent:
        kinds = EXECUTION_KINDS
    else:
        kinds = ("execution",)
    return list_executions(
        store,
        flow_name=args.flow,
        status=args.status,
        parent_id=args.parent,
        kinds=kinds,
        since=None if args.since is None else _moment(args.since),
        until=None if args.until is None else _moment(args.until),
        offset=args.offset,
        limit=args.limit,
    )


def _row_json(row: ExecutionRow) -> dict[str, Any]:
    return {
        "execution_id": row.execution_id,
        "flow_name": row.flow_name,
        "status": row.status,
        "kind": row.kind,
        "parent_id": row.parent_id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "last_seq": row.last_seq,
        "owner": row.owner,
    }


def _list(open_store: Opener, args: argparse.Namespace, out: TextIO) -> int:
    with Reader(open_store, args) as reader:
        if args.parent:
            args.parent = reader.resolve(args.parent)
        rows = _list_rows(reader.store, args)
        db = reader.db
    if args.json:
        write_json(
            out,
            {
                "executions": [_row_json(r) for r in rows],
                "offset": args.offset,
                "limit": args.limit,
            },
        )
        return 0
    if not rows:
        filters = " ".join(
            f"{name}={value}"
            for name, value in (
                ("flow", args.flow),
                ("status", args.status),
                ("kind", args.kind),
                ("parent", args.parent),
            )
            if value
        )
        out.write(f"no executions in {db}{' with ' + filters if filters else ''}\n")
        return 0
    parents = any(r.kind == "child" for r in rows) or args.children
    header = ["id", "flow", "status", "updated (UTC)", "events"]
    if parents:
        header.insert(3, "parent")
    table = []
    for row in rows:
        cells = [
            row.execution_id,
            row.flow_name or "-",
            colour_status(out, row.status),
            format_time(row.updated_at),
            str(row.last_seq),
        ]
        if parents:
            cells.insert(3, row.parent_id or "-")
        table.append(cells)
    write_table(out, header, table)
    return 0


# -- show -----------------------------------------------------------------------------


def _children(store: EventStore, execution_id: str) -> list[StreamInfo]:
    return sorted(
        store.list_streams(kind="child", parent_id=execution_id),
        key=lambda i: i.created_at,
    )


def _show(open_store: Opener, args: argparse.Namespace, out: TextIO) -> int:
    with Reader(open_store, args) as reader:
        execution_id = reader.resolve(args.execution_id)
        info = reader.store.get_stream(execution_id)
        history = read_history(reader.store, execution_id)
        current = state_at(reader.store, execution_id)
        children = _children(reader.store, execution_id)
    assert info is not None  # resolved just above, in the same read-only file
    view = history.view
    first = history.rows[0].created_at if history.rows else None
    if args.json:
        document = current.to_json()
        document.update(
            created_at=first,
            updated_at=view.updated_at,
            last_seq=view.last_seq,
            owner=info.owner,
            lease_until=info.lease_until,
            children=[
                {
                    "execution_id": c.stream_id,
                    "status": c.status,
                    "flow_name": c.flow_name,
                }
                for c in children
            ],
            events=[
                {
                    "seq": r.seq,
                    "created_at": r.created_at,
                    "type": r.type,
                    "summary": r.summary,
                }
                for r in history.rows
            ],
        )
        write_json(out, document)
        return 0
    out.write(f"execution {view.execution_id}\n")
    out.write(f"  flow      {view.flow_name}  ({view.kind})\n")
    reason = f" ({view.close_reason})" if view.close_reason else ""
    status = colour_status(out, view.status)
    out.write(f"  status    {status}  lifecycle {view.lifecycle}{reason}\n")
    out.write(
        f"  created   {format_time(first)} UTC  updated "
        f"{format_time(view.updated_at)} UTC  events {view.last_seq}\n"
    )
    if current.parent_id:
        out.write(f"  parent    {current.parent_id}\n")
    if info.owner:
        out.write(
            f"  owner     {info.owner}  lease until {format_time(info.lease_until)} UTC\n"
        )
    out.write("\n")
    write_table(
        out,
        ["seq", "time", "type", "payload"],
        [
            [str(r.seq), format_time(r.created_at, date=False), r.type, r.summary]
            for r in history.rows
        ],
        right=(0,),
    )
    out.write("\nstate:\n")
    write_indented(out, view.state)
    _show_details(out, current.interrupts, view.errors, children)
    if view.pending_runs and view.status not in ExecutionStatus.TERMINAL:
        out.write(f"pending runs: {view.pending_runs}\n")
    return 0


def _show_details(
    out: TextIO,
    interrupts: dict[str, dict[str, Any]],
    errors: list[dict[str, Any]],
    children: list[StreamInfo],
) -> None:
    if interrupts:
        out.write(f"waiting interrupts ({len(interrupts)}):\n")
        for interrupt_id, record in interrupts.items():
            chunk = record.get("chunk") or "-"
            out.write(f"  {interrupt_id}  type {record.get('type')}  chunk {chunk}\n")
            out.write("    payload:\n")
            write_indented(out, record.get("payload"), "      ")
    if errors:
        out.write(f"errors ({len(errors)}):\n")
        for error in errors:
            where = f" in {error['chunk']}" if error.get("chunk") else ""
            out.write(
                f"  {error.get('type', '?')}: {error.get('message', '')}{where}\n"
            )
            trace = error.get("traceback")
            if isinstance(trace, str) and trace:
                out.writelines(f"    {line}\n" for line in trace.rstrip().splitlines())
    if children:
        out.write(f"children ({len(children)}):\n")
        write_table(
            out,
            ["  id", "flow", "status"],
            [[f"  {c.stream_id}", c.flow_name or "-", c.status] for c in children],
        )


# -- the parsers -----------------------------------------------------------------------


def add_read_commands(add: AddCommand, open_store: Opener) -> None:
    """Register the read verbs through ``add(name, handler, summary)``."""

    def bind(
        handler: Callable[[Opener, argparse.Namespace, TextIO], int],
    ) -> Handler:
        return lambda args, out: handler(open_store, args, out)

    def with_json(name: str, handler: Any, summary: str) -> argparse.ArgumentParser:
        sub = add(name, bind(handler), summary)
        sub.add_argument(
            "--json", action="store_true", help="one JSON document (docs/api.md §13)"
        )
        return sub

    listing = with_json("list", _list, "list executions (read-only)")
    listing.add_argument("--flow", metavar="NAME", help="only this flow")
    listing.add_argument(
        "--status", choices=ExecutionStatus.ALL, help="only executions in this status"
    )
    listing.add_argument(
        "--kind", choices=EXECUTION_KINDS, help="only top-level executions or children"
    )
    listing.add_argument("--parent", metavar="ID", help="only children of this one")
    listing.add_argument(
        "--children", action="store_true", help="include sub-flow children"
    )
    listing.add_argument("--since", metavar="TIME", help="created at or after")
    listing.add_argument("--until", metavar="TIME", help="created at or before")
    listing.add_argument("--limit", type=_count, default=100, metavar="N")
    listing.add_argument("--offset", type=_count, default=0, metavar="N")

    show = with_json("show", _show, "one execution: events, state, interrupts, errors")
    show.add_argument("execution_id", metavar="EXECUTION_ID")

    history_parser = with_json("history", history, "an execution's events, decoded")
    history_parser.add_argument("execution_id", metavar="EXECUTION_ID")
    history_parser.add_argument(
        "--from", dest="from_seq", type=int, default=1, metavar="SEQ"
    )
    history_parser.add_argument("--to", dest="to_seq", type=int, metavar="SEQ")
    history_parser.add_argument("--limit", type=_count, metavar="N")
    history_parser.add_argument(
        "--type", action="append", metavar="TYPE", help="a type or family (repeatable)"
    )
    history_parser.add_argument(
        "--children", action="store_true", help="merge in children"
    )
    history_parser.add_argument(
        "--full", action="store_true", help="print every payload"
    )

    state_parser = with_json(
        "state", state, "an execution's three layers after an event"
    )
    state_parser.add_argument("execution_id", metavar="EXECUTION_ID")
    state_parser.add_argument(
        "--at", type=int, metavar="SEQ", help="default: the last event"
    )
    state_parser.add_argument(
        "--layer", choices=("state", "flow_state", "all"), default="all"
    )

    diff_parser = with_json("diff", diff, "what changed: ID A B, or ID1[@A] ID2[@B]")
    diff_parser.add_argument("first", metavar="ID[@SEQ]")
    diff_parser.add_argument("rest", nargs="+", metavar="SEQ|ID[@SEQ]")

    tail_parser = with_json("tail", tail, "follow new events as they are committed")
    tail_parser.add_argument("--flow", metavar="NAME", help="only this flow")
    tail_parser.add_argument(
        "--id", metavar="ID", help="only this execution and its children"
    )
    tail_parser.add_argument(
        "--interval", type=_seconds, default=0.2, metavar="S", help="poll interval"
    )
