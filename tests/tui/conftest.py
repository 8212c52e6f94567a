"""Console fixtures: small databases built through the library, with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator import FakeClock, TriggerFlow, TriggerFlowRuntimeData
from orchestrator.store import SQLiteEventStore


def receive(data: TriggerFlowRuntimeData) -> object:
    data.set_state("order", data.value)
    return data.value


def price(data: TriggerFlowRuntimeData) -> object:
    data.append_state("lines", [data.value["sku"]])
    return 10 * data.value["qty"]


def reject(data: TriggerFlowRuntimeData) -> object:
    raise ValueError(f"sku {data.value['sku']} is discontinued")


def orders_flow(path: str, clock: FakeClock) -> TriggerFlow:
    flow = TriggerFlow(name="orders", store=path, clock=clock)
    flow.to(receive).to(price)
    return flow


def returns_flow(path: str, clock: FakeClock) -> TriggerFlow:
    flow = TriggerFlow(name="returns", store=path, clock=clock)
    flow.to(reject)
    return flow


def later_clock_flow(path: str) -> TriggerFlow:
    """The orders flow on a clock an hour after the fixture's (new rows sort first)."""
    return orders_flow(path, FakeClock(FakeClock().now() + 3600))


@pytest.fixture
def console_db(tmp_path: Path) -> str:
    """Three executions: exec-a and exec-b completed, exec-c failed (newest)."""
    path = str(tmp_path / "console.db")
    clock = FakeClock()
    orders = orders_flow(path, clock)
    returns = returns_flow(path, clock)
    try:
        for execution_id in ("exec-a", "exec-b"):
            execution = orders.create_execution(execution_id=execution_id)
            execution.start({"sku": execution_id.upper(), "qty": 2})
            clock.advance(60)
        with pytest.raises(ValueError, match="discontinued"):
            returns.create_execution(execution_id="exec-c").start({"sku": "OLD"})
    finally:
        orders.store.close()
        returns.store.close()
    return path


@pytest.fixture
def empty_db(tmp_path: Path) -> str:
    """A triggerlog database with its schema and no execution."""
    path = str(tmp_path / "empty.db")
    SQLiteEventStore(path).close()
    return path


@pytest.fixture
def read_store(console_db: str) -> Iterator[SQLiteEventStore]:
    """The console database opened read-only, as `triggerlog console` opens it."""
    store = SQLiteEventStore(console_db, read_only=True)
    yield store
    store.close()
