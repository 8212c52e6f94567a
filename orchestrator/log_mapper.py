"""The one seam from events to appends: :class:`LogMapper`.

``events/`` knows events and their encoding; ``store/`` knows bytes, streams
and appends; neither imports the other. Every writer (the execution journal,
flow_data, ``load()``'s import of a saved execution, a history import) turns
its events into a store append here, as eventsourcing's ``Mapper`` sits
between its domain events and its recorder: encode, refuse what is above the
size cap, stamp the time, address the stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.errors import PayloadTooLargeError
from orchestrator.events.codec import encode
from orchestrator.store.base import AppendRequest, NewEvent

if TYPE_CHECKING:
    from collections.abc import Sequence

    from orchestrator.events.base import Event
    from orchestrator.store.base import StreamMeta

__all__ = ["LogMapper"]


class LogMapper:
    """Events to :class:`~orchestrator.store.base.NewEvent` and to an append.

    ``max_event_bytes``: refuse an encoded event above it (PayloadTooLargeError,
    before anything is written); ``None`` refuses nothing here (the store's own
    cap still applies).
    """

    __slots__ = ("max_event_bytes",)

    def __init__(self, max_event_bytes: int | None = None) -> None:
        self.max_event_bytes = max_event_bytes

    def new_event(self, event: Event, created_at: float, stream_id: str) -> NewEvent:
        """``event`` encoded for ``stream_id`` (checked against the cap)."""
        type_name, data = encode(event)
        limit = self.max_event_bytes
        if limit is not None and len(data) > limit:
            raise PayloadTooLargeError(stream_id, type_name, len(data), limit)
        return NewEvent(type_name, data, created_at)

    def to_append(
        self,
        stream_id: str,
        events: Sequence[Event],
        created_at: float,
        *,
        expected_seq: int | None = None,
        meta: StreamMeta | None = None,
        snapshot_index: int | None = None,
    ) -> AppendRequest:
        """One append of ``events`` to ``stream_id`` (all stamped ``created_at``)."""
        return self.request(
            stream_id,
            [self.new_event(event, created_at, stream_id) for event in events],
            expected_seq=expected_seq,
            meta=meta,
            snapshot_index=snapshot_index,
        )

    @staticmethod
    def request(
        stream_id: str,
        new_events: Sequence[NewEvent],
        *,
        expected_seq: int | None = None,
        meta: StreamMeta | None = None,
        owner: str | None = None,
        snapshot_index: int | None = None,
        lease_ttl: float | None = None,
    ) -> AppendRequest:
        """One append of events already encoded (a buffer, an imported history).

        ``expected_seq`` is the head the writer believes the stream has (0: a
        new stream; None: wherever it is); ``owner`` and ``lease_ttl`` fence
        the append and take, renew or release the lease (see AppendRequest).
        """
        return AppendRequest(
            stream_id, new_events, expected_seq, meta, owner, snapshot_index, lease_ttl
        )
