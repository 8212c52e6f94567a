"""Time travel from the shell: ``triggerlog history``, ``state`` and ``diff``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.cli_access import Reader
from orchestrator.cli_output import write_indented, write_json, write_table
from orchestrator.errors import OrchestratorError
from orchestrator.read_model import diff_states, format_time, read_events, state_at

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

    from orchestrator.cli_access import Opener

__all__ = ["diff", "history", "state"]

# -- history ---------------------------------------------------------------------------


def history(open_store: Opener, args: argparse.Namespace, out: TextIO) -> int:
    """``triggerlog history``: the events of an execution, a page at a time."""
    with Reader(open_store, args) as reader:
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
        write_indented(out, event.data, "    ")
    return 0


# -- state and diff --------------------------------------------------------------------


def state(open_store: Opener, args: argparse.Namespace, out: TextIO) -> int:
    """``triggerlog state``: the three layers after an event."""
    with Reader(open_store, args) as reader:
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
            write_indented(out, document[name])
        return 0
    out.write(f"{args.layer}:\n")
    write_indented(out, document[args.layer])
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


def diff(open_store: Opener, args: argparse.Namespace, out: TextIO) -> int:
    """``triggerlog diff``: one execution at two seqs, or two executions."""
    with Reader(open_store, args) as reader:
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
