"""The store contract on SQLiteEventStore: one fresh WAL file per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestrator.clock import FakeClock
from orchestrator.store import SQLiteEventStore
from tests.store.contract import EventStoreContract


class TestSQLiteEventStore(EventStoreContract):
    @pytest.fixture
    def store(self, clock: FakeClock, db_path: str) -> Iterator[SQLiteEventStore]:
        store = SQLiteEventStore(db_path, clock=clock)
        yield store
        store.close()
