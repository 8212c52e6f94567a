"""A process that holds an execution's lease while its one chunk runs.

Usage: python -m tests.recovery.lease_holder DB DIR
The chunk writes DIR/began, then waits until DIR/release exists; the process
prints "running <id>" once the chunk has begun and the lease is in the index,
and "closed" after closing the execution. It then waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from orchestrator import TriggerFlow, TriggerFlowRuntimeData

LEASE_TTL = 3600.0  # far beyond any test: only death can free the lease


async def hold(data: TriggerFlowRuntimeData) -> Any:
    folder = Path(str(data.value))
    (folder / "began").write_text("began")
    while not (folder / "release").exists():
        await asyncio.sleep(0.01)
    data.set_state("finished", True)
    return "done"


def holder_flow(db: str) -> TriggerFlow:
    flow = TriggerFlow(name="held", store=db, lease_ttl=LEASE_TTL)
    flow.to(hold)
    return flow


def lease_is_held(flow: TriggerFlow, execution_id: str) -> bool:
    info = flow.store.get_stream(execution_id)
    return info is not None and info.owner is not None and bool(info.lease_until)


async def main(db: str, folder: str) -> None:
    flow = holder_flow(db)
    execution = flow.create_execution(auto_close=False)
    started = asyncio.create_task(execution.async_start(folder))
    while not (Path(folder) / "began").exists() or not lease_is_held(
        flow, execution.id
    ):
        await asyncio.sleep(0.01)
    print("running", execution.id, flush=True)
    await started
    await execution.async_close()
    print("closed", flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
