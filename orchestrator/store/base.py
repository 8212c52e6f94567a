"""The event store interface: bytes, streams and positions, nothing about TriggerFlow.

A store keeps an append-only log of events. Each event belongs to one *stream*
(an execution, a flow's shared data, a sub-flow child) and has a gap-free ``seq``
(1, 2, ...) in it, plus a global ``position`` that only grows, so readers can poll
"everything after position P". A ``streams`` index is written in the same
transaction as the events, so listing never reads payloads.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Sequence

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_WARN_EVENT_BYTES",
    "AppendRequest",
    "AppendResult",
    "EventStore",
    "NewEvent",
    "StoredEvent",
    "StreamInfo",
    "StreamMeta",
    "event_checksum",
]

DEFAULT_WARN_EVENT_BYTES = 256 * 1024
DEFAULT_MAX_EVENT_BYTES = 2 * 1024 * 1024

_DOUBLE = struct.Struct("<d")


def event_checksum(
    stream_id: str, seq: int, type_name: str, created_at: float, data: bytes
) -> int:
    """CRC-32 over every column that replay depends on.

    ``position`` is left out on purpose: it orders the global log but never the
    fold of a stream, and is assigned by the database.
    """
    head = b"%b\x1f%d\x1f%b\x1f%b\x1f" % (
        stream_id.encode(),
        seq,
        type_name.encode(),
        _DOUBLE.pack(created_at),
    )
    return zlib.crc32(data, zlib.crc32(head))


# The records on the append path are NamedTuples rather than frozen dataclasses:
# they are built once per event on the hot path, and a frozen dataclass pays an
# object.__setattr__ per field (measured: 3x slower to construct).


class NewEvent(NamedTuple):
    """An event to append: a stable type name and its encoded payload."""

    type: str
    data: bytes
    created_at: float | None = None


class StoredEvent(NamedTuple):
    """An event as read back from the log, checksum already verified."""

    stream_id: str
    seq: int
    position: int
    type: str
    data: bytes
    created_at: float


@dataclass(frozen=True, slots=True)
class StreamMeta:
    """What an append says about its stream.

    ``kind``, ``flow_name`` and ``parent_id`` are taken when the stream is created;
    ``status`` (when not ``None``) replaces the stream's status.
    """

    kind: str | None = None
    flow_name: str | None = None
    parent_id: str | None = None
    status: str | None = None


class AppendRequest(NamedTuple):
    """Events for one stream.

    ``expected_seq`` is the head the writer believes the stream has (0 for a new
    stream); ``None`` appends at whatever the head is. ``owner`` fences the append:
    it is refused unless the stream is unowned, owned by ``owner`` or its lease
    expired. With ``lease_ttl`` the accepted append also takes (or renews) the
    lease for ``owner`` for that many seconds; ``lease_ttl <= 0`` releases it.
    ``snapshot_index`` marks one of ``events`` as a snapshot so that readers can
    start folding there.
    """

    stream_id: str
    events: Sequence[NewEvent]
    expected_seq: int | None = None
    meta: StreamMeta | None = None
    owner: str | None = None
    snapshot_index: int | None = None
    lease_ttl: float | None = None


class AppendResult(NamedTuple):
    """Where an append landed."""

    stream_id: str
    first_seq: int
    last_seq: int
    last_position: int


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One row of the streams index."""

    stream_id: str
    kind: str
    flow_name: str | None
    parent_id: str | None
    status: str
    created_at: float
    updated_at: float
    last_seq: int
    snapshot_seq: int = 0
    owner: str | None = None
    lease_until: float | None = None
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class EventStore(Protocol):
    """What every backend provides. Contract tests run against each backend."""

    url: str
    read_only: bool

    def submit(
        self, requests: Sequence[AppendRequest]
    ) -> asyncio.Future[list[AppendResult]]:
        """Queue requests as one atomic unit; the future resolves once durable.

        Validation (read-only store, payload size) happens here, before anything
        is queued. Must be called from a running event loop.
        """
        ...

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        *,
        expected_seq: int | None = None,
        meta: StreamMeta | None = None,
        owner: str | None = None,
    ) -> AppendResult:
        """Append to one stream and wait until the batch holding it is durable."""
        ...

    def append_blocking(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        """Synchronous atomic append for code without an event loop."""
        ...

    async def flush(self) -> None:
        """Wait until everything submitted before this call is durable."""
        ...

    def flush_blocking(self) -> None:
        """Like :meth:`flush`, blocking the calling thread (safe on a loop thread)."""
        ...

    def read_stream(
        self, stream_id: str, from_seq: int = 1, to_seq: int | None = None
    ) -> list[StoredEvent]:
        """Events of one stream in seq order, verified."""
        ...

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events of every stream with ``position > after_position``, in order."""
        ...

    def get_stream(self, stream_id: str) -> StreamInfo | None:
        """The index row of one stream, or ``None``."""
        ...

    def list_streams(
        self,
        *,
        kind: str | None = None,
        flow_name: str | None = None,
        status: str | Sequence[str] | None = None,
        parent_id: str | None = None,
        limit: int | None = None,
    ) -> list[StreamInfo]:
        """Streams filtered on the index only, newest update first."""
        ...

    def head_position(self) -> int:
        """The highest position in the log (0 when empty)."""
        ...

    def claim(
        self, stream_id: str, owner: str, ttl: float, steal_from: str | None = None
    ) -> bool:
        """Take (or renew) the lease of a stream; False if someone else holds it.

        ``steal_from`` names an owner known to be dead: its lease is taken even
        before it expires.
        """
        ...

    def release(self, stream_id: str, owner: str) -> None:
        """Give up a lease held by ``owner`` (no-op otherwise)."""
        ...

    def close(self) -> None:
        """Flush pending appends and release connections."""
        ...
