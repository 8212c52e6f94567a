"""Planning an atomic append unit against the heads of its streams.

Shared by every backend so that they agree on what an append means: which seqs
the events get, when an expected seq or a lease owner refuses it, and what the
streams index looks like afterwards. Pure: the backend supplies the current
heads and writes the planned rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.errors import (
    ConcurrencyError,
    LeaseLostError,
    PayloadTooLargeError,
    StoreError,
)
from orchestrator.store.base import AppendRequest, AppendResult, event_checksum

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "EventRow",
    "PayloadSizeWarning",
    "PlannedUnit",
    "StreamHead",
    "check_sizes",
    "plan_unit",
]


class PayloadSizeWarning(UserWarning):
    """An event payload is above the warning threshold (256 KB by default)."""


@dataclass(slots=True)
class StreamHead:
    """The head of one stream as the streams index holds it."""

    stream_id: str
    kind: str
    flow_name: str | None
    parent_id: str | None
    status: str
    created_at: float
    updated_at: float
    last_seq: int
    snapshot_seq: int
    owner: str | None
    lease_until: float | None
    dirty: bool = False

    def copy(self) -> StreamHead:
        """A copy to modify while a unit is planned."""
        return StreamHead(
            self.stream_id,
            self.kind,
            self.flow_name,
            self.parent_id,
            self.status,
            self.created_at,
            self.updated_at,
            self.last_seq,
            self.snapshot_seq,
            self.owner,
            self.lease_until,
            self.dirty,
        )

    def as_row(self) -> tuple[object, ...]:
        """The streams-table row, in STREAM_COLUMNS order."""
        return (
            self.stream_id,
            self.kind,
            self.flow_name,
            self.parent_id,
            self.status,
            self.created_at,
            self.updated_at,
            self.last_seq,
            self.snapshot_seq,
            self.owner,
            self.lease_until,
        )


# (position, stream_id, seq, type, data, checksum, created_at): the events row.
EventRow = tuple[int, str, int, str, bytes, int, float]


@dataclass(slots=True)
class PlannedUnit:
    """The rows and results of one accepted unit."""

    rows: list[EventRow]
    results: list[AppendResult]


def check_sizes(
    requests: Sequence[AppendRequest], max_bytes: int, warn_bytes: int
) -> None:
    """Refuse malformed requests and oversized events before anything is queued."""
    if not requests:
        raise StoreError("append: an append unit needs at least one request")
    for req in requests:
        if not isinstance(req.stream_id, str) or not req.stream_id:  # type: ignore[redundant-expr]  # callers may be untyped
            raise StoreError(
                f"append: stream_id must be a non-empty str, got {req.stream_id!r}"
            )
        if req.expected_seq is not None and req.expected_seq < 0:
            raise StoreError(
                f"stream {req.stream_id!r}: expected_seq must be >= 0, "
                f"got {req.expected_seq}"
            )
        if req.snapshot_index is not None and not (
            0 <= req.snapshot_index < len(req.events)
        ):
            raise StoreError(
                f"stream {req.stream_id!r}: snapshot_index {req.snapshot_index} "
                f"is outside the {len(req.events)} events of the request"
            )
        for event in req.events:
            if not isinstance(event.data, bytes):
                raise StoreError(
                    f"stream {req.stream_id!r}: event data must be bytes, got "
                    f"{type(event.data).__name__}; encode it with events.codec"
                )
            if not event.type:
                raise StoreError(f"stream {req.stream_id!r}: event type is empty")
            size = len(event.data)
            if size > max_bytes:
                raise PayloadTooLargeError(req.stream_id, event.type, size, max_bytes)
            if size > warn_bytes:
                warnings.warn(
                    f"stream {req.stream_id!r}: {event.type} event is {size} bytes "
                    f"(warning threshold {warn_bytes}); large payloads slow every "
                    "replay of this stream",
                    PayloadSizeWarning,
                    stacklevel=3,
                )


def plan_unit(
    requests: Sequence[AppendRequest],
    lookup: Callable[[str], StreamHead | None],
    heads: dict[str, StreamHead],
    next_position: int,
    now: float,
) -> PlannedUnit:
    """Plan one atomic unit; raise without touching ``heads`` if it is refused.

    ``heads`` holds the heads already changed in this batch and receives this
    unit's changes when it is accepted; ``lookup`` returns the committed head of
    a stream not in ``heads`` (never modified here).
    """
    staged: dict[str, StreamHead] = {}
    rows: list[EventRow] = []
    results: list[AppendResult] = []
    position = next_position
    for req in requests:
        sid = req.stream_id
        head = staged.get(sid)
        if head is None:
            base = heads.get(sid)
            if base is None:
                base = lookup(sid)
            head = base.copy() if base is not None else None
        actual = head.last_seq if head is not None else 0
        if req.expected_seq is not None and req.expected_seq != actual:
            raise ConcurrencyError(sid, req.expected_seq, actual)
        if (
            req.owner is not None
            and head is not None
            and head.owner is not None
            and head.owner != req.owner
            and (head.lease_until is None or head.lease_until > now)
        ):
            raise LeaseLostError(sid, req.owner, head.owner)
        meta = req.meta
        if head is None:
            head = StreamHead(
                sid,
                (meta.kind if meta is not None and meta.kind else "stream"),
                meta.flow_name if meta is not None else None,
                meta.parent_id if meta is not None else None,
                (meta.status if meta is not None and meta.status else "open"),
                now,
                now,
                0,
                0,
                None,
                None,
            )
        elif meta is not None and meta.status is not None:
            head.status = meta.status
        seq = head.last_seq
        first = seq + 1
        snapshot_index = req.snapshot_index
        for index, event in enumerate(req.events):
            seq += 1
            type_name = event.type
            data = event.data
            created_at = event.created_at if event.created_at is not None else now
            rows.append(
                (
                    position,
                    sid,
                    seq,
                    type_name,
                    data,
                    event_checksum(sid, seq, type_name, created_at, data),
                    created_at,
                )
            )
            if snapshot_index == index:
                head.snapshot_seq = seq
            position += 1
        head.last_seq = seq
        head.updated_at = now
        head.dirty = True
        staged[sid] = head
        results.append(AppendResult(sid, first, seq, position - 1))
    heads.update(staged)
    return PlannedUnit(rows, results)
