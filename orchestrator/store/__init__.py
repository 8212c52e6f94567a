"""The event log: bytes, streams and positions (public for backend authors)."""

from orchestrator.store.base import (
    AppendRequest,
    AppendResult,
    EventStore,
    NewEvent,
    StoredEvent,
    StreamInfo,
    StreamMeta,
)
from orchestrator.store.batch import PayloadSizeWarning
from orchestrator.store.memory import InMemoryEventStore
from orchestrator.store.open import open_store
from orchestrator.store.sqlite import SQLiteEventStore

__all__ = [
    "AppendRequest",
    "AppendResult",
    "EventStore",
    "InMemoryEventStore",
    "NewEvent",
    "PayloadSizeWarning",
    "SQLiteEventStore",
    "StoredEvent",
    "StreamInfo",
    "StreamMeta",
    "open_store",
]
