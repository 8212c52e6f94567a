"""Fixtures for the TriggerFlow behaviour tests: flows on real SQLite files in tmp_path."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator import StoreError, TriggerFlow

FlowFactory = Callable[..., TriggerFlow]


@pytest.fixture
def store_file(tmp_path: Path) -> str:
    """One SQLite log file per test."""
    return str(tmp_path / "x.db")


@pytest.fixture
def make_flow(store_file: str) -> Iterator[FlowFactory]:
    """``make_flow(name="f", store=None, **kw)``: a TriggerFlow on this test's file.

    Stores opened by the flows are closed at teardown.
    """
    flows: list[TriggerFlow] = []

    def factory(name: str = "f", store: Any = None, **kwargs: Any) -> TriggerFlow:
        flow = TriggerFlow(
            name=name, store=store_file if store is None else store, **kwargs
        )
        flows.append(flow)
        return flow

    yield factory
    for flow in flows:
        store = getattr(flow, "_store", None)
        if store is not None:
            with contextlib.suppress(StoreError):
                store.close()
