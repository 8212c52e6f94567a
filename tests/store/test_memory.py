"""The store contract on InMemoryEventStore."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestrator.clock import FakeClock
from orchestrator.store import InMemoryEventStore
from tests.store.contract import EventStoreContract


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self, clock: FakeClock) -> Iterator[InMemoryEventStore]:
        store = InMemoryEventStore(clock=clock)
        yield store
        store.close()
