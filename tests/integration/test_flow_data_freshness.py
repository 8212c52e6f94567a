"""flow_data is shared by every execution: a read sees the latest committed write.

Each process caches the fold of the flow stream; before serving it, the cache is
checked against the log (a data-version probe, then the stream's head), so a write
committed by another process, or by another flow object on the same store, is seen
by the next read. Regression for issue 11: the cache was never refreshed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator import TriggerFlow, TriggerFlowRuntimeData
from orchestrator.store import InMemoryEventStore

_WRITER = """
import sys
from orchestrator import TriggerFlow
flow = TriggerFlow(name="shared-data", store=sys.argv[1])
flow.set_flow_data(sys.argv[2], sys.argv[3], no_warning=True)
flow.store.close()
"""


def _write_in_another_process(path: Path, key: str, value: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    subprocess.run(
        [sys.executable, "-c", _WRITER, str(path), key, value],
        check=True,
        timeout=60,
        env=env,
    )


def _flow(store: Any) -> TriggerFlow:
    flow = TriggerFlow(name="shared-data", store=store)

    async def read_mode(data: TriggerFlowRuntimeData) -> None:
        data.set_state("seen", data.get_flow_data("mode", no_warning=True))

    flow.to(read_mode)
    return flow


async def test_a_write_by_another_process_is_seen_by_the_next_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.db"
    flow = _flow(path)
    await flow.async_set_flow_data("mode", "mine", no_warning=True)
    assert flow.get_flow_data("mode", no_warning=True) == "mine"  # cached now

    _write_in_another_process(path, "mode", "theirs")

    assert flow.get_flow_data("mode", no_warning=True) == "theirs"
    # ...and a chunk of a new execution reads the same latest value.
    assert await flow.async_start(None) == {"seen": "theirs"}
    # A write here then lands on top of theirs, in log order.
    await flow.async_append_flow_data("log", 1, no_warning=True)
    assert flow.get_flow_data(no_warning=True) == {"mode": "theirs", "log": [1]}
    flow.store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_two_flow_objects_on_one_store_see_each_others_writes(
    kind: str, tmp_path: Path
) -> None:
    store: Any = InMemoryEventStore() if kind == "memory" else tmp_path / "one.db"
    first = _flow(store)
    if kind == "sqlite":
        store = first.store  # the same store object for both
    second = _flow(store)
    first.set_flow_data("mode", "a", no_warning=True)
    assert second.get_flow_data("mode", no_warning=True) == "a"
    second.set_flow_data("mode", "b", no_warning=True)
    assert first.get_flow_data("mode", no_warning=True) == "b"
    first.store.close()
