"""The read verbs of ``triggerlog``: ``list``, ``show``, ``history``, ``state``, ``diff``, ``tail``.

Each opens the database read-only and reads through :mod:`orchestrator.read_model`;
each takes ``--json`` (one JSON document; ``tail``: one per line), whose shape
docs/api.md §13 documents and tests pin. An execution id may be given by a
unique prefix.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from orchestrator.cli_output import (
    colour_status,
    write_json,
    write_json_line,
    write_table,
)
from orchestrator.errors import ExecutionNotFoundError, OrchestratorError
from orchestrator.events.codec import decode
from orchestrator.projection.execution import ExecutionStatus
from orchestrator.projection.summary import EXECUTION_KINDS
from orchestrator.read_model import (
    ExecutionRow,
    diff_states,
    format_time,
    list_executions,
    read_events,
    read_history,
    state_at,
)
from orchestrator.read_model.describe import describe

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import TextIO

    from orchestrator.store.base import EventStore, StoredEvent, StreamInfo
    from orchestrator.store.sqlite import SQLiteEventStore

    Handler = Callable[[argparse.Namespace, TextIO], int]
    AddCommand = Callable[[str, Handler, str], argparse.ArgumentParser]
    Opener = Callable[[argparse.Namespace], tuple[SQLiteEventStore, str]]

__all__ = ["add_read_commands", "resolve_execution_id"]

_CANDIDATES = 5


def resolve_execution_id(store: EventStore, db: str, wanted: str) -> str:
    """An exact id, or the one execution whose id starts with ``wanted``.

    ``ExecutionNotFoundError`` when none does; an ambiguous prefix is an
    ``OrchestratorError`` naming the candidates.
    """
    info = store.get_stream(wanted)
    if info is not None and info.kind in EXECUTION_KINDS:
        return wanted
    matches = sorted(
        s.stream_id
        for kind in EXECUTION_KINDS
        for s in store.list_streams(kind=kind)
        if s.stream_id.startswith(wanted)
    )
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        shown = ", ".join(matches[:_CANDIDATES])
        more = len(matches) - _CANDIDATES
        tail = f" and {more} more" if more > 0 else ""
        raise OrchestratorError(
            f"{wanted!r} is the start of {len(matches)} execution ids in {db} "
            f"({shown}{tail}); give more characters"
        )
    raise ExecutionNotFoundError(wanted, db)


class _Reader:
    """The read-only store of one command, closed when the command ends."""

    def __init__(self, open_store: Opener, args: argparse.Namespace) -> None:
        self.store, self.db = open_store(args)

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.close()

    def resolve(self, wanted: str) -> str:
        return resolve_execution_id(self.store, self.db, wanted)


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
    with _Reader(open_store, args) as reader:
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
    with _Reader(open_store, args) as reader:
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
    _write_indented(out, view.state)
    _show_details(out, current.interrupts, view.errors, children)
    if view.pending_runs and view.status not in ExecutionStatus.TERMINAL:
        out.write(f"pending runs: {view.pending_runs}\n")
    return 0


def _write_indented(out: TextIO, value: Any, indent: str = "  ") -> None:
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    out.writelines(f"{indent}{line}\n" for line in text.splitlines())


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
            _write_indented(out, record.get("payload"), "      ")
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


# -- history ---------------------------------------------------------------------------


def _history(open_store: Opener, args: argparse.Namespace, out: TextIO) -> int:
    with _Reader(open_store, args) as reader:
        execution_id = reader.resolve(args.execution_id)
        events = read_events(
            reader.store,
            execution_id,
            from_seq=args.from_seq,
            to_seq=args.to_seq,
            limit=args.limit,
            types=args.type,
            children=args.children,
        )
    if args.json:
        write_json(
            out,
            {"execution_id": execution_id, "events": [e.to_json() for e in events]},
        )
        return 0
    header = ["seq", "time", "type", "chunk", "summary"]
    if args.children:
        header.insert(0, "execution")
    rows = []
    for e in events:
        cells = [
            str(e.seq),
            format_time(e.created_at, date=False),
            e.type,
            e.chunk or "-",
            e.summary,
        ]
        if args.children:
            cells.insert(0, e.execution_id)
        rows.append(cells)
    if not args.full:
        write_table(out, header, rows, right=(1,) if args.children else (0,))
        return 0
    for cells, event in zip(rows, events, strict=True):
        out.write("  ".join(cells).rstrip() + "\n")
        _write_indented(out, event.data, "    ")
    return 0


# -- state and diff --------------------------------------------------------------------


def _state(open_store: Opener, args: argparse.Namespace, out: TextIO) -> int:
    with _Reader(open_store, args) as reader:
        execution_id = reader.resolve(args.execution_id)
        current = state_at(reader.store, execution_id, args.at)
    document = current.to_json()
    if args.layer != "all":
        document = {
            "execution_id": current.execution_id,
            "seq": current.seq,
            args.layer: document[args.layer],
        }
    if args.json:
        write_json(out, document)
        return 0
    out.write(
        f"execution {current.execution_id} at seq {current.seq} "
        f"({format_time(current.created_at)} UTC)\n"
    )
    if args.layer == "all":
        out.write(
            f"  status {current.status}  lifecycle {current.lifecycle}  "
            f"runs in flight {len(current.runs)}  waiting {len(current.interrupts)}\n"
        )
        for name in ("state", "flow_state", "interrupts", "children", "resource_keys"):
            out.write(f"{name}:\n")
            _write_indented(out, document[name])
        return 0
    out.write(f"{args.layer}:\n")
    _write_indented(out, document[args.layer])
    return 0


def _split_at(text: str) -> tuple[str, int | None]:
    """``ID@SEQ`` -> (ID, SEQ); ``ID`` -> (ID, None)."""
    wanted, sep, seq = text.rpartition("@")
    if not sep:
        return text, None
    try:
        return wanted, int(seq)
    except ValueError:
        raise OrchestratorError(
            f"{text!r}: the part after @ must be a seq number (ID@SEQ)"
        ) from None


def _seq(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise OrchestratorError(f"{text!r} is not a seq number") from None


def _diff(open_store: Opener, args: argparse.Namespace, out: TextIO) -> int:
    with _Reader(open_store, args) as reader:
        first, first_seq = _split_at(args.first)
        a_id = reader.resolve(first)
        if len(args.rest) == 2:
            if first_seq is not None:
                raise OrchestratorError("give diff ID A B, or diff ID1[@A] ID2[@B]")
            a = state_at(reader.store, a_id, _seq(args.rest[0]))
            b = state_at(reader.store, a_id, _seq(args.rest[1]))
        elif len(args.rest) == 1:
            second, second_seq = _split_at(args.rest[0])
            a = state_at(reader.store, a_id, first_seq)
            b = state_at(reader.store, reader.resolve(second), second_seq)
        else:
            raise OrchestratorError("give diff ID A B, or diff ID1[@A] ID2[@B]")
    difference = diff_states(a, b)
    if args.json:
        write_json(out, difference.to_json())
    else:
        out.write(difference.format() + "\n")
    return 0


# -- tail -----------------------------------------------------------------------------


class _Follow:
    """Which streams ``tail`` prints: by flow, by execution (and its children)."""

    def __init__(self, store: EventStore, flow: str | None, root: str | None) -> None:
        self.store, self.flow, self.root = store, flow, root
        self._infos: dict[str, StreamInfo | None] = {}

    def _info(self, stream_id: str) -> StreamInfo | None:
        if stream_id not in self._infos:
            self._infos[stream_id] = self.store.get_stream(stream_id)
        return self._infos[stream_id]

    def wants(self, event: StoredEvent) -> bool:
        info = self._info(event.stream_id)
        if info is None or info.kind not in EXECUTION_KINDS:
            return False
        if self.flow is not None and info.flow_name != self.flow:
            return False
        if self.root is None:
            return True
        while info is not None:
            if info.stream_id == self.root:
                return True
            info = self._info(info.parent_id) if info.parent_id else None
        return False


def _tail(open_store: Opener, args: argparse.Namespace, out: TextIO) -> int:
    with _Reader(open_store, args) as reader:
        root = reader.resolve(args.id) if args.id else None
        follow = _Follow(reader.store, args.flow, root)
        position = reader.store.head_position()
        try:
            while True:
                # Each read is its own short read transaction: nothing is held
                # between polls, so the writer's WAL checkpoints are never pinned.
                batch = reader.store.read_all(position, 1000)
                for stored in batch:
                    position = stored.position
                    if follow.wants(stored):
                        _tail_line(out, stored, args.json)
                out.flush()
                if len(batch) < 1000:
                    time.sleep(args.interval)
        except KeyboardInterrupt:
            return 0


def _tail_line(out: TextIO, stored: StoredEvent, as_json: bool) -> None:
    event = decode(stored.type, stored.data, stored.stream_id, stored.seq)
    summary = describe(event)
    if as_json:
        write_json_line(
            out,
            {
                "execution_id": stored.stream_id,
                "seq": stored.seq,
                "position": stored.position,
                "created_at": stored.created_at,
                "type": stored.type,
                "summary": summary,
            },
        )
        return
    out.write(
        f"{format_time(stored.created_at, date=False)}  {stored.stream_id}  "
        f"{stored.seq:>5}  {stored.type}  {summary}\n"
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
    listing.add_argument("--limit", type=int, default=100, metavar="N")
    listing.add_argument("--offset", type=int, default=0, metavar="N")

    show = with_json("show", _show, "one execution: events, state, interrupts, errors")
    show.add_argument("execution_id", metavar="EXECUTION_ID")

    history = with_json("history", _history, "an execution's events, decoded")
    history.add_argument("execution_id", metavar="EXECUTION_ID")
    history.add_argument("--from", dest="from_seq", type=int, default=1, metavar="SEQ")
    history.add_argument("--to", dest="to_seq", type=int, metavar="SEQ")
    history.add_argument("--limit", type=int, metavar="N")
    history.add_argument(
        "--type", action="append", metavar="TYPE", help="a type or family (repeatable)"
    )
    history.add_argument("--children", action="store_true", help="merge in children")
    history.add_argument("--full", action="store_true", help="print every payload")

    state = with_json("state", _state, "an execution's three layers after an event")
    state.add_argument("execution_id", metavar="EXECUTION_ID")
    state.add_argument("--at", type=int, metavar="SEQ", help="default: the last event")
    state.add_argument("--layer", choices=("state", "flow_state", "all"), default="all")

    diff = with_json("diff", _diff, "what changed: ID A B, or ID1[@A] ID2[@B]")
    diff.add_argument("first", metavar="ID[@SEQ]")
    diff.add_argument("rest", nargs="+", metavar="SEQ|ID[@SEQ]")

    tail = with_json("tail", _tail, "follow new events as they are committed")
    tail.add_argument("--flow", metavar="NAME", help="only this flow")
    tail.add_argument("--id", metavar="ID", help="only this execution and its children")
    tail.add_argument(
        "--interval", type=float, default=0.2, metavar="S", help="poll interval"
    )
