"""Turning raw SQL rows back into verified events and stream infos.

Shared by the SQL backends. Every row is checked before it is trusted: column
types, checksum, the stream it claims to belong to and its place in the stream.
Any failure is a :class:`CorruptEventError` naming the stream and seq, never a
bare ``KeyError``, ``UnicodeDecodeError`` or driver error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.errors import CorruptEventError, StorageCorruptError
from orchestrator.store.base import StoredEvent, StreamInfo, event_checksum

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "EVENT_COLUMNS",
    "STREAM_COLUMNS",
    "decode_event_row",
    "decode_stream_row",
    "verify_stream",
]

EVENT_COLUMNS = "position, stream_id, seq, type, data, checksum, created_at"
STREAM_COLUMNS = (
    "stream_id, kind, flow_name, parent_id, status, created_at, updated_at, "
    "last_seq, snapshot_seq, owner, lease_until"
)


def _text(value: Any, stream_id: str, seq: int, column: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise CorruptEventError(stream_id, seq, f"{column} is not UTF-8") from None
    raise CorruptEventError(stream_id, seq, f"{column} has type {type(value).__name__}")


def decode_event_row(
    row: Sequence[Any], expect_stream: str | None = None
) -> StoredEvent:
    """Decode and verify one ``EVENT_COLUMNS`` row."""
    position, raw_stream, seq, raw_type, data, checksum, created_at = row
    label = expect_stream if expect_stream is not None else "?"
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise CorruptEventError(label, -1, f"seq has type {type(seq).__name__}")
    stream_id = _text(raw_stream, label, seq, "stream_id")
    type_name = _text(raw_type, stream_id, seq, "type")
    if not isinstance(position, int):
        raise CorruptEventError(stream_id, seq, "position is not an integer")
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if not isinstance(data, bytes):
        raise CorruptEventError(stream_id, seq, f"data has type {type(data).__name__}")
    if isinstance(created_at, int):
        created_at = float(created_at)
    if not isinstance(created_at, float):
        raise CorruptEventError(stream_id, seq, "created_at is not a number")
    if not isinstance(checksum, int):
        raise CorruptEventError(stream_id, seq, "checksum is not an integer")
    if expect_stream is not None and stream_id != expect_stream:
        raise CorruptEventError(
            expect_stream, seq, f"row belongs to stream {stream_id!r}"
        )
    if event_checksum(stream_id, seq, type_name, created_at, data) != checksum:
        raise CorruptEventError(stream_id, seq, "checksum mismatch")
    return StoredEvent(stream_id, seq, position, type_name, data, created_at)


def verify_stream(
    stream_id: str,
    rows: Iterable[Sequence[Any]],
    from_seq: int,
    to_seq: int | None,
    last_seq: int | None,
) -> list[StoredEvent]:
    """Decode a stream's rows and check they are exactly ``from_seq..end``."""
    events: list[StoredEvent] = []
    expected = from_seq
    for row in rows:
        event = decode_event_row(row, stream_id)
        if event.seq != expected:
            raise CorruptEventError(
                stream_id,
                expected,
                f"gap in the stream: next stored seq is {event.seq}",
            )
        events.append(event)
        expected += 1
    end = last_seq if to_seq is None or last_seq is None else min(to_seq, last_seq)
    if end is not None and end >= from_seq and expected - 1 != end:
        raise CorruptEventError(
            stream_id,
            expected,
            f"the streams index ends at seq {last_seq} but the log ends at {expected - 1}",
        )
    return events


def decode_stream_row(row: Sequence[Any]) -> StreamInfo:
    """Decode one ``STREAM_COLUMNS`` row of the streams index.

    Every column is type-checked: a damaged row raises
    :class:`StorageCorruptError`, never a ``ValueError`` from a conversion.
    """
    try:
        values: list[Any] = [
            v.decode("utf-8") if isinstance(v, bytes) else v for v in row
        ]
    except UnicodeDecodeError:
        raise StorageCorruptError("streams index: a row is not UTF-8") from None
    (
        stream_id,
        kind,
        flow_name,
        parent_id,
        status,
        created_at,
        updated_at,
        last_seq,
        snapshot_seq,
        owner,
        lease_until,
    ) = values
    if not (
        isinstance(stream_id, str)
        and isinstance(kind, str)
        and isinstance(status, str)
        and _optional_text(flow_name)
        and _optional_text(parent_id)
        and _optional_text(owner)
        and _number(created_at)
        and _number(updated_at)
        and (lease_until is None or _number(lease_until))
        and _integer(last_seq)
        and (snapshot_seq is None or _integer(snapshot_seq))
    ):
        raise StorageCorruptError(
            f"streams index: malformed row for {stream_id!r} "
            f"(column types {[type(v).__name__ for v in values]})"
        )
    return StreamInfo(
        stream_id=stream_id,
        kind=kind,
        flow_name=flow_name,
        parent_id=parent_id,
        status=status,
        created_at=float(created_at),
        updated_at=float(updated_at),
        last_seq=last_seq,
        snapshot_seq=snapshot_seq or 0,
        owner=owner,
        lease_until=float(lease_until) if lease_until is not None else None,
    )


def _optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _number(value: Any) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
