"""``triggerlog tail``: new events as they are committed, polling a read-only store."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from orchestrator.cli_access import Reader
from orchestrator.cli_output import write_json_line
from orchestrator.events.codec import decode
from orchestrator.projection.summary import EXECUTION_KINDS
from orchestrator.read_model import format_time
from orchestrator.read_model.describe import describe

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

    from orchestrator.cli_access import Opener
    from orchestrator.store.base import EventStore, StoredEvent, StreamInfo

__all__ = ["tail"]

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


def tail(open_store: Opener, args: argparse.Namespace, out: TextIO) -> int:
    """``triggerlog tail``: print events as they are committed, until Ctrl-C (exit 0)."""
    with Reader(open_store, args) as reader:
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
