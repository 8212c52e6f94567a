"""Planning an atomic append unit against the heads of its streams.

Shared by every backend so that they agree on what an append means: which seqs
the events get, when an expected seq or a lease owner refuses it, and what the
streams index looks like afterwards. Pure: the backend supplies the current
heads and writes the planned rows.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.errors import (
    ConcurrencyError,
    LeaseLostError,
    PayloadTooLargeError,
    StoreError,
)
from orchestrator.store.base import AppendRequest, AppendResult, StreamMeta

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "APPENDED",
    "CHANGED",
    "CLEAN",
    "CREATED",
    "EventRow",
    "PayloadSizeWarning",
    "PlannedUnit",
    "StreamHead",
    "check_sizes",
    "plan_unit",
]


class PayloadSizeWarning(UserWarning):
    """An event payload is above the warning threshold (256 KB by default)."""


_SEP = b"\x1f"
_DOUBLE = struct.Struct("<d")

# How a stream's index row changed in the batch being planned; the writer picks
# the cheapest statement for it (see sqlite_writer).
CLEAN = 0
APPENDED = 1  # only last_seq / updated_at / snapshot_seq: a narrow UPDATE
CHANGED = 2  # status or lease too: the full upsert
CREATED = 3  # a new stream: INSERT


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
    change: int = CLEAN

    @property
    def dirty(self) -> bool:
        """True when the index row must be written."""
        return self.change != CLEAN

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
            self.change,
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
) -> int:
    """Refuse malformed requests and oversized events before anything is queued.

    Everything the writer thread will rely on is checked here, so that a bad
    request fails alone, in its caller, and never inside a shared batch.
    Returns the number of events in the unit.
    """
    if not requests:
        raise StoreError("append: an append unit needs at least one request")
    total = 0
    for req in requests:
        sid = req.stream_id
        if not isinstance(sid, str) or not sid:  # type: ignore[redundant-expr]  # callers may be untyped
            raise StoreError(f"append: stream_id must be a non-empty str, got {sid!r}")
        _check_text(sid, sid, "stream_id")
        expected = req.expected_seq
        if expected is not None and (
            not isinstance(expected, int)  # type: ignore[redundant-expr]  # untyped callers
            or isinstance(expected, bool)
            or expected < 0
        ):
            raise StoreError(
                f"stream {sid!r}: expected_seq must be an int >= 0 or None, "
                f"got {expected!r}"
            )
        if req.meta is not None and not isinstance(req.meta, StreamMeta):
            raise StoreError(
                f"stream {sid!r}: meta must be a StreamMeta, got "
                f"{type(req.meta).__name__}"
            )
        if req.owner is not None:
            _check_text(req.owner, sid, "owner")
        ttl = req.lease_ttl
        if ttl is not None and (
            not isinstance(ttl, float | int)  # type: ignore[redundant-expr]  # untyped callers
            or isinstance(ttl, bool)
            or ttl != ttl  # NaN
        ):
            raise StoreError(
                f"stream {sid!r}: lease_ttl must be a number of seconds or None, "
                f"got {ttl!r}"
            )
        events = req.events
        if req.snapshot_index is not None and not (
            0 <= req.snapshot_index < len(events)
        ):
            raise StoreError(
                f"stream {sid!r}: snapshot_index {req.snapshot_index} "
                f"is outside the {len(events)} events of the request"
            )
        for event in events:
            try:
                type_name, data, created_at = event
            except (TypeError, ValueError):
                raise StoreError(
                    f"stream {sid!r}: events must be NewEvent(type, data, "
                    f"created_at), got {type(event).__name__}"
                ) from None
            if not isinstance(data, bytes):
                raise StoreError(
                    f"stream {sid!r}: event data must be bytes, got "
                    f"{type(data).__name__}; encode it with events.codec"
                )
            if not isinstance(type_name, str) or not type_name:  # type: ignore[redundant-expr]  # untyped callers
                raise StoreError(
                    f"stream {sid!r}: event type must be a non-empty str, "
                    f"got {type_name!r}"
                )
            _check_text(type_name, sid, "event type")
            if created_at is not None and (
                not isinstance(created_at, float | int)  # type: ignore[redundant-expr]  # untyped callers
                or isinstance(created_at, bool)
            ):
                raise StoreError(
                    f"stream {sid!r}: created_at must be a float or None, "
                    f"got {created_at!r}"
                )
            size = len(data)
            if size > max_bytes:
                raise PayloadTooLargeError(sid, type_name, size, max_bytes)
            if size > warn_bytes:
                warnings.warn(
                    f"stream {sid!r}: {type_name} event is {size} bytes "
                    f"(warning threshold {warn_bytes}); large payloads slow every "
                    "replay of this stream",
                    PayloadSizeWarning,
                    stacklevel=3,
                )
        total += len(events)
    return total


# Strings already known to encode (event type names, stream ids, owners recur on
# every append of a process); bounded so that it cannot grow without limit.
_VALID_TEXT: set[str] = set()


def _check_text(text: str, sid: str, what: str) -> None:
    if text in _VALID_TEXT:
        return
    try:
        text.encode()
        if len(_VALID_TEXT) > 10_000:
            _VALID_TEXT.clear()
        _VALID_TEXT.add(text)
    except UnicodeEncodeError as error:
        raise StoreError(
            f"stream {sid!r}: {what} {text!r} is not valid Unicode ({error.reason}); "
            "nothing was written"
        ) from None


def plan_unit(
    requests: Sequence[AppendRequest],
    lookup: Callable[[str], StreamHead | None],
    heads: dict[str, StreamHead],
    next_position: int,
    now: float,
    rows: list[EventRow] | None = None,
) -> PlannedUnit:
    """Plan one atomic unit; raise without changing any head if it is refused.

    ``heads`` holds the heads already changed in this batch and receives this
    unit's heads when it is accepted; ``lookup`` returns the committed head of a
    stream not in ``heads``. An accepted unit may update the head objects it got
    from ``heads`` or ``lookup`` in place: a backend whose transaction then fails
    must forget them (the SQLite writer clears its cache). The event rows are
    appended to ``rows`` when given (a refused unit leaves it as it was), else
    to a new list; ``PlannedUnit.rows`` is that list.
    """
    out: list[EventRow] = rows if rows is not None else []
    if len(requests) == 1:
        # The common case: one stream. Every refusal is decided before any head
        # is touched, so no copy is needed.
        req = requests[0]
        sid = req.stream_id
        head = heads.get(sid)
        if head is None:
            head = lookup(sid)
        _check(req, head, now)
        before = len(out)
        head = _advance(req, head, out, next_position, now)
        heads[sid] = head
        count = len(out) - before
        return PlannedUnit(
            out,
            [
                AppendResult(
                    sid,
                    head.last_seq - count + 1,
                    head.last_seq,
                    next_position + count - 1,
                )
            ],
        )
    staged: dict[str, StreamHead | None] = {}
    results: list[AppendResult] = []
    position = next_position
    start = len(out)
    try:
        _plan_many(requests, lookup, heads, staged, results, out, position, now)
    except ConcurrencyError:
        del out[start:]
        raise
    for sid, staged_head in staged.items():
        assert staged_head is not None
        heads[sid] = staged_head
    return PlannedUnit(out, results)


def _plan_many(
    requests: Sequence[AppendRequest],
    lookup: Callable[[str], StreamHead | None],
    heads: dict[str, StreamHead],
    staged: dict[str, StreamHead | None],
    results: list[AppendResult],
    rows: list[EventRow],
    position: int,
    now: float,
) -> None:
    for req in requests:
        sid = req.stream_id
        if sid in staged:
            head = staged[sid]
        else:
            head = heads.get(sid)
            if head is None:
                head = lookup(sid)
            if head is not None:
                head = head.copy()
        _check(req, head, now)
        before = len(rows)
        head = _advance(req, head, rows, position, now)
        staged[sid] = head
        count = len(rows) - before
        position += count
        results.append(
            AppendResult(sid, head.last_seq - count + 1, head.last_seq, position - 1)
        )


def _check(req: AppendRequest, head: StreamHead | None, now: float) -> None:
    actual = head.last_seq if head is not None else 0
    if req.expected_seq is not None and req.expected_seq != actual:
        raise ConcurrencyError(req.stream_id, req.expected_seq, actual)
    if (
        req.owner is not None
        and head is not None
        and head.owner is not None
        and head.owner != req.owner
        and (head.lease_until is None or head.lease_until > now)
    ):
        raise LeaseLostError(req.stream_id, req.owner, head.owner)


def _advance(
    req: AppendRequest,
    head: StreamHead | None,
    rows: list[EventRow],
    position: int,
    now: float,
) -> StreamHead:
    """Append the request's rows and move (or create) its head; never raises."""
    sid = req.stream_id
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
            CREATED,
        )
    else:
        change = head.change
        if meta is not None and meta.status is not None and meta.status != head.status:
            head.status = meta.status
            if change < CHANGED:
                change = CHANGED
        elif change < APPENDED:
            change = APPENDED
        head.change = change
    seq = head.last_seq
    prefix = sid.encode() + _SEP
    snapshot_index = req.snapshot_index
    append = rows.append
    crc32 = zlib.crc32
    pack = _DOUBLE.pack
    for type_name, data, created_at in req.events:
        seq += 1
        if created_at is None:
            created_at = now
        checksum = crc32(
            data,
            crc32(
                b"%b%d\x1f%b\x1f%b\x1f"
                % (prefix, seq, type_name.encode(), pack(created_at))
            ),
        )
        append((position, sid, seq, type_name, data, checksum, created_at))
        position += 1
    if snapshot_index is not None:
        head.snapshot_seq = head.last_seq + 1 + snapshot_index
    head.last_seq = seq
    head.updated_at = now
    if req.owner is not None and req.lease_ttl is not None:
        # The append takes (or renews) the lease; ttl <= 0 releases it, so an
        # idle execution can be continued by another process.
        if req.lease_ttl > 0:
            owner, until = req.owner, now + req.lease_ttl
        else:
            owner, until = None, None
        if (owner, until) != (head.owner, head.lease_until):
            head.owner, head.lease_until = owner, until
            if head.change < CHANGED:
                head.change = CHANGED
    return head
